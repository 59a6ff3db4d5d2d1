//! The mail-log fixtures (tests/fixtures/logs, written by make_fixtures.py
//! in the software's own formats) through both entry points: the streaming
//! analyser in chunks, and pasted text through `config::analyze` with
//! detection. One expectation per rule and fixture.

use mailaudit_core::config::{analyze, recognise, ConfigOptions, Input, Software};
use mailaudit_core::logs::{LogAnalyzer, LogOptions};
use mailaudit_core::report::{Finding, Status};
use Status::{Fail, Info, Pass, Unknown};

const NOW: &str = "2026-11-29T23:00:00Z";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/logs")
            .join(name),
    )
    .expect("fixture")
}

fn streamed(name: &str, now: &str) -> (Vec<Finding>, mailaudit_core::logs::LogStats) {
    let mut a = LogAnalyzer::new(LogOptions {
        now: now.into(),
        ..Default::default()
    });
    a.begin_file(name);
    for chunk in fixture(name).as_bytes().chunks(4093) {
        a.feed(chunk);
    }
    a.finish()
}

const IDS: [&str; 6] = [
    "logs.auth_bruteforce",
    "logs.auth_spray",
    "logs.relay_attempts",
    "logs.outbound_spike",
    "logs.queue_growth",
    "logs.tls_failures",
];

fn statuses(f: &[Finding]) -> Vec<Status> {
    IDS.iter()
        .map(|id| f.iter().find(|x| x.id == *id).expect(id).status)
        .collect()
}

#[test]
fn each_fixture_gives_the_expected_statuses() {
    let cases: &[(&str, [Status; 6], &str)] = &[
        (
            "postfix-attack.log",
            [Fail, Fail, Info, Fail, Fail, Fail],
            "Postfix mail log",
        ),
        (
            "postfix-quiet.log",
            [Pass, Pass, Pass, Pass, Pass, Pass],
            "Postfix mail log",
        ),
        (
            "exim-mainlog",
            [Fail, Pass, Info, Pass, Pass, Fail],
            "Exim mainlog",
        ),
        (
            "sendmail-maillog",
            [Fail, Pass, Info, Pass, Pass, Fail],
            "Sendmail mail log",
        ),
        (
            "exchange-smtpreceive.log",
            [Fail, Unknown, Info, Unknown, Unknown, Fail],
            "Exchange log",
        ),
        (
            "exchange-msgtrk.log",
            [Unknown, Unknown, Unknown, Fail, Pass, Unknown],
            "Exchange log",
        ),
    ];
    for (name, want, kind) in cases {
        let (f, _) = streamed(name, NOW);
        assert_eq!(&statuses(&f), want, "{name} streamed: {:#?}", f);
        // The same text pasted: detected as logs, same findings.
        let inputs = [Input::new(*name, fixture(name))];
        let d = recognise(&inputs, None);
        assert_eq!(d.len(), 1, "{name}: {d:?}");
        assert_eq!(
            (d[0].software, d[0].kind.as_str()),
            (Software::Logs, *kind),
            "{name}"
        );
        let r = analyze(
            &inputs,
            &ConfigOptions {
                now: NOW.into(),
                ..Default::default()
            },
        )
        .expect(name);
        assert_eq!(&statuses(&r.findings), want, "{name} pasted");
    }
}

#[test]
fn attack_log_evidence() {
    let (f, stats) = streamed("postfix-attack.log", NOW);
    let get = |id: &str| f.iter().find(|x| x.id == id).unwrap();
    let b = get("logs.auth_bruteforce");
    assert!(
        b.detail.contains("worst: 203.0.113.45 with 40"),
        "{}",
        b.detail
    );
    let s = get("logs.auth_spray");
    assert!(s.detail.contains("198.51.100.250 with 12"), "{}", s.detail);
    assert!(s.detail.contains("bob@example.org from 11"), "{}", s.detail);
    let o = get("logs.outbound_spike");
    assert!(
        o.detail
            .contains("alice@example.org sent to 122 recipients"),
        "{}",
        o.detail
    );
    let q = get("logs.queue_growth");
    assert!(q.detail.contains("blocklisting"), "{}", q.detail);
    assert_eq!(stats.ips[0].ip, "203.0.113.45");
    assert_eq!(
        stats
            .users
            .iter()
            .find(|u| u.user == "bob@example.org")
            .unwrap()
            .ips,
        11
    );
    assert_eq!(stats.outbound.senders[0].sender, "alice@example.org");
    assert_eq!(stats.outbound.hours, 8);
    assert_eq!(stats.relay_attempts, 5);
    assert_eq!(stats.tls_failures_total, 3);
    // Evidence lines carry the file name and the line number of the text.
    let text = fixture("postfix-attack.log");
    let lines: Vec<&str> = text.lines().collect();
    for e in &b.evidence {
        if let mailaudit_core::report::Evidence::Config {
            file,
            line: Some(n),
            text,
        } = e
        {
            assert_eq!(file, "postfix-attack.log");
            assert_eq!(lines[*n as usize - 1], text);
        }
    }
}

#[test]
fn year_rollover_keeps_the_burst_together() {
    let (f, stats) = streamed("postfix-rollover.log", "2027-01-02T08:00:00Z");
    assert_eq!(stats.first.as_deref(), Some("2026-12-31T23:58:00Z"));
    assert_eq!(stats.last.as_deref(), Some("2027-01-01T00:02:00Z"));
    let b = f.iter().find(|x| x.id == "logs.auth_bruteforce").unwrap();
    assert_eq!(b.status, Fail, "{}", b.detail);
}
