//! Benchmarks of assignment (target: `evaluate` ≤ 1 µs per flag).
//!
//! * `bucket`: the SHA-256 bucket of one 36-character key.
//! * `evaluate/ramp_audiences`: the standard plan at ramp 10 % (three audiences to match), a
//!   context with five attributes, declared rules, a segment cap and a holdout; the key is
//!   in the candidate, so audiences, holdout and segment are all worked out.
//! * `evaluate/full`: the same flag in full, the cheapest live path.
//!
//! `cargo bench -p rollgate-shared --bench assignment -- --warm-up-time 1 --measurement-time 3`

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use shared::assignment::{
    AudienceRule, Condition, EvaluationContext, Flag, FlagRules, bucket, evaluate,
};
use shared::metrics::Variant;
use shared::plan::PlanTemplate;
use shared::rollout::RolloutState;

/// Bucket 621 in the benched flag: inside ramp 10 %, so every step runs (the slowest path).
const KEY: &str = "3f2504e0-4f89-11d3-9a0c-00000000000a";

fn rules() -> FlagRules {
    FlagRules {
        audiences: vec![AudienceRule {
            audience: "paid".into(),
            any_of: vec![Condition::OneOf {
                attribute: "plan".into(),
                values: vec!["pro".into(), "enterprise".into()],
            }],
        }],
        internal_email_domains: vec!["example.com".into()],
        segment_attributes: vec!["plan".into(), "locale".into()],
        segment_max_percent: BTreeMap::from([("free / es".into(), 10.0)]),
        holdout_percent: 5.0,
        holdout_days: 0,
    }
}

fn benches(c: &mut Criterion) {
    let plan = PlanTemplate::Standard.plan();
    let rules = rules();
    // Not internal, not a power user: every reached audience is tried before the split.
    let ctx = EvaluationContext::new(KEY)
        .with("email", "ana@customer.example")
        .with("power_user", false)
        .with("cohort", "paid")
        .with("plan", "enterprise")
        .with("locale", "es");

    c.bench_function("bucket", |b| {
        b.iter(|| bucket(black_box("billing-prompt-v2"), black_box(KEY)))
    });
    for (name, state) in [
        ("evaluate/ramp_audiences", RolloutState::Ramp { step: 1 }),
        ("evaluate/full", RolloutState::Full),
    ] {
        let flag = Flag {
            key: "billing-prompt-v2",
            plan: &plan,
            rules: &rules,
            state,
            paused_at_percent: None,
        };
        let served = evaluate(&flag, &ctx);
        assert_eq!(
            served.variant,
            Variant::Candidate,
            "{name} must bench the slowest path"
        );
        c.bench_function(name, |b| {
            b.iter(|| evaluate(black_box(&flag), black_box(&ctx)))
        });
    }
}

criterion_group!(assignment, benches);
criterion_main!(assignment);
