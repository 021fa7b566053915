//! Query-string and timestamp parsing with errors that name the parameter and say why.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

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

/// One form-encoded component: `+` is a space, `%XX` a byte; `None` unless the bytes are UTF-8.
fn decode(s: &str) -> Option<String> {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
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

/// Parses an RFC 3339 timestamp with `Z` or a `±HH:MM` offset.
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    s.parse::<jiff::Timestamp>().ok().map(SystemTime::from)
}

/// Formats a time as RFC 3339 in UTC with millisecond precision and an explicit `Z`.
pub(crate) fn format_rfc3339(t: SystemTime) -> String {
    let ts = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("{ts:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

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
