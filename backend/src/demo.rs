//! The demo workspace (`rollgate serve --demo`): one account per role (see
//! [`accounts::demo_users`]) and five realistic AI changes at different points of their
//! rollouts, authored by the demo engineer, so the console has something to show on first
//! start.
//!
//! Seeding goes through the same validation, state machine and database functions as the API,
//! so the history rows are real transitions with actors and reasons, and a demo change behaves
//! exactly like one created by hand.

use serde_json::json;
use shared::api::NewChange;
use shared::assignment::FlagRules;
use shared::change::{AiChange, ChangeKind, RiskTier};
use shared::eval::EvalUpload;
use shared::plan::{Audience, AudienceKind, PlanTemplate, RampStep, RolloutPlan};
use shared::rollout::TransitionAction;
use shared::validate;
use sqlx::{AnyConnection, AnyPool};
use time::{Duration, OffsetDateTime};

use crate::accounts::{self, Passwords};
use crate::app::{Actor, rollout};
use crate::db::{self, audit::Who};
use crate::error::{Error, Result};
use shared::auth::User;

use TransitionAction::{Advance, RollBack};

/// Creates the demo accounts that are missing, then seeds the demo changes if the database
/// has none. Returns whether it seeded changes, so a second start (or a workspace someone has
/// used) is left alone.
///
/// All of it is one transaction: a failure (or a crash) midway leaves nothing, and the next
/// start seeds from scratch. Several instances may start together on one PostgreSQL database:
/// that transaction holds an advisory lock, so they take turns, and each checks for accounts
/// and changes only once it holds the lock; the second finds the workspace the first seeded
/// instead of inserting the same accounts again. On SQLite the transaction holds the write
/// lock (`BEGIN IMMEDIATE`), which serves the same end.
///
/// With `history`, four months of finished changes come first ([`seed_history`]).
pub async fn seed(pool: &AnyPool, passwords: &Passwords, history: bool) -> Result<bool> {
    let mut tx = match db::advisory_xact_lock(pool, db::DEMO_SEED_LOCK).await? {
        Some(locked) => locked,
        None => db::begin(pool).await?,
    };
    let seeded = seed_in(&mut tx, passwords, history).await?;
    tx.commit().await?;
    Ok(seeded)
}

async fn seed_in(conn: &mut AnyConnection, passwords: &Passwords, history: bool) -> Result<bool> {
    let users = accounts::seed_demo_users(&mut *conn, passwords).await?;
    seed_teams(&mut *conn, &users).await?;
    if db::changes::count(&mut *conn).await? > 0 {
        return Ok(false);
    }
    let by_email = |email: &str| {
        users
            .iter()
            .find(|u| u.email == email)
            .cloned()
            .ok_or_else(|| Error::internal(format!("demo user {email} missing")))
    };
    let erin = by_email("erin.engineer@demo.rollgate")?;
    let alex = by_email("alex.approver@demo.rollgate")?;
    let engineer = &erin;
    if history {
        seed_history(&mut *conn, engineer, &alex).await?;
    }
    let now = OffsetDateTime::now_utc();
    let ago = |hours: i64| now - Duration::hours(hours);

    // (b) A model upgrade on the slow, high-risk path, now at the second ramp step (25 %).
    // Its stages reach every audience: the simulated app (`demo_traffic`) asks OFREP which
    // users get the candidate, and the comparison needs them in every segment.
    let mut plan = PlanTemplate::ModelUpgrade.plan();
    plan.audiences.clear();
    for item in plan.checklist.iter_mut().take(5) {
        item.done = true;
    }
    let change = create(
        &mut *conn,
        engineer,
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
            owner: engineer.email.clone(),
            product_area: Some("Support assistant".into()),
            template: None,
            plan: Some(plan),
            flag_key: None,
        },
        ago(24 * 9),
    )
    .await?;
    seed_eval(
        &mut *conn,
        &change,
        EvalRun {
            pass_rate: 0.962,
            cases: 1_200,
            failures: &[
                ("format", 29),
                ("tone", 16),
                ("safety", 0),
                ("pii", 0),
                ("refusal", 0),
            ],
            cost_usd: 21.40,
            p50: 880.0,
            p95: 1_870.0,
        },
        ago(24 * 7 + 3),
    )
    .await?;
    walk(
        &mut *conn,
        change,
        &[
            (Advance, engineer, Some("Checklist items 1–3 done: eval bench 96.2 % (gate 95 %), no new safety, PII or refusal failures."), ago(24 * 8)),
            (Advance, engineer, Some("Eval gate passed; starting the 1 % canary."), ago(24 * 7)),
            (Advance, engineer, Some("Canary ran 26 h: quality +0.4 pp, cost −11 %, p95 1.9 s, hard errors flat. Segments look alike."), ago(24 * 5)),
            (Advance, engineer, Some("10 % step held 14 h with 31k requests; every criterion passes."), ago(20)),
        ],
    )
    .await?;

    // (c) A tool change rolled back from canary when hard errors rose.
    let change = create(
        &mut *conn,
        engineer,
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
            owner: engineer.email.clone(),
            product_area: Some("Returns".into()),
            template: Some(PlanTemplate::Standard),
            plan: None,
            flag_key: None,
        },
        ago(24 * 6),
    )
    .await?;
    seed_eval(
        &mut *conn,
        &change,
        EvalRun {
            pass_rate: 0.928,
            cases: 640,
            failures: &[
                ("tool_error", 31),
                ("format", 15),
                ("safety", 0),
                ("pii", 0),
            ],
            cost_usd: 6.10,
            p50: 1_420.0,
            p95: 2_950.0,
        },
        ago(24 * 3 + 4),
    )
    .await?;
    walk(
        &mut *conn,
        change,
        &[
            (
                Advance,
                engineer,
                Some("Eval bench run requested for returns-v9 with the new tool."),
                ago(24 * 5),
            ),
            (
                Advance,
                engineer,
                Some("Eval bench 92.8 % (gate 90 %); no new safety or PII failures."),
                ago(24 * 3),
            ),
            (
                RollBack,
                &alex,
                Some("hard_error_rate +1.8 pp in canary (timeouts from order service)"),
                ago(24 * 2 + 6),
            ),
        ],
    )
    .await?;

    // (a) A prompt change in canary at 5 %.
    let change = create(
        &mut *conn,
        engineer,
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
            owner: engineer.email.clone(),
            product_area: Some("Billing chat".into()),
            template: None,
            // Every segment in the canary (see (b)): its regression hides in `free / es`.
            plan: Some(RolloutPlan {
                audiences: Vec::new(),
                ..PlanTemplate::Standard.plan()
            }),
            flag_key: None,
        },
        ago(24 * 3),
    )
    .await?;
    seed_eval(
        &mut *conn,
        &change,
        EvalRun {
            pass_rate: 0.941,
            cases: 480,
            failures: &[
                ("format", 17),
                ("missing_link", 11),
                ("safety", 0),
                ("pii", 0),
            ],
            cost_usd: 2.35,
            p50: 610.0,
            p95: 1_240.0,
        },
        ago(10),
    )
    .await?;
    walk(
        &mut *conn,
        change,
        &[
            (Advance, engineer, None, ago(24 * 2)),
            (
                Advance,
                engineer,
                Some("Eval bench 94.1 % (gate 90 %); answers 38 % shorter on the billing set."),
                ago(9),
            ),
        ],
    )
    .await?;

    // (e) A long-running A/B test: a warmer onboarding tone, whose effect on retention is too
    // subtle for a canary, held at 50 % for 14 days. It has run them and waits for its
    // decision (keep, revert or iterate) on the comparison page.
    let mut plan = PlanTemplate::Standard.plan();
    plan.audiences.clear();
    plan.ramp = vec![
        RampStep {
            percent: 10.0,
            min_duration_hours: 4.0,
            min_samples: 5_000,
            max_hours: Some(48.0),
            ab_test: false,
        },
        RampStep {
            percent: 50.0,
            min_duration_hours: 14.0 * 24.0,
            min_samples: 50_000,
            max_hours: None,
            ab_test: true,
        },
        RampStep {
            percent: 100.0,
            min_duration_hours: 4.0,
            min_samples: 5_000,
            max_hours: Some(48.0),
            ab_test: false,
        },
    ];
    let change = create(
        &mut *conn,
        engineer,
        NewChange {
            title: "Warmer tone in onboarding answers (A/B test)".into(),
            kind: ChangeKind::Prompt,
            risk: RiskTier::Standard,
            baseline: json!({ "prompt_version": "onboarding-v6", "tone": "neutral" }),
            candidate: json!({ "prompt_version": "onboarding-v7", "tone": "warm" }),
            expected_changes: "New users finish the setup checklist a little more often; cost \
                               and latency unchanged. Too subtle for a canary: an A/B test \
                               at 50 % for two weeks decides."
                .into(),
            owner: engineer.email.clone(),
            product_area: Some("Onboarding".into()),
            template: None,
            plan: Some(plan),
            flag_key: None,
        },
        ago(24 * 20),
    )
    .await?;
    let change = walk(
        &mut *conn,
        change,
        &[(Advance, engineer, None, ago(24 * 19 + 6))],
    )
    .await?;
    seed_eval(
        &mut *conn,
        &change,
        EvalRun {
            pass_rate: 0.955,
            cases: 360,
            failures: &[("format", 12), ("tone", 4), ("safety", 0), ("pii", 0)],
            cost_usd: 1.80,
            p50: 640.0,
            p95: 1_310.0,
        },
        ago(24 * 19 + 3),
    )
    .await?;
    walk(
        &mut *conn,
        change,
        &[
            (
                Advance,
                engineer,
                Some("Eval bench 95.5 % (gate 90 %); tone failures down from 9 to 4."),
                ago(24 * 19),
            ),
            (Advance, engineer, None, ago(24 * 17)),
            (
                Advance,
                engineer,
                Some(
                    "10 % held a day with every criterion passing: starting the two-week A/B test.",
                ),
                ago(24 * 16),
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
        &mut *conn,
        engineer,
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
            owner: engineer.email.clone(),
            product_area: Some("Support assistant".into()),
            template: None,
            plan: Some(plan),
            flag_key: None,
        },
        ago(2),
    )
    .await?;
    Ok(true)
}

/// How a finished change of the demo's history ended.
#[derive(Clone, Copy)]
enum Ending {
    /// Reached Full; `skip` jumps over the first ramp step (with a justification).
    Shipped { skip: bool },
    /// People rolled it back from the ramp step `at_step` (0 is the canary).
    RolledBack { at_step: usize },
    /// The guardian held it on a breach; people rolled it back `after_hours` later.
    HeldThenRolledBack { after_hours: i64 },
    /// The guardian rolled it back from the canary on its own.
    RolledBackByGuardian,
}

/// Four months of finished changes before the five in flight, one every five days, so
/// the delivery figures (`/figures`) have weeks to count: most shipped, some rolled back by
/// people or by the guardian, one held first, two with a ramp step skipped, and one a second
/// try of a rolled-back change on the same flag. Seeded with
/// `--demo-history`; the moves go through the same state machine as the five in flight.
async fn seed_history(conn: &mut AnyConnection, engineer: &User, approver: &User) -> Result<()> {
    use Ending::*;
    const AREAS: [&str; 5] = [
        "Support assistant",
        "Billing chat",
        "Returns",
        "Search",
        "Onboarding",
    ];
    const SUBJECTS: [&str; 24] = [
        "Greeting that names the plan",
        "Refund policy answers cite the policy page",
        "Return label flow in one turn",
        "Search summaries under 80 words",
        "Onboarding checklist suggestions",
        "Escalation wording for angry customers",
        "Invoice questions routed to the billing model",
        "Return label flow in one turn (second try)",
        "Query rewriting before knowledge-base search",
        "Welcome tour answers in the user's language",
        "Handoff to an agent after two failed answers",
        "Tax questions answer with the invoice's country",
        "Exchange instead of refund when stock allows",
        "Spelling-tolerant product search",
        "Shorter first-week tips",
        "Safety filter on order notes",
        "Dunning e-mails drafted by the assistant",
        "Photos of damaged items read by the vision model",
        "Search answers quote the product page",
        "Onboarding assistant on the cheaper model",
        "Troubleshooting steps as a numbered list",
        "Payment-failure explanations name the card",
        "Return window computed from the delivery date",
        "Related-article links under search answers",
    ];
    // The third change is rolled back; the eighth tries it again on the same flag.
    const FIRST_TRY: usize = 2;
    const RETRY: usize = 7;
    let mut first_try: Option<AiChange> = None;
    let now = OffsetDateTime::now_utc();
    for (i, subject) in SUBJECTS.iter().enumerate() {
        let kind = [
            ChangeKind::Prompt,
            ChangeKind::Prompt,
            ChangeKind::Tool,
            ChangeKind::Model,
            ChangeKind::Routing,
        ][i % 5];
        let risk = [
            RiskTier::Standard,
            RiskTier::Low,
            RiskTier::Standard,
            RiskTier::High,
        ][i % 4];
        let template = match risk {
            RiskTier::Low => PlanTemplate::LowStakes,
            RiskTier::Standard => PlanTemplate::Standard,
            RiskTier::High => PlanTemplate::ModelUpgrade,
        };
        let ending = match i % 8 {
            2 => RolledBack { at_step: 1 },
            5 => RolledBackByGuardian,
            6 if i < 8 => HeldThenRolledBack { after_hours: 3 },
            3 | 7 if i >= 16 => Shipped { skip: true },
            _ => Shipped { skip: false },
        };
        // 130 days ago for the first, then every five days (at varying hours), the last 15
        // days ago: every move is over by now.
        let start =
            now - Duration::days(130) + Duration::hours(i as i64 * 120 + (i as i64 % 3) * 7);
        let at = |hours: i64| start + Duration::hours(hours);
        let version = 20 + i;
        // The seventh is a second try of the third, rolled back: the next version of its flag,
        // starting from the baseline the flag went back to.
        let (title, area, baseline, flag_key) = match (i, &first_try) {
            (RETRY, Some(first)) => (
                (*subject).to_owned(),
                first.product_area.clone(),
                json!({}),
                Some(first.flag_key.clone()),
            ),
            _ => (
                (*subject).to_owned(),
                Some(AREAS[i % AREAS.len()].to_owned()),
                json!({ "prompt_version": format!("v{version}") }),
                None,
            ),
        };
        let change = create(
            &mut *conn,
            engineer,
            NewChange {
                expected_changes: format!("{title}: better answers at the same cost."),
                title,
                kind,
                risk,
                baseline,
                candidate: json!({ "prompt_version": format!("v{}", version + 1) }),
                owner: engineer.email.clone(),
                product_area: area,
                template: None,
                plan: Some(RolloutPlan {
                    audiences: Vec::new(),
                    ..template.plan()
                }),
                flag_key,
            },
            at(0),
        )
        .await?;
        if i == FIRST_TRY {
            first_try = Some(change.clone());
        }
        // The last keeps 5 % on the old version for five days after Full, to see the change in
        // the long run: the comparison page's holdout.
        let change = if i == SUBJECTS.len() - 1 {
            let rules = FlagRules {
                holdout_percent: 5.0,
                holdout_days: 5,
                ..FlagRules::default()
            };
            if !db::changes::set_flag_rules(
                &mut *conn,
                &change.id,
                change.revision,
                &rules,
                &db::timestamp(at(1)),
            )
            .await?
            {
                return Err(Error::internal("demo history: the holdout's rules"));
            }
            AiChange {
                revision: change.revision + 1,
                flag_rules: rules,
                ..change
            }
        } else {
            change
        };
        seed_eval(
            &mut *conn,
            &change,
            EvalRun {
                pass_rate: 0.97,
                cases: 400 + 40 * i as u64,
                failures: &[("format", 9), ("safety", 0), ("pii", 0), ("refusal", 0)],
                cost_usd: 3.0 + i as f64 * 0.25,
                p50: 700.0,
                p95: 1_500.0,
            },
            at(20),
        )
        .await?;
        let mut change = walk(
            &mut *conn,
            change,
            &[
                (Advance, engineer, None, at(2)),
                (
                    Advance,
                    engineer,
                    Some("Eval bench passed its gate."),
                    at(22),
                ),
            ],
        )
        .await?;
        // Most of a day per stage, longer for higher risk, and not the same for any two
        // changes in a row.
        let per_step = 14 + 6 * (risk as i64) + (i as i64 * 5) % 13;
        let mut hours = 22 + per_step;
        let mut stage = 0;
        loop {
            // Who moves next (`None` for the guardian), how, and why.
            let next: Option<(TransitionAction, Option<&User>, &str)> = match ending {
                RolledBack { at_step } if stage == at_step => Some((
                    RollBack,
                    Some(approver),
                    "Complaints about truncated answers rose in the ramp.",
                )),
                RolledBackByGuardian if stage == 0 => Some((
                    RollBack,
                    None,
                    "hard_error_rate breached its margin (sequential test).",
                )),
                HeldThenRolledBack { after_hours } if stage == 0 => {
                    change = step(
                        &mut *conn,
                        &change,
                        &Actor::guardian(),
                        TransitionAction::Pause,
                        Some("cost_per_request breached its margin (sequential test)."),
                        at(hours),
                    )
                    .await?;
                    hours += after_hours;
                    Some((
                        RollBack,
                        Some(approver),
                        "Confirmed the cost rise; rolling back.",
                    ))
                }
                Shipped { skip: true } if stage == 1 => Some((
                    TransitionAction::Skip,
                    Some(engineer),
                    "The same prompt already ran at this share last month.",
                )),
                _ => None,
            };
            let (action, who, reason) = match next {
                Some((action, who, reason)) => (action, who, Some(reason)),
                None => (Advance, Some(engineer), None),
            };
            let actor = match who {
                Some(user) => Actor::new(user.clone(), None),
                None => Actor::guardian(),
            };
            change = step(&mut *conn, &change, &actor, action, reason, at(hours)).await?;
            if change.state.is_terminal() || change.state == shared::rollout::RolloutState::Full {
                break;
            }
            hours += per_step;
            stage += 1;
        }
    }
    Ok(())
}

async fn create(
    conn: &mut AnyConnection,
    author: &User,
    mut new: NewChange,
    at: OffsetDateTime,
) -> Result<AiChange> {
    validate::new_change(&new)?;
    crate::app::changes::next_version(&mut *conn, &mut new).await?;
    let at = db::timestamp(at);
    Ok(db::changes::create_recorded(conn, &new, &who(author), &at).await?)
}

fn who(user: &User) -> Who {
    Who {
        id: Some(user.id.clone()),
        label: user.email.clone(),
        address: None,
    }
}

/// An eval bench run as the demo's CI pipeline uploads it.
struct EvalRun {
    pass_rate: f64,
    cases: u64,
    failures: &'static [(&'static str, u64)],
    cost_usd: f64,
    p50: f64,
    p95: f64,
}

/// Stores the eval run the CI pipeline uploaded for `change` at `at`, while it was in eval:
/// the evidence its canary gate read (`app::gates`).
async fn seed_eval(
    conn: &mut AnyConnection,
    change: &AiChange,
    run: EvalRun,
    at: OffsetDateTime,
) -> Result<()> {
    let upload = EvalUpload {
        pass_rate: run.pass_rate,
        cases: run.cases,
        failures: run
            .failures
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
        cost_usd: Some(run.cost_usd),
        latency_ms_p50: Some(run.p50),
        latency_ms_p95: Some(run.p95),
        run_url: Some(format!(
            "https://ci.example.com/eval-bench/runs/{}",
            &change.id[..8]
        )),
    };
    upload.validate()?;
    if !shared::eval::meets(&upload, &change.plan.eval_gate).is_empty() {
        return Err(Error::internal(format!(
            "the demo's eval run for {} does not meet its gate",
            change.title
        )));
    }
    db::eval_results::insert_seeded(
        conn,
        &change.id,
        change.revision,
        &upload,
        "token:ci-pipeline",
        &db::timestamp(at),
    )
    .await?;
    Ok(())
}

/// Applies transitions in order, as the API would.
async fn walk(
    conn: &mut AnyConnection,
    mut change: AiChange,
    steps: &[(TransitionAction, &User, Option<&str>, OffsetDateTime)],
) -> Result<AiChange> {
    for &(action, actor, reason, at) in steps {
        let actor = Actor::new(actor.clone(), None);
        change = step(&mut *conn, &change, &actor, action, reason, at).await?;
    }
    Ok(change)
}

/// One move of the demo at `at`, by a person or the guardian, through the state machine.
async fn step(
    conn: &mut AnyConnection,
    change: &AiChange,
    actor: &Actor,
    action: TransitionAction,
    reason: Option<&str>,
    at: OffsetDateTime,
) -> Result<AiChange> {
    rollout::apply_in(conn, actor, change, action, reason, &db::timestamp(at))
        .await
        .map_err(|e| {
            Error::internal(format!(
                "demo step {} from {}: {e}",
                action.as_str(),
                change.state.name()
            ))
        })
}

/// The demo's teams: Sam in Support, Pat in Marketing, and a downstream "Billing platform"
/// team with Erin. Only once: a workspace that already has the downstream team is left alone.
async fn seed_teams(conn: &mut AnyConnection, users: &[shared::auth::User]) -> Result<()> {
    if db::teams::id_by_name(&mut *conn, "Billing platform")
        .await?
        .is_some()
    {
        return Ok(());
    }
    let at = db::now();
    let secret = db::teams::new_secret(shared::teams::WEBHOOK_SECRET_PREFIX)?;
    let billing = db::teams::create(&mut *conn, "Billing platform", None, &secret, &at).await?;
    let id_of = |email: &str| {
        users
            .iter()
            .find(|u| u.email == email)
            .map(|u| u.id.clone())
    };
    for (team, email) in [
        (shared::teams::SUPPORT_TEAM, "sam.support@demo.rollgate"),
        ("Marketing", "pat.pm@demo.rollgate"),
    ] {
        if let (Some(team), Some(user)) =
            (db::teams::id_by_name(&mut *conn, team).await?, id_of(email))
        {
            db::teams::set_members(&mut *conn, &team, &[user]).await?;
        }
    }
    if let Some(erin) = id_of("erin.engineer@demo.rollgate") {
        db::teams::set_members(&mut *conn, &billing, &[erin]).await?;
    }
    Ok(())
}
