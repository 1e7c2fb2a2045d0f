//! The one way to write a part of the console as HTML text instead of `view!`: escaping,
//! delegated clicks, and reading a form's controls when it is submitted.
//!
//! Why text and not `view!`: the comparison table, segment matrix and categories are large,
//! re-rendered on every refresh, and purely presentational. Written as strings they cost a
//! fraction of the Wasm that typed views do (each `view!` instantiates the renderer's generics
//! again), which keeps the bundle within its budget. Clicks reach the page through one
//! delegated handler that reads `data-action` attributes. Segment, category and metric names
//! come from ingestion, so everything interpolated goes through [`esc`].

/// Escapes text for an HTML element body or a double-quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The element with a `data-action` attribute that an event inside HTML text came from, for a
/// delegated handler.
pub fn action_target(ev: &web_sys::Event) -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast;
    ev.target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("[data-action]")
        .ok()
        .flatten()
}

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
/// Forms written as HTML text are read this way when submitted, instead of binding each
/// control to a signal (which costs Wasm per control).
pub fn value_in(root: &web_sys::Element, selector: &str) -> String {
    prop_in(root, selector, "value")
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Whether the checkbox matching `selector` inside `root` is checked.
pub fn checked_in(root: &web_sys::Element, selector: &str) -> bool {
    prop_in(root, selector, "checked").is_some_and(|v| v.is_truthy())
}

fn prop_in(root: &web_sys::Element, selector: &str, prop: &str) -> Option<wasm_bindgen::JsValue> {
    let el = root.query_selector(selector).ok()??;
    js_sys::Reflect::get(&el, &prop.into()).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            super::esc(r#"<b a="x">'&"#),
            "&lt;b a=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
