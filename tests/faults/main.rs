//! Fault injection (issue 7): the `mailaudit audit` binary against a
//! misbehaving DNS-over-HTTPS server ([`doh`]) and misbehaving SMTP
//! servers ([`smtp`]), all on loopback (127.77.0.0/24; binding port 25
//! needs root, as CI runs).
//!
//! Every row is its own domain `<row>.fault.test` with its own mail server
//! on `127.77.0.<n>:25`. Each row is audited twice, the rows concurrently:
//! first healthy (the baseline), then with the fault switched on. For each
//! fault the test asserts: the audit ends within its deadline and exits
//! without a panic; no check the fault touches passes; the touched checks
//! have the expected status and reason; every other check has exactly the
//! baseline's status and text; the child's peak RSS stays under
//! [`RSS_CAP_KB`].
//!
//! `UPDATE_DOCS=1` rewrites docs/reliability.md from the run; otherwise the
//! deterministic part of the table must match the committed file.

mod doh;
mod pki;
mod smtp;

use doh::Reply;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{CNAME, MX, PTR, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use mailaudit_core::report::{Report, Status};
use smtp::Mode;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Peak resident memory any audit may reach (KiB). A healthy audit takes
/// about 20 MB.
const RSS_CAP_KB: u64 = 200 * 1024;
const DOH_IP: Ipv4Addr = Ipv4Addr::new(127, 77, 0, 1);
const DKIM_2048: &str = include_str!("../../shared/tests/data/dkim/rsa2048.spki.b64");

/// A fault in the DoH server's answer to one question.
#[derive(Clone, Copy, Debug)]
enum DnsFault {
    ServFail,
    Refused,
    Silent,
    CutShort,
    Garbled,
    /// TC bit set, only the first (non-SPF) TXT record sent.
    TcBit,
    /// `name CNAME loop.<d>`, `loop.<d> CNAME name`, NOERROR.
    CnameLoop,
    /// 10 MB body: 2,600 TXT records of 4,080 bytes.
    Huge,
}

/// What the faulty zone changes besides per-question faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spf {
    Normal,
    IncludeLoop,
    Bomb,
}

/// What the fault's checks must show.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// `unknown`, the detail containing this text.
    Unknown(&'static str),
    /// This status (a truthful verdict, e.g. a looping SPF record is a
    /// permerror), the detail containing the text. Never `pass`.
    Verdict(Status, &'static str),
    /// The row changed what this check reads (the SPF rows publish another
    /// record; a 421 still shows its greeting), and the check judges that
    /// truthfully: this status, the detail containing the text. The only
    /// kind of entry that may be `pass`.
    Rejudged(Status, &'static str),
}

struct Row {
    key: &'static str,
    fault: &'static str,
    injected: &'static str,
    octet: u8,
    dns: &'static [(&'static str, Option<RecordType>, DnsFault)],
    spf: Spf,
    smtp: Mode,
    /// `--deadline` of the fault audit (s).
    deadline: u32,
    /// Rule ids (or `prefix.` for an area) the fault touches; each with
    /// its expectation. Checks matching none must equal the baseline.
    affected: &'static [(&'static str, Expect)],
}

fn rows() -> Vec<Row> {
    use DnsFault::*;
    use Expect::*;
    vec![
        Row {
            key: "servfail",
            fault: "DoH SERVFAIL",
            injected: "`_dmarc` TXT answered rcode SERVFAIL",
            octet: 10,
            dns: &[("_dmarc", Some(RecordType::TXT), ServFail)],
            spf: Spf::Normal,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("dmarc.", Unknown("resolver answered SERVFAIL")), ("bimi.record", Rejudged(Status::Info, "publishes no BIMI record"))],
        },
        Row {
            key: "refused",
            fault: "DoH REFUSED",
            injected: "apex TXT (SPF) answered rcode REFUSED",
            octet: 11,
            dns: &[("", Some(RecordType::TXT), Refused)],
            spf: Spf::Normal,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("spf.", Unknown("resolver answered REFUSED"))],
        },
        Row {
            key: "timeout",
            fault: "DoH timeout",
            injected: "apex MX never answered (HTTP/2 stream left open)",
            octet: 12,
            dns: &[("", Some(RecordType::MX), Silent)],
            spf: Spf::Normal,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("smtp.", Unknown("No MX host with an address is known")), ("tls.", Unknown("No MX host with an address is known")), ("dns.mx", Unknown("timed out")), ("dns.ptr", Unknown("timed out")),
                ("dns.dnssec", Unknown("timed out")),
                ("provider.hosted", Unknown("timed out")), ("dane.tlsa", Unknown("timed out")), ("blocklist.ip", Unknown("timed out")), ("spf.", Unknown("timed out"))],
        },
        Row {
            key: "truncated",
            fault: "truncated DNS message",
            injected: "`default._domainkey` TXT: the answer's first half only (ends mid-record)",
            octet: 13,
            dns: &[("default._domainkey", Some(RecordType::TXT), CutShort)],
            spf: Spf::Normal,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("dkim.", Unknown("malformed DNS message"))],
        },
        Row {
            key: "tcbit",
            fault: "truncated answer (TC bit)",
            injected: "apex TXT: TC=1 and only the first of its two records",
            octet: 14,
            dns: &[("", Some(RecordType::TXT), TcBit)],
            spf: Spf::Normal,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("spf.", Unknown("truncated answer (TC bit set)"))],
        },
        Row {
            key: "garbled",
            fault: "garbled DNS message",
            injected: "`_smtp._tls` TXT: 512 random bytes as `application/dns-message`",
            octet: 15,
            dns: &[("_smtp._tls", Some(RecordType::TXT), Garbled)],
            spf: Spf::Normal,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("tlsrpt.record", Unknown("malformed DNS message"))],
        },
        Row {
            key: "cnameloop",
            fault: "CNAME loop",
            injected: "`_dmarc` CNAME `loop`, `loop` CNAME `_dmarc`, NOERROR, no TXT",
            octet: 16,
            dns: &[("_dmarc", None, CnameLoop)],
            spf: Spf::Normal,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("dmarc.", Unknown("CNAME loop")), ("bimi.record", Rejudged(Status::Info, "publishes no BIMI record"))],
        },
        Row {
            key: "spfloop",
            fault: "SPF include loop",
            injected: "`v=spf1 include:loop.<d> -all`; `loop.<d>`: `v=spf1 include:<d> -all`",
            octet: 17,
            dns: &[],
            spf: Spf::IncludeLoop,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("spf.lookup_limit", Verdict(Status::Fail, "RFC 7208 allows 10")), ("spf.mx_not_authorized", Verdict(Status::Fail, "permerror")), ("spf.all_permissive", Rejudged(Status::Pass, "ends in -all")), ("spf.syntax", Rejudged(Status::Pass, "valid RFC 7208")), ("spf.size", Rejudged(Status::Pass, "at most 512 advised"))],
        },
        Row {
            key: "spfbomb",
            fault: "SPF fan-out bomb",
            injected: "12 includes at the apex, each with 10 includes + `a` + `mx`, 6 levels deep (10^6 names)",
            octet: 18,
            dns: &[],
            spf: Spf::Bomb,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("spf.lookup_limit", Verdict(Status::Fail, "RFC 7208 allows 10")), ("spf.mx_not_authorized", Verdict(Status::Fail, "permerror")), ("spf.all_permissive", Rejudged(Status::Pass, "ends in -all")), ("spf.syntax", Rejudged(Status::Pass, "valid RFC 7208")), ("spf.size", Rejudged(Status::Warn, "255 bytes"))],
        },
        Row {
            key: "hugetxt",
            fault: "10 MB TXT answer",
            injected: "apex TXT: a 10.6 MB DoH body (a DNS message of 2,600 TXT records of 4 KB; DNS over UDP/TCP cannot carry more than 64 KB, DoH's HTTP body has no length prefix)",
            octet: 19,
            dns: &[("", Some(RecordType::TXT), Huge)],
            spf: Spf::Normal,
            smtp: Mode::Healthy,
            deadline: 60,
            affected: &[("spf.", Unknown("answer too large: response larger than 65535 bytes"))],
        },
        Row {
            key: "tarpit",
            fault: "SMTP tarpit",
            injected: "one byte a second, a greeting that never ends (`--deadline 15`)",
            octet: 20,
            dns: &[],
            spf: Spf::Normal,
            smtp: Mode::Tarpit,
            // Room for the DNS checks to finish first on a loaded machine.
            deadline: 15,
            affected: &[("smtp.", Unknown("deadline")), ("tls.", Unknown("deadline")), ("dane.tlsa", Unknown("deadline"))],
        },
        Row {
            key: "silent",
            fault: "SMTP never answers",
            injected: "accepts the connection, sends nothing",
            octet: 21,
            dns: &[],
            spf: Spf::Normal,
            smtp: Mode::Silent,
            deadline: 60,
            affected: &[("smtp.", Unknown("timed out after 20000 ms")), ("tls.", Unknown("ended before the server accepted EHLO"))],
        },
        Row {
            key: "hugebanner",
            fault: "SMTP 1 MB banner",
            injected: "a 1 MB multi-line `220-` greeting",
            octet: 22,
            dns: &[],
            spf: Spf::Normal,
            smtp: Mode::HugeBanner,
            deadline: 60,
            affected: &[("smtp.", Unknown("reply of more than 100 lines")), ("tls.", Unknown("ended before the server accepted EHLO"))],
        },
        Row {
            key: "resettls",
            fault: "reset mid-STARTTLS",
            injected: "`220` to STARTTLS, reads the ClientHello, then a TCP RST",
            octet: 23,
            dns: &[],
            spf: Spf::Normal,
            smtp: Mode::ResetMidStartTls,
            deadline: 60,
            affected: &[("tls.ciphers", Unknown("not all answered")), ("tls.", Unknown("Connection reset by peer"))],
        },
        Row {
            key: "garbagetls",
            fault: "STARTTLS answered with garbage",
            injected: "`220` to STARTTLS, then 4 KB of random bytes instead of a ServerHello",
            octet: 24,
            dns: &[],
            spf: Spf::Normal,
            smtp: Mode::GarbageStartTls,
            deadline: 60,
            affected: &[("tls.ciphers", Unknown("not all answered")), ("tls.versions", Unknown("not a TLS answer")), ("tls.", Unknown("handshake failed"))],
        },
        Row {
            key: "longchain",
            fault: "50-certificate chain",
            injected: "TLS serves the leaf + 49 intermediates (a valid path of depth 50 to the trusted CA)",
            octet: 25,
            dns: &[],
            spf: Spf::Normal,
            smtp: Mode::LongChain,
            deadline: 60,
            affected: &[("tls.cert_chain", Verdict(Status::Fail, "MaximumPathDepthExceeded"))],
        },
        Row {
            key: "close421",
            fault: "421 after EHLO",
            injected: "greets `220`, answers EHLO (and HELO) `421` and closes",
            octet: 26,
            dns: &[],
            spf: Spf::Normal,
            smtp: Mode::Close421AfterEhlo,
            deadline: 60,
            affected: &[("smtp.helo_name", Rejudged(Status::Pass, "its EHLO reply was not seen")), ("smtp.", Unknown("421")), ("tls.", Unknown("ended before the server accepted EHLO"))],
        },
    ]
}

fn domain(row: &Row) -> String {
    format!("{}.fault.test", row.key)
}

fn row_ip(row: &Row) -> Ipv4Addr {
    Ipv4Addr::new(127, 77, 0, row.octet)
}

/// Per-row state the DoH server reads.
struct RowState {
    domain: String,
    ip: Ipv4Addr,
    dns: &'static [(&'static str, Option<RecordType>, DnsFault)],
    spf: Spf,
    faulty: AtomicBool,
    /// Questions answered while faulty.
    fault_queries: AtomicUsize,
}

fn name(s: &str) -> Name {
    Name::from_ascii(format!("{s}.")).expect("name")
}

fn txt(owner: &str, text: &str) -> Record {
    let parts: Vec<String> = text
        .as_bytes()
        .chunks(255)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    Record::from_rdata(name(owner), 300, RData::TXT(TXT::new(parts)))
}

fn rec(owner: &str, data: RData) -> Record {
    Record::from_rdata(name(owner), 300, data)
}

/// The zone as served: `None` for a name that does not exist.
fn records(st: &RowState, qname: &str, qtype: RecordType, faulty: bool) -> Option<Vec<Record>> {
    let d = &st.domain;
    let rel = qname
        .strip_suffix(d.as_str())
        .map(|r| r.trim_end_matches('.'));
    let ptr = format!(
        "{}.{}.{}.{}.in-addr.arpa",
        st.ip.octets()[3],
        st.ip.octets()[2],
        st.ip.octets()[1],
        st.ip.octets()[0]
    );
    if qname == ptr {
        return Some(match qtype {
            RecordType::PTR => vec![rec(qname, RData::PTR(PTR(name(&format!("mx.{d}")))))],
            _ => vec![],
        });
    }
    let spf = if faulty { st.spf } else { Spf::Normal };
    let rel = rel?;
    let answer = |v: Vec<Record>| Some(v);
    match (rel, qtype) {
        ("", RecordType::MX) => answer(vec![rec(
            d,
            RData::MX(MX::new(10, name(&format!("mx.{d}")))),
        )]),
        ("", RecordType::TXT) => {
            let first = match spf {
                Spf::Normal => "v=spf1 mx -all".to_string(),
                Spf::IncludeLoop => format!("v=spf1 include:loop.{d} -all"),
                Spf::Bomb => {
                    let inc: Vec<String> =
                        (0..12).map(|i| format!("include:b{i:02}.{d}")).collect();
                    format!("v=spf1 {} -all", inc.join(" "))
                }
            };
            // Canonical order puts "fault-…" before "v=spf1 …".
            answer(vec![
                txt(d, "fault-suite-site-verification=1"),
                txt(d, &first),
            ])
        }
        ("mx", RecordType::A) => answer(vec![rec(qname, RData::A(st.ip.into()))]),
        ("_dmarc", RecordType::TXT) => answer(vec![txt(
            qname,
            &format!("v=DMARC1; p=reject; rua=mailto:dmarc@{d}"),
        )]),
        ("default._domainkey", RecordType::TXT) => answer(vec![txt(
            qname,
            &format!("v=DKIM1; k=rsa; p={}", DKIM_2048.trim()),
        )]),
        ("_smtp._tls", RecordType::TXT) => answer(vec![txt(
            qname,
            &format!("v=TLSRPTv1; rua=mailto:tlsrpt@{d}"),
        )]),
        ("loop", RecordType::TXT) if spf == Spf::IncludeLoop => {
            answer(vec![txt(qname, &format!("v=spf1 include:{d} -all"))])
        }
        (r, t)
            if spf == Spf::Bomb
                && r.starts_with('b')
                && r[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            if t != RecordType::TXT {
                return answer(vec![]);
            }
            let path = &r[1..];
            if path.len() >= 7 {
                return answer(vec![txt(qname, "v=spf1 -all")]);
            }
            let inc: Vec<String> = (0..10).map(|i| format!("include:b{path}{i}.{d}")).collect();
            answer(vec![txt(
                qname,
                &format!("v=spf1 {} a:x{path}.{d} mx:x{path}.{d} -all", inc.join(" ")),
            )])
        }
        ("" | "mx" | "_dmarc" | "default._domainkey" | "_smtp._tls", _) => answer(vec![]),
        ("loop", _) if spf == Spf::IncludeLoop => answer(vec![]),
        _ => None,
    }
}

fn answer_fn(states: Arc<Vec<Arc<RowState>>>, huge: bytes::Bytes) -> Arc<doh::AnswerFn> {
    Arc::new(move |qname: &str, qtype: RecordType| {
        let st = states.iter().find(|s| {
            qname == s.domain
                || qname.ends_with(&format!(".{}", s.domain))
                || qname.ends_with(&format!("{}.0.77.127.in-addr.arpa", s.ip.octets()[3]))
                    && qname.starts_with(&format!("{}.", s.ip.octets()[3]))
        });
        let Some(st) = st else {
            return Reply::Dns {
                rcode: ResponseCode::NXDomain,
                answers: vec![],
                truncated: false,
            };
        };
        let faulty = st.faulty.load(Ordering::SeqCst);
        if faulty {
            st.fault_queries.fetch_add(1, Ordering::SeqCst);
            let rel = qname
                .strip_suffix(st.domain.as_str())
                .map(|r| r.trim_end_matches('.'));
            for (at, t, fault) in st.dns {
                if rel != Some(*at) || t.is_some_and(|t| t != qtype) {
                    continue;
                }
                let real = records(st, qname, qtype, true).unwrap_or_default();
                return match fault {
                    DnsFault::ServFail | DnsFault::Refused => Reply::Dns {
                        rcode: if matches!(fault, DnsFault::ServFail) {
                            ResponseCode::ServFail
                        } else {
                            ResponseCode::Refused
                        },
                        answers: vec![],
                        truncated: false,
                    },
                    DnsFault::Silent => Reply::Silent,
                    DnsFault::CutShort => Reply::CutShort(real),
                    DnsFault::Garbled => Reply::Garbled,
                    DnsFault::TcBit => Reply::Dns {
                        rcode: ResponseCode::NoError,
                        answers: real.into_iter().take(1).collect(),
                        truncated: true,
                    },
                    DnsFault::CnameLoop => {
                        let other = format!("loop.{}", st.domain);
                        Reply::Dns {
                            rcode: ResponseCode::NoError,
                            answers: vec![
                                rec(qname, RData::CNAME(CNAME(name(&other)))),
                                rec(&other, RData::CNAME(CNAME(name(qname)))),
                            ],
                            truncated: false,
                        }
                    }
                    DnsFault::Huge => Reply::Raw(huge.clone()),
                };
            }
        }
        match records(st, qname, qtype, faulty) {
            Some(answers) => Reply::Dns {
                rcode: ResponseCode::NoError,
                answers,
                truncated: false,
            },
            None => Reply::Dns {
                rcode: ResponseCode::NXDomain,
                answers: vec![],
                truncated: false,
            },
        }
    })
}

fn tls_config(
    (chain, key): &(
        Vec<rustls::pki_types::CertificateDer<'static>>,
        rustls::pki_types::PrivateKeyDer<'static>,
    ),
    alpn: &[&[u8]],
) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut c = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain.clone(), key.clone_key())
        .expect("cert");
    c.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(c)
}

/// One run of the CLI.
struct Run {
    report: Option<Report>,
    exit: i32,
    signal: i32,
    stderr: String,
    wall: Duration,
    max_rss_kb: u64,
}

fn run_cli(domain: &str, resolver: &str, ca: &PathBuf, deadline: u32) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailaudit"))
        .args(["audit", domain, "--resolver", resolver, "--ca-file"])
        .arg(ca)
        .args(["--format", "json", "--deadline", &deadline.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailaudit");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut b);
        b
    });
    // A hard stop well past the deadline: a hang fails the row, not the suite.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let limit = Duration::from_secs(u64::from(deadline) + 30);
    std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            // SAFETY: kill(2) on our own child's pid, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4(2).
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; std's Child is not waited on after.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let _ = done_tx.send(());
    assert_eq!(r, pid, "wait4 failed");
    let wall = started.elapsed();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    let (exit, signal) = if libc::WIFEXITED(status) {
        (libc::WEXITSTATUS(status), 0)
    } else {
        (-1, libc::WTERMSIG(status))
    };
    std::mem::forget(child);
    Run {
        report: serde_json::from_slice(&stdout).ok(),
        exit,
        signal,
        stderr,
        wall,
        max_rss_kb: ru.ru_maxrss as u64,
    }
}

/// What a finding says, with the run-specific parts (the random VRFY
/// local part) masked.
fn said(status: Status, detail: &str) -> String {
    let mut d = detail.to_string();
    while let Some(i) = d.find("mailaudit-") {
        let end = d[i + 10..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .map(|e| i + 10 + e)
            .unwrap_or(d.len());
        // Each turn removes one occurrence: this ends.
        d.replace_range(i..end, "<random>");
    }
    format!("{}: {d}", status.as_str())
}

struct Outcome {
    key: &'static str,
    fault: &'static str,
    injected: &'static str,
    run: Run,
    baseline: Run,
    queries: usize,
    connections: usize,
    /// Checks that differ from the baseline: (id, baseline, fault).
    changed: Vec<(String, String, String)>,
}

#[test]
fn faults() {
    if unsafe { libc::geteuid() } != 0 && std::env::var_os("BED_REQUIRED").is_none() {
        eprintln!("faults: skipped (binding port 25 needs root; CI runs as root)");
        return;
    }
    let rows = rows();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mx_names: Vec<String> = rows.iter().map(|r| format!("mx.{}", domain(r))).collect();
    let pki = pki::make(&DOH_IP.to_string(), &mx_names);
    let dir = std::env::temp_dir().join(format!("mailaudit-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("ca");
    let states: Arc<Vec<Arc<RowState>>> = Arc::new(
        rows.iter()
            .map(|r| {
                Arc::new(RowState {
                    domain: domain(r),
                    ip: row_ip(r),
                    dns: r.dns,
                    spf: r.spf,
                    faulty: AtomicBool::new(false),
                    fault_queries: AtomicUsize::new(0),
                })
            })
            .collect(),
    );
    let huge = bytes::Bytes::from(doh::huge_txt_message("hugetxt.fault.test", 2600, 4096));
    assert!(huge.len() > 10_000_000, "{}", huge.len());
    let doh_tls = tls_config(&pki.doh, &[b"h2", b"http/1.1"]);
    let doh_addr = rt
        .block_on(doh::serve(
            SocketAddr::from((DOH_IP, 0)),
            doh_tls,
            answer_fn(states.clone(), huge),
        ))
        .expect("DoH server on 127.77.0.1");
    let resolver = format!("https://{doh_addr}/dns-query");
    let healthy_tls = tokio_rustls::TlsAcceptor::from(tls_config(&pki.mail, &[]));
    let long_tls = tokio_rustls::TlsAcceptor::from(tls_config(&pki.long_chain, &[]));
    let mut servers = Vec::new();
    for r in &rows {
        let s = Arc::new(smtp::Server {
            faulty: AtomicBool::new(false),
            mode: r.smtp,
            host: format!("mx.{}", domain(r)),
            domain: domain(r),
            healthy_tls: healthy_tls.clone(),
            long_tls: long_tls.clone(),
            fault_connections: AtomicUsize::new(0),
        });
        rt.block_on(s.clone().listen(SocketAddr::from((row_ip(r), 25))))
            .unwrap_or_else(|e| panic!("SMTP server on {}:25: {e}", row_ip(r)));
        servers.push(s);
    }
    let started = Instant::now();
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .iter()
            .zip(states.iter())
            .zip(servers.iter())
            .map(|((row, st), srv)| {
                let resolver = resolver.clone();
                let ca = ca.clone();
                scope.spawn(move || {
                    let d = domain(row);
                    let baseline = run_cli(&d, &resolver, &ca, 60);
                    st.faulty.store(true, Ordering::SeqCst);
                    srv.faulty.store(true, Ordering::SeqCst);
                    let run = run_cli(&d, &resolver, &ca, row.deadline);
                    let mut changed = Vec::new();
                    if let (Some(b), Some(f)) = (&baseline.report, &run.report) {
                        for ff in &f.findings {
                            let bf = b.findings.iter().find(|x| x.id == ff.id);
                            let was = bf.map(|x| said(x.status, &x.detail)).unwrap_or_default();
                            let now = said(ff.status, &ff.detail);
                            if was != now {
                                changed.push((ff.id.clone(), was, now));
                            }
                        }
                    }
                    Outcome {
                        key: row.key,
                        fault: row.fault,
                        injected: row.injected,
                        queries: st.fault_queries.load(Ordering::SeqCst),
                        connections: srv.fault_connections.load(Ordering::SeqCst),
                        run,
                        baseline,
                        changed,
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("row thread"))
            .collect()
    });
    let total = started.elapsed();
    for o in &outcomes {
        eprintln!(
            "== {} ({}): exit {} sig {} in {:.1} s, {} KB; baseline {:.1} s {} KB; {} queries, {} connections",
            o.key,
            o.fault,
            o.run.exit,
            o.run.signal,
            o.run.wall.as_secs_f64(),
            o.run.max_rss_kb,
            o.baseline.wall.as_secs_f64(),
            o.baseline.max_rss_kb,
            o.queries,
            o.connections
        );
        for (id, was, now) in &o.changed {
            eprintln!("   {id}\n      was {was}\n      now {now}");
        }
        if !o.run.stderr.is_empty() {
            eprintln!("   stderr: {}", o.run.stderr.trim());
        }
    }
    eprintln!("total {:.1} s", total.as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
    let mut problems = Vec::new();
    for (row, o) in rows.iter().zip(&outcomes) {
        problems.extend(
            check(row, o)
                .into_iter()
                .map(|p| format!("{}: {p}", row.key)),
        );
    }
    document(&rows, &outcomes, total, &mut problems);
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Whether rule `id` is in a row's list (`"smtp."` names an area).
fn listed(list: &[(&str, Expect)], id: &str) -> Option<Expect> {
    list.iter()
        .find(|(p, _)| {
            if p.ends_with('.') {
                id.starts_with(p)
            } else {
                id == *p
            }
        })
        .map(|(_, e)| *e)
}

/// Everything a row must show; the problems found.
fn check(row: &Row, o: &Outcome) -> Vec<String> {
    let mut p = Vec::new();
    for (what, r) in [("baseline", &o.baseline), ("fault", &o.run)] {
        if r.signal != 0 || !(r.exit == 0 || r.exit == 1) {
            p.push(format!(
                "{what} audit exit {} signal {}: {}",
                r.exit, r.signal, r.stderr
            ));
        }
        if r.stderr.contains("panicked") {
            p.push(format!("{what} audit panicked: {}", r.stderr));
        }
        if r.report.is_none() {
            p.push(format!("{what} audit printed no JSON report"));
        }
        if r.max_rss_kb > RSS_CAP_KB {
            p.push(format!(
                "{what} audit peak RSS {} KiB > {RSS_CAP_KB}",
                r.max_rss_kb
            ));
        }
    }
    // The deadline, plus start-up and printing (a loaded CI machine).
    let limit = Duration::from_secs(u64::from(row.deadline) + 10);
    if o.run.wall > limit {
        p.push(format!(
            "the audit took {:.1} s, deadline {} s",
            o.run.wall.as_secs_f64(),
            row.deadline
        ));
    }
    let (Some(base), Some(_)) = (&o.baseline.report, &o.run.report) else {
        return p;
    };
    // The healthy copy is judged from real answers: no check unknown but
    // the ones a loopback test cannot decide.
    for f in &base.findings {
        if f.status == Status::Unknown && !BASELINE_UNKNOWN.contains(&f.id.as_str()) {
            p.push(format!("baseline {} unknown: {}", f.id, f.detail));
        }
    }
    if o.changed.is_empty() {
        p.push("the fault changed nothing: it was not injected".into());
    }
    for (id, _, now) in &o.changed {
        let Some(expect) = listed(row.affected, id) else {
            p.push(format!(
                "{id} differs from the baseline but is not a check this fault touches: {now}"
            ));
            continue;
        };
        // Nothing false: a check the fault touched never passes.
        if now.starts_with("pass:") && !matches!(expect, Expect::Rejudged(Status::Pass, _)) {
            p.push(format!("FALSE PASS {id}: {now}"));
        }
        let ok = match expect {
            Expect::Unknown(why) => now.starts_with("unknown:") && now.contains(why),
            Expect::Verdict(st, why) | Expect::Rejudged(st, why) => {
                now.starts_with(&format!("{}:", st.as_str())) && now.contains(why)
            }
        };
        if !ok {
            p.push(format!("{id}: expected {expect:?}, got {now}"));
        }
    }
    p
}

/// Checks a loopback test bed cannot decide even when healthy.
/// (The blocklists' test entries are not listed in the fault zone, so the
/// lists are "not reachable", as the engine rightly says.)
const BASELINE_UNKNOWN: &[&str] = &["blocklist.domain", "blocklist.inconclusive"];

const DOC: &str = "docs/reliability.md";
const MEASURED: &str = "<!-- Measurements: not compared by the test";

/// Table cell text: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The outcome column: the touched checks grouped by what they say.
fn outcome_text(o: &Outcome) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (id, _, now) in &o.changed {
        match groups.iter_mut().find(|(t, _)| t == now) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((now.clone(), vec![id])),
        }
    }
    groups
        .iter()
        .map(|(t, ids)| {
            let (status, reason) = t.split_once(": ").unwrap_or((t, ""));
            let reason: String = if reason.chars().count() > 220 {
                reason.chars().take(220).collect::<String>() + " …"
            } else {
                reason.to_string()
            };
            format!("**{status}** ({}): {reason}", ids.join(", "))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn document(rows: &[Row], outcomes: &[Outcome], total: Duration, problems: &mut Vec<String>) {
    let mut checked = String::from(include_str!("intro.md"));
    checked.push_str("\n| fault | what was injected | checks touched | observed outcome (status: reason) |\n|---|---|---|---|\n");
    for o in outcomes {
        checked.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(o.fault),
            cell(o.injected),
            o.changed.len(),
            cell(&outcome_text(o)),
        ));
    }
    let mut measured = format!(
        "\n{MEASURED}: they vary from run to run and machine to machine. -->\n\n\
         ## Measurements of the run that wrote this file\n\n\
         All {} rows ran at once (baseline, then fault, per row), debug build, on a 2-core \
         machine shared with other builds; the whole run took {:.0} s. The times include that \
         contention: one healthy audit alone takes about 0.5 s there. Peak RSS is the audit \
         process's `ru_maxrss` (wait4).\n\n\
         | fault | audit time | `--deadline` | peak RSS | baseline time | baseline peak RSS | DoH questions (fault run) | SMTP connections (fault run) |\n\
         |---|---|---|---|---|---|---|---|\n",
        rows.len(),
        total.as_secs_f64()
    );
    for (row, o) in rows.iter().zip(outcomes) {
        measured.push_str(&format!(
            "| {} | {:.1} s | {} s | {:.1} MB | {:.1} s | {:.1} MB | {} | {} |\n",
            cell(o.fault),
            o.run.wall.as_secs_f64(),
            row.deadline,
            o.run.max_rss_kb as f64 / 1024.0,
            o.baseline.wall.as_secs_f64(),
            o.baseline.max_rss_kb as f64 / 1024.0,
            o.queries,
            o.connections,
        ));
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(DOC);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, format!("{checked}{measured}")).expect("write docs/reliability.md");
        eprintln!("faults: wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let committed = committed
        .split_once(&format!("\n{MEASURED}"))
        .map(|(c, _)| c.to_string())
        .unwrap_or(committed);
    if committed != checked {
        problems.push(format!(
            "{DOC} does not match this run (run with UPDATE_DOCS=1 to rewrite it):\n{checked}"
        ));
    }
}
