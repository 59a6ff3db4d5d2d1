//! Probe + rule tests against scripted SMTP peers.

use super::script::{Act, Peer, SmtpNet};
use super::smtp::{SmtpClient, SmtpError};
use super::*;
use crate::net::{Conn, NetError};
use crate::report::{Finding, Status};
use futures::executor::block_on;

const IP: &str = "192.0.2.25";

fn ip() -> IpAddr {
    IP.parse().unwrap()
}

fn probe(peer: Peer) -> (MxProbe, SmtpNet) {
    let net = SmtpNet::new().peer(IP, 25, peer);
    let p = block_on(probe_mx(
        &net,
        "mail.example.org",
        ip(),
        &ProbeOptions::default(),
    ));
    assert_never_delivers(&net);
    (p, net)
}

fn find<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
    fs.iter().find(|f| f.id == id).expect(id)
}

fn statuses(p: &MxProbe, ptr: Option<&str>) -> Vec<(String, Status)> {
    judge(p, ptr)
        .into_iter()
        .map(|f| (f.id, f.status))
        .collect()
}

fn status(p: &MxProbe, id: &str) -> Status {
    find(&judge(p, Some("mail.example.org")), id).status
}

/// The safety guarantee: no DATA/BDAT ever, and the only line ended by a
/// bare LF is `NOOP`. Checked on the raw bytes every connection received.
fn assert_never_delivers(net: &SmtpNet) {
    for (host, port, bytes) in net.written() {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b != b'\n' {
                continue;
            }
            let line = &bytes[start..i];
            start = i + 1;
            let bare = line.last() != Some(&b'\r');
            let text = String::from_utf8_lossy(line).to_ascii_uppercase();
            let cmd = text.trim_end_matches('\r');
            assert!(
                !cmd.starts_with("DATA") && !cmd.starts_with("BDAT"),
                "{host}:{port} was sent {cmd:?}"
            );
            if bare {
                assert_eq!(cmd, "NOOP", "unexpected bare-LF line to {host}:{port}");
            }
            assert!(!line[..line.len().saturating_sub(1)].contains(&b'\r'));
        }
        assert_eq!(start, bytes.len(), "unterminated line to {host}:{port}");
    }
}

#[test]
fn hardened_server_passes_everything() {
    let (p, net) = probe(Peer::hardened());
    let fs = judge(&p, Some("mail.example.org."));
    for f in &fs {
        let want = if f.id == "smtp.software_version" {
            Status::Info
        } else {
            Status::Pass
        };
        assert_eq!(f.status, want, "{}: {}", f.id, f.detail);
        assert!(f.detail.starts_with("mail.example.org [192.0.2.25]:25"));
    }
    // main, bare-lf, starttls; the last two at once, never more.
    assert_eq!(net.connections(), 3);
    assert!(net.max_concurrent() <= 2);
    let sent = p.commands_sent();
    for c in [
        "EHLO mailaudit.invalid",
        "MAIL FROM:<relay-test@example.net>",
        "RCPT TO:<relay-test@example.org>",
        "RSET",
        "VRFY postmaster",
        "VRFY mailaudit-q7x2k9v4",
        "EXPN postmaster",
        "EXPN mailaudit-q7x2k9v4",
        "QUIT",
        "NOOP<LF>",
        "STARTTLS",
    ] {
        assert!(sent.iter().any(|s| s == c), "{c} not sent: {sent:?}");
    }
    // Evidence is a transcript excerpt.
    let relay = find(&fs, "smtp.open_relay");
    assert!(relay.evidence.iter().any(|e| matches!(e,
        crate::report::Evidence::Note { text } if text.contains("S: 554 5.7.1"))));
}

#[test]
fn weak_server_fails_what_it_should() {
    let (p, _) = probe(Peer::weak());
    let fs = judge(&p, Some("dynamic-192-0-2-25.isp.example"));
    let want = [
        ("smtp.reachable", Status::Pass),
        ("smtp.banner", Status::Fail),
        ("smtp.helo_name", Status::Fail),
        ("smtp.starttls", Status::Fail),
        ("smtp.auth_plaintext", Status::Pass),
        ("smtp.open_relay", Status::Fail),
        ("smtp.vrfy_expn", Status::Fail),
        ("smtp.size", Status::Pass),
        ("smtp.smuggling", Status::Warn),
        ("smtp.software_version", Status::Pass),
    ];
    for (id, st) in want {
        let f = find(&fs, id);
        assert_eq!(f.status, st, "{id}: {}", f.detail);
        if matches!(st, Status::Fail | Status::Warn) {
            assert!(!f.remediation.is_empty(), "{id} has no remediation");
            assert!(!f.evidence.is_empty(), "{id} has no evidence");
        }
    }
    assert!(find(&fs, "smtp.banner").detail.contains("Postfix 3.7.11"));
    assert!(find(&fs, "smtp.banner").detail.contains("Debian"));
    assert!(find(&fs, "smtp.vrfy_expn").detail.contains("252"));
    assert!(find(&fs, "smtp.smuggling").detail.contains("prove"));
    // No STARTTLS advertised: no third session.
    assert!(matches!(p.starttls, Attempt::NotRun(_)));
}

#[test]
fn unreachable_servers_are_unknown_never_fail_or_pass() {
    let cases: Vec<(&str, SmtpNet)> = vec![
        ("refused", SmtpNet::new()),
        (
            "connect timeout",
            SmtpNet::new().connect_error(IP, 25, NetError::Timeout(0)),
        ),
        (
            "421",
            SmtpNet::new().peer(IP, 25, Peer::new("421 4.3.2 busy, try later")),
        ),
        (
            "554",
            SmtpNet::new().peer(IP, 25, Peer::new("554 5.7.1 no SMTP service for you")),
        ),
        (
            "reset",
            SmtpNet::new().peer(IP, 25, Peer::new("x").greeting(Act::Reset)),
        ),
        (
            "silent",
            SmtpNet::new().peer(IP, 25, Peer::new("x").greeting(Act::Silent)),
        ),
        (
            "closed",
            SmtpNet::new().peer(IP, 25, Peer::new("x").greeting(Act::Close)),
        ),
    ];
    for (name, net) in cases {
        let p = block_on(probe_mx(
            &net,
            "mail.example.org",
            ip(),
            &ProbeOptions::default(),
        ));
        for (id, st) in statuses(&p, Some("mail.example.org")) {
            assert_eq!(st, Status::Unknown, "{name}: {id}");
        }
        assert!(net.connections() <= 1, "{name}: retried");
        assert_never_delivers(&net);
        let reach = judge_reachable_detail(&p);
        assert!(!reach.is_empty(), "{name}");
    }
}

fn judge_reachable_detail(p: &MxProbe) -> String {
    rules::judge_reachable(p).detail
}

#[test]
fn session_lost_midway_makes_the_rest_unknown() {
    // Reset at RCPT: relay and VRFY/EXPN unknown; EHLO-based rules decided.
    let (p, _) = probe(Peer::hardened().on("RCPT TO", Act::Reset));
    assert_eq!(status(&p, "smtp.open_relay"), Status::Unknown);
    assert_eq!(status(&p, "smtp.vrfy_expn"), Status::Unknown);
    assert_eq!(status(&p, "smtp.starttls"), Status::Pass);
    assert_eq!(status(&p, "smtp.size"), Status::Pass);
    // 421 and hang-up at EHLO: everything after the greeting is unknown.
    let (p, _) = probe(Peer::hardened().on("EHLO", Act::reply_close("421 4.7.0 too busy")));
    for (id, st) in statuses(&p, Some("mail.example.org")) {
        let want = match id.as_str() {
            "smtp.reachable" | "smtp.banner" | "smtp.helo_name" => Status::Pass,
            "smtp.software_version" => Status::Info,
            _ => Status::Unknown,
        };
        assert_eq!(st, want, "{id}");
    }
    // Timeout at VRFY: relay decided, VRFY/EXPN unknown, and no QUIT is
    // attempted on a dead session.
    let (p, _) = probe(Peer::weak().on("VRFY", Act::Silent));
    assert_eq!(status(&p, "smtp.open_relay"), Status::Fail);
    assert_eq!(status(&p, "smtp.vrfy_expn"), Status::Unknown);
}

#[test]
fn garbage_on_port_25_fails_reachable() {
    let (p, _) =
        probe(Peer::new("x").greeting(Act::Send(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec())));
    assert_eq!(status(&p, "smtp.reachable"), Status::Fail);
    assert_eq!(status(&p, "smtp.open_relay"), Status::Unknown);
    let (p, _) = probe(Peer::new("x").greeting(Act::Send(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec())));
    assert_eq!(status(&p, "smtp.reachable"), Status::Fail);
    let (p, _) = probe(Peer::new("500 go away"));
    assert_eq!(status(&p, "smtp.reachable"), Status::Fail);
}

/// A greeting past the probe's limits is not judged: it may be a real,
/// if absurd, SMTP greeting (tests/faults row `hugebanner`: 1 MB of
/// `220-` lines was failed as "does not speak SMTP").
#[test]
fn an_oversized_greeting_is_unknown_not_fail() {
    let many = "220-mail.example.org hello\r\n".repeat(150) + "220 mail.example.org ESMTP\r\n";
    let long = format!("220 mail.example.org {}\r\n", "x".repeat(5000));
    for greeting in [many, long] {
        let (p, _) = probe(Peer::new("x").greeting(Act::Send(greeting.into_bytes())));
        let f = rules::judge_reachable(&p);
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
        assert!(
            f.detail.contains("larger than this probe reads"),
            "{}",
            f.detail
        );
        assert_eq!(status(&p, "smtp.open_relay"), Status::Unknown);
    }
}

fn ehlo(lines: &str) -> Peer {
    Peer::hardened().reply("EHLO", lines)
}

#[test]
fn auth_before_starttls() {
    let (p, _) = probe(ehlo(
        "250-mail.example.org\n250-SIZE 1000\n250-STARTTLS\n250-AUTH PLAIN LOGIN\n250 8BITMIME",
    ));
    let f = find(&judge(&p, None), "smtp.auth_plaintext").clone();
    assert_eq!(f.status, Status::Fail);
    assert!(f.detail.contains("PLAIN"));
    assert!(f.remediation.contains("smtpd_tls_auth_only"));
    let (p, _) = probe(ehlo(
        "250-mail.example.org\n250-SIZE 1000\n250-STARTTLS\n250 AUTH CRAM-MD5 SCRAM-SHA-256",
    ));
    assert_eq!(status(&p, "smtp.auth_plaintext"), Status::Warn);
}

#[test]
fn size_limit() {
    for (caps, want) in [
        ("250-mail.example.org\n250 STARTTLS", Status::Fail),
        (
            "250-mail.example.org\n250-STARTTLS\n250 SIZE 0",
            Status::Fail,
        ),
        ("250-mail.example.org\n250-STARTTLS\n250 SIZE", Status::Fail),
        (
            "250-mail.example.org\n250-STARTTLS\n250 SIZE 52428800",
            Status::Pass,
        ),
    ] {
        let (p, _) = probe(ehlo(caps));
        assert_eq!(status(&p, "smtp.size"), want, "{caps}");
    }
}

#[test]
fn starttls_outcomes() {
    // Advertised but refused.
    let (p, _) = probe(Peer::hardened().reply(
        "STARTTLS",
        "454 4.7.0 TLS not available due to local problem",
    ));
    let f = find(&judge(&p, None), "smtp.starttls").clone();
    assert_eq!(f.status, Status::Fail, "{}", f.detail);
    assert!(f.detail.contains("454"));
    // Not advertised.
    let (p, _) = probe(ehlo("250-mail.example.org\n250 SIZE 1000"));
    assert_eq!(status(&p, "smtp.starttls"), Status::Fail);
    // HELO only: no ESMTP at all.
    let (p, _) = probe(
        Peer::hardened()
            .reply("EHLO", "502 5.5.2 Error: command not recognized")
            .reply("HELO", "250 mail.example.org"),
    );
    assert!(p.hello.done().is_some_and(|h| !h.esmtp));
    assert_eq!(status(&p, "smtp.starttls"), Status::Fail);
    assert_eq!(status(&p, "smtp.size"), Status::Fail);
    assert_eq!(status(&p, "smtp.auth_plaintext"), Status::Pass);
    // Plaintext injected after 220: the stream is not handed over.
    let (p, _) = probe(Peer::hardened().on(
        "STARTTLS",
        Act::Send(b"220 2.0.0 Ready\r\n250 injected\r\n".to_vec()),
    ));
    assert_eq!(p.starttls, Attempt::Failed(SmtpError::StartTlsInjection));
    assert_eq!(status(&p, "smtp.starttls"), Status::Fail);
}

#[test]
fn open_relay_outcomes() {
    let (p, _) = probe(Peer::hardened().reply(
        "MAIL FROM",
        "550 5.7.27 Sender address rejected: Domain example.net does not accept mail (nullMX)",
    ));
    let f = find(&judge(&p, None), "smtp.open_relay").clone();
    assert_eq!(f.status, Status::Unknown);
    assert!(f.detail.contains("another sender"));
    // RCPT never sent when MAIL is refused; RSET still sent.
    assert!(!p.commands_sent().iter().any(|c| c.starts_with("RCPT")));
    assert!(p.commands_sent().iter().any(|c| c == "RSET"));
    let (p, _) = probe(Peer::hardened().reply("RCPT TO", "450 4.7.1 greylisted"));
    assert_eq!(status(&p, "smtp.open_relay"), Status::Unknown);
    let (p, _) = probe(Peer::hardened().reply("RCPT TO", "251 2.1.5 will forward"));
    assert_eq!(status(&p, "smtp.open_relay"), Status::Fail);
    // Custom sender and recipient; CR/LF and brackets cannot inject.
    let net = SmtpNet::new().peer(IP, 25, Peer::weak());
    let opts = ProbeOptions {
        relay_sender: "probe@example.com>\r\nDATA".into(),
        relay_recipient: "x@example.org\nDATA\r\n".into(),
        ..ProbeOptions::default()
    };
    let p = block_on(probe_mx(&net, "mail.example.org", ip(), &opts));
    assert_never_delivers(&net);
    assert!(p
        .commands_sent()
        .contains(&"MAIL FROM:<probe@example.comDATA>".to_string()));
}

#[test]
fn vrfy_expn_tell_apart() {
    // Uniform 252 = pass (RFC 5321 §3.5.3 answer for "cannot verify").
    let (p, _) = probe(Peer::hardened().reply("VRFY", "252 2.0.0 Cannot VRFY user"));
    assert_eq!(status(&p, "smtp.vrfy_expn"), Status::Pass);
    // EXPN that expands a list = fail even though VRFY is off.
    let (p, _) = probe(
        Peer::hardened()
            .reply(
                "EXPN postmaster",
                "250-<root@mail.example.org>\n250 <alice@mail.example.org>",
            )
            .reply("EXPN", "550 5.1.1 no such list"),
    );
    let f = find(&judge(&p, None), "smtp.vrfy_expn").clone();
    assert_eq!(f.status, Status::Fail);
    assert!(f.detail.contains("EXPN"));
    // 250 for postmaster, 550 for the random part = fail.
    let (p, _) = probe(
        Peer::hardened()
            .reply("VRFY postmaster", "250 2.1.5 <postmaster@mail.example.org>")
            .reply("VRFY", "550 5.1.1 unknown"),
    );
    assert_eq!(status(&p, "smtp.vrfy_expn"), Status::Fail);
    // 4xx = unknown.
    let (p, _) = probe(Peer::hardened().reply("VRFY", "450 4.7.1 try later"));
    assert_eq!(status(&p, "smtp.vrfy_expn"), Status::Unknown);
    // The random part comes from the options, cleaned.
    let net = SmtpNet::new().peer(IP, 25, Peer::hardened());
    let p = block_on(probe_mx(
        &net,
        "mail.example.org",
        ip(),
        &ProbeOptions::with_random("zq81-Kx!\r\nDATA"),
    ));
    assert!(p.commands_sent().contains(&"VRFY zq81-KxDATA".to_string()));
    assert_never_delivers(&net);
}

#[test]
fn bare_lf_outcomes() {
    let cases = [
        (Act::reply("250 2.0.0 Ok"), Status::Warn),
        (
            Act::reply_close("550 5.5.2 Error: bare <LF> received"),
            Status::Pass,
        ),
        (Act::reply("500 5.5.2 Error: bad syntax"), Status::Pass),
        (
            Act::reply_close("421 4.5.0 bare LF not allowed"),
            Status::Pass,
        ),
        (Act::reply_close("421 4.3.0 shutting down"), Status::Unknown),
        (Act::Close, Status::Pass),
        (Act::Silent, Status::Unknown),
        (Act::Reset, Status::Unknown),
    ];
    for (act, want) in cases {
        let (p, _) = probe(Peer::hardened().on_bare_lf(act.clone()));
        let f = rules::judge_smuggling(&p);
        assert_eq!(f.status, want, "{act:?}: {}", f.detail);
        assert!(!f.evidence.is_empty(), "{act:?}");
    }
    // A server that waits for CRLF: the host's read timeout ends it.
    let (p, _) = probe(Peer::hardened().on_bare_lf(Act::Silent));
    assert!(rules::judge_smuggling(&p).detail.contains("CR LF"));
    // Turned off.
    let net = SmtpNet::new().peer(IP, 25, Peer::hardened());
    let opts = ProbeOptions {
        bare_lf_test: false,
        ..ProbeOptions::default()
    };
    let p = block_on(probe_mx(&net, "mail.example.org", ip(), &opts));
    assert_eq!(rules::judge_smuggling(&p).status, Status::Unknown);
    assert!(!p.commands_sent().iter().any(|c| c.contains("<LF>")));
}

#[test]
fn greeting_delay_is_judged_from_the_hosts_measurement() {
    // A host without connection times: said so, never guessed.
    let (p, _) = probe(Peer::hardened());
    assert_eq!(p.greeting_ms, None);
    let f = rules::judge_banner(&p);
    assert_eq!(f.status, Status::Pass);
    assert!(f.detail.contains("not measured"), "{}", f.detail);
    // postscreen's 6 s pregreet wait: reported inside the pass.
    let (p, _) = probe(Peer::hardened().greeted_after(6_012));
    assert_eq!(p.greeting_ms, Some(6_012));
    let f = rules::judge_banner(&p);
    assert_eq!(f.status, Status::Pass);
    assert!(
        f.detail
            .contains("6.0 s after connecting: a greeting delay"),
        "{}",
        f.detail
    );
    // At the threshold it counts; just under it, it does not.
    let f = rules::judge_banner(&probe(Peer::hardened().greeted_after(rules::GREETING_DELAY_MS)).0);
    assert!(
        f.detail.contains("a greeting delay (pregreet"),
        "{}",
        f.detail
    );
    let (p, _) = probe(Peer::hardened().greeted_after(rules::GREETING_DELAY_MS - 1));
    let f = rules::judge_banner(&p);
    assert!(
        f.detail
            .contains("without a delay (under 2 s after connecting: no greeting delay"),
        "{}",
        f.detail
    );
    // A disclosing banner still fails; the delay is reported with it.
    let (p, _) = probe(Peer::weak().greeted_after(3_500));
    let f = rules::judge_banner(&p);
    assert_eq!(f.status, Status::Fail);
    assert!(f.detail.contains("3.5 s after connecting"), "{}", f.detail);
}

#[test]
fn helo_name_against_ptr() {
    let (p, _) = probe(Peer::hardened());
    assert_eq!(rules::judge_helo_name(&p, None).status, Status::Unknown);
    assert_eq!(
        rules::judge_helo_name(&p, Some("MAIL.example.org.")).status,
        Status::Pass
    );
    assert_eq!(
        rules::judge_helo_name(&p, Some("other.example.org")).status,
        Status::Fail
    );
    // Banner matches, EHLO does not.
    let (p, _) = probe(ehlo("250-localhost\n250-STARTTLS\n250 SIZE 1000"));
    assert_eq!(
        rules::judge_helo_name(&p, Some("mail.example.org")).status,
        Status::Warn
    );
}

#[test]
fn software_versions() {
    let greet = |g: &str| probe(Peer::hardened().greeting(Act::reply(g))).0;
    let p = greet("220 mx.example.org ESMTP Exim 4.96 Mon, 01 Jan 2024 00:00:00 +0000");
    let f = rules::judge_software_version(&p);
    assert_eq!(f.status, Status::Warn, "{}", f.detail);
    assert!(f.detail.contains("CVE-2023-42115") && f.detail.contains("CVE-2023-51766"));
    assert_eq!(rules::judge_banner(&p).status, Status::Fail);
    let p = greet("220 mx.example.org Microsoft ESMTP MAIL Service, Version: 6.0.3790.4675 ready");
    assert_eq!(rules::judge_software_version(&p).status, Status::Fail);
    let p = greet("220 mx.example.org ESMTP Exim 4.98.1");
    assert_eq!(rules::judge_software_version(&p).status, Status::Pass);
    let p = greet("220 mx.example.org ESMTP Postfix");
    assert_eq!(rules::judge_software_version(&p).status, Status::Info);
    let banner = rules::judge_banner(&p);
    assert_eq!(banner.status, Status::Pass);
    assert!(banner.detail.contains("names the software"));
    let p = greet("220 mx.example.org ESMTP MDaemon 23.5.1");
    assert_eq!(rules::judge_software_version(&p).status, Status::Info);
    assert_eq!(rules::judge_banner(&p).status, Status::Fail);
    // Multi-line greeting: the version can hide on a later line.
    let p = greet("220-mx.example.org ESMTP\n220 Sendmail 8.17.1/8.17.1 ready");
    assert_eq!(rules::judge_software_version(&p).status, Status::Warn);
}

/// A stand-in for the TLS layer's stream: any `Conn` can carry the
/// dialogue after STARTTLS.
struct Wrapped<C: Conn>(C, usize);

impl<C: Conn> Conn for Wrapped<C> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        self.1 += 1;
        self.0.read(buf).await
    }
    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        self.0.write_all(data).await
    }
    async fn close(&mut self) {
        self.0.close().await
    }
}

#[test]
fn starttls_hands_the_stream_over() {
    let net = SmtpNet::new().peer(IP, 25, Peer::hardened());
    let ready =
        block_on(open_starttls(&net, ip(), &ProbeOptions::default())).expect("220 to STARTTLS");
    assert_eq!(ready.reply.code, 220);
    assert!(ready.hello.caps.starttls);
    let mut c = SmtpClient::resume(Wrapped(ready.conn, 0), ready.transcript);
    let h = block_on(c.ehlo("mailaudit.invalid")).unwrap();
    assert!(h.esmtp);
    let t = block_on(c.quit());
    assert_eq!(
        t.client_lines().collect::<Vec<_>>(),
        [
            "EHLO mailaudit.invalid",
            "STARTTLS",
            "EHLO mailaudit.invalid",
            "QUIT"
        ]
    );
    assert_never_delivers(&net);
    // Refused: the reply comes back.
    let net = SmtpNet::new().peer(IP, 25, Peer::hardened().reply("STARTTLS", "502 no"));
    match block_on(open_starttls(&net, ip(), &ProbeOptions::default())) {
        Err((Attempt::Done(r), _)) => assert_eq!(r.code, 502),
        _ => panic!("expected the 502"),
    }
}

#[test]
fn client_refuses_commands_with_line_breaks() {
    let net = SmtpNet::new().peer(IP, 25, Peer::hardened());
    let (mut c, _) = block_on(smtp::connect(&net, ip(), 25, 1000)).ok().unwrap();
    assert_eq!(
        block_on(c.command("NOOP\r\nDATA")),
        Err(SmtpError::BadCommand)
    );
    block_on(c.quit());
    assert_never_delivers(&net);
}

/// xorshift64* (as in tests/common): reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self) -> Vec<u8> {
        const PIECES: &[&[u8]] = &[
            b"220 ",
            b"250-",
            b"250 ",
            b"\r\n",
            b"\n",
            b"STARTTLS",
            b"SIZE ",
            b"AUTH PLAIN",
            b"5.1.1 ",
            b"Postfix 3.",
            b"\xff\xfe",
            b"\x1b[2J",
            b"421 ",
        ];
        let mut v = Vec::new();
        for _ in 0..self.below(40) {
            match self.below(3) {
                0 => v.extend_from_slice(PIECES[self.below(PIECES.len())]),
                1 => v.push(self.next() as u8),
                _ => v.extend(std::iter::repeat_n(b'9', self.below(3000))),
            }
        }
        v
    }
}

#[test]
fn random_replies_never_panic() {
    for seed in 1..300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut peer = Peer::new("x").greeting(if rng.below(4) == 0 {
            Act::reply("220 mail.example.org ESMTP")
        } else {
            Act::Send(rng.bytes())
        });
        for cmd in [
            "EHLO", "MAIL", "RCPT", "RSET", "VRFY", "EXPN", "STARTTLS", "QUIT",
        ] {
            let act = match rng.below(6) {
                0 => Act::Close,
                1 => Act::Reset,
                2 => Act::Silent,
                _ => Act::Send(rng.bytes()),
            };
            peer = peer.on(cmd, act);
        }
        peer = peer.on_bare_lf(Act::Send(rng.bytes()));
        let (p, net) = probe(peer);
        let fs = judge(&p, Some("mail.example.org"));
        // All but smtp.exposed_ports and smtp.submission, which judge a
        // port scan and what it found open.
        assert_eq!(fs.len(), RULES.len() - 2, "seed {seed}");
        assert!(net.max_concurrent() <= 3);
        for f in fs {
            assert!(f.detail.len() < 20_000, "seed {seed}: {}", f.id);
        }
    }
}

#[test]
fn parser_survives_random_chunks() {
    for seed in 1..500u64 {
        let mut rng = Rng(seed | 1);
        let mut parser = reply::ReplyParser::new();
        for _ in 0..20 {
            parser.feed(&rng.bytes());
            for _ in 0..5 {
                match parser.next_reply() {
                    Ok(Some(r)) => {
                        assert!((100..600).contains(&r.code));
                        assert!(r.lines.len() <= reply::MAX_LINES);
                        assert!(r
                            .lines
                            .iter()
                            .all(|l| l.chars().count() <= reply::KEEP_LINE + 1));
                    }
                    Ok(None) => break,
                    Err(_) => {
                        parser = reply::ReplyParser::new();
                        break;
                    }
                }
            }
        }
    }
}

#[test]
fn probe_future_is_send_when_the_network_is() {
    // Hosts run probes on multi-threaded runtimes (the CLI's server).
    use crate::testing::{assert_send, DownNet};
    let net = DownNet;
    let opts = ProbeOptions::default();
    let p = block_on(assert_send(probe_mx(&net, "mx", ip(), &opts)));
    assert_eq!(status(&p, "smtp.reachable"), Status::Unknown);
}
