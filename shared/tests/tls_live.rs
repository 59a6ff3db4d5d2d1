//! Live TLS checks against the project's test bed (real Postfix).
//!
//! Selected by `BED_ENV=/path/to/tests/testbed/run/bed.env` (the lead wires
//! it into CI). Without it the test skips loudly; with `CI` set it fails,
//! so CI cannot silently lose it. The bed must already be up; this test
//! never starts or stops it, and skips if the bed's network is not routed
//! through `mb-host`.
//!
//!   BED_ENV=/work/main/tests/testbed/run/bed.env \
//!     cargo test -p mailaudit-core --test tls_live -- --nocapture
//!
//! STARTTLS is done here by hand (banner, EHLO, STARTTLS); the product's
//! SMTP client lives in `probe`.

use futures::executor::block_on as block;
use mailaudit_core::net::{Conn, NetError};
use mailaudit_core::tls::cert::{analyze_handshake, Trust};
use mailaudit_core::tls::probe::{probe_ciphers, probe_versions, Verdict};
use mailaudit_core::tls::{hello, rules, stream};
use mailaudit_core::Status;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Says so past the test harness's output capture (which only takes
/// `print!`/`eprint!`), so a skip is seen in a plain `cargo test`.
fn skip(why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED tls_live: {why}");
}

/// The bed's settings, or None (skip) — or a panic under CI.
fn bed() -> Option<HashMap<String, String>> {
    let Ok(path) = std::env::var("BED_ENV") else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but BED_ENV is not: the live TLS test must run in CI");
        }
        skip("set BED_ENV=<repo>/tests/testbed/run/bed.env to run it");
        return None;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("BED_ENV {path}: {e}"));
    let env: HashMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect();
    let hard = env.get("BED_MX_HARD").expect("BED_MX_HARD in bed.env");
    let iface = env.get("BED_HOST_IFACE").map_or("mb-host", |s| s);
    let route = std::process::Command::new("ip")
        .args(["route", "get", hard])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !route.contains(&format!("dev {iface}")) {
        let msg = format!("the bed is not reachable: `ip route get {hard}` says {route:?}");
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        skip(&msg);
        return None;
    }
    Some(env)
}

/// A blocking TCP connection as a `Conn` (tests only).
struct Tcp(TcpStream);

impl Conn for Tcp {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        self.0.read(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                NetError::Timeout(10_000)
            }
            _ => NetError::Other(e.to_string()),
        })
    }
    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        self.0
            .write_all(data)
            .map_err(|e| NetError::Other(e.to_string()))
    }
    async fn close(&mut self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

/// Reads one SMTP reply (all lines) from any Conn.
async fn reply<C: Conn>(c: &mut C) -> Result<String, NetError> {
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    loop {
        if c.read(&mut b).await? == 0 {
            return Err(NetError::Other("closed".into()));
        }
        got.push(b[0]);
        if got.ends_with(b"\r\n") {
            let text = String::from_utf8_lossy(&got).into_owned();
            let last = text.trim_end().lines().last().unwrap_or("").to_string();
            if last.len() < 4 || last.as_bytes()[3] == b' ' {
                return Ok(text);
            }
        }
        if got.len() > 16384 {
            return Err(NetError::Other("reply too long".into()));
        }
    }
}

/// Connects to ip:25 and runs banner, EHLO, STARTTLS; the connection is
/// then ready for a ClientHello.
async fn starttls(ip: &str) -> Result<Tcp, NetError> {
    let addr = format!("{ip}:25").parse().unwrap();
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| NetError::Connect(e.to_string()))?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut c = Tcp(s);
    let banner = reply(&mut c).await?;
    if !banner.starts_with("220") {
        return Err(NetError::Other(format!("banner {banner:?}")));
    }
    c.write_all(b"EHLO probe.mailaudit.test\r\n").await?;
    let ehlo = reply(&mut c).await?;
    if !ehlo.to_ascii_uppercase().contains("STARTTLS") {
        c.write_all(b"QUIT\r\n").await?;
        return Err(NetError::Refused("STARTTLS not offered".into()));
    }
    c.write_all(b"STARTTLS\r\n").await?;
    let r = reply(&mut c).await?;
    if !r.starts_with("220") {
        return Err(NetError::Other(format!("STARTTLS answered {r:?}")));
    }
    Ok(c)
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in b64.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What `openssl s_client` says about one version, if openssl is there.
fn openssl_accepts(ip: &str, flag: &str) -> Option<bool> {
    let out = std::process::Command::new("timeout")
        .args(["15", "openssl", "s_client", "-starttls", "smtp", flag])
        .args(["-connect", &format!("{ip}:25")])
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Cipher is (NONE)") {
        Some(false)
    } else if text.contains("Cipher is ") {
        Some(true)
    } else {
        None
    }
}

#[test]
fn hardened_postfix() {
    let Some(env) = bed() else { return };
    let ip = env["BED_MX_HARD"].clone();
    let host = "mail.example.test";

    let versions = block(probe_versions(|| starttls(&ip), Some(host)));
    for (v, p) in versions.all() {
        eprintln!("{}: {:?} {}", hello::version_name(v), p.verdict, p.detail);
    }
    assert_eq!(versions.ssl3.verdict, Verdict::NotAccepted);
    assert_eq!(versions.tls10.verdict, Verdict::NotAccepted);
    assert_eq!(versions.tls11.verdict, Verdict::NotAccepted);
    assert_eq!(versions.tls12.verdict, Verdict::Accepted);
    assert_eq!(versions.tls13.verdict, Verdict::Accepted);
    let f = rules::judge_versions(&format!("{host} ({ip}:25)"), &versions);
    assert_eq!(f.status, Status::Pass, "{}", f.detail);

    // The same answers from OpenSSL's own client.
    for (flag, ours) in [
        ("-tls1_1", &versions.tls11),
        ("-tls1_2", &versions.tls12),
        ("-tls1_3", &versions.tls13),
    ] {
        match openssl_accepts(&ip, flag) {
            Some(theirs) => assert_eq!(theirs, ours.accepted(), "openssl {flag}"),
            None => eprintln!("openssl s_client {flag}: no usable answer; comparison skipped"),
        }
    }

    let ciphers = block(probe_ciphers(|| starttls(&ip), Some(host), &versions));
    for (q, p) in &ciphers.probes {
        eprintln!("{q}: {:?} {}", p.verdict, p.detail);
    }
    assert!(ciphers.complete);
    let f = rules::judge_ciphers(host, &ciphers);
    eprintln!("tls.ciphers: {:?} {}", f.status, f.detail);
    assert_ne!(f.status, Status::Unknown);

    // The real handshake (rustls), then SMTP goes on over it.
    let conn = block(starttls(&ip)).expect("STARTTLS");
    let mut tls = block(stream::connect(conn, host, now())).expect("TLS handshake");
    let info = tls.info().clone();
    eprintln!("negotiated {}", info.describe());
    assert!(info.version >= hello::TLS12);
    block(tls.write_all(b"EHLO probe.mailaudit.test\r\n")).unwrap();
    let ehlo = block(reply(&mut tls)).expect("EHLO over TLS");
    assert!(ehlo.starts_with("250"), "{ehlo}");
    assert!(!ehlo.contains("STARTTLS"), "no STARTTLS inside TLS: {ehlo}");
    block(tls.write_all(b"QUIT\r\n")).unwrap();
    let _ = block(reply(&mut tls));
    block(tls.close());

    let ca = std::fs::read_to_string(&env["BED_CA"]).expect("BED_CA");
    let report = analyze_handshake(&info, host, now() as i64, &[pem_to_der(&ca)]);
    assert!(
        matches!(report.trust, Trust::Trusted { .. }),
        "{:?}",
        report.trust
    );
    for f in [
        rules::judge_cert_expiry(Ok(&report), now() as i64),
        rules::judge_cert_name(Ok(&report), true),
        rules::judge_cert_chain(Ok(&report)),
        rules::judge_cert_key(Ok(&report)),
    ] {
        eprintln!("{}: {:?} {}", f.id, f.status, f.detail);
        assert_eq!(f.status, Status::Pass, "{}: {}", f.id, f.detail);
    }
    // Without the bed's CA the same chain is not trusted: a finding, not an error.
    let untrusted = analyze_handshake(&info, host, now() as i64, &[]);
    assert_eq!(rules::judge_cert_chain(Ok(&untrusted)).status, Status::Fail);
    // And under another name the name rule fails.
    let other = analyze_handshake(&info, "mx.other.test", now() as i64, &[]);
    assert_eq!(
        rules::judge_cert_name(Ok(&other), false).status,
        Status::Fail
    );
}

#[test]
fn weak_postfix_without_tls_is_unknown() {
    let Some(env) = bed() else { return };
    let ip = env["BED_MX_WEAK"].clone();
    let versions = futures::executor::block_on(probe_versions(|| starttls(&ip), None));
    for (_, p) in versions.all() {
        assert_eq!(p.verdict, Verdict::Unknown, "{}", p.detail);
        assert!(p.detail.contains("STARTTLS not offered"), "{}", p.detail);
    }
    let f = rules::judge_versions(&ip, &versions);
    assert_eq!(f.status, Status::Unknown, "{}", f.detail);
    let f = rules::judge_cert_chain(Err("STARTTLS not offered"));
    assert_eq!(f.status, Status::Unknown);
}
