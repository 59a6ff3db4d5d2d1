//! The full SMTP smuggling test (end-of-data sequences), gated by proven
//! consent of the server's owner.
//!
//! The ordinary probe ([`super::probe_mx`]) only fingerprints how the
//! server ends command lines (`NOOP<LF>`) and never sends `DATA`. This test
//! does send `DATA`: one short test message per sequence, to a recipient
//! at the owner's domain (default `postmaster@<domain>`), so it runs only
//! with a [`Consent`], which can be had in exactly two ways:
//!
//! - [`Consent::declared_by_owner`]: the CLI's `--i-own-this-server`;
//! - [`prove_ownership`]: a TXT record at `_mailaudit.<domain>` that reads
//!   `mailaudit-verify=<token>`, the token given with `--ownership-token`
//!   (at least 16 characters): the domain's owner published their consent.
//!
//! # What is sent
//!
//! For each of the seven end-of-data sequences of the SMTP smuggling
//! research (SEC Consult, December 2023: `<LF>.<LF>`, `<LF>.<CR><LF>`,
//! `<CR>.<CR>`, `<CR>.<CR><LF>`, `<CR><LF>.<CR>`, `<CR><LF>.<LF>`,
//! `<CR><LF><NUL>.<CR><LF>`), one session: `EHLO`, `MAIL FROM`, `RCPT TO`,
//! `DATA`, then the message ended by that sequence, followed by the
//! harmless command `NOOP mailaudit-smuggled` and a proper `<CR><LF>.<CR><LF>`,
//! then `QUIT` (in the same write when the server offers `PIPELINING`, else
//! after the first reply: a server without it, such as OpenSMTPD, ends a
//! session in which the client talks ahead). A server that takes the sequence as the end of the message
//! answers the message (250), then the smuggled `NOOP` (250) and the stray
//! `.` (an error): it would accept commands smuggled inside a message, so
//! a forged second message could be hidden there. A server that does not
//! answers once, after the proper end, or refuses the message. The smuggled
//! part is only `NOOP`: no second message is ever created.
//!
//! Replies are read until `221` or the server closes; a silent server hits
//! the host's read timeout and that sequence is `unknown`.

use super::reply::Reply;
use super::rules::SMTP_SMUGGLING;
use super::smtp::{self, SmtpError, Transcript};
use crate::dns::{RecordType, Resolver};
use crate::net::Network;
use crate::report::{Evidence, Finding, Status};
use std::net::IpAddr;

/// The seven end-of-data sequences, named as shown to users.
pub const SEQUENCES: [(&str, &[u8]); 7] = [
    ("<LF>.<LF>", b"\n.\n"),
    ("<LF>.<CR><LF>", b"\n.\r\n"),
    ("<CR>.<CR>", b"\r.\r"),
    ("<CR>.<CR><LF>", b"\r.\r\n"),
    ("<CR><LF>.<CR>", b"\r\n.\r"),
    ("<CR><LF>.<LF>", b"\r\n.\n"),
    ("<CR><LF><NUL>.<CR><LF>", b"\r\n\x00.\r\n"),
];

/// The owner's consent to the full test. Its field is private: the only
/// ways to get one are [`Consent::declared_by_owner`] and
/// [`prove_ownership`], so no code path can run [`full_test`] without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    how: String,
}

impl Consent {
    /// The user declared they own (or may test) the server
    /// (`--i-own-this-server`).
    pub fn declared_by_owner() -> Consent {
        Consent {
            how: "the user declared they own the server (--i-own-this-server)".into(),
        }
    }

    /// How consent was given (for the report).
    pub fn how(&self) -> &str {
        &self.how
    }
}

/// Where the ownership token is published.
pub fn ownership_name(domain: &str) -> String {
    format!("_mailaudit.{}", domain.trim_end_matches('.'))
}

/// Whether one of `records` (TXT texts) is `mailaudit-verify=<token>`.
pub fn token_published(records: &[String], token: &str) -> bool {
    let want = format!("mailaudit-verify={}", token.trim());
    records.iter().any(|r| r.trim() == want)
}

/// Consent from DNS: `_mailaudit.<domain>` TXT holds
/// `mailaudit-verify=<token>`.
pub async fn prove_ownership<N: Network>(
    resolver: &Resolver<'_, N>,
    domain: &str,
    token: &str,
) -> Result<Consent, String> {
    let token = token.trim();
    if token.len() < 16 || token.len() > 128 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the ownership token must be 16-128 printable characters".into());
    }
    let name = ownership_name(domain);
    let answer = resolver
        .query(&name, RecordType::TXT)
        .await
        .map_err(|e| format!("could not look up {name} TXT: {e}"))?;
    let texts: Vec<String> = answer.of_type().filter_map(|d| d.txt_joined()).collect();
    if token_published(&texts, token) {
        Ok(Consent {
            how: format!("{name} TXT publishes mailaudit-verify=<the token given>"),
        })
    } else {
        Err(format!(
            "{name} has no TXT record \"mailaudit-verify={token}\" (found {}): publish it to \
             consent to the full smuggling test",
            if texts.is_empty() {
                "none".to_string()
            } else {
                texts
                    .iter()
                    .map(|t| format!("{t:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ))
    }
}

/// Addresses of the test message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullTestOptions {
    pub port: u16,
    pub connect_timeout_ms: u32,
    pub ehlo_name: String,
    /// `MAIL FROM` (default `mailaudit-test@<domain>`).
    pub sender: String,
    /// `RCPT TO` (default `postmaster@<domain>`).
    pub recipient: String,
}

impl FullTestOptions {
    pub fn for_domain(domain: &str) -> FullTestOptions {
        FullTestOptions {
            port: 25,
            connect_timeout_ms: 15_000,
            ehlo_name: "mailaudit.invalid".into(),
            sender: format!("mailaudit-test@{domain}"),
            recipient: format!("postmaster@{domain}"),
        }
    }
}

/// What one sequence showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server ended the message at the sequence and executed the
    /// smuggled `NOOP`.
    Smuggled,
    /// The message ended only at the proper `<CR><LF>.<CR><LF>`.
    Ignored,
    /// The server refused the message or closed the session.
    Refused(String),
    /// Could not tell (why).
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceResult {
    pub name: &'static str,
    pub outcome: Outcome,
    pub transcript: Transcript,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullSmuggling {
    pub target: String,
    pub consent: String,
    pub results: Vec<SequenceResult>,
}

fn clean_address(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ' '))
        .take(254)
        .collect()
}

/// The message (headers and body) sent before `sequence`.
fn message(opts: &FullTestOptions, name: &str) -> Vec<u8> {
    format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: mailaudit SMTP smuggling test ({name})\r\n\r\n\
         This message was sent by mailaudit's SMTP smuggling test, run with the consent of \
         the domain's owner. It can be deleted.",
        clean_address(&opts.sender),
        clean_address(&opts.recipient)
    )
    .into_bytes()
}

async fn one_sequence<N: Network>(
    net: &N,
    ip: IpAddr,
    opts: &FullTestOptions,
    name: &'static str,
    seq: &[u8],
) -> SequenceResult {
    let done = |outcome, transcript| SequenceResult {
        name,
        outcome,
        transcript,
    };
    let (mut c, banner) = match smtp::connect(net, ip, opts.port, opts.connect_timeout_ms).await {
        Ok(x) => x,
        Err((e, t)) => return done(Outcome::Unknown(format!("no session: {e}")), t),
    };
    if banner.code != 220 {
        let t = c.quit().await;
        return done(
            Outcome::Unknown(format!("the server greeted with {}", banner.code)),
            t,
        );
    }
    let steps = [
        format!("EHLO {}", opts.ehlo_name),
        format!("MAIL FROM:<{}>", clean_address(&opts.sender)),
        format!("RCPT TO:<{}>", clean_address(&opts.recipient)),
    ];
    let mut pipelining = false;
    for cmd in &steps {
        match c.command(cmd).await {
            Ok(r) if r.is_positive() => {
                if cmd.starts_with("EHLO") {
                    pipelining = smtp::Capabilities::parse(&r.lines).pipelining;
                }
            }
            Ok(r) => {
                let t = c.quit().await;
                return done(
                    Outcome::Unknown(format!(
                        "`{cmd}` was answered {}, so no message could be sent",
                        r.code
                    )),
                    t,
                );
            }
            Err(e) => {
                let t = c.close().await;
                return done(Outcome::Unknown(format!("the session ended: {e}")), t);
            }
        }
    }
    match c.command("DATA").await {
        Ok(r) if r.code == 354 => {}
        Ok(r) => {
            let t = c.quit().await;
            return done(Outcome::Unknown(format!("DATA was answered {}", r.code)), t);
        }
        Err(e) => {
            let t = c.close().await;
            return done(Outcome::Unknown(format!("the session ended: {e}")), t);
        }
    }
    let mut payload = message(opts, name);
    payload.extend_from_slice(seq);
    payload.extend_from_slice(b"NOOP mailaudit-smuggled\r\n\r\n.\r\n");
    // QUIT goes with the message only to a server that allows pipelining;
    // others (OpenSMTPD) end a session in which a client talks ahead, so
    // QUIT follows the first reply there.
    if pipelining {
        payload.extend_from_slice(b"QUIT\r\n");
    }
    let shown = format!(
        "<message> {name} NOOP mailaudit-smuggled <CR><LF>.<CR><LF>{}",
        if pipelining { " QUIT" } else { "" }
    );
    if let Err(e) = c.send_raw(&payload, &shown).await {
        let t = c.close().await;
        return done(Outcome::Unknown(format!("the session ended: {e}")), t);
    }
    let mut replies: Vec<Reply> = Vec::new();
    let mut end: Option<SmtpError> = None;
    while replies.len() < 6 {
        match c.read_reply().await {
            Ok(r) => {
                let last = r.code == 221;
                replies.push(r);
                if last {
                    break;
                }
            }
            Err(e) => {
                end = Some(e);
                break;
            }
        }
        if !pipelining && replies.len() == 1 {
            if let Err(e) = c.send_raw(b"QUIT\r\n", "QUIT").await {
                end = Some(e);
                break;
            }
        }
    }
    let t = c.close().await;
    let outcome = classify(&replies, end.as_ref());
    done(outcome, t)
}

/// The replies after the payload: the message's, then (if the sequence
/// ended it) the smuggled NOOP's and the stray dot's, then QUIT's.
fn classify(replies: &[Reply], end: Option<&SmtpError>) -> Outcome {
    let Some(first) = replies.first() else {
        return match end {
            Some(SmtpError::Closed) => {
                Outcome::Refused("the server closed the connection without a reply".into())
            }
            Some(e) => Outcome::Unknown(format!("no reply to the message: {e}")),
            None => Outcome::Unknown("no reply to the message".into()),
        };
    };
    if !first.is_positive() {
        return Outcome::Refused(format!("the message was refused with {}", first.code));
    }
    let rest: Vec<&Reply> = replies.iter().skip(1).filter(|r| r.code != 221).collect();
    match rest.first() {
        // A second reply before QUIT's: the server answered the NOOP that
        // followed the sequence inside the message.
        Some(r) if r.is_positive() => Outcome::Smuggled,
        Some(r) => Outcome::Unknown(format!(
            "an unexpected second reply ({}) after the message",
            r.code
        )),
        None if replies.iter().any(|r| r.code == 221) || end.is_some() => Outcome::Ignored,
        None => Outcome::Unknown("the server did not finish the session".into()),
    }
}

/// Runs the seven sequences one after another (one connection at a time).
/// Needs the owner's [`Consent`].
pub async fn full_test<N: Network>(
    net: &N,
    consent: &Consent,
    host: &str,
    ip: IpAddr,
    opts: &FullTestOptions,
) -> FullSmuggling {
    let mut results = Vec::new();
    for (name, seq) in SEQUENCES {
        results.push(one_sequence(net, ip, opts, name, seq).await);
    }
    FullSmuggling {
        target: format!("{host} [{ip}]:{}", opts.port),
        consent: consent.how().to_string(),
        results,
    }
}

/// `smtp.smuggling` from the full test (it replaces the fingerprint's
/// finding).
pub fn judge_full(f: &FullSmuggling) -> Finding {
    let evidence = |r: &SequenceResult| Evidence::Note {
        text: format!("{}:\n{}", r.name, r.transcript.excerpt(40)),
    };
    let smuggled: Vec<&SequenceResult> = f
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Smuggled)
        .collect();
    let unknown: Vec<&SequenceResult> = f
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Unknown(_)))
        .collect();
    let consent = format!("Full end-of-data test (consent: {}).", f.consent);
    if !smuggled.is_empty() {
        let names: Vec<&str> = smuggled.iter().map(|r| r.name).collect();
        return SMTP_SMUGGLING
            .finding(
                Status::Fail,
                format!(
                    "{consent} {} ended the message at {} and then executed the command that \
                     followed inside the message: a sender can smuggle a second, forged \
                     message through another server that does not end data there.",
                    f.target,
                    names.join(", ")
                ),
            )
            .with_evidences(smuggled.iter().map(|r| evidence(r)))
            .with_remediation(super::rules::SMUGGLING_FIX);
    }
    if !unknown.is_empty() {
        let why: Vec<String> = unknown
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Unknown(w) => format!("{}: {w}", r.name),
                _ => String::new(),
            })
            .collect();
        return SMTP_SMUGGLING
            .finding(
                Status::Unknown,
                format!(
                    "{consent} {} could not be tested with every sequence ({}); none of the \
                     others was taken as the end of the message.",
                    f.target,
                    why.join("; ")
                ),
            )
            .with_evidences(unknown.iter().map(|r| evidence(r)));
    }
    SMTP_SMUGGLING
        .finding(
            Status::Pass,
            format!(
                "{consent} {} took none of the seven sequences as the end of the message \
                 (each was kept as content or refused).",
                f.target
            ),
        )
        .with_evidences(f.results.iter().take(2).map(evidence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Conn, HttpRequest, HttpResponse, NetError};
    use futures::executor::block_on;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A fake MTA with a DATA mode: it ends a message at `<CR><LF>.<CR><LF>`
    /// and at each sequence in `also_ends`, and records every byte.
    #[derive(Clone, Default)]
    struct EodNet {
        also_ends: Vec<&'static [u8]>,
        /// Refuse messages containing a bare LF (Postfix's
        /// smtpd_forbid_bare_newline = reject).
        reject_bare_lf: bool,
        /// No PIPELINING: input left over after the end of a message ends
        /// the session with a 500 (OpenSMTPD).
        no_pipelining: bool,
        sent: Rc<RefCell<Vec<Vec<u8>>>>,
    }

    struct EodConn {
        net: EodNet,
        out: Vec<u8>,
        input: Vec<u8>,
        data: bool,
        closed: bool,
        idx: usize,
    }

    impl EodConn {
        fn answer(&mut self, text: &str) {
            self.out.extend_from_slice(text.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }

        fn run(&mut self) {
            loop {
                if self.closed {
                    return;
                }
                if self.data {
                    let mut ends: Vec<&[u8]> = vec![b"\r\n.\r\n"];
                    ends.extend(self.net.also_ends.iter().copied());
                    let hit = ends
                        .iter()
                        .filter_map(|e| {
                            self.input
                                .windows(e.len())
                                .position(|w| w == *e)
                                .map(|p| (p, e.len()))
                        })
                        .min();
                    let Some((p, n)) = hit else { return };
                    let body = self.input[..p].to_vec();
                    self.input.drain(..p + n);
                    self.data = false;
                    let bare_lf = body
                        .iter()
                        .enumerate()
                        .any(|(i, b)| *b == b'\n' && (i == 0 || body[i - 1] != b'\r'));
                    if self.net.reject_bare_lf && bare_lf {
                        self.answer("521 5.5.2 Error: bare <LF> received");
                        self.closed = true;
                        return;
                    }
                    if self.net.no_pipelining && !self.input.is_empty() {
                        self.answer("500 5.5.1 Invalid command: Pipelining not supported");
                        self.closed = true;
                        return;
                    }
                    self.answer("250 2.0.0 Ok: queued as TEST");
                    continue;
                }
                let Some(p) = self.input.iter().position(|b| *b == b'\n') else {
                    return;
                };
                let line: Vec<u8> = self.input.drain(..=p).collect();
                let cmd = String::from_utf8_lossy(&line).trim().to_ascii_uppercase();
                match cmd.split(' ').next().unwrap_or("") {
                    "EHLO" if self.net.no_pipelining => {
                        self.answer("250-mx.example.org\r\n250 8BITMIME")
                    }
                    "EHLO" => self.answer("250-mx.example.org\r\n250 PIPELINING"),
                    "MAIL" | "RCPT" | "NOOP" | "RSET" => self.answer("250 2.0.0 Ok"),
                    "DATA" => {
                        self.answer("354 End data with <CR><LF>.<CR><LF>");
                        self.data = true;
                    }
                    "QUIT" => {
                        self.answer("221 2.0.0 Bye");
                        self.closed = true;
                    }
                    _ => self.answer("500 5.5.2 Error: command not recognized"),
                }
            }
        }
    }

    impl Conn for EodConn {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
            if self.out.is_empty() {
                return if self.closed {
                    Ok(0)
                } else {
                    Err(NetError::Timeout(20_000))
                };
            }
            let n = buf.len().min(self.out.len());
            buf[..n].copy_from_slice(&self.out[..n]);
            self.out.drain(..n);
            Ok(n)
        }
        async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
            self.net.sent.borrow_mut()[self.idx].extend_from_slice(data);
            self.input.extend_from_slice(data);
            self.run();
            Ok(())
        }
        async fn close(&mut self) {}
    }

    impl Network for EodNet {
        type Conn = EodConn;
        async fn http(&self, _: HttpRequest) -> Result<HttpResponse, NetError> {
            Err(NetError::Other("no HTTP here".into()))
        }
        async fn tcp_connect(&self, _: &str, _: u16, _: u32) -> Result<EodConn, NetError> {
            let idx = {
                let mut s = self.sent.borrow_mut();
                s.push(Vec::new());
                s.len() - 1
            };
            Ok(EodConn {
                net: self.clone(),
                out: b"220 mx.example.org ESMTP\r\n".to_vec(),
                input: Vec::new(),
                data: false,
                closed: false,
                idx,
            })
        }
    }

    fn ip() -> IpAddr {
        "192.0.2.25".parse().unwrap()
    }

    fn run(net: &EodNet) -> FullSmuggling {
        block_on(full_test(
            net,
            &Consent::declared_by_owner(),
            "mx.example.org",
            ip(),
            &FullTestOptions::for_domain("example.org"),
        ))
    }

    #[test]
    fn a_server_ending_data_at_bare_lf_fails() {
        let net = EodNet {
            also_ends: vec![b"\n.\n", b"\r\n.\n"],
            ..EodNet::default()
        };
        let r = run(&net);
        assert_eq!(r.results.len(), 7);
        let smuggled: Vec<_> = r
            .results
            .iter()
            .filter(|s| s.outcome == Outcome::Smuggled)
            .map(|s| s.name)
            .collect();
        assert_eq!(smuggled, ["<LF>.<LF>", "<CR><LF>.<LF>"]);
        let f = judge_full(&r);
        assert_eq!(f.status, Status::Fail, "{}", f.detail);
        assert!(
            f.detail.contains("<LF>.<LF>, <CR><LF>.<LF>"),
            "{}",
            f.detail
        );
        assert!(f.detail.contains("--i-own-this-server"));
        // One message per sequence, each to the owner's postmaster.
        let sent = net.sent.borrow();
        assert_eq!(sent.len(), 7);
        for s in sent.iter() {
            let text = String::from_utf8_lossy(s);
            assert!(
                text.contains("RCPT TO:<postmaster@example.org>\r\n"),
                "{text}"
            );
            assert_eq!(text.matches("\r\nDATA\r\n").count(), 1, "{text}");
        }
    }

    #[test]
    fn a_strict_server_passes() {
        let r = run(&EodNet::default());
        assert!(
            r.results.iter().all(|s| s.outcome == Outcome::Ignored),
            "{:?}",
            r.results
        );
        assert_eq!(judge_full(&r).status, Status::Pass);
        let net = EodNet {
            reject_bare_lf: true,
            ..EodNet::default()
        };
        let r = run(&net);
        let refused = r
            .results
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Refused(_)))
            .count();
        // The three sequences with a bare LF: the message is refused.
        assert_eq!(refused, 3, "{:?}", r.results);
        assert_eq!(judge_full(&r).status, Status::Pass);
    }

    /// A server without PIPELINING (OpenSMTPD) is not sent QUIT with the
    /// message: only a sequence it takes as the end leaves input behind.
    #[test]
    fn a_server_without_pipelining_is_not_talked_ahead_of() {
        let net = EodNet {
            no_pipelining: true,
            ..EodNet::default()
        };
        let r = run(&net);
        assert!(
            r.results.iter().all(|s| s.outcome == Outcome::Ignored),
            "{:?}",
            r.results
        );
        for s in net.sent.borrow().iter() {
            let text = String::from_utf8_lossy(s);
            assert!(text.ends_with(".\r\nQUIT\r\n"), "{text}");
            assert_eq!(text.matches("QUIT").count(), 1, "{text}");
        }
        // It ends data at <LF>.<LF>, sees the smuggled NOOP waiting and
        // drops the session: the smuggled command is never run.
        let net = EodNet {
            no_pipelining: true,
            also_ends: vec![b"\n.\n"],
            ..EodNet::default()
        };
        let r = run(&net);
        for s in &r.results {
            if matches!(s.name, "<LF>.<LF>" | "<CR><LF>.<LF>") {
                assert!(
                    matches!(&s.outcome, Outcome::Refused(w) if w.contains("500")),
                    "{s:?}"
                );
            } else {
                assert_eq!(s.outcome, Outcome::Ignored, "{}", s.name);
            }
        }
        assert_eq!(judge_full(&r).status, Status::Pass);
    }

    #[test]
    fn sequences_are_the_seven_of_the_research() {
        assert_eq!(SEQUENCES.len(), 7);
        for (i, (_, a)) in SEQUENCES.iter().enumerate() {
            assert_ne!(*a, b"\r\n.\r\n");
            assert!(SEQUENCES[..i].iter().all(|(_, b)| b != a));
        }
    }

    #[test]
    fn ownership_proof_needs_the_exact_token() {
        let token = "Kq3v9ZcXw2LmT8aa";
        assert!(token_published(
            &["v=spf1 -all".into(), format!(" mailaudit-verify={token} ")],
            token
        ));
        assert!(!token_published(
            &[format!("mailaudit-verify={token}x")],
            token
        ));
        assert!(!token_published(&["mailaudit-verify=".into()], token));
        assert_eq!(ownership_name("example.org."), "_mailaudit.example.org");
        let net = crate::testing::ScriptedNet::new().txt(
            "_mailaudit.example.org",
            &format!("mailaudit-verify={token}"),
        );
        let r = Resolver::new(&net, "https://doh.test/dns-query");
        let ok = block_on(prove_ownership(&r, "example.org", token)).unwrap();
        assert!(ok.how().contains("_mailaudit.example.org"));
        let wrong = block_on(prove_ownership(&r, "example.org", "another-token-1234"));
        assert!(wrong.unwrap_err().contains("no TXT record"));
        let elsewhere = block_on(prove_ownership(&r, "example.net", token));
        assert!(elsewhere.is_err());
        assert!(block_on(prove_ownership(&r, "example.org", "short")).is_err());
    }

    /// Without consent, the ordinary probe against the same fake server
    /// never reaches DATA: every byte of every session is inspected.
    #[test]
    fn the_ungated_probe_never_sends_data() {
        let net = EodNet {
            also_ends: vec![b"\n.\n"],
            ..EodNet::default()
        };
        let p = block_on(super::super::probe_mx(
            &net,
            "mx.example.org",
            ip(),
            &super::super::ProbeOptions::default(),
        ));
        let sent = net.sent.borrow();
        assert!(sent.len() >= 2, "main and bare-LF sessions");
        for s in sent.iter() {
            let text = String::from_utf8_lossy(s).to_ascii_uppercase();
            for line in text.split('\n') {
                let line = line.trim_start();
                assert!(
                    !line.starts_with("DATA") && !line.starts_with("BDAT"),
                    "{text}"
                );
            }
        }
        assert!(p.commands_sent().iter().any(|c| c.starts_with("RCPT TO")));
        // And through the planner: no consent in the default options.
        assert!(crate::probe::plan::LiveOptions::default()
            .smuggling
            .is_none());
    }
}
