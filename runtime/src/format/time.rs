//! UTC timestamps, RFC 3339 with millisecond precision: `YYYY-MM-DD HH:MM:SS.mmmZ`
//! (readable lines and job logs) and `YYYY-MM-DDTHH:MM:SS.mmmZ` (JSON). The `Z` says
//! the zone, so shippers and viewers do not take the time for local time.
//!
//! A general-purpose date formatter per line costs several times the rest of
//! the line, so the date-and-second part is computed once per second per
//! thread and only the milliseconds are written each time.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of `YYYY-MM-DD HH:MM:SS`.
const SECOND_LEN: usize = 19;

thread_local! {
    static CACHE: Cell<(u64, [u8; SECOND_LEN])> = const { Cell::new((u64::MAX, [0; SECOND_LEN])) };
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn two(out: &mut [u8], n: u32) {
    out[0] = b'0' + (n / 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

fn render_second(secs: u64) -> [u8; SECOND_LEN] {
    let days = (secs / 86_400) as i64;
    let rem = (secs % 86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    let mut b = *b"0000-00-00 00:00:00";
    // Years past 9999 are not representable in this layout; clamp rather than corrupt.
    let year = year.clamp(0, 9999) as u32;
    two(&mut b[0..2], year / 100);
    two(&mut b[2..4], year % 100);
    two(&mut b[5..7], month);
    two(&mut b[8..10], day);
    two(&mut b[11..13], rem / 3600);
    two(&mut b[14..16], rem / 60 % 60);
    two(&mut b[17..19], rem % 60);
    b
}

/// How a timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// `YYYY-MM-DD HH:MM:SS.mmmZ`, the readable lines' (RFC 3339 allows the space).
    Readable,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, for JSON.
    Iso,
}

/// Appends `t` written as `stamp` says.
pub(crate) fn push_timestamp(out: &mut String, t: SystemTime, stamp: Stamp) {
    let iso = stamp == Stamp::Iso;
    // A clock before 1970 is a misconfigured machine; write the epoch.
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let millis = since.subsec_millis();
    let second = CACHE.with(|c| {
        let (cached, text) = c.get();
        if cached == secs {
            text
        } else {
            let text = render_second(secs);
            c.set((secs, text));
            text
        }
    });
    let mut text = *b"0000-00-00 00:00:00.000Z";
    text[..SECOND_LEN].copy_from_slice(&second);
    if iso {
        text[10] = b'T';
    }
    text[SECOND_LEN + 1] = b'0' + (millis / 100) as u8;
    two(&mut text[SECOND_LEN + 2..SECOND_LEN + 4], millis % 100);
    // ASCII digits and punctuation only: validated in one pass.
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the epoch of `YYYY-MM-DD HH:MM:SS.mmmZ` and the RFC
/// 3339 forms around it: `T` or a space between date and time, `.` or `,`
/// before 0–9 digits of fraction (kept to the millisecond), `Z` or nothing
/// (both UTC: logwire wrote `,mmm` without a zone before it said the zone).
/// `None` for anything else, offsets other than `Z` included.
pub(crate) fn parse_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter()
            .try_fold(0i64, |n, &d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut millis = 0;
    if let [b'.' | b',', frac @ ..] = rest {
        let digits = frac.iter().take_while(|d| d.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        for (i, d) in frac[..digits.min(3)].iter().enumerate() {
            millis += i64::from(d - b'0') * [100, 10, 1][i];
        }
        rest = &frac[digits..];
    }
    if !matches!(rest, b"Z" | b"z" | b"") {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + min) * 60_000 + sec * 1000 + millis)
}

/// `t` in RFC 3339 as JSON lines write it, `2025-01-01T12:00:00.123Z`.
pub(crate) fn iso(t: SystemTime) -> String {
    let mut s = String::with_capacity(24);
    push_timestamp(&mut s, t, Stamp::Iso);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> String {
        let mut s = String::new();
        push_timestamp(
            &mut s,
            UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis),
            Stamp::Readable,
        );
        s
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(at(0, 0), "1970-01-01 00:00:00.000Z");
        assert_eq!(at(1_735_732_800, 123), "2025-01-01 12:00:00.123Z");
        assert_eq!(at(951_782_400, 7), "2000-02-29 00:00:00.007Z"); // leap day
        assert_eq!(at(4_107_542_399, 999), "2100-02-28 23:59:59.999Z"); // 2100 is not leap
        assert_eq!(at(1_709_251_199, 50), "2024-02-29 23:59:59.050Z");
    }

    #[test]
    fn cache_tracks_second_changes() {
        assert_eq!(at(1_735_732_800, 999), "2025-01-01 12:00:00.999Z");
        assert_eq!(at(1_735_732_801, 0), "2025-01-01 12:00:01.000Z");
        assert_eq!(at(1_735_732_800, 1), "2025-01-01 12:00:00.001Z");
    }

    #[test]
    fn iso_form_for_json() {
        let mut s = String::new();
        push_timestamp(
            &mut s,
            UNIX_EPOCH + Duration::from_millis(1_735_732_800_123),
            Stamp::Iso,
        );
        assert_eq!(s, "2025-01-01T12:00:00.123Z");
    }

    #[test]
    fn every_day_of_four_centuries_matches_a_naive_count() {
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for days in 0..146_097 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1];
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
