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

use futures::executor::block_on;
use mailaudit_core::net::{Conn, HttpRequest, HttpResponse, NetError, Network};
use mailaudit_core::probe::{self, open_starttls, Attempt, MxProbe, ProbeOptions};
use mailaudit_core::Status;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// Read timeout of the blocking test network (the host's job in the CLI).
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A blocking native network: enough for sequential probes in a test.
struct StdNet;

struct StdConn(TcpStream);

fn net_err(e: std::io::Error, ms: u32) -> NetError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => NetError::Timeout(ms),
        ErrorKind::ConnectionRefused => NetError::Connect(e.to_string()),
        _ => NetError::Other(e.to_string()),
    }
}

impl Network for StdNet {
    type Conn = StdConn;

    async fn http(&self, _: HttpRequest) -> Result<HttpResponse, NetError> {
        Err(NetError::Other("no HTTP in this test".into()))
    }

    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<StdConn, NetError> {
        let ip: IpAddr = host
            .parse()
            .map_err(|_| NetError::Connect(format!("{host} is not an IP address")))?;
        let s = TcpStream::connect_timeout(
            &SocketAddr::new(ip, port),
            Duration::from_millis(timeout_ms.into()),
        )
        .map_err(|e| net_err(e, timeout_ms))?;
        s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
        Ok(StdConn(s))
    }
}

impl Conn for StdConn {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        self.0
            .read(buf)
            .map_err(|e| net_err(e, READ_TIMEOUT.as_millis() as u32))
    }
    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        self.0
            .write_all(data)
            .map_err(|e| net_err(e, READ_TIMEOUT.as_millis() as u32))
    }
    async fn close(&mut self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

fn skip(why: &str) {
    let msg = format!(
        "\n!!!! SKIPPING the live SMTP bed test: {why}\n\
         !!!! Set BED_ENV=<repo>/tests/testbed/run/bed.env with the bed up \
         (tests/testbed/bin/bed-up.sh).\n"
    );
    if std::env::var_os("BED_REQUIRED").is_some_and(|v| v == "1") {
        panic!("{msg}");
    }
    eprintln!("{msg}");
}

fn read_env(path: &str) -> Option<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
            .collect(),
    )
}

/// True when `ip` is routed through the bed's veth (so nothing leaves the
/// machine).
fn routed_via_bed(ip: &str, iface: &str) -> Result<(), String> {
    let out = std::process::Command::new("ip")
        .args(["route", "get", ip])
        .output()
        .map_err(|e| format!("cannot run `ip route get {ip}`: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains(&format!("dev {iface} ")) || text.trim_end().ends_with(&format!("dev {iface}"))
    {
        Ok(())
    } else {
        Err(format!(
            "`ip route get {ip}` does not say `dev {iface}` ({}): the bed is not up here",
            text.trim()
        ))
    }
}

fn statuses(p: &MxProbe, ptr: &str) -> Vec<(String, Status, String)> {
    probe::judge(p, Some(ptr))
        .into_iter()
        .map(|f| (f.id, f.status, f.detail))
        .collect()
}

/// Neither server may ever be sent DATA or BDAT, nor a bare LF other than
/// the NOOP fingerprint: checked on the exact bytes written.
fn assert_no_data(p: &MxProbe) {
    for (label, t) in &p.transcripts {
        for line in t.client_lines() {
            let up = line.to_ascii_uppercase();
            assert!(
                !up.starts_with("DATA") && !up.starts_with("BDAT"),
                "{label}: sent {line}"
            );
        }
        let bytes = t.sent_bytes();
        for l in bytes.split(|&b| b == b'\n') {
            let up = String::from_utf8_lossy(l).to_ascii_uppercase();
            let cmd = up.trim_end_matches('\r');
            assert!(
                !cmd.starts_with("DATA") && !cmd.starts_with("BDAT"),
                "{label}: {cmd}"
            );
        }
        let bare = bytes
            .windows(2)
            .filter(|w| w[1] == b'\n' && w[0] != b'\r')
            .count()
            + usize::from(bytes.first() == Some(&b'\n'));
        let expected = usize::from(*label == "bare-lf");
        assert_eq!(bare, expected, "{label}: bare LFs sent");
    }
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
    assert_no_data(p);
}

#[test]
fn live_bed_hardened_and_weak_postfix() {
    let Ok(path) = std::env::var("BED_ENV") else {
        return skip("BED_ENV is not set");
    };
    let Some(env) = read_env(&path) else {
        return skip(&format!("{path} cannot be read (is the bed up?)"));
    };
    let hard = env.get("BED_MX_HARD").cloned().unwrap_or_default();
    let weak = env.get("BED_MX_WEAK").cloned().unwrap_or_default();
    let iface = env
        .get("BED_HOST_IFACE")
        .cloned()
        .unwrap_or_else(|| "mb-host".into());
    for ip in [&hard, &weak] {
        if let Err(why) = routed_via_bed(ip, &iface) {
            return skip(&why);
        }
    }
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
