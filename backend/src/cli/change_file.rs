//! `rollgate change apply`'s file: a change described by its flag key, in TOML or JSON.
//!
//! ```toml
//! flag_key = "billing-prompt-v13"
//! title = "Shorter system prompt for billing answers"
//! kind = "prompt"
//! risk = "standard"
//! owner = "ana@example.com"
//! expected_changes = "Answers get shorter."
//! template = "standard"          # or a whole [plan]
//! [flag_rules]                   # optional: PUT /api/v1/changes/{id}/flag-rules
//! holdout_percent = 5
//! holdout_days = 14
//! [baseline]
//! prompt_version = "billing-v12"
//! [candidate]
//! prompt_version = "billing-v13"
//! ```
//!
//! The keys are those of `POST /api/v1/changes` plus `flag_key` and the flag's rules
//! (`flag_rules`, set while the change is a draft; left as they are when absent). Every problem the file has is
//! collected (unknown keys, missing ones, wrong types, broken rules), each named by its path,
//! before anything is sent.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use shared::api::{ChangeUpdate, NewChange};
use shared::assignment::FlagRules;
use shared::change::{AiChange, ChangeKind, RiskTier};
use shared::plan::{PlanTemplate, RolloutPlan};
use shared::validate;

use super::client::{Failure, Result};

/// The keys a change file may hold.
const KEYS: &[&str] = &[
    "flag_key",
    "title",
    "kind",
    "risk",
    "owner",
    "expected_changes",
    "product_area",
    "baseline",
    "candidate",
    "template",
    "plan",
    "flag_rules",
];

/// A change file, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeFile {
    pub flag_key: String,
    pub new: NewChange,
    /// The flag's rules, when the file gives them.
    pub flag_rules: Option<FlagRules>,
}

impl ChangeFile {
    /// Reads `path`: TOML when it ends in `.toml`, JSON when it ends in `.json`, else JSON if it
    /// starts with `{` and TOML otherwise.
    pub fn read(path: &Path) -> Result<ChangeFile> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("cannot read {name}: {e}")))?;
        let toml = match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("toml") => true,
            Some(e) if e.eq_ignore_ascii_case("json") => false,
            _ => !text.trim_start().starts_with('{'),
        };
        let one = |problem: String| Failure::Problems {
            file: name.clone(),
            problems: vec![problem],
        };
        let doc: Value = if toml {
            toml::from_str(&text).map_err(|e| one(format!("not valid TOML: {}", e.message())))?
        } else {
            serde_json::from_str(&text).map_err(|e| one(format!("not valid JSON: {e}")))?
        };
        parse(&doc).map_err(|problems| Failure::Problems {
            file: name,
            problems,
        })
    }

    /// The edit that gives the change `current` this file's content.
    pub fn update_of(&self, current: &AiChange) -> ChangeUpdate {
        ChangeUpdate {
            revision: current.revision,
            title: self.new.title.clone(),
            kind: self.new.kind,
            risk: self.new.risk,
            baseline: self.new.baseline.clone(),
            candidate: self.new.candidate.clone(),
            expected_changes: self.new.expected_changes.clone(),
            owner: self.new.owner.clone(),
            product_area: self.new.product_area.clone(),
            plan: self.new.resolved_plan(),
            flag_key: Some(self.flag_key.clone()),
        }
    }

    /// Whether `current` already holds this file's content, as the server stores it (text as
    /// sent, a blank product area absent).
    pub fn matches(&self, current: &AiChange) -> bool {
        let n = &self.new;
        current.flag_key == self.flag_key
            && current.title == n.title
            && current.kind == n.kind
            && current.risk == n.risk
            && current.baseline == n.baseline
            && current.candidate == n.candidate
            && current.expected_changes == n.expected_changes
            && current.owner == n.owner
            && current.product_area == validate::product_area(n.product_area.as_deref())
            && current.plan == n.resolved_plan()
            && self.rules_match(current)
    }

    /// Whether `current`'s flag rules are the file's (or the file gives none).
    pub fn rules_match(&self, current: &AiChange) -> bool {
        self.flag_rules
            .as_ref()
            .is_none_or(|r| *r == current.flag_rules)
    }
}

/// Every problem of `doc` as a change file, each as `path: message`.
pub fn parse(doc: &Value) -> std::result::Result<ChangeFile, Vec<String>> {
    let Some(map) = doc.as_object() else {
        return Err(vec![
            "the file must hold a table (TOML) or an object (JSON) of keys".to_owned(),
        ]);
    };
    let mut problems = Vec::new();
    for key in map.keys() {
        if !KEYS.contains(&key.as_str()) {
            problems.push(format!(
                "{key}: unknown key; the keys are {}",
                KEYS.join(", ")
            ));
        }
    }
    let flag_key: Option<String> = field(map, "flag_key", true, &mut problems);
    let title: Option<String> = field(map, "title", true, &mut problems);
    let kind: Option<ChangeKind> = field(map, "kind", true, &mut problems);
    let risk: Option<RiskTier> = field(map, "risk", true, &mut problems);
    let owner: Option<String> = field(map, "owner", true, &mut problems);
    let expected_changes: Option<String> = field(map, "expected_changes", false, &mut problems);
    let product_area: Option<String> = field(map, "product_area", false, &mut problems);
    let baseline: Option<Map<String, Value>> = field(map, "baseline", false, &mut problems);
    let candidate: Option<Map<String, Value>> = field(map, "candidate", false, &mut problems);
    let template: Option<PlanTemplate> = field(map, "template", false, &mut problems);
    let plan: Option<RolloutPlan> = field(map, "plan", false, &mut problems);
    let flag_rules: Option<FlagRules> = field(map, "flag_rules", false, &mut problems);
    if let Some(Err(e)) = flag_rules.as_ref().map(FlagRules::validate) {
        // The rules name their fields `rules.…`; in the file they sit under `flag_rules`.
        let path = e.field.strip_prefix("rules").unwrap_or(&e.field);
        problems.push(format!("flag_rules{path}: {}", e.message));
    }
    if map.contains_key("template") && map.contains_key("plan") {
        problems.push("template: give `template` or a whole `plan`, not both".to_owned());
    }
    let (Some(flag_key), Some(title), Some(kind), Some(risk), Some(owner)) =
        (flag_key, title, kind, risk, owner)
    else {
        return Err(problems);
    };
    let new = NewChange {
        title,
        kind,
        risk,
        baseline: Value::Object(baseline.unwrap_or_default()),
        candidate: Value::Object(candidate.unwrap_or_default()),
        expected_changes: expected_changes.unwrap_or_default(),
        owner,
        product_area,
        template,
        plan,
        flag_key: Some(flag_key.clone()),
    };
    for e in validate::new_change_problems(&new) {
        problems.push(format!("{}: {}", e.field, e.message));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ChangeFile {
        flag_key,
        new,
        flag_rules,
    })
}

/// The value of `key` as a `T`; a problem naming the path inside it when it is not one.
fn field<T: DeserializeOwned>(
    map: &Map<String, Value>,
    key: &str,
    required: bool,
    problems: &mut Vec<String>,
) -> Option<T> {
    let Some(value) = map.get(key) else {
        if required {
            problems.push(format!("{key}: missing"));
        }
        return None;
    };
    // Read as a one-key object so that the JSON extractor's path (`plan.ramp[2].percent`)
    // starts at the key, with the API's wording for each kind of mistake.
    let one = Value::Object(Map::from_iter([(key.to_owned(), value.clone())]));
    let bytes = serde_json::to_vec(&one).unwrap_or_default();
    match rollgate::http::extract::parse_json::<BTreeMap<String, T>>(&bytes) {
        Ok(mut m) => m.remove(key),
        Err(rollgate::error::Error::Validation { field, message }) => {
            problems.push(match field {
                // The extractor's message already starts with the field.
                Some(_) => message,
                None => format!("{key}: {message}"),
            });
            None
        }
        Err(e) => {
            problems.push(format!("{key}: {e}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "flag_key": "billing-prompt-v13",
            "title": "Shorter billing answers",
            "kind": "prompt",
            "risk": "standard",
            "owner": "ana@example.com",
            "baseline": { "prompt_version": "v12" },
            "candidate": { "prompt_version": "v13" },
        })
    }

    #[test]
    fn a_good_file_reads() {
        let f = parse(&good()).expect("good");
        assert_eq!(f.flag_key, "billing-prompt-v13");
        assert_eq!(f.new.kind, ChangeKind::Prompt);
    }

    #[test]
    fn every_problem_is_named_by_its_path() {
        let mut doc = good();
        doc["colour"] = json!("blue");
        doc["risk"] = json!(3);
        doc["flag_key"] = json!("Not A Key");
        let mut plan = serde_json::to_value(PlanTemplate::Standard.plan()).expect("plan");
        plan["ramp"][0]["percent"] = json!("fifty");
        doc["plan"] = plan;
        let problems = parse(&doc).expect_err("bad");
        let starts = |p: &str| problems.iter().any(|x| x.starts_with(p));
        assert!(starts("colour: unknown key"), "{problems:?}");
        assert!(starts("risk: "), "{problems:?}");
        assert!(starts("plan.ramp[0].percent: "), "{problems:?}");
        assert_eq!(problems.len(), 3, "{problems:?}");

        // With the types right, the rules speak: the flag key and the plan's numbers.
        let mut doc = good();
        doc["flag_key"] = json!("Not A Key");
        let mut plan = serde_json::to_value(PlanTemplate::Standard.plan()).expect("plan");
        plan["ramp"][0]["percent"] = json!(250.0);
        plan["canary"]["percent"] = json!(50.0);
        plan["criteria"][1]["threshold"] = json!(-1.0);
        doc["plan"] = plan;
        doc["owner"] = json!("");
        let problems = parse(&doc).expect_err("bad");
        for path in [
            "flag_key: ",
            "owner: ",
            "plan.canary.percent: ",
            "plan.ramp[0].percent: ",
            "plan.criteria[1].threshold: ",
        ] {
            assert!(starts_with(&problems, path), "{path}: {problems:?}");
        }
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn flag_rules_read_and_are_checked_under_their_key() {
        let mut doc = good();
        doc["flag_rules"] = json!({ "holdout_percent": 5, "holdout_days": 14 });
        let f = parse(&doc).expect("good");
        let rules = f.flag_rules.expect("rules");
        assert_eq!((rules.holdout_percent, rules.holdout_days), (5.0, 14));
        doc["flag_rules"] = json!({ "holdout_days": 14 });
        let problems = parse(&doc).expect_err("bad");
        assert!(
            starts_with(&problems, "flag_rules.holdout_days: "),
            "{problems:?}"
        );
        doc["flag_rules"] = json!({ "holdout_percent": "five" });
        let problems = parse(&doc).expect_err("bad");
        assert!(
            starts_with(&problems, "flag_rules.holdout_percent: "),
            "{problems:?}"
        );
    }

    fn starts_with(problems: &[String], p: &str) -> bool {
        problems.iter().any(|x| x.starts_with(p))
    }

    #[test]
    fn missing_keys_are_listed() {
        let problems = parse(&json!({ "title": "x" })).expect_err("bad");
        for key in ["flag_key", "kind", "risk", "owner"] {
            assert!(
                problems.contains(&format!("{key}: missing")),
                "{problems:?}"
            );
        }
    }
}
