//! The audit log as CSV for `GET /api/v1/audit/export`: RFC 4180 quoting and CRLF line ends
//! from the `csv` crate, and cells a spreadsheet would run as formulas defused.

use serde_json::Value;
use shared::audit::{AuditEntry, CSV_COLUMNS};

use crate::error::{Error, Result};

/// A header row of [`CSV_COLUMNS`], then one row per entry, in order.
pub fn write(entries: &[AuditEntry]) -> Result<String> {
    let failed = |e: csv::Error| Error::internal(format!("writing the audit CSV failed: {e}"));
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(CSV_COLUMNS).map_err(failed)?;
    for e in entries {
        out.write_record(row(e).map(defuse)).map_err(failed)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| failed(e.into_error().into()))?;
    String::from_utf8(bytes)
        .map_err(|e| Error::internal(format!("the audit CSV is not UTF-8: {e}")))
}

/// The cells of an entry, in the order of [`CSV_COLUMNS`]; `before` and `after` as JSON.
fn row(e: &AuditEntry) -> [String; 10] {
    let json = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    [
        e.id.clone(),
        e.at.clone(),
        e.actor_id.clone().unwrap_or_default(),
        e.actor.clone(),
        e.action.clone(),
        e.object_type.clone(),
        e.object_id.clone().unwrap_or_default(),
        json(&e.before),
        json(&e.after),
        e.address.clone().unwrap_or_default(),
    ]
}

/// A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a `'` in front,
/// so a spreadsheet shows it as text instead of running it as a formula (OWASP "CSV
/// injection"): the actor of a failed sign-in, for one, is whatever the caller typed.
fn defuse(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            id: "1".into(),
            at: "2025-01-01T00:00:00.000000Z".into(),
            actor_id: None,
            actor: "ana@example.org".into(),
            action: "change.update".into(),
            object_type: "change".into(),
            object_id: Some("c".into()),
            before: Some(serde_json::json!({"title": "a, b"})),
            after: None,
            address: None,
        }
    }

    #[test]
    fn a_header_then_one_quoted_row_per_entry() {
        let csv = write(&[entry(), entry()]).unwrap();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines.len(), 4, "{csv:?}");
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "1,2025-01-01T00:00:00.000000Z,,ana@example.org,change.update,change,c,\
             \"{\"\"title\"\":\"\"a, b\"\"}\",,"
        );
        assert_eq!(lines[3], "");
    }

    #[test]
    fn cells_are_quoted_only_when_needed() {
        let cells = |e: AuditEntry| {
            let csv = write(&[e]).unwrap();
            csv.split_once("\r\n").unwrap().1.to_owned()
        };
        let mut e = entry();
        e.before = None;
        e.actor = "plain".into();
        e.action = "a,b".into();
        e.object_type = "say \"hi\"".into();
        e.address = Some("two\nlines".into());
        assert_eq!(
            cells(e),
            "1,2025-01-01T00:00:00.000000Z,,plain,\"a,b\",\"say \"\"hi\"\"\",c,,,\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn formulas_are_defused() {
        for (cell, shown) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(defuse(cell.to_owned()), shown);
        }
        let mut e = entry();
        e.actor = "=HYPERLINK(\"http://x\")".into();
        let csv = write(&[e]).unwrap();
        assert!(csv.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","), "{csv}");
        // A carriage return both defuses and forces quotes.
        assert_eq!(defuse("\rx".to_owned()), "'\rx");
    }
}
