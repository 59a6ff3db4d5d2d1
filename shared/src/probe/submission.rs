//! `smtp.submission`: the mail submission ports of the probed MX address.
//!
//! Only ports the port list found open are spoken to, once each:
//! - **587** (RFC 6409): greeting, `EHLO`, `QUIT`. It must offer STARTTLS
//!   and must not offer AUTH before it (a password would travel in clear).
//! - **465** (RFC 8314 implicit TLS): a TLS handshake as the first bytes,
//!   then the greeting inside TLS, then `QUIT`. A server that greets in
//!   plaintext there, or does not complete the handshake, fails. This needs
//!   the TLS stack (feature `tls`); without it the port is `unknown`.
//!
//! No login is ever tried and no message is sent. The certificate on 465
//! is not judged here (the `tls.*` rules judge port 25's).

use super::ports::{PortScan, PortState};
use super::rules::SMTP_SUBMISSION;
use super::smtp::{self, Transcript};
use super::ProbeOptions;
use crate::net::Network;
use crate::report::{Evidence, Finding, Status};
use std::net::IpAddr;

/// What one submission port showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortCheck {
    /// The port list found it closed or filtered.
    NotOpen,
    /// Could not be decided (why).
    Unknown(String),
    /// 587: whether STARTTLS was offered and the AUTH mechanisms offered
    /// before it (None: no AUTH).
    Plain {
        starttls: bool,
        auth: Option<Vec<String>>,
    },
    /// 465: the handshake completed and the server greeted inside TLS
    /// (`Ok(greeting)`), or why not (`Err`).
    Implicit(Result<String, String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub host: String,
    pub ip: IpAddr,
    pub p587: PortCheck,
    pub p465: PortCheck,
    pub transcripts: Vec<(u16, Transcript)>,
    /// Whether the port list found any port open (else "closed" may just
    /// mean this vantage point is blocked).
    pub any_port_open: bool,
}

fn open(scan: &PortScan, port: u16) -> bool {
    scan.ports
        .iter()
        .any(|(p, s)| *p == port && matches!(s, PortState::Open { .. }))
}

/// Speaks to 587 and 465 of `ip` when the port list found them open.
pub async fn probe<N: Network>(
    net: &N,
    host: &str,
    ip: IpAddr,
    scan: &PortScan,
    opts: &ProbeOptions,
    now_unix: i64,
) -> Submission {
    let mut transcripts = Vec::new();
    let p587 = async {
        if !open(scan, 587) {
            return (PortCheck::NotOpen, None);
        }
        let (mut c, greeting) = match smtp::connect(net, ip, 587, opts.connect_timeout_ms).await {
            Ok(x) => x,
            Err((e, t)) => return (PortCheck::Unknown(format!("no session: {e}")), Some(t)),
        };
        if greeting.code != 220 {
            let t = c.quit().await;
            return (
                PortCheck::Unknown(format!("the server greeted with {}", greeting.code)),
                Some(t),
            );
        }
        match c.ehlo(&opts.ehlo_name).await {
            Ok(h) if h.reply.is_positive() => {
                let check = PortCheck::Plain {
                    starttls: h.caps.starttls,
                    auth: h.caps.auth.clone(),
                };
                (check, Some(c.quit().await))
            }
            Ok(h) => {
                let t = c.quit().await;
                (
                    PortCheck::Unknown(format!("EHLO was refused with {}", h.reply.code)),
                    Some(t),
                )
            }
            Err(e) => (
                PortCheck::Unknown(format!("the session ended at EHLO: {e}")),
                Some(c.close().await),
            ),
        }
    };
    let p465 = async {
        if !open(scan, 465) {
            return (PortCheck::NotOpen, None);
        }
        implicit_tls(net, host, ip, opts, now_unix).await
    };
    let ((c587, t587), (c465, t465)) = futures::join!(p587, p465);
    if let Some(t) = t587 {
        transcripts.push((587, t));
    }
    if let Some(t) = t465 {
        transcripts.push((465, t));
    }
    Submission {
        host: host.to_string(),
        ip,
        p587: c587,
        p465: c465,
        transcripts,
        any_port_open: scan
            .ports
            .iter()
            .any(|(_, st)| matches!(st, PortState::Open { .. })),
    }
}

#[cfg(feature = "tls")]
async fn implicit_tls<N: Network>(
    net: &N,
    host: &str,
    ip: IpAddr,
    opts: &ProbeOptions,
    now_unix: i64,
) -> (PortCheck, Option<Transcript>) {
    let conn = match net
        .tcp_connect(&ip.to_string(), 465, opts.connect_timeout_ms)
        .await
    {
        Ok(c) => c,
        Err(e) => return (PortCheck::Unknown(format!("no connection: {e}")), None),
    };
    let now = u64::try_from(now_unix).unwrap_or(0);
    let tls = match crate::tls::stream::connect(conn, host, now).await {
        Ok(t) => t,
        Err(fail) => {
            return (
                PortCheck::Implicit(Err(format!(
                    "no TLS handshake as the first bytes: {}",
                    fail.error
                ))),
                None,
            )
        }
    };
    let mut transcript = Transcript::default();
    transcript.event(format!("connected to {ip} port 465, TLS handshake done"));
    let mut c = smtp::SmtpClient::resume(tls, transcript);
    match c.read_reply().await {
        Ok(r) if r.code == 220 => {
            let line = r.lines.first().cloned().unwrap_or_default();
            (
                PortCheck::Implicit(Ok(format!("220 {line}"))),
                Some(c.quit().await),
            )
        }
        Ok(r) => (
            PortCheck::Unknown(format!("the server greeted with {} inside TLS", r.code)),
            Some(c.quit().await),
        ),
        Err(e) => (
            PortCheck::Unknown(format!("no greeting inside TLS: {e}")),
            Some(c.close().await),
        ),
    }
}

#[cfg(not(feature = "tls"))]
async fn implicit_tls<N: Network>(
    _net: &N,
    _host: &str,
    _ip: IpAddr,
    _opts: &ProbeOptions,
    _now_unix: i64,
) -> (PortCheck, Option<Transcript>) {
    (
        PortCheck::Unknown(
            "this build has no TLS client, so implicit TLS on 465 was not tried".into(),
        ),
        None,
    )
}

const REMEDIATION: &str = "Require TLS before AUTH on the submission ports:\n\
     Postfix (master.cf):\n\
     submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n  \
     -o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_auth_only=yes\n\
     submissions inet n - y - - smtpd\n  -o smtpd_tls_wrappermode=yes\n  \
     -o smtpd_sasl_auth_enable=yes\n\
     Exim: daemon_smtp_ports = 25 : 465 : 587, tls_on_connect_ports = 465, \
     auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}\n\
     Sendmail (sendmail.mc): DAEMON_OPTIONS(`Port=submission, Name=MSA, M=Ea')dnl and \
     DAEMON_OPTIONS(`Port=smtps, Name=TLSMTA, M=s')dnl with define(`confAUTH_OPTIONS', `A p y')dnl";

/// The `smtp.submission` finding.
pub fn judge(s: &Submission) -> Finding {
    let t = format!("{} ({})", s.host, s.ip);
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let mut good = Vec::new();
    match &s.p587 {
        PortCheck::NotOpen => {}
        PortCheck::Unknown(why) => unknown.push(format!("port 587: {why}")),
        PortCheck::Plain { starttls, auth } => {
            if !starttls {
                problems.push("port 587 does not offer STARTTLS".to_string());
            }
            match auth {
                Some(m) => problems.push(format!(
                    "port 587 offers AUTH ({}) before STARTTLS",
                    if m.is_empty() {
                        "no mechanism listed".to_string()
                    } else {
                        m.join(" ")
                    }
                )),
                None if *starttls => {
                    good.push("port 587 offers STARTTLS and no AUTH before it".to_string())
                }
                None => {}
            }
        }
        PortCheck::Implicit(_) => unknown.push("port 587: unexpected result".into()),
    }
    match &s.p465 {
        PortCheck::NotOpen => {}
        PortCheck::Unknown(why) => unknown.push(format!("port 465: {why}")),
        PortCheck::Implicit(Ok(_)) => good.push("port 465 speaks TLS from the first byte".into()),
        PortCheck::Implicit(Err(why)) => problems.push(format!("port 465: {why}")),
        PortCheck::Plain { .. } => unknown.push("port 465: unexpected result".into()),
    }
    let mut evidence: Vec<Evidence> = s
        .transcripts
        .iter()
        .map(|(port, tr)| Evidence::Note {
            text: format!("port {port}:\n{}", tr.excerpt(12)),
        })
        .collect();
    if let PortCheck::Implicit(Err(why)) = &s.p465 {
        evidence.push(Evidence::Note {
            text: format!("port 465: {why}"),
        });
    }
    if !problems.is_empty() {
        let mut detail = format!(
            "{t}: {}. Mail clients send passwords on the submission ports, so these must \
             encrypt before authentication (RFC 8314).",
            problems.join("; ")
        );
        if !unknown.is_empty() {
            detail.push_str(&format!(" Not decided: {}.", unknown.join("; ")));
        }
        return SMTP_SUBMISSION
            .finding(Status::Fail, detail)
            .with_evidences(evidence)
            .with_remediation(REMEDIATION);
    }
    if !unknown.is_empty() {
        let mut detail = format!("{t}: not decided: {}.", unknown.join("; "));
        if !good.is_empty() {
            detail.push_str(&format!(" Seen: {}.", good.join("; ")));
        }
        return SMTP_SUBMISSION
            .finding(Status::Unknown, detail)
            .with_evidences(evidence);
    }
    if good.is_empty() && !s.any_port_open {
        return SMTP_SUBMISSION.finding(
            Status::Unknown,
            format!(
                "{t}: no mail port answered at all from here, so closed submission ports prove \
                 nothing (see smtp.reachable and smtp.exposed_ports)."
            ),
        );
    }
    if good.is_empty() {
        return SMTP_SUBMISSION
            .finding(
                Status::Pass,
                format!(
                    "{t} does not answer on the submission ports 587 and 465 (submission may \
                     run on another host, which this audit does not probe)."
                ),
            )
            .with_evidences(evidence);
    }
    SMTP_SUBMISSION
        .finding(Status::Pass, format!("{t}: {}.", good.join("; ")))
        .with_evidences(evidence)
}

/// `smtp.submission` when the port list was not made.
pub fn not_checked(why: &str) -> Finding {
    SMTP_SUBMISSION.finding(Status::Unknown, why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::NetError;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;

    const IP: &str = "198.51.100.25";

    fn scan(open_ports: &[u16]) -> PortScan {
        PortScan {
            ip: IP.parse().unwrap(),
            ports: [25u16, 465, 587]
                .iter()
                .map(|p| {
                    let state = if open_ports.contains(p) {
                        PortState::Open {
                            lines: Vec::new(),
                            plaintext_login: None,
                        }
                    } else {
                        PortState::Closed(NetError::Connect("refused".into()))
                    };
                    (*p, state)
                })
                .collect(),
        }
    }

    fn run(net: &ScriptedNet, open_ports: &[u16]) -> Finding {
        let s = block_on(probe(
            net,
            "mail.example.org",
            IP.parse().unwrap(),
            &scan(open_ports),
            &ProbeOptions::default(),
            1_800_000_000,
        ));
        judge(&s)
    }

    const EHLO_OK: &[u8] =
        b"220 mail.example.org ESMTP\r\n250-mail.example.org\r\n250-STARTTLS\r\n250 8BITMIME\r\n221 bye\r\n";

    #[test]
    fn starttls_without_auth_passes() {
        let net = ScriptedNet::new().tcp_peer(IP, 587, EHLO_OK);
        let f = run(&net, &[587]);
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        assert!(f.detail.contains("offers STARTTLS"), "{}", f.detail);
    }

    #[test]
    fn no_starttls_or_plaintext_auth_fails() {
        let net = ScriptedNet::new().tcp_peer(
            IP,
            587,
            b"220 mail ESMTP\r\n250-mail\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n221 bye\r\n",
        );
        let f = run(&net, &[587]);
        assert_eq!(f.status, Status::Fail, "{}", f.detail);
        assert!(f.detail.contains("does not offer STARTTLS"), "{}", f.detail);
        assert!(f.detail.contains("AUTH (PLAIN LOGIN)"), "{}", f.detail);
        assert!(f.remediation.contains("smtpd_tls_security_level=encrypt"));
        let Evidence::Note { text } = &f.evidence[0] else {
            panic!("{:?}", f.evidence)
        };
        assert!(
            text.contains("port 587") && text.contains("AUTH PLAIN LOGIN"),
            "{text}"
        );
    }

    #[test]
    fn closed_ports_pass_and_say_so() {
        let f = run(&ScriptedNet::new(), &[25]);
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        assert!(f.detail.contains("does not answer"), "{}", f.detail);
        // With nothing open at all, closed proves nothing.
        let f = run(&ScriptedNet::new(), &[]);
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
    }

    #[test]
    fn a_broken_session_is_unknown_never_pass() {
        let net = ScriptedNet::new().tcp_peer(IP, 587, b"421 busy\r\n");
        let f = run(&net, &[587]);
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
        assert!(f.detail.contains("421"), "{}", f.detail);
    }

    #[cfg(feature = "tls")]
    #[test]
    fn plaintext_greeting_on_465_fails() {
        let net = ScriptedNet::new().tcp_peer(IP, 465, b"220 mail ESMTP\r\n");
        let f = run(&net, &[465]);
        assert_eq!(f.status, Status::Fail, "{}", f.detail);
        assert!(f.detail.contains("port 465"), "{}", f.detail);
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn without_tls_465_is_unknown() {
        let net = ScriptedNet::new().tcp_peer(IP, 465, b"220 mail ESMTP\r\n");
        let f = run(&net, &[465]);
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
    }
}
