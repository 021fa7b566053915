//! Query-string and timestamp parsing with errors that name the parameter and say why.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A bad query value: which parameter and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BadParam {
    pub(crate) parameter: String,
    pub(crate) reason: String,
}

impl BadParam {
    pub(crate) fn new(parameter: &str, reason: impl Into<String>) -> Self {
        Self {
            parameter: parameter.to_string(),
            reason: reason.into(),
        }
    }
}

/// Parses `a=1&b=2` (percent-decoded, `+` as space). Repeated keys: the last wins.
pub(crate) fn parse_query(raw: Option<&str>) -> Result<HashMap<String, String>, BadParam> {
    let mut out = HashMap::new();
    let Some(raw) = raw else { return Ok(out) };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode(k).ok_or_else(|| {
            BadParam::new(k, "the parameter name is not valid percent-encoded UTF-8")
        })?;
        let v = decode(v)
            .ok_or_else(|| BadParam::new(&k, "the value is not valid percent-encoded UTF-8"))?;
        out.insert(k, v);
    }
    Ok(out)
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A positive whole number no larger than `max`.
pub(crate) fn positive(
    q: &HashMap<String, String>,
    name: &str,
    max: usize,
) -> Result<Option<usize>, BadParam> {
    let Some(v) = q.get(name) else {
        return Ok(None);
    };
    let n: usize = v.trim().parse().map_err(|_| {
        BadParam::new(
            name,
            format!("{v:?} is not a whole number between 1 and {max}"),
        )
    })?;
    if n == 0 || n > max {
        return Err(BadParam::new(name, format!("{n} is outside 1..={max}")));
    }
    Ok(Some(n))
}

/// A point in time: RFC 3339 (`2026-11-25T10:00:00Z`, `…+01:00`) or negative seconds relative
/// to `now` (`-60` = one minute ago).
pub(crate) fn instant(
    q: &HashMap<String, String>,
    name: &str,
    now: SystemTime,
) -> Result<Option<SystemTime>, BadParam> {
    let Some(v) = q.get(name) else {
        return Ok(None);
    };
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        if !(secs.is_finite() && secs <= 0.0) {
            return Err(BadParam::new(
                name,
                format!(
                    "{v:?}: use a negative number of seconds relative to now (e.g. -60) or an RFC 3339 timestamp"
                ),
            ));
        }
        let back = Duration::try_from_secs_f64(-secs)
            .map_err(|_| BadParam::new(name, format!("{v:?} is too far back")))?;
        return now
            .checked_sub(back)
            .map(Some)
            .ok_or_else(|| BadParam::new(name, format!("{v:?} is too far back")));
    }
    parse_rfc3339(v).map(Some).ok_or_else(|| {
        BadParam::new(name, format!("{v:?} is neither an RFC 3339 timestamp (2026-11-25T10:00:00Z) nor negative seconds (-60)"))
    })
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses an RFC 3339 timestamp with `Z` or a `±HH:MM` offset.
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = s.get(start..i)?;
        if frac.is_empty() {
            return None;
        }
        let mut digits: String = frac.chars().take(9).collect();
        while digits.len() < 9 {
            digits.push('0');
        }
        nanos = digits.parse().ok()?;
    }
    let offset_s = match s.get(i..)? {
        "Z" | "z" => 0,
        rest if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':' =>
        {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se.min(59) - offset_s;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Formats a time as RFC 3339 in UTC with millisecond precision and an explicit `Z`.
pub(crate) fn format_rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_offsets() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_000_000_123);
        let s = format_rfc3339(t);
        assert!(s.ends_with('Z'), "{s}");
        assert_eq!(parse_rfc3339(&s), Some(t));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(UNIX_EPOCH));
        assert_eq!(
            parse_rfc3339("2000-03-01T00:00:00Z"),
            Some(UNIX_EPOCH + Duration::from_secs(951_868_800))
        );
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-11-25T10:00:00",
            "2026-11-25T10:00:00.Z",
            "yesterday",
            "2026-01-01T00:00:00+0\u{e9}00",
            "2026-01-01T00:00:00+\u{e9}:00",
            "2026-01-01T00:00:00.\u{e9}Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn params_say_which_and_why() {
        let q = parse_query(Some("limit=0&since=5&points=abc&x=%FF")).unwrap_err();
        assert_eq!(q.parameter, "x");
        let q = parse_query(Some("limit=0&since=5&points=abc&name=a%2Fb+c")).unwrap();
        assert_eq!(q["name"], "a/b c");
        assert_eq!(positive(&q, "limit", 10).unwrap_err().parameter, "limit");
        assert!(
            positive(&q, "points", 10)
                .unwrap_err()
                .reason
                .contains("abc")
        );
        let now = SystemTime::now();
        assert_eq!(instant(&q, "since", now).unwrap_err().parameter, "since");
        let q = parse_query(Some("since=-60")).unwrap();
        assert_eq!(
            instant(&q, "since", now).unwrap(),
            Some(now - Duration::from_secs(60))
        );
    }
}
