//! Who is signed in. The session itself is an HttpOnly cookie the console never sees; what it
//! keeps is the answer of `GET /api/v1/session`: the user, and the CSRF token every write must
//! echo. The token lives in memory only (never localStorage), so a script injected into another
//! tab of the origin cannot read it from storage, and a reload fetches it again.

use leptos::prelude::*;
use shared::auth::{Role, SessionInfo, User};

/// Where the console stands with the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `GET /session` has not answered yet.
    Checking,
    /// No session, or it ended (any 401 lands here).
    SignedOut,
    SignedIn(SessionInfo),
}

thread_local! {
    // Reference-counted rather than arena-allocated: the API client reads and clears it from
    // async tasks that run outside any reactive owner.
    static AUTH: ArcRwSignal<Auth> = ArcRwSignal::new(Auth::Checking);
}

thread_local! {
    static INBOX: ArcRwSignal<u32> = ArcRwSignal::new(0);
}

/// Bumped after the user signs a gate, or reads or acknowledges a notice, so the counts in the
/// top bar refresh.
pub fn inbox_version() -> ArcRwSignal<u32> {
    INBOX.with(Clone::clone)
}

pub fn inbox_changed() {
    inbox_version().update(|v| *v = v.wrapping_add(1));
}

pub fn auth() -> ArcRwSignal<Auth> {
    AUTH.with(Clone::clone)
}

pub fn set(a: Auth) {
    auth().set(a);
}

/// Lets the API client read the CSRF token and forget the session on a 401, without it
/// depending on this module.
pub fn connect_api() {
    crate::api::connect(crate::api::SessionHooks {
        csrf_token,
        signed_out: || set(Auth::SignedOut),
    });
}

/// The CSRF token of the current session, for the `X-CSRF-Token` header.
pub fn csrf_token() -> Option<String> {
    match &*auth().read_untracked() {
        Auth::SignedIn(s) => Some(s.csrf_token.clone()),
        _ => None,
    }
}

/// The signed-in user. Untracked: the console remounts every page when the user changes, so
/// a page reads it once.
pub fn user() -> Option<User> {
    match &*auth().read_untracked() {
        Auth::SignedIn(s) => Some(s.user.clone()),
        _ => None,
    }
}

/// Whether the signed-in user holds at least one of `roles`.
pub fn has_any(roles: &[Role]) -> bool {
    user().is_some_and(|u| u.has_any(roles))
}

/// `/login?next=…` for the page the user was on, so signing in brings them back.
pub fn login_href(path_and_query: &str) -> String {
    if path_and_query.is_empty() || path_and_query == "/" || path_and_query.starts_with("/login") {
        "/login".into()
    } else {
        format!("/login?next={}", crate::api::encode(path_and_query))
    }
}

/// Where to go after signing in: `next` when it is a path of this console, else the list.
/// Anything else (`//evil.example`, `https://…`) is ignored, so a crafted link cannot send
/// someone off-site after they sign in.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\"))
        .filter(|n| !n.starts_with("/login"))
        .unwrap_or_else(|| "/".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/changes/x".into())), "/changes/x");
        assert_eq!(safe_next(Some("//evil.example".into())), "/");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(safe_next(Some("/login?next=/".into())), "/");
        assert_eq!(safe_next(None), "/");
    }
}
