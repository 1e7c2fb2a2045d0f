//! "What did this user get, and when": for one targeting key and one moment, the variant every
//! change live at that moment served, recomputed rather than looked up. Nothing per user is
//! stored; what decides an assignment is:
//!
//! * the rollout position at that moment, replayed from the stored transitions (the last one
//!   made at or before it is the one in force; a `pause` not followed by a `resume` holds it);
//! * the plan, the flag key and the flag rules, which are frozen once the change leaves draft,
//!   so the stored ones are the ones that were served;
//! * [`shared::assignment::evaluate`], the function OFREP answers with.
//!
//! A change is listed while live, from the eval gate to full ([`RolloutState::is_live`]), and
//! for [`RECENT_ROLLBACK_DAYS`] after a rollback, because "it was rolled back, you now get the
//! old behaviour" is often the answer support is after. Drafts serve control to everyone and a
//! reviewed change is no longer an experiment: neither is listed.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use shared::api::{NoticeLink, UserAssignment, UserAssignments};
use shared::assignment::{
    BUCKETS, EvaluationContext, Flag, FlagRules, MAX_HOLDOUT_PERCENT, buckets_for_percent, evaluate,
};
use shared::notices::NoticeStatus;
use shared::plan::RolloutPlan;
use shared::rollout::RolloutState;
use sqlx::AnyPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::db::{self, transitions::Step};
use crate::error::{Error, Result};

/// How long a rolled-back change is still listed, in days after its rollback: as long as the
/// support feed shows a change that moved.
pub const RECENT_ROLLBACK_DAYS: u32 = shared::feed::DEFAULT_DAYS;

/// Longest targeting key looked up (OFREP sets none; ids in practice are far shorter).
pub const MAX_TARGETING_KEY: usize = 256;
/// Largest `context`, in bytes of its JSON text.
pub const MAX_CONTEXT_BYTES: usize = 8 * 1024;

/// The lookup as asked, each part as the query string gave it.
#[derive(Debug, Default)]
pub struct Lookup {
    pub targeting_key: Option<String>,
    /// RFC 3339; now when absent.
    pub at: Option<String>,
    /// A JSON object of context attributes (`{"plan": "free"}`), so that audiences and
    /// segments match as they did for the application that asked.
    pub context: Option<String>,
}

/// Where a rollout stood at a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position<'a> {
    pub state: RolloutState,
    /// When the change entered `state`.
    pub since: &'a str,
    pub paused: bool,
}

/// The position `steps` (one change's transitions up to the moment, oldest first) leave the
/// rollout in; `None` before the first one (a draft).
///
/// A `pause` or a `resume` keeps the state (its `from` is its `to`), so it does not restart
/// `since`; a pause holds until a `resume` or until the state moves on. Any other action
/// text, present or future, is read only for the state it moved to.
pub fn position(steps: &[Step]) -> Option<Position<'_>> {
    let mut out: Option<Position<'_>> = None;
    for step in steps {
        let moved = out.is_none_or(|p| p.state != step.to);
        let since = match out {
            Some(p) if !moved => p.since,
            _ => step.at.as_str(),
        };
        let paused = match step.action.as_str() {
            "pause" => true,
            "resume" => false,
            _ => !moved && out.is_some_and(|p| p.paused),
        };
        out = Some(Position {
            state: step.to,
            since,
            paused,
        });
    }
    out
}

/// The moment asked about: RFC 3339, not after `now`; `now` when absent.
fn moment(at: Option<&str>, now: OffsetDateTime) -> Result<OffsetDateTime> {
    let Some(at) = at else {
        return Ok(now);
    };
    let t = OffsetDateTime::parse(at.trim(), &Rfc3339).map_err(|_| {
        Error::validation("at", "give the time as RFC 3339, e.g. 2026-12-01T09:00:00Z")
    })?;
    if t > now {
        return Err(Error::validation(
            "at",
            format!(
                "{at} is in the future: assignments are known up to now ({})",
                db::timestamp(now)
            ),
        ));
    }
    Ok(t)
}

/// The evaluation context: the targeting key and the `context` attributes.
fn context_of(targeting_key: Option<&str>, context: Option<&str>) -> Result<EvaluationContext> {
    let key = targeting_key.map(str::trim).unwrap_or_default();
    if key.is_empty() {
        return Err(Error::validation(
            "targeting_key",
            "give the user's targeting key, as the application sends it to OpenFeature",
        ));
    }
    if key.chars().count() > MAX_TARGETING_KEY || key.chars().any(char::is_control) {
        return Err(Error::validation(
            "targeting_key",
            format!("must be at most {MAX_TARGETING_KEY} printable characters"),
        ));
    }
    let mut attributes = match context {
        None => Map::new(),
        Some(text) if text.len() > MAX_CONTEXT_BYTES => {
            return Err(Error::validation(
                "context",
                format!("must be at most {MAX_CONTEXT_BYTES} bytes of JSON"),
            ));
        }
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(Error::validation(
                    "context",
                    r#"must be a JSON object of attributes, e.g. {"plan": "free", "locale": "es"}"#,
                ));
            }
        },
    };
    // The targeting key is the parameter; a copy inside the context would be ambiguous.
    attributes.remove("targetingKey");
    Ok(EvaluationContext {
        targeting_key: key.to_owned(),
        attributes: attributes.into_iter().collect(),
    })
}

/// The candidate's share of traffic in `state`, below the holdout (released once reviewed).
fn candidate_percent(state: RolloutState, plan: &RolloutPlan, rules: &FlagRules) -> f64 {
    if state == RolloutState::Reviewed {
        return 100.0;
    }
    let holdout = rules.holdout_percent.clamp(0.0, MAX_HOLDOUT_PERCENT);
    let ceiling = f64::from(BUCKETS - buckets_for_percent(holdout)) / 100.0;
    state.traffic_percent(plan).min(ceiling)
}

/// What every change live at the moment served the user (module docs).
pub async fn lookup(pool: &AnyPool, request: &Lookup) -> Result<UserAssignments> {
    let context = context_of(request.targeting_key.as_deref(), request.context.as_deref())?;
    let moment = moment(request.at.as_deref(), OffsetDateTime::now_utc())?;
    let at = db::timestamp(moment);
    let rollbacks_from =
        db::timestamp(moment - time::Duration::days(i64::from(RECENT_ROLLBACK_DAYS)));

    let mut by_change: BTreeMap<String, Vec<Step>> = BTreeMap::new();
    for step in db::transitions::steps_until(pool, &at).await? {
        by_change
            .entry(step.change_id.clone())
            .or_default()
            .push(step);
    }
    let mut changes = db::changes::all(pool).await?;
    // Newest change first.
    changes.reverse();
    let mut conn = pool.acquire().await?;
    let mut assignments = Vec::new();
    for change in changes {
        let Some(steps) = by_change.get(&change.id) else {
            continue;
        };
        let Some(position) = position(steps) else {
            continue;
        };
        let rolled_back_lately =
            position.state == RolloutState::RolledBack && position.since >= rollbacks_from.as_str();
        if !position.state.is_live() && !rolled_back_lately {
            continue;
        }
        let rules = &change.flag_rules;
        let percent = candidate_percent(position.state, &change.plan, rules);
        let flag = Flag {
            key: &change.flag_key,
            plan: &change.plan,
            rules,
            state: position.state,
            // The share when paused is the state's own: a pause keeps the state.
            paused_at_percent: position
                .paused
                .then(|| position.state.traffic_percent(&change.plan)),
        };
        let assignment = evaluate(&flag, &context);
        let mut notices: Vec<NoticeLink> = db::notices::for_change(&mut conn, &change.id)
            .await?
            .into_iter()
            .filter(|n| n.status == NoticeStatus::Published)
            .filter_map(|n| {
                Some(NoticeLink {
                    // Worded as the teams' feeds title it.
                    subject: format!("{}: {}", n.kind.headline(), n.change_title),
                    sent_at: n.published_at?,
                    id: n.id,
                })
            })
            .collect();
        notices.sort_by(|a, b| b.sent_at.cmp(&a.sent_at));
        assignments.push(UserAssignment {
            change_id: change.id.clone(),
            flag_key: change.flag_key.clone(),
            title: change.title.clone(),
            state: position.state,
            state_label: position.state.label(&change.plan),
            state_since: position.since.to_owned(),
            paused: position.paused,
            variant: assignment.variant,
            reason: assignment.reason,
            bucket: assignment.bucket,
            candidate_percent: percent,
            notices,
        });
    }
    Ok(UserAssignments {
        targeting_key: context.targeting_key,
        at,
        assignments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(action: &str, from: RolloutState, to: RolloutState, at: &str) -> Step {
        Step {
            change_id: "c".into(),
            action: action.into(),
            from,
            to,
            at: at.into(),
        }
    }

    #[test]
    fn the_last_transition_is_in_force_and_a_pause_holds_until_resumed() {
        use RolloutState::*;
        let steps = [
            step("advance", Draft, Eval, "t1"),
            step("advance", Eval, Canary, "t2"),
            step("pause", Canary, Canary, "t3"),
            step("resume", Canary, Canary, "t4"),
            step("advance", Canary, Ramp { step: 0 }, "t5"),
            step("pause", Ramp { step: 0 }, Ramp { step: 0 }, "t6"),
            step("roll_back", Ramp { step: 0 }, RolledBack, "t7"),
        ];
        let at = |n: usize| position(&steps[..n]);
        assert_eq!(at(0), None);
        let p = at(2).unwrap();
        assert_eq!((p.state, p.since, p.paused), (Canary, "t2", false));
        let p = at(3).unwrap();
        assert_eq!((p.state, p.since, p.paused), (Canary, "t2", true));
        let p = at(4).unwrap();
        assert_eq!((p.state, p.since, p.paused), (Canary, "t2", false));
        let p = at(6).unwrap();
        assert_eq!((p.state, p.since, p.paused), (Ramp { step: 0 }, "t5", true));
        let p = at(7).unwrap();
        assert_eq!((p.state, p.since, p.paused), (RolledBack, "t7", false));
    }

    #[test]
    fn moments_are_rfc3339_and_not_in_the_future() {
        let now = OffsetDateTime::parse("2026-12-01T10:00:00Z", &Rfc3339).unwrap();
        assert_eq!(moment(None, now).unwrap(), now);
        let earlier = moment(Some("2026-12-01T11:00:00+02:00"), now).unwrap();
        assert_eq!(db::timestamp(earlier), "2026-12-01T09:00:00.000000Z");
        for bad in ["yesterday", "2026-12-01", "2026-12-01T10:00:01Z"] {
            let e = moment(Some(bad), now).unwrap_err();
            assert!(
                matches!(&e, Error::Validation { field: Some(f), .. } if f == "at"),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn contexts_are_objects_and_keys_are_required() {
        let field = |r: Result<EvaluationContext>| match r {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(context_of(None, None)).as_deref(),
            Some("targeting_key")
        );
        assert_eq!(
            field(context_of(Some("  "), None)).as_deref(),
            Some("targeting_key")
        );
        let long = "k".repeat(MAX_TARGETING_KEY + 1);
        assert_eq!(
            field(context_of(Some(&long), None)).as_deref(),
            Some("targeting_key")
        );
        for bad in ["[1]", "\"free\"", "{", "null"] {
            assert_eq!(
                field(context_of(Some("u"), Some(bad))).as_deref(),
                Some("context"),
                "{bad}"
            );
        }
        let ctx = context_of(
            Some(" user-1 "),
            Some(r#"{"plan": "free", "targetingKey": "other"}"#),
        )
        .unwrap();
        assert_eq!(ctx.targeting_key, "user-1");
        assert_eq!(ctx.attribute("plan"), Some(&Value::from("free")));
        assert_eq!(ctx.attribute("targetingKey"), None);
    }
}
