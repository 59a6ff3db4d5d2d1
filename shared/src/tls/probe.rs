//! Version and cipher-suite probing with hand-built ClientHellos
//! ([`super::hello`]): one fresh connection per question, each through a
//! caller-supplied `connect` function that returns a [`Conn`] ready for a
//! ClientHello — right after `220 Ready to start TLS` for STARTTLS, or the
//! bare TCP connection for implicit TLS (465).
//!
//! Questions run one after another (a mail server's connection-rate limits
//! and the Worker's six sockets both argue against fanning out).

use super::hello::{self, Answer, Offer, Parse, Weakness};
use crate::net::{Conn, NetError};
use std::future::Future;

/// The answer to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    NotAccepted,
    /// The question could not be settled (network error, odd answer).
    Unknown,
}

/// One question asked of the server, and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub verdict: Verdict,
    /// What was seen, for evidence ("ServerHello TLS 1.2,
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "alert protocol_version(70)",
    /// "could not connect: …").
    pub detail: String,
    /// The ServerHello's version and suite, when there was one.
    pub version: Option<u16>,
    pub suite: Option<u16>,
}

impl Probe {
    fn unknown(detail: impl Into<String>) -> Probe {
        Probe {
            verdict: Verdict::Unknown,
            detail: detail.into(),
            version: None,
            suite: None,
        }
    }

    pub fn accepted(&self) -> bool {
        self.verdict == Verdict::Accepted
    }
}

/// Sends the hello and reads the server's answer. Read errors are returned:
/// a network failure is not a "no".
pub async fn ask<C: Conn>(conn: &mut C, client_hello: &[u8]) -> Result<Answer, NetError> {
    conn.write_all(client_hello).await?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(Answer::Closed);
        }
        got.extend_from_slice(&buf[..n]);
        if let Parse::Done(answer) = hello::parse_answer(&got) {
            return Ok(answer);
        }
        if got.len() > hello::MAX_ANSWER {
            return Ok(Answer::NotTls("answer too long".into()));
        }
    }
}

/// Judges an answer to `offer`: did the server agree to exactly the
/// version asked and one of the suites offered?
pub fn judge_answer(offer: &Offer, answer: &Answer) -> Probe {
    match answer {
        Answer::Hello(h) => {
            let what = format!(
                "ServerHello {}, {}{}",
                hello::version_name(h.version),
                hello::suite_name(h.cipher_suite),
                if h.retry_request {
                    " (HelloRetryRequest)"
                } else {
                    ""
                }
            );
            let (verdict, detail) = if !offer.suites.contains(&h.cipher_suite) {
                (
                    Verdict::Unknown,
                    format!("{what}: a suite that was not offered (broken server)"),
                )
            } else if h.version == offer.version {
                (Verdict::Accepted, what)
            } else if h.version > offer.version {
                (
                    Verdict::NotAccepted,
                    format!("{what}: a higher version than offered (broken server)"),
                )
            } else {
                (
                    Verdict::NotAccepted,
                    format!("{what}: the server chose a lower version"),
                )
            };
            Probe {
                verdict,
                detail,
                version: Some(h.version),
                suite: Some(h.cipher_suite),
            }
        }
        Answer::Alert { description, .. } => {
            let detail = format!("alert {}", hello::alert_name(*description));
            // handshake_failure, protocol_version, insufficient_security and
            // close_notify are how servers say no.
            let verdict = if matches!(description, 0 | 40 | 70 | 71) {
                Verdict::NotAccepted
            } else {
                Verdict::Unknown
            };
            Probe {
                verdict,
                detail,
                version: None,
                suite: None,
            }
        }
        Answer::Closed => Probe {
            verdict: Verdict::NotAccepted,
            detail: "the server closed the connection".into(),
            version: None,
            suite: None,
        },
        Answer::NotTls(why) => Probe::unknown(format!("not a TLS answer: {why}")),
    }
}

/// One question on a fresh connection.
pub async fn question<F, Fut, C>(connect: &mut F, offer: &Offer) -> Probe
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<C, NetError>>,
    C: Conn,
{
    let mut conn = match connect().await {
        Ok(c) => c,
        Err(e) => return Probe::unknown(e.to_string()),
    };
    let answer = ask(&mut conn, &hello::client_hello(offer)).await;
    conn.close().await;
    match answer {
        Ok(a) => judge_answer(offer, &a),
        Err(e) => Probe::unknown(e.to_string()),
    }
}

/// Which protocol versions the server accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSupport {
    pub ssl3: Probe,
    pub tls10: Probe,
    pub tls11: Probe,
    pub tls12: Probe,
    pub tls13: Probe,
}

impl VersionSupport {
    /// (wire version, probe), oldest first.
    pub fn all(&self) -> [(u16, &Probe); 5] {
        [
            (hello::SSL3, &self.ssl3),
            (hello::TLS10, &self.tls10),
            (hello::TLS11, &self.tls11),
            (hello::TLS12, &self.tls12),
            (hello::TLS13, &self.tls13),
        ]
    }
}

fn offer(version: u16, server_name: Option<&str>) -> Offer {
    Offer {
        version,
        suites: match version {
            hello::TLS13 => hello::TLS13_SUITES.to_vec(),
            hello::TLS12 => hello::tls12_suites(),
            _ => hello::legacy_suites(),
        },
        server_name: server_name.map(str::to_string),
    }
}

/// Asks five questions, one connection each: does the server accept
/// SSLv3, TLS 1.0, TLS 1.1, TLS 1.2, TLS 1.3 (each offered alone)?
pub async fn probe_versions<F, Fut, C>(mut connect: F, server_name: Option<&str>) -> VersionSupport
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<C, NetError>>,
    C: Conn,
{
    let ssl3 = question(&mut connect, &offer(hello::SSL3, server_name)).await;
    let tls10 = question(&mut connect, &offer(hello::TLS10, server_name)).await;
    let tls11 = question(&mut connect, &offer(hello::TLS11, server_name)).await;
    let tls12 = question(&mut connect, &offer(hello::TLS12, server_name)).await;
    let tls13 = question(&mut connect, &offer(hello::TLS13, server_name)).await;
    VersionSupport {
        ssl3,
        tls10,
        tls11,
        tls12,
        tls13,
    }
}

/// A weak suite the server agreed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakAccepted {
    pub suite: u16,
    pub version: u16,
    pub weaknesses: Vec<Weakness>,
}

/// Which weak suites the server agrees to, and whether it has AEAD suites
/// on TLS 1.2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherSupport {
    pub weak: Vec<WeakAccepted>,
    /// Every weak-suite question asked, in order (evidence).
    pub probes: Vec<(String, Probe)>,
    /// Whether every weak-suite question was settled.
    pub complete: bool,
    /// TLS 1.2 with an AEAD suite: `None` when TLS 1.2 is not accepted
    /// (nothing to say), else the verdict.
    pub tls12_aead: Option<Verdict>,
}

impl CipherSupport {
    /// Weakness kinds found, without repeats.
    pub fn kinds(&self) -> Vec<Weakness> {
        let mut k: Vec<Weakness> = self
            .weak
            .iter()
            .flat_map(|w| w.weaknesses.iter().copied())
            .collect();
        k.sort();
        k.dedup();
        k
    }
}

/// Offers the weak suites alone (no strong suite the server could prefer):
/// every suite with a kind not yet found, in one hello; when the server
/// agrees, the kinds of the suite it chose are recorded and the question is
/// asked again without the suites that could show nothing new. A server
/// with nothing weak costs one connection per version tried.
///
/// Asked at TLS 1.2 (which a server also answers with 1.1 or 1.0 if those
/// are its best), and again at TLS 1.0 when the server accepts 1.0 or SSLv3
/// — EXPORT suites, for one, cannot be negotiated on TLS 1.1 and later.
/// When TLS 1.2 agreed to a CBC suite, one more question asks whether any
/// AEAD suite is accepted.
pub async fn probe_ciphers<F, Fut, C>(
    mut connect: F,
    server_name: Option<&str>,
    versions: &VersionSupport,
) -> CipherSupport
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<C, NetError>>,
    C: Conn,
{
    let mut out = CipherSupport {
        weak: Vec::new(),
        probes: Vec::new(),
        complete: true,
        tls12_aead: None,
    };
    let mut at = vec![hello::TLS12];
    if versions.tls10.accepted() || versions.ssl3.accepted() {
        at.push(hello::TLS10);
    }
    for version in at {
        let mut found: Vec<Weakness> = Vec::new();
        for _ in 0..Weakness::ALL.len() {
            let left: Vec<Weakness> = Weakness::ALL
                .into_iter()
                .filter(|k| !found.contains(k))
                .collect();
            // Suites that could still show something new.
            let suites = hello::weak_suites(&left);
            if suites.is_empty() {
                break;
            }
            let o = Offer {
                version,
                suites,
                server_name: server_name.map(str::to_string),
            };
            let mut p = question(&mut connect, &o).await;
            // The server may answer a 1.2 hello with 1.0: still a weak suite agreed.
            if let (Some(v), Some(s)) = (p.version, p.suite) {
                if p.verdict == Verdict::NotAccepted && v < version && o.suites.contains(&s) {
                    p.verdict = Verdict::Accepted;
                }
            }
            let names: Vec<&str> = left.iter().map(|k| k.name()).collect();
            out.probes.push((
                format!(
                    "{} with only {} suites",
                    hello::version_name(version),
                    names.join(", ")
                ),
                p.clone(),
            ));
            match (p.verdict, p.suite) {
                (Verdict::Accepted, Some(s)) => {
                    let kinds = hello::weaknesses(s).to_vec();
                    found.extend(kinds.iter().copied());
                    if !out.weak.iter().any(|w| w.suite == s) {
                        out.weak.push(WeakAccepted {
                            suite: s,
                            version: p.version.unwrap_or(version),
                            weaknesses: kinds,
                        });
                    }
                }
                (Verdict::NotAccepted, _) => break,
                _ => {
                    out.complete = false;
                    break;
                }
            }
        }
    }
    if versions.tls12.accepted() {
        let cbc = versions.tls12.suite.is_some_and(|s| !hello::is_aead(s));
        out.tls12_aead = Some(if !cbc {
            Verdict::Accepted
        } else {
            let o = Offer {
                version: hello::TLS12,
                suites: hello::aead_suites(),
                server_name: server_name.map(str::to_string),
            };
            let p = question(&mut connect, &o).await;
            out.probes
                .push(("TLS 1.2 with only AEAD suites".into(), p.clone()));
            p.verdict
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::hello::testutil::{read_client_hello, server_hello_record};
    use crate::tls::hello::{TLS10, TLS11, TLS12, TLS13};
    use futures::executor::block_on;
    use std::cell::Cell;

    /// A server that negotiates like OpenSSL: the highest common version,
    /// its own preferred common suite; else a fatal alert.
    #[derive(Clone)]
    struct FakeServer {
        versions: Vec<u16>,
        /// In server preference order.
        suites: Vec<u16>,
        /// Close instead of alerting.
        silent: bool,
    }

    struct FakeConn {
        server: FakeServer,
        out: Vec<u8>,
        pos: usize,
    }

    impl Conn for FakeConn {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
            // One byte at a time: the reader must reassemble.
            if self.pos >= self.out.len() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.out[self.pos];
            self.pos += 1;
            Ok(1)
        }
        async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
            let (legacy, offered, sv) = read_client_hello(data).expect("our hello parses");
            let client_versions: Vec<u16> = if sv.is_empty() {
                (hello::SSL3..=legacy).collect()
            } else {
                sv
            };
            let s = &self.server;
            let version = s
                .versions
                .iter()
                .copied()
                .filter(|v| client_versions.contains(v))
                .max();
            let suite = s.suites.iter().copied().find(|c| {
                offered.contains(c) && (hello::TLS13_SUITES.contains(c) == (version == Some(TLS13)))
            });
            self.out = match (version, suite) {
                (Some(v), Some(c)) => server_hello_record(v, c, v == TLS13),
                _ if s.silent => Vec::new(),
                (None, _) => vec![21, 3, 1, 0, 2, 2, 70],
                _ => vec![21, 3, 3, 0, 2, 2, 40],
            };
            Ok(())
        }
        async fn close(&mut self) {}
    }

    fn connector<'a>(
        server: &'a FakeServer,
        count: &'a Cell<usize>,
    ) -> impl FnMut() -> std::future::Ready<Result<FakeConn, NetError>> + 'a {
        move || {
            count.set(count.get() + 1);
            std::future::ready(Ok(FakeConn {
                server: server.clone(),
                out: Vec::new(),
                pos: 0,
            }))
        }
    }

    fn modern() -> FakeServer {
        FakeServer {
            versions: vec![TLS12, TLS13],
            suites: vec![0x1302, 0x1301, 0xc030, 0xc02f, 0xc014, 0xc013],
            silent: false,
        }
    }

    #[test]
    fn modern_server() {
        let n = Cell::new(0);
        let v = block_on(probe_versions(
            connector(&modern(), &n),
            Some("mx.example.org"),
        ));
        assert_eq!(n.get(), 5, "one connection per version");
        assert_eq!(v.ssl3.verdict, Verdict::NotAccepted);
        assert_eq!(v.tls10.verdict, Verdict::NotAccepted);
        assert!(
            v.tls10.detail.contains("protocol_version"),
            "{}",
            v.tls10.detail
        );
        assert_eq!(v.tls11.verdict, Verdict::NotAccepted);
        assert_eq!(v.tls12.verdict, Verdict::Accepted);
        assert_eq!(v.tls12.suite, Some(0xc030));
        assert_eq!(v.tls13.verdict, Verdict::Accepted);
        let f = judge_versions_pass(&v);
        assert_eq!(f, crate::Status::Pass);
        let n = Cell::new(0);
        let c = block_on(probe_ciphers(connector(&modern(), &n), None, &v));
        assert_eq!(n.get(), 1, "nothing weak: one question, AEAD seen already");
        assert!(c.weak.is_empty() && c.complete);
        assert_eq!(c.tls12_aead, Some(Verdict::Accepted));
    }

    fn judge_versions_pass(v: &VersionSupport) -> crate::Status {
        crate::tls::rules::judge_versions("mx.example.org:25", v).status
    }

    #[test]
    fn legacy_server_with_weak_suites() {
        let server = FakeServer {
            versions: vec![TLS10, TLS11, TLS12],
            suites: vec![0xc013, 0x0005, 0x000a, 0x0003, 0x0034],
            silent: true,
        };
        let n = Cell::new(0);
        let v = block_on(probe_versions(connector(&server, &n), None));
        assert_eq!(v.ssl3.verdict, Verdict::NotAccepted);
        assert_eq!(v.ssl3.detail, "the server closed the connection");
        assert!(v.tls10.accepted() && v.tls11.accepted() && v.tls12.accepted());
        assert_eq!(v.tls13.verdict, Verdict::NotAccepted);
        let f = crate::tls::rules::judge_versions("mx:25", &v);
        assert_eq!(f.status, crate::Status::Fail);
        assert_eq!(f.severity, crate::Severity::High);
        assert!(f.detail.contains("TLS 1.0, TLS 1.1"), "{}", f.detail);

        let n = Cell::new(0);
        let c = block_on(probe_ciphers(connector(&server, &n), None, &v));
        let kinds = c.kinds();
        assert!(kinds.contains(&Weakness::Rc4), "{c:?}");
        assert!(kinds.contains(&Weakness::TripleDes), "{c:?}");
        assert!(kinds.contains(&Weakness::Anonymous), "{c:?}");
        assert!(
            kinds.contains(&Weakness::Export),
            "EXPORT found on TLS 1.0: {c:?}"
        );
        assert_eq!(c.tls12_aead, Some(Verdict::NotAccepted), "CBC only");
        assert!(c.complete);
        let f = crate::tls::rules::judge_ciphers("mx:25", &c);
        assert_eq!(f.status, crate::Status::Fail);
        assert!(
            f.detail.contains("TLS_RSA_WITH_RC4_128_SHA"),
            "{}",
            f.detail
        );
        // Bounded: rounds per version never exceed the kinds.
        assert!(n.get() <= 2 * Weakness::ALL.len() + 1, "{}", n.get());
    }

    #[test]
    fn cbc_only_is_low() {
        let server = FakeServer {
            versions: vec![TLS12, TLS13],
            suites: vec![0x1301, 0xc013, 0xc014],
            silent: false,
        };
        let n = Cell::new(0);
        let v = block_on(probe_versions(connector(&server, &n), None));
        let c = block_on(probe_ciphers(connector(&server, &n), None, &v));
        assert_eq!(c.tls12_aead, Some(Verdict::NotAccepted));
        let f = crate::tls::rules::judge_ciphers("mx:25", &c);
        assert_eq!(
            (f.status, f.severity),
            (crate::Status::Fail, crate::Severity::Low)
        );
    }

    #[test]
    fn network_errors_are_unknown_not_no() {
        let connect = || std::future::ready(Err::<FakeConn, _>(NetError::Timeout(5000)));
        let v = block_on(probe_versions(connect, None));
        for (_, p) in v.all() {
            assert_eq!(p.verdict, Verdict::Unknown);
            assert!(p.detail.contains("timed out"));
        }
        let f = crate::tls::rules::judge_versions("mx:25", &v);
        assert_eq!(f.status, crate::Status::Unknown);
        let c = block_on(probe_ciphers(connect, None, &v));
        assert!(!c.complete);
        assert_eq!(
            crate::tls::rules::judge_ciphers("mx:25", &c).status,
            crate::Status::Unknown
        );
    }

    #[test]
    fn odd_answers() {
        let o = Offer {
            version: TLS11,
            suites: vec![0xc013],
            server_name: None,
        };
        // A higher version than offered is not acceptance.
        let h = |version, cipher_suite| {
            Answer::Hello(hello::ServerHello {
                version,
                legacy_version: version,
                cipher_suite,
                compression: 0,
                retry_request: false,
            })
        };
        assert_eq!(
            judge_answer(&o, &h(TLS12, 0xc013)).verdict,
            Verdict::NotAccepted
        );
        assert_eq!(
            judge_answer(&o, &h(TLS11, 0x0005)).verdict,
            Verdict::Unknown
        );
        assert_eq!(
            judge_answer(&o, &h(TLS11, 0xc013)).verdict,
            Verdict::Accepted
        );
        let decode = Answer::Alert {
            level: 2,
            description: 50,
        };
        assert_eq!(judge_answer(&o, &decode).verdict, Verdict::Unknown);
        assert_eq!(
            judge_answer(&o, &Answer::NotTls("x".into())).verdict,
            Verdict::Unknown
        );
    }
}
