//! Atom 1.0 (RFC 4287) feeds of a team's notices, written by `atom_syndication` (which
//! escapes every text and attribute).

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text, WriteConfig};
use shared::notices::Notice;
use shared::teams::Team;

/// The feed: newest notice first; `updated` is the newest publication (or the team's last
/// edit when there is none). Entry links are absolute under `public_url` when it is known,
/// else relative (feed readers resolve them against the feed's own address).
pub fn feed(team: &Team, notices: &[Notice], public_url: Option<&str>) -> String {
    let updated = notices
        .iter()
        .filter_map(|n| n.published_at.as_deref())
        .max()
        .unwrap_or(&team.updated_at);
    let entries = notices
        .iter()
        .map(|n| {
            let published = date(n.published_at.as_deref().unwrap_or(&n.created_at));
            let mut content = format!("What users may notice: {}", n.expected_changes);
            if !n.talking_points.is_empty() {
                content.push_str(&format!("\n\nTalking points: {}", n.talking_points));
            }
            if let Some(at) = &n.planned_at {
                content.push_str(&format!("\n\nPlanned: {at}"));
            }
            Entry {
                id: format!("urn:rollgate:notice:{}", n.id),
                title: Text::plain(text(&format!("{}: {}", n.kind.headline(), n.change_title))),
                updated: published,
                published: Some(published),
                links: vec![Link {
                    href: format!("{}/changes/{}", public_url.unwrap_or(""), n.change_id),
                    rel: "alternate".to_owned(),
                    ..Link::default()
                }],
                content: Some(Content {
                    value: Some(text(&content)),
                    content_type: Some("text".to_owned()),
                    ..Content::default()
                }),
                ..Entry::default()
            }
        })
        .collect();
    let feed = Feed {
        id: format!("urn:rollgate:team:{}", team.id),
        title: Text::plain(text(&format!("Rollgate notices for {}", team.name))),
        updated: date(updated),
        authors: vec![Person {
            name: "Rollgate".to_owned(),
            ..Person::default()
        }],
        entries,
        ..Feed::default()
    };
    let config = WriteConfig {
        write_document_declaration: true,
        indent_size: Some(2),
    };
    match feed.write_with_config(Vec::new(), config) {
        // The writer only fails when the sink does, and a Vec does not.
        Ok(xml) => String::from_utf8(xml).unwrap_or_default(),
        Err(e) => {
            tracing::error!(team = %team.id, "writing the Atom feed failed: {e}");
            String::new()
        }
    }
}

/// An RFC 3339 time as the database stores them; the Unix epoch (and a log line) for one
/// that does not parse, which only a corrupt row would hold.
fn date(rfc3339: &str) -> FixedDateTime {
    FixedDateTime::parse_from_rfc3339(rfc3339).unwrap_or_else(|e| {
        tracing::error!("an Atom feed date `{rfc3339}` is not RFC 3339: {e}");
        FixedDateTime::default()
    })
}

/// `s` without the control characters XML 1.0 forbids even escaped (all below U+0020 but
/// tab, LF and CR); the crate escapes the rest.
fn text(s: &str) -> String {
    s.chars()
        .filter(|c| *c >= ' ' || matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team() -> Team {
        Team {
            id: "t1".into(),
            name: "Billing <& support>".into(),
            members: vec![],
            webhook_url: None,
            has_feed_token: true,
            created_at: "2026-11-01T09:00:00.000000Z".into(),
            updated_at: "2026-11-02T09:00:00.000000Z".into(),
        }
    }

    fn notice() -> Notice {
        Notice {
            id: "n1".into(),
            change_id: "c1".into(),
            change_title: "Shorter \"billing\" answers".into(),
            previous_id: None,
            status: shared::notices::NoticeStatus::Published,
            kind: shared::notices::NoticeKind::Rollback,
            audience: vec![],
            planned_at: None,
            planned_stage: None,
            expected_changes: "Answers < 3 lines & \u{1}calmer.".into(),
            talking_points: "Say sorry.".into(),
            created_by: None,
            created_at: "2026-11-26T09:00:00.000000Z".into(),
            published_at: Some("2026-11-26T10:00:00.500000Z".into()),
            acknowledgements: vec![],
        }
    }

    #[test]
    fn feeds_read_back_as_written() {
        let xml = feed(&team(), &[notice()], Some("https://rg.example.org"));
        assert!(
            xml.starts_with(
                "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
            ),
            "{xml}"
        );
        let read = Feed::read_from(xml.as_bytes()).expect("valid Atom");
        assert_eq!(read.id(), "urn:rollgate:team:t1");
        assert_eq!(
            read.title().as_str(),
            "Rollgate notices for Billing <& support>"
        );
        assert_eq!(read.updated(), &date("2026-11-26T10:00:00.5Z"));
        assert_eq!(read.authors()[0].name(), "Rollgate");
        let entry = &read.entries()[0];
        assert_eq!(entry.id(), "urn:rollgate:notice:n1");
        assert_eq!(
            entry.title().as_str(),
            "Rolled back: Shorter \"billing\" answers"
        );
        assert_eq!(entry.published(), Some(&date("2026-11-26T10:00:00.5Z")));
        assert_eq!(entry.links()[0].href(), "https://rg.example.org/changes/c1");
        assert_eq!(entry.links()[0].rel(), "alternate");
        let content = entry.content().unwrap();
        assert_eq!(content.content_type(), Some("text"));
        assert_eq!(
            content.value(),
            Some(
                "What users may notice: Answers < 3 lines & calmer.\n\nTalking points: Say sorry."
            )
        );
    }

    #[test]
    fn an_empty_feed_is_as_new_as_its_team() {
        let xml = feed(&team(), &[], None);
        let read = Feed::read_from(xml.as_bytes()).expect("valid Atom");
        assert_eq!(read.updated(), &date("2026-11-02T09:00:00Z"));
        assert!(read.entries().is_empty());
    }

    #[test]
    fn texts_drop_what_xml_forbids() {
        assert_eq!(text("a\u{1}b\tc\nd\re"), "ab\tc\nd\re");
    }
}
