//! Delivery figures (`GET /api/v1/figures`): how often the team ships and rolls back, how long
//! a change takes from eval to everyone, how quickly a held rollout is rolled back, and how
//! often a stage is skipped; over a period, overall and by product area, kind and risk tier.
//!
//! The server reads every change's moves and calls [`compute`]; times are Unix seconds.

use serde::{Deserialize, Serialize};

use crate::change::{ChangeKind, RiskTier};
use crate::rollout::{RolloutState, TransitionAction};

/// Longest period one request may cover, in days.
pub const MAX_DAYS: i64 = 731;
/// The period when none is asked: the last twelve weeks.
pub const DEFAULT_DAYS: i64 = 84;

const WEEK: i64 = 7 * 86_400;
/// 1970-01-05, the first Monday after the Unix epoch: weeks start on Mondays (ISO 8601).
const FIRST_MONDAY: i64 = 4 * 86_400;

/// One move of a rollout, as the figures need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub action: TransitionAction,
    pub from: RolloutState,
    pub to: RolloutState,
    /// Unix seconds.
    pub at: i64,
    /// Whether the guardian made it (an automatic rollback or hold).
    pub automatic: bool,
}

/// A change and its moves, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeMoves {
    pub product_area: Option<String>,
    pub kind: ChangeKind,
    pub risk: RiskTier,
    pub moves: Vec<Move>,
}

/// One week's outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Week {
    /// The Monday the week starts on, `YYYY-MM-DD`.
    pub start: String,
    /// Changes that reached Full.
    pub shipped: u32,
    pub automatic_rollbacks: u32,
    pub manual_rollbacks: u32,
}

/// The figures of a group of changes over the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breakdown {
    /// The group: `all`, a product area, a kind or a risk tier.
    pub key: String,
    /// Changes that moved at all in the period.
    pub active: u32,
    /// Changes whose canary started in the period.
    pub started: u32,
    /// Changes that reached Full in the period.
    pub shipped: u32,
    pub automatic_rollbacks: u32,
    pub manual_rollbacks: u32,
    /// Rollbacks over rollbacks and shipped changes; `None` when there were neither.
    pub rollback_rate: Option<f64>,
    /// Median hours from entering eval to reaching Full, over the changes shipped.
    pub median_lead_time_hours: Option<f64>,
    /// Median hours from a hold by the guardian (a breach, a broken split, a stage out of
    /// time) to the rollback that followed it in the same stage. An automatic rollback acts on
    /// the batch that shows the breach, so it has no wait to count.
    pub median_hold_to_rollback_hours: Option<f64>,
    /// Median hours the candidate served in the stage it was rolled back from.
    pub median_exposure_before_rollback_hours: Option<f64>,
    /// Share of the active changes that skipped a stage.
    pub skipped_share: Option<f64>,
}

/// `GET /api/v1/figures`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    /// The period, `[from, to)`, RFC 3339.
    pub from: String,
    pub to: String,
    pub weeks: Vec<Week>,
    pub overall: Breakdown,
    pub by_product_area: Vec<Breakdown>,
    pub by_kind: Vec<Breakdown>,
    pub by_risk: Vec<Breakdown>,
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

fn hours(seconds: i64) -> f64 {
    seconds as f64 / 3600.0
}

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

/// `YYYY-MM-DD` of the day holding the Unix time `seconds`.
pub fn date_of(seconds: i64) -> String {
    let (y, m, d) = crate::calendar::civil_from_days(seconds.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

fn week_of(t: i64) -> i64 {
    (t - FIRST_MONDAY).div_euclid(WEEK)
}

fn breakdown<'a>(
    key: &str,
    changes: impl Iterator<Item = &'a ChangeMoves>,
    from: i64,
    to: i64,
) -> Breakdown {
    let inside = |t: i64| t >= from && t < to;
    let mut b = Breakdown {
        key: key.to_owned(),
        active: 0,
        started: 0,
        shipped: 0,
        automatic_rollbacks: 0,
        manual_rollbacks: 0,
        rollback_rate: None,
        median_lead_time_hours: None,
        median_hold_to_rollback_hours: None,
        median_exposure_before_rollback_hours: None,
        skipped_share: None,
    };
    let mut skipped = 0;
    let (mut lead, mut hold_wait, mut exposure) = (Vec::new(), Vec::new(), Vec::new());
    for c in changes {
        if !c.moves.iter().any(|m| inside(m.at)) {
            continue;
        }
        b.active += 1;
        if c.moves.iter().any(|m| m.action == TransitionAction::Skip) {
            skipped += 1;
        }
        let eval_at = c
            .moves
            .iter()
            .find(|m| m.to == RolloutState::Eval)
            .map(|m| m.at);
        // When the change entered the stage it is in, for each move.
        let mut entered = c.moves.first().map_or(0, |m| m.at);
        let mut held_at: Option<i64> = None;
        for m in &c.moves {
            match m.action {
                TransitionAction::Pause => {
                    if m.automatic {
                        held_at = Some(m.at);
                    }
                    continue;
                }
                TransitionAction::Resume => {
                    held_at = None;
                    continue;
                }
                _ => {}
            }
            if inside(m.at) {
                if m.to == RolloutState::Canary {
                    b.started += 1;
                }
                if m.to == RolloutState::Full {
                    b.shipped += 1;
                    if let Some(e) = eval_at {
                        lead.push(hours(m.at - e));
                    }
                }
                if m.action == TransitionAction::RollBack {
                    if m.automatic {
                        b.automatic_rollbacks += 1;
                    } else {
                        b.manual_rollbacks += 1;
                    }
                    if let Some(h) = held_at {
                        hold_wait.push(hours(m.at - h));
                    }
                    exposure.push(hours(m.at - entered));
                }
            }
            entered = m.at;
            held_at = None;
        }
    }
    let rollbacks = b.automatic_rollbacks + b.manual_rollbacks;
    b.rollback_rate = share(rollbacks, rollbacks + b.shipped);
    b.median_lead_time_hours = median(lead);
    b.median_hold_to_rollback_hours = median(hold_wait);
    b.median_exposure_before_rollback_hours = median(exposure);
    b.skipped_share = share(skipped, b.active);
    b
}

fn grouped(
    changes: &[ChangeMoves],
    key: impl Fn(&ChangeMoves) -> String,
    from: i64,
    to: i64,
) -> Vec<Breakdown> {
    let mut keys: Vec<String> = changes.iter().map(&key).collect();
    keys.sort();
    keys.dedup();
    keys.iter()
        .map(|k| breakdown(k, changes.iter().filter(|c| key(c) == *k), from, to))
        .filter(|b| b.active > 0)
        .collect()
}

/// The figures of `changes` over `[from, to)` (Unix seconds); `from_text` and `to_text` are
/// the same bounds as the answer states them.
pub fn compute(
    changes: &[ChangeMoves],
    from: i64,
    to: i64,
    from_text: &str,
    to_text: &str,
) -> Figures {
    let mut weeks: Vec<Week> = (week_of(from)..=week_of(to - 1).max(week_of(from)))
        .map(|w| Week {
            start: date_of(FIRST_MONDAY + w * WEEK),
            shipped: 0,
            automatic_rollbacks: 0,
            manual_rollbacks: 0,
        })
        .collect();
    let first = week_of(from);
    for m in changes.iter().flat_map(|c| &c.moves) {
        if m.at < from || m.at >= to {
            continue;
        }
        let Some(week) = usize::try_from(week_of(m.at) - first)
            .ok()
            .and_then(|i| weeks.get_mut(i))
        else {
            continue;
        };
        if m.to == RolloutState::Full && m.action != TransitionAction::Pause {
            week.shipped += 1;
        }
        if m.action == TransitionAction::RollBack {
            if m.automatic {
                week.automatic_rollbacks += 1;
            } else {
                week.manual_rollbacks += 1;
            }
        }
    }
    Figures {
        from: from_text.to_owned(),
        to: to_text.to_owned(),
        weeks,
        overall: breakdown("all", changes.iter(), from, to),
        by_product_area: grouped(
            changes,
            |c| {
                c.product_area
                    .clone()
                    .unwrap_or_else(|| "unassigned".into())
            },
            from,
            to,
        ),
        by_kind: grouped(changes, |c| c.kind.as_str().to_owned(), from, to),
        by_risk: grouped(changes, |c| c.risk.as_str().to_owned(), from, to),
    }
}

/// A share as a whole percentage, or a dash when there is none.
fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), |x| format!("{:.0} %", x * 100.0))
}

/// Hours as hours under two days, as days from there; a dash when there is none.
fn span(h: Option<f64>) -> String {
    match h {
        None => "—".into(),
        Some(h) if h < 48.0 => format!("{h:.1} h"),
        Some(h) => format!("{:.1} d", h / 24.0),
    }
}

fn breakdown_table(md: &mut String, title: &str, rows: &[Breakdown]) {
    md.push_str(&format!("\n## By {title}\n\n"));
    if rows.is_empty() {
        md.push_str("No change moved in the period.\n");
        return;
    }
    md.push_str(
        "| group | active | shipped | rollbacks (automatic / manual) | rollback rate | lead time eval → Full | hold → rollback | skipped a stage |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for b in rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} ({} / {}) | {} | {} | {} | {} |\n",
            crate::review::cell(&b.key),
            b.active,
            b.shipped,
            b.automatic_rollbacks + b.manual_rollbacks,
            b.automatic_rollbacks,
            b.manual_rollbacks,
            percent(b.rollback_rate),
            span(b.median_lead_time_hours),
            span(b.median_hold_to_rollback_hours),
            percent(b.skipped_share),
        ));
    }
}

/// The figures as Markdown (`GET /api/v1/figures.md`): the period's headline figures, a table
/// per grouping, then the weeks. The console's figures page shows this document and draws its
/// charts from the weeks' table.
pub fn to_markdown(f: &Figures) -> String {
    let o = &f.overall;
    let day = |t: &str| t.get(..10).unwrap_or(t).to_owned();
    let rollbacks = o.automatic_rollbacks + o.manual_rollbacks;
    let mut md = format!(
        "# Delivery figures, {} to {}\n\n\
         - **{}** changes moved; **{}** started a canary and **{}** reached Full\n\
         - **{}** rolled back ({} by the guardian, {} by people): a rollback rate of **{}**\n\
         - Median lead time from eval to Full: **{}**\n\
         - Median wait from a guardian's hold to the rollback: **{}**\n\
         - Median time a rolled-back candidate served in its stage: **{}**\n\
         - Changes that skipped a stage: **{}**\n",
        day(&f.from),
        day(&f.to),
        o.active,
        o.started,
        o.shipped,
        rollbacks,
        o.automatic_rollbacks,
        o.manual_rollbacks,
        percent(o.rollback_rate),
        span(o.median_lead_time_hours),
        span(o.median_hold_to_rollback_hours),
        span(o.median_exposure_before_rollback_hours),
        percent(o.skipped_share),
    );
    breakdown_table(&mut md, "product area", &f.by_product_area);
    breakdown_table(&mut md, "kind", &f.by_kind);
    breakdown_table(&mut md, "risk tier", &f.by_risk);
    md.push_str(WEEKS_HEADING);
    md.push_str(
        "| week of | shipped | rolled back by the guardian | rolled back by people |\n\
         | --- | --- | --- | --- |\n",
    );
    for w in &f.weeks {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            w.start, w.shipped, w.automatic_rollbacks, w.manual_rollbacks
        ));
    }
    md
}

/// Where [`to_markdown`]'s last section, the weeks in numbers, starts: the console draws its
/// charts from that table.
pub const WEEKS_HEADING: &str = "\n## Per week\n\n";

#[cfg(test)]
mod tests {
    use super::*;
    use RolloutState::*;
    use TransitionAction::*;

    const H: i64 = 3600;
    /// Monday 2026-11-02 00:00 UTC.
    const MON: i64 = 1_793_577_600;

    fn mv(
        action: TransitionAction,
        from: RolloutState,
        to: RolloutState,
        at: i64,
        automatic: bool,
    ) -> Move {
        Move {
            action,
            from,
            to,
            at,
            automatic,
        }
    }

    fn shipped(area: &str, start: i64) -> ChangeMoves {
        ChangeMoves {
            product_area: Some(area.into()),
            kind: ChangeKind::Prompt,
            risk: RiskTier::Standard,
            moves: vec![
                mv(Advance, Draft, Eval, start, false),
                mv(Advance, Eval, Canary, start + 2 * H, false),
                mv(Skip, Canary, Full, start + 30 * H, false),
            ],
        }
    }

    fn rolled_back(area: &str, start: i64, automatic: bool) -> ChangeMoves {
        let mut moves = vec![
            mv(Advance, Draft, Eval, start, false),
            mv(Advance, Eval, Canary, start + H, false),
        ];
        if !automatic {
            moves.push(mv(Pause, Canary, Canary, start + 3 * H, true));
        }
        moves.push(mv(RollBack, Canary, RolledBack, start + 5 * H, automatic));
        ChangeMoves {
            product_area: Some(area.into()),
            kind: ChangeKind::Model,
            risk: RiskTier::High,
            moves,
        }
    }

    #[test]
    fn dates_and_weeks_start_on_mondays() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(FIRST_MONDAY), "1970-01-05");
        assert_eq!(date_of(MON), "2026-11-02");
        assert_eq!(week_of(MON + 6 * 86_400 + 86_399), week_of(MON));
        assert_eq!(week_of(MON - 1) + 1, week_of(MON));
    }

    #[test]
    fn figures_count_outcomes_in_the_period() {
        let changes = vec![
            shipped("billing", MON),
            shipped("search", MON + 7 * 86_400),
            rolled_back("billing", MON + 86_400, true),
            rolled_back("billing", MON + 8 * 86_400, false),
            // Entirely before the period.
            shipped("billing", MON - 30 * 86_400),
        ];
        let f = compute(&changes, MON, MON + 14 * 86_400, "a", "b");
        assert_eq!(f.weeks.len(), 2);
        assert_eq!(f.weeks[0].start, "2026-11-02");
        assert_eq!((f.weeks[0].shipped, f.weeks[0].automatic_rollbacks), (1, 1));
        assert_eq!((f.weeks[1].shipped, f.weeks[1].manual_rollbacks), (1, 1));
        let all = &f.overall;
        assert_eq!((all.active, all.started, all.shipped), (4, 4, 2));
        assert_eq!((all.automatic_rollbacks, all.manual_rollbacks), (1, 1));
        assert_eq!(all.rollback_rate, Some(0.5));
        assert_eq!(all.median_lead_time_hours, Some(30.0));
        // The manual rollback came 2 h after the guardian's hold.
        assert_eq!(all.median_hold_to_rollback_hours, Some(2.0));
        // Canary entered 1 h after eval, rolled back 4 h later.
        assert_eq!(all.median_exposure_before_rollback_hours, Some(4.0));
        assert_eq!(all.skipped_share, Some(0.5));
        let keys: Vec<&str> = f.by_product_area.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(keys, ["billing", "search"]);
        assert_eq!(f.by_product_area[0].active, 3);
        assert_eq!(
            f.by_risk
                .iter()
                .find(|b| b.key == "high")
                .map(|b| b.rollback_rate),
            Some(Some(1.0))
        );

        let md = to_markdown(&Figures {
            from: "2026-11-02T00:00:00Z".into(),
            to: "2026-11-16T00:00:00Z".into(),
            ..f
        });
        assert!(md.starts_with("# Delivery figures, 2026-11-02 to 2026-11-16\n"));
        assert!(md.contains(
            "- **2** rolled back (1 by the guardian, 1 by people): a rollback rate of **50 %**"
        ));
        assert!(md.contains("eval to Full: **30.0 h**"));
        assert!(md.contains("| billing | 3 | 1 | 2 (1 / 1) | 67 % | 30.0 h | 2.0 h | 33 % |"));
        assert!(md.contains("## By risk tier"));
        assert!(md.contains(&format!("{WEEKS_HEADING}| week of |")));
        assert!(md.ends_with("| 2026-11-02 | 1 | 1 | 0 |\n| 2026-11-09 | 1 | 0 | 1 |\n"));
    }

    #[test]
    fn an_empty_period_has_no_rates() {
        let f = compute(&[], MON, MON + 86_400, "a", "b");
        assert_eq!(f.weeks.len(), 1);
        assert_eq!(f.overall.rollback_rate, None);
        assert_eq!(f.overall.median_lead_time_hours, None);
        assert!(f.by_kind.is_empty());
        let md = to_markdown(&f);
        assert!(md.contains("rollback rate of **—**"));
        assert!(md.contains("## By kind\n\nNo change moved in the period."));
    }
}
