//! Live SMTP probes against the real Postfix servers of the test bed
//! (tests/testbed): the hardened one must pass every `smtp.*` rule, the
//! weak one (a real open relay) must fail the ones it is built to fail —
//! and neither may ever be sent DATA.
//!
//! Runs only when `BED_ENV` names the bed's `run/bed.env`:
//!
//! ```sh
//! BED_ENV=/path/to/tests/testbed/run/bed.env \
//!   cargo test -p mailaudit-core --test smtp_bed -- --nocapture
//! ```
//!
//! Without `BED_ENV` (or when the bed's addresses are not routed through
//! its veth, so traffic could leave the machine) it skips with a message;
//! `BED_REQUIRED=1` turns the skip into a failure (for CI).

#[path = "common/bed.rs"]
mod bed;

use bed::StdNet;
use futures::executor::block_on;
use mailaudit_core::net::Conn;
use mailaudit_core::probe::{self, open_starttls, Attempt, MxProbe, ProbeOptions};
use mailaudit_core::Status;

fn statuses(p: &MxProbe, ptr: &str) -> Vec<(String, Status, String)> {
    probe::judge(p, Some(ptr))
        .into_iter()
        .map(|f| (f.id, f.status, f.detail))
        .collect()
}

fn check(p: &MxProbe, ptr: &str, want: &[(&str, Status)]) {
    println!("{p}");
    let got = statuses(p, ptr);
    for (id, st, detail) in &got {
        println!("{:<7} {id}: {detail}", st.as_str());
    }
    for (id, st) in want {
        let (_, got_st, detail) = got
            .iter()
            .find(|(i, _, _)| i == id)
            .unwrap_or_else(|| panic!("no finding {id}"));
        assert_eq!(got_st, st, "{} {id}: {detail}", p.target());
    }
    assert_eq!(got.len(), want.len(), "every smtp rule is asserted");
    bed::assert_no_data(p);
}

#[test]
fn live_bed_hardened_and_weak_postfix() {
    let Some(env) = bed::bed(&["BED_MX_HARD", "BED_MX_WEAK"]) else {
        return;
    };
    let hard = env["BED_MX_HARD"].clone();
    let weak = env["BED_MX_WEAK"].clone();
    let net = StdNet;
    let opts = ProbeOptions::with_random("mailaudit-bed-k3v9q2");

    // PTR names as published in the bed's reverse zone
    // (tests/testbed/README.md, 25.18.198.in-addr.arpa).
    let p = block_on(probe::probe_mx(
        &net,
        "mail.example.test",
        hard.parse().unwrap(),
        &opts,
    ));
    check(
        &p,
        "mail.example.test",
        &[
            ("smtp.reachable", Status::Pass),
            ("smtp.banner", Status::Pass),
            ("smtp.helo_name", Status::Pass),
            ("smtp.starttls", Status::Pass),
            ("smtp.auth_plaintext", Status::Pass),
            ("smtp.open_relay", Status::Pass),
            ("smtp.vrfy_expn", Status::Pass),
            ("smtp.size", Status::Pass),
            ("smtp.smuggling", Status::Pass),
            // "ESMTP" only: nothing to compare.
            ("smtp.software_version", Status::Info),
        ],
    );
    assert_eq!(
        p.transcripts.len(),
        3,
        "main, bare-lf and starttls sessions"
    );
    // The greeting time as this host measured it (smtp.banner reports it;
    // the bed's Postfix has no greeting delay, but a loaded machine may be
    // slow, so only the measurement is asserted here).
    let ms = p.greeting_ms.expect("StdConn measures connection times");
    let banner = probe::rules::judge_banner(&p);
    assert!(
        banner
            .detail
            .contains(&format!(" {ms} ms after connecting"))
            || banner
                .detail
                .contains("s after connecting: a greeting delay"),
        "{}",
        banner.detail
    );

    let p = block_on(probe::probe_mx(
        &net,
        "mail.weak.test",
        weak.parse().unwrap(),
        &opts,
    ));
    check(
        &p,
        "dynamic-198-18-25-26.isp.test",
        &[
            ("smtp.reachable", Status::Pass),
            ("smtp.banner", Status::Fail),
            ("smtp.helo_name", Status::Fail),
            ("smtp.starttls", Status::Fail),
            ("smtp.auth_plaintext", Status::Pass),
            ("smtp.open_relay", Status::Fail),
            ("smtp.vrfy_expn", Status::Fail),
            ("smtp.size", Status::Pass),
            ("smtp.smuggling", Status::Warn),
            // Postfix 3.7.11 >= 3.7.9 (the smuggling fix on its branch).
            ("smtp.software_version", Status::Pass),
        ],
    );
    // The open relay accepted the recipient; the transaction was dropped.
    let relay = p.relay.done().expect("relay test ran");
    assert!(relay.rcpt.as_ref().is_some_and(|r| r.is_positive()));
    let main: Vec<String> = p
        .transcript("main")
        .unwrap()
        .client_lines()
        .map(str::to_string)
        .collect();
    let rcpt = main.iter().position(|l| l.starts_with("RCPT TO")).unwrap();
    assert_eq!(main[rcpt + 1], "RSET", "RSET right after RCPT: {main:?}");
    assert_eq!(main.last().map(String::as_str), Some("QUIT"));

    // The STARTTLS hand-over on a real server: the plain stream after 220.
    match block_on(open_starttls(&net, hard.parse().unwrap(), &opts)) {
        Ok(mut ready) => {
            assert_eq!(ready.reply.code, 220);
            block_on(ready.conn.close());
        }
        Err((a, t)) => panic!("STARTTLS on the hardened server: {a:?}\n{}", t.excerpt(50)),
    }
    assert!(
        matches!(p.starttls, Attempt::NotRun(_)),
        "weak has no STARTTLS"
    );

    // smtp.exposed_ports: the hardened MTA listens on 25, 465 and 587.
    let scan = block_on(probe::scan_ports(&net, hard.parse().unwrap(), 5_000));
    let f = probe::judge_exposed_ports("mail.example.test", &scan);
    println!("{} {}: {}", f.status.as_str(), f.id, f.detail);
    assert_eq!(f.status, Status::Info, "{}", f.detail);
    for port in ["25 (SMTP)", "465 (", "587 ("] {
        assert!(f.detail.contains(port), "{port}: {}", f.detail);
    }

    // smtp.submission: 587 requires STARTTLS and offers no AUTH before it,
    // 465 speaks TLS first (with the TLS stack); the weak MTA's 587 has no
    // STARTTLS at all.
    let sub = block_on(probe::submission::probe(
        &net,
        "mail.example.test",
        hard.parse().unwrap(),
        &scan,
        &ProbeOptions::default(),
        NOW,
    ));
    let f = probe::submission::judge(&sub);
    println!("{} {}: {}", f.status.as_str(), f.id, f.detail);
    if cfg!(feature = "tls") {
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        assert!(f.detail.contains("port 465 speaks TLS"), "{}", f.detail);
    } else {
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
    }
    assert!(
        f.detail.contains("port 587 offers STARTTLS"),
        "{}",
        f.detail
    );
    let weak_scan = block_on(probe::scan_ports(&net, weak.parse().unwrap(), 5_000));
    let sub = block_on(probe::submission::probe(
        &net,
        "mail.weak.test",
        weak.parse().unwrap(),
        &weak_scan,
        &ProbeOptions::default(),
        NOW,
    ));
    let f = probe::submission::judge(&sub);
    println!("{} {}: {}", f.status.as_str(), f.id, f.detail);
    assert_eq!(f.status, Status::Fail, "{}", f.detail);
    assert!(f.detail.contains("does not offer STARTTLS"), "{}", f.detail);
}

/// The analysis time used for the TLS handshakes (2026-11-29).
const NOW: i64 = 1_795_910_400;
