//! Notices to teams about a change: drafting, publishing, revising a published notice,
//! acknowledgements by a team and read marks per user, and the notice a transition publishes
//! by itself ([`automatic`]).
//!
//! A published notice is never rewritten: an edit publishes a new revision and supersedes the
//! old one, so an acknowledgement always stays with the text that was acknowledged and the
//! audience is asked again.

use shared::change::AiChange;
use shared::notices::{
    self, Delivery, Notice, NoticeInput, NoticeKind, NoticeStatus, UnreadNotices, automatic_notice,
};
use shared::rollout::{RolloutState, TransitionAction};
use sqlx::{AnyConnection, AnyPool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Actor, changes};
use crate::db::{self, audit::Record, audit::Who, deliveries::NewMessage, notices::NewNotice};
use crate::delivery::Message;
use crate::error::{Error, Result};

/// A change's notices, newest first, with audiences and acknowledgements.
pub async fn list(pool: &AnyPool, change_id: &str) -> Result<Vec<Notice>> {
    changes::find(pool, change_id).await?;
    let mut conn = pool.acquire().await?;
    Ok(db::notices::for_change(&mut conn, change_id).await?)
}

/// Drafts a notice about the change `id`; nobody is told until it is published.
pub async fn create(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    input: &NoticeInput,
) -> Result<Notice> {
    changes::find(pool, id).await?;
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let stage = checked(&mut tx, input).await?;
    let audience = unique(&input.audience);
    let notice_id = db::notices::insert(
        &mut tx,
        &NewNotice {
            change_id: id,
            previous_id: None,
            status: NoticeStatus::Draft,
            kind: NoticeKind::Manual,
            audience: &audience,
            planned_at: input.planned_at.as_deref(),
            planned_stage: stage,
            expected_changes: input.expected_changes.trim(),
            talking_points: input.talking_points.trim(),
            created_by: Some(&actor.user.id),
            at: &at,
        },
    )
    .await?;
    let notice = reload(&mut tx, &notice_id).await?;
    audit(&mut tx, actor, "notice.create", None, &notice, &at).await?;
    tx.commit().await?;
    Ok(notice)
}

/// Edits the notice `id`: a draft in place, a published notice by a new published revision
/// (answered, with its own id) that supersedes it. A superseded notice cannot be edited.
pub async fn update(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    input: &NoticeInput,
) -> Result<Notice> {
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let before = db::notices::find(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("notice"))?;
    let stage = checked(&mut tx, input).await?;
    let audience = unique(&input.audience);
    let new = NewNotice {
        change_id: &before.change_id,
        previous_id: Some(id),
        status: NoticeStatus::Published,
        kind: before.kind,
        audience: &audience,
        planned_at: input.planned_at.as_deref(),
        planned_stage: stage,
        expected_changes: input.expected_changes.trim(),
        talking_points: input.talking_points.trim(),
        created_by: Some(&actor.user.id),
        at: &at,
    };
    let after_id = match before.status {
        NoticeStatus::Draft => {
            if !db::notices::update_draft(&mut tx, id, &new).await? {
                return Err(Error::conflict(
                    "the notice was published meanwhile; reload",
                ));
            }
            id.to_owned()
        }
        NoticeStatus::Published => {
            if !db::notices::set_status(
                &mut tx,
                id,
                NoticeStatus::Published,
                NoticeStatus::Superseded,
                &at,
            )
            .await?
            {
                return Err(Error::conflict("the notice was revised meanwhile; reload"));
            }
            let revision = db::notices::insert(&mut tx, &new).await?;
            db::deliveries::enqueue(&mut tx, &revision, &at).await?;
            revision
        }
        NoticeStatus::Superseded => {
            return Err(Error::conflict(
                "this notice was replaced by a newer revision; edit that one",
            ));
        }
    };
    let after = reload(&mut tx, &after_id).await?;
    audit(&mut tx, actor, "notice.update", Some(&before), &after, &at).await?;
    tx.commit().await?;
    Ok(after)
}

/// Publishes the draft `id`: its audience teams see it and are asked to acknowledge it.
pub async fn publish(pool: &AnyPool, actor: &Actor, id: &str) -> Result<Notice> {
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let before = db::notices::find(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("notice"))?;
    if !db::notices::set_status(
        &mut tx,
        id,
        NoticeStatus::Draft,
        NoticeStatus::Published,
        &at,
    )
    .await?
    {
        return Err(Error::conflict(format!(
            "only a draft can be published; this notice is {}",
            before.status.as_str()
        )));
    }
    let after = reload(&mut tx, id).await?;
    db::deliveries::enqueue(&mut tx, id, &at).await?;
    audit(&mut tx, actor, "notice.publish", Some(&before), &after, &at).await?;
    tx.commit().await?;
    Ok(after)
}

/// Acknowledges the published notice `id` for `team_id`, a team of its audience the actor
/// belongs to. A team acknowledges once: a repeat answers the notice unchanged.
pub async fn acknowledge(pool: &AnyPool, actor: &Actor, id: &str, team_id: &str) -> Result<Notice> {
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let before = db::notices::find(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("notice"))?;
    if before.status != NoticeStatus::Published {
        return Err(Error::conflict(format!(
            "only a published notice can be acknowledged; this one is {}",
            before.status.as_str()
        )));
    }
    let Some(team) = before.audience.iter().find(|a| a.team_id == team_id) else {
        return Err(Error::validation(
            "team_id",
            "this team is not in the notice's audience",
        ));
    };
    if !db::teams::is_member(&mut tx, team_id, &actor.user.id).await? {
        return Err(Error::forbidden(format!(
            "only a member of {} can acknowledge for it",
            team.team_name
        )));
    }
    if db::notices::acknowledge(&mut tx, id, team_id, &actor.user.id, &at).await? {
        let after = reload(&mut tx, id).await?;
        audit(
            &mut tx,
            actor,
            "notice.acknowledge",
            Some(&before),
            &after,
            &at,
        )
        .await?;
        tx.commit().await?;
        return Ok(after);
    }
    tx.commit().await?;
    Ok(before)
}

/// Marks the notice `id` read by `user_id`. Repeats are harmless.
pub async fn mark_read(pool: &AnyPool, user_id: &str, id: &str) -> Result<()> {
    let mut conn = pool.acquire().await?;
    if db::notices::find(&mut conn, id).await?.is_none() {
        return Err(Error::not_found("notice"));
    }
    db::notices::mark_read(&mut conn, id, user_id, &db::now()).await?;
    Ok(())
}

/// Published notices to the teams of `user_id` that need them, newest first: unread ones, and
/// those a team of theirs has still to acknowledge. Reading is not acknowledging: a notice
/// waiting for the team's acknowledgement stays after it is read, until a member acknowledges
/// it for the team.
pub async fn unread(pool: &AnyPool, user_id: &str) -> Result<UnreadNotices> {
    let mut conn = pool.acquire().await?;
    let items = db::notices::unread(&mut conn, user_id).await?;
    Ok(UnreadNotices {
        count: items.len(),
        items,
    })
}

/// Queues the webhook delivery `id` again from its first attempt (e.g. after the receiver
/// was fixed), recorded in the audit log.
pub async fn resend_delivery(pool: &AnyPool, actor: &Actor, id: &str) -> Result<Delivery> {
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    if !db::deliveries::resend(&mut tx, id, &at).await? {
        return Err(Error::not_found("delivery"));
    }
    let after = db::deliveries::find(&mut tx, id)
        .await?
        .ok_or_else(|| Error::internal("a delivery vanished in its own transaction"))?;
    db::audit::append(
        &mut tx,
        &Record::new(&actor.who(), "delivery.resend", "delivery", Some(id), &at).after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Checks a notice's input against the rules and the stored teams; the stage as stored.
async fn checked(conn: &mut AnyConnection, input: &NoticeInput) -> Result<Option<String>> {
    notices::validate_notice(input)?;
    if let Some(at) = &input.planned_at
        && OffsetDateTime::parse(at, &Rfc3339).is_err()
    {
        return Err(Error::validation(
            "planned_at",
            "give the date as RFC 3339, e.g. 2026-12-01T09:00:00Z",
        ));
    }
    for (i, team) in input.audience.iter().enumerate() {
        if db::teams::find(conn, team).await?.is_none() {
            return Err(Error::validation(
                format!("audience[{i}]"),
                format!("no team has the id `{team}`"),
            ));
        }
    }
    Ok(input
        .planned_stage
        .map(|s| serde_json::to_string(&s).unwrap_or_default()))
}

fn unique(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v.dedup();
    v
}

async fn audit(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    before: Option<&Notice>,
    after: &Notice,
    at: &str,
) -> Result<()> {
    Ok(db::audit::append(
        conn,
        &Record::new(&actor.who(), action, "notice", Some(&after.id), at)
            .before_value(before.map(|b| serde_json::to_value(b).unwrap_or_default()))
            .after(after),
    )
    .await?)
}

async fn reload(conn: &mut AnyConnection, id: &str) -> Result<Notice> {
    db::notices::find(conn, id)
        .await?
        .ok_or_else(|| Error::internal("a notice vanished in its own transaction"))
}

/// Publishes, inside the transaction of a rollback, a move to 100 % or a skip, the notice
/// that tells the change's audience (the teams of its latest notice, else Support) what
/// happened and what users may see now (`shared::notices::automatic_notice`). When the
/// guardian rolls back, the webhooks say so and why; when it pauses (holds) the change, the
/// same teams' webhooks say that it is held, why, and what a person can do. Nothing for
/// other transitions. Returns the notice's id.
pub async fn automatic(
    conn: &mut AnyConnection,
    change: &AiChange,
    action: TransitionAction,
    to: RolloutState,
    reason: Option<&str>,
    who: &Who,
    at: &str,
) -> Result<Option<String>> {
    let by_guardian = who.id.is_none() && who.label == crate::guardian::ACTOR;
    let guardian_says = |reason: Option<&str>| {
        let message = Message::guardian(
            change,
            action,
            reason.unwrap_or_default(),
            &change.state.label(&change.plan),
        );
        serde_json::to_string(&message)
            .map_err(|e| Error::internal(format!("cannot serialize a message: {e}")))
    };
    if by_guardian && action == TransitionAction::Pause {
        // A hold is no notice (nothing changes for users, and nobody acknowledges it): the
        // audience's webhooks are told, and the change page shows it.
        let Some(audience) = audience(conn, change).await? else {
            return Ok(None);
        };
        let message = guardian_says(reason)?;
        db::deliveries::enqueue_message(
            conn,
            &audience,
            &NewMessage {
                event: "guardian",
                change_id: &change.id,
                message: &message,
                once_key: None,
                at,
            },
        )
        .await?;
        return Ok(None);
    }
    let Some(text) = automatic_notice(
        &change.title,
        &change.expected_changes,
        &change.plan,
        change.state,
        action,
        to,
        reason,
    ) else {
        return Ok(None);
    };
    let Some(audience) = audience(conn, change).await? else {
        return Ok(None);
    };
    let stage = serde_json::to_string(&to).ok();
    let id = db::notices::insert(
        conn,
        &NewNotice {
            change_id: &change.id,
            previous_id: None,
            status: NoticeStatus::Published,
            kind: text.kind,
            audience: &audience,
            planned_at: Some(at),
            planned_stage: stage,
            expected_changes: &text.expected_changes,
            talking_points: &text.talking_points,
            created_by: who.id.as_deref(),
            at,
        },
    )
    .await?;
    if by_guardian {
        let message = guardian_says(reason)?;
        db::deliveries::enqueue_said(conn, &id, Some(("guardian", &message)), at).await?;
    } else {
        db::deliveries::enqueue(conn, &id, at).await?;
    }
    let notice = db::notices::find(conn, &id).await?;
    db::audit::append(
        conn,
        &Record::new(who, "notice.publish", "notice", Some(&id), at)
            .after_value(notice.map(|n| serde_json::to_value(n).unwrap_or_default())),
    )
    .await?;
    Ok(Some(id))
}

/// The teams told of what happens to `change` by itself: those of its latest notice, else
/// Support; `None` when there is nobody (Support was renamed or removed and nobody was ever
/// told).
async fn audience(conn: &mut AnyConnection, change: &AiChange) -> Result<Option<Vec<String>>> {
    let audience = db::notices::latest_audience(conn, &change.id).await?;
    if !audience.is_empty() {
        return Ok(Some(audience));
    }
    Ok(db::teams::id_by_name(conn, shared::teams::SUPPORT_TEAM)
        .await?
        .map(|support| vec![support]))
}
