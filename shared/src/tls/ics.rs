//! A calendar reminder of a certificate's expiry (RFC 5545): one VEVENT at
//! the certificate's notAfter with alarms 60 and 30 days before. The UID
//! comes from the certificate's SHA-256 fingerprint, so importing the file
//! twice updates one event; DTSTAMP is the time the caller passes in.

use super::cert::CertSummary;

/// (year, month, day, hour, minute, second) in UTC of a unix time.
pub fn civil(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs % 3600 / 60) as u32,
        (secs % 60) as u32,
    )
}

/// "2026-05-01T12:00:00Z".
pub fn rfc3339(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// "20260501T120000Z" (RFC 5545 DATE-TIME, UTC).
fn ics_time(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// TEXT escaping (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ';' => o.push_str("\\;"),
            ',' => o.push_str("\\,"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

/// Appends a content line, folded at 75 octets (never inside a UTF-8
/// sequence) and ended with CRLF (RFC 5545 §3.1).
fn line(out: &mut String, l: &str) {
    let mut width = 0;
    for c in l.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// The `.ics` text reminding the owner of `host` to renew `cert`.
/// `now_unix` becomes DTSTAMP.
pub fn expiry_ics(cert: &CertSummary, host: &str, now_unix: i64) -> String {
    let mut o = String::new();
    let expires = rfc3339(cert.not_after);
    let summary = format!("TLS certificate of {host} expires");
    let description = format!(
        "The TLS certificate of {host} ({}, issued by {}) expires on {expires}. \
         Renew it and reload the mail server before then. SHA-256 fingerprint: {}.",
        cert.subject, cert.issuer, cert.sha256
    );
    for l in [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//mailaudit//certificate expiry//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:cert-{}@mailaudit", cert.sha256),
        format!("DTSTAMP:{}", ics_time(now_unix)),
        format!("DTSTART:{}", ics_time(cert.not_after)),
        "DURATION:PT1H".into(),
        format!("SUMMARY:{}", text(&summary)),
        format!("DESCRIPTION:{}", text(&description)),
        "TRANSP:TRANSPARENT".into(),
    ] {
        line(&mut o, &l);
    }
    for days in [60, 30] {
        for l in [
            "BEGIN:VALARM".to_string(),
            "ACTION:DISPLAY".into(),
            format!(
                "DESCRIPTION:{}",
                text(&format!("{summary} in {days} days ({expires})"))
            ),
            format!("TRIGGER;RELATED=START:-P{days}D"),
            "END:VALARM".into(),
        ] {
            line(&mut o, &l);
        }
    }
    for l in ["END:VEVENT", "END:VCALENDAR"] {
        line(&mut o, l);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    #[test]
    fn calendar_is_rfc5545() {
        let cert = CertSummary {
            subject: "CN=mail.example.org".into(),
            issuer: "CN=Example CA, O=Example; Inc".into(),
            not_after: 1_767_225_599,
            sha256: "ab".repeat(32),
            ..CertSummary::default()
        };
        let ics = expiry_ics(&cert, "mail.example.org", 1_760_000_000);
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "unfolded line {l:?}");
            assert!(!l.contains('\n') && !l.contains('\r'));
        }
        let raw = ics.clone();
        let ics = ics.replace("\r\n ", "");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert!(ics.contains(&format!("UID:cert-{}@mailaudit\r\n", "ab".repeat(32))));
        assert!(ics.contains("DTSTAMP:20251009T085320Z\r\n"));
        assert!(ics.contains("DTSTART:20251231T235959Z\r\n"));
        assert!(ics.contains("TRIGGER;RELATED=START:-P60D\r\n"));
        assert!(ics.contains("TRIGGER;RELATED=START:-P30D\r\n"));
        assert_eq!(ics.matches("BEGIN:VALARM").count(), 2);
        assert!(ics.contains("CA\\, O=Example\\; Inc"));
        // Deterministic.
        assert_eq!(raw, expiry_ics(&cert, "mail.example.org", 1_760_000_000));
    }
}
