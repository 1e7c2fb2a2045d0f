//! Notices: what a change will do to users, told to the teams who face them before a stage
//! starts, and their acknowledgements.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::rollout::RolloutState;

/// Longest expected-changes or talking-points text.
pub const MAX_NOTICE_TEXT: usize = 10_000;

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
pub enum NoticeStatus {
    /// Being written; edited in place; nobody is told.
    Draft,
    /// Sent to its audience; may be acknowledged.
    Published,
    /// Replaced by a newer published revision.
    Superseded,
}

impl NoticeStatus {
    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// Who wrote the notice: a person, or the server after a rollback, full rollout or skip.
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
pub enum NoticeKind {
    Manual,
    Rollback,
    Full,
    Skipped,
}

impl NoticeKind {
    /// How a message about a notice of this kind starts: "Rolled back: …".
    pub fn headline(self) -> &'static str {
        match self {
            NoticeKind::Manual => "Notice",
            NoticeKind::Rollback => "Rolled back",
            NoticeKind::Full => "Live for everyone",
            NoticeKind::Skipped => "Stage skipped",
        }
    }
}

impl NoticeKind {
    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// A team a notice is addressed to.
// `NoticeAudience` in the OpenAPI document: the rollout plan's `plan::Audience` (a kind of
// user) has the same Rust name, and two schemas of one name overwrite each other there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = NoticeAudience))]
pub struct Audience {
    pub team_id: String,
    pub team_name: String,
}

/// A team's acknowledgement: who read it for the team, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Acknowledgement {
    pub team_id: String,
    pub team_name: String,
    pub user_id: String,
    pub user_name: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    pub id: String,
    pub change_id: String,
    /// The change's title, so that lists of notices read on their own.
    pub change_title: String,
    /// The notice this one replaced (an edit of a published notice), if any.
    pub previous_id: Option<String>,
    pub status: NoticeStatus,
    pub kind: NoticeKind,
    pub audience: Vec<Audience>,
    /// When the stage is planned to start (RFC 3339).
    pub planned_at: Option<String>,
    /// The stage the notice announces.
    pub planned_stage: Option<RolloutState>,
    /// What users may notice, in plain language.
    pub expected_changes: String,
    /// What customer-facing staff can say.
    pub talking_points: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub published_at: Option<String>,
    pub acknowledgements: Vec<Acknowledgement>,
}

/// Body of `POST /api/v1/changes/{id}/notices` and `PUT /api/v1/notices/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    /// Team ids; at least one.
    pub audience: Vec<String>,
    #[serde(default)]
    pub planned_at: Option<String>,
    #[serde(default)]
    pub planned_stage: Option<RolloutState>,
    pub expected_changes: String,
    #[serde(default)]
    pub talking_points: String,
}

/// Body of `POST /api/v1/notices/{id}/acknowledgements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeBody {
    pub team_id: String,
}

/// Answer of `GET /api/v1/notices/unread`: the published notices to the user's teams that they
/// have not read or that one of their teams has still to acknowledge (read or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadNotices {
    pub count: usize,
    pub items: Vec<Notice>,
}

/// Checks a notice's text fields (the server checks team ids and the date).
pub fn validate_notice(input: &NoticeInput) -> Result<(), FieldError> {
    if input.audience.is_empty() {
        return Err(FieldError::new(
            "audience",
            "address the notice to at least one team",
        ));
    }
    if input.expected_changes.trim().is_empty() {
        return Err(FieldError::new(
            "expected_changes",
            "say in plain words what users may notice",
        ));
    }
    for (field, text) in [
        ("expected_changes", &input.expected_changes),
        ("talking_points", &input.talking_points),
    ] {
        if text.chars().count() > MAX_NOTICE_TEXT {
            return Err(FieldError::new(
                field,
                format!("keep this to {MAX_NOTICE_TEXT} characters"),
            ));
        }
    }
    Ok(())
}

/// `text` as plain text in a chat tool's message: `&`, `<` and `>` become `&amp;`, `&lt;` and
/// `&gt;`, the escaping Slack's mrkdwn asks for ("Escaping text", Slack API docs) and the
/// tools that copy its webhook format follow. Unescaped, a change title such as
/// `<!channel> <https://evil.example|Approve here>` would ping everyone and show a link that
/// seems to come from Rollgate; escaped, people see exactly what was typed.
pub fn chat_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn chat_text_escapes_mrkdwn_control_characters() {
        assert_eq!(
            super::chat_text("<!channel> <https://evil.example|Approve here> & more"),
            "&lt;!channel&gt; &lt;https://evil.example|Approve here&gt; &amp; more"
        );
        // Already-escaped text is escaped again: people see what was typed.
        assert_eq!(super::chat_text("&lt;"), "&amp;lt;");
        assert_eq!(
            super::chat_text("Plain *bold* ünïcode"),
            "Plain *bold* ünïcode"
        );
    }

    use super::*;

    #[test]
    fn times_in_messages_read_to_the_minute() {
        assert_eq!(
            minute_utc("2026-11-26T16:12:47.395276Z"),
            "2026-11-26 16:12 UTC"
        );
        assert_eq!(minute_utc("yesterday"), "yesterday");
        assert_eq!(
            hours_later("2026-12-31T20:05:00.000000Z", 24 * 59 + 5),
            "2027-03-01T01:05:00.000000Z"
        );
        assert_eq!(
            hours_later("2028-02-28T23:59:59Z", 1),
            "2028-02-29T00:59:59Z"
        );
        assert_eq!(
            hours_later("2026-11-26T16:12:47Z", 0),
            "2026-11-26T16:12:47Z"
        );
        assert_eq!(hours_later("soon", 3), "soon");
        assert_eq!(
            minute_utc("2026-11-26T16:12:47+01:00"),
            "2026-11-26T16:12:47+01:00"
        );
    }

    #[test]
    fn names_round_trip() {
        for k in [
            NoticeKind::Manual,
            NoticeKind::Rollback,
            NoticeKind::Full,
            NoticeKind::Skipped,
        ] {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
        }
        for s in [
            NoticeStatus::Draft,
            NoticeStatus::Published,
            NoticeStatus::Superseded,
        ] {
            assert_eq!(NoticeStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn notice_gates_follow_tier_lead_time_and_traffic() {
        use crate::change::RiskTier;
        let plan = crate::plan::PlanTemplate::Standard.plan();
        let canary = RolloutState::Canary;
        let fresh = SupportNotice {
            notice_id: "n".into(),
            published_at: "2026-12-01T09:00:00.000000Z".into(),
            age_hours: 2.0,
            acknowledged: false,
        };
        // Low risk: no notice rules.
        assert!(notice_gates(RiskTier::Low, 0, &plan, RolloutState::Eval, canary, None).is_empty());
        // Standard: none published, then too recent for 24 h, then fine with lead 0.
        let g = notice_gates(
            RiskTier::Standard,
            24,
            &plan,
            RolloutState::Eval,
            canary,
            None,
        );
        assert_eq!(
            g[0].message,
            "publish a notice to Support at least 24 h before the canary (none published)"
        );
        let g = notice_gates(
            RiskTier::Standard,
            24,
            &plan,
            RolloutState::Eval,
            canary,
            Some(&fresh),
        );
        assert!(!g[0].satisfied);
        assert!(
            g[0].message
                .ends_with("; canary possible from 2026-12-02 09:00 UTC, or lower the lead time"),
            "{}",
            g[0].message
        );
        let g = notice_gates(
            RiskTier::High,
            0,
            &plan,
            RolloutState::Eval,
            canary,
            Some(&fresh),
        );
        assert!(g[0].satisfied);
        // Inside the ramp, only steps above 25 % ask for the acknowledgement.
        let from = RolloutState::Canary;
        for (i, step) in plan.ramp.iter().enumerate() {
            let to = RolloutState::Ramp { step: i as u32 };
            let g = notice_gates(RiskTier::Standard, 24, &plan, from, to, Some(&fresh));
            assert_eq!(g.len(), usize::from(step.percent > 25.0), "step {i}");
            if let Some(g) = g.first() {
                assert_eq!(
                    g.message,
                    "Support has not acknowledged the notice of 2026-12-01 09:00 UTC"
                );
            }
        }
        let acked = SupportNotice {
            acknowledged: true,
            ..fresh
        };
        let g = notice_gates(
            RiskTier::Standard,
            24,
            &plan,
            from,
            RolloutState::Full,
            Some(&acked),
        );
        assert!(g[0].satisfied);
        // Nor does Full to Reviewed, which serves no one new.
        assert!(
            notice_gates(
                RiskTier::High,
                24,
                &plan,
                RolloutState::Full,
                RolloutState::Reviewed,
                None
            )
            .is_empty()
        );
        // Rolling back never waits.
        assert!(
            notice_gates(
                RiskTier::High,
                24,
                &plan,
                from,
                RolloutState::RolledBack,
                None
            )
            .is_empty()
        );
    }

    #[test]
    fn a_notice_needs_an_audience_and_text() {
        let mut n = NoticeInput {
            audience: vec!["t".into()],
            planned_at: None,
            planned_stage: None,
            expected_changes: "Shorter answers in Spanish".into(),
            talking_points: String::new(),
        };
        assert_eq!(validate_notice(&n), Ok(()));
        n.expected_changes = " ".into();
        assert_eq!(validate_notice(&n).unwrap_err().field, "expected_changes");
        n.audience.clear();
        assert_eq!(validate_notice(&n).unwrap_err().field, "audience");
    }
}

/// What a notice gate asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeRequirement {
    /// A notice to Support published at least `lead_hours` before the canary starts.
    PublishedBeforeCanary,
    /// Support acknowledged the current notice before the ramp passes 25 %.
    AcknowledgedBeforeWideRamp,
}

/// One notice requirement of a gate and whether it is met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeGate {
    pub requirement: NoticeRequirement,
    /// The team it concerns (Support).
    pub team: String,
    pub lead_hours: u32,
    /// The notice that counts, if one is published.
    pub notice_id: Option<String>,
    pub satisfied: bool,
    /// What is missing, or what was met, in a sentence.
    pub message: String,
}

/// The newest published manual notice to Support, as the server found it.
#[derive(Debug, Clone, PartialEq)]
pub struct SupportNotice {
    pub notice_id: String,
    pub published_at: String,
    /// Hours since it was published (the server has the clock).
    pub age_hours: f64,
    pub acknowledged: bool,
}

/// Traffic share above which Support must have acknowledged the notice.
pub const ACK_ABOVE_PERCENT: f64 = 25.0;

/// The notice requirements of entering `to` from `from` for a change of `tier`.
///
/// Standard and high risk only: low-risk changes are not announced by rule. Entering any
/// stage with traffic from before the canary (advance or skip) needs a notice to Support
/// published `lead_hours` earlier; widening traffic into a stage above [`ACK_ABOVE_PERCENT`]
/// needs Support's acknowledgement of the newest such notice (a revised notice asks again).
/// Full to Reviewed widens nothing and needs neither.
pub fn notice_gates(
    tier: crate::change::RiskTier,
    lead_hours: u32,
    plan: &crate::plan::RolloutPlan,
    from: RolloutState,
    to: RolloutState,
    support: Option<&SupportNotice>,
) -> Vec<NoticeGate> {
    use crate::change::RiskTier;
    let mut gates = Vec::new();
    if tier == RiskTier::Low || to == RolloutState::RolledBack {
        return gates;
    }
    let before_traffic = matches!(from, RolloutState::Draft | RolloutState::Eval);
    let enters_traffic = to.traffic_percent(plan) > 0.0;
    let team = crate::teams::SUPPORT_TEAM.to_owned();
    if before_traffic && enters_traffic {
        let (satisfied, message) = match support {
            None => (
                false,
                format!(
                    "publish a notice to {team} at least {lead_hours} h before the canary \
                     (none published)"
                ),
            ),
            Some(n) if n.age_hours + 1e-9 < f64::from(lead_hours) => (
                false,
                format!(
                    "publish a notice to {team} at least {lead_hours} h before the canary \
                     (the notice was published {:.1} h ago, at {}); canary possible from {}, \
                     or lower the lead time",
                    n.age_hours,
                    minute_utc(&n.published_at),
                    minute_utc(&hours_later(&n.published_at, lead_hours)),
                ),
            ),
            Some(n) => (
                true,
                format!(
                    "a notice to {team} was published at {}",
                    minute_utc(&n.published_at)
                ),
            ),
        };
        gates.push(NoticeGate {
            requirement: NoticeRequirement::PublishedBeforeCanary,
            team: team.clone(),
            lead_hours,
            notice_id: support.map(|n| n.notice_id.clone()),
            satisfied,
            message,
        });
    }
    // Only a move that widens exposure needs it: Full to Reviewed serves no one new.
    let widens = to.traffic_percent(plan) > from.traffic_percent(plan);
    if widens && to.traffic_percent(plan) > ACK_ABOVE_PERCENT {
        let (satisfied, message) = match support {
            None => (
                false,
                format!("{team} has not acknowledged a notice (none published)"),
            ),
            Some(n) if !n.acknowledged => (
                false,
                format!(
                    "{team} has not acknowledged the notice of {}",
                    minute_utc(&n.published_at)
                ),
            ),
            Some(n) => (
                true,
                format!(
                    "{team} acknowledged the notice of {}",
                    minute_utc(&n.published_at)
                ),
            ),
        };
        gates.push(NoticeGate {
            requirement: NoticeRequirement::AcknowledgedBeforeWideRamp,
            team,
            lead_hours,
            notice_id: support.map(|n| n.notice_id.clone()),
            satisfied,
            message,
        });
    }
    gates
}

/// `rfc3339` (UTC, `…Z`) moved `hours` later, in the same shape; anything else unchanged.
pub fn hours_later(rfc3339: &str, hours: u32) -> String {
    use crate::calendar::{civil_from_days, days_from_civil};
    let field = |r: std::ops::Range<usize>| rfc3339.get(r)?.parse::<i64>().ok();
    let (Some(y), Some(m), Some(d), Some(h)) =
        (field(0..4), field(5..7), field(8..10), field(11..13))
    else {
        return rfc3339.to_owned();
    };
    let (Ok(m), Ok(d)) = (u32::try_from(m), u32::try_from(d)) else {
        return rfc3339.to_owned();
    };
    if !rfc3339.ends_with('Z') || rfc3339.as_bytes().get(10) != Some(&b'T') {
        return rfc3339.to_owned();
    }
    let total = days_from_civil(y, m, d) * 24 + h + i64::from(hours);
    let (y, m, d) = civil_from_days(total.div_euclid(24));
    let h = total.rem_euclid(24);
    format!("{y:04}-{m:02}-{d:02}T{h:02}{}", &rfc3339[13..])
}

/// "2026-12-01 09:00 UTC" from a stored RFC 3339 UTC time, for messages people read; any
/// other text is returned as it is.
pub fn minute_utc(rfc3339: &str) -> String {
    let b = rfc3339.as_bytes();
    let shaped = b.len() >= 16 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':';
    if shaped && rfc3339.ends_with('Z') {
        format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..16])
    } else {
        rfc3339.to_owned()
    }
}

/// Where a webhook delivery stands.
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
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    Delivered,
    /// Gave up after the last attempt; an admin can resend.
    Failed,
}

impl DeliveryStatus {
    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// One webhook delivery to a team (`GET /api/v1/deliveries`): of a notice, of the guardian's
/// hold, or of a request for sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: String,
    /// The notice sent; `None` for a message that is no notice (a hold, a sign-off request).
    pub notice_id: Option<String>,
    pub team_id: String,
    pub team_name: String,
    pub url: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub delivered_at: Option<String>,
    pub created_at: String,
}

/// What the notice a transition publishes by itself says: a rollback, a skip, or the move to
/// 100 %. Written for the teams told (Support first), not for the engineers moving the rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomaticNotice {
    pub kind: NoticeKind,
    pub expected_changes: String,
    pub talking_points: String,
}

/// The automatic notice of moving the change titled `title` (what users may notice:
/// `expected`) from `from` to `to` by `action`, with the mover's `reason`; `None` for the
/// transitions nobody outside needs to hear about.
pub fn automatic_notice(
    title: &str,
    expected: &str,
    plan: &crate::plan::RolloutPlan,
    from: RolloutState,
    action: crate::rollout::TransitionAction,
    to: RolloutState,
    reason: Option<&str>,
) -> Option<AutomaticNotice> {
    use crate::rollout::TransitionAction;
    let from_label = from.label(plan);
    let to_label = to.label(plan);
    let because = reason.map(|r| format!("; reason: {r}")).unwrap_or_default();
    let expected = expected.trim();
    let (kind, expected_changes, talking_points) = match (action, to) {
        (TransitionAction::RollBack, _) => (
            NoticeKind::Rollback,
            format!("Rolled back: users get the previous behaviour again{because}."),
            format!(
                "\"{title}\" was rolled back from {from_label}. What users may have noticed \
                 ({expected}) no longer happens; nothing for them to do."
            ),
        ),
        (TransitionAction::Skip, _) => (
            NoticeKind::Skipped,
            format!(
                "Stage skipped: {from_label} → {to_label}; {}% of users now get the new \
                 behaviour: {expected}{because}.",
                to.traffic_percent(plan),
            ),
            format!("\"{title}\" moved faster than planned; expect more users to ask."),
        ),
        (TransitionAction::Advance, RolloutState::Full) => (
            NoticeKind::Full,
            format!("Live for everyone (100 %): {expected}"),
            format!("Every user now gets the new behaviour of \"{title}\"."),
        ),
        _ => return None,
    };
    Some(AutomaticNotice {
        kind,
        expected_changes,
        talking_points,
    })
}

#[cfg(test)]
mod automatic_tests {
    use super::*;
    use crate::plan::PlanTemplate;
    use crate::rollout::TransitionAction::{Advance, RollBack, Skip};

    #[test]
    fn transitions_worth_telling_get_a_notice() {
        let plan = PlanTemplate::Standard.plan();
        let say = |from, action, to, reason| {
            automatic_notice(
                "Tone",
                " friendlier replies ",
                &plan,
                from,
                action,
                to,
                reason,
            )
        };
        let back = say(
            RolloutState::Canary,
            RollBack,
            RolloutState::RolledBack,
            Some("cost"),
        )
        .expect("a rollback is told");
        assert_eq!(back.kind, NoticeKind::Rollback);
        assert_eq!(
            back.expected_changes,
            "Rolled back: users get the previous behaviour again; reason: cost."
        );
        assert!(
            back.talking_points
                .contains("(friendlier replies) no longer happens")
        );
        let full = say(
            RolloutState::Ramp { step: 0 },
            Advance,
            RolloutState::Full,
            None,
        )
        .expect("full is told");
        assert_eq!(full.kind, NoticeKind::Full);
        assert_eq!(
            full.expected_changes,
            "Live for everyone (100 %): friendlier replies"
        );
        let skip = say(
            RolloutState::Canary,
            Skip,
            RolloutState::Full,
            Some("urgent"),
        )
        .unwrap();
        assert_eq!(skip.kind, NoticeKind::Skipped);
        assert!(skip.expected_changes.starts_with("Stage skipped: "));
        assert!(
            skip.expected_changes
                .ends_with("friendlier replies; reason: urgent.")
        );
        assert_eq!(
            say(RolloutState::Draft, Advance, RolloutState::Eval, None),
            None
        );
    }
}
