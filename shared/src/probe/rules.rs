//! The `smtp.*` rules: pure judgements over an [`MxProbe`]. Each finding's
//! detail starts with the probed target (`host [ip]:port`), because an
//! audit judges every MX address and a report holds one finding per rule
//! and address.

use super::reply::{Reply, ReplyError};
use super::smtp::SmtpError;
use super::versions::{self, Detected};
use super::{AddressProbe, Attempt, BareLf, MxProbe};
use crate::net::NetError;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub static SMTP_REACHABLE: Rule = Rule {
    id: "smtp.reachable",
    area: Area::Server,
    title: "SMTP service reachable",
    severity: Severity::High,
    description: "No connection / no 220 greeting within 15 s (`unknown` if the host blocks \
        probing, e.g. 421, refused or timed-out connections, port 25 blocked from this vantage \
        point); fail when the port answers with something that is not SMTP.",
    refs: &["RFC 5321 §3.1", "RFC 5321 §4.3.2"],
};

pub static SMTP_BANNER: Rule = Rule {
    id: "smtp.banner",
    area: Area::Server,
    title: "SMTP banner disclosure",
    severity: Severity::Low,
    description: "The 220 banner or the EHLO greeting discloses the software version or the \
        operating system.",
    refs: &["RFC 5321 §4.2", "CWE-200"],
};

pub static SMTP_HELO_NAME: Rule = Rule {
    id: "smtp.helo_name",
    area: Area::Server,
    title: "SMTP host name matches reverse DNS",
    severity: Severity::Low,
    description: "The host name in the 220 banner / EHLO reply does not match the PTR of the \
        server's IP address (`unknown` when no PTR name is known).",
    refs: &["RFC 5321 §4.1.4", "RFC 1912 §2.1"],
};

pub static SMTP_STARTTLS: Rule = Rule {
    id: "smtp.starttls",
    area: Area::Server,
    title: "STARTTLS offered on port 25",
    severity: Severity::High,
    description: "STARTTLS is not offered on port 25 (or is advertised but the STARTTLS command \
        is refused).",
    refs: &["RFC 3207", "RFC 8314", "RFC 7672"],
};

pub static SMTP_AUTH_PLAINTEXT: Rule = Rule {
    id: "smtp.auth_plaintext",
    area: Area::Server,
    title: "AUTH only after STARTTLS",
    severity: Severity::High,
    description: "AUTH is advertised before STARTTLS, on a plaintext connection.",
    refs: &["RFC 4954 §4", "RFC 3207 §4.1", "RFC 8314"],
};

pub static SMTP_OPEN_RELAY: Rule = Rule {
    id: "smtp.open_relay",
    area: Area::Server,
    title: "Open relay",
    severity: Severity::Critical,
    description: "An unauthenticated external client gets 2xx for RCPT to a domain the server \
        does not serve (tested with MAIL FROM a third-party domain and RCPT to a reserved \
        domain; the session is stopped with RSET/QUIT, never DATA).",
    refs: &["RFC 5321 §3.6.2", "RFC 2505", "RFC 2606"],
};

pub static SMTP_VRFY_EXPN: Rule = Rule {
    id: "smtp.vrfy_expn",
    area: Area::Server,
    title: "VRFY/EXPN address enumeration",
    severity: Severity::Medium,
    description: "VRFY or EXPN lets a client tell existing from non-existing addresses (e.g. \
        250/251/252 for `postmaster` but 550 for a random local part) or returns address data; \
        disabled (502) or one uniform answer for both = pass.",
    refs: &["RFC 5321 §3.5", "RFC 5321 §7.3", "RFC 2505 §2.11"],
};

pub static SMTP_SIZE: Rule = Rule {
    id: "smtp.size",
    area: Area::Server,
    title: "Message size limit advertised",
    severity: Severity::Low,
    description: "No `SIZE` limit is advertised in the EHLO reply, or `SIZE 0` (no limit).",
    refs: &["RFC 1870"],
};

pub static SMTP_SMUGGLING: Rule = Rule {
    id: "smtp.smuggling",
    area: Area::Server,
    title: "Bare LF accepted (SMTP smuggling)",
    severity: Severity::High,
    description: "The server accepts bare-LF line endings (`NOOP<LF>` answered 250) — possible \
        SMTP smuggling exposure (warn); rejecting or disconnecting with a bare-LF error passes. \
        Non-delivering: no message is sent. A full delivery test runs only with proven domain \
        ownership.",
    refs: &[
        "CVE-2023-51764",
        "CVE-2023-51765",
        "CVE-2023-51766",
        "RFC 5321 §2.3.8",
        "https://www.postfix.org/smtp-smuggling.html",
    ],
};

pub static SMTP_SUBMISSION: Rule = Rule {
    id: "smtp.submission",
    area: Area::Server,
    title: "Submission ports encrypt before authentication",
    severity: Severity::High,
    description: "587 without STARTTLS, 465 without TLS, or AUTH offered in plaintext on the \
        submission port (only ports the port list found open are spoken to; no login is tried).",
    refs: &["RFC 8314", "RFC 6409", "RFC 4954 §4"],
};

pub static SMTP_EXPOSED_PORTS: Rule = Rule {
    id: "smtp.exposed_ports",
    area: Area::Server,
    title: "Exposed mail ports",
    severity: Severity::Medium,
    description: "On each MX address, which mail-related ports answer (25, 110, 143, 465, 587, \
        993, 995, 2525, 4190 — no wider scan); POP3/IMAP on 110/143 accepting logins without \
        STARTTLS = medium (fail); the list itself is info.",
    refs: &["RFC 8314", "RFC 2595", "RFC 3501 §6.2.3"],
};

pub static SMTP_SOFTWARE_VERSION: Rule = Rule {
    id: "smtp.software_version",
    area: Area::Server,
    title: "Mail server software version",
    severity: Severity::High,
    description: "The banner or EHLO reveals a version older than the fix for a known \
        vulnerability (table of CVEs with fixed versions per software); `warn`, not `fail`, \
        where distributions backport fixes without changing the version.",
    refs: &[
        "CVE-2023-51764",
        "CVE-2023-42115",
        "CVE-2023-51766",
        "CVE-2023-51765",
        "CVE-2020-7247",
        "CVE-2020-8794",
    ],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &SMTP_REACHABLE,
    &SMTP_BANNER,
    &SMTP_HELO_NAME,
    &SMTP_STARTTLS,
    &SMTP_AUTH_PLAINTEXT,
    &SMTP_OPEN_RELAY,
    &SMTP_VRFY_EXPN,
    &SMTP_SIZE,
    &SMTP_SMUGGLING,
    &SMTP_SUBMISSION,
    &SMTP_EXPOSED_PORTS,
    &SMTP_SOFTWARE_VERSION,
];

/// Every `smtp.*` finding of one [`MxProbe`] (all but `smtp.exposed_ports`,
/// which judges a separate [`super::ports::scan_ports`]). `ptr` is the PTR
/// name of `p.ip` when the caller looked it up (for `smtp.helo_name`).
pub fn judge(p: &MxProbe, ptr: Option<&str>) -> Vec<Finding> {
    vec![
        judge_reachable(p),
        judge_banner(p),
        judge_helo_name(p, ptr),
        judge_starttls(p),
        judge_auth_plaintext(p),
        judge_open_relay(p),
        judge_vrfy_expn(p),
        judge_size(p),
        judge_smuggling(p),
        judge_software_version(p),
    ]
}

// ---- evidence helpers ------------------------------------------------------

const EXCERPT_LINES: usize = 14;

fn note(text: impl Into<String>) -> Evidence {
    Evidence::Note { text: text.into() }
}

/// `C: cmd` then the reply's lines (at most [`EXCERPT_LINES`]).
fn exchange(cmd: &str, r: &Reply) -> Evidence {
    let mut lines = vec![format!("C: {cmd}")];
    let wire = r.wire_lines();
    let n = wire.len();
    lines.extend(
        wire.into_iter()
            .take(EXCERPT_LINES)
            .map(|l| format!("S: {l}")),
    );
    if n > EXCERPT_LINES {
        lines.push(format!("-- {} more line(s)", n - EXCERPT_LINES));
    }
    note(lines.join("\n"))
}

fn greeting(r: &Reply) -> Evidence {
    note(
        r.wire_lines()
            .into_iter()
            .take(EXCERPT_LINES)
            .map(|l| format!("S: {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn session(p: &MxProbe, label: &str) -> Vec<Evidence> {
    p.transcript(label)
        .filter(|t| !t.lines.is_empty())
        .map(|t| note(format!("{label} session:\n{}", t.excerpt(EXCERPT_LINES))))
        .into_iter()
        .collect()
}

fn hello_evidence(p: &MxProbe, ehlo_name_hint: &str) -> Vec<Evidence> {
    match p.hello.done() {
        Some(h) => {
            let cmd = if h.esmtp { "EHLO" } else { "HELO" };
            vec![exchange(&format!("{cmd} {ehlo_name_hint}"), &h.reply)]
        }
        None => session(p, "main"),
    }
}

/// The name we sent in EHLO, as recorded (for evidence lines).
fn our_name(p: &MxProbe) -> String {
    p.transcript("main")
        .and_then(|t| {
            t.client_lines()
                .find(|l| l.starts_with("EHLO ") || l.starts_with("HELO "))
                .map(|l| l[5..].to_string())
        })
        .unwrap_or_default()
}

fn unknown(rule: &'static Rule, p: &MxProbe, why: &str, label: &str) -> Finding {
    rule.finding(
        Status::Unknown,
        format!("{}: not decided: {why}.", p.target()),
    )
    .with_evidences(session(p, label))
}

/// Why the EHLO-based rules cannot decide, if they cannot.
fn hello_missing(p: &MxProbe) -> Option<String> {
    match &p.hello {
        Attempt::Done(h) if h.reply.is_positive() => None,
        Attempt::Done(h) => Some(format!("EHLO/HELO was refused with {}", h.reply.code)),
        a => a.why_not(),
    }
}

fn is_timeout(e: &SmtpError) -> bool {
    matches!(e, SmtpError::Net(NetError::Timeout(_)))
}

// ---- smtp.reachable ---------------------------------------------------------

pub fn judge_reachable(p: &MxProbe) -> Finding {
    let t = p.target();
    let ev = session(p, "main");
    match &p.banner {
        Attempt::Done(r) if r.code == 220 => SMTP_REACHABLE
            .finding(Status::Pass, format!("{t} answers with a 220 greeting."))
            .with_evidence(greeting(r)),
        Attempt::Done(r) if r.code == 421 || r.code == 554 => SMTP_REACHABLE
            .finding(
                Status::Unknown,
                format!(
                    "{t} answered {} instead of 220: the server refuses service to this \
                     client (a blocklisted or rate-limited vantage point, or the service is \
                     temporarily down). Probe again from another address.",
                    r.code
                ),
            )
            .with_evidence(greeting(r)),
        Attempt::Done(r) => SMTP_REACHABLE
            .finding(
                Status::Fail,
                format!(
                    "{t} greeted with {} instead of 220: senders cannot start a mail \
                     transaction.",
                    r.code
                ),
            )
            .with_evidence(greeting(r))
            .with_remediation(
                "The SMTP server must greet with `220 <host name> ESMTP` (RFC 5321 §4.3.2). \
                 Check what listens on port 25 and its logs.",
            ),
        // Past the probe's own limits (lines, line length, bytes) the
        // greeting was well-formed as far as it was read: that it goes on
        // is no proof the server does not speak SMTP (tests/faults: a 1 MB
        // `220-` greeting was failed as "does not speak SMTP").
        Attempt::Failed(
            e @ (SmtpError::Protocol(ReplyError::TooManyLines | ReplyError::LineTooLong)
            | SmtpError::TooMuch),
        ) => SMTP_REACHABLE
            .finding(
                Status::Unknown,
                format!(
                    "{t}: not decided: its greeting is larger than this probe reads ({e}), so \
                     the session was given up before it started."
                ),
            )
            .with_evidences(ev),
        Attempt::Failed(e @ SmtpError::Protocol(_)) => SMTP_REACHABLE
            .finding(
                Status::Fail,
                format!("{t} accepts connections but does not speak SMTP: {e}."),
            )
            .with_evidences(ev)
            .with_remediation(
                "Port 25 of an MX must be an SMTP server. Check which service listens there \
                 (e.g. `ss -ltnp 'sport = :25'`) and that no proxy answers in its place.",
            ),
        Attempt::Failed(e) => {
            let hint = match e {
                SmtpError::Net(NetError::Timeout(_)) => {
                    " Many networks block outgoing port 25: run the probe from a host that \
                     may connect to port 25, or check the server's firewall."
                }
                SmtpError::Net(_) => {
                    " The server may be down, its firewall may drop this client, or port 25 \
                     may be blocked on the way."
                }
                _ => " The server hung up before greeting: it may limit or block this client.",
            };
            SMTP_REACHABLE
                .finding(
                    Status::Unknown,
                    format!("{t}: no SMTP greeting ({e}).{hint}"),
                )
                .with_evidences(ev)
        }
        Attempt::NotRun(why) => unknown(&SMTP_REACHABLE, p, why, "main"),
    }
}

// ---- smtp.banner ------------------------------------------------------------

/// From this long between connect and the end of the greeting, the wait is
/// taken for a deliberate greeting delay — Postfix postscreen's
/// `postscreen_greet_wait` (2-6 s), an Exim `acl_smtp_connect` with
/// `delay`, Sendmail's `greet_pause` — that makes bots which talk first
/// give themselves away. Round trips and the server's own look-ups rarely
/// take this long, so shorter waits are reported as no delay.
pub const GREETING_DELAY_MS: u64 = 2_000;

/// What the greeting time measured by the host (`None`: not measured)
/// says, as a sentence for `smtp.banner` (spec: a greeting delay detected
/// is reported within the `pass`, as information).
pub fn greeting_delay(ms: Option<u64>) -> String {
    match ms {
        None => "(The greeting delay was not measured: this host keeps no connection times.)"
            .to_string(),
        Some(ms) if ms >= GREETING_DELAY_MS => format!(
            "The greeting came {:.1} s after connecting: a greeting delay (pregreet test), which \
             catches clients that talk before they are greeted, or slow look-ups by the server.",
            ms as f64 / 1000.0
        ),
        // Not the milliseconds: they differ from run to run, and the same
        // server must give the same report (cached and streamed reports are
        // compared, and monitoring reports changes of the text).
        Some(_) => "The greeting came without a delay (under 2 s after connecting: no greeting \
             delay, which is common: it is an optional defence against bots that talk first)."
            .to_string(),
    }
}

pub fn judge_banner(p: &MxProbe) -> Finding {
    let t = p.target();
    let Attempt::Done(banner) = &p.banner else {
        let why = p.banner.why_not().unwrap_or_default();
        return unknown(&SMTP_BANNER, p, &format!("no greeting ({why})"), "main");
    };
    let label = if banner.code == 220 {
        "220 banner".to_string()
    } else {
        format!("{} greeting", banner.code)
    };
    // (where, text, whether the text starts with the host name)
    let mut texts: Vec<(String, String, bool)> = banner
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (label.clone(), l.clone(), i == 0))
        .collect();
    let mut ev = vec![greeting(banner)];
    if let Some(h) = p.hello.done() {
        texts.push(("EHLO greeting".into(), h.reply.first().to_string(), true));
        ev.push(exchange(
            &format!("EHLO {}", our_name(p)),
            &Reply {
                code: h.reply.code,
                enhanced: None,
                lines: vec![h.reply.first().to_string()],
            },
        ));
    }
    let mut disclosed = Vec::new();
    let mut named = Vec::new();
    for (wher, text, named_first) in &texts {
        let (d, os) = if *named_first {
            (versions::detect(text), versions::detect_os(text))
        } else {
            (versions::detect_in(text), versions::detect_os_in(text))
        };
        if let Some(d) = d {
            match &d.version {
                Some(v) => disclosed.push(format!("{} {v} in the {wher}", d.software)),
                None => named.push(format!("{} in the {wher}", d.software)),
            }
        }
        for os in os {
            disclosed.push(format!("the operating system ({os}) in the {wher}"));
        }
    }
    disclosed.dedup();
    named.dedup();
    if !disclosed.is_empty() {
        return SMTP_BANNER
            .finding(
                Status::Fail,
                format!(
                    "{t} discloses {}: attackers match versions to known vulnerabilities \
                     without sending anything suspicious. {}",
                    disclosed.join(", "),
                    greeting_delay(p.greeting_ms)
                ),
            )
            .with_evidences(ev)
            .with_remediation(
                "Show only the host name and ESMTP in the greeting:\n\
                 Postfix (main.cf): smtpd_banner = $myhostname ESMTP\n\
                 Exim: smtp_banner = $smtp_active_hostname ESMTP\n\
                 Sendmail (sendmail.mc): define(`confSMTP_LOGIN_MSG', `$j ESMTP')dnl\n\
                 Exchange: Set-ReceiveConnector <name> -Banner \"220 mail.example.org ESMTP\"",
            );
    }
    if banner.code != 220 {
        return SMTP_BANNER
            .finding(
                Status::Unknown,
                format!(
                    "{t} greeted with {} instead of 220, so its real banner was not seen.",
                    banner.code
                ),
            )
            .with_evidences(ev);
    }
    let extra = if named.is_empty() {
        String::new()
    } else {
        format!(
            " It names the software ({}), which is common and harmless without a version.",
            named.join(", ")
        )
    };
    SMTP_BANNER
        .finding(
            Status::Pass,
            format!(
                "{t} shows no software version or operating system in its greeting.{extra} {}",
                greeting_delay(p.greeting_ms)
            ),
        )
        .with_evidences(ev)
}

// ---- smtp.helo_name ---------------------------------------------------------

fn norm(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

pub fn judge_helo_name(p: &MxProbe, ptr: Option<&str>) -> Finding {
    let t = p.target();
    let Some(ptr) = ptr.map(norm).filter(|s| !s.is_empty()) else {
        return SMTP_HELO_NAME.finding(
            Status::Unknown,
            format!(
                "{t}: the PTR name of {} is not known, so the greeting name cannot be \
                 compared with it (see the reverse DNS check).",
                p.ip
            ),
        );
    };
    let banner_name = match &p.banner {
        Attempt::Done(r) if r.code == 220 => {
            Some(norm(r.first().split_whitespace().next().unwrap_or("")))
        }
        _ => None,
    };
    let ehlo_name = p
        .hello
        .done()
        .filter(|h| h.reply.is_positive())
        .map(|h| norm(h.name()));
    let mut ev = Vec::new();
    if let Attempt::Done(r) = &p.banner {
        ev.push(greeting(r));
    }
    ev.extend(hello_evidence(p, &our_name(p)));
    ev.push(note(format!("PTR of {}: {ptr}", p.ip)));
    let mx_note = match (&ehlo_name, &banner_name) {
        (Some(n), _) | (None, Some(n)) if *n != norm(&p.host) => format!(
            " (The MX record names {}; a different name is fine when the PTR matches.)",
            p.host
        ),
        _ => String::new(),
    };
    let remediation = format!(
        "Make the server's name, its PTR record and its A record agree (forward-confirmed \
         reverse DNS). Ask the owner of {ip} (your hosting provider) to set its PTR to the \
         server's name, and set that name in the MTA:\n\
         Postfix (main.cf): myhostname = mail.example.org\n\
         Exim: primary_hostname = mail.example.org\n\
         Sendmail (sendmail.mc): define(`confDOMAIN_NAME', `mail.example.org')dnl",
        ip = p.ip
    );
    match (banner_name, ehlo_name) {
        (None, None) => {
            let why = hello_missing(p)
                .or_else(|| p.banner.why_not())
                .unwrap_or_else(|| "no greeting".into());
            SMTP_HELO_NAME
                .finding(Status::Unknown, format!("{t}: not decided: {why}."))
                .with_evidences(ev)
        }
        (b, Some(e)) if e == ptr => {
            let also = match b {
                Some(b) if b != ptr => format!(" (the 220 banner says {b})"),
                _ => String::new(),
            };
            SMTP_HELO_NAME
                .finding(
                    Status::Pass,
                    format!(
                        "{t} calls itself {e}{also}, which is the PTR name of {}.{mx_note}",
                        p.ip
                    ),
                )
                .with_evidences(ev)
        }
        (Some(b), None) if b == ptr => SMTP_HELO_NAME
            .finding(
                Status::Pass,
                format!(
                    "{t} greets as {b}, the PTR name of {} (its EHLO reply was not seen).{mx_note}",
                    p.ip
                ),
            )
            .with_evidences(ev),
        (Some(b), e) if b == ptr => SMTP_HELO_NAME
            .finding(
                Status::Warn,
                format!(
                    "{t}: the 220 banner name {b} matches the PTR of {}, but the EHLO reply \
                     says {}: the name the server uses when it sends mail may not match.",
                    p.ip,
                    e.unwrap_or_else(|| "nothing".into())
                ),
            )
            .with_severity(Severity::Low)
            .with_evidences(ev)
            .with_remediation(remediation),
        (b, e) => {
            let names: Vec<String> = [b, e].into_iter().flatten().collect::<Vec<_>>();
            let mut names = names;
            names.dedup();
            SMTP_HELO_NAME
                .finding(
                    Status::Fail,
                    format!(
                        "{t} calls itself {}, but the PTR of {} is {ptr}: receivers that check \
                         forward-confirmed reverse DNS or the HELO name score or refuse its \
                         mail.{mx_note}",
                        names.join(" / "),
                        p.ip
                    ),
                )
                .with_evidences(ev)
                .with_remediation(remediation)
        }
    }
}

// ---- smtp.starttls ----------------------------------------------------------

const STARTTLS_FIX: &str = "Offer STARTTLS with a certificate for the MX host name:\n\
     Postfix (main.cf): smtpd_tls_security_level = may\n\
     smtpd_tls_chain_files = /etc/letsencrypt/live/mail.example.org/privkey.pem, \
     /etc/letsencrypt/live/mail.example.org/fullchain.pem\n\
     Exim: tls_advertise_hosts = *\n\
     tls_certificate = /etc/letsencrypt/live/mail.example.org/fullchain.pem\n\
     tls_privatekey = /etc/letsencrypt/live/mail.example.org/privkey.pem\n\
     Sendmail (sendmail.mc): define(`confSERVER_CERT', `/etc/mail/tls/fullchain.pem')dnl\n\
     define(`confSERVER_KEY', `/etc/mail/tls/privkey.pem')dnl";

pub fn judge_starttls(p: &MxProbe) -> Finding {
    let t = p.target();
    if let Some(why) = hello_missing(p) {
        return unknown(&SMTP_STARTTLS, p, &why, "main");
    }
    let Some(h) = p.hello.done() else {
        return unknown(&SMTP_STARTTLS, p, "no EHLO reply", "main");
    };
    let mut ev = hello_evidence(p, &our_name(p));
    if !h.esmtp {
        return SMTP_STARTTLS
            .finding(
                Status::Fail,
                format!(
                    "{t} refused EHLO and speaks only HELO, so it cannot offer STARTTLS: mail \
                     to it travels in clear text."
                ),
            )
            .with_evidences(ev)
            .with_remediation(STARTTLS_FIX);
    }
    if !h.caps.starttls {
        return SMTP_STARTTLS
            .finding(
                Status::Fail,
                format!(
                    "{t} does not offer STARTTLS: mail to it travels in clear text and can be \
                     read or changed on the way."
                ),
            )
            .with_evidences(ev)
            .with_remediation(STARTTLS_FIX);
    }
    match &p.starttls {
        Attempt::Done(r) if r.code == 220 => SMTP_STARTTLS
            .finding(
                Status::Pass,
                format!(
                    "{t} offers STARTTLS and accepts the command (the TLS checks judge the \
                     handshake and certificate)."
                ),
            )
            .with_evidences(ev)
            .with_evidences(session(p, "starttls")),
        Attempt::Done(r) => {
            ev.push(exchange("STARTTLS", r));
            SMTP_STARTTLS
                .finding(
                    Status::Fail,
                    format!(
                        "{t} advertises STARTTLS but refuses the command ({}): senders fall \
                         back to clear text. This is typical of a missing or unreadable \
                         certificate or key.",
                        r.code
                    ),
                )
                .with_evidences(ev)
                .with_remediation(format!(
                    "Check the MTA's log at startup for TLS errors (certificate path, key \
                     permissions).\n{STARTTLS_FIX}"
                ))
        }
        Attempt::Failed(SmtpError::StartTlsInjection) => SMTP_STARTTLS
            .finding(
                Status::Fail,
                format!(
                    "{t} sent plaintext after its 220 to STARTTLS: a STARTTLS command-injection \
                     flaw (CVE-2011-0411 class) in the server or a middlebox."
                ),
            )
            .with_evidences(session(p, "starttls"))
            .with_remediation(
                "Upgrade the MTA, and remove any SMTP-aware proxy or firewall \"fixup\" in \
                 front of it.",
            ),
        a => SMTP_STARTTLS
            .finding(
                Status::Pass,
                format!(
                    "{t} offers STARTTLS (the command itself was not tried: {}).",
                    a.why_not().unwrap_or_default()
                ),
            )
            .with_evidences(ev),
    }
}

// ---- smtp.auth_plaintext ----------------------------------------------------

pub fn judge_auth_plaintext(p: &MxProbe) -> Finding {
    let t = p.target();
    if let Some(why) = hello_missing(p) {
        return unknown(&SMTP_AUTH_PLAINTEXT, p, &why, "main");
    }
    let Some(h) = p.hello.done() else {
        return unknown(&SMTP_AUTH_PLAINTEXT, p, "no EHLO reply", "main");
    };
    let ev = hello_evidence(p, &our_name(p));
    let Some(mechs) = &h.caps.auth else {
        return SMTP_AUTH_PLAINTEXT
            .finding(
                Status::Pass,
                format!("{t} does not advertise AUTH before STARTTLS."),
            )
            .with_evidences(ev);
    };
    let cleartext: Vec<&String> = mechs
        .iter()
        .filter(|m| matches!(m.as_str(), "PLAIN" | "LOGIN"))
        .collect();
    let remediation = "Offer AUTH only inside TLS, and preferably not on port 25 at all \
         (clients submit on 587/465):\n\
         Postfix (main.cf): smtpd_tls_auth_only = yes\n\
         Postfix (master.cf, smtp service): -o smtpd_sasl_auth_enable=no\n\
         Exim: auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}\n\
         Sendmail (sendmail.mc): define(`confAUTH_OPTIONS', `A p y')dnl";
    let list = if mechs.is_empty() {
        "no mechanism listed".to_string()
    } else {
        mechs.join(" ")
    };
    if cleartext.is_empty() {
        return SMTP_AUTH_PLAINTEXT
            .finding(
                Status::Warn,
                format!(
                    "{t} advertises AUTH ({list}) on the plaintext connection, before \
                     STARTTLS. No clear-text mechanism is offered, but password guessing and \
                     downgrade attacks need no TLS."
                ),
            )
            .with_severity(Severity::Medium)
            .with_evidences(ev)
            .with_remediation(remediation);
    }
    SMTP_AUTH_PLAINTEXT
        .finding(
            Status::Fail,
            format!(
                "{t} advertises AUTH ({list}) before STARTTLS: a client that uses {} here sends \
                 its password in clear text.",
                cleartext
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("/")
            ),
        )
        .with_evidences(ev)
        .with_remediation(remediation)
}

// ---- smtp.open_relay --------------------------------------------------------

pub fn judge_open_relay(p: &MxProbe) -> Finding {
    let t = p.target();
    let rt = match &p.relay {
        Attempt::Done(rt) => rt,
        a => {
            return unknown(
                &SMTP_OPEN_RELAY,
                p,
                &format!(
                    "the relay test did not run ({})",
                    a.why_not().unwrap_or_default()
                ),
                "main",
            )
        }
    };
    let mut ev = vec![exchange(&format!("MAIL FROM:<{}>", rt.mail_from), &rt.mail)];
    let Some(rcpt) = &rt.rcpt else {
        return SMTP_OPEN_RELAY
            .finding(
                Status::Unknown,
                format!(
                    "{t}: the test sender <{}> was refused ({}), so relaying was not tested. \
                     Probe again with another sender domain.",
                    rt.mail_from, rt.mail.code
                ),
            )
            .with_evidences(ev);
    };
    ev.push(exchange(&format!("RCPT TO:<{}>", rt.rcpt_to), rcpt));
    ev.push(note(
        "C: RSET (the transaction is dropped; DATA is never sent)",
    ));
    if rcpt.is_positive() {
        return SMTP_OPEN_RELAY
            .finding(
                Status::Fail,
                format!(
                    "{t} is an open relay: it accepted ({}) a recipient at {}, a domain it \
                     cannot serve, from an unauthenticated client. Spammers find open relays \
                     within hours; the server's address will be blocklisted.",
                    rcpt.code,
                    rt.rcpt_to.rsplit('@').next().unwrap_or("")
                ),
            )
            .with_evidences(ev)
            .with_remediation(
                "Relay only for authenticated users and your own networks:\n\
                 Postfix (main.cf): smtpd_relay_restrictions = permit_mynetworks, \
                 permit_sasl_authenticated, reject_unauth_destination\n\
                 mynetworks = 127.0.0.0/8 [::1]/128\n\
                 Exim (acl_check_rcpt): require message = relay not permitted\n\
                 \x20   domains = +local_domains : +relay_to_domains\n\
                 and hostlist relay_from_hosts = localhost\n\
                 Sendmail: remove broad `Connect:… RELAY` entries from /etc/mail/access and \
                 never use FEATURE(`promiscuous_relay').",
            );
    }
    if rcpt.is_permanent() {
        return SMTP_OPEN_RELAY
            .finding(
                Status::Pass,
                format!(
                    "{t} refused ({}) to relay to {} for an unauthenticated client.",
                    rcpt.code, rt.rcpt_to
                ),
            )
            .with_evidences(ev);
    }
    SMTP_OPEN_RELAY
        .finding(
            Status::Unknown,
            format!(
                "{t} answered the relay recipient with {}, a temporary refusal (greylisting or \
                 deferral), so whether it would relay later is not known.",
                rcpt.code
            ),
        )
        .with_evidences(ev)
}

// ---- smtp.vrfy_expn ---------------------------------------------------------

enum Verdict {
    /// Known and random addresses get different answers.
    TellsApart(String),
    /// The reply carries address data (EXPN expansion).
    Leaks(String),
    Safe(String),
    Unclear(String),
}

fn classify(a: &AddressProbe) -> Verdict {
    let (k, r) = (&a.known, &a.random);
    let both = format!(
        "{c} {ka} → {}, {c} {ra} → {}",
        k.code,
        r.code,
        c = a.command,
        ka = a.known_arg,
        ra = a.random_arg
    );
    if a.command == "EXPN" && k.code == 250 {
        return Verdict::Leaks(format!(
            "EXPN {} returned the members of the list ({})",
            a.known_arg,
            k.text()
        ));
    }
    if k.is_transient() || r.is_transient() {
        return Verdict::Unclear(format!("temporary answers ({both})"));
    }
    if k.is_positive() && r.is_permanent() {
        return Verdict::TellsApart(both);
    }
    if k.code == 502 && r.code == 502 {
        return Verdict::Safe(format!("{} is disabled ({both})", a.command));
    }
    if k.code / 100 == r.code / 100 {
        return Verdict::Safe(format!("one answer for both ({both})"));
    }
    Verdict::Safe(format!(
        "the answers do not single out existing addresses ({both})"
    ))
}

pub fn judge_vrfy_expn(p: &MxProbe) -> Finding {
    let t = p.target();
    let mut bad = Vec::new();
    let mut safe = Vec::new();
    let mut unclear = Vec::new();
    let mut ev = Vec::new();
    for (name, a) in [("VRFY", &p.vrfy), ("EXPN", &p.expn)] {
        match a {
            Attempt::Done(ap) => {
                ev.push(exchange(
                    &format!("{} {}", ap.command, ap.known_arg),
                    &ap.known,
                ));
                ev.push(exchange(
                    &format!("{} {}", ap.command, ap.random_arg),
                    &ap.random,
                ));
                match classify(ap) {
                    Verdict::TellsApart(s) => bad.push(format!(
                        "{name} tells existing from non-existing addresses ({s})"
                    )),
                    Verdict::Leaks(s) => bad.push(s),
                    Verdict::Safe(s) => safe.push(s),
                    Verdict::Unclear(s) => unclear.push(format!("{name}: {s}")),
                }
            }
            a => unclear.push(format!(
                "{name} not tested: {}",
                a.why_not().unwrap_or_default()
            )),
        }
    }
    if !bad.is_empty() {
        return SMTP_VRFY_EXPN
            .finding(
                Status::Fail,
                format!(
                    "{t}: {}. Spammers and attackers use this to harvest valid addresses and \
                     user names for password guessing.",
                    bad.join("; ")
                ),
            )
            .with_evidences(ev)
            .with_remediation(
                "Disable VRFY and EXPN:\n\
                 Postfix (main.cf): disable_vrfy_command = yes (Postfix has no EXPN)\n\
                 Exim: leave acl_smtp_vrfy and acl_smtp_expn unset (Exim then refuses both), \
                 or point them at an ACL that denies\n\
                 Sendmail (sendmail.mc): define(`confPRIVACY_FLAGS', \
                 `authwarnings,novrfy,noexpn,restrictqrun')dnl",
            );
    }
    if !unclear.is_empty() {
        if p.vrfy.done().is_none() && p.expn.done().is_none() {
            return unknown(&SMTP_VRFY_EXPN, p, &unclear.join("; "), "main");
        }
        return SMTP_VRFY_EXPN
            .finding(
                Status::Unknown,
                format!(
                    "{t}: not decided: {}{}.",
                    unclear.join("; "),
                    if safe.is_empty() {
                        String::new()
                    } else {
                        format!(" (otherwise: {})", safe.join("; "))
                    }
                ),
            )
            .with_evidences(ev);
    }
    SMTP_VRFY_EXPN
        .finding(Status::Pass, format!("{t}: {}.", safe.join("; ")))
        .with_evidences(ev)
}

// ---- smtp.size --------------------------------------------------------------

pub fn judge_size(p: &MxProbe) -> Finding {
    let t = p.target();
    if let Some(why) = hello_missing(p) {
        return unknown(&SMTP_SIZE, p, &why, "main");
    }
    let Some(h) = p.hello.done() else {
        return unknown(&SMTP_SIZE, p, "no EHLO reply", "main");
    };
    let ev = hello_evidence(p, &our_name(p));
    let remediation = "Advertise a message size limit (RFC 1870) so senders learn it before \
         transferring:\n\
         Postfix (main.cf): message_size_limit = 52428800   (0 means no limit)\n\
         Exim: message_size_limit = 50M\n\
         Sendmail (sendmail.mc): define(`confMAX_MESSAGE_SIZE', `52428800')dnl";
    let problem = match (h.esmtp, h.caps.size) {
        (false, _) => "speaks only HELO, so it advertises no SIZE limit".to_string(),
        (true, None) => "advertises no SIZE limit".to_string(),
        (true, Some(None)) => "advertises SIZE without a value (no fixed limit)".to_string(),
        (true, Some(Some(0))) => "advertises SIZE 0 (no limit)".to_string(),
        (true, Some(Some(n))) => {
            return SMTP_SIZE
                .finding(
                    Status::Pass,
                    format!(
                        "{t} advertises a message size limit of {n} bytes ({:.1} MB).",
                        n as f64 / 1_000_000.0
                    ),
                )
                .with_evidences(ev)
        }
    };
    SMTP_SIZE
        .finding(
            Status::Fail,
            format!(
                "{t} {problem}: very large messages can fill its disk or queue, and senders \
                 learn of a limit only after transferring the whole message."
            ),
        )
        .with_evidences(ev)
        .with_remediation(remediation)
}

// ---- smtp.smuggling ---------------------------------------------------------

fn mentions_bare_lf(r: &Reply) -> bool {
    let t = r.text().to_ascii_lowercase();
    t.contains("bare") || t.contains("<lf>") || t.contains("line feed") || t.contains("newline")
}

pub(crate) const SMUGGLING_FIX: &str = "Reject or normalise bare LF line endings:\n\
     Postfix 3.9+: the default (smtpd_forbid_bare_newline = normalize) does it.\n\
     Postfix 3.5.23/3.6.13/3.7.9/3.8.4 and later (main.cf): smtpd_forbid_bare_newline = normalize\n\
     (`yes` on releases that lack `normalize`), smtpd_forbid_bare_newline_exclusions = $mynetworks\n\
     Older Postfix (short-term workaround): smtpd_data_restrictions = reject_unauth_pipelining\n\
     and smtpd_discard_ehlo_keywords = chunking\n\
     Exim: upgrade to 4.97.1 or later (or a distribution package with CVE-2023-51766 fixed)\n\
     Sendmail: upgrade to 8.18.1 or later, which rejects bare CR/LF by default (do not relax \
     it with srv_features); distribution backports may need the fix enabled explicitly.";

pub fn judge_smuggling(p: &MxProbe) -> Finding {
    let t = p.target();
    let ev = session(p, "bare-lf");
    match &p.bare_lf {
        Attempt::Done(BareLf::Reply(r)) if r.is_positive() => SMTP_SMUGGLING
            .finding(
                Status::Warn,
                format!(
                    "{t} answered `NOOP<LF>` (a command ended by a bare LF, without CR) with {}: \
                     it treats a bare LF as a line end. Servers that do this in the message body \
                     too can be tricked by another server that ends data differently into \
                     accepting a second, forged message (SMTP smuggling). This probe sent no \
                     message; the full test, which delivers a test message, runs only once \
                     you prove you own the domain.",
                    r.code
                ),
            )
            .with_evidences(ev)
            .with_remediation(SMUGGLING_FIX),
        Attempt::Done(BareLf::Reply(r)) if r.is_permanent() => {
            let how = if mentions_bare_lf(r) {
                "with a bare-LF error"
            } else {
                "with an error"
            };
            SMTP_SMUGGLING
                .finding(
                    Status::Pass,
                    format!(
                        "{t} refused `NOOP<LF>` {how} ({}): it does not treat a bare LF as a \
                         line end.",
                        r.code
                    ),
                )
                .with_evidences(ev)
        }
        Attempt::Done(BareLf::Reply(r)) if r.code == 421 && mentions_bare_lf(r) => SMTP_SMUGGLING
            .finding(
                Status::Pass,
                format!("{t} disconnected with a bare-LF error (421) after `NOOP<LF>`."),
            )
            .with_evidences(ev),
        Attempt::Done(BareLf::Reply(r)) => SMTP_SMUGGLING
            .finding(
                Status::Unknown,
                format!(
                    "{t} answered `NOOP<LF>` with {}, which says nothing about how it ends \
                     lines.",
                    r.code
                ),
            )
            .with_evidences(ev),
        Attempt::Done(BareLf::Closed) => SMTP_SMUGGLING
            .finding(
                Status::Pass,
                format!(
                    "{t} closed the connection after `NOOP<LF>` instead of executing it: it \
                     does not accept a bare LF as a line end."
                ),
            )
            .with_evidences(ev),
        Attempt::Failed(e) if is_timeout(e) => SMTP_SMUGGLING
            .finding(
                Status::Unknown,
                format!(
                    "{t} did not answer `NOOP<LF>` ({e}). It is probably still waiting for a \
                     CR LF, which would mean it does not end lines at a bare LF, but silence \
                     is not proof."
                ),
            )
            .with_evidences(ev),
        a => unknown(
            &SMTP_SMUGGLING,
            p,
            &format!(
                "the bare-LF fingerprint did not run ({})",
                a.why_not().unwrap_or_default()
            ),
            "bare-lf",
        ),
    }
}

// ---- smtp.software_version --------------------------------------------------

pub fn judge_software_version(p: &MxProbe) -> Finding {
    let t = p.target();
    let Attempt::Done(banner) = &p.banner else {
        let why = p.banner.why_not().unwrap_or_default();
        return unknown(
            &SMTP_SOFTWARE_VERSION,
            p,
            &format!("no greeting ({why})"),
            "main",
        );
    };
    let mut candidates: Vec<(Detected, Evidence)> = banner
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            if i == 0 {
                versions::detect(l)
            } else {
                versions::detect_in(l)
            }
        })
        .map(|d| (d, greeting(banner)))
        .collect();
    if let Some(h) = p.hello.done() {
        if let Some(d) = versions::detect(h.reply.first()) {
            candidates.push((d, hello_evidence(p, &our_name(p)).remove(0)));
        }
    }
    // Prefer a detection that carries a version.
    candidates.sort_by_key(|(d, _)| d.version.is_none());
    if banner.code != 220 && !candidates.iter().any(|(d, _)| d.version.is_some()) {
        return SMTP_SOFTWARE_VERSION
            .finding(
                Status::Unknown,
                format!(
                    "{t} greeted with {} instead of 220, so its real banner was not seen.",
                    banner.code
                ),
            )
            .with_evidence(greeting(banner));
    }
    let Some((d, ev)) = candidates.into_iter().next() else {
        return SMTP_SOFTWARE_VERSION
            .finding(
                Status::Info,
                format!(
                    "{t} does not name its software in the greeting, so its version cannot be \
                     compared with known vulnerabilities (which is as it should be)."
                ),
            )
            .with_evidence(greeting(banner));
    };
    let Some(v) = &d.version else {
        return SMTP_SOFTWARE_VERSION
            .finding(
                Status::Info,
                format!(
                    "{t} names {} but no version, so it cannot be compared with known \
                     vulnerabilities.",
                    d.software
                ),
            )
            .with_evidence(ev);
    };
    let hits = versions::advisories_for(&d);
    if hits.is_empty() {
        if versions::in_table(d.software) {
            return SMTP_SOFTWARE_VERSION
                .finding(
                    Status::Pass,
                    format!(
                        "{t} runs {} {v}, which has the fixes for every vulnerability in \
                         mailaudit's table.{}",
                        d.software,
                        if d.software == "Postfix" {
                            " Postfix's SMTP smuggling fix works only when \
                             smtpd_forbid_bare_newline is set (before 3.9): smtp.smuggling \
                             checks the behaviour."
                        } else {
                            ""
                        }
                    ),
                )
                .with_evidence(ev);
        }
        return SMTP_SOFTWARE_VERSION
            .finding(
                Status::Info,
                format!(
                    "{t} runs {} {v}; mailaudit has no vulnerability table for it.",
                    d.software
                ),
            )
            .with_evidence(ev);
    }
    let list: Vec<String> = hits
        .iter()
        .map(|a| format!("{} ({}; fixed in {})", a.id, a.summary, a.fixed.join(", ")))
        .collect();
    let remediation = format!(
        "Upgrade {} to a version with the fixes listed (your distribution's current package, \
         or the upstream release named), then hide the version in the banner (see \
         smtp.banner).",
        d.software
    );
    if hits.iter().all(|a| a.backported) {
        SMTP_SOFTWARE_VERSION
            .finding(
                Status::Warn,
                format!(
                    "{t} announces {} {v}, older than the upstream fix for: {}. Distributions \
                     backport these fixes without changing the version, so a current \
                     distribution package may be fixed: check its changelog.",
                    d.software,
                    list.join("; ")
                ),
            )
            .with_evidence(ev)
            .with_remediation(remediation)
    } else {
        SMTP_SOFTWARE_VERSION
            .finding(
                Status::Fail,
                format!(
                    "{t} announces {} {v}, affected by: {}.",
                    d.software,
                    list.join("; ")
                ),
            )
            .with_evidence(ev)
            .with_remediation(remediation)
    }
}
