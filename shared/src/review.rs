//! The post-deployment review ("did the change behave as the eval predicted?") and the
//! complaints support records against a change.
//!
//! A review is two parts. The facts are gathered from what Rollgate stored: what the change
//! was expected to do against what the final report measured, each criterion's outcome, the
//! holds and rollbacks with their reasons, the time spent in each stage, the notices and who
//! acknowledged them, and the complaints. People add the rest: what users noticed, the lessons
//! and the follow-ups. A change reaches `reviewed` only once that part is written.

use serde::{Deserialize, Serialize};

use crate::comparison::ComparisonReport;
use crate::error::FieldError;
use crate::metrics::ALL_SEGMENTS;
use crate::notices::minute_utc;
use crate::rollout::TransitionAction;
use crate::stats::Verdict;

/// Longest text of a complaint or of a review's written parts.
pub const MAX_TEXT: usize = 10_000;
/// Longest user key of a complaint.
pub const MAX_USER_KEY: usize = 256;
/// Most follow-ups in a review.
pub const MAX_FOLLOW_UPS: usize = 50;
/// Longest follow-up.
pub const MAX_FOLLOW_UP: usize = 500;

/// What a complaint is about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ComplaintCategory {
    /// A wrong or made-up answer.
    WrongAnswer,
    /// Tone, style or format.
    Tone,
    /// Refused something it should have done.
    Refusal,
    /// Slow answers.
    Latency,
    /// Unsafe or inappropriate content.
    Safety,
    Other,
}

impl ComplaintCategory {
    pub const ALL: [ComplaintCategory; 6] = [
        ComplaintCategory::WrongAnswer,
        ComplaintCategory::Tone,
        ComplaintCategory::Refusal,
        ComplaintCategory::Latency,
        ComplaintCategory::Safety,
        ComplaintCategory::Other,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// Body of `POST /api/v1/changes/{id}/complaints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ComplaintInput {
    /// The user's targeting key (the id the application evaluates flags with).
    pub user_key: String,
    /// When it happened, RFC 3339.
    pub at: String,
    /// What the user said, in their words or support's.
    pub text: String,
    pub category: ComplaintCategory,
}

/// A recorded complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Complaint {
    pub id: String,
    pub change_id: String,
    pub user_key: String,
    /// When it happened (RFC 3339, UTC).
    pub at: String,
    pub text: String,
    pub category: ComplaintCategory,
    /// The variant the user had at `at`, recomputed from the rollout's history
    /// (`control` or `candidate`); `None` when the change was not live then.
    pub variant: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    pub recorded_at: String,
}

/// Checks a complaint's own fields; `at` must already be parsed by the caller (the server
/// knows the clock), so only its presence is checked here.
pub fn validate_complaint(input: &ComplaintInput) -> Result<(), FieldError> {
    let key = input.user_key.trim();
    if key.is_empty() || key.chars().count() > MAX_USER_KEY {
        return Err(FieldError::new(
            "user_key",
            format!("must be 1–{MAX_USER_KEY} characters"),
        ));
    }
    if input.at.trim().is_empty() {
        return Err(FieldError::new("at", "must be an RFC 3339 time"));
    }
    let text = input.text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(FieldError::new(
            "text",
            format!("must be 1–{MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

/// Body of `PUT /api/v1/changes/{id}/review`: the parts people write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// What users noticed (from support, complaints, feedback); may be "nothing".
    pub users_noticed: String,
    /// What the team learned. Required.
    pub lessons: String,
    /// Follow-up actions, one each.
    #[serde(default)]
    pub follow_ups: Vec<String>,
    /// The review's revision this edit is based on (0 for the first), so that two people
    /// writing at once do not overwrite each other.
    pub revision: i64,
}

/// Checks the written parts, naming the field at fault: the first of [`review_problems`].
pub fn validate_review(input: &ReviewInput) -> Result<(), FieldError> {
    review_problems(input)
        .into_iter()
        .next()
        .map_or(Ok(()), Err)
}

/// Every written part that breaks a rule, in the form's order, so that the console can show
/// them all at once.
pub fn review_problems(input: &ReviewInput) -> Vec<FieldError> {
    let mut out = Vec::new();
    for (field, text) in [
        ("users_noticed", &input.users_noticed),
        ("lessons", &input.lessons),
    ] {
        let t = text.trim();
        if t.is_empty() || t.chars().count() > MAX_TEXT {
            out.push(FieldError::new(
                field,
                format!("must be 1–{MAX_TEXT} characters"),
            ));
        }
    }
    if input.follow_ups.len() > MAX_FOLLOW_UPS {
        out.push(FieldError::new(
            "follow_ups",
            format!("at most {MAX_FOLLOW_UPS}"),
        ));
    }
    for (i, f) in input.follow_ups.iter().enumerate() {
        let t = f.trim();
        if t.is_empty() || t.chars().count() > MAX_FOLLOW_UP {
            out.push(FieldError::new(
                format!("follow_ups[{i}]"),
                format!("must be 1–{MAX_FOLLOW_UP} characters"),
            ));
        }
    }
    if input.revision < 0 {
        out.push(FieldError::new("revision", "must be 0 or more"));
    }
    out
}

/// What people wrote, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WrittenReview {
    pub users_noticed: String,
    pub lessons: String,
    pub follow_ups: Vec<String>,
    /// 1 for the first version, one more for each edit.
    pub revision: i64,
    pub written_by: String,
    pub written_at: String,
}

/// One metric's measured effect in the final report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasuredEffect {
    pub metric: String,
    pub name: String,
    /// `all` for the whole population, otherwise the segment.
    pub segment: String,
    pub control: Option<f64>,
    pub candidate: Option<f64>,
    /// The candidate's change against control: relative (0.12 = +12 %) when `relative`,
    /// otherwise in the metric's unit.
    pub estimate: Option<f64>,
    pub interval: Option<[f64; 2]>,
    pub relative: bool,
    pub unit: String,
    /// The pre-registered criterion on this metric, if any, and its verdict.
    pub criterion: Option<String>,
    /// `pass`, `breach` or `inconclusive`; `None` without a criterion or without data.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub verdict: Option<Verdict>,
}

/// A hold or a rollback of the rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interruption {
    pub action: TransitionAction,
    pub at: String,
    pub by: String,
    pub from: String,
    pub reason: Option<String>,
}

/// Time spent in one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageTime {
    pub stage: String,
    pub entered_at: String,
    /// `None` while the change is still there.
    pub left_at: Option<String>,
    pub hours: f64,
}

/// A notice and who acknowledged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeOutcome {
    pub notice_id: String,
    pub published_at: Option<String>,
    pub stage: Option<String>,
    pub teams: Vec<String>,
    pub acknowledged_by: Vec<String>,
}

/// What Rollgate knows about how the change went, gathered when the review is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewFacts {
    /// What the change was expected to do, as registered.
    pub expected_changes: String,
    /// Where the measured effects come from, e.g. "the report frozen with the rollback at …"
    /// or "the report over the last stage".
    pub report_source: Option<String>,
    /// `pass`, `breach` or `inconclusive`; `None` without a report.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub overall: Option<Verdict>,
    /// Every criterion's metric in the whole population, then the segments with a verdict
    /// other than Pass.
    pub measured: Vec<MeasuredEffect>,
    pub interruptions: Vec<Interruption>,
    pub stages: Vec<StageTime>,
    pub notices: Vec<NoticeOutcome>,
    pub complaints: Vec<Complaint>,
    /// The decision that ended the change's A/B test, if it ran one (its frozen report is at
    /// `GET /api/v1/changes/{id}/decision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<crate::ab::AbDecision>,
}

/// `GET /api/v1/changes/{id}/review`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    pub change_id: String,
    pub title: String,
    pub flag_key: String,
    /// The stage the change is in, as people read it.
    pub state: String,
    pub facts: ReviewFacts,
    /// `None` until someone writes it.
    pub written: Option<WrittenReview>,
    /// "What users noticed" as drafted from the complaints (empty without any), for the form
    /// until someone writes the review.
    #[serde(default)]
    pub users_noticed_draft: String,
}

/// "What users noticed", drafted from `complaints`: "2 complaints recorded: … (wrong answer);
/// … (tone)."; empty without any.
pub fn users_noticed_draft(complaints: &[Complaint]) -> String {
    if complaints.is_empty() {
        return String::new();
    }
    let n = complaints.len();
    format!(
        "{n} complaint{} recorded: {}.",
        if n == 1 { "" } else { "s" },
        complaints
            .iter()
            .map(|c| format!(
                "{} ({})",
                c.text.trim(),
                c.category.as_str().replace('_', " ")
            ))
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// The measured effects of `report`: the whole population's rows, then the segment cells
/// that carry a criterion and did not pass (a regression hidden in a segment is what a
/// review must not miss).
pub fn measured(report: &ComparisonReport) -> Vec<MeasuredEffect> {
    let effect = |r: &crate::comparison::MetricRow| MeasuredEffect {
        metric: r.key.clone(),
        name: r.name.clone(),
        segment: r.segment.clone(),
        control: r.control,
        candidate: r.candidate,
        estimate: r.comparison.as_ref().map(|c| c.estimate),
        interval: r.comparison.as_ref().map(|c| c.ci),
        relative: r.relative,
        unit: r.unit.clone(),
        criterion: r.criterion.clone(),
        verdict: r.verdict,
    };
    let mut out: Vec<MeasuredEffect> = report.rows.iter().map(effect).collect();
    out.extend(
        report
            .matrix
            .iter()
            .filter(|r| r.segment != ALL_SEGMENTS)
            .filter(|r| r.criterion.is_some() && matches!(r.verdict, Some(Verdict::Breach)))
            .map(effect),
    );
    out
}

/// A verdict as one word; "no data" without one.
pub fn verdict_word(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Pass) => "pass",
        Some(Verdict::Breach) => "breach",
        Some(Verdict::Inconclusive) => "inconclusive",
        None => "no data",
    }
}

/// A measured value, to four significant decimals (scientific far from 1).
pub fn number(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(0.001..1e6).contains(&a) {
        format!("{x:.3e}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The candidate's change with its interval: "+12.0 % (8.1 % to 15.9 %)".
pub fn change_text(m: &MeasuredEffect) -> String {
    let Some(estimate) = m.estimate else {
        return "—".into();
    };
    let fmt = |x: f64| {
        if m.relative {
            format!("{:+.1} %", x * 100.0)
        } else {
            format!("{}{}", if x >= 0.0 { "+" } else { "" }, number(x))
        }
    };
    match m.interval {
        Some([lo, hi]) => format!("{} ({} to {})", fmt(estimate), fmt(lo), fmt(hi)),
        None => fmt(estimate),
    }
}

/// Markdown text with `|` and line breaks made safe for a table cell.
pub(crate) fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn quote(s: &str) -> String {
    s.lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What an interruption did, as a verb: "rolled back", "paused", "resumed".
pub fn interruption_verb(action: TransitionAction) -> &'static str {
    match action {
        TransitionAction::RollBack => "rolled back",
        TransitionAction::Pause => "paused",
        TransitionAction::Resume => "resumed",
        _ => "moved",
    }
}

/// The review as Markdown (`GET /api/v1/changes/{id}/review.md`), for a wiki or a ticket.
/// Times read to the minute in UTC (`2026-12-01 10:00 UTC`).
pub fn to_markdown(review: &Review) -> String {
    let f = &review.facts;
    let mut md = format!(
        "# Post-deployment review: {}\n\nFlag `{}` · {}\n\n",
        review.title, review.flag_key, review.state
    );
    md.push_str("## Expected\n\n");
    md.push_str(&quote(if f.expected_changes.trim().is_empty() {
        "(nothing registered)"
    } else {
        f.expected_changes.trim()
    }));
    md.push_str("\n\n## Measured\n\n");
    match &f.report_source {
        None => md.push_str("No metrics were reported for this change.\n\n"),
        Some(source) => {
            md.push_str(&format!(
                "From {source}; overall verdict: **{}**.\n\n",
                verdict_word(f.overall)
            ));
            md.push_str("| metric | segment | control | candidate | change (interval) | criterion | verdict |\n");
            md.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
            for m in &f.measured {
                md.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} |\n",
                    cell(&m.name),
                    cell(&m.segment),
                    m.control.map(number).unwrap_or_else(|| "—".into()),
                    m.candidate.map(number).unwrap_or_else(|| "—".into()),
                    change_text(m),
                    cell(m.criterion.as_deref().unwrap_or("—")),
                    if m.criterion.is_some() {
                        verdict_word(m.verdict)
                    } else {
                        "—"
                    },
                ));
            }
            md.push('\n');
        }
    }
    if let Some(d) = &f.decision {
        md.push_str(&format!(
            "## A/B test decision\n\n**{}**, by {} at {} after {}: {}\n\n",
            d.outcome.label(),
            d.decided_by,
            minute_utc(&d.decided_at),
            d.stage,
            d.note.replace('\n', " ")
        ));
    }
    md.push_str("## Holds and rollbacks\n\n");
    if f.interruptions.is_empty() {
        md.push_str("None.\n\n");
    } else {
        for i in &f.interruptions {
            md.push_str(&format!(
                "- {} {} at {} from {}{}\n",
                i.by,
                interruption_verb(i.action),
                minute_utc(&i.at),
                i.from,
                i.reason
                    .as_deref()
                    .map(|r| format!(": {}", r.replace('\n', " ")))
                    .unwrap_or_default()
            ));
        }
        md.push('\n');
    }
    md.push_str(
        "## Time in each stage\n\n| stage | entered | left | hours |\n| --- | --- | --- | --- |\n",
    );
    for s in &f.stages {
        md.push_str(&format!(
            "| {} | {} | {} | {:.1} |\n",
            cell(&s.stage),
            minute_utc(&s.entered_at),
            s.left_at
                .as_deref()
                .map_or_else(|| "(still there)".into(), minute_utc),
            s.hours
        ));
    }
    md.push_str("\n## Notices\n\n");
    if f.notices.is_empty() {
        md.push_str("None published.\n");
    }
    for n in &f.notices {
        md.push_str(&format!(
            "- {} to {}: acknowledged by {}\n",
            n.stage.as_deref().unwrap_or("Notice"),
            if n.teams.is_empty() {
                "nobody".to_owned()
            } else {
                n.teams.join(", ")
            },
            if n.acknowledged_by.is_empty() {
                "nobody".to_owned()
            } else {
                n.acknowledged_by.join(", ")
            }
        ));
    }
    md.push_str(&format!("\n## Complaints ({})\n\n", f.complaints.len()));
    for c in &f.complaints {
        md.push_str(&format!(
            "- {} · {} · user `{}`{}: {}\n",
            minute_utc(&c.at),
            c.category.as_str().replace('_', " "),
            c.user_key.replace('`', "'"),
            c.variant
                .as_deref()
                .map(|v| format!(" ({v})"))
                .unwrap_or_default(),
            c.text.replace('\n', " ")
        ));
    }
    match &review.written {
        None => md.push_str("\n## Written review\n\nNot written yet.\n"),
        Some(w) => {
            md.push_str("\n## What users noticed\n\n");
            md.push_str(w.users_noticed.trim());
            md.push_str("\n\n## Lessons\n\n");
            md.push_str(w.lessons.trim());
            md.push_str("\n\n## Follow-ups\n\n");
            if w.follow_ups.is_empty() {
                md.push_str("None.\n");
            }
            for f in &w.follow_ups {
                md.push_str(&format!("- [ ] {}\n", f.trim()));
            }
            md.push_str(&format!(
                "\nWritten by {} at {} (revision {}).\n",
                w.written_by,
                minute_utc(&w.written_at),
                w.revision
            ));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReviewInput {
        ReviewInput {
            users_noticed: "Two tickets about shorter answers.".into(),
            lessons: "Watch answer length in the canary.".into(),
            follow_ups: vec!["Add an answer-length metric".into()],
            revision: 0,
        }
    }

    #[test]
    fn every_complaint_category_is_offered() {
        use strum::VariantArray;
        assert_eq!(
            ComplaintCategory::ALL.as_slice(),
            ComplaintCategory::VARIANTS
        );
    }

    #[test]
    fn review_fields_are_named_when_refused() {
        assert!(validate_review(&input()).is_ok());
        let mut r = input();
        r.lessons = "  ".into();
        assert_eq!(validate_review(&r).unwrap_err().field, "lessons");
        let mut r = input();
        r.follow_ups.push(String::new());
        assert_eq!(validate_review(&r).unwrap_err().field, "follow_ups[1]");
        // Every broken part at once, in the form's order; the first is the server's answer.
        r.users_noticed = String::new();
        r.lessons = "x".repeat(MAX_TEXT + 1);
        let fields: Vec<String> = review_problems(&r).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["users_noticed", "lessons", "follow_ups[1]"]);
        assert_eq!(validate_review(&r).unwrap_err().field, "users_noticed");
    }

    #[test]
    fn complaint_fields_are_named_when_refused() {
        let c = ComplaintInput {
            user_key: "u-1".into(),
            at: "2026-12-01T10:00:00Z".into(),
            text: "It answered in the wrong language".into(),
            category: ComplaintCategory::WrongAnswer,
        };
        assert!(validate_complaint(&c).is_ok());
        let mut bad = c.clone();
        bad.user_key = "x".repeat(MAX_USER_KEY + 1);
        assert_eq!(validate_complaint(&bad).unwrap_err().field, "user_key");
        let mut bad = c;
        bad.text = " ".into();
        assert_eq!(validate_complaint(&bad).unwrap_err().field, "text");
    }

    #[test]
    fn markdown_carries_facts_and_written_parts() {
        let review = Review {
            change_id: "c1".into(),
            title: "Shorter prompt".into(),
            flag_key: "shorter-prompt".into(),
            state: "Reviewed".into(),
            facts: ReviewFacts {
                expected_changes: "Answers get shorter.".into(),
                report_source: Some("the report over Full".into()),
                overall: Some(Verdict::Pass),
                measured: vec![MeasuredEffect {
                    metric: "cost_per_request".into(),
                    name: "Cost per request".into(),
                    segment: "all".into(),
                    control: Some(0.01),
                    candidate: Some(0.009),
                    estimate: Some(-0.1),
                    interval: Some([-0.12, -0.08]),
                    relative: true,
                    unit: "USD".into(),
                    criterion: Some("cost must not rise more than 15 %".into()),
                    verdict: Some(Verdict::Pass),
                }],
                interruptions: vec![Interruption {
                    action: TransitionAction::Pause,
                    at: "2026-12-01T10:00:00Z".into(),
                    by: "guardian".into(),
                    from: "Canary 5%".into(),
                    reason: Some("sample ratio mismatch".into()),
                }],
                stages: vec![StageTime {
                    stage: "Canary 5%".into(),
                    entered_at: "2026-12-01T09:00:00Z".into(),
                    left_at: Some("2026-12-02T09:00:00Z".into()),
                    hours: 24.0,
                }],
                notices: vec![],
                complaints: vec![Complaint {
                    id: "k1".into(),
                    change_id: "c1".into(),
                    user_key: "u-7".into(),
                    at: "2026-12-01T11:00:00Z".into(),
                    text: "Too short | terse".into(),
                    category: ComplaintCategory::Tone,
                    variant: Some("candidate".into()),
                    recorded_by: "Sam".into(),
                    recorded_at: "2026-12-01T11:05:00Z".into(),
                }],
                decision: Some(crate::ab::AbDecision {
                    change_id: "c1".into(),
                    stage: "A/B test 50%".into(),
                    outcome: crate::ab::AbOutcome::Keep,
                    note: "Retention held.".into(),
                    decided_by: "Pat".into(),
                    decided_at: "2026-12-01T12:00:00Z".into(),
                    report: None,
                }),
            },
            written: Some(WrittenReview {
                users_noticed: "Shorter answers.".into(),
                lessons: "Fine.".into(),
                follow_ups: vec!["Tune length".into()],
                revision: 1,
                written_by: "Ana".into(),
                written_at: "2026-12-02T09:00:00Z".into(),
            }),
            users_noticed_draft: String::new(),
        };
        assert_eq!(
            users_noticed_draft(&review.facts.complaints),
            "1 complaint recorded: Too short | terse (tone)."
        );
        assert_eq!(users_noticed_draft(&[]), "");
        let md = to_markdown(&review);
        assert!(md.starts_with("# Post-deployment review: Shorter prompt"));
        assert!(md.contains("> Answers get shorter."), "{md}");
        assert!(
            md.contains("| Cost per request | all | 0.01 | 0.009 | -10.0 % (-12.0 % to -8.0 %) | cost must not rise more than 15 % | pass |"),
            "{md}"
        );
        assert!(md.contains(
            "- guardian paused at 2026-12-01 10:00 UTC from Canary 5%: sample ratio mismatch"
        ));
        assert!(md.contains("| Canary 5% | 2026-12-01 09:00 UTC | 2026-12-02 09:00 UTC | 24.0 |"));
        assert!(md.contains("## Complaints (1)"));
        assert!(md.contains("tone · user `u-7` (candidate): Too short | terse"));
        assert!(md.contains("- [ ] Tune length"));
        assert!(md.contains(
            "## A/B test decision\n\n**Keep**, by Pat at 2026-12-01 12:00 UTC after A/B test 50%: Retention held."
        ), "{md}");
    }
}
