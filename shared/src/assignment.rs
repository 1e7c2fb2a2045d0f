//! Which variant a context gets: the one pure function behind flag evaluation (OFREP), the
//! console's "who sees what" and the history API. No stored state: the same flag, rollout
//! position, rules and context give the same answer on every instance and after every restart.
//!
//! # The bucket
//!
//! Every targeting key has a bucket in `0..10 000` per flag:
//!
//! ```text
//! bucket = u64_be(SHA-256(utf8(flag_key) ‖ "." ‖ utf8(targeting_key))[0..8]) mod 10 000
//! ```
//!
//! that is, the first eight bytes of the SHA-256 digest of `"{flag_key}.{targeting_key}"` (the
//! exact UTF-8 bytes, no normalisation), read as an unsigned big-endian integer, modulo 10 000.
//! In Python: `int.from_bytes(hashlib.sha256(f"{flag}.{key}".encode()).digest()[:8], "big") %
//! 10000`. SHA-256 is chosen over a hand-rolled FNV or Murmur because every language's standard
//! library has it (so a service can reproduce a bucket without copying our code) and it
//! spreads sequential ids as evenly as random ones; one 64-byte block costs well under the
//! 1 µs budget. The modulo bias of 2⁶⁴ mod 10 000 is below 10⁻¹⁵. The flag key is the salt, so
//! a context's buckets in two flags are independent. Fixed vectors, computed with Python's
//! `hashlib`, are in `shared/tests/assignment_vectors.json`.
//!
//! # Percentages, monotone and sticky
//!
//! At `p` % a context is in the candidate iff `bucket < round(p × 100)`. A context in the
//! candidate at `p` is therefore in it at every `p′ ≥ p`: ramping up only adds people, and
//! rolling forward again after a pause brings back the same people.
//!
//! A **holdout** of `h` % ([`FlagRules::holdout_percent`]) is the *top* `h × 100` buckets: they
//! stay on control in every state, full included. The candidate's ceiling is
//! `10 000 − round(h × 100)`, so the holdout never meets the bottom-up ramp order and no one
//! leaves the candidate when the rollout goes full.
//!
//! # Audiences
//!
//! The plan lists its audiences "in the order they receive the candidate"
//! ([`RolloutPlan::audiences`]). Counting the live stages from 0 (canary = 0, ramp step `i` =
//! `i + 1`), stage `s` reaches the first `s + 1` audiences; from stage `audiences.len()` on, at
//! the plan's last ramp step and in full, it reaches everyone (the list ends with an implicit
//! "everyone else"). A plan without audiences reaches everyone from the canary. With the
//! standard template (staff, power users, paid, free; canary 5 %, ramp 10/25/50/100):
//!
//! | stage     | reaches                          |
//! |-----------|----------------------------------|
//! | canary 5  | staff                            |
//! | ramp 10   | staff, power users               |
//! | ramp 25   | staff, power users, paid         |
//! | ramp 50   | staff, power users, paid, free   |
//! | ramp 100  | everyone                         |
//!
//! The stage's percentage applies within the reached audiences; a context outside all of
//! them gets control. Reach only grows from stage to stage, so the candidate set stays
//! monotone across stages too.
//!
//! An audience matches a context by the [`AudienceRule`]s declared for its name (any of the
//! conditions). An audience without declared rules matches by its kind's default:
//!
//! | kind          | default rule                                                              |
//! |---------------|---------------------------------------------------------------------------|
//! | `internal`    | `internal` is `true`, or `email`'s domain is in `internal_email_domains`   |
//! | `power_users` | `power_user` is `true`                                                    |
//! | `cohort`      | `cohort` equals the audience's name (or is an array holding it)           |
//! | `opted_in`    | `opted_in` is `true`                                                      |
//!
//! "Is `true`" means the JSON boolean; the string `"true"` does not match.
//!
//! # Segments (stratified rollout)
//!
//! [`segment_of`] names a context's segment the way metric windows name theirs: the values of
//! [`FlagRules::segment_attributes`] in order, joined by `" / "` (`plan` = free, `locale` = es
//! → `"free / es"`). Strings are trimmed; numbers and booleans are written as JSON; a missing,
//! null, empty or structured value is left out (staff with `plan` = internal and no locale →
//! `"internal"`). No attributes configured → `"all"` ([`ALL_SEGMENTS`]); attributes
//! configured but none present → `"unknown"` ([`UNKNOWN_SEGMENT`]). A segment listed in
//! [`FlagRules::segment_max_percent`] gets at most that percentage while the stage's is
//! higher. It is a cap, never a raise: no segment is exposed beyond what the approved plan
//! says, and the min of two monotone thresholds stays monotone.
//!
//! # States
//!
//! | state                    | candidate                                   | reason            |
//! |--------------------------|---------------------------------------------|-------------------|
//! | draft, eval, rolled back | no one                                      | `DISABLED`        |
//! | canary                   | `bucket < canary %` in reached audiences    | `SPLIT` (¹)       |
//! | ramp, step `i`           | `bucket < ramp[i] %` in reached audiences   | `SPLIT` (¹)       |
//! | ramp, step beyond plan   | no one                                      | `ERROR`           |
//! | paused (canary or ramp)  | as above at the paused percentage           | `SPLIT` (¹)       |
//! | paused at 0 %            | no one                                      | `DISABLED`        |
//! | full                     | everyone outside the holdout                | `STATIC`/`SPLIT`  |
//! | reviewed                 | everyone (the old version is retired)       | `STATIC`          |
//!
//! (¹) `TARGETING_MATCH` for contexts outside the reached audiences, `DEFAULT` for contexts
//! without a targeting key. A pause in full changes nothing: everyone already has the
//! candidate. See [`Reason`] for what each reason means. For metrics, only `SPLIT` answers
//! are in the experiment: both arms drawn by the same buckets from the same audiences.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::FieldError;
use crate::metrics::{ALL_SEGMENTS, Variant};
use crate::plan::{Audience, AudienceKind, RolloutPlan};
use crate::rollout::RolloutState;

/// Number of buckets: a bucket is a hundredth of a percent.
pub const BUCKETS: u16 = 10_000;

/// The segment of a context that has none of the segment attributes.
pub const UNKNOWN_SEGMENT: &str = "unknown";

/// Most items in each list of [`FlagRules`] (and conditions in one audience rule), as many as
/// a plan's lists may hold (`validate::MAX_LIST`).
pub const MAX_RULES: usize = 50;

/// Largest holdout: beyond half of the traffic it is the candidate that is held out.
pub const MAX_HOLDOUT_PERCENT: f64 = 50.0;

/// Longest a holdout stays at Full, days ([`FlagRules::holdout_days`]).
pub const MAX_HOLDOUT_DAYS: u32 = 365;

/// The context a flag is evaluated for, as OFREP sends it: `{"targetingKey": "…", …}` with
/// every other field an attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvaluationContext {
    /// Who is being served: a user, account or session id. Empty when the caller has none.
    #[serde(rename = "targetingKey", default)]
    pub targeting_key: String,
    /// Everything else: `email`, `internal`, `cohort`, `plan`, `locale`, …
    #[serde(flatten)]
    pub attributes: BTreeMap<String, Value>,
}

impl EvaluationContext {
    pub fn new(targeting_key: impl Into<String>) -> Self {
        EvaluationContext {
            targeting_key: targeting_key.into(),
            attributes: BTreeMap::new(),
        }
    }

    /// The context with one more attribute.
    pub fn with(mut self, attribute: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(attribute.into(), value.into());
        self
    }

    pub fn attribute(&self, name: &str) -> Option<&Value> {
        self.attributes.get(name)
    }

    fn is_true(&self, name: &str) -> bool {
        self.attribute(name) == Some(&Value::Bool(true))
    }
}

/// One way a context can belong to an audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "match", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The attribute equals one of `values` (JSON equality), or is an array holding one.
    OneOf {
        attribute: String,
        /// JSON values of any type: `"pro"`, `3`, `true`.
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<Value>))]
        values: Vec<Value>,
    },
    /// The attribute is an email address whose domain (after the last `@`, ASCII
    /// case-insensitive) is one of `domains`, e.g. `"example.com"`.
    EmailDomain {
        attribute: String,
        domains: Vec<String>,
    },
}

impl Condition {
    fn holds(&self, context: &EvaluationContext) -> bool {
        match self {
            Condition::OneOf { attribute, values } => context
                .attribute(attribute)
                .is_some_and(|v| values.iter().any(|want| holds_value(v, want))),
            Condition::EmailDomain { attribute, domains } => {
                email_domain_in(context.attribute(attribute), domains)
            }
        }
    }
}

/// `value` is `want`, or an array holding it.
fn holds_value(value: &Value, want: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|v| v == want),
        v => v == want,
    }
}

fn email_domain_in(value: Option<&Value>, domains: &[String]) -> bool {
    let Some(Value::String(email)) = value else {
        return false;
    };
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    domains
        .iter()
        .any(|d| d.trim_start_matches('@').eq_ignore_ascii_case(domain))
}

/// How the plan audience named `audience` is recognised; replaces the kind's default rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AudienceRule {
    /// The plan audience's name ([`Audience::name`], e.g. `"paid"`).
    pub audience: String,
    /// The audience matches when any condition holds.
    pub any_of: Vec<Condition>,
}

/// The flag's targeting rules, stored beside the plan: how audiences and segments are read
/// from a context, per-segment caps and the holdout. The default declares nothing: audiences
/// match by their kind's default rule, no segments, no holdout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct FlagRules {
    /// Declared audience rules; audiences without one use their kind's default.
    pub audiences: Vec<AudienceRule>,
    /// Email domains whose users are internal (default `internal` rule), e.g. `"example.com"`.
    pub internal_email_domains: Vec<String>,
    /// Attributes naming a context's segment, in order, e.g. `["plan", "locale"]`.
    pub segment_attributes: Vec<String>,
    /// Most candidate share per segment, percent (0–100), e.g. `{"free / es": 10}`.
    pub segment_max_percent: BTreeMap<String, f64>,
    /// Share of traffic (top buckets) kept on control, percent (0–50): in every live state,
    /// and at Full to measure the change in the long run; released once the change is
    /// reviewed (`shared::ab`).
    pub holdout_percent: f64,
    /// Days the holdout stays on control after the rollout reaches Full (0–365): the Reviewed
    /// gate waits for them. 0: no minimum.
    #[serde(skip_serializing_if = "is_zero")]
    pub holdout_days: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl FlagRules {
    /// Checks the rules before they are stored; `evaluate` never fails on stored rules.
    pub fn validate(&self) -> Result<(), FieldError> {
        let too_many = |field: &str, n: usize| {
            (n > MAX_RULES).then(|| FieldError::new(field, format!("at most {MAX_RULES} items")))
        };
        let name = |field: String, s: &str| {
            let n = s.trim().chars().count();
            if n == 0 || n > 100 {
                Err(FieldError::new(field, "must be 1–100 characters"))
            } else {
                Ok(())
            }
        };
        for (field, n) in [
            ("rules.audiences", self.audiences.len()),
            (
                "rules.internal_email_domains",
                self.internal_email_domains.len(),
            ),
            ("rules.segment_attributes", self.segment_attributes.len()),
            ("rules.segment_max_percent", self.segment_max_percent.len()),
        ] {
            if let Some(e) = too_many(field, n) {
                return Err(e);
            }
        }
        for (i, rule) in self.audiences.iter().enumerate() {
            name(format!("rules.audiences[{i}].audience"), &rule.audience)?;
            if rule.any_of.is_empty() {
                return Err(FieldError::new(
                    format!("rules.audiences[{i}].any_of"),
                    "must hold at least one condition",
                ));
            }
            if let Some(e) = too_many(&format!("rules.audiences[{i}].any_of"), rule.any_of.len()) {
                return Err(e);
            }
        }
        for (i, d) in self.internal_email_domains.iter().enumerate() {
            name(format!("rules.internal_email_domains[{i}]"), d)?;
        }
        for (i, a) in self.segment_attributes.iter().enumerate() {
            name(format!("rules.segment_attributes[{i}]"), a)?;
        }
        for (segment, &percent) in &self.segment_max_percent {
            name(format!("rules.segment_max_percent.{segment}"), segment)?;
            if !(0.0..=100.0).contains(&percent) {
                return Err(FieldError::new(
                    format!("rules.segment_max_percent.{segment}"),
                    "must be a percentage between 0 and 100",
                ));
            }
        }
        if !(0.0..=MAX_HOLDOUT_PERCENT).contains(&self.holdout_percent) {
            return Err(FieldError::new(
                "rules.holdout_percent",
                format!("must be a percentage between 0 and {MAX_HOLDOUT_PERCENT}"),
            ));
        }
        if self.holdout_days > MAX_HOLDOUT_DAYS {
            return Err(FieldError::new(
                "rules.holdout_days",
                format!("at most {MAX_HOLDOUT_DAYS} days"),
            ));
        }
        if self.holdout_days > 0 && self.holdout_percent <= 0.0 {
            return Err(FieldError::new(
                "rules.holdout_days",
                "needs a holdout: set holdout_percent too",
            ));
        }
        Ok(())
    }

    /// Whether `audience` matches `context`: by its declared rules if it has any, otherwise
    /// by its kind's default (module docs).
    pub fn matches(&self, audience: &Audience, context: &EvaluationContext) -> bool {
        let mut declared = self
            .audiences
            .iter()
            .filter(|r| r.audience == audience.name)
            .peekable();
        if declared.peek().is_some() {
            return declared.any(|r| r.any_of.iter().any(|c| c.holds(context)));
        }
        match audience.kind {
            AudienceKind::Internal => {
                context.is_true("internal")
                    || email_domain_in(context.attribute("email"), &self.internal_email_domains)
            }
            AudienceKind::PowerUsers => context.is_true("power_user"),
            AudienceKind::Cohort => context.attribute("cohort").is_some_and(|v| match v {
                Value::String(s) => *s == audience.name,
                Value::Array(items) => items
                    .iter()
                    .any(|i| i.as_str() == Some(audience.name.as_str())),
                _ => false,
            }),
            AudienceKind::OptedIn => context.is_true("opted_in"),
        }
    }
}

/// A context's segment from `segment_attributes`, named as metric windows name theirs, e.g.
/// `"free / es"` (module docs).
pub fn segment_of<S: AsRef<str>>(context: &EvaluationContext, segment_attributes: &[S]) -> String {
    if segment_attributes.is_empty() {
        return ALL_SEGMENTS.to_string();
    }
    // One allocation: this runs on every stratified evaluation.
    let mut out = String::with_capacity(32);
    for attribute in segment_attributes {
        let part = match context.attribute(attribute.as_ref()) {
            Some(Value::String(s)) => Cow::Borrowed(s.trim()),
            Some(v @ (Value::Bool(_) | Value::Number(_))) => Cow::Owned(v.to_string()),
            _ => continue,
        };
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str(" / ");
        }
        out.push_str(&part);
    }
    if out.is_empty() {
        UNKNOWN_SEGMENT.to_string()
    } else {
        out
    }
}

/// The context's bucket in `0..10 000` for this flag (module docs give the exact hash).
pub fn bucket(flag_key: &str, targeting_key: &str) -> u16 {
    let digest = Sha256::new()
        .chain_update(flag_key.as_bytes())
        .chain_update(b".")
        .chain_update(targeting_key.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // The remainder is below 10 000, so it fits.
    (u64::from_be_bytes(first) % u64::from(BUCKETS)) as u16
}

/// How many buckets (from 0 up) `percent` % covers: `round(percent × 100)`, within 0–10 000.
/// A NaN covers none.
pub fn buckets_for_percent(percent: f64) -> u16 {
    let b = (percent * 100.0).round();
    if b.is_nan() || b <= 0.0 {
        0
    } else if b >= f64::from(BUCKETS) {
        BUCKETS
    } else {
        b as u16
    }
}

/// Why a context got its variant, named as OpenFeature/OFREP name evaluation reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// The rollout serves the candidate to no one: draft, eval, rolled back, paused at 0 %.
    /// Control.
    Disabled,
    /// The bucket decided: the context is eligible and its bucket was compared with the
    /// stage's percentage (capped for its segment, below the holdout), or it is held out.
    Split,
    /// The audiences decided: the context is in none of the audiences this stage reaches.
    /// Control.
    TargetingMatch,
    /// The context has no targeting key, so it cannot be bucketed: it gets the default
    /// variant, control.
    Default,
    /// The state decided for everyone: full (or reviewed), candidate.
    Static,
    /// The rollout state names a ramp step the plan does not have. Control; the server
    /// answers OFREP's error shape.
    Error,
}

impl Reason {
    /// The name OFREP sends, as serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Disabled => "DISABLED",
            Reason::Split => "SPLIT",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Default => "DEFAULT",
            Reason::Static => "STATIC",
            Reason::Error => "ERROR",
        }
    }
}

/// A flag at one rollout position: everything [`evaluate`] needs besides the context.
#[derive(Debug, Clone, Copy)]
pub struct Flag<'a> {
    /// The flag's key, the bucket's salt.
    pub key: &'a str,
    pub plan: &'a RolloutPlan,
    pub rules: &'a FlagRules,
    pub state: RolloutState,
    /// Set while the rollout is paused: the candidate share (percent) at the moment it was
    /// paused, held until it resumes.
    pub paused_at_percent: Option<f64>,
}

/// The answer for one context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub variant: Variant,
    /// The context's bucket in `0..10 000`, whether or not it decided.
    pub bucket: u16,
    pub reason: Reason,
}

/// Which audiences a stage reaches.
enum Reach {
    Everyone,
    /// The plan's first `n` audiences.
    First(usize),
}

impl Reach {
    /// Reach of live stage `stage` (canary 0, ramp step `i` at `i + 1`).
    fn of_stage(plan: &RolloutPlan, stage: usize) -> Reach {
        let last = plan.ramp.len();
        if stage >= plan.audiences.len() || stage == last {
            Reach::Everyone
        } else {
            Reach::First(stage + 1)
        }
    }

    fn includes(&self, plan: &RolloutPlan, rules: &FlagRules, ctx: &EvaluationContext) -> bool {
        match *self {
            Reach::Everyone => true,
            Reach::First(n) => plan.audiences[..n].iter().any(|a| rules.matches(a, ctx)),
        }
    }
}

/// The variant `context` gets from `flag` (module docs: bucket, audiences, segments, states).
pub fn evaluate(flag: &Flag<'_>, context: &EvaluationContext) -> Assignment {
    let bucket = bucket(flag.key, &context.targeting_key);
    let answer = |variant, reason| Assignment {
        variant,
        bucket,
        reason,
    };
    let control = |reason| answer(Variant::Control, reason);
    let anonymous = context.targeting_key.trim().is_empty();
    let holdout = buckets_for_percent(flag.rules.holdout_percent)
        .min(buckets_for_percent(MAX_HOLDOUT_PERCENT));
    let ceiling = BUCKETS - holdout;

    let (stage_percent, reach) = match flag.state {
        RolloutState::Draft | RolloutState::Eval | RolloutState::RolledBack => {
            return control(Reason::Disabled);
        }
        RolloutState::Reviewed => return answer(Variant::Candidate, Reason::Static),
        // The holdout is for people we can follow; an anonymous request has no bucket of its own.
        RolloutState::Full => {
            return if anonymous || bucket < ceiling {
                answer(Variant::Candidate, Reason::Static)
            } else {
                control(Reason::Split)
            };
        }
        RolloutState::Canary => (flag.plan.canary.percent, Reach::of_stage(flag.plan, 0)),
        RolloutState::Ramp { step } => match flag.plan.ramp.get(step as usize) {
            Some(s) => (s.percent, Reach::of_stage(flag.plan, step as usize + 1)),
            None => return control(Reason::Error),
        },
    };
    let threshold = buckets_for_percent(flag.paused_at_percent.unwrap_or(stage_percent));
    if threshold == 0 {
        return control(Reason::Disabled);
    }
    if !reach.includes(flag.plan, flag.rules, context) {
        return control(Reason::TargetingMatch);
    }
    if anonymous {
        return control(Reason::Default);
    }
    let limit = threshold.min(ceiling);
    // A segment cap can only lower the limit, so above it the segment need not be named.
    if bucket >= limit {
        return control(Reason::Split);
    }
    let cap = if flag.rules.segment_max_percent.is_empty() {
        None
    } else {
        let segment = segment_of(context, &flag.rules.segment_attributes);
        flag.rules.segment_max_percent.get(&segment).copied()
    };
    if cap.is_some_and(|cap| bucket >= buckets_for_percent(cap)) {
        control(Reason::Split)
    } else {
        answer(Variant::Candidate, Reason::Split)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanTemplate;

    const FLAG: &str = "billing-prompt-v2";

    /// A key whose bucket in [`FLAG`] satisfies `pred`.
    fn key_where(pred: impl Fn(u16) -> bool) -> String {
        (0..)
            .map(|i| format!("user-{i}"))
            .find(|k| pred(bucket(FLAG, k)))
            .unwrap()
    }

    fn flag<'a>(plan: &'a RolloutPlan, rules: &'a FlagRules, state: RolloutState) -> Flag<'a> {
        Flag {
            key: FLAG,
            plan,
            rules,
            state,
            paused_at_percent: None,
        }
    }

    /// A plan without audiences: every stage reaches everyone.
    fn open_plan() -> RolloutPlan {
        RolloutPlan {
            audiences: Vec::new(),
            ..PlanTemplate::Standard.plan()
        }
    }

    #[test]
    fn reasons_are_named_as_serialised() {
        use Reason::*;
        for r in [Disabled, Split, TargetingMatch, Default, Static, Error] {
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::Value::from(r.as_str())
            );
        }
    }

    #[test]
    fn the_bucket_is_the_documented_hash() {
        // python3 -c 'import hashlib; print(int.from_bytes(hashlib.sha256(b"a.b").digest()[:8], "big") % 10000)'
        let digest = Sha256::digest(b"a.b");
        let n = u64::from_be_bytes(digest[..8].try_into().unwrap());
        assert_eq!(u64::from(bucket("a", "b")), n % 10_000);
        assert!((0..1000).all(|i| bucket(FLAG, &i.to_string()) < BUCKETS));
    }

    #[test]
    fn percentages_round_to_buckets() {
        assert_eq!(buckets_for_percent(5.0), 500);
        assert_eq!(buckets_for_percent(2.5), 250);
        assert_eq!(buckets_for_percent(0.004), 0);
        assert_eq!(buckets_for_percent(-3.0), 0);
        assert_eq!(buckets_for_percent(f64::NAN), 0);
        assert_eq!(buckets_for_percent(100.0), BUCKETS);
        assert_eq!(buckets_for_percent(f64::INFINITY), BUCKETS);
    }

    #[test]
    fn draft_eval_and_rolled_back_are_disabled() {
        let (plan, rules) = (open_plan(), FlagRules::default());
        let ctx = EvaluationContext::new(key_where(|b| b == 0));
        for state in [
            RolloutState::Draft,
            RolloutState::Eval,
            RolloutState::RolledBack,
        ] {
            let a = evaluate(&flag(&plan, &rules, state), &ctx);
            assert_eq!((a.variant, a.reason), (Variant::Control, Reason::Disabled));
            // A pause does not bring a rolled-back candidate back.
            let paused = Flag {
                paused_at_percent: Some(50.0),
                ..flag(&plan, &rules, state)
            };
            assert_eq!(evaluate(&paused, &ctx).reason, Reason::Disabled);
        }
    }

    #[test]
    fn canary_and_ramp_split_at_the_stage_percentage() {
        let (plan, rules) = (open_plan(), FlagRules::default());
        let cases = [
            (RolloutState::Canary, 500),
            (RolloutState::Ramp { step: 0 }, 1_000),
            (RolloutState::Ramp { step: 2 }, 5_000),
        ];
        for (state, threshold) in cases {
            let f = flag(&plan, &rules, state);
            let inside = EvaluationContext::new(key_where(|b| b == threshold - 1));
            let outside = EvaluationContext::new(key_where(|b| b == threshold));
            let a = evaluate(&f, &inside);
            assert_eq!((a.variant, a.reason), (Variant::Candidate, Reason::Split));
            assert_eq!(a.bucket, threshold - 1);
            let a = evaluate(&f, &outside);
            assert_eq!((a.variant, a.reason), (Variant::Control, Reason::Split));
        }
    }

    #[test]
    fn a_ramp_step_beyond_the_plan_is_an_error() {
        let (plan, rules) = (open_plan(), FlagRules::default());
        let a = evaluate(
            &flag(&plan, &rules, RolloutState::Ramp { step: 9 }),
            &EvaluationContext::new("u"),
        );
        assert_eq!((a.variant, a.reason), (Variant::Control, Reason::Error));
    }

    #[test]
    fn full_is_static_except_for_the_holdout_at_the_top() {
        let plan = open_plan();
        let rules = FlagRules {
            holdout_percent: 5.0,
            ..FlagRules::default()
        };
        let f = flag(&plan, &rules, RolloutState::Full);
        let a = evaluate(&f, &EvaluationContext::new(key_where(|b| b == 9_499)));
        assert_eq!((a.variant, a.reason), (Variant::Candidate, Reason::Static));
        let a = evaluate(&f, &EvaluationContext::new(key_where(|b| b >= 9_500)));
        assert_eq!((a.variant, a.reason), (Variant::Control, Reason::Split));
        // Anonymous traffic cannot be held out.
        let a = evaluate(&f, &EvaluationContext::new(""));
        assert_eq!((a.variant, a.reason), (Variant::Candidate, Reason::Static));
        // Once reviewed, the old version is retired: the holdout gets the candidate too.
        let reviewed = flag(&plan, &rules, RolloutState::Reviewed);
        let a = evaluate(
            &reviewed,
            &EvaluationContext::new(key_where(|b| b >= 9_500)),
        );
        assert_eq!((a.variant, a.reason), (Variant::Candidate, Reason::Static));
        // The last ramp step (100 %) stops below the holdout too, so going full moves no one back.
        let last = flag(&plan, &rules, RolloutState::Ramp { step: 3 });
        let held = EvaluationContext::new(key_where(|b| b >= 9_500));
        assert_eq!(evaluate(&last, &held).variant, Variant::Control);
        let no_holdout = FlagRules::default();
        let f = flag(&plan, &no_holdout, RolloutState::Full);
        assert_eq!(evaluate(&f, &held).reason, Reason::Static);
    }

    #[test]
    fn a_pause_holds_the_paused_percentage() {
        let (plan, rules) = (open_plan(), FlagRules::default());
        let paused = |p| Flag {
            paused_at_percent: Some(p),
            ..flag(&plan, &rules, RolloutState::Ramp { step: 2 })
        };
        let at_20 = EvaluationContext::new(key_where(|b| b == 2_000));
        assert_eq!(evaluate(&paused(25.0), &at_20).variant, Variant::Candidate);
        assert_eq!(evaluate(&paused(20.0), &at_20).variant, Variant::Control);
        let a = evaluate(&paused(0.0), &at_20);
        assert_eq!((a.variant, a.reason), (Variant::Control, Reason::Disabled));
        // Full already serves everyone; a pause there changes nothing.
        let full = Flag {
            paused_at_percent: Some(10.0),
            ..flag(&plan, &rules, RolloutState::Full)
        };
        assert_eq!(evaluate(&full, &at_20).reason, Reason::Static);
    }

    #[test]
    fn no_targeting_key_gets_the_default() {
        let (plan, rules) = (open_plan(), FlagRules::default());
        for key in ["", "  "] {
            let a = evaluate(
                &flag(&plan, &rules, RolloutState::Ramp { step: 2 }),
                &EvaluationContext::new(key),
            );
            assert_eq!((a.variant, a.reason), (Variant::Control, Reason::Default));
        }
    }

    #[test]
    fn stages_reach_the_plan_audiences_in_order() {
        let plan = PlanTemplate::Standard.plan();
        let rules = FlagRules {
            internal_email_domains: vec!["example.com".into()],
            ..FlagRules::default()
        };
        let key = key_where(|b| b < 100);
        let staff = EvaluationContext::new(&key).with("email", "ana@Example.COM");
        let power = EvaluationContext::new(&key).with("power_user", true);
        let paid = EvaluationContext::new(&key).with("cohort", "paid");
        let free = EvaluationContext::new(&key).with("cohort", serde_json::json!(["free"]));
        let nobody = EvaluationContext::new(&key).with("cohort", "trial");
        let contexts = [&staff, &power, &paid, &free, &nobody];
        let expected: [(RolloutState, [bool; 5]); 6] = [
            (RolloutState::Canary, [true, false, false, false, false]),
            (
                RolloutState::Ramp { step: 0 },
                [true, true, false, false, false],
            ),
            (
                RolloutState::Ramp { step: 1 },
                [true, true, true, false, false],
            ),
            (
                RolloutState::Ramp { step: 2 },
                [true, true, true, true, false],
            ),
            (RolloutState::Ramp { step: 3 }, [true; 5]),
            (RolloutState::Full, [true; 5]),
        ];
        for (state, reached) in expected {
            let f = flag(&plan, &rules, state);
            for (ctx, reached) in contexts.iter().zip(reached) {
                let a = evaluate(&f, ctx);
                assert_eq!(
                    a.variant == Variant::Candidate,
                    reached,
                    "{state:?} {ctx:?}"
                );
                if !reached {
                    assert_eq!(a.reason, Reason::TargetingMatch);
                }
            }
        }
    }

    #[test]
    fn a_plan_with_few_audiences_reaches_everyone_after_them() {
        // Low-stakes: staff only, then a 50 % and a 100 % step.
        let plan = PlanTemplate::LowStakes.plan();
        let rules = FlagRules::default();
        let key = key_where(|b| b < 100);
        let staff = EvaluationContext::new(&key).with("internal", true);
        let other = EvaluationContext::new(&key).with("internal", "true");
        let canary = flag(&plan, &rules, RolloutState::Canary);
        assert_eq!(evaluate(&canary, &staff).variant, Variant::Candidate);
        assert_eq!(evaluate(&canary, &other).reason, Reason::TargetingMatch);
        let ramp = flag(&plan, &rules, RolloutState::Ramp { step: 0 });
        assert_eq!(evaluate(&ramp, &other).variant, Variant::Candidate);
    }

    #[test]
    fn declared_rules_replace_the_kind_default() {
        let audience = Audience {
            kind: AudienceKind::Cohort,
            name: "paid".into(),
        };
        let rules = FlagRules {
            audiences: vec![AudienceRule {
                audience: "paid".into(),
                any_of: vec![
                    Condition::OneOf {
                        attribute: "plan".into(),
                        values: vec!["pro".into(), "enterprise".into()],
                    },
                    Condition::EmailDomain {
                        attribute: "billing_email".into(),
                        domains: vec!["@bigco.example".into()],
                    },
                ],
            }],
            ..FlagRules::default()
        };
        let ctx = |k: &str, v: &str| EvaluationContext::new("u").with(k, v);
        assert!(rules.matches(&audience, &ctx("plan", "enterprise")));
        assert!(rules.matches(&audience, &ctx("billing_email", "x@bigco.example")));
        assert!(!rules.matches(&audience, &ctx("billing_email", "x@bigco.example.org")));
        assert!(!rules.matches(&audience, &ctx("cohort", "paid")));
        assert!(FlagRules::default().matches(&audience, &ctx("cohort", "paid")));
        let opted = Audience {
            kind: AudienceKind::OptedIn,
            name: "beta".into(),
        };
        assert!(rules.matches(&opted, &EvaluationContext::new("u").with("opted_in", true)));
    }

    #[test]
    fn segments_are_named_like_metric_windows() {
        let attrs = ["plan", "locale"];
        let ctx = EvaluationContext::new("u")
            .with("plan", " free ")
            .with("locale", "es");
        assert_eq!(segment_of(&ctx, &attrs), "free / es");
        let staff = EvaluationContext::new("u").with("plan", "internal");
        assert_eq!(segment_of(&staff, &attrs), "internal");
        let odd = EvaluationContext::new("u")
            .with("plan", 3)
            .with("locale", true);
        assert_eq!(segment_of(&odd, &attrs), "3 / true");
        let none = EvaluationContext::new("u").with("plan", serde_json::json!(["a"]));
        assert_eq!(segment_of(&none, &attrs), UNKNOWN_SEGMENT);
        assert_eq!(segment_of::<&str>(&ctx, &[]), ALL_SEGMENTS);
    }

    #[test]
    fn a_segment_cap_lowers_its_percentage_only() {
        let plan = open_plan();
        let rules = FlagRules {
            segment_attributes: vec!["plan".into(), "locale".into()],
            segment_max_percent: BTreeMap::from([("free / es".into(), 10.0)]),
            ..FlagRules::default()
        };
        let f = flag(&plan, &rules, RolloutState::Ramp { step: 2 });
        let key = key_where(|b| (1_000..5_000).contains(&b));
        let es = EvaluationContext::new(&key)
            .with("plan", "free")
            .with("locale", "es");
        let en = EvaluationContext::new(&key)
            .with("plan", "free")
            .with("locale", "en");
        let a = evaluate(&f, &es);
        assert_eq!((a.variant, a.reason), (Variant::Control, Reason::Split));
        assert_eq!(evaluate(&f, &en).variant, Variant::Candidate);
        // Never a raise: at canary (5 %) the cap of 10 % changes nothing.
        let canary = flag(&plan, &rules, RolloutState::Canary);
        let at_7 = EvaluationContext::new(key_where(|b| b == 700))
            .with("plan", "free")
            .with("locale", "es");
        assert_eq!(evaluate(&canary, &at_7).variant, Variant::Control);
    }

    #[test]
    fn the_context_reads_from_ofrep_json() {
        let ctx: EvaluationContext = serde_json::from_value(serde_json::json!({
            "targetingKey": "user-1", "plan": "free", "internal": true
        }))
        .unwrap();
        assert_eq!(ctx.targeting_key, "user-1");
        assert_eq!(ctx.attribute("plan"), Some(&Value::from("free")));
        assert!(ctx.is_true("internal"));
        let a = Assignment {
            variant: Variant::Candidate,
            bucket: 42,
            reason: Reason::TargetingMatch,
        };
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::json!({"variant": "candidate", "bucket": 42, "reason": "TARGETING_MATCH"})
        );
    }

    #[test]
    fn rules_are_validated() {
        assert_eq!(FlagRules::default().validate(), Ok(()));
        let bad = [
            FlagRules {
                holdout_percent: 60.0,
                ..FlagRules::default()
            },
            FlagRules {
                segment_max_percent: BTreeMap::from([("free / es".into(), 120.0)]),
                ..FlagRules::default()
            },
            FlagRules {
                audiences: vec![AudienceRule {
                    audience: "paid".into(),
                    any_of: Vec::new(),
                }],
                ..FlagRules::default()
            },
        ];
        for rules in bad {
            assert!(rules.validate().is_err(), "{rules:?}");
        }
        let rules: FlagRules = serde_json::from_value(serde_json::json!({
            "audiences": [{"audience": "staff", "any_of": [
                {"match": "one_of", "attribute": "team", "values": ["ml"]}
            ]}],
            "segment_attributes": ["plan", "locale"],
            "holdout_percent": 5
        }))
        .unwrap();
        assert_eq!(rules.validate(), Ok(()));
    }
}
