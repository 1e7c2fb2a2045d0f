//! The post-deployment review of a change and the complaints support records against it.
//!
//! A review is read with its facts gathered from what is stored ([`get`]): the final report
//! (the one frozen with a rollback or hold when there is one, else the report over the whole
//! rollout since the canary), the holds and rollbacks, the time in each stage, the notices
//! and their acknowledgements, the complaints. People write the rest ([`write`]); the move to
//! `reviewed` needs it: the Reviewed gate's evidence (`app::gates`) checks that it is written.

use shared::api::TransitionRecord;
use shared::change::AiChange;
use shared::comparison::ComparisonReport;
use shared::review::{
    self, Complaint, ComplaintInput, Interruption, NoticeOutcome, Review, ReviewFacts, ReviewInput,
    StageTime, WrittenReview,
};
use shared::rollout::{RolloutState, TransitionAction};
use sqlx::AnyPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::assignments::{self, Lookup};
use super::{Actor, changes, gates};
use crate::db::{self, audit::Record};
use crate::error::{Error, Result};

/// The change `id`'s review: the facts and, once written, what people wrote.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Review> {
    let detail = changes::get(pool, id).await?;
    let change = &detail.change;
    let mut conn = pool.acquire().await?;
    let written = db::reviews::find(&mut conn, id).await?;
    let notices = db::notices::for_change(&mut conn, id).await?;
    let complaints = db::reviews::complaints(&mut conn, id).await?;
    let decision = db::decisions::find(&mut conn, id, false).await?;
    drop(conn);

    let (report_source, report) = match frozen_report(&detail.history) {
        Some((source, report)) => (Some(source), Some(report)),
        None => match gates::stage_report(pool, change).await? {
            Some(report) => (
                Some("the report over the whole rollout, since the canary started".to_owned()),
                Some(report),
            ),
            None => (None, None),
        },
    };
    let now = OffsetDateTime::now_utc();
    let facts = ReviewFacts {
        expected_changes: change.expected_changes.clone(),
        report_source,
        overall: report.as_ref().map(|r| r.overall),
        measured: report.as_ref().map(review::measured).unwrap_or_default(),
        interruptions: detail
            .history
            .iter()
            .filter(|t| {
                matches!(
                    t.action,
                    TransitionAction::RollBack | TransitionAction::Pause | TransitionAction::Resume
                )
            })
            .map(|t| Interruption {
                action: t.action,
                at: t.at.clone(),
                by: t.actor.clone(),
                from: t.from_label.clone(),
                reason: t.reason.clone(),
            })
            .collect(),
        stages: stage_times(change, &detail.history, now),
        notices: notices
            .iter()
            .filter(|n| n.published_at.is_some())
            .map(|n| NoticeOutcome {
                notice_id: n.id.clone(),
                published_at: n.published_at.clone(),
                stage: n.planned_stage.map(|s| s.label(&change.plan)),
                teams: n.audience.iter().map(|a| a.team_name.clone()).collect(),
                acknowledged_by: n
                    .acknowledgements
                    .iter()
                    .map(|a| format!("{} ({})", a.team_name, a.user_name))
                    .collect(),
            })
            .collect(),
        complaints,
        decision,
    };
    Ok(Review {
        change_id: change.id.clone(),
        title: change.title.clone(),
        flag_key: change.flag_key.clone(),
        state: change
            .state
            .label_held(&change.plan, change.paused.is_some()),
        users_noticed_draft: review::users_noticed_draft(&facts.complaints),
        facts,
        written,
    })
}

/// The report frozen with the latest rollback or hold that carries one, and where it came from.
fn frozen_report(history: &[TransitionRecord]) -> Option<(String, ComparisonReport)> {
    history.iter().rev().find_map(|t| {
        let report = serde_json::from_value(t.evidence.clone()?).ok()?;
        let what = match t.action {
            TransitionAction::RollBack => "rollback",
            TransitionAction::Pause => "hold",
            _ => "move",
        };
        Some((
            format!(
                "the report frozen with the {what} by {} at {} ({})",
                t.actor,
                shared::notices::minute_utc(&t.at),
                t.from_label
            ),
            report,
        ))
    })
}

/// How long the change stayed in each stage it entered, oldest first; a pause and a resume
/// stay within their stage.
fn stage_times(
    change: &AiChange,
    history: &[TransitionRecord],
    now: OffsetDateTime,
) -> Vec<StageTime> {
    let moves: Vec<&TransitionRecord> = history
        .iter()
        .filter(|t| !matches!(t.action, TransitionAction::Pause | TransitionAction::Resume))
        .collect();
    let parse = |s: &str| OffsetDateTime::parse(s, &Rfc3339).ok();
    let mut out = Vec::new();
    let mut entered = Some((change.created_at.clone(), "Draft".to_owned()));
    for t in moves.iter().map(Some).chain([None]) {
        let Some((at, stage)) = entered.take() else {
            break;
        };
        let left_at = t.map(|t| t.at.clone());
        let end = left_at.as_deref().and_then(parse).unwrap_or(now);
        let hours = parse(&at)
            .map(|start| ((end - start).as_seconds_f64() / 3600.0).max(0.0))
            .unwrap_or(0.0);
        // The last stage of a finished rollout has no duration worth a row.
        let finished = t.is_none()
            && matches!(
                change.state,
                RolloutState::Reviewed | RolloutState::RolledBack
            );
        if !finished {
            out.push(StageTime {
                stage,
                entered_at: at,
                left_at,
                hours,
            });
        }
        entered = t.map(|t| (t.at.clone(), t.to_label.clone()));
    }
    out
}

/// The states a review can be written in: once the rollout has reached everyone or ended.
fn reviewable(state: RolloutState) -> bool {
    matches!(
        state,
        RolloutState::Full | RolloutState::Reviewed | RolloutState::RolledBack
    )
}

/// Writes (or edits) the review of the change `id`.
pub async fn write(pool: &AnyPool, actor: &Actor, id: &str, input: &ReviewInput) -> Result<Review> {
    let change = changes::find(pool, id).await?;
    review::validate_review(input)?;
    if !reviewable(change.state) {
        return Err(Error::conflict(format!(
            "a review is written once the change is at Full or rolled back; it is in {}",
            change.state.label(&change.plan)
        )));
    }
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let before = db::reviews::find(&mut tx, id).await?;
    let current = before.as_ref().map_or(0, |w| w.revision);
    if input.revision != current {
        return Err(Error::conflict(format!(
            "the review was saved since you loaded it: your revision is {}, the current one \
             is {current}; reload it and write again",
            input.revision
        )));
    }
    let written = WrittenReview {
        users_noticed: input.users_noticed.trim().to_owned(),
        lessons: input.lessons.trim().to_owned(),
        follow_ups: input
            .follow_ups
            .iter()
            .map(|f| f.trim().to_owned())
            .collect(),
        revision: current + 1,
        written_by: actor.user.name.clone(),
        written_at: at.clone(),
    };
    if !db::reviews::write(&mut tx, id, &written).await? {
        return Err(Error::conflict(
            "someone else saved the review meanwhile: reload it and write again",
        ));
    }
    db::audit::append(
        &mut tx,
        &Record::new(&actor.who(), "review.write", "change", Some(id), &at)
            .before_value(before.map(|b| serde_json::to_value(b).unwrap_or_default()))
            .after(&written),
    )
    .await?;
    tx.commit().await?;
    get(pool, id).await
}

/// The complaints against the change `id`, oldest first.
pub async fn complaints(pool: &AnyPool, id: &str) -> Result<Vec<Complaint>> {
    changes::find(pool, id).await?;
    let mut conn = pool.acquire().await?;
    Ok(db::reviews::complaints(&mut conn, id).await?)
}

/// Records a complaint against the change `id`, with the variant the user had at the time.
pub async fn complain(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    input: &ComplaintInput,
) -> Result<Complaint> {
    let change = changes::find(pool, id).await?;
    review::validate_complaint(input)?;
    let now = OffsetDateTime::now_utc();
    let at = OffsetDateTime::parse(input.at.trim(), &Rfc3339).map_err(|_| {
        Error::validation("at", "must be an RFC 3339 time, e.g. 2026-12-01T14:00:00Z")
    })?;
    if at > now + time::Duration::minutes(5) {
        return Err(Error::validation("at", "is in the future"));
    }
    let at = db::timestamp(at);
    let seen = assignments::lookup(
        pool,
        &Lookup {
            targeting_key: Some(input.user_key.trim().to_owned()),
            at: Some(at.clone()),
            context: None,
        },
    )
    .await?;
    let variant = seen
        .assignments
        .iter()
        .find(|a| a.change_id == change.id)
        .map(|a| a.variant.as_str().to_owned());
    let complaint = Complaint {
        id: db::new_id(),
        change_id: change.id.clone(),
        user_key: input.user_key.trim().to_owned(),
        at,
        text: input.text.trim().to_owned(),
        category: input.category,
        variant,
        recorded_by: actor.user.name.clone(),
        recorded_at: db::now(),
    };
    let mut tx = db::begin(pool).await?;
    db::reviews::insert_complaint(&mut tx, &complaint).await?;
    // The complaints metric counts it: the answers kept for the old version are stale.
    db::metrics::bump_version(&mut tx, &change.id).await?;
    db::audit::append(
        &mut tx,
        &Record::new(
            &actor.who(),
            "complaint.create",
            "change",
            Some(&change.id),
            &complaint.recorded_at,
        )
        .after(&complaint),
    )
    .await?;
    tx.commit().await?;
    Ok(complaint)
}
