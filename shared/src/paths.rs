//! The API's paths, relative to [`BASE`], declared once: the console builds its requests from
//! them, and a server test (`backend/tests/openapi.rs`) holds [`TEMPLATES`] equal to the paths
//! of the served OpenAPI document, so the two cannot drift apart.
//!
//! Each path is a template constant spelled as the OpenAPI document spells it
//! (`/changes/{id}/transitions`); a path with an `{id}` also gets a function that fills it in,
//! percent-encoded ([`encode`]).

/// Where the API is served.
pub const BASE: &str = "/api/v1";

/// Where the OpenFeature Remote Evaluation Protocol is served, beside the API.
pub const OFREP_BASE: &str = "/ofrep/v1";
/// OFREP bulk evaluation, under [`OFREP_BASE`].
pub const OFREP_FLAGS: &str = "/evaluate/flags";
/// OFREP single flag evaluation, under [`OFREP_BASE`].
pub const OFREP_FLAG: &str = "/evaluate/flags/{key}";
/// The server-sent events announcing flag changes, under [`OFREP_BASE`].
pub const OFREP_EVENTS: &str = "/events";
/// Every OFREP path, under [`OFREP_BASE`], as the OpenAPI document spells it.
pub const OFREP_TEMPLATES: &[&str] = &[OFREP_FLAGS, OFREP_FLAG, OFREP_EVENTS];

/// Percent-encodes a path segment or query value as the browser's `encodeURIComponent` does
/// (ids and filter names are plain, but a hand-typed URL may not be): letters, digits and
/// `-_.!~*'()` stay as they are; every other byte of the UTF-8, `/` and `?` included, is
/// encoded, so a value stays one path segment or one query value whatever someone typed.
///
/// Written out rather than taken from `percent-encoding`: with the crate's encoder the
/// console's first screen measured 309.1 KB gzipped, with this loop 308.4 KB, and the first
/// screen sits at its size budget. The tests below hold it to `encodeURIComponent`'s output.
pub fn encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

/// `template` with its `{id}` replaced by `id`, percent-encoded.
fn fill(template: &str, id: &str) -> String {
    template.replacen("{id}", &encode(id), 1)
}

/// Declares each path once: a constant per template, a function per template with an `{id}`,
/// and [`TEMPLATES`], the list of them all.
macro_rules! paths {
    (
        fixed { $($(#[$fdoc:meta])* $FIXED:ident = $fpath:literal;)* }
        by_id { $($(#[$idoc:meta])* $BY_ID:ident, $by_id:ident = $ipath:literal;)* }
    ) => {
        $(
            $(#[$fdoc])*
            pub const $FIXED: &str = $fpath;
        )*
        $(
            $(#[$idoc])*
            pub const $BY_ID: &str = $ipath;
            #[doc = concat!("`", $ipath, "` for one id.")]
            pub fn $by_id(id: &str) -> String {
                fill($BY_ID, id)
            }
        )*
        /// Every path the API serves, as the OpenAPI document spells it.
        pub const TEMPLATES: &[&str] = &[$($FIXED,)* $($BY_ID,)*];
    };
}

paths! {
    fixed {
        /// Liveness.
        HEALTH = "/health";
        /// The OpenAPI document.
        OPENAPI = "/openapi.json";
        /// The plan templates a new change starts from.
        PLAN_TEMPLATES = "/templates";
        /// The change list; posting creates a change.
        CHANGES = "/changes";
        /// Ingestion tokens; posting creates one.
        TOKENS = "/tokens";
        /// The signed-in session: read, sign in, sign out.
        SESSION = "/session";
        /// The demo accounts, in a demo workspace.
        DEMO_USERS = "/session/demo-users";
        /// Users; posting creates one.
        USERS = "/users";
        /// Approval policies.
        POLICIES = "/policies";
        /// The approvals inbox.
        APPROVALS = "/approvals";
        /// The audit log.
        AUDIT = "/audit";
        /// The audit log as a file.
        AUDIT_EXPORT = "/audit/export";
        /// Teams; posting creates one.
        TEAMS = "/teams";
        /// The notices the user has not read.
        UNREAD_NOTICES = "/notices/unread";
        /// The support change feed.
        FEED = "/feed";
        /// Webhook deliveries.
        DELIVERIES = "/deliveries";
        /// What one user got from every live change at a moment (support's lookup).
        ASSIGNMENTS = "/assignments";
        /// Delivery figures over a period.
        FIGURES = "/figures";
        /// The same figures as Markdown.
        FIGURES_MARKDOWN = "/figures.md";
        /// Comments that mention a team of the signed-in user.
        MENTIONS = "/mentions";
    }
    by_id {
        /// One change.
        CHANGE, change = "/changes/{id}";
        /// A change's rollout moves.
        CHANGE_TRANSITIONS, change_transitions = "/changes/{id}/transitions";
        /// A change's metric catalogue.
        CHANGE_CATALOGUE, change_catalogue = "/changes/{id}/catalogue";
        /// A draft's flag rules.
        CHANGE_FLAG_RULES, change_flag_rules = "/changes/{id}/flag-rules";
        /// Where apps send a change's metric windows.
        CHANGE_METRICS, change_metrics = "/changes/{id}/metrics";
        /// A change's metrics, summed.
        CHANGE_METRICS_SUMMARY, change_metrics_summary = "/changes/{id}/metrics/summary";
        /// One of a change's metrics over time.
        CHANGE_METRICS_SERIES, change_metrics_series = "/changes/{id}/metrics/series";
        /// The gate a change passes next.
        CHANGE_GATE, change_gate = "/changes/{id}/gate";
        /// Sign-offs on a change's gate.
        CHANGE_APPROVALS, change_approvals = "/changes/{id}/approvals";
        /// A change's notices.
        CHANGE_NOTICES, change_notices = "/changes/{id}/notices";
        /// A change's post-deployment review.
        CHANGE_REVIEW, change_review = "/changes/{id}/review";
        /// The review as Markdown.
        CHANGE_REVIEW_MARKDOWN, change_review_markdown = "/changes/{id}/review.md";
        /// The decision that ends a change's A/B test.
        CHANGE_DECISION, change_decision = "/changes/{id}/decision";
        /// Complaints support recorded against a change.
        CHANGE_COMPLAINTS, change_complaints = "/changes/{id}/complaints";
        /// A change's offline eval results; posting uploads one.
        CHANGE_EVAL_RESULTS, change_eval_results = "/changes/{id}/eval-results";
        /// One ingestion token.
        TOKEN, token = "/tokens/{id}";
        /// One user.
        USER, user = "/users/{id}";
        /// One team.
        TEAM, team = "/teams/{id}";
        /// A team's webhook signing secret.
        TEAM_SECRET, team_secret = "/teams/{id}/secret";
        /// A team's Atom feed tokens.
        TEAM_FEED_TOKEN, team_feed_token = "/teams/{id}/feed-token";
        /// A team's Atom feed.
        TEAM_FEED_ATOM, team_feed_atom = "/teams/{id}/feed.atom";
        /// One notice.
        NOTICE, notice = "/notices/{id}";
        /// Publishing a notice.
        NOTICE_PUBLISH, notice_publish = "/notices/{id}/publish";
        /// A team's acknowledgement of a notice.
        NOTICE_ACKNOWLEDGEMENTS, notice_acknowledgements = "/notices/{id}/acknowledgements";
        /// Marking a notice read.
        NOTICE_READ, notice_read = "/notices/{id}/read";
        /// Sending a webhook delivery again.
        DELIVERY_RESEND, delivery_resend = "/deliveries/{id}/resend";
        /// The discussion on a change; posting adds a comment.
        CHANGE_COMMENTS, change_comments = "/changes/{id}/comments";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_encode_uri_component() {
        assert_eq!(encode("chg_01H-x.y"), "chg_01H-x.y");
        assert_eq!(encode("-_.!~*'()"), "-_.!~*'()");
        assert_eq!(encode("a b/c?d&e=f#g%"), "a%20b%2Fc%3Fd%26e%3Df%23g%25");
        assert_eq!(encode("é€"), "%C3%A9%E2%82%AC");
        assert_eq!(encode("/changes/x?tab=1"), "%2Fchanges%2Fx%3Ftab%3D1");
    }

    #[test]
    fn ids_fill_one_segment() {
        assert_eq!(change("c1"), "/changes/c1");
        assert_eq!(change_transitions("a/b"), "/changes/a%2Fb/transitions");
        assert_eq!(notice_publish("n 1"), "/notices/n%201/publish");
    }

    #[test]
    fn templates_are_listed_once_each() {
        let mut seen = std::collections::BTreeSet::new();
        for t in TEMPLATES {
            assert!(t.starts_with('/') && !t.ends_with('/'), "{t}");
            assert!(seen.insert(t), "{t} twice");
            assert!(t.matches("{id}").count() <= 1, "{t}");
        }
        assert!(TEMPLATES.contains(&CHANGE_TRANSITIONS) && TEMPLATES.contains(&FEED));
    }
}
