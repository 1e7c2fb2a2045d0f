//! Atom 1.0 (RFC 4287) feeds of a team's notices, written by hand: the format is small and
//! every text goes through [`escape`].

use shared::notices::Notice;
use shared::teams::Team;

/// XML text and attribute escaping.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// The feed: newest notice first; `updated` is the newest publication (or the team's last
/// edit when there is none). Entry links are absolute under `public_url` when it is known,
/// else relative (feed readers resolve them against the feed's own address).
pub fn feed(team: &Team, notices: &[Notice], public_url: Option<&str>) -> String {
    let updated = notices
        .iter()
        .filter_map(|n| n.published_at.as_deref())
        .max()
        .unwrap_or(&team.updated_at);
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    xml.push_str(&format!(
        "  <id>urn:rollgate:team:{}</id>\n",
        escape(&team.id)
    ));
    xml.push_str(&format!(
        "  <title>Rollgate notices for {}</title>\n",
        escape(&team.name)
    ));
    xml.push_str(&format!("  <updated>{}</updated>\n", escape(updated)));
    xml.push_str("  <author><name>Rollgate</name></author>\n");
    for n in notices {
        let published = n.published_at.as_deref().unwrap_or(&n.created_at);
        let kind = n.kind.headline();
        let mut content = format!("What users may notice: {}", n.expected_changes);
        if !n.talking_points.is_empty() {
            content.push_str(&format!("\n\nTalking points: {}", n.talking_points));
        }
        if let Some(at) = &n.planned_at {
            content.push_str(&format!("\n\nPlanned: {at}"));
        }
        xml.push_str("  <entry>\n");
        xml.push_str(&format!(
            "    <id>urn:rollgate:notice:{}</id>\n",
            escape(&n.id)
        ));
        xml.push_str(&format!(
            "    <title>{}: {}</title>\n",
            kind,
            escape(&n.change_title)
        ));
        xml.push_str(&format!("    <updated>{}</updated>\n", escape(published)));
        xml.push_str(&format!(
            "    <published>{}</published>\n",
            escape(published)
        ));
        xml.push_str(&format!(
            "    <link rel=\"alternate\" href=\"{}/changes/{}\"/>\n",
            escape(public_url.unwrap_or("")),
            escape(&n.change_id)
        ));
        xml.push_str(&format!(
            "    <content type=\"text\">{}</content>\n",
            escape(&content)
        ));
        xml.push_str("  </entry>\n");
    }
    xml.push_str("</feed>\n");
    xml
}
