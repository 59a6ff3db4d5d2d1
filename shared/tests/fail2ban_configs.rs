//! fail2ban fixtures (tests/fixtures/fail2ban) through the whole pasted-text
//! path: detection, precedence, the stock jail.conf, the three rules.

use mailaudit_core::config::{analyze, ConfigOptions, Input};
use mailaudit_core::report::{Evidence, Report, Status};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/fail2ban")
            .join(name),
    )
    .expect("fixture")
}

fn report(text: &str) -> Report {
    let opts = ConfigOptions {
        now: "2026-11-29T12:00:00Z".into(),
        ..Default::default()
    };
    analyze(&[Input::new("pasted", text)], &opts).expect("report")
}

fn status(r: &Report, id: &str) -> Status {
    r.findings.iter().find(|f| f.id == id).expect(id).status
}

fn assumption<'a>(r: &'a Report, key: &str) -> &'a str {
    &r.assumptions
        .iter()
        .find(|a| a.key == key)
        .expect(key)
        .value
}

#[test]
fn weak_jail_local_beside_postfix() {
    let text = format!(
        "# file: /etc/postfix/main.cf\nmyhostname = mx.example.org\nmynetworks = 127.0.0.0/8\n\
         smtpd_sasl_auth_enable = yes\n# file: /etc/fail2ban/jail.local\n{}",
        fixture("weak.local")
    );
    let r = report(&text);
    assert!(
        assumption(&r, "input").contains("/etc/fail2ban/jail.local: fail2ban jail configuration"),
        "{}",
        assumption(&r, "input")
    );
    assert!(assumption(&r, "fail2ban.mail software").starts_with("Postfix"));
    assert!(assumption(&r, "fail2ban.jail.conf").contains("1.0.2"));
    let smtp = r
        .findings
        .iter()
        .find(|f| f.id == "fail2ban.smtp_jail")
        .unwrap();
    assert_eq!(smtp.status, Status::Fail);
    assert!(
        smtp.detail
            .contains("[postfix] is enabled, but its filter postfix in mode more"),
        "{}",
        smtp.detail
    );
    // `enabled = true` is line 18 of jail.local (the part after its # file:
    // header); the jail and its mode come from the stock jail.conf.
    assert!(smtp.evidence.iter().any(|e| matches!(e,
        Evidence::Config { file, line: Some(18), text } if file == "/etc/fail2ban/jail.local" && text == "enabled = true")),
        "{:?}", smtp.evidence);
    assert!(
        smtp.evidence.iter().any(|e| matches!(e,
        Evidence::Config { line: Some(583), text, .. } if text == "mode    = more")),
        "{:?}",
        smtp.evidence
    );
    let t = r
        .findings
        .iter()
        .find(|f| f.id == "fail2ban.thresholds")
        .unwrap();
    assert_eq!(t.status, Status::Fail);
    for want in ["maxretry = 20", "findtime = 5m", "bantime = 10m"] {
        assert!(t.detail.contains(want), "{want}: {}", t.detail);
    }
    assert_eq!(status(&r, "fail2ban.ignoreip_broad"), Status::Fail);
}

#[test]
fn stock_files_and_hardened_overrides_pass() {
    let text = format!(
        "# file: /etc/fail2ban/jail.conf\n{}# file: /etc/fail2ban/jail.d/defaults-debian.conf\n{}\
         # file: /etc/fail2ban/jail.local\n{}# file: /etc/fail2ban/jail.d/mail.local\n{}",
        fixture("jail.conf"),
        fixture("defaults-debian.conf"),
        fixture("hardened.local"),
        fixture("mail.local")
    );
    let r = report(&text);
    assert!(!r.assumptions.iter().any(|a| a.key == "fail2ban.jail.conf"));
    let files = assumption(&r, "fail2ban.files");
    assert!(
        files.find("defaults-debian.conf").unwrap() < files.find("jail.local").unwrap()
            && files.find("jail.local").unwrap() < files.find("mail.local").unwrap(),
        "{files}"
    );
    for id in [
        "fail2ban.smtp_jail",
        "fail2ban.thresholds",
        "fail2ban.ignoreip_broad",
    ] {
        let f = r.findings.iter().find(|f| f.id == id).unwrap();
        assert_eq!(f.status, Status::Pass, "{id}: {}", f.detail);
    }
    // The paste holds only fail2ban: any SMTP auth jail counts, and the
    // assumption says so.
    assert!(assumption(&r, "fail2ban.mail software").starts_with("not in the paste"));
}

#[test]
fn stock_jail_conf_alone_fails_the_jail_rule() {
    let r = report(&fixture("jail.conf"));
    assert!(assumption(&r, "input").contains("fail2ban"));
    assert_eq!(status(&r, "fail2ban.smtp_jail"), Status::Fail);
    // Nothing mail-related enabled: [DEFAULT]'s 10m bantime is judged.
    assert_eq!(status(&r, "fail2ban.thresholds"), Status::Fail);
    assert_eq!(status(&r, "fail2ban.ignoreip_broad"), Status::Pass);
}
