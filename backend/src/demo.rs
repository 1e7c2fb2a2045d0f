//! The demo workspace (`rollgate serve --demo`): four realistic AI changes at different points
//! of their rollouts, so the console has something to show on first start.
//!
//! Seeding goes through the same validation, state machine and database functions as the API,
//! so the history rows are real transitions with actors and reasons, and a demo change behaves
//! exactly like one created by hand.

use serde_json::json;
use shared::api::NewChange;
use shared::change::{AiChange, ChangeKind, RiskTier};
use shared::plan::{Audience, AudienceKind, PlanTemplate, RolloutPlan};
use shared::rollout::{self, TransitionAction};
use shared::validate;
use sqlx::AnyPool;
use time::{Duration, OffsetDateTime};

use crate::db::{self, transitions::NewTransition};
use crate::error::{Error, Result};

use TransitionAction::{Advance, RollBack};

/// Seeds the demo changes if the database has none. Returns whether it seeded, so a second
/// start (or a workspace someone has used) is left alone.
pub async fn seed(pool: &AnyPool) -> Result<bool> {
    if db::changes::count(pool).await? > 0 {
        return Ok(false);
    }
    let now = OffsetDateTime::now_utc();
    let ago = |hours: i64| now - Duration::hours(hours);

    // (b) A model upgrade on the slow, high-risk path, now at the second ramp step (25 %).
    let mut plan = PlanTemplate::ModelUpgrade.plan();
    for item in plan.checklist.iter_mut().take(5) {
        item.done = true;
    }
    let change = create(
        pool,
        NewChange {
            title: "Upgrade support assistant to a newer model".into(),
            kind: ChangeKind::Model,
            risk: RiskTier::High,
            baseline: json!({
                "model": "gpt-4o-2024-08-06",
                "temperature": 0.2,
                "max_output_tokens": 800,
                "prompt_version": "support-v31",
                "tools": ["kb_search", "order_status", "handoff_to_agent"]
            }),
            candidate: json!({
                "model": "gpt-4.1-2025-04-14",
                "temperature": 0.2,
                "max_output_tokens": 800,
                "prompt_version": "support-v31",
                "tools": ["kb_search", "order_status", "handoff_to_agent"]
            }),
            expected_changes: "More specific answers on multi-step troubleshooting and fewer \
                               needless refusals on account questions. Cost per request should \
                               drop about 10 %; p95 latency should stay under 2.5 s."
                .into(),
            owner: "sam.okafor@example.com".into(),
            template: None,
            plan: Some(plan),
        },
        ago(24 * 9),
    )
    .await?;
    walk(
        pool,
        change,
        &[
            (Advance, "sam.okafor@example.com", Some("Checklist items 1–3 done: eval bench 96.2 % (gate 95 %), no new safety, PII or refusal failures."), ago(24 * 8)),
            (Advance, "sam.okafor@example.com", Some("Eval gate passed; starting the 1 % canary on staff traffic."), ago(24 * 7)),
            (Advance, "dana.kim@example.com", Some("Canary ran 26 h: quality +0.4 pp, cost −11 %, p95 1.9 s, hard errors flat. Segments look alike."), ago(24 * 5)),
            (Advance, "dana.kim@example.com", Some("10 % step held 14 h with 31k requests; every criterion passes."), ago(20)),
        ],
    )
    .await?;

    // (c) A tool change rolled back from canary when hard errors rose.
    let change = create(
        pool,
        NewChange {
            title: "Add order-lookup tool to the returns flow".into(),
            kind: ChangeKind::Tool,
            risk: RiskTier::Standard,
            baseline: json!({
                "flow": "returns",
                "prompt_version": "returns-v8",
                "tools": ["kb_search", "create_return_label"]
            }),
            candidate: json!({
                "flow": "returns",
                "prompt_version": "returns-v9",
                "tools": ["kb_search", "create_return_label", "order_lookup"],
                "tool_config": {
                    "order_lookup": { "endpoint": "orders-api/v2/lookup", "timeout_ms": 3000 }
                }
            }),
            expected_changes: "The assistant looks up the order itself instead of asking for \
                               the order number, date and items, so returns take one or two \
                               turns fewer."
                .into(),
            owner: "lee.martin@example.com".into(),
            template: Some(PlanTemplate::Standard),
            plan: None,
        },
        ago(24 * 6),
    )
    .await?;
    walk(
        pool,
        change,
        &[
            (
                Advance,
                "lee.martin@example.com",
                Some("Eval bench run requested for returns-v9 with the new tool."),
                ago(24 * 5),
            ),
            (
                Advance,
                "lee.martin@example.com",
                Some("Eval bench 92.8 % (gate 90 %); no new safety or PII failures."),
                ago(24 * 3),
            ),
            (
                RollBack,
                "priya.raman@example.com",
                Some("hard_error_rate +1.8 pp in canary (timeouts from order service)"),
                ago(24 * 2 + 6),
            ),
        ],
    )
    .await?;

    // (a) A prompt change in canary at 5 %.
    let change = create(
        pool,
        NewChange {
            title: "Shorter billing answers (prompt billing-v13)".into(),
            kind: ChangeKind::Prompt,
            risk: RiskTier::Standard,
            baseline: json!({
                "prompt_version": "billing-v12",
                "model": "gpt-4o-mini-2024-07-18",
                "temperature": 0.3,
                "max_output_tokens": 600
            }),
            candidate: json!({
                "prompt_version": "billing-v13",
                "model": "gpt-4o-mini-2024-07-18",
                "temperature": 0.3,
                "max_output_tokens": 350
            }),
            expected_changes: "Billing answers get about 40 % shorter: the answer comes first and \
                               the recap paragraph is gone. Invoice and refund links are \
                               unchanged."
                .into(),
            owner: "ana.lopez@example.com".into(),
            template: Some(PlanTemplate::Standard),
            plan: None,
        },
        ago(24 * 3),
    )
    .await?;
    walk(
        pool,
        change,
        &[
            (Advance, "ana.lopez@example.com", None, ago(24 * 2)),
            (
                Advance,
                "ana.lopez@example.com",
                Some("Eval bench 94.1 % (gate 90 %); answers 38 % shorter on the billing set."),
                ago(9),
            ),
        ],
    )
    .await?;

    // (d) A routing change still being drafted.
    let mut plan: RolloutPlan = PlanTemplate::Standard.plan();
    plan.audiences = vec![
        Audience {
            kind: AudienceKind::Internal,
            name: "staff / es".into(),
        },
        Audience {
            kind: AudienceKind::Cohort,
            name: "free / es".into(),
        },
        Audience {
            kind: AudienceKind::Cohort,
            name: "paid / es".into(),
        },
    ];
    create(
        pool,
        NewChange {
            title: "Route Spanish conversations to the multilingual model".into(),
            kind: ChangeKind::Routing,
            risk: RiskTier::Standard,
            baseline: json!({
                "router": "language-v2",
                "routes": [{ "language": "*", "model": "gpt-4o-2024-08-06" }]
            }),
            candidate: json!({
                "router": "language-v3",
                "routes": [
                    { "language": "es", "model": "multilingual-large-2025-01", "min_confidence": 0.8 },
                    { "language": "*", "model": "gpt-4o-2024-08-06" }
                ]
            }),
            expected_changes: "Spanish-speaking users get answers written in Spanish from the \
                               start instead of translated English; other languages are \
                               unchanged."
                .into(),
            owner: "marta.ruiz@example.com".into(),
            template: None,
            plan: Some(plan),
        },
        ago(2),
    )
    .await?;
    Ok(true)
}

async fn create(pool: &AnyPool, new: NewChange, at: OffsetDateTime) -> Result<AiChange> {
    validate::new_change(&new)?;
    db::changes::create(pool, &new, &db::timestamp(at)).await
}

/// Applies transitions in order, as the API would.
async fn walk(
    pool: &AnyPool,
    mut change: AiChange,
    steps: &[(TransitionAction, &str, Option<&str>, OffsetDateTime)],
) -> Result<AiChange> {
    for &(action, actor, reason, at) in steps {
        let to = rollout::transition(&change.plan, change.state, action, reason).map_err(|e| {
            Error::internal(format!(
                "demo step {} from {}: {e}",
                action.as_str(),
                change.state.name()
            ))
        })?;
        let at = db::timestamp(at);
        change = db::transitions::record(
            pool,
            &change,
            change.revision,
            &NewTransition {
                action,
                to,
                actor,
                reason,
                at: &at,
            },
        )
        .await?;
    }
    Ok(change)
}
