//! Times of the things API: instants as milliseconds since the epoch, parsed
//! from what clients send (RFC 3339, `2020-04-02 15:22:37+0000`, Unix
//! seconds) and the `at` ranges of property history (WIRE.md A.5).

use crate::CoreError;

/// An inclusive range of instants (milliseconds); `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AtRange {
    /// The first instant included.
    pub start: Option<i64>,
    /// The last instant included.
    pub end: Option<i64>,
}

impl AtRange {
    /// Every instant.
    pub const ALL: AtRange = AtRange { start: None, end: None };

    /// Parses an `at` parameter: one period or instant, or `start|end`
    /// (either side may be empty: unbounded).
    ///
    /// A period is a year (`2022`), a month (`2022-12`) or a day
    /// (`2022-12-01`) and covers all of it; an instant is a date-time
    /// (RFC 3339, or with a space and a `+0000` offset) or Unix seconds
    /// (more than 4 digits, fractions allowed). So `2022|2023` is
    /// 2022-01-01T00:00:00Z up to and including the last millisecond of
    /// 2023, and `at=2022-12` alone is the whole of December 2022.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(CoreError::Invalid("`at` is empty".into()));
        }
        match s.split_once('|') {
            Some((a, b)) => {
                let start = if a.trim().is_empty() { None } else { Some(period(a)?.0) };
                let end = if b.trim().is_empty() { None } else { Some(period(b)?.1) };
                if let (Some(x), Some(y)) = (start, end)
                    && x > y
                {
                    return Err(CoreError::Invalid(format!("`at` range {s:?} ends before it starts")));
                }
                Ok(Self { start, end })
            }
            None => {
                let (start, end) = period(s)?;
                Ok(Self {
                    start: Some(start),
                    end: Some(end),
                })
            }
        }
    }

    /// The first and last instants of the range (inclusive), an extreme
    /// where it is open.
    pub fn bounds(&self) -> (i64, i64) {
        (self.start.unwrap_or(i64::MIN), self.end.unwrap_or(i64::MAX))
    }

    /// Whether `ms` is in the range.
    pub fn contains(&self, ms: i64) -> bool {
        self.start.is_none_or(|s| ms >= s) && self.end.is_none_or(|e| ms <= e)
    }
}

/// Parses one instant (RFC 3339 and the forms above; a bare period is its
/// first millisecond). Also accepts a JSON number of Unix seconds through
/// [`instant_from_json`].
pub fn parse_instant(s: &str) -> Result<i64, CoreError> {
    Ok(period(s)?.0)
}

/// An instant from a JSON value: a date-time string or Unix seconds.
pub fn instant_from_json(v: &serde_json::Value) -> Result<i64, CoreError> {
    match v {
        serde_json::Value::String(s) => parse_instant(s),
        serde_json::Value::Number(n) => n
            .as_f64()
            .and_then(secs_to_ms)
            .ok_or_else(|| CoreError::Invalid(format!("{n} is not a time"))),
        other => Err(CoreError::Invalid(format!("{other} is not a time"))),
    }
}

fn secs_to_ms(secs: f64) -> Option<i64> {
    let ms = (secs * 1000.0).round();
    (ms.is_finite() && ms.abs() < 1e16).then_some(ms as i64)
}

fn bad(s: &str) -> CoreError {
    CoreError::Invalid(format!(
        "{s:?} is not a time: use RFC 3339 (2022-12-01T10:00:00Z), a year, month or day (2022, 2022-12, 2022-12-01) or Unix seconds"
    ))
}

/// The first and last millisecond of a period or instant.
fn period(raw: &str) -> Result<(i64, i64), CoreError> {
    let s = raw.trim();
    // Only ASCII is a time (and byte offsets below are then char boundaries).
    if s.len() > 64 || s.is_empty() || !s.is_ascii() {
        return Err(bad(raw));
    }
    let all_digits = s.bytes().all(|b| b.is_ascii_digit());
    if all_digits && s.len() == 4 {
        let y = num(s)?;
        return Ok((ms_of(y, 1, 1, 0)?, ms_of(y + 1, 1, 1, 0)? - 1));
    }
    if s.len() > 4 && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = s.parse().map_err(|_| bad(raw))?;
        let ms = secs_to_ms(secs).ok_or_else(|| bad(raw))?;
        return Ok((ms, ms));
    }
    let b = s.as_bytes();
    if b.len() == 7 && b[4] == b'-' {
        let (y, m) = (num(&s[..4])?, num(&s[5..7])?);
        let first = ms_of(y, m, 1, 0)?;
        let next = if m == 12 {
            ms_of(y + 1, 1, 1, 0)?
        } else {
            ms_of(y, m + 1, 1, 0)?
        };
        return Ok((first, next - 1));
    }
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let day = ms_of(num(&s[..4])?, num(&s[5..7])?, num(&s[8..10])?, 0)?;
        return Ok((day, day + 86_400_000 - 1));
    }
    let t = datetime(s).ok_or_else(|| bad(raw))?;
    Ok((t, t))
}

fn num(s: &str) -> Result<i64, CoreError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(s));
    }
    s.parse().map_err(|_| bad(s))
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH:MM|±HHMM|±HH]`; no offset is UTC.
fn datetime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return None;
    }
    let (y, mo, d) = (num(&s[..4]).ok()?, num(&s[5..7]).ok()?, num(&s[8..10]).ok()?);
    let (hh, mm) = (num(&s[11..13]).ok()?, num(&s[14..16]).ok()?);
    let mut rest = &s[16..];
    let mut ss = 0;
    let mut frac_ms = 0;
    if let Some(r) = rest.strip_prefix(':') {
        ss = num(r.get(..2)?).ok()?;
        rest = &r[2..];
        if let Some(r) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(',')) {
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let f = &r[..digits];
            let padded: String = f.chars().chain(std::iter::repeat('0')).take(3).collect();
            frac_ms = padded.parse::<i64>().ok()?;
            rest = &r[digits..];
        }
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let offset_secs = match rest.trim_start() {
        "" | "Z" | "z" => 0,
        o => {
            let sign = match o.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = o[1..].chars().filter(|c| *c != ':').collect();
            if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = if digits.len() == 4 {
                digits[2..].parse().ok()?
            } else {
                0
            };
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let day = ms_of(y, mo, d, 0).ok()?;
    Some(day + ((hh * 3600 + mm * 60 + ss.min(59) - offset_secs) * 1000) + frac_ms)
}

/// Milliseconds of a calendar date (+ `secs` into the day), checked.
fn ms_of(y: i64, m: i64, d: i64, secs: i64) -> Result<i64, CoreError> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=9999).contains(&y) && y != 10_000 || !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return Err(CoreError::Invalid(format!("{y:04}-{m:02}-{d:02} is not a date")));
    }
    Ok((days_from_civil(y, m, d) * 86_400 + secs) * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::rfc3339::format;

    #[test]
    fn instants_in_every_accepted_form() {
        let t = parse_instant("2021-12-13T09:38:11Z").unwrap();
        assert_eq!(format(t), "2021-12-13T09:38:11.000Z");
        assert_eq!(
            parse_instant("2020-04-02 15:22:37+0000").unwrap(),
            parse_instant("2020-04-02T15:22:37Z").unwrap()
        );
        assert_eq!(
            format(parse_instant("2020-04-02T17:22:37.5+02:00").unwrap()),
            "2020-04-02T15:22:37.500Z"
        );
        assert_eq!(parse_instant("1639388291").unwrap(), 1_639_388_291_000);
        for bad in [
            "",
            "x",
            "2021-13-01",
            "2021-02-30T00:00:00Z",
            "2021-01-01T25:00:00Z",
            "2021-01-01T00:00:00+2",
            "é021-01",
            "2021-é1",
            "2021-01-01Té0:00:00Z",
            "2021-01-01T00:00:00.Z",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_cover_whole_periods() {
        let r = AtRange::parse("2022|2023").unwrap();
        assert_eq!(format(r.start.unwrap()), "2022-01-01T00:00:00.000Z");
        assert_eq!(format(r.end.unwrap()), "2023-12-31T23:59:59.999Z");
        let r = AtRange::parse("2022-12|2023-02").unwrap();
        assert_eq!(format(r.start.unwrap()), "2022-12-01T00:00:00.000Z");
        assert_eq!(format(r.end.unwrap()), "2023-02-28T23:59:59.999Z");
        let one = AtRange::parse("2021-12-13T09:38:11Z").unwrap();
        assert_eq!(one.start, one.end);
        assert!(AtRange::parse("2023|2022").is_err());
        assert_eq!(AtRange::parse("|2022").unwrap().start, None);
    }
}
