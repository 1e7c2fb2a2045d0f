//! `rollgate status KEY [--wait]`: where a change stands, and the verdict of its stage's report
//! as the guardian reaches it: the same `shared::comparison::report` over the windows since the
//! canary started, with the plan's rollback criteria.

use std::time::{Duration, Instant};

use shared::api::ChangeDetail;
use shared::comparison::{ReportOptions, report};
use shared::metrics::{ALL_SEGMENTS, MetricSummary};
use shared::rollout::RolloutState;
use shared::stats::Verdict;

use super::client::{Client, Result, encode};
use super::{Exit, resolve};

/// `90s`, `30m`, `2h`, `500ms`, or a number of seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration; write e.g. 90s, 30m or 2h"))?;
    let seconds = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{s}`; use ms, s, m or h"
            ));
        }
    };
    if !seconds.is_finite() || seconds > 7.0 * 86_400.0 {
        return Err(format!("`{s}` is longer than a week"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// The verdict of the change's report since its canary started, with the criteria that
/// breach; `None` before the canary or without data.
async fn verdict(client: &Client, detail: &ChangeDetail) -> Result<Option<(Verdict, Vec<String>)>> {
    let change = &detail.change;
    let Some(started) = detail
        .history
        .iter()
        .rev()
        .find(|t| t.to == RolloutState::Canary)
        .map(|t| t.at.clone())
    else {
        return Ok(None);
    };
    let summary: MetricSummary = client
        .get_json(&format!(
            "/changes/{}/metrics/summary?from={}",
            encode(&change.id),
            encode(&started)
        ))
        .await?;
    if summary.windows == 0 {
        return Ok(None);
    }
    // As the guardian sets it (`app::gates::stage_report`).
    let opts = ReportOptions {
        segment: ALL_SEGMENTS.to_owned(),
        candidate_percent: shared::ab::below_holdout(
            if change.traffic_percent > 0.0 {
                change.traffic_percent
            } else {
                change.plan.canary.percent
            },
            change.state,
            shared::ab::Holdout::of(&change.flag_rules),
        ),
        ..ReportOptions::default()
    };
    let r = report(&summary, &change.plan.criteria, &opts);
    let breaches = r
        .matrix
        .iter()
        .filter(|row| row.verdict == Some(Verdict::Breach))
        .map(|row| {
            format!(
                "{} in {}: {}",
                row.key,
                row.segment,
                row.criterion.as_deref().unwrap_or("criterion breached")
            )
        })
        .collect();
    Ok(Some((r.overall, breaches)))
}

fn verdict_name(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Pass) => "pass",
        Some(Verdict::Breach) => "breach",
        Some(Verdict::Inconclusive) => "inconclusive",
        None => "no data since the canary started",
    }
}

/// The reason of the rollback that ended the change, if one did.
fn rollback_reason(detail: &ChangeDetail) -> Option<String> {
    (detail.change.state == RolloutState::RolledBack).then(|| {
        detail
            .history
            .iter()
            .rev()
            .find(|t| t.to == RolloutState::RolledBack)
            .map(|t| {
                format!(
                    "rolled back by {}: {}",
                    t.actor,
                    t.reason.as_deref().unwrap_or("no reason given")
                )
            })
            .unwrap_or_else(|| "rolled back".to_owned())
    })
}

/// `rollgate status KEY`: one look.
pub async fn show(client: &Client, key: &str) -> Result<Exit> {
    let detail = resolve(client, key).await?;
    let change = &detail.change;
    println!("{}  {}", change.flag_key, client.change_page(&change.id));
    println!(
        "state: {} ({} % on the candidate)",
        change.state_label(),
        change.traffic_percent
    );
    if let Some(reason) = rollback_reason(&detail) {
        println!("{reason}");
        return Ok(Exit::Ok);
    }
    let gate: serde_json::Value = client
        .get_json(&format!("/changes/{}/gate", encode(&change.id)))
        .await?;
    if let Some(message) = gate["message"].as_str() {
        println!("gate: {message}");
    }
    let v = verdict(client, &detail).await?;
    println!("report: {}", verdict_name(v.as_ref().map(|(v, _)| *v)));
    for b in v.map(|(_, b)| b).unwrap_or_default() {
        println!("  breach: {b}");
    }
    Ok(Exit::Ok)
}

/// `rollgate status KEY --wait`: looks every `interval` until the report passes (0), breaches
/// or the change is rolled back (1), or `timeout` passes (2).
pub async fn wait(
    client: &Client,
    key: &str,
    timeout: Duration,
    interval: Duration,
) -> Result<Exit> {
    let started = Instant::now();
    let interval = interval.max(Duration::from_millis(100));
    loop {
        let detail = resolve(client, key).await?;
        let change = &detail.change;
        if let Some(reason) = rollback_reason(&detail) {
            println!("{}: breach: {reason}", change.flag_key);
            return Ok(Exit::No);
        }
        let v = verdict(client, &detail).await?;
        match v {
            Some((Verdict::Pass, _)) => {
                println!(
                    "{}: pass at {} {}",
                    change.flag_key,
                    change.state_label(),
                    client.change_page(&change.id)
                );
                return Ok(Exit::Ok);
            }
            Some((Verdict::Breach, breaches)) => {
                println!(
                    "{}: breach at {} {}",
                    change.flag_key,
                    change.state_label(),
                    client.change_page(&change.id)
                );
                for b in breaches {
                    println!("  {b}");
                }
                return Ok(Exit::No);
            }
            _ => {}
        }
        let waited = started.elapsed();
        if waited >= timeout {
            println!(
                "{}: {} after {} s at {}; giving up",
                change.flag_key,
                verdict_name(v.map(|(v, _)| v)),
                waited.as_secs(),
                change.state_label()
            );
            return Ok(Exit::Inconclusive);
        }
        tokio::time::sleep(interval.min(timeout - waited)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3 weeks").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("9999h").is_err());
    }
}
