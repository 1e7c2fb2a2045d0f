//! Delivery figures over a period (`GET /api/v1/figures`): the stored moves of every change,
//! counted by `shared::figures`.

use std::collections::HashMap;

use shared::figures::{self, ChangeMoves, Figures, Move};
use sqlx::AnyPool;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::db;
use crate::error::{Error, Result};

/// The period as asked: RFC 3339 bounds, each optional.
#[derive(Debug, Default)]
pub struct Period {
    pub from: Option<String>,
    pub to: Option<String>,
}

fn parse(field: &str, text: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| {
        Error::validation(field, "must be an RFC 3339 time, e.g. 2026-09-01T00:00:00Z")
    })
}

/// The figures over `period`: `[from, to)`, by default the twelve weeks before now.
pub async fn figures(pool: &AnyPool, period: &Period) -> Result<Figures> {
    let now = OffsetDateTime::now_utc();
    let to = match &period.to {
        Some(t) => parse("to", t)?,
        None => now,
    };
    let from = match &period.from {
        Some(f) => parse("from", f)?,
        None => to - Duration::days(figures::DEFAULT_DAYS),
    };
    if from >= to {
        return Err(Error::validation("from", "must be before `to`"));
    }
    if to - from > Duration::days(figures::MAX_DAYS) {
        return Err(Error::validation(
            "from",
            format!("the period is at most {} days", figures::MAX_DAYS),
        ));
    }
    let (from_text, to_text) = (db::timestamp(from), db::timestamp(to));

    let mut by_change: HashMap<String, Vec<Move>> = HashMap::new();
    for m in db::figures::moves_before(pool, &to_text).await? {
        let at = OffsetDateTime::parse(&m.at, &Rfc3339)
            .map_err(|e| Error::internal(format!("stored transition time {}: {e}", m.at)))?;
        by_change.entry(m.change_id).or_default().push(Move {
            action: m.action,
            from: m.from,
            to: m.to,
            at: at.unix_timestamp(),
            automatic: m.actor == crate::guardian::ACTOR,
        });
    }
    let changes: Vec<ChangeMoves> = db::changes::all(pool)
        .await?
        .into_iter()
        .filter_map(|c| {
            let moves = by_change.remove(&c.id)?;
            Some(ChangeMoves {
                product_area: c.product_area,
                kind: c.kind,
                risk: c.risk,
                moves,
            })
        })
        .collect();
    // Whole seconds from here on: the end rounds up, since the query above already left out
    // every move at or after `to` itself.
    let to_seconds = to.unix_timestamp() + i64::from(to.nanosecond() > 0);
    Ok(figures::compute(
        &changes,
        from.unix_timestamp(),
        to_seconds,
        &from_text,
        &to_text,
    ))
}
