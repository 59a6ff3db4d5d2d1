//! Dates as PowerShell prints them (`NotAfter`), by the culture of the
//! server that printed them: `12/31/2026 11:59:59 PM` (en-US, month
//! first), `31/12/2026 23:59:59` (en-GB, fr-FR: day first), `31.12.2026
//! 23:59:59` (de-DE: day first), `2026-12-31 23:59:59` / ISO 8601. A
//! slash date without AM/PM whose first two numbers are both ≤ 12 and
//! differ cannot be read for sure: both readings are returned.

/// Seconds since the Unix epoch (the printed local time taken as UTC).
pub type Unix = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    One(Unix),
    /// Month-first and day-first readings differ.
    Ambiguous {
        month_first: Unix,
        day_first: Unix,
    },
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn valid(y: i64, m: i64, d: i64) -> bool {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=9999).contains(&y) && d >= 1 && d <= dim
}

fn unix(y: i64, m: i64, d: i64, secs: i64) -> Option<Unix> {
    valid(y, m, d).then(|| days_from_civil(y, m, d) * 86_400 + secs)
}

/// `23:59:59`, `11:59:59 PM`, `23:59` → seconds of the day, and whether
/// an AM/PM marker was there.
fn time_of_day(s: &str) -> Option<(i64, bool)> {
    let s = s.trim();
    if s.is_empty() {
        return Some((0, false));
    }
    let upper = s.to_ascii_uppercase();
    let (clock, ampm) = if let Some(c) = upper.strip_suffix("PM") {
        (c.trim().to_string(), Some(true))
    } else if let Some(c) = upper.strip_suffix("AM") {
        (c.trim().to_string(), Some(false))
    } else {
        (upper, None)
    };
    // Drop fractions and a trailing zone (`Z`, `+01:00`).
    let clock = clock.trim_end_matches('Z');
    let clock = clock
        .split(['+', ' '])
        .next()
        .unwrap_or("")
        .split('.')
        .next()
        .unwrap_or("");
    let mut f = clock.split(':');
    let h: i64 = f.next()?.trim().parse().ok()?;
    let mi: i64 = f.next().unwrap_or("0").trim().parse().ok()?;
    let se: i64 = f.next().unwrap_or("0").trim().parse().ok()?;
    if mi > 59 || se > 60 {
        return None;
    }
    let h = match ampm {
        Some(pm) => {
            if !(1..=12).contains(&h) {
                return None;
            }
            (h % 12) + if pm { 12 } else { 0 }
        }
        None if h <= 23 => h,
        None => return None,
    };
    Some((h * 3600 + mi * 60 + se, ampm.is_some()))
}

/// Reads a printed date.
pub fn parse(s: &str) -> Option<Parsed> {
    let s = s.trim();
    let (date, rest) = match s.find([' ', 'T']) {
        Some(i) => (s.get(..i)?, s.get(i + 1..)?),
        None => (s, ""),
    };
    let (secs, ampm) = time_of_day(rest)?;
    let num = |p: &str| -> Option<i64> {
        (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())?
    };
    if let Some((sep, _)) = [('-', 0), ('/', 1), ('.', 2)]
        .into_iter()
        .find(|(c, _)| date.contains(*c))
    {
        let parts: Vec<&str> = date.split(sep).collect();
        let [a, b, c] = parts.as_slice() else {
            return None;
        };
        let (a, b, c) = (num(a)?, num(b)?, num(c)?);
        // Year first (ISO, yyyy/mm/dd).
        if a > 31 {
            return unix(a, b, c, secs).map(Parsed::One);
        }
        let y = if c < 100 { 2000 + c } else { c };
        return match sep {
            '.' | '-' => unix(y, b, a, secs).map(Parsed::One),
            _ if ampm => unix(y, a, b, secs).map(Parsed::One),
            _ => {
                let md = unix(y, a, b, secs);
                let dm = unix(y, b, a, secs);
                match (md, dm) {
                    (Some(x), Some(z)) if x != z => Some(Parsed::Ambiguous {
                        month_first: x,
                        day_first: z,
                    }),
                    (Some(x), _) | (None, Some(x)) => Some(Parsed::One(x)),
                    (None, None) => None,
                }
            }
        };
    }
    None
}

/// `2026-12-31` of a Unix time.
pub fn day(t: Unix) -> String {
    let days = t.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> String {
        match parse(s) {
            Some(Parsed::One(t)) => format!("{} {}", day(t), t.rem_euclid(86_400)),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn cultures() {
        assert_eq!(one("12/31/2026 11:59:59 PM"), "2026-12-31 86399");
        assert_eq!(one("1/5/2027 12:00:00 AM"), "2027-01-05 0");
        assert_eq!(one("31/12/2026 23:59:59"), "2026-12-31 86399");
        assert_eq!(one("31.12.2026 23:59:59"), "2026-12-31 86399");
        assert_eq!(one("2026-12-31 23:59:59"), "2026-12-31 86399");
        assert_eq!(one("2026-12-31T23:59:59Z"), "2026-12-31 86399");
        assert_eq!(one("2026-12-31T23:59:59.0000000+01:00"), "2026-12-31 86399");
        assert_eq!(one("2024-02-29"), "2024-02-29 0");
        assert!(matches!(
            parse("05/06/2027 10:00:00"),
            Some(Parsed::Ambiguous { .. })
        ));
        // Same day either way.
        assert_eq!(one("07/07/2027 10:00:00"), "2027-07-07 36000");
        for bad in [
            "",
            "13/13/2026",
            "2026-02-30",
            "12/31/2026 13:00:00 PM",
            "soon",
            "1/2",
            "99999/1/1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
