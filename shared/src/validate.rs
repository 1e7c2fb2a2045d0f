//! Input rules for changes and plans. Each failure names the field at fault with a path such
//! as `plan.ramp[2].percent`, so the API and the form can point at it.

use serde_json::Value;

use crate::api::{ChangeUpdate, NewChange};
use crate::change::{ChangeKind, RiskTier};
use crate::plan::{RolloutPlan, ThresholdKind};

/// Kept at its old path: callers across the workspace name it `validate::FieldError`.
pub use crate::error::FieldError;

type Result<T = ()> = std::result::Result<T, FieldError>;

pub const MAX_TITLE: usize = 200;
pub const MAX_OWNER: usize = 100;
pub const MAX_TEXT: usize = 5_000;
pub const MAX_REASON: usize = 2_000;
/// Serialized size of one configuration document.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;
pub const MAX_RAMP_STEPS: usize = 10;
pub const MAX_LIST: usize = 50;
pub const MAX_PRODUCT_AREA: usize = 60;
/// Longest flag key.
pub const MAX_FLAG_KEY: usize = 64;

/// A change's flag key, as OpenFeature clients name the flag: a lower-case ASCII letter or
/// digit, then up to 63 of letters, digits, `.`, `_` and `-`. Kept to URL-safe characters so
/// that it needs no encoding in `/ofrep/v1/evaluate/flags/{key}` or in a snippet.
pub fn flag_key(key: &str) -> Result {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
    if first_ok && rest_ok && key.len() <= MAX_FLAG_KEY {
        Ok(())
    } else {
        Err(FieldError::new(
            "flag_key",
            format!(
                "must be 1–{MAX_FLAG_KEY} characters: lower-case letters, digits, `.`, `_` and \
                 `-`, starting with a letter or digit"
            ),
        ))
    }
}

/// The flag key a new change gets from its title: lower-cased ASCII letters and digits, every
/// other run of characters one `-`, at most 48 characters (room for a suffix that makes it
/// unique); `change` when nothing is left.
pub fn flag_key_from_title(title: &str) -> String {
    let mut key = String::with_capacity(48);
    for c in title.chars() {
        if key.len() >= 48 {
            break;
        }
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.is_empty() && !key.ends_with('-') {
            key.push('-');
        }
    }
    while key.ends_with('-') {
        key.pop();
    }
    if key.is_empty() {
        key.push_str("change");
    }
    key
}

/// A product area as stored: trimmed, and `None` when blank.
pub fn product_area(area: Option<&str>) -> Option<String> {
    area.map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// The fields a new change and an edit share.
pub struct ChangeFields<'a> {
    pub title: &'a str,
    pub kind: ChangeKind,
    pub risk: RiskTier,
    pub baseline: &'a Value,
    pub candidate: &'a Value,
    pub expected_changes: &'a str,
    pub owner: &'a str,
    pub product_area: Option<&'a str>,
    pub plan: &'a RolloutPlan,
}

pub fn new_change(c: &NewChange) -> Result {
    first(new_change_problems(c))
}

/// Every field of a new change that breaks a rule, each once, in the form's order; the
/// server answers the first ([`new_change`]), the console shows them all beside their fields.
pub fn new_change_problems(c: &NewChange) -> Vec<FieldError> {
    let plan = c.resolved_plan();
    let mut problems: Vec<FieldError> = c
        .flag_key
        .as_deref()
        .and_then(|k| flag_key(k).err())
        .into_iter()
        .collect();
    problems.extend(change_problems(&ChangeFields {
        title: &c.title,
        kind: c.kind,
        risk: c.risk,
        baseline: &c.baseline,
        candidate: &c.candidate,
        expected_changes: &c.expected_changes,
        owner: &c.owner,
        product_area: c.product_area.as_deref(),
        plan: &plan,
    }));
    problems
}

pub fn change_update(c: &ChangeUpdate) -> Result {
    change(&ChangeFields {
        title: &c.title,
        kind: c.kind,
        risk: c.risk,
        baseline: &c.baseline,
        candidate: &c.candidate,
        expected_changes: &c.expected_changes,
        owner: &c.owner,
        product_area: c.product_area.as_deref(),
        plan: &c.plan,
    })?;
    match &c.flag_key {
        Some(key) => flag_key(key),
        None => Ok(()),
    }
}

pub fn change(c: &ChangeFields<'_>) -> Result {
    first(change_problems(c))
}

/// Every field of `c` that breaks a rule, in the form's order: title, owner, product area,
/// expected changes, the two configurations, then every problem of the plan.
pub fn change_problems(c: &ChangeFields<'_>) -> Vec<FieldError> {
    let area = |area: &str| -> Result {
        text("product_area", area, 0, MAX_PRODUCT_AREA)?;
        if area.chars().any(char::is_control) {
            return Err(FieldError::new("product_area", "must be one line of text"));
        }
        Ok(())
    };
    [
        text("title", c.title, 1, MAX_TITLE),
        text("owner", c.owner, 1, MAX_OWNER),
        c.product_area.map_or(Ok(()), area),
        text("expected_changes", c.expected_changes, 0, MAX_TEXT),
        config("baseline", c.baseline),
        config("candidate", c.candidate),
    ]
    .into_iter()
    .filter_map(std::result::Result::err)
    .chain(plan_problems(c.plan))
    .collect()
}

/// The first of `problems`, as a rule's result.
fn first(problems: Vec<FieldError>) -> Result {
    problems.into_iter().next().map_or(Ok(()), Err)
}

/// A transition's reason, when one is given.
pub fn reason(reason: Option<&str>) -> Result {
    match reason {
        Some(r) => text("reason", r, 0, MAX_REASON),
        None => Ok(()),
    }
}

/// Highest page number a paged route serves: deeper pages only cost the database an offset
/// scan and no one reads them (narrow the filter instead).
pub const MAX_PAGE: u32 = 10_000;
/// Most rows on one page of any paged route.
pub const MAX_PER_PAGE: u32 = 200;

/// A paged route's `page` (default 1, at most [`MAX_PAGE`]) and `per_page` (default
/// `default_per_page`, 1–[`MAX_PER_PAGE`]).
pub fn paging(
    page: Option<u32>,
    per_page: Option<u32>,
    default_per_page: u32,
) -> Result<(u32, u32)> {
    let page = page.unwrap_or(1);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(FieldError::new(
            "page",
            format!("pages are numbered from 1 to {MAX_PAGE}"),
        ));
    }
    let per_page = per_page.unwrap_or(default_per_page);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(FieldError::new(
            "per_page",
            format!("must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    Ok((page, per_page))
}

/// What a text holding U+0000 is told. PostgreSQL's `text` cannot store the character (the
/// server would fail with a 500), and no one types it: it is a probe or a broken client.
const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// `value` of the field `field` holds no U+0000.
pub fn no_nul(field: &str, value: &str) -> Result {
    if value.contains('\0') {
        return Err(FieldError::new(field, NUL_MESSAGE));
    }
    Ok(())
}

/// No string or object key anywhere in the JSON document `value` holds U+0000; else the
/// error names the first one by its path (`plan.ramp[2].label`), as the other rules do.
pub fn no_nul_in(value: &Value) -> Result {
    fn walk(value: &Value, path: &str) -> Result {
        let join = |key: &str| {
            if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            }
        };
        match value {
            Value::String(s) => no_nul(path, s),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            Value::Object(map) => map.iter().try_for_each(|(key, item)| {
                let at = join(&key.replace('\0', "\\u0000"));
                no_nul(&at, key)?;
                walk(item, &at)
            }),
            _ => Ok(()),
        }
    }
    walk(value, "")
}

/// A transition's `revision`: required, so a repeated request cannot move a rollout twice.
pub fn transition_revision(revision: Option<i64>) -> Result<i64> {
    revision.ok_or_else(|| {
        FieldError::new(
            "revision",
            "is required: the revision of the change the decision was based on",
        )
    })
}

fn text(field: &str, value: &str, min: usize, max: usize) -> Result {
    let len = value.trim().chars().count();
    if len < min {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

fn config(field: &str, value: &Value) -> Result {
    if !value.is_object() {
        return Err(FieldError::new(
            field,
            "must be a JSON object (e.g. {\"model\": \"…\", \"prompt_version\": \"…\"})",
        ));
    }
    if value.to_string().len() > MAX_CONFIG_BYTES {
        return Err(FieldError::new(
            field,
            format!("must be at most {} KiB", MAX_CONFIG_BYTES / 1024),
        ));
    }
    Ok(())
}

fn number(field: &str, x: f64, lo: f64, hi: f64, what: &str) -> Result {
    if !x.is_finite() || x < lo || x > hi {
        return Err(FieldError::new(field, format!("must be {what}")));
    }
    Ok(())
}

fn list_len(field: &str, len: usize, max: usize) -> Result {
    if len > max {
        return Err(FieldError::new(
            field,
            format!("must have at most {max} entries"),
        ));
    }
    Ok(())
}

/// A stage's longest time without a decision: absent, or from its minimum time to 30 days.
fn max_hours(field: &str, value: Option<f64>, min_hours: f64) -> Result {
    match value {
        None => Ok(()),
        Some(h) => number(
            field,
            h,
            min_hours,
            24.0 * 30.0,
            &format!("between the stage's minimum time ({min_hours} h) and 720 (hours)"),
        ),
    }
}

/// Rules for a plan: canary 1–5 % for 1–24 h; ramp steps above the canary, strictly increasing,
/// ending at 100 %; thresholds positive and finite. The answer is the first of
/// [`plan_problems`].
pub fn plan(p: &RolloutPlan) -> Result {
    first(plan_problems(p))
}

/// Every field of `p` that breaks a rule, each once, in the plan editor's order. A ramp step
/// is compared with the last step before it whose traffic is itself in range, so one wrong
/// step is named once, not again in the step after it.
pub fn plan_problems(p: &RolloutPlan) -> Vec<FieldError> {
    let mut out: Vec<Result> = vec![
        number(
            "plan.eval_gate.min_pass_rate",
            p.eval_gate.min_pass_rate,
            0.0,
            1.0,
            "a rate between 0 and 1",
        ),
        list_len(
            "plan.eval_gate.critical_categories",
            p.eval_gate.critical_categories.len(),
            MAX_LIST,
        ),
    ];
    for (i, c) in p.eval_gate.critical_categories.iter().enumerate() {
        out.push(text(
            &format!("plan.eval_gate.critical_categories[{i}]"),
            c,
            1,
            100,
        ));
    }
    let canary = number(
        "plan.canary.percent",
        p.canary.percent,
        1.0,
        5.0,
        "between 1 and 5 (% of traffic)",
    );
    let canary_ok = canary.is_ok();
    out.push(canary);
    let canary_hours = number(
        "plan.canary.min_duration_hours",
        p.canary.min_duration_hours,
        1.0,
        24.0,
        "between 1 and 24 (hours)",
    );
    let canary_hours_ok = canary_hours.is_ok();
    out.push(canary_hours);
    if canary_hours_ok {
        out.push(max_hours(
            "plan.canary.max_hours",
            p.canary.max_hours,
            p.canary.min_duration_hours,
        ));
    }
    if p.ramp.is_empty() {
        out.push(Err(FieldError::new(
            "plan.ramp",
            "needs at least one step (the last at 100%)",
        )));
    }
    out.push(list_len("plan.ramp", p.ramp.len(), MAX_RAMP_STEPS));
    let mut previous = canary_ok.then_some(p.canary.percent);
    for (i, step) in p.ramp.iter().enumerate() {
        let field = format!("plan.ramp[{i}].percent");
        let mut percent = number(
            &field,
            step.percent,
            0.0,
            100.0,
            "between 0 and 100 (% of traffic)",
        );
        if percent.is_ok() {
            if let Some(before) = previous.filter(|before| step.percent <= *before) {
                percent = Err(FieldError::new(
                    field,
                    format!("must be above the previous stage's {before}%"),
                ));
            } else {
                previous = Some(step.percent);
            }
        }
        out.push(percent);
        let hours = if step.ab_test {
            number(
                &format!("plan.ramp[{i}].min_duration_hours"),
                step.min_duration_hours,
                crate::ab::MIN_HOURS,
                crate::ab::MAX_HOURS,
                "an A/B test's declared duration: between 24 and 2160 (hours, 1–90 days)",
            )
        } else {
            number(
                &format!("plan.ramp[{i}].min_duration_hours"),
                step.min_duration_hours,
                0.0,
                24.0 * 30.0,
                "between 0 and 720 (hours)",
            )
        };
        let hours_ok = hours.is_ok();
        out.push(hours);
        if hours_ok {
            out.push(max_hours(
                &format!("plan.ramp[{i}].max_hours"),
                step.max_hours,
                step.min_duration_hours,
            ));
        }
    }
    out.extend(crate::ab::plan_problems(p).into_iter().map(Err));
    if let Some(last) = p.ramp.last()
        && last.percent != 100.0
    {
        let field = format!("plan.ramp[{}].percent", p.ramp.len() - 1);
        if !out
            .iter()
            .any(|r| r.as_ref().is_err_and(|e| e.field == field))
        {
            out.push(Err(FieldError::new(
                field,
                "the last ramp step must reach 100%",
            )));
        }
    }
    out.push(list_len("plan.audiences", p.audiences.len(), MAX_LIST));
    for (i, a) in p.audiences.iter().enumerate() {
        out.push(text(&format!("plan.audiences[{i}].name"), &a.name, 1, 100));
    }
    out.push(list_len("plan.criteria", p.criteria.len(), MAX_LIST));
    for (i, c) in p.criteria.iter().enumerate() {
        let key = &c.metric;
        if key.is_empty()
            || key.len() > 64
            || !key
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
        {
            out.push(Err(FieldError::new(
                format!("plan.criteria[{i}].metric"),
                "must be a metric key: 1–64 of a–z, 0–9 and _",
            )));
        }
        let field = format!("plan.criteria[{i}].threshold");
        out.push(match c.threshold_kind {
            ThresholdKind::Relative => number(
                &field,
                c.threshold,
                1e-9,
                100.0,
                "a positive share (0.15 = 15%)",
            ),
            ThresholdKind::Absolute => {
                number(&field, c.threshold, 1e-12, 1e12, "a positive amount")
            }
            ThresholdKind::Level => number(&field, c.threshold, -1e12, 1e12, "a finite level"),
        });
    }
    out.push(list_len("plan.checklist", p.checklist.len(), MAX_LIST));
    for (i, item) in p.checklist.iter().enumerate() {
        out.push(text(
            &format!("plan.checklist[{i}].text"),
            &item.text,
            1,
            500,
        ));
    }
    if let Some(limit) = p.new_category_limit_per_1000 {
        out.push(number(
            "plan.new_category_limit_per_1000",
            limit,
            0.0,
            1000.0,
            "a rate per 1 000 candidate requests, between 0 and 1000",
        ));
    }
    out.into_iter()
        .filter_map(std::result::Result::err)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_new_category_limit_is_a_rate_per_thousand() {
        let mut p = crate::plan::PlanTemplate::Standard.plan();
        assert!(super::plan(&p).is_ok());
        for ok in [0.0, 2.5, 1000.0] {
            p.new_category_limit_per_1000 = Some(ok);
            assert!(super::plan(&p).is_ok(), "{ok}");
        }
        for bad in [-1.0, 1000.5, f64::NAN] {
            p.new_category_limit_per_1000 = Some(bad);
            let e = super::plan(&p).unwrap_err();
            assert_eq!(e.field, "plan.new_category_limit_per_1000", "{bad}");
        }
    }

    #[test]
    fn nul_characters_are_refused_where_they_are() {
        use serde_json::json;
        assert!(super::no_nul("title", "fine").is_ok());
        assert_eq!(super::no_nul("title", "a\0b").unwrap_err().field, "title");
        assert!(super::no_nul_in(&json!({"a": ["x", {"b": 1}]})).is_ok());
        let doc =
            json!({"email": "a@b.c", "plan": {"ramp": [{"label": "ok"}, {"label": "x\u{0}"}]}});
        assert_eq!(
            super::no_nul_in(&doc).unwrap_err().field,
            "plan.ramp[1].label"
        );
        let key = json!({"metrics": {"bad\u{0}key": 1}});
        assert_eq!(
            super::no_nul_in(&key).unwrap_err().field,
            "metrics.bad\\u0000key"
        );
    }

    #[test]
    fn paging_has_defaults_and_bounds() {
        assert_eq!(super::paging(None, None, 20), Ok((1, 20)));
        assert_eq!(
            super::paging(Some(10_000), Some(200), 20),
            Ok((10_000, 200))
        );
        for (page, per_page, field) in [
            (Some(0), None, "page"),
            (Some(10_001), None, "page"),
            (None, Some(0), "per_page"),
            (None, Some(201), "per_page"),
        ] {
            let e = super::paging(page, per_page, 20).unwrap_err();
            assert_eq!(e.field, field);
        }
    }

    use super::*;

    #[test]
    fn an_ab_step_runs_one_to_ninety_days() {
        let with_ab = |hours: f64| {
            let mut p = PlanTemplate::Standard.plan();
            p.ramp[2].min_duration_hours = hours;
            p.ramp[2].max_hours = None;
            p.ramp[2].ab_test = true;
            p
        };
        assert_eq!(
            plan(&with_ab(12.0)).unwrap_err().field,
            "plan.ramp[2].min_duration_hours"
        );
        assert_eq!(
            plan(&with_ab(91.0 * 24.0)).unwrap_err().field,
            "plan.ramp[2].min_duration_hours"
        );
        // Beyond the 30 days an ordinary step may last, an A/B test may run.
        assert!(plan(&with_ab(60.0 * 24.0)).is_ok());
        let mut full = PlanTemplate::Standard.plan();
        full.ramp[3].ab_test = true;
        full.ramp[3].min_duration_hours = 48.0;
        full.ramp[3].max_hours = None;
        assert_eq!(plan(&full).unwrap_err().field, "plan.ramp[3].ab_test");
    }
    use crate::plan::PlanTemplate;

    fn new() -> NewChange {
        NewChange {
            title: "Shorter system prompt for billing answers".into(),
            kind: ChangeKind::Prompt,
            risk: RiskTier::Standard,
            baseline: serde_json::json!({"prompt_version": "billing-v12"}),
            candidate: serde_json::json!({"prompt_version": "billing-v13"}),
            expected_changes: "Answers get shorter.".into(),
            owner: "ana@example.com".into(),
            product_area: Some("Billing chat".into()),
            template: None,
            plan: None,
            flag_key: None,
        }
    }

    #[test]
    fn flag_keys_are_url_safe_slugs() {
        for ok in ["a", "billing-prompt-v2", "0.9_x-y", &"a".repeat(64)] {
            assert!(flag_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", ".a", "A", "a b", "a/b", "é", &"a".repeat(65)] {
            assert_eq!(flag_key(bad).unwrap_err().field, "flag_key", "{bad}");
        }
        assert_eq!(
            flag_key_from_title("Shorter system prompt, for Billing!"),
            "shorter-system-prompt-for-billing"
        );
        assert_eq!(flag_key_from_title("  ¿Qué? "), "qu");
        assert_eq!(flag_key_from_title("!!!"), "change");
        let long = flag_key_from_title(&"word ".repeat(40));
        assert!(long.len() <= 48 && flag_key(&long).is_ok(), "{long}");
    }

    #[test]
    fn product_area_is_optional_short_and_one_line() {
        let mut c = new();
        c.product_area = None;
        new_change(&c).unwrap();
        c.product_area = Some("x".repeat(MAX_PRODUCT_AREA + 1));
        assert_eq!(field_of(new_change(&c)), "product_area");
        c.product_area = Some("Billing\nchat".into());
        assert_eq!(field_of(new_change(&c)), "product_area");
        assert_eq!(
            product_area(Some("  Billing chat ")),
            Some("Billing chat".into())
        );
        assert_eq!(product_area(Some("   ")), None);
        assert_eq!(product_area(None), None);
    }

    fn field_of(r: Result) -> String {
        r.unwrap_err().field
    }

    #[test]
    fn templates_are_valid() {
        for t in PlanTemplate::ALL {
            plan(&t.plan()).unwrap();
        }
        new_change(&new()).unwrap();
    }

    #[test]
    fn empty_title_and_owner_are_refused() {
        let mut c = new();
        c.title = "   ".into();
        assert_eq!(field_of(new_change(&c)), "title");
        let mut c = new();
        c.owner = String::new();
        assert_eq!(field_of(new_change(&c)), "owner");
        let mut c = new();
        c.title = "x".repeat(MAX_TITLE + 1);
        assert_eq!(field_of(new_change(&c)), "title");
    }

    #[test]
    fn configurations_must_be_objects() {
        let mut c = new();
        c.candidate = serde_json::json!("gpt-x");
        assert_eq!(field_of(new_change(&c)), "candidate");
    }

    #[test]
    fn canary_percent_must_be_1_to_5() {
        for bad in [0.5, 5.5, f64::NAN, -1.0] {
            let mut p = PlanTemplate::Standard.plan();
            p.canary.percent = bad;
            assert_eq!(field_of(plan(&p)), "plan.canary.percent", "{bad}");
        }
        let mut p = PlanTemplate::Standard.plan();
        p.canary.min_duration_hours = 30.0;
        assert_eq!(field_of(plan(&p)), "plan.canary.min_duration_hours");
    }

    #[test]
    fn ramp_must_increase_to_100() {
        let mut p = PlanTemplate::Standard.plan();
        p.ramp[2].percent = 20.0;
        assert_eq!(field_of(plan(&p)), "plan.ramp[2].percent");
        let mut p = PlanTemplate::Standard.plan();
        p.ramp.pop();
        assert_eq!(field_of(plan(&p)), "plan.ramp[2].percent");
        let mut p = PlanTemplate::Standard.plan();
        p.ramp[0].percent = 140.0;
        assert_eq!(field_of(plan(&p)), "plan.ramp[0].percent");
        let mut p = PlanTemplate::Standard.plan();
        p.ramp.clear();
        assert_eq!(field_of(plan(&p)), "plan.ramp");
    }

    #[test]
    fn criteria_need_keys_and_positive_thresholds() {
        let mut p = PlanTemplate::Standard.plan();
        p.criteria[1].threshold = -0.1;
        assert_eq!(field_of(plan(&p)), "plan.criteria[1].threshold");
        let mut p = PlanTemplate::Standard.plan();
        p.criteria[0].metric = "Cost Per Request".into();
        assert_eq!(field_of(plan(&p)), "plan.criteria[0].metric");
    }

    #[test]
    fn every_broken_plan_field_is_listed_once_in_the_editors_order() {
        let mut p = PlanTemplate::Standard.plan();
        p.eval_gate.min_pass_rate = 1.5;
        p.canary.percent = 50.0;
        p.ramp[0].percent = 140.0;
        p.ramp[2].percent = 20.0;
        p.ramp[2].min_duration_hours = -1.0;
        p.criteria[0].metric = "Cost".into();
        p.criteria[1].threshold = f64::NAN;
        let fields: Vec<String> = plan_problems(&p).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "plan.eval_gate.min_pass_rate",
                "plan.canary.percent",
                "plan.ramp[0].percent",
                "plan.ramp[2].percent",
                "plan.ramp[2].min_duration_hours",
                "plan.criteria[0].metric",
                "plan.criteria[1].threshold",
            ]
        );
        assert_eq!(field_of(plan(&p)), "plan.eval_gate.min_pass_rate");
        // A step below the one before is named, and the steps after it are compared with the
        // last good one; a last step short of 100 % is named once.
        let mut p = PlanTemplate::Standard.plan();
        let last = p.ramp.len() - 1;
        p.ramp[last].percent = 90.0;
        let problems = plan_problems(&p);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].message, "the last ramp step must reach 100%");
    }

    #[test]
    fn every_broken_field_is_listed_and_the_first_is_the_answer() {
        let mut c = new();
        c.title = " ".into();
        c.owner = String::new();
        c.candidate = serde_json::json!([1]);
        let mut p = PlanTemplate::Standard.plan();
        p.canary.percent = 50.0;
        c.plan = Some(p);
        let fields: Vec<String> = new_change_problems(&c)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["title", "owner", "candidate", "plan.canary.percent"]
        );
        assert_eq!(field_of(new_change(&c)), "title");
        assert!(new_change_problems(&new()).is_empty());
    }
}
