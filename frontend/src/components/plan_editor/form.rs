//! The plan being edited: every number kept as the text the user typed, read back into a
//! [`RolloutPlan`] by [`PlanForm::read`], which names the field at fault with the paths of
//! `shared::validate`.

use leptos::prelude::*;
use shared::plan::{
    Audience, AudienceKind, BadDirection, CanaryStage, ChecklistItem, EvalGate, PlanTemplate,
    RampStep, RollbackCriterion, RolloutPlan, ThresholdKind,
};
use shared::validate::FieldError;

use crate::format;

#[derive(Clone, Copy)]
pub struct RampRow {
    pub(super) key: u32,
    pub(super) percent: RwSignal<String>,
    pub(super) hours: RwSignal<String>,
    pub(super) samples: RwSignal<String>,
    pub(super) ab: RwSignal<bool>,
}

#[derive(Clone, Copy)]
pub struct AudienceRow {
    pub(super) key: u32,
    pub(super) kind: RwSignal<AudienceKind>,
    pub(super) name: RwSignal<String>,
}

#[derive(Clone, Copy)]
pub struct CriterionRow {
    pub(super) key: u32,
    pub(super) metric: RwSignal<String>,
    pub(super) direction: RwSignal<BadDirection>,
    pub(super) threshold_kind: RwSignal<ThresholdKind>,
    pub(super) threshold: RwSignal<String>,
}

#[derive(Clone, Copy)]
pub struct ChecklistRow {
    pub(super) key: u32,
    pub(super) text: RwSignal<String>,
    pub(super) done: RwSignal<bool>,
}

/// The plan being edited, as signals.
#[derive(Clone, Copy)]
pub struct PlanForm {
    pub template: RwSignal<PlanTemplate>,
    pub(super) min_pass_rate: RwSignal<String>,
    pub(super) critical: RwSignal<String>,
    pub(super) canary_percent: RwSignal<String>,
    pub(super) canary_hours: RwSignal<String>,
    pub(super) ramp: RwSignal<Vec<RampRow>>,
    pub(super) audiences: RwSignal<Vec<AudienceRow>>,
    pub(super) criteria: RwSignal<Vec<CriterionRow>>,
    pub(super) checklist: RwSignal<Vec<ChecklistRow>>,
    pub(super) next_key: StoredValue<u32>,
    /// The plan last filled in: the guardian's settings (`max_hours`, `automatic_rollback`),
    /// which the form does not show, are kept from it.
    pub(super) filled: StoredValue<Option<RolloutPlan>>,
}

pub(super) const AUDIENCE_KINDS: [AudienceKind; 4] = [
    AudienceKind::Internal,
    AudienceKind::PowerUsers,
    AudienceKind::Cohort,
    AudienceKind::OptedIn,
];

pub(super) fn audience_value(k: AudienceKind) -> &'static str {
    match k {
        AudienceKind::Internal => "internal",
        AudienceKind::PowerUsers => "power_users",
        AudienceKind::Cohort => "cohort",
        AudienceKind::OptedIn => "opted_in",
    }
}

pub(super) fn threshold_kind_value(k: ThresholdKind) -> &'static str {
    match k {
        ThresholdKind::Relative => "relative",
        ThresholdKind::Absolute => "absolute",
        ThresholdKind::Level => "level",
    }
}

pub(super) fn direction_value(d: BadDirection) -> &'static str {
    match d {
        BadDirection::Increase => "increase",
        BadDirection::Decrease => "decrease",
    }
}

/// f64 as typed text: Rust's shortest round-trip form ("0.9", "5", "2500").
pub(super) fn num_text(x: f64) -> String {
    x.to_string()
}

pub(super) fn parse_num(field: &str, text: &str) -> Result<f64, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    format::parse_f64(t)
        .filter(|x| x.is_finite())
        .ok_or_else(|| FieldError::new(field, "must be a number"))
}

impl PlanForm {
    pub fn new(plan: &RolloutPlan) -> Self {
        let form = PlanForm {
            template: RwSignal::new(plan.template),
            min_pass_rate: RwSignal::new(String::new()),
            critical: RwSignal::new(String::new()),
            canary_percent: RwSignal::new(String::new()),
            canary_hours: RwSignal::new(String::new()),
            ramp: RwSignal::new(Vec::new()),
            audiences: RwSignal::new(Vec::new()),
            criteria: RwSignal::new(Vec::new()),
            checklist: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
            filled: StoredValue::new(None),
        };
        form.fill(plan);
        form
    }

    fn key(&self) -> u32 {
        self.next_key.update_value(|k| *k += 1);
        self.next_key.get_value()
    }

    pub(super) fn ramp_row(&self, s: &RampStep) -> RampRow {
        RampRow {
            key: self.key(),
            percent: RwSignal::new(num_text(s.percent)),
            hours: RwSignal::new(num_text(s.min_duration_hours)),
            samples: RwSignal::new(s.min_samples.to_string()),
            ab: RwSignal::new(s.ab_test),
        }
    }

    pub(super) fn audience_row(&self, a: &Audience) -> AudienceRow {
        AudienceRow {
            key: self.key(),
            kind: RwSignal::new(a.kind),
            name: RwSignal::new(a.name.clone()),
        }
    }

    pub(super) fn criterion_row(&self, c: &RollbackCriterion) -> CriterionRow {
        CriterionRow {
            key: self.key(),
            metric: RwSignal::new(c.metric.clone()),
            direction: RwSignal::new(c.bad_direction),
            threshold_kind: RwSignal::new(c.threshold_kind),
            threshold: RwSignal::new(num_text(c.threshold)),
        }
    }

    pub(super) fn checklist_row(&self, c: &ChecklistItem) -> ChecklistRow {
        ChecklistRow {
            key: self.key(),
            text: RwSignal::new(c.text.clone()),
            done: RwSignal::new(c.done),
        }
    }

    /// Replaces everything in the form with `plan`.
    pub fn fill(&self, plan: &RolloutPlan) {
        self.filled.set_value(Some(plan.clone()));
        self.template.set(plan.template);
        self.min_pass_rate
            .set(num_text(plan.eval_gate.min_pass_rate));
        self.critical
            .set(plan.eval_gate.critical_categories.join(", "));
        self.canary_percent.set(num_text(plan.canary.percent));
        self.canary_hours
            .set(num_text(plan.canary.min_duration_hours));
        self.ramp
            .set(plan.ramp.iter().map(|s| self.ramp_row(s)).collect());
        self.audiences.set(
            plan.audiences
                .iter()
                .map(|a| self.audience_row(a))
                .collect(),
        );
        self.criteria.set(
            plan.criteria
                .iter()
                .map(|c| self.criterion_row(c))
                .collect(),
        );
        self.checklist.set(
            plan.checklist
                .iter()
                .map(|c| self.checklist_row(c))
                .collect(),
        );
    }

    /// The plan as typed, with every field that is not a number where one is needed (such a
    /// field reads as NaN in the plan). Range rules are `shared::validate::plan_problems`' job.
    pub fn read(&self) -> (RolloutPlan, Vec<FieldError>) {
        let unreadable = std::cell::RefCell::new(Vec::new());
        let num = |field: &str, text: &str| {
            parse_num(field, text).unwrap_or_else(|e| {
                unreadable.borrow_mut().push(e);
                f64::NAN
            })
        };
        let eval_gate = EvalGate {
            min_pass_rate: num(
                "plan.eval_gate.min_pass_rate",
                &self.min_pass_rate.get_untracked(),
            ),
            critical_categories: self
                .critical
                .get_untracked()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        };
        let filled = self.filled.get_value();
        // A kept limit below a newly typed minimum is dropped rather than refused for a field
        // the form does not show.
        let keep = |max: Option<f64>, min: f64| max.filter(|m| *m >= min);
        let canary_percent = num("plan.canary.percent", &self.canary_percent.get_untracked());
        let canary_min = num(
            "plan.canary.min_duration_hours",
            &self.canary_hours.get_untracked(),
        );
        let canary = CanaryStage {
            percent: canary_percent,
            min_duration_hours: canary_min,
            max_hours: keep(filled.as_ref().and_then(|p| p.canary.max_hours), canary_min),
        };
        let mut ramp = Vec::new();
        for (i, r) in self.ramp.get_untracked().iter().enumerate() {
            let percent = num(
                &format!("plan.ramp[{i}].percent"),
                &r.percent.get_untracked(),
            );
            let min_duration_hours = num(
                &format!("plan.ramp[{i}].min_duration_hours"),
                &r.hours.get_untracked(),
            );
            let samples_text = r.samples.get_untracked();
            let samples_text = samples_text.trim();
            let min_samples = if samples_text.is_empty() {
                0
            } else {
                samples_text.parse::<u64>().unwrap_or_else(|_| {
                    unreadable.borrow_mut().push(FieldError::new(
                        format!("plan.ramp[{i}].min_samples"),
                        "must be a whole number of requests",
                    ));
                    0
                })
            };
            ramp.push(RampStep {
                percent,
                min_duration_hours,
                min_samples,
                max_hours: keep(
                    filled
                        .as_ref()
                        .and_then(|p| p.ramp.get(i))
                        .and_then(|s| s.max_hours),
                    min_duration_hours,
                ),
                ab_test: r.ab.get_untracked(),
            });
        }
        let audiences = self
            .audiences
            .get_untracked()
            .iter()
            .map(|a| Audience {
                kind: a.kind.get_untracked(),
                name: a.name.get_untracked().trim().to_string(),
            })
            .collect();
        let mut criteria = Vec::new();
        for (i, c) in self.criteria.get_untracked().iter().enumerate() {
            criteria.push(RollbackCriterion {
                metric: c.metric.get_untracked().trim().to_string(),
                bad_direction: c.direction.get_untracked(),
                threshold_kind: c.threshold_kind.get_untracked(),
                threshold: num(
                    &format!("plan.criteria[{i}].threshold"),
                    &c.threshold.get_untracked(),
                ),
            });
        }
        let checklist = self
            .checklist
            .get_untracked()
            .iter()
            .map(|c| ChecklistItem {
                text: c.text.get_untracked().trim().to_string(),
                done: c.done.get_untracked(),
            })
            .collect();
        let plan = RolloutPlan {
            template: self.template.get_untracked(),
            eval_gate,
            canary,
            ramp,
            audiences,
            criteria,
            checklist,
            new_category_limit_per_1000: filled
                .as_ref()
                .and_then(|p| p.new_category_limit_per_1000),
            automatic_rollback: filled.and_then(|p| p.automatic_rollback),
        };
        (plan, unreadable.into_inner())
    }
}

pub(super) fn remove_key<T: Copy + Send + Sync + 'static>(
    list: RwSignal<Vec<T>>,
    key: u32,
    key_of: fn(&T) -> u32,
) {
    list.update(|v| v.retain(|x| key_of(x) != key));
}
