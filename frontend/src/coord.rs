//! Team coordination helpers for the console: acknowledgements and revisions of notices, and
//! the support feed's filters as the URL keeps them. The wire types are `shared::notices`,
//! `shared::teams` and `shared::feed`.

use shared::notices::{Acknowledgement, Notice};

/// The acknowledgement of `team_id`, if that team has acknowledged `n`.
pub fn ack_of<'a>(n: &'a Notice, team_id: &str) -> Option<&'a Acknowledgement> {
    n.acknowledgements.iter().find(|a| a.team_id == team_id)
}

/// The revision number of `n`: 1 plus the revisions before it that `list` holds (an edit of a
/// published notice is a new notice naming the one it replaced).
pub fn revision(n: &Notice, list: &[Notice]) -> usize {
    let mut rev = 1;
    let mut prev = n.previous_id.as_deref();
    while let Some(p) = prev {
        rev += 1;
        prev = list
            .iter()
            .find(|x| x.id == p)
            .and_then(|x| x.previous_id.as_deref());
        if rev > list.len() + 1 {
            break;
        }
    }
    rev
}

/// Filters of the support feed, as kept in the URL query; empty strings are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedQuery {
    pub q: String,
    pub area: String,
    pub audience: String,
    pub days: String,
    /// RFC 3339: what was live then.
    pub at: String,
}

impl FeedQuery {
    pub fn params(&self) -> Vec<(&'static str, String)> {
        [
            ("q", &self.q),
            ("area", &self.area),
            ("audience", &self.audience),
            ("days", &self.days),
            ("at", &self.at),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.trim().to_string()))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::notices::{NoticeKind, NoticeStatus};

    fn notice(id: &str, previous: Option<&str>) -> Notice {
        Notice {
            id: id.into(),
            change_id: "c".into(),
            change_title: "t".into(),
            previous_id: previous.map(Into::into),
            status: NoticeStatus::Published,
            kind: NoticeKind::Manual,
            audience: vec![],
            planned_at: None,
            planned_stage: None,
            expected_changes: "x".into(),
            talking_points: String::new(),
            created_by: None,
            created_at: "2026-01-01T00:00:00Z".into(),
            published_at: None,
            acknowledgements: vec![],
        }
    }

    #[test]
    fn revisions_count_the_notices_replaced() {
        let list = vec![
            notice("c3", Some("b2")),
            notice("b2", Some("a1")),
            notice("a1", None),
        ];
        assert_eq!(revision(&list[0], &list), 3);
        assert_eq!(revision(&list[1], &list), 2);
        assert_eq!(revision(&list[2], &list), 1);
        // A loop in bad data ends.
        let looped = vec![notice("a", Some("b")), notice("b", Some("a"))];
        assert!(revision(&looped[0], &looped) <= looped.len() + 2);
    }

    #[test]
    fn feed_query_leaves_out_empty_filters() {
        let q = FeedQuery {
            q: " spanish ".into(),
            days: "7".into(),
            ..FeedQuery::default()
        };
        assert_eq!(
            q.params(),
            vec![("q", "spanish".to_string()), ("days", "7".to_string())]
        );
    }
}
