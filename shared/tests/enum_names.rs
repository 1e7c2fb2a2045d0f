//! An enum's text name has one source, serde's `rename_all`: `as_str`/`parse` are derived
//! (strum, `serialize_all` set to the same case) and must say exactly what serde says, for every
//! variant, since storage and query strings use `as_str` while JSON uses serde.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shared::approvals::{Decision, GateKind};
use shared::auth::Role;
use shared::change::{ChangeKind, RiskTier};
use shared::metrics::{MetricKind, Variant};
use shared::notices::{DeliveryStatus, NoticeKind, NoticeStatus};
use shared::plan::PlanTemplate;
use shared::review::ComplaintCategory;
use shared::rollout::{RolloutState, STATE_NAMES, TransitionAction};
use shared::tokens::TokenScope;
use strum::VariantArray;

fn check<T>(as_str: fn(T) -> &'static str, parse: Option<fn(&str) -> Option<T>>)
where
    T: VariantArray + Serialize + DeserializeOwned + PartialEq + Debug + Copy,
{
    for &v in T::VARIANTS {
        let name = as_str(v);
        assert_eq!(serde_json::to_value(v).unwrap(), json!(name), "{v:?}");
        assert_eq!(serde_json::from_value::<T>(json!(name)).unwrap(), v);
        if let Some(parse) = parse {
            assert_eq!(parse(name), Some(v), "{name}");
        }
    }
    if let Some(parse) = parse {
        assert_eq!(parse("no_such_name"), None);
        assert_eq!(parse(""), None);
    }
}

#[test]
fn as_str_and_parse_say_what_serde_says() {
    check(Variant::as_str, Some(Variant::parse));
    check(MetricKind::as_str, Some(MetricKind::parse));
    check(NoticeStatus::as_str, Some(NoticeStatus::parse));
    check(NoticeKind::as_str, Some(NoticeKind::parse));
    check(DeliveryStatus::as_str, Some(DeliveryStatus::parse));
    check(GateKind::as_str, None);
    check(Decision::as_str, Some(Decision::parse));
    check(Role::as_str, Some(Role::parse));
    check(ChangeKind::as_str, Some(ChangeKind::parse));
    check(RiskTier::as_str, Some(RiskTier::parse));
    check(PlanTemplate::as_str, Some(PlanTemplate::parse));
    check(TransitionAction::as_str, Some(TransitionAction::parse));
    check(TokenScope::as_str, Some(TokenScope::parse));
    check(ComplaintCategory::as_str, Some(ComplaintCategory::parse));
    check(shared::health::HealthKind::as_str, None);
}

#[test]
fn all_lists_hold_every_variant_once() {
    assert_eq!(Role::ALL.as_slice(), Role::VARIANTS);
    assert_eq!(ChangeKind::ALL.as_slice(), ChangeKind::VARIANTS);
    assert_eq!(RiskTier::ALL.as_slice(), RiskTier::VARIANTS);
    assert_eq!(PlanTemplate::ALL.as_slice(), PlanTemplate::VARIANTS);
}

#[test]
fn state_names_are_the_serde_stage_tags() {
    let states = [
        RolloutState::Draft,
        RolloutState::Eval,
        RolloutState::Canary,
        RolloutState::Ramp { step: 2 },
        RolloutState::Full,
        RolloutState::Reviewed,
        RolloutState::RolledBack,
    ];
    assert_eq!(
        states.map(RolloutState::name),
        STATE_NAMES,
        "one name per state, in the state machine's order"
    );
    for s in states {
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["stage"], Value::from(s.name()), "{s:?}");
        assert_eq!(RolloutState::from_parts(s.name(), s.ramp_step()), Some(s));
    }
    assert_eq!(RolloutState::from_parts("ramp", None), None);
    assert_eq!(RolloutState::from_parts("Draft", None), None);
    assert_eq!(
        RolloutState::from_parts("canary", Some(3)),
        Some(RolloutState::Canary)
    );
}
