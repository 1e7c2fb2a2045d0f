//! Who the user says they are ("Acting as"), kept in localStorage until accounts arrive.

const KEY: &str = "rollgate.actor";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The stored name, if one is set.
pub fn get() -> Option<String> {
    let name = storage()?.get_item(KEY).ok().flatten()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// Stores the name; an empty one clears it (the server then records "console").
pub fn set(name: &str) {
    let Some(s) = storage() else { return };
    let name = name.trim();
    // Storage can refuse (private mode, quota); the name then lasts only for this page.
    let _ = if name.is_empty() {
        s.remove_item(KEY)
    } else {
        s.set_item(KEY, name)
    };
}
