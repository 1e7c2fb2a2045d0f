//! Properties of assignment that must hold for every key: the published bucket vectors,
//! monotone ramps, stickiness, and candidate shares on target overall and per segment.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::Deserialize;
use shared::assignment::{
    Assignment, EvaluationContext, Flag, FlagRules, Reason, bucket, evaluate, segment_of,
};
use shared::metrics::Variant;
use shared::plan::{PlanTemplate, RolloutPlan};
use shared::rollout::{RolloutState, stages};
use shared::synthetic::SplitMix64;

const FLAG: &str = "billing-prompt-v2";

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    flag_key: String,
    targeting_key: String,
    bucket: u16,
}

#[test]
fn buckets_match_the_published_vectors() {
    let file: Vectors = serde_json::from_str(include_str!("assignment_vectors.json")).unwrap();
    assert!(file.vectors.len() >= 20);
    for v in &file.vectors {
        assert_eq!(
            bucket(&v.flag_key, &v.targeting_key),
            v.bucket,
            "{:?} / {:?}",
            v.flag_key,
            v.targeting_key
        );
    }
}

/// A plan without audiences, so that percentages alone decide.
fn open_plan() -> RolloutPlan {
    RolloutPlan {
        audiences: Vec::new(),
        ..PlanTemplate::Standard.plan()
    }
}

/// The flag held at `percent` %, as a paused canary holds it.
fn at_percent<'a>(plan: &'a RolloutPlan, rules: &'a FlagRules, percent: f64) -> Flag<'a> {
    Flag {
        key: FLAG,
        plan,
        rules,
        state: RolloutState::Canary,
        paused_at_percent: Some(percent),
    }
}

fn in_candidate(a: Assignment) -> bool {
    a.variant == Variant::Candidate
}

/// Contexts with a random key and a random subset of the attributes audiences and segments
/// read.
fn context() -> impl Strategy<Value = EvaluationContext> {
    (
        ".{1,40}",
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop_oneof![Just("paid"), Just("free"), Just("trial")]),
        prop::option::of(prop_oneof![Just("en"), Just("es")]),
    )
        .prop_map(|(key, internal, power, cohort, locale)| {
            let mut ctx = EvaluationContext::new(key)
                .with("internal", internal)
                .with("power_user", power);
            if let Some(c) = cohort {
                ctx = ctx.with("cohort", c).with("plan", c);
            }
            if let Some(l) = locale {
                ctx = ctx.with("locale", l);
            }
            ctx
        })
}

fn stratified_rules() -> FlagRules {
    FlagRules {
        segment_attributes: vec!["plan".into(), "locale".into()],
        segment_max_percent: BTreeMap::from([("free / es".into(), 10.0), ("paid".into(), 0.0)]),
        holdout_percent: 5.0,
        ..FlagRules::default()
    }
}

proptest! {
    #[test]
    fn a_higher_percentage_keeps_everyone_in(
        key in ".{0,60}",
        p in 0.0f64..=100.0,
        dp in 0.0f64..=100.0,
    ) {
        let (plan, rules) = (open_plan(), FlagRules::default());
        let ctx = EvaluationContext::new(key);
        let higher = (p + dp).min(100.0);
        if in_candidate(evaluate(&at_percent(&plan, &rules, p), &ctx)) {
            prop_assert!(in_candidate(evaluate(&at_percent(&plan, &rules, higher), &ctx)));
        }
    }

    #[test]
    fn later_stages_keep_everyone_in(ctx in context(), stratified in any::<bool>()) {
        let plan = PlanTemplate::Standard.plan();
        let rules = if stratified { stratified_rules() } else { FlagRules::default() };
        let mut was_in = false;
        for state in stages(&plan) {
            let flag = Flag { key: FLAG, plan: &plan, rules: &rules, state, paused_at_percent: None };
            let now_in = in_candidate(evaluate(&flag, &ctx));
            prop_assert!(now_in || !was_in, "left the candidate at {state:?}");
            was_in = now_in;
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_answer(ctx in context(), step in 0u32..5) {
        let plan = PlanTemplate::Standard.plan();
        let rules = stratified_rules();
        let flag = Flag {
            key: FLAG,
            plan: &plan,
            rules: &rules,
            state: RolloutState::Ramp { step },
            paused_at_percent: None,
        };
        let first = evaluate(&flag, &ctx);
        prop_assert_eq!(first, evaluate(&flag, &ctx));
        // Another instance: the rules and the context arrive as JSON and are rebuilt.
        let rules2: FlagRules = serde_json::from_str(&serde_json::to_string(&rules).unwrap()).unwrap();
        let ctx2: EvaluationContext = serde_json::from_str(&serde_json::to_string(&ctx).unwrap()).unwrap();
        let plan2 = plan.clone();
        let flag2 = Flag { plan: &plan2, rules: &rules2, ..flag };
        prop_assert_eq!(first, evaluate(&flag2, &ctx2));
    }
}

fn random_key(rng: &mut SplitMix64) -> String {
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

/// Share of `keys` in the candidate, in percent.
fn share(flag: &Flag<'_>, contexts: &[EvaluationContext]) -> f64 {
    let n = contexts
        .iter()
        .filter(|c| in_candidate(evaluate(flag, c)))
        .count();
    100.0 * n as f64 / contexts.len() as f64
}

#[test]
fn candidate_share_is_within_a_point_of_the_target() {
    let (plan, rules) = (open_plan(), FlagRules::default());
    let mut rng = SplitMix64(7);
    let random: Vec<_> = (0..100_000)
        .map(|_| EvaluationContext::new(random_key(&mut rng)))
        .collect();
    // Sequential ids are what a weak hash splits worst.
    let sequential: Vec<_> = (0..100_000)
        .map(|i| EvaluationContext::new(format!("user-{i}")))
        .collect();
    for contexts in [&random, &sequential] {
        for p in [1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 99.0] {
            let got = share(&at_percent(&plan, &rules, p), contexts);
            assert!((got - p).abs() <= 1.0, "{p} %: {got} %");
        }
    }
}

#[test]
fn the_holdout_share_stays_on_control_in_full() {
    let plan = open_plan();
    let rules = FlagRules {
        holdout_percent: 10.0,
        ..FlagRules::default()
    };
    let mut rng = SplitMix64(11);
    let contexts: Vec<_> = (0..100_000)
        .map(|_| EvaluationContext::new(random_key(&mut rng)))
        .collect();
    let full = Flag {
        key: FLAG,
        plan: &plan,
        rules: &rules,
        state: RolloutState::Full,
        paused_at_percent: None,
    };
    let got = share(&full, &contexts);
    assert!((got - 90.0).abs() <= 1.0, "{got} %");
    let held_out = contexts
        .iter()
        .map(|c| evaluate(&full, c))
        .filter(|a| a.variant == Variant::Control);
    assert!(
        held_out
            .into_iter()
            .all(|a| a.reason == Reason::Split && a.bucket >= 9_000)
    );
}

#[test]
fn each_segment_gets_its_own_percentage_when_stratified() {
    let plan = open_plan();
    let rules = stratified_rules();
    // Ramp step 2 is 50 %: "free / es" is capped at 10, "paid" at 0, the rest stay at 50.
    let flag = Flag {
        key: FLAG,
        plan: &plan,
        rules: &rules,
        state: RolloutState::Ramp { step: 2 },
        paused_at_percent: None,
    };
    let segments = [
        ("free", "es", 10.0),
        ("free", "en", 50.0),
        ("paid", "", 0.0),
        ("enterprise", "de", 50.0),
    ];
    let mut rng = SplitMix64(13);
    for (plan_name, locale, target) in segments {
        let contexts: Vec<_> = (0..100_000)
            .map(|_| {
                EvaluationContext::new(random_key(&mut rng))
                    .with("plan", plan_name)
                    .with("locale", locale)
            })
            .collect();
        let name = segment_of(&contexts[0], &rules.segment_attributes);
        let got = share(&flag, &contexts);
        assert!(
            (got - target).abs() <= 1.0,
            "{name}: {got} % for {target} %"
        );
    }
}
