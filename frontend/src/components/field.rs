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

/// Shows a refusal from the server where it belongs: beside its field when it names one,
/// else in the form's banner (`problem`).
pub fn show_refusal(
    e: crate::api::ApiError,
    field_error: RwSignal<Option<FieldError>>,
    problem: RwSignal<Option<crate::api::ApiError>>,
) {
    match e.field() {
        Some(f) => {
            field_error.try_set(Some(FieldError::new(f, e.message())));
        }
        None => {
            problem.try_set(Some(e));
        }
    }
}

/// The message for `field`, if the current error (`error`: a form that reports one at a time)
/// or one of the current errors (`errors`: a form checked whole) is about it.
#[component]
pub fn FieldMsg(
    #[prop(into)] field: String,
    #[prop(optional)] error: Option<RwSignal<Option<FieldError>>>,
    #[prop(optional)] errors: Option<RwSignal<Vec<FieldError>>>,
    #[prop(optional)] prefix: bool,
) -> impl IntoView {
    move || {
        let mine = |e: &FieldError| belongs(&e.field, &field, prefix);
        let e = error
            .and_then(|s| s.get().filter(mine))
            .or_else(|| errors.and_then(|s| s.with(|all| all.iter().find(|e| mine(e)).cloned())))?;
        Some(view! {
            <p class="field-error" role="alert" data-test="field-error" data-field=e.field.clone()>
                {e.message}
            </p>
        })
    }
}

/// Moves the focus to the input of the first field error on the page (in the order the page
/// shows them) and scrolls it into view; to the form's banner when no field is at fault.
pub fn focus_first_error() {
    use wasm_bindgen::JsCast;
    request_animation_frame(|| {
        let doc = document();
        let Some(msg) = doc
            .query_selector(".field-error")
            .ok()
            .flatten()
            .or_else(|| doc.query_selector(".form-banner").ok().flatten())
        else {
            return;
        };
        let input = msg
            .closest(".field")
            .ok()
            .flatten()
            .and_then(|f| f.query_selector("input, select, textarea").ok().flatten());
        msg.scroll_into_view_with_bool(false);
        if let Some(el) = input.and_then(|i| i.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
}
