//! Reading a form's controls when it is submitted. The team editor, the notice form and the
//! feed's filters draw their inputs once from the value being edited and read them back here
//! on submit, instead of binding each control to a signal.

/// The form an event came from (a submit, or a click inside it).
pub fn event_form(ev: &web_sys::Event) -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast;
    ev.target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("form")
        .ok()
        .flatten()
}

/// The `value` of the control matching `selector` inside `root`; empty when there is none.
/// Forms are read this way when submitted, instead of binding each control to a signal
/// (which costs Wasm per control).
pub fn value_in(root: &web_sys::Element, selector: &str) -> String {
    prop_in(root, selector, "value")
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// The values of the checked checkboxes named `name` inside `root`.
pub fn checked_values(root: &web_sys::Element, name: &str) -> Vec<String> {
    let Ok(list) = root.query_selector_all(&format!("input[name={name}]:checked")) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|el| js_sys::Reflect::get(&el, &"value".into()).ok())
        .filter_map(|v| v.as_string())
        .collect()
}

fn prop_in(root: &web_sys::Element, selector: &str, prop: &str) -> Option<wasm_bindgen::JsValue> {
    let el = root.query_selector(selector).ok()??;
    js_sys::Reflect::get(&el, &prop.into()).ok()
}
