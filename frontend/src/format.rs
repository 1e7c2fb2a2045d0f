//! The console's one formatter: how numbers, dates and times read, and the browser-side
//! parsing of dates and numbers that goes with them. Pages and components format through
//! here rather than with their own helpers; `components::metric_text` only adds the units and
//! wording of metric values on top of these.

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

/// `x` with `decimals` decimals and a typographic minus ("−1.25"); no sign on zero.
pub fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    if x < 0.0 && !is_zero(&s) {
        format!("−{s}")
    } else {
        s
    }
}

/// "+1.25" / "−1.25" with a typographic minus; no sign on zero.
pub fn signed(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    if is_zero(&s) {
        s
    } else if x < 0.0 {
        format!("−{s}")
    } else {
        format!("+{s}")
    }
}

fn is_zero(digits: &str) -> bool {
    digits.chars().all(|c| c == '0' || c == '.')
}

/// `x` rounded to a whole number, thousands separated as in [`count`]: "−20 000".
pub fn whole(x: f64) -> String {
    let r = x.round();
    let s = count(r.abs() as u64);
    if r < 0.0 { format!("−{s}") } else { s }
}

/// Milliseconds since the epoch of an RFC 3339 instant, as the browser reads it.
pub fn parse_ms(rfc3339: &str) -> Option<f64> {
    let ms = js_sys::Date::parse(rfc3339);
    ms.is_finite().then_some(ms)
}

/// Milliseconds since the epoch as RFC 3339 UTC ("2025-03-12T14:05:00.000Z").
pub fn iso(ms: f64) -> String {
    String::from(js_sys::Date::new(&ms.into()).to_iso_string())
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(d: &js_sys::Date) -> &'static str {
    MONTHS.get(d.get_month() as usize).copied().unwrap_or("?")
}

/// "14:05", or "12 Mar 14:05" on charts that span days, in the viewer's time zone.
pub fn clock(ms: f64, with_day: bool) -> String {
    let d = js_sys::Date::new(&ms.into());
    let hm = format!("{:02}:{:02}", d.get_hours(), d.get_minutes());
    if with_day {
        format!("{} {} {hm}", d.get_date(), month(&d))
    } else {
        hm
    }
}

/// "14:05:32" in the viewer's time zone.
pub fn clock_seconds(ms: f64) -> String {
    let d = js_sys::Date::new(&ms.into());
    format!(
        "{:02}:{:02}:{:02}",
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
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
    let day = format!("{} {} {}", d.get_date(), month(&d), d.get_full_year());
    if with_time {
        format!("{day}, {:02}:{:02}", d.get_hours(), d.get_minutes())
    } else {
        day
    }
}

/// A `datetime-local` input's value (local time, no offset) as RFC 3339 UTC; empty when it is
/// not one.
pub fn local_to_utc(local: &str) -> String {
    let local = local.trim();
    if local.is_empty() {
        return String::new();
    }
    // A date-time without an offset is read as local time (ECMA-262 Date.parse).
    let d = js_sys::Date::new(&local.into());
    if d.get_time().is_finite() {
        String::from(d.to_iso_string())
    } else {
        String::new()
    }
}

/// Midnight of `day` (a `date` input's value) plus `plus` days in the viewer's time zone, as
/// RFC 3339 UTC; empty when the day is empty or not a date.
pub fn day_start_utc(day: &str, plus: u32) -> String {
    let day = day.trim();
    if day.is_empty() {
        return String::new();
    }
    // A date-time without an offset is read as local time (ECMA-262 Date.parse).
    let d = js_sys::Date::new(&format!("{day}T00:00:00").into());
    if !d.get_time().is_finite() {
        return String::new();
    }
    d.set_date(d.get_date() + plus);
    String::from(d.to_iso_string())
}

/// An RFC 3339 instant as a `datetime-local` value in the viewer's time zone.
pub fn utc_to_local(rfc3339: &str) -> String {
    let Some(ms) = parse_ms(rfc3339) else {
        return String::new();
    };
    let d = js_sys::Date::new(&ms.into());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

pub fn pretty_json(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// A rejected field as one sentence for a form banner: "Email: must not be empty."
pub fn field_error(e: &shared::validate::FieldError) -> String {
    format!("{}: {}.", capitalise(&e.field), e.message)
}

/// First letter upper-case: server and state-machine messages start lower-case. A non-ASCII
/// first letter is upper-cased by the browser, so Rust's Unicode case tables (~25 KB of Wasm)
/// stay out of the bundle.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if f.is_ascii() => {
            let mut out = String::with_capacity(s.len());
            out.push(f.to_ascii_uppercase());
            out.push_str(c.as_str());
            out
        }
        Some(f) => {
            let upper = String::from(js_sys::JsString::from(f).to_upper_case());
            upper + c.as_str()
        }
        None => String::new(),
    }
}

/// Upper case, with the same rule as [`capitalise`]: non-ASCII text is upper-cased by the
/// browser.
pub fn upper(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_uppercase()
    } else {
        String::from(js_sys::JsString::from(s).to_upper_case())
    }
}

/// `s.parse::<f64>()`, with the same grammar (`[+-]` then `inf`, `infinity` or `nan` in any
/// case, or digits with an optional `.` and exponent; no spaces), but the conversion is left
/// to the browser: Rust's decimal-to-float tables cost ~15 KB of Wasm. On input of that
/// grammar `parseFloat` and Rust agree exactly (both round correctly).
pub fn parse_f64(s: &str) -> Option<f64> {
    float_grammar(s).map(|special| special.unwrap_or_else(|| js_sys::Number::parse_float(s)))
}

/// `None` when Rust would refuse `s` as an `f64`; `Some(Some(v))` for infinities and NaN;
/// `Some(None)` for a decimal number.
fn float_grammar(s: &str) -> Option<Option<f64>> {
    let neg = s.starts_with('-');
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let special = if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        Some(f64::INFINITY)
    } else if body.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else {
        None
    };
    if let Some(v) = special {
        return Some(Some(if neg { -v } else { v }));
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    (mantissa_ok && exponent_ok).then_some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_grammar_matches_rust() {
        let cases = [
            "5",
            "+5",
            "-5",
            "0.5",
            ".5",
            "5.",
            "1e3",
            "1E-3",
            "2.5e+2",
            "007",
            "inf",
            "-Infinity",
            "NaN",
            "",
            " 5",
            "5 ",
            "e5",
            "1e",
            "1e+",
            ".",
            "+",
            "-",
            "1.2.3",
            "--1",
            "0x10",
            "1_0",
            "infinit",
            "1e5.0",
            "١",
        ];
        for s in cases {
            let rust = s.parse::<f64>().ok();
            let ours = float_grammar(s);
            assert_eq!(rust.is_some(), ours.is_some(), "{s:?}");
            if let (Some(r), Some(Some(v))) = (rust, ours) {
                assert!(r == v || (r.is_nan() && v.is_nan()), "{s:?}");
            }
        }
    }

    #[test]
    fn numbers_use_a_typographic_minus() {
        assert_eq!(signed(1.254, 2), "+1.25");
        assert_eq!(signed(-1.25, 1), "−1.2");
        assert_eq!(signed(-0.001, 2), "0.00");
        assert_eq!(fixed(-3.0, 1), "−3.0");
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(whole(-20_000.4), "−20\u{202f}000");
    }

    #[test]
    fn capitalises_ascii() {
        assert_eq!(capitalise("state is frozen"), "State is frozen");
        assert_eq!(capitalise(""), "");
    }
}
