//! Small text helpers for display: percentages, times, JSON.

use serde_json::Value;

/// "5", "2.5", "12.25" — no trailing zeros.
pub fn number(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub fn percent(x: f64) -> String {
    format!("{}%", number(x))
}

/// "24 h", "90 min", "3 d".
pub fn hours(h: f64) -> String {
    if h <= 0.0 {
        "no minimum".into()
    } else if h < 1.0 {
        format!("{} min", number(h * 60.0))
    } else if h >= 48.0 && (h % 24.0) == 0.0 {
        format!("{} d", number(h / 24.0))
    } else {
        format!("{} h", number(h))
    }
}

/// Thousands separated by a thin space: "20 000".
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(ch);
    }
    out
}

fn parse_ms(rfc3339: &str) -> Option<f64> {
    let ms = js_sys::Date::parse(rfc3339);
    ms.is_finite().then_some(ms)
}

/// "just now", "5 min ago", "3 h ago", "2 d ago", or the date for older times.
pub fn relative_time(rfc3339: &str) -> String {
    let Some(ms) = parse_ms(rfc3339) else {
        return rfc3339.to_string();
    };
    let secs = (js_sys::Date::now() - ms) / 1000.0;
    if secs < 45.0 {
        "just now".into()
    } else if secs < 3600.0 {
        format!("{} min ago", (secs / 60.0).round().max(1.0))
    } else if secs < 86_400.0 {
        format!("{} h ago", (secs / 3600.0).round())
    } else if secs < 86_400.0 * 14.0 {
        format!("{} d ago", (secs / 86_400.0).round())
    } else {
        date(rfc3339)
    }
}

/// "12 Mar 2025".
pub fn date(rfc3339: &str) -> String {
    locale(rfc3339, false)
}

/// "12 Mar 2025, 14:05" in the viewer's time zone.
pub fn date_time(rfc3339: &str) -> String {
    locale(rfc3339, true)
}

fn locale(rfc3339: &str, with_time: bool) -> String {
    let Some(ms) = parse_ms(rfc3339) else {
        return rfc3339.to_string();
    };
    let d = js_sys::Date::new(&ms.into());
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.get(d.get_month() as usize).copied().unwrap_or("?");
    let day = format!("{} {month} {}", d.get_date(), d.get_full_year());
    if with_time {
        format!("{day}, {:02}:{:02}", d.get_hours(), d.get_minutes())
    } else {
        day
    }
}

pub fn pretty_json(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// First letter upper-case: server and state-machine messages start lower-case.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
