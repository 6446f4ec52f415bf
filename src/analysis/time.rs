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

/// Which end of a range a time bound is: a day given alone (`2026-11-20`, `today`)
/// starts at its first microsecond for `--since` and ends at its last for `--until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Since,
    Until,
}

/// Seconds east of UTC of the local time zone at the instant `utc` (microseconds).
pub type Zone<'z> = &'z dyn Fn(Micros) -> i64;

/// The system's zone (`TZ`, else `/etc/localtime`), as `localtime_r` sees it.
pub fn local_offset(utc: Micros) -> i64 {
    let seconds = utc.div_euclid(MICROS_PER_SECOND) as libc::time_t;
    // SAFETY: `tm` is plain data (an all-zero `tm` is valid, its zone pointer null);
    // localtime_r reads `seconds` and writes only `tm`, both live for the call.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        (!libc::localtime_r(&seconds, &mut tm).is_null()).then_some(tm)
    };
    tm.map_or(0, |tm| tm.tm_gmtoff)
}

/// The UTC instant of a local wall-clock time (microseconds as if the wall clock were
/// UTC). In a DST gap or overlap this picks one of the candidates, as `date -d` does.
fn from_local(wall: Micros, zone: Zone<'_>) -> Micros {
    let guess = wall - zone(wall) * MICROS_PER_SECOND;
    wall - zone(guess) * MICROS_PER_SECOND
}

/// Tells what forms a time takes, for error messages and `--help`.
pub const TIME_FORMS: &str = "RFC 3339 (2026-11-22T12:00:00Z, 2026-11-22T13:00:00+01:00), a local time \
(2026-11-22 12:00, 2026-11-22T12:00:00), a date (2026-11-22: the whole local day), today, yesterday, \
now, recent (10 minutes ago) or an age (30s, 10m, 1h30m, 2d, 1w)";

/// A `--since`/`--until` value (see `TIME_FORMS`): RFC 3339 with `Z` or an offset is
/// exact; a date or time without a zone is local time (`zone`); a day alone is its
/// first microsecond for `Side::Since` and its last for `Side::Until`; ages count back
/// from `now`.
pub fn parse_bound(text: &str, now: Micros, side: Side, zone: Zone<'_>) -> Result<Micros, String> {
    let text = text.trim();
    let day = |days: Micros| -> Micros {
        let start = from_local(days * MICROS_PER_DAY, zone);
        match side {
            Side::Since => start,
            Side::Until => from_local((days + 1) * MICROS_PER_DAY, zone) - 1,
        }
    };
    let today = (now + zone(now) * MICROS_PER_SECOND).div_euclid(MICROS_PER_DAY);
    match text.to_ascii_lowercase().as_str() {
        "now" => return Ok(now),
        "recent" => return Ok(now - 10 * MICROS_PER_MINUTE),
        "today" => return Ok(day(today)),
        "yesterday" => return Ok(day(today - 1)),
        _ => {}
    }
    if let Some(age) = parse_age(text) {
        return age.map(|age| now - age);
    }
    let b = text.as_bytes();
    if b.len() == 10 {
        if let Some(days) = parse_date(b) {
            return Ok(day(days));
        }
    }
    if let Some(exact) = parse_rfc3339(text) {
        return Ok(exact);
    }
    // Without a zone: `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]`, local.
    let local = match b.len() {
        16 => parse_rfc3339(&format!("{text}:00Z")),
        17.. => parse_rfc3339(&format!("{text}Z")),
        _ => None,
    };
    local.map(|wall| from_local(wall, zone)).ok_or_else(|| format!("{text:?} is not a time: use {TIME_FORMS}"))
}

/// `Some` when `text` looks like an age (digits and unit letters, `1h30m`); the inner
/// result says whether it is a valid one.
fn parse_age(text: &str) -> Option<Result<Micros, String>> {
    let b = text.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() || !b.iter().all(|c| c.is_ascii_digit() || b"smhdw".contains(c)) {
        return None;
    }
    if !b[b.len() - 1].is_ascii_alphabetic() {
        return None;
    }
    let mut total: Micros = 0;
    let mut number_start = 0;
    for (at, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            continue;
        }
        if at == number_start {
            return Some(Err(format!("{text:?}: a unit without a number")));
        }
        let unit = match c {
            b's' => MICROS_PER_SECOND,
            b'm' => MICROS_PER_MINUTE,
            b'h' => MICROS_PER_HOUR,
            b'd' => MICROS_PER_DAY,
            _ => 7 * MICROS_PER_DAY,
        };
        let count: Micros = match text[number_start..at].parse() {
            Ok(count) => count,
            Err(_) => return Some(Err(format!("{text:?}: the number is too large"))),
        };
        total = match count.checked_mul(unit).and_then(|part| total.checked_add(part)) {
            Some(total) => total,
            None => return Some(Err(format!("{text:?}: too far back"))),
        };
        number_start = at + 1;
    }
    Some(Ok(total))
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

    fn utc(_: Micros) -> i64 {
        0
    }

    /// Central European Time, as a fixed zone: one hour east.
    fn cet(_: Micros) -> i64 {
        3600
    }

    fn since(text: &str, now: Micros) -> Result<Micros, String> {
        parse_bound(text, now, Side::Since, &utc)
    }

    #[test]
    fn bounds_accept_ages_dates_and_times() {
        assert_eq!(since("10m", T), Ok(T - 600 * MICROS_PER_SECOND));
        assert_eq!(since("2h", T), Ok(T - 2 * MICROS_PER_HOUR));
        assert_eq!(since("1d", T), Ok(T - MICROS_PER_DAY));
        assert_eq!(since("1w", T), Ok(T - 7 * MICROS_PER_DAY));
        assert_eq!(since("30s", T), Ok(T - 30 * MICROS_PER_SECOND));
        assert_eq!(since("1h30m", T), Ok(T - 90 * MICROS_PER_MINUTE));
        assert_eq!(since("2d12h", T), Ok(T - 60 * MICROS_PER_HOUR));
        assert_eq!(since("recent", T), Ok(T - 10 * MICROS_PER_MINUTE));
        assert_eq!(since("now", T), Ok(T));
        let midnight = T - (12 * 3600 + 34 * 60 + 56) * MICROS_PER_SECOND;
        assert_eq!(since("2026-11-22", 0), Ok(midnight));
        assert_eq!(since(" 2026-11-22T12:34:56Z ", 0), Ok(T));
        assert!(since("10x", T).is_err());
        assert!(since("m", T).is_err());
        assert!(since("1hm", T).is_err());
        assert!(since("99999999999999999999d", T).is_err());
        assert!(since("999999999999999d", T).is_err());
        assert!(since("tomorrow", T).is_err());
    }

    #[test]
    fn days_end_where_until_says_and_local_times_use_the_zone() {
        let midnight = T - (12 * 3600 + 34 * 60 + 56) * MICROS_PER_SECOND;
        let until = |text: &str| parse_bound(text, T, Side::Until, &utc);
        assert_eq!(until("2026-11-22"), Ok(midnight + MICROS_PER_DAY - 1));
        assert_eq!(until("today"), Ok(midnight + MICROS_PER_DAY - 1));
        assert_eq!(until("yesterday"), Ok(midnight - 1));
        assert_eq!(since("today", T), Ok(midnight));
        assert_eq!(since("Yesterday", T), Ok(midnight - MICROS_PER_DAY));
        // An exact time is the same for both ends.
        assert_eq!(until("2026-11-22T12:34:56Z"), Ok(T));
        // Without a zone: local. 13:34:56 in CET is 12:34:56 UTC.
        let cet_since = |text: &str| parse_bound(text, T, Side::Since, &cet);
        assert_eq!(cet_since("2026-11-22 13:34:56"), Ok(T));
        assert_eq!(cet_since("2026-11-22T13:34:56"), Ok(T));
        assert_eq!(cet_since("2026-11-22 13:34"), Ok(T - 56 * MICROS_PER_SECOND));
        assert_eq!(cet_since("2026-11-22T13:34:56.5"), Ok(T + 500_000));
        assert_eq!(cet_since("2026-11-22"), Ok(midnight - MICROS_PER_HOUR));
        assert_eq!(cet_since("2026-11-22T12:34:56Z"), Ok(T));
        // Today in CET starts at 23:00 UTC the day before.
        assert_eq!(cet_since("today"), Ok(midnight - MICROS_PER_HOUR));
        assert!(cet_since("2026-11-22 13").is_err());
        // The real zone answers something sane.
        assert!(local_offset(T).abs() <= 14 * 3600);
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
