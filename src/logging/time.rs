//! RFC 3339 timestamps for log records: UTC, microseconds, `Z`
//! (`2026-11-22T12:34:56.123456Z`). The civil-date conversion is Howard Hinnant's
//! `civil_from_days`, exact for the proleptic Gregorian calendar; no date crate needed.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

const MICROS_PER_SECOND: i128 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;
/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: RFC 3339's range, in seconds from the epoch.
const FIRST_SECOND: i64 = -62_167_219_200;
const LAST_SECOND: i64 = 253_402_300_799;

thread_local! {
    /// The last second written and its `YYYY-MM-DDTHH:MM:SS`: the records of a burst
    /// share their second, and the calendar is worked out once for it.
    static RECENT_SECOND: Cell<(i64, [u8; 19])> = const { Cell::new((i64::MIN, [0; 19])) };
}

/// Appends `time` as RFC 3339 in UTC with exactly six fractional digits (truncated, not
/// rounded, so a record never appears to come from the future). RFC 3339 only has
/// four-digit years: times outside 0000..=9999 are clamped to the nearest end.
pub fn write_rfc3339(out: &mut Vec<u8>, time: SystemTime) {
    let (seconds, fraction) = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => (i128::from(after.as_secs()), after.subsec_micros()),
        // Before 1970: only in tests or with a broken clock, but still well-defined.
        Err(before) => {
            let micros = -(before.duration().as_nanos().div_ceil(1000) as i128);
            (micros.div_euclid(MICROS_PER_SECOND), micros.rem_euclid(MICROS_PER_SECOND) as u32)
        }
    };
    let (seconds, fraction) = if seconds < i128::from(FIRST_SECOND) {
        (FIRST_SECOND, 0)
    } else if seconds > i128::from(LAST_SECOND) {
        (LAST_SECOND, 999_999)
    } else {
        (seconds as i64, fraction)
    };
    let (recent, mut head) = RECENT_SECOND.get();
    if recent != seconds {
        head = date_and_time(seconds);
        RECENT_SECOND.set((seconds, head));
    }
    out.extend_from_slice(&head);
    out.push(b'.');
    push_digits(out, fraction, 6);
    out.push(b'Z');
}

/// `YYYY-MM-DDTHH:MM:SS` of a second within RFC 3339's range.
fn date_and_time(seconds: i64) -> [u8; 19] {
    let (year, month, day) = civil_from_days(seconds.div_euclid(SECONDS_PER_DAY));
    let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY) as u32;
    let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    let mut text = Vec::with_capacity(19);
    push_digits(&mut text, year as u32, 4);
    text.push(b'-');
    push_digits(&mut text, month, 2);
    text.push(b'-');
    push_digits(&mut text, day, 2);
    text.push(b'T');
    push_digits(&mut text, hour, 2);
    text.push(b':');
    push_digits(&mut text, minute, 2);
    text.push(b':');
    push_digits(&mut text, second, 2);
    let mut head = [0; 19];
    head.copy_from_slice(&text);
    head
}

/// Zero-padded decimal, `width` digits (the value always fits).
fn push_digits(out: &mut Vec<u8>, mut value: u32, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// (year, month 1..=12, day 1..=31) of the day `days` after 1970-01-01.
/// Eras of 400 years (146,097 days) repeat exactly; within an era the year starts on
/// March 1 so that the leap day is the era-year's last day.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // 0..=146_096
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // from March 1
    let month_from_march = (5 * day_of_year + 2) / 153; // 0 = March .. 11 = February
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn format(time: SystemTime) -> String {
        let mut out = Vec::new();
        write_rfc3339(&mut out, time);
        String::from_utf8(out).unwrap()
    }

    fn at(seconds: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(seconds, nanos)
    }

    #[test]
    fn fixed_times() {
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        // 2026-11-22T12:34:56Z is 1_795_350_896 s after the epoch.
        assert_eq!(format(at(1_795_350_896, 123_456_000)), "2026-11-22T12:34:56.123456Z");
        // Sub-microsecond digits are truncated, never rounded up into the next second.
        assert_eq!(format(at(1_795_350_896, 999_999_999)), "2026-11-22T12:34:56.999999Z");
        assert_eq!(format(at(1_795_350_896, 1_999)), "2026-11-22T12:34:56.000001Z");
        assert_eq!(format(at(951_782_400, 0)), "2000-02-29T00:00:00.000000Z"); // leap day, year % 400 == 0
        assert_eq!(format(at(1_709_251_199, 500_000_000)), "2024-02-29T23:59:59.500000Z"); // leap day
        assert_eq!(format(at(1_709_251_200, 0)), "2024-03-01T00:00:00.000000Z");
        assert_eq!(format(at(4_107_456_000, 0)), "2100-02-28T00:00:00.000000Z"); // 2100 is not leap:
        assert_eq!(format(at(4_107_542_400, 0)), "2100-03-01T00:00:00.000000Z"); // the next day is March 1
        assert_eq!(format(at(1_798_761_599, 999_999_000)), "2026-12-31T23:59:59.999999Z");
        assert_eq!(format(at(1_798_761_600, 0)), "2027-01-01T00:00:00.000000Z");
    }

    #[test]
    fn before_the_epoch_and_out_of_range() {
        assert_eq!(format(UNIX_EPOCH - Duration::from_micros(1)), "1969-12-31T23:59:59.999999Z");
        assert_eq!(format(UNIX_EPOCH - Duration::from_nanos(1)), "1969-12-31T23:59:59.999999Z");
        assert_eq!(format(UNIX_EPOCH - Duration::from_secs(86_400 * 365)), "1969-01-01T00:00:00.000000Z");
        assert_eq!(format(at(253_402_300_800, 0)), "9999-12-31T23:59:59.999999Z"); // year 10000
        assert_eq!(format(UNIX_EPOCH - Duration::from_secs(62_167_219_201)), "0000-01-01T00:00:00.000000Z");
    }

    /// The cached second serves only its own second: repeats, the next second, a clamped
    /// time and the same second again.
    #[test]
    fn a_repeated_second_is_written_from_the_cache_and_others_are_not() {
        assert_eq!(format(at(1_795_350_896, 1_000)), "2026-11-22T12:34:56.000001Z");
        assert_eq!(format(at(1_795_350_896, 2_000)), "2026-11-22T12:34:56.000002Z");
        assert_eq!(format(at(1_795_350_897, 0)), "2026-11-22T12:34:57.000000Z");
        assert_eq!(format(at(253_402_300_800, 5_000)), "9999-12-31T23:59:59.999999Z");
        assert_eq!(format(at(253_402_300_799, 5_000)), "9999-12-31T23:59:59.000005Z");
        assert_eq!(format(at(1_795_350_896, 3_000)), "2026-11-22T12:34:56.000003Z");
    }

    /// Every day from 1600 to 2500 against a naive day-by-day walk of the calendar.
    #[test]
    fn civil_dates_match_a_naive_calendar() {
        fn is_leap(year: i64) -> bool {
            year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        }
        fn month_length(year: i64, month: u32) -> u32 {
            match month {
                2 if is_leap(year) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            }
        }
        let days_before_1970: i64 = (1600..1970).map(|year| if is_leap(year) { 366 } else { 365 }).sum();
        let (mut year, mut month, mut day) = (1600_i64, 1_u32, 1_u32);
        for days in -days_before_1970..(531 * 366) {
            assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
            day += 1;
            if day > month_length(year, month) {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
        assert!(year >= 2500);
    }
}
