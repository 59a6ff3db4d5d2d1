//! Per rule a failing and a passing log, the chunk API, the caps.

use super::*;
use crate::report::Status;

const NOW: &str = "2026-11-29T23:00:00Z";

fn run(text: &str) -> (Vec<Finding>, LogStats) {
    let mut a = LogAnalyzer::new(LogOptions {
        now: NOW.into(),
        ..Default::default()
    });
    a.begin_file("mail.log");
    a.feed(text.as_bytes());
    a.finish()
}

fn get<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
    f.iter().find(|x| x.id == id).expect(id)
}

/// `Nov 29 HH:MM:SS` for seconds after 00:00.
fn ts(secs: u32) -> String {
    format!(
        "Nov 29 {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn fail_line(secs: u32, ip: &str, user: Option<&str>) -> String {
    let u = user
        .map(|u| format!(", sasl_username={u}"))
        .unwrap_or_default();
    format!(
        "{} mx postfix/smtpd[100]: warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6{u}\n",
        ts(secs)
    )
}

/// A normal line so every log has something recognised.
fn connect(secs: u32) -> String {
    format!(
        "{} mx postfix/smtpd[100]: connect from unknown[192.0.2.1]\n",
        ts(secs)
    )
}

#[test]
fn bruteforce_fails_at_five_in_ten_minutes() {
    // 5 failures within 9 minutes from one address.
    let mut log = connect(0);
    for i in 0..5 {
        log.push_str(&fail_line(3600 + i * 130, "203.0.113.9", None));
    }
    let (f, stats) = run(&log);
    let b = get(&f, "logs.auth_bruteforce");
    assert_eq!(b.status, Status::Fail, "{}", b.detail);
    assert!(b.detail.contains("203.0.113.9"));
    // The table row and the line where the 5th failure came (line 6).
    assert!(
        matches!(&b.evidence[0], Evidence::Note { text } if text.contains("203.0.113.9 — 5 failures"))
    );
    assert!(
        matches!(&b.evidence[1], Evidence::Config { file, line: Some(6), .. } if file == "mail.log")
    );
    assert!(b.remediation.contains("[postfix-sasl]"));
    assert!(b.remediation.contains("banip 203.0.113.9"));
    assert!(stats.ips[0].bruteforce);
    assert_eq!(stats.ips[0].peak_10min, 5);
    assert_eq!(stats.auth_failures, 5);
}

#[test]
fn bruteforce_passes_when_slower_or_spread() {
    // 5 failures, but spread over 11 minutes; and 4 each from two addresses.
    let mut log = connect(0);
    for i in 0..5 {
        log.push_str(&fail_line(3600 + i * 165, "203.0.113.9", None));
    }
    for i in 0..4 {
        log.push_str(&fail_line(7200 + i * 10, "198.51.100.1", None));
        log.push_str(&fail_line(7200 + i * 10, "198.51.100.2", None));
    }
    let (f, _) = run(&log);
    let b = get(&f, "logs.auth_bruteforce");
    assert_eq!(b.status, Status::Pass, "{}", b.detail);
    assert!(b.detail.contains("13 failed"));
}

#[test]
fn spray_many_users_from_one_address_and_one_user_from_many() {
    let mut log = connect(0);
    for i in 0..10 {
        log.push_str(&fail_line(
            100 + i * 700,
            "203.0.113.50",
            Some(&format!("user{i}@example.org")),
        ));
    }
    let (f, _) = run(&log);
    let s = get(&f, "logs.auth_spray");
    assert_eq!(s.status, Status::Fail, "{}", s.detail);
    assert!(s.detail.contains("203.0.113.50"));
    // Spread over 10 minutes apart each: not brute force.
    assert_eq!(get(&f, "logs.auth_bruteforce").status, Status::Pass);

    let mut log = connect(0);
    for i in 0..10 {
        log.push_str(&fail_line(
            100 + i * 700,
            &format!("198.51.100.{i}"),
            Some("admin@example.org"),
        ));
    }
    let (f, stats) = run(&log);
    let s = get(&f, "logs.auth_spray");
    assert_eq!(s.status, Status::Fail);
    assert!(s.detail.contains("admin@example.org"));
    assert_eq!(stats.users[0].ips, 10);

    // 9 and 9: pass.
    let mut log = connect(0);
    for i in 0..9 {
        log.push_str(&fail_line(
            100 + i * 700,
            "203.0.113.50",
            Some(&format!("user{i}@example.org")),
        ));
        log.push_str(&fail_line(
            100 + i * 700,
            &format!("198.51.100.{i}"),
            Some("admin@example.org"),
        ));
    }
    let (f, _) = run(&log);
    assert_eq!(get(&f, "logs.auth_spray").status, Status::Pass);
    // Failures without user names: unknown, not pass.
    let (f, _) = run(&format!(
        "{}{}",
        connect(0),
        fail_line(10, "203.0.113.1", None)
    ));
    assert_eq!(get(&f, "logs.auth_spray").status, Status::Unknown);
}

#[test]
fn relay_attempts_info_and_pass() {
    let line = |ip: &str| {
        format!(
            "{} mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[{ip}]: 454 4.7.1 <x@other.example>: Relay access denied; from=<a@b.example> to=<x@other.example> proto=ESMTP helo=<x>\n",
            ts(60)
        )
    };
    let (f, stats) = run(&format!(
        "{}{}{}",
        line("203.0.113.7"),
        line("203.0.113.7"),
        line("10.1.2.3")
    ));
    let r = get(&f, "logs.relay_attempts");
    assert_eq!(r.status, Status::Info);
    assert!(
        r.detail.starts_with("2 relay attempt(s) from 1 external"),
        "{}",
        r.detail
    );
    assert_eq!(stats.relay_attempts, 2);
    assert_eq!(stats.relay_internal, 1);
    assert!(matches!(
        &r.evidence[1],
        Evidence::Config { line: Some(1), .. }
    ));
    let (f, _) = run(&format!("{}{}", connect(0), line("10.1.2.3")));
    let r = get(&f, "logs.relay_attempts");
    assert_eq!(r.status, Status::Pass);
    assert!(r.detail.contains("private or loopback"));
}

/// A Postfix submission by `user` with `n` recipients at `secs`.
fn submission(id: u32, secs: u32, user: &str, n: u32) -> String {
    let t = ts(secs);
    format!(
        "{t} mx postfix/submission/smtpd[5]: 4N{id:010X}: client=laptop.example[192.0.2.10], sasl_method=PLAIN, sasl_username={user}\n\
         {t} mx postfix/qmgr[6]: 4N{id:010X}: from=<{user}>, size=1000, nrcpt={n} (queue active)\n\
         {t} mx postfix/qmgr[6]: 4N{id:010X}: removed\n"
    )
}

#[test]
fn outbound_spike_fails_and_passes() {
    // alice: 5 recipients every hour for 20 hours, then 60 in one hour.
    let mut log = String::new();
    let mut id = 0;
    for h in 0..20 {
        id += 1;
        log.push_str(&submission(id, h * 3600 + 100, "alice@example.org", 5));
    }
    let quiet = log.clone();
    for k in 0..6 {
        id += 1;
        log.push_str(&submission(id, 21 * 3600 + 60 * k, "alice@example.org", 10));
    }
    let (f, stats) = run(&log);
    let o = get(&f, "logs.outbound_spike");
    assert_eq!(o.status, Status::Fail, "{}", o.detail);
    assert!(
        o.detail.contains("alice@example.org sent to 60 recipients"),
        "{}",
        o.detail
    );
    assert!(
        matches!(&o.evidence[1], Evidence::Config { text, .. } if text.contains("from=<alice@example.org>") && text.contains("nrcpt=10"))
    );
    let row = &stats.outbound.senders[0];
    assert_eq!((row.total, row.peak, row.median), (160, 60, 5.0));
    assert!(row.spike);
    // 49 in the hour: under the floor.
    let mut log = quiet.clone();
    id += 1;
    log.push_str(&submission(id, 21 * 3600, "alice@example.org", 49));
    let (f, _) = run(&log);
    assert_eq!(get(&f, "logs.outbound_spike").status, Status::Pass);
    // Steady 60 per hour: not 5x the median.
    let mut log = String::new();
    for h in 0..10 {
        log.push_str(&submission(h + 1, h * 3600, "news@example.org", 60));
    }
    let (f, _) = run(&log);
    assert_eq!(get(&f, "logs.outbound_spike").status, Status::Pass);
    // No authenticated submission: unknown.
    let (f, _) = run(&connect(0));
    assert_eq!(get(&f, "logs.outbound_spike").status, Status::Unknown);
}

fn delivery(secs: u32, status: &str, reason: &str) -> String {
    format!(
        "{} mx postfix/smtp[7]: 4N00000000AB: to=<bob@other.example>, relay=mx.other.example[198.51.100.7]:25, delay=1, delays=0/0/0.5/0.5, dsn=4.0.0, status={status} ({reason})\n",
        ts(secs)
    )
}

#[test]
fn queue_growth_fails_and_passes() {
    // 8 hours: 2 deferrals in the first 2 hours, 24 in the last 2.
    let mut log = delivery(0, "sent", "250 OK");
    for i in 0..2 {
        log.push_str(&delivery(
            600 + i * 60,
            "deferred",
            "connect to mx.other.example[198.51.100.7]:25: Connection timed out",
        ));
    }
    for i in 0..24 {
        log.push_str(&delivery(6 * 3600 + 60 + i * 60, "deferred", "host mx.other.example[198.51.100.7] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"));
    }
    log.push_str(&delivery(8 * 3600, "sent", "250 OK"));
    let (f, stats) = run(&log);
    let q = get(&f, "logs.queue_growth");
    assert_eq!(q.status, Status::Fail, "{}", q.detail);
    assert!(
        q.detail.contains("from 2 in the first quarter"),
        "{}",
        q.detail
    );
    assert!(q.detail.contains("blocklisting"), "{}", q.detail);
    assert!(q.remediation.contains("delisting"));
    assert_eq!(stats.deliveries.deferred, 26);
    assert_eq!(stats.deliveries.categories[0].count, 24);
    // Same at both ends: pass.
    let mut log = String::new();
    for i in 0..24 {
        log.push_str(&delivery(60 + i * 60, "deferred", "Connection timed out"));
        log.push_str(&delivery(
            6 * 3600 + 60 + i * 60,
            "bounced",
            "550 5.1.1 User unknown",
        ));
    }
    log.push_str(&delivery(8 * 3600, "sent", "250 OK"));
    let (f, _) = run(&log);
    assert_eq!(get(&f, "logs.queue_growth").status, Status::Pass);
    // Under 20 in the last quarter: pass.
    let mut log = delivery(0, "sent", "ok");
    for i in 0..19 {
        log.push_str(&delivery(
            7 * 3600 + i * 60,
            "deferred",
            "Connection timed out",
        ));
    }
    log.push_str(&delivery(8 * 3600, "sent", "250 OK"));
    let (f, _) = run(&log);
    assert_eq!(get(&f, "logs.queue_growth").status, Status::Pass);
    // No delivery at all: unknown.
    let (f, _) = run(&connect(0));
    assert_eq!(get(&f, "logs.queue_growth").status, Status::Unknown);
}

#[test]
fn tls_failures_by_peer() {
    let log = format!(
        "{t} mx postfix/smtpd[1]: SSL_accept error from unknown[203.0.113.9]: -1\n\
         {t} mx postfix/smtpd[1]: SSL_accept error from unknown[203.0.113.9]: -1\n\
         {t} mx postfix/smtp[2]: SSL_connect error to mx.other.example[198.51.100.7]:25: -1\n\
         {}",
        delivery(100, "deferred", "Cannot start TLS: handshake failure"),
        t = ts(60)
    );
    let (f, stats) = run(&log);
    let t = get(&f, "logs.tls_failures");
    assert_eq!(t.status, Status::Fail);
    assert!(
        t.detail
            .starts_with("4 TLS handshake(s) failed (2 inbound, 2 outbound) with 2 peer(s)"),
        "{}",
        t.detail
    );
    assert_eq!(stats.tls_failures[0].peer, "unknown[203.0.113.9]");
    assert_eq!(stats.tls_failures[0].count, 2);
    let (f, _) = run(&connect(0));
    assert_eq!(get(&f, "logs.tls_failures").status, Status::Pass);
}

#[test]
fn nothing_recognised_is_unknown() {
    let (f, stats) = run("hello\nworld\n");
    assert_eq!(f.len(), RULES.len());
    assert!(f.iter().all(|x| x.status == Status::Unknown));
    assert_eq!(stats.lines, 2);
    // Dovecot alone is not a mail server log.
    let (f, _) = run("Nov 29 07:00:00 mx dovecot: imap-login: Login: user=<a>\n");
    assert!(f.iter().all(|x| x.status == Status::Unknown));
}

#[test]
fn chunks_split_anywhere_give_the_same_result() {
    let mut log = String::new();
    for i in 0..30 {
        log.push_str(&fail_line(
            i * 20,
            &format!("203.0.113.{}", i % 3),
            Some("x@example.org"),
        ));
        log.push_str("Nov 29 07:00:00 mx postfix/smtpd[1]: é ü \r\n");
    }
    let whole = run(&log);
    for size in [1usize, 2, 3, 7, 64, 4096] {
        let mut a = LogAnalyzer::new(LogOptions {
            now: NOW.into(),
            ..Default::default()
        });
        a.begin_file("mail.log");
        for c in log.as_bytes().chunks(size) {
            a.feed(c);
        }
        let (f, s) = a.finish();
        assert_eq!(f, whole.0, "chunk size {size}");
        assert_eq!(s, whole.1, "chunk size {size}");
    }
    // feed_line gives the same as feed.
    let mut a = LogAnalyzer::new(LogOptions {
        now: NOW.into(),
        ..Default::default()
    });
    a.begin_file("mail.log");
    for l in log.lines() {
        a.feed_line(l);
    }
    assert_eq!(a.finish().0, whole.0);
}

#[test]
fn memory_caps_hold() {
    let mut a = LogAnalyzer::new(LogOptions {
        now: NOW.into(),
        max_ips: 100,
        max_users: 50,
        top: 10,
    });
    // One persistent brute forcer among 5,000 one-off addresses.
    for i in 0..5_000u32 {
        let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
        a.feed(fail_line(i, &ip, Some(&format!("u{i}"))).as_bytes());
        if i % 50 == 0 {
            a.feed(fail_line(i, "203.0.113.66", Some("admin")).as_bytes());
        }
    }
    assert!(a.ips.len() <= 100);
    assert!(a.users.len() <= 50);
    let (f, stats) = a.finish();
    assert!(stats.truncated);
    assert_eq!(stats.ips.len(), 10);
    assert_eq!(stats.ips[0].ip, "203.0.113.66");
    assert_eq!(get(&f, "logs.auth_bruteforce").status, Status::Fail);
}

#[test]
fn long_lines_and_junk() {
    let mut a = LogAnalyzer::new(LogOptions {
        now: NOW.into(),
        ..Default::default()
    });
    a.feed(b"\xff\xfe\x00garbage\n");
    let mut big = fail_line(0, "203.0.113.9", None).into_bytes();
    big.pop();
    big.extend(std::iter::repeat_n(b'x', 3 << 20));
    big.push(b'\n');
    for c in big.chunks(100_000) {
        a.feed(c);
    }
    a.feed(connect(1).as_bytes());
    a.feed(b"no newline at the end");
    assert!(a.partial.len() <= MAX_LINE);
    let (_, stats) = a.finish();
    assert_eq!(stats.lines, 4);
    assert_eq!(stats.auth_failures, 1, "the long line is cut, not dropped");
}

#[test]
fn pasted_logs_through_analyze() {
    use crate::config::{analyze, ConfigOptions, Input};
    let mut log = connect(0);
    for i in 0..6 {
        log.push_str(&fail_line(60 + i, "203.0.113.9", None));
    }
    let r = analyze(
        &[Input::new("mail.log", log)],
        &ConfigOptions {
            now: NOW.into(),
            ..Default::default()
        },
    )
    .expect("report");
    assert!(
        r.assumptions[0].value.contains("Postfix mail log"),
        "{:?}",
        r.assumptions
    );
    let b = r
        .findings
        .iter()
        .find(|f| f.id == "logs.auth_bruteforce")
        .unwrap();
    assert_eq!(b.status, Status::Fail);
    assert!(r
        .assumptions
        .iter()
        .any(|a| a.key == "logs.window" && a.value.contains("2026-11-29T00:00:00Z")));
}

#[test]
fn series_and_outbound_shapes() {
    let mut log = String::new();
    for h in 0..48 {
        log.push_str(
            &fail_line(h * 1800, "203.0.113.9", None)
                .replace("Nov 29", if h < 48 { "Nov 28" } else { "Nov 29" }),
        );
    }
    let (_, s) = run(&log);
    assert_eq!(s.auth_series.values.iter().sum::<u64>(), 48);
    assert!(s.auth_series.values.len() <= 250);
    assert_eq!(s.auth_series.start_time, "2026-11-28T00:00:00Z");
}

#[test]
fn buckets_coarsen_instead_of_growing() {
    let mut b = Buckets::new(60);
    for i in 0..100_000i64 {
        b.add(i * 600, 1);
    }
    assert!(b.map.len() <= MAX_BUCKETS);
    assert_eq!(b.map.values().sum::<u64>(), 100_000);
    assert_eq!(b.sum(0, 600 * 100_000), 100_000);
}
