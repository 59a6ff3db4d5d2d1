use super::*;
use crate::report::{Finding, Severity};

fn finding(id: &str, status: Status, detail: &str, dns: &[(&str, &str, &str, &[&str])]) -> Finding {
    Finding {
        id: id.into(),
        status,
        severity: Severity::High,
        title: format!("title of {id}"),
        detail: detail.into(),
        evidence: dns
            .iter()
            .map(|(q, t, rcode, answers)| Evidence::Dns {
                query: q.to_string(),
                rtype: t.to_string(),
                rcode: rcode.to_string(),
                answers: answers.iter().map(|a| a.to_string()).collect(),
            })
            .collect(),
        remediation: String::new(),
        refs: Vec::new(),
    }
}

/// The `dns.mx` finding with the MX answer of example.org.
fn mx_finding(status: Status, detail: &str, rcode: &str, answers: &[&str]) -> Finding {
    finding(
        "dns.mx",
        status,
        detail,
        &[("example.org", "MX", rcode, answers)],
    )
}

fn report(at: &str, findings: Vec<Finding>) -> Report {
    Report::new("example.org", at, Vec::new(), findings)
}

const MX: (&str, &str, &str, &[&str]) = (
    "example.org",
    "MX",
    "NOERROR",
    &["example.org 300 MX 10 mx1.example.org."],
);

fn base() -> Vec<Finding> {
    vec![
        finding("dns.mx", Status::Pass, "2 MX hosts", &[MX]),
        finding(
            "blocklist.ip",
            Status::Pass,
            "Not listed: 198.51.100.25",
            &[],
        ),
        finding("tls.cert_expiry", Status::Pass, "Expires in 80 days", &[]),
        finding("spf.present", Status::Pass, "v=spf1 -all", &[]),
    ]
}

#[test]
fn txt_token_must_match_exactly() {
    let token = random_hex(&[0xab; 16]);
    assert_eq!(token.len(), 32);
    assert_eq!(txt_name("example.org"), "_mailaudit.example.org");
    let published = vec![
        "v=spf1 -all".to_string(),
        format!(" mailaudit-verify={token} "),
    ];
    assert!(verified(&token, &published));
    // Another registration's token, a prefix, or nothing at all: refused.
    let other = random_hex(&[0xcd; 16]);
    assert!(!verified(&other, &published));
    assert!(!verified(
        &token,
        &[format!("mailaudit-verify={}", &token[..31])]
    ));
    assert!(!verified(&token, &[]));
    assert!(!verified("", &["mailaudit-verify=".to_string()]));
}

#[test]
fn management_key_is_stored_hashed() {
    let key = random_hex(&[7; 32]);
    let hash = key_hash(&key);
    assert_ne!(hash, key);
    assert_eq!(hash.len(), 64);
    assert!(key_matches(&key, &hash));
    assert!(!key_matches("", &key_hash("")));
    assert!(!key_matches(&random_hex(&[8; 32]), &hash));
}

#[test]
fn requests_parse_or_say_what_is_wrong() {
    let (r, f) = RegisterRequest::parse(
        br#"{"domain":"example.org","webhook":"https://h.example.net/x","format":"Slack"}"#,
    )
    .unwrap();
    assert_eq!(r.domain, "example.org");
    assert_eq!(f, Format::Slack);
    let (_, f) =
        RegisterRequest::parse(br#"{"domain":"a.org","webhook":"https://h.example.net/"}"#)
            .unwrap();
    assert_eq!(f, Format::Json);
    let e = RegisterRequest::parse(
        br#"{"domain":"a.org","webhook":"https://h.example.net/","format":"irc"}"#,
    )
    .unwrap_err();
    assert!(e.contains("unknown format"), "{e}");
    assert!(RegisterRequest::parse(b"{\"domain\":1}").is_err());
    assert!(RegisterRequest::parse(b"\xff\xfe").is_err());
    assert!(VerifyRequest::parse(br#"{"domain":"a.org","token":"xyz"}"#).is_err());
    let token = random_hex(&[1; 16]);
    let body = format!(r#"{{"domain":"a.org","token":"{token}"}}"#);
    assert_eq!(VerifyRequest::parse(body.as_bytes()).unwrap().token, token);
}

#[test]
fn webhook_urls_are_guarded() {
    let ok = check_webhook_url("https://hooks.slack.com/services/T0/B0/secret", None).unwrap();
    assert_eq!(ok.host, "hooks.slack.com");
    assert_eq!(ok.resolve.as_deref(), Some("hooks.slack.com"));
    let ip = check_webhook_url("https://8.8.8.8/hook", None).unwrap();
    assert_eq!(ip.resolve, None);
    for (bad, why) in [
        ("http://hooks.example.net/x", "https"),
        ("https://127.0.0.1/", "not public"),
        ("https://10.1.2.3/hook", "not public"),
        ("https://[::1]/", "not public"),
        ("https://[::ffff:10.0.0.1]/", "not public"),
        ("https://169.254.169.254/latest", "not public"),
        ("https://0.0.0.0/", "not public"),
        ("https://localhost/", "not a public host"),
        ("https://intranet/", "not a public host"),
        ("https://co.uk/", "not a public host"),
        ("https://user:pw@hooks.example.net/", "user name"),
        ("file:///etc/passwd", "https"),
        ("not a url", "not a URL"),
    ] {
        let e = check_webhook_url(bad, None).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
    let long = format!("https://hooks.example.net/{}", "a".repeat(MAX_WEBHOOK_LEN));
    assert!(check_webhook_url(&long, None).is_err());
    // The test origin is the one exception, exactly.
    let t = Some("http://127.0.0.1:9999");
    assert!(check_webhook_url("http://127.0.0.1:9999/hook", t)
        .unwrap()
        .resolve
        .is_none());
    assert!(check_webhook_url("http://127.0.0.1:9998/hook", t).is_err());
    assert!(check_webhook_url("https://127.0.0.1/hook", t).is_err());
    assert!(check_webhook_url("http://127.0.0.1:9999/hook", Some("")).is_err());
}

#[test]
fn webhook_addresses_must_all_be_public() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(check_webhook_addresses("h.example.net", &[ip("8.8.8.8"), ip("2606:4700::1")]).is_ok());
    let e = check_webhook_addresses("h.example.net", &[ip("8.8.8.8"), ip("10.0.0.5")]).unwrap_err();
    assert!(e.contains("10.0.0.5"), "{e}");
    assert!(check_webhook_addresses("h.example.net", &[ip("::ffff:127.0.0.1")]).is_err());
    assert!(check_webhook_addresses("h.example.net", &[]).is_err());
}

#[test]
fn nothing_changed_is_an_empty_diff() {
    let a = Snapshot::of(&report("2026-01-01T04:17:00Z", base()));
    let mut later = base();
    // TTLs count down between audits: not a change.
    later[0] = mx_finding(
        Status::Pass,
        "2 MX hosts",
        "NOERROR",
        &["example.org 17 MX 10 mx1.example.org."],
    );
    let b = Snapshot::of(&report("2026-01-02T04:17:00Z", later));
    assert!(diff(&a, &b).is_empty(), "{:?}", diff(&a, &b));
    assert!(diff(&a, &a).is_empty());
}

#[test]
fn status_changes_listings_certificates_and_dns_are_reported() {
    let a = Snapshot::of(&report("2026-01-01T04:17:00Z", base()));
    let mut now = base();
    now[0] = mx_finding(
        Status::Pass,
        "2 MX hosts",
        "NOERROR",
        &["example.org 300 MX 20 mx2.example.org."],
    );
    now[1] = finding(
        "blocklist.ip",
        Status::Fail,
        "198.51.100.25 listed on zen",
        &[],
    );
    now[2] = finding("tls.cert_expiry", Status::Fail, "Expires in 12 days", &[]);
    now[3] = finding("spf.present", Status::Fail, "no SPF record", &[]);
    let b = Snapshot::of(&report("2026-01-02T04:17:00Z", now.clone()));
    let d = diff(&a, &b);
    let ids: Vec<(&str, ChangeKind)> = d.checks.iter().map(|c| (c.id.as_str(), c.kind)).collect();
    assert_eq!(
        ids,
        vec![
            ("blocklist.ip", ChangeKind::Status),
            ("spf.present", ChangeKind::Status),
            ("tls.cert_expiry", ChangeKind::Status),
        ]
    );
    assert_eq!(d.checks[0].before, Some(Status::Pass));
    assert_eq!(d.dns.len(), 1);
    assert_eq!(d.dns[0].question, "example.org MX");
    assert_eq!(d.dns[0].added, vec!["example.org MX 20 mx2.example.org."]);
    assert_eq!(d.dns[0].removed, vec!["example.org MX 10 mx1.example.org."]);

    // The next day: still failing. A new listing on top of the old one is
    // reported; the certificate reminder comes daily; SPF stays quiet.
    now[1] = finding(
        "blocklist.ip",
        Status::Fail,
        "198.51.100.25 listed on zen and bl.example",
        &[],
    );
    now[2] = finding("tls.cert_expiry", Status::Fail, "Expires in 11 days", &[]);
    let c = Snapshot::of(&report("2026-01-03T04:17:00Z", now));
    let d = diff(&b, &c);
    let ids: Vec<(&str, ChangeKind)> = d.checks.iter().map(|c| (c.id.as_str(), c.kind)).collect();
    assert_eq!(
        ids,
        vec![
            ("blocklist.ip", ChangeKind::NewListing),
            ("tls.cert_expiry", ChangeKind::Certificate),
        ]
    );
    assert!(d.dns.is_empty());
}

#[test]
fn unknown_today_keeps_the_last_decided_state() {
    let a = Snapshot::of(&report("2026-01-01T04:17:00Z", base()));
    let mut flaky = base();
    flaky[0] = mx_finding(Status::Unknown, "resolver timed out", "SERVFAIL", &[]);
    let mut b = Snapshot::of(&report("2026-01-02T04:17:00Z", flaky));
    b.carry_forward(&a);
    assert!(diff(&a, &b).is_empty(), "{:?}", diff(&a, &b));
    assert_eq!(b.checks["dns.mx"].status, Status::Pass);
    assert_eq!(b.dns["example.org MX"], a.dns["example.org MX"]);
    // A check that disappears from a report is kept too.
    let mut c = Snapshot::of(&report("2026-01-03T04:17:00Z", base()[1..].to_vec()));
    c.carry_forward(&b);
    assert!(diff(&b, &c).is_empty());
}

#[test]
fn blocklist_answers_are_not_dns_changes() {
    let mut f = base();
    f[1] = finding(
        "blocklist.ip",
        Status::Pass,
        "Not listed",
        &[("25.100.51.198.zen.spamhaus.org", "A", "NXDOMAIN", &[])],
    );
    let s = Snapshot::of(&report("2026-01-01T04:17:00Z", f));
    assert!(s.dns.keys().all(|k| !k.contains("spamhaus")), "{:?}", s.dns);
}

fn sample_diff() -> (Summary, Diff) {
    let a = Snapshot::of(&report("2026-01-01T04:17:00Z", base()));
    let mut now = base();
    now[1] = finding(
        "blocklist.ip",
        Status::Fail,
        "listed <b>&</b> more\nsecond line",
        &[],
    );
    let b = Snapshot::of(&report("2026-01-02T04:17:00Z", now));
    (b.summary.clone(), diff(&a, &b))
}

#[test]
fn payloads_in_each_format() {
    let (summary, d) = sample_diff();
    let m = Message {
        domain: "example.org",
        checked_at: "2026-01-02T04:17:00Z",
        summary: &summary,
        diff: Some(&d),
        report_url: "https://mailaudit.example/?domain=example.org",
    };
    let j = m.json();
    assert_eq!(j["event"], "mailaudit.monitor.changed");
    assert_eq!(j["changes"][0]["id"], "blocklist.ip");
    assert_eq!(j["changes"][0]["before"], "pass");
    assert_eq!(j["changes"][0]["after"], "fail");
    assert_eq!(j["summary"]["fail"], 1);

    let s = m.slack();
    assert_eq!(s["blocks"][0]["type"], "header");
    let text = s["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(
        text.contains("blocklist.ip pass → fail: listed &lt;b&gt;&amp;&lt;/b&gt; more"),
        "{text}"
    );
    assert!(!text.contains("second line"));
    assert!(s["text"]
        .as_str()
        .unwrap()
        .contains("example.org changed (1 check, 0 DNS questions)"));

    let t = m.teams();
    assert_eq!(t["type"], "message");
    let card = &t["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert!(card["content"]["body"][1]["text"]
        .as_str()
        .unwrap()
        .starts_with("blocklist.ip pass → fail"));
    assert_eq!(card["content"]["actions"][0]["url"], m.report_url);

    // Each body is JSON.
    for f in [Format::Slack, Format::Teams, Format::Json] {
        serde_json::from_str::<serde_json::Value>(&m.body(f)).unwrap();
    }

    let baseline = Message { diff: None, ..m };
    assert_eq!(baseline.json()["event"], "mailaudit.monitor.baseline");
    assert!(baseline.slack()["text"]
        .as_str()
        .unwrap()
        .starts_with("mailaudit now monitors example.org: 1 fail"));
}

#[test]
fn long_change_sets_are_capped() {
    let before = Snapshot::default();
    let findings: Vec<Finding> = (0..60)
        .map(|i| {
            finding(
                &format!("x.rule{i:02}"),
                Status::Fail,
                &"d".repeat(500),
                &[],
            )
        })
        .collect();
    let after = Snapshot::of(&report("2026-01-02T04:17:00Z", findings));
    let d = diff(&before, &after);
    assert_eq!(d.checks.len(), 60);
    let summary = after.summary.clone();
    let m = Message {
        domain: "example.org",
        checked_at: "2026-01-02T04:17:00Z",
        summary: &summary,
        diff: Some(&d),
        report_url: "https://x.example/",
    };
    let s = m.slack();
    for b in s["blocks"].as_array().unwrap() {
        if let Some(t) = b["text"]["text"].as_str() {
            assert!(t.chars().count() <= 3000);
        }
    }
    assert!(m.teams().to_string().contains("… and 40 more checks"));
}

#[test]
fn times_and_the_owner_view() {
    assert_eq!(epoch_secs("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(epoch_secs("2026-01-02T04:17:00Z"), Some(1_767_327_420));
    assert_eq!(epoch_secs("2024-02-29T12:00:00Z"), Some(1_709_208_000));
    for bad in [
        "",
        "2026-01-02",
        "2026-13-02T04:17:00Z",
        "2026-01-02T04:17:00+01:00",
        "２０２６-01-02T04:17:00Z",
    ] {
        assert_eq!(epoch_secs(bad), None, "{bad}");
    }
    let mut r = Registration {
        domain: "example.org".into(),
        webhook: "https://h.example.net/x".into(),
        format: Format::Json,
        token: random_hex(&[1; 16]),
        key_hash: key_hash("k"),
        created_at: "2026-01-01T00:00:00Z".into(),
        site: "https://mailaudit.example/".into(),
        verified_at: None,
        last: None,
        last_error: None,
        failures: 0,
    };
    assert_eq!(public_view(&r)["state"], "pending");
    r.verified_at = Some("2026-01-01T00:10:00Z".into());
    assert_eq!(
        r.report_url(),
        "https://mailaudit.example/?domain=example.org"
    );
    let view = public_view(&r);
    assert_eq!(view["webhook_host"], "h.example.net");
    assert_eq!(view["state"], "active");
    assert!(
        !view.to_string().contains("/x"),
        "the webhook path is a secret"
    );
    assert!(!view.to_string().contains(&r.key_hash));
}
