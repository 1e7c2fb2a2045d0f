//! Field-level messages: a validation error is shown under the input its `field` path names.

use leptos::prelude::*;
use shared::validate::FieldError;

/// Does an error at `error_field` belong under the input for `field`? With `prefix`, errors on
/// elements of a list field (`plan.eval_gate.critical_categories[2]`) count too.
pub fn belongs(error_field: &str, field: &str, prefix: bool) -> bool {
    error_field == field
        || (prefix
            && error_field
                .strip_prefix(field)
                .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.')))
}

/// The message for `field`, if the current error is about it.
#[component]
pub fn FieldMsg(
    #[prop(into)] field: String,
    error: RwSignal<Option<FieldError>>,
    #[prop(optional)] prefix: bool,
) -> impl IntoView {
    move || {
        error.with(|e| {
            e.as_ref()
                .filter(|e| belongs(&e.field, &field, prefix))
                .map(|e| {
                    view! {
                        <p class="field-error" role="alert" data-test="field-error" data-field=e.field.clone()>
                            {e.message.clone()}
                        </p>
                    }
                })
        })
    }
}
