//! Live probes of the test bed's other MTAs — Exim 4.96, Sendmail 8.17 and
//! OpenSMTPD 6.8, the Debian 12 packages run with the configurations of
//! tests/testbed/bin/bed-up.sh (`--extra-mtas`) — through the product's own
//! path ([`plan::run_target`], what the CLI and the probe agent run): every
//! `smtp.*` and `tls.*` rule is asserted against what each configuration
//! must produce. Then the full SMTP smuggling test (it sends DATA, so only
//! with consent; the bed delivers nothing) against all of them and both
//! Postfix instances: the weak Postfix (`smtpd_forbid_bare_newline = no`)
//! ends a message at `<LF>.<LF>`, the hardened one (`= reject`) refuses it.
//!
//! ```sh
//! BED_ENV=/path/to/tests/testbed/run/bed.env \
//!   cargo test -p mailaudit-core --test mta_bed -- --nocapture
//! ```
//!
//! Skips (loudly) without `BED_ENV`, or when the bed runs without
//! `--extra-mtas` (`BED_EXTRA_MTAS=0`); `BED_REQUIRED=1` makes both a
//! failure (CI).

#[path = "common/bed.rs"]
mod bed;

use bed::StdNet;
use futures::executor::block_on;
use mailaudit_core::probe::plan::{self, LiveOptions};
use mailaudit_core::probe::smuggling::{self, Consent, FullTestOptions, Outcome};
use mailaudit_core::probe::{self, ProbeOptions};
use mailaudit_core::{Finding, Status};
use std::collections::HashMap;
use std::net::IpAddr;

/// Now, from the host's clock (the bed's certificates are issued at
/// bring-up, so a fixed date could precede them).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM")
}

fn extra_mtas() -> Option<HashMap<String, String>> {
    let env = bed::bed(&["BED_MX_HARD", "BED_MX_WEAK"])?;
    if env.get("BED_EXTRA_MTAS").map(String::as_str) != Some("1") {
        bed::skip("the bed runs without --extra-mtas (BED_EXTRA_MTAS is not 1)");
        return None;
    }
    Some(env)
}

fn options(env: &HashMap<String, String>) -> LiveOptions {
    let ca = std::fs::read_to_string(&env["BED_CA"]).expect("BED_CA");
    LiveOptions {
        probe: ProbeOptions::with_random("mailaudit-bed-k3v9q2"),
        extra_roots: vec![pem_to_der(&ca)],
        ..LiveOptions::default()
    }
}

/// The live findings of `host` at `ip` (PTR `host`, as in the bed's reverse
/// zone), printed, and checked: the ordinary probe never sent DATA.
fn live(env: &HashMap<String, String>, host: &str, ip: IpAddr) -> Vec<Finding> {
    let opts = options(env);
    let r = block_on(plan::run_target(
        &StdNet,
        host.to_string(),
        ip,
        Some(host),
        false,
        now(),
        &opts,
    ));
    for f in &r.findings {
        println!("{:<7} {}: {}", f.status.as_str(), f.id, f.detail);
    }
    let p = block_on(probe::probe_mx(&StdNet, host, ip, &opts.probe));
    bed::assert_no_data(&p);
    r.findings
}

/// Columns of [`EXPECTED`].
const EXIM: usize = 0;
const SENDMAIL: usize = 1;
const OPENSMTPD: usize = 2;

/// What each server's configuration must produce, rule by rule (Exim,
/// Sendmail, OpenSMTPD). OpenSMTPD refuses each weak-suite question (a
/// refusal alert or a close) although its full handshake is broken.
const EXPECTED: &[(&str, [Status; 3])] = {
    use Status::{Fail as F, Info as I, Pass as P, Unknown as U, Warn as W};
    &[
        ("smtp.reachable", [P, P, P]),
        // Exim and Sendmail show their versions; OpenSMTPD only its name.
        ("smtp.banner", [F, F, P]),
        ("smtp.helo_name", [P, P, P]),
        ("smtp.starttls", [P, P, P]),
        // Sendmail offers CRAM-MD5/DIGEST-MD5 before STARTTLS.
        ("smtp.auth_plaintext", [P, W, P]),
        ("smtp.open_relay", [P, P, P]),
        // Exim's ACLs accept VRFY/EXPN; Sendmail answers both.
        ("smtp.vrfy_expn", [F, F, P]),
        // Sendmail advertises SIZE without a limit.
        ("smtp.size", [P, F, P]),
        // All three answer NOOP<LF>; the full test below decides.
        ("smtp.smuggling", [W, W, W]),
        ("smtp.submission", [P, P, P]),
        ("smtp.exposed_ports", [I, I, I]),
        // Older than upstream's fixes; Debian backports them: warn.
        ("smtp.software_version", [W, W, I]),
        ("tls.versions", [P, P, U]),
        ("tls.ciphers", [P, P, P]),
        ("tls.cert_expiry", [P, P, U]),
        ("tls.cert_name", [P, P, U]),
        ("tls.cert_chain", [P, P, U]),
        ("tls.cert_key", [P, P, U]),
    ]
};

/// Every live rule has a finding, with the status [`EXPECTED`] gives for
/// server `col`.
fn expect(findings: &[Finding], col: usize) {
    assert_eq!(findings.len(), EXPECTED.len(), "one finding per live rule");
    for (id, want) in EXPECTED {
        let f = findings
            .iter()
            .find(|f| f.id == *id)
            .unwrap_or_else(|| panic!("no finding {id}"));
        assert_eq!(f.status, want[col], "{id}: {}", f.detail);
    }
}

fn ip(env: &HashMap<String, String>, key: &str) -> IpAddr {
    env[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} in bed.env"))
}

/// The full smuggling test (with consent) against `host`: its verdict,
/// and the sequences with each outcome.
fn full(env: &HashMap<String, String>, key: &str, host: &str) -> (Finding, Vec<(String, Outcome)>) {
    let r = block_on(smuggling::full_test(
        &StdNet,
        &Consent::declared_by_owner(),
        host,
        ip(env, key),
        &FullTestOptions::for_domain("example.test"),
    ));
    for s in &r.results {
        println!("  {}: {:?}", s.name, s.outcome);
    }
    let f = smuggling::judge_full(&r);
    println!(
        "{:<7} smtp.smuggling (full): {}",
        f.status.as_str(),
        f.detail
    );
    let outcomes = r
        .results
        .iter()
        .map(|s| (s.name.to_string(), s.outcome.clone()))
        .collect();
    (f, outcomes)
}

/// The sequences that contain a bare LF (`<LF>` not after `<CR>`).
const BARE_LF: [&str; 3] = ["<LF>.<LF>", "<LF>.<CR><LF>", "<CR><LF>.<LF>"];

fn refused_with(o: &Outcome, code: &str) -> bool {
    matches!(o, Outcome::Refused(why) if why.contains(code))
}

/// One of the extra MTAs: its live findings are as [`EXPECTED`] says, the
/// full smuggling test passes; returns each sequence's outcome (None: the
/// bed is not there, skipped).
fn server(key: &str, host: &str, col: usize) -> Option<Vec<(String, Outcome)>> {
    let env = extra_mtas()?;
    let f = live(&env, host, ip(&env, key));
    expect(&f, col);
    let (verdict, outcomes) = full(&env, key, host);
    assert_eq!(verdict.status, Status::Pass, "{}", verdict.detail);
    Some(outcomes)
}

/// Exim 4.96 (Debian 12): version in the banner, VRFY and EXPN allowed by
/// the ACLs, STARTTLS with TLS 1.2/1.3 only (GnuTLS priority string), no
/// relay. It answers `NOOP<LF>` (fingerprint: warn), but Debian's 4.96
/// carries the smuggling fix: the full test finds no sequence taken as
/// the end of data.
#[test]
fn exim() {
    let Some(outcomes) = server("BED_MX_EXIM", "exim.example.test", EXIM) else {
        return;
    };
    assert!(
        outcomes.iter().all(|(_, o)| *o == Outcome::Ignored),
        "{outcomes:?}"
    );
}

/// Sendmail 8.17.1.9 (Debian 12): version in the banner, EXPN and VRFY
/// answered, AUTH (CRAM-MD5/DIGEST-MD5) offered before STARTTLS, SIZE
/// without a limit, STARTTLS without SSLv3/TLS 1.0/1.1, no relay. Debian's
/// smuggling fix refuses any bare LF or CR in a message (421).
#[test]
fn sendmail() {
    let Some(outcomes) = server("BED_MX_SENDMAIL", "sendmail.example.test", SENDMAIL) else {
        return;
    };
    for (name, o) in &outcomes {
        if name == "<CR><LF><NUL>.<CR><LF>" {
            assert_eq!(*o, Outcome::Ignored, "{name}");
        } else {
            assert!(refused_with(o, "421"), "{name}: {o:?}");
        }
    }
}

/// OpenSMTPD 6.8 (Debian 12): no version, no VRFY/EXPN, no relay; its
/// STARTTLS is broken with this bed's certificate (the handshake ends in an
/// internal_error alert), so the TLS checks are `unknown`, never `pass`.
/// It has no PIPELINING: it takes a bare-LF sequence as the end of data
/// but then drops the session because more input is waiting (500), so the
/// smuggled command never runs.
#[test]
fn opensmtpd() {
    let Some(outcomes) = server("BED_MX_OPENSMTPD", "opensmtpd.example.test", OPENSMTPD) else {
        return;
    };
    for (name, o) in &outcomes {
        if BARE_LF.contains(&name.as_str()) {
            assert!(refused_with(o, "500"), "{name}: {o:?}");
        } else {
            assert_eq!(*o, Outcome::Ignored, "{name}");
        }
    }
}

/// The full test against both Postfix instances: `smtpd_forbid_bare_newline
/// = no` (weak) ends data at every bare-LF sequence and runs the smuggled
/// NOOP (fail); `= reject` (hardened) refuses those messages (550, pass).
/// Needs only the base bed.
#[test]
fn postfix_full_smuggling_test() {
    let Some(env) = bed::bed(&["BED_MX_HARD", "BED_MX_WEAK"]) else {
        return;
    };
    let (verdict, outcomes) = full(&env, "BED_MX_WEAK", "mail.weak.test");
    assert_eq!(verdict.status, Status::Fail, "{}", verdict.detail);
    for (name, o) in &outcomes {
        let want = if BARE_LF.contains(&name.as_str()) {
            Outcome::Smuggled
        } else {
            Outcome::Ignored
        };
        assert_eq!(*o, want, "{name}");
    }
    let (verdict, outcomes) = full(&env, "BED_MX_HARD", "mail.example.test");
    assert_eq!(verdict.status, Status::Pass, "{}", verdict.detail);
    for (name, o) in &outcomes {
        if BARE_LF.contains(&name.as_str()) {
            assert!(refused_with(o, "550"), "{name}: {o:?}");
        } else {
            assert_eq!(*o, Outcome::Ignored, "{name}");
        }
    }
}
