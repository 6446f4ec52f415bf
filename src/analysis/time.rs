//! Times for the log readers: record timestamps and `--since`/`--until` arguments, as
//! microseconds since the Unix epoch (UTC).
//!
//! The writer's timestamps have one fixed shape (`2026-11-22T12:34:56.123456Z`), which
//! `parse_rfc3339` reads on a fast path; anything else RFC 3339 allows (other fraction
//! lengths, `+01:00` offsets, lowercase `t`/`z`, a space for `T`) takes the general path.
//! Because every canonical timestamp has the same width, two of them compare as strings
//! exactly as they compare as times: the readers use that to reject lines by time
//! before parsing them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

pub const MICROS_PER_SECOND: Micros = 1_000_000;
pub const MICROS_PER_MINUTE: Micros = 60 * MICROS_PER_SECOND;
pub const MICROS_PER_HOUR: Micros = 60 * MICROS_PER_MINUTE;
pub const MICROS_PER_DAY: Micros = 24 * MICROS_PER_HOUR;

/// The width of the writer's canonical timestamp, `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub const CANONICAL_LEN: usize = 27;

pub fn now() -> Micros {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_micros() as Micros,
        Err(before) => -(before.duration().as_micros() as Micros),
    }
}

/// A `--since`/`--until` value: RFC 3339 (`2026-11-22T12:00:00Z`, with an offset or
/// fraction), a date (`2026-11-22`, midnight UTC), or an age before `now`: a whole number
/// with `s`, `m`, `h`, `d` or `w` (`10m`, `2h`, `1d`).
pub fn parse_bound(text: &str, now: Micros) -> Result<Micros, String> {
    let text = text.trim();
    if let Some(age) = parse_age(text) {
        return age.map(|age| now - age);
    }
    if text.len() == 10 {
        if let Some(days) = parse_date(text.as_bytes()) {
            return Ok(days * MICROS_PER_DAY);
        }
    }
    parse_rfc3339(text).ok_or_else(|| {
        format!("{text:?} is not a time: use RFC 3339 (2026-11-22T12:00:00Z), a date (2026-11-22) or an age (30s, 10m, 2h, 1d, 1w)")
    })
}

/// `Some` when `text` looks like an age (digits then a unit letter); the inner result
/// says whether it is a valid one.
fn parse_age(text: &str) -> Option<Result<Micros, String>> {
    let unit_at = text.find(|ch: char| !ch.is_ascii_digit())?;
    if unit_at == 0 || unit_at + 1 != text.len() {
        return None;
    }
    let unit = match text.as_bytes()[unit_at] {
        b's' => MICROS_PER_SECOND,
        b'm' => MICROS_PER_MINUTE,
        b'h' => MICROS_PER_HOUR,
        b'd' => MICROS_PER_DAY,
        b'w' => 7 * MICROS_PER_DAY,
        _ => return None,
    };
    let count: Micros = match text[..unit_at].parse() {
        Ok(count) => count,
        Err(_) => return Some(Err(format!("{text:?}: the number is too large"))),
    };
    Some(count.checked_mul(unit).ok_or_else(|| format!("{text:?}: too far back")))
}

/// An RFC 3339 date-time in microseconds since the epoch; `None` if it is not one.
/// Digits past the sixth of a fraction are truncated, like the writer does.
pub fn parse_rfc3339(text: &str) -> Option<Micros> {
    let b = text.as_bytes();
    if b.len() == CANONICAL_LEN && b[19] == b'.' && b[26] == b'Z' && b[10] == b'T' {
        // The writer's own shape: the common case, kept branch-light.
        let seconds = parse_date_time(b)?;
        let fraction = digits(&b[20..26])?;
        return Some(seconds * MICROS_PER_SECOND + fraction);
    }
    if b.len() < 20 {
        return None;
    }
    let seconds = parse_date_time(b)?;
    let mut at = 19;
    let mut fraction = 0;
    if b[at] == b'.' {
        at += 1;
        let start = at;
        while at < b.len() && b[at].is_ascii_digit() {
            at += 1;
        }
        if at == start {
            return None;
        }
        let kept = &b[start..at.min(start + 6)];
        fraction = digits(kept)? * 10_i64.pow(6 - kept.len() as u32);
    }
    let offset = match &b[at..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = digits(&[*h1, *h2])?;
            let minutes = digits(&[*m1, *m2])?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'+' {
                offset
            } else {
                -offset
            }
        }
        _ => return None,
    };
    Some((seconds - offset) * MICROS_PER_SECOND + fraction)
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS` at the start of `b` (19 bytes or more).
fn parse_date_time(b: &[u8]) -> Option<Micros> {
    if !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let days = parse_date(&b[..10])?;
    let (hour, minute, second) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    // 60 for a leap second, which then reads as the next second's start.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since the epoch of `YYYY-MM-DD` (exactly 10 bytes).
fn parse_date(b: &[u8]) -> Option<Micros> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(&b[..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn digits(b: &[u8]) -> Option<Micros> {
    b.iter().try_fold(0, |value: Micros, &byte| byte.is_ascii_digit().then(|| value * 10 + Micros::from(byte - b'0')))
}

fn is_leap(year: Micros) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: Micros, month: Micros) -> Micros {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`: days from 1970-01-01 to the given date, exact for
/// the proleptic Gregorian calendar (years start on March 1 inside the 400-year era).
fn days_from_civil(year: Micros, month: Micros, day: Micros) -> Micros {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of `days_from_civil`. (The log writer has the same conversion in
/// `logging::time`; it is private there and this one also serves the readers' tests.)
fn civil_from_days(days: Micros) -> (Micros, Micros, Micros) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    (year_of_era + era * 400 + Micros::from(month <= 2), month, day)
}

/// The canonical form, `2026-11-22T12:34:56.123456Z`, for years 0..=9999 (clamped).
pub fn format_rfc3339(time: Micros) -> String {
    let (date, seconds, fraction) = split(time);
    format!("{date}T{}.{fraction:06}Z", clock(seconds))
}

/// `2026-11-22 12:34:56`: for people, to the second, UTC.
pub fn format_short(time: Micros) -> String {
    let (date, seconds, _) = split(time);
    format!("{date} {}", clock(seconds))
}

/// `2026-11-22 12:34`: minute resolution, for bursts and chart axes.
pub fn format_minute(time: Micros) -> String {
    let (date, seconds, _) = split(time);
    format!("{date} {:02}:{:02}", seconds / 3600, seconds / 60 % 60)
}

/// (`YYYY-MM-DD`, second of the day, microseconds).
fn split(time: Micros) -> (String, Micros, Micros) {
    const MIN: Micros = -62_167_219_200 * MICROS_PER_SECOND; // 0000-01-01
    const MAX: Micros = 253_402_300_800 * MICROS_PER_SECOND - 1; // 9999-12-31T23:59:59.999999
    let time = time.clamp(MIN, MAX);
    let days = time.div_euclid(MICROS_PER_DAY);
    let in_day = time.rem_euclid(MICROS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    (format!("{year:04}-{month:02}-{day:02}"), in_day / MICROS_PER_SECOND, in_day % MICROS_PER_SECOND)
}

fn clock(seconds: Micros) -> String {
    format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// A duration for people: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn format_span(span: Micros) -> String {
    let seconds = span.max(0) / MICROS_PER_SECOND;
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86_400 => format!("{}h {}m", seconds / 3600, seconds / 60 % 60),
        _ => format!("{}d {}h", seconds / 86_400, seconds / 3600 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22T12:34:56Z
    const T: Micros = 1_795_350_896 * MICROS_PER_SECOND;

    #[test]
    fn canonical_and_general_forms() {
        assert_eq!(parse_rfc3339("2026-11-22T12:34:56.123456Z"), Some(T + 123_456));
        assert_eq!(parse_rfc3339("2026-11-22T12:34:56Z"), Some(T));
        assert_eq!(parse_rfc3339("2026-11-22t12:34:56.5z"), Some(T + 500_000));
        assert_eq!(parse_rfc3339("2026-11-22 12:34:56.1234567Z"), Some(T + 123_456));
        assert_eq!(parse_rfc3339("2026-11-22T13:34:56+01:00"), Some(T));
        assert_eq!(parse_rfc3339("2026-11-22T07:04:56.000001-05:30"), Some(T + 1));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.000000Z"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.999999Z"), Some(-1));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800 * MICROS_PER_SECOND));
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T12:34:56",
            "2026-11-22T12:34:56.Z",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T12:34:56+0100",
            "2026-11-22X12:34:56Z",
            "2026-11-22T12:34:56.123456Zjunk",
            "２026-11-22T12:34:56Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bounds_accept_ages_dates_and_times() {
        assert_eq!(parse_bound("10m", T), Ok(T - 600 * MICROS_PER_SECOND));
        assert_eq!(parse_bound("2h", T), Ok(T - 2 * MICROS_PER_HOUR));
        assert_eq!(parse_bound("1d", T), Ok(T - MICROS_PER_DAY));
        assert_eq!(parse_bound("1w", T), Ok(T - 7 * MICROS_PER_DAY));
        assert_eq!(parse_bound("30s", T), Ok(T - 30 * MICROS_PER_SECOND));
        assert_eq!(parse_bound("2026-11-22", 0), Ok(T - (12 * 3600 + 34 * 60 + 56) * MICROS_PER_SECOND));
        assert_eq!(parse_bound(" 2026-11-22T12:34:56Z ", 0), Ok(T));
        assert!(parse_bound("10x", T).is_err());
        assert!(parse_bound("m", T).is_err());
        assert!(parse_bound("99999999999999999999d", T).is_err());
        assert!(parse_bound("999999999999999d", T).is_err());
        assert!(parse_bound("yesterday", T).is_err());
    }

    #[test]
    fn formats_round_trip_and_sort_as_strings() {
        let mut previous = String::new();
        for time in [-MICROS_PER_DAY, -1, 0, 1, T, T + 999_999, 4_107_542_400 * MICROS_PER_SECOND] {
            let text = format_rfc3339(time);
            assert_eq!(text.len(), CANONICAL_LEN);
            assert_eq!(parse_rfc3339(&text), Some(time), "{text}");
            assert!(text > previous, "{text} sorts after {previous}");
            previous = text;
        }
        assert_eq!(format_rfc3339(T + 123_456), "2026-11-22T12:34:56.123456Z");
        assert_eq!(format_short(T + 123_456), "2026-11-22 12:34:56");
        assert_eq!(format_minute(T), "2026-11-22 12:34");
    }

    #[test]
    fn calendar_conversions_agree_for_every_day() {
        for days in -800_000..800_000 {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
            assert!(day <= days_in_month(year, month));
        }
    }

    #[test]
    fn spans_for_people() {
        assert_eq!(format_span(45 * MICROS_PER_SECOND), "45s");
        assert_eq!(format_span(12 * MICROS_PER_MINUTE + 5), "12m");
        assert_eq!(format_span(3 * MICROS_PER_HOUR + 5 * MICROS_PER_MINUTE), "3h 5m");
        assert_eq!(format_span(2 * MICROS_PER_DAY + 4 * MICROS_PER_HOUR), "2d 4h");
    }
}
