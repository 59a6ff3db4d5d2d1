//! Log timestamps to seconds since the Unix epoch, without a clock.
//!
//! - BSD syslog `Nov 29 07:00:00` has no year: the year of `now` is taken,
//!   or the year before when that would put the line more than a day after
//!   `now` (so a log running from December into January, read in January,
//!   gets both years right).
//! - RFC 3339 (`2026-11-29T07:00:00.123456+01:00`, rsyslog's high-precision
//!   format and Exchange's `…Z`) is converted to UTC.
//! - Exim's `2026-11-29 07:00:00` (optionally `.123` and `+0100`).
//!
//! Times without a zone are taken as UTC: the analysis only compares a log's
//! times with each other (and with `now` within a day's slack).

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-11-29T07:00:00Z` for a Unix time.
pub fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0')))
}

fn hms(b: &[u8]) -> Option<i64> {
    // HH:MM:SS
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let h = digits(&b[0..2])?;
    let m = digits(&b[3..5])?;
    let s = digits(&b[6..8])?;
    (h < 24 && m < 60 && s <= 60).then_some(i64::from(h * 3600 + m * 60 + s))
}

fn ymd(b: &[u8]) -> Option<i64> {
    // YYYY-MM-DD
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(&b[0..4])?;
    let m = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(i64::from(y), m, d))
}

/// `+01:00`, `+0100`, `Z`; returns (offset seconds, bytes used).
fn zone(b: &[u8]) -> Option<(i64, usize)> {
    match b.first()? {
        b'Z' | b'z' => Some((0, 1)),
        &c @ (b'+' | b'-') => {
            let sign = if c == b'-' { -1 } else { 1 };
            let (h, m, used) = if b.len() >= 6 && b[3] == b':' {
                (digits(&b[1..3])?, digits(&b[4..6])?, 6)
            } else if b.len() >= 5 {
                (digits(&b[1..3])?, digits(&b[3..5])?, 5)
            } else {
                return None;
            };
            Some((sign * i64::from(h * 3600 + m * 60), used))
        }
        _ => None,
    }
}

/// RFC 3339 at the start of `b`: (Unix time, bytes used).
pub fn parse_rfc3339(b: &[u8]) -> Option<(i64, usize)> {
    if b.len() < 19 || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let day = ymd(b)?;
    let secs = hms(&b[11..])?;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let (off, used) = b.get(i..).and_then(zone).unwrap_or((0, 0));
    Some((day * 86_400 + secs - off, i + used))
}

/// Exim's `2026-11-29 07:00:00[.123] [+0100]`: (Unix time, bytes used).
pub fn parse_exim(b: &[u8]) -> Option<(i64, usize)> {
    if b.len() < 19 || b[10] != b' ' {
        return None;
    }
    let day = ymd(b)?;
    let secs = hms(&b[11..])?;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let mut off = 0;
    if b.get(i) == Some(&b' ') {
        if let Some((o, used)) = b.get(i + 1..).and_then(zone) {
            if used == 5 {
                off = o;
                i += 1 + used;
            }
        }
    }
    Some((day * 86_400 + secs - off, i))
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// The calendar year of a Unix time.
pub fn year_of(t: i64) -> i64 {
    civil_from_days(t.div_euclid(86_400)).0
}

/// BSD syslog `Nov 29 07:00:00` (day may be space-padded): (Unix time,
/// bytes used), the year inferred from `now`.
pub fn parse_bsd(b: &[u8], now: i64) -> Option<(i64, usize)> {
    parse_bsd_in(b, now, None)
}

/// [`parse_bsd`] with `now`'s year already known (it is the same for every
/// line of a log).
pub fn parse_bsd_in(b: &[u8], now: i64, year: Option<i64>) -> Option<(i64, usize)> {
    if b.len() < 15 || b[3] != b' ' || b[6] != b' ' {
        return None;
    }
    let month = MONTHS.iter().position(|m| &b[..3] == *m)? as u32 + 1;
    let day = if b[4] == b' ' {
        digits(&b[5..6])?
    } else {
        digits(&b[4..6])?
    };
    if !(1..=31).contains(&day) {
        return None;
    }
    let secs = hms(&b[7..])?;
    let year = year.unwrap_or_else(|| year_of(now));
    let at = |y: i64| days_from_civil(y, month, day) * 86_400 + secs;
    let t = at(year);
    let t = if t > now + 86_400 { at(year - 1) } else { t };
    Some((t, 15))
}

/// The RFC 3339 time a host passes in (`opts.now`); None when absent or
/// malformed.
pub fn parse_now(now: &str) -> Option<i64> {
    parse_rfc3339(now.trim().as_bytes()).map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for d in [-1_000_000i64, -1, 0, 1, 19_000, 20_786, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_935_600), "2026-11-29T07:00:00Z");
    }

    #[test]
    fn formats() {
        let now = parse_now("2026-11-29T12:00:00Z").unwrap();
        assert_eq!(
            parse_rfc3339(b"2026-11-29T08:00:00.123456+01:00 mx"),
            Some((1_795_935_600, 32))
        );
        assert_eq!(
            parse_rfc3339(b"2026-11-29T07:00:00Z,"),
            Some((1_795_935_600, 20))
        );
        assert_eq!(
            parse_exim(b"2026-11-29 07:00:00 1rAB"),
            Some((1_795_935_600, 19))
        );
        assert_eq!(
            parse_exim(b"2026-11-29 08:00:00.250 +0100 x"),
            Some((1_795_935_600, 29))
        );
        assert_eq!(
            parse_bsd(b"Nov 29 07:00:00 mx", now),
            Some((1_795_935_600, 15))
        );
        assert_eq!(
            parse_bsd(b"Dec  1 07:00:00 mx", now).map(|(t, _)| rfc3339(t)),
            Some("2025-12-01T07:00:00Z".into())
        );
    }

    #[test]
    fn year_rollover() {
        // Read on 2 January: December lines are last year's.
        let now = parse_now("2027-01-02T10:00:00Z").unwrap();
        let dec = parse_bsd(b"Dec 31 23:59:59 mx", now).unwrap().0;
        let jan = parse_bsd(b"Jan  1 00:00:01 mx", now).unwrap().0;
        assert_eq!(rfc3339(dec), "2026-12-31T23:59:59Z");
        assert_eq!(jan - dec, 2);
        // A line a few hours "after" now (time zones) stays in this year.
        assert_eq!(
            parse_bsd(b"Jan  2 20:00:00 mx", now).map(|(t, _)| rfc3339(t)),
            Some("2027-01-02T20:00:00Z".into())
        );
    }

    #[test]
    fn junk_is_none() {
        let now = 0;
        for s in [
            &b"Foo 29 07:00:00 x"[..],
            b"Nov 32 07:00:00 xx",
            b"Nov 29 25:00:00 xx",
            b"Nov 29 07:0",
            b"2026-13-01T00:00:00Z",
            b"2026-11-29X07:00:00Z",
            "Nov 29 07:00:0é xx".as_bytes(),
        ] {
            assert!(
                parse_bsd(s, now).is_none() && parse_rfc3339(s).is_none(),
                "{s:?}"
            );
        }
    }
}
