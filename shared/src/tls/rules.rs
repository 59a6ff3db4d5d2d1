//! The TLS rules: pure judgements over probe results ([`super::probe`]) and
//! certificate analyses ([`super::cert`]), with the caller's time.
//!
//! Certificate judges take `Result<&CertReport, &str>`: `Err` says why no
//! certificate could be seen (connection failed, STARTTLS refused, the
//! handshake broke off), and the finding is then `unknown` with that reason.

use super::cert::{CertReport, CertSummary, Trust};
use super::hello::{self, Weakness};
use super::ics::rfc3339;
use super::probe::{CipherSupport, Probe, Verdict, VersionSupport};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub static TLS_VERSIONS: Rule = Rule {
    id: "tls.versions",
    area: Area::Transport,
    title: "TLS protocol versions",
    severity: Severity::High,
    description: "The server accepts SSLv3, TLS 1.0 or TLS 1.1 (high), does not accept TLS 1.2 \
        (high), or lacks TLS 1.3 (low). Each version is asked on its own connection with a \
        ClientHello offering only that version.",
    refs: &["RFC 8996", "RFC 9325 §3.1.1", "NIST SP 800-52r2 §3.1"],
};

pub static TLS_CIPHERS: Rule = Rule {
    id: "tls.ciphers",
    area: Area::Transport,
    title: "TLS cipher suites",
    severity: Severity::High,
    description: "The server agrees to a NULL, EXPORT, single-DES, RC4, 3DES or anonymous cipher \
        suite when offered only those (high), or has only CBC suites on TLS 1.2, no AEAD \
        (GCM, ChaCha20-Poly1305, CCM) (low).",
    refs: &["RFC 7465", "RFC 9325 §4.1", "NIST SP 800-52r2 §3.3.1"],
};

pub static TLS_CERT_EXPIRY: Rule = Rule {
    id: "tls.cert_expiry",
    area: Area::Transport,
    title: "Certificate expiry",
    severity: Severity::High,
    description: "The server certificate has expired (critical), is not yet valid (high), or \
        expires within 30 days (high) or 60 days (medium). A calendar reminder (.ics) of the \
        expiry is offered.",
    refs: &["RFC 5280 §4.1.2.5", "RFC 8461 §4.2"],
};

pub static TLS_CERT_NAME: Rule = Rule {
    id: "tls.cert_name",
    area: Area::Transport,
    title: "Certificate names",
    severity: Severity::Medium,
    description: "The certificate's subjectAltName DNS names do not cover the MX host name \
        (RFC 6125: a wildcard only as the whole leftmost label; the CN is not used when SANs \
        exist) — high when the domain's MTA-STS policy is in enforce mode, since senders then \
        refuse delivery.",
    refs: &["RFC 6125 §6.4", "RFC 8461 §4.2", "RFC 7672 §3.2.3"],
};

pub static TLS_CERT_CHAIN: Rule = Rule {
    id: "tls.cert_chain",
    area: Area::Transport,
    title: "Certificate chain",
    severity: Severity::Medium,
    description: "The presented chain does not reach a trusted root (Mozilla's root list, plus \
        any root the operator configured): the certificate is self-signed, intermediates are \
        missing, the root is unknown, or a signature or constraint in the path is invalid.",
    refs: &["RFC 5280 §6", "RFC 8461 §4.2", "RFC 5246 §7.4.2"],
};

pub static TLS_CERT_KEY: Rule = Rule {
    id: "tls.cert_key",
    area: Area::Transport,
    title: "Certificate key and signature",
    severity: Severity::Medium,
    description: "The server certificate has an RSA or DSA key below 2048 bits or an EC key \
        below 256 bits, or a certificate in the chain (below the root) is signed with SHA-1 \
        or MD5.",
    refs: &[
        "NIST SP 800-131A r2",
        "NIST SP 800-57 Part 1 §5.6",
        "RFC 9155",
    ],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &TLS_VERSIONS,
    &TLS_CIPHERS,
    &TLS_CERT_EXPIRY,
    &TLS_CERT_NAME,
    &TLS_CERT_CHAIN,
    &TLS_CERT_KEY,
];

fn note(text: impl Into<String>) -> Evidence {
    Evidence::Note { text: text.into() }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Accepted => "accepted",
        Verdict::NotAccepted => "not accepted",
        Verdict::Unknown => "unknown",
    }
}

fn probe_note(what: &str, p: &Probe) -> Evidence {
    note(format!(
        "{what}: {} ({})",
        verdict_word(p.verdict),
        p.detail
    ))
}

const VERSIONS_FIX: &str = "Accept TLS 1.2 and 1.3 only.\n\
Postfix (main.cf, 3.6+):\n  smtpd_tls_protocols = >=TLSv1.2\n  smtpd_tls_mandatory_protocols = >=TLSv1.2\n\
  (older: smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1)\n\
Exim (OpenSSL): openssl_options = +no_sslv2 +no_sslv3 +no_tlsv1 +no_tlsv1_1\n\
Exim (GnuTLS): tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2\n\
Sendmail (sendmail.mc): LOCAL_CONFIG\n  O ServerSSLOptions=+SSL_OP_NO_SSLv2 +SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1\n\
OpenSMTPD: listen on ... tls protocols \"tlsv1.2,tlsv1.3\"\n\
Dovecot (IMAP/POP): ssl_min_protocol = TLSv1.2\n\
Exchange: disable TLS 1.0/1.1 in SCHANNEL (Microsoft's \"Exchange Server TLS guidance\").\n\
TLS 1.3 needs OpenSSL 1.1.1 or later and no setting that excludes TLSv1.3.";

/// `tls.versions` for the server `host` (as probed, e.g. "mx1.example.org:25").
pub fn judge_versions(host: &str, v: &VersionSupport) -> Finding {
    let ev: Vec<Evidence> = v
        .all()
        .iter()
        .map(|(ver, p)| probe_note(&hello::version_name(*ver), p))
        .collect();
    let mut problems = Vec::new();
    let mut sev = Severity::Info;
    let legacy: Vec<String> = v.all()[..3]
        .iter()
        .filter(|(_, p)| p.accepted())
        .map(|(ver, _)| hello::version_name(*ver))
        .collect();
    if !legacy.is_empty() {
        problems.push(format!("accepts {}", legacy.join(", ")));
        sev = Severity::High;
    }
    if v.tls12.verdict == Verdict::NotAccepted {
        problems.push("does not accept TLS 1.2".into());
        sev = Severity::High;
    }
    if v.tls13.verdict == Verdict::NotAccepted {
        problems.push("does not accept TLS 1.3".into());
        sev = sev.max(Severity::Low);
    }
    let unknown: Vec<String> = v
        .all()
        .iter()
        .filter(|(_, p)| p.verdict == Verdict::Unknown)
        .map(|(ver, p)| format!("{} ({})", hello::version_name(*ver), p.detail))
        .collect();
    let undecided = if unknown.is_empty() {
        String::new()
    } else {
        format!(" Undecided: {}.", unknown.join("; "))
    };
    if !problems.is_empty() {
        return TLS_VERSIONS
            .finding(
                Status::Fail,
                format!("{host} {}.{undecided}", problems.join(" and ")),
            )
            .with_severity(sev)
            .with_evidences(ev)
            .with_remediation(VERSIONS_FIX);
    }
    if !unknown.is_empty() {
        return TLS_VERSIONS
            .finding(
                Status::Unknown,
                format!("Not every TLS version question to {host} was answered.{undecided}"),
            )
            .with_evidences(ev);
    }
    TLS_VERSIONS
        .finding(
            Status::Pass,
            format!("{host} accepts TLS 1.2 and 1.3 and refuses SSLv3, TLS 1.0 and 1.1."),
        )
        .with_evidences(ev)
}

const CIPHERS_FIX: &str = "Offer only strong suites (ECDHE/DHE with AES-GCM or ChaCha20-Poly1305).\n\
Postfix (main.cf):\n  smtpd_tls_mandatory_ciphers = high\n  smtpd_tls_ciphers = high\n\
  smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5\n\
  (Postfix enables anonymous suites on opportunistic smtpd TLS unless excluded)\n\
Exim (OpenSSL): tls_require_ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!RC4\n\
Exim (GnuTLS): tls_require_ciphers = SECURE192:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2\n\
Sendmail (sendmail.mc): LOCAL_CONFIG\n  O CipherList=HIGH:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!RC4:!MD5\n\
OpenSMTPD: listen on ... tls ciphers \"HIGH:!aNULL:!3DES:!RC4\"\n\
Dovecot: ssl_cipher_list = HIGH:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!RC4:!MD5";

/// `tls.ciphers` for the server `host`.
pub fn judge_ciphers(host: &str, c: &CipherSupport) -> Finding {
    let mut ev: Vec<Evidence> = c.probes.iter().map(|(q, p)| probe_note(q, p)).collect();
    if !c.weak.is_empty() {
        let list: Vec<String> = c
            .weak
            .iter()
            .map(|w| {
                let kinds: Vec<&str> = w.weaknesses.iter().map(|k| k.name()).collect();
                format!(
                    "{} on {} ({})",
                    hello::suite_name(w.suite),
                    hello::version_name(w.version),
                    kinds.join(", ")
                )
            })
            .collect();
        for w in &list {
            ev.insert(0, note(format!("agreed: {w}")));
        }
        let kinds: Vec<&str> = c.kinds().iter().map(|k: &Weakness| k.name()).collect();
        let more = if c.complete {
            ""
        } else {
            " Not every question was answered, so there may be more."
        };
        return TLS_CIPHERS
            .finding(
                Status::Fail,
                format!(
                    "{host} agrees to weak cipher suites ({}): {}.{more}",
                    kinds.join(", "),
                    list.join("; ")
                ),
            )
            .with_evidences(ev)
            .with_remediation(CIPHERS_FIX);
    }
    if !c.complete || c.tls12_aead == Some(Verdict::Unknown) {
        return TLS_CIPHERS
            .finding(
                Status::Unknown,
                format!("The cipher-suite questions to {host} were not all answered."),
            )
            .with_evidences(ev);
    }
    if c.tls12_aead == Some(Verdict::NotAccepted) {
        return TLS_CIPHERS
            .finding(
                Status::Fail,
                format!(
                    "{host} has only CBC cipher suites on TLS 1.2 (no AES-GCM or \
                     ChaCha20-Poly1305); CBC with TLS's MAC-then-encrypt invites padding-oracle \
                     attacks (Lucky13)."
                ),
            )
            .with_severity(Severity::Low)
            .with_evidences(ev)
            .with_remediation(CIPHERS_FIX);
    }
    TLS_CIPHERS
        .finding(
            Status::Pass,
            format!("{host} refused every NULL, EXPORT, DES, RC4, 3DES and anonymous suite."),
        )
        .with_evidences(ev)
}

/// The evidence every certificate finding carries.
fn cert_evidence(r: &CertReport) -> Vec<Evidence> {
    let mut ev = Vec::new();
    if let Some(n) = &r.negotiated {
        ev.push(note(format!("negotiated: {n}")));
    }
    for (i, c) in r.chain.iter().enumerate() {
        let role = if i == 0 {
            "server certificate".to_string()
        } else {
            format!("chain[{i}]")
        };
        ev.push(note(format!(
            "{role}: subject {}; issuer {}; SANs {}; notBefore {}; notAfter {}; key {} {}; \
             signature {}; SHA-256 {}",
            c.subject,
            c.issuer,
            if c.dns_names.is_empty() && c.ip_names.is_empty() {
                "(none)".to_string()
            } else {
                c.dns_names
                    .iter()
                    .chain(&c.ip_names)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            rfc3339(c.not_before),
            rfc3339(c.not_after),
            c.key_type,
            c.key_bits,
            c.signature_algorithm,
            c.sha256
        )));
    }
    for (i, e) in &r.unparsable {
        ev.push(note(format!("chain[{i}] could not be parsed: {e}")));
    }
    ev
}

/// The certificate findings' common start: unknown when nothing was seen,
/// and the unparsable-leaf case.
fn leaf_or<'a>(
    rule: &'static Rule,
    cert: Result<&'a CertReport, &str>,
) -> Result<(&'a CertReport, &'a CertSummary), Box<Finding>> {
    match cert {
        Err(why) => Err(Box::new(rule.finding(
            Status::Unknown,
            format!("No certificate could be examined: {why}."),
        ))),
        Ok(r) => match r.leaf() {
            Some(l) => Ok((r, l)),
            None => Err(Box::new(
                rule.finding(
                    Status::Unknown,
                    format!(
                        "{} presented no certificate that could be parsed (see tls.cert_chain).",
                        r.host
                    ),
                )
                .with_evidences(cert_evidence(r)),
            )),
        },
    }
}

const RENEW_FIX: &str = "Renew the certificate and reload the mail server; automate renewal \
(certbot renew, acme.sh --cron) with a deploy hook that reloads it:\n\
  certbot renew --deploy-hook \"systemctl reload postfix dovecot\"\n\
Postfix reads smtpd_tls_chain_files (or smtpd_tls_cert_file/smtpd_tls_key_file) at reload; \
Exim reads tls_certificate/tls_privatekey per connection. Import the offered .ics reminder \
into a calendar the team watches.";

/// `tls.cert_expiry` at `now_unix`. Hosts offer the reminder from
/// [`super::ics::expiry_ics`] with the leaf of the same report.
pub fn judge_cert_expiry(cert: Result<&CertReport, &str>, now_unix: i64) -> Finding {
    let (r, leaf) = match leaf_or(&TLS_CERT_EXPIRY, cert) {
        Ok(x) => x,
        Err(f) => return *f,
    };
    let mut ev = cert_evidence(r);
    for c in r.chain.iter().skip(1).filter(|c| !c.self_signed) {
        if c.not_after < now_unix {
            ev.push(note(format!(
                "intermediate {} expired on {}",
                c.subject,
                rfc3339(c.not_after)
            )));
        }
    }
    let host = &r.host;
    let until = rfc3339(leaf.not_after);
    let secs_left = leaf.not_after - now_unix;
    let days_left = secs_left.div_euclid(86_400);
    let (status, sev, detail) = if secs_left < 0 {
        (
            Status::Fail,
            Severity::Critical,
            format!(
                "The certificate of {host} expired on {until} ({} days ago): senders that \
                 check certificates (MTA-STS, DANE-TA) will not deliver.",
                (-secs_left).div_euclid(86_400)
            ),
        )
    } else if leaf.not_before > now_unix {
        (
            Status::Fail,
            Severity::High,
            format!(
                "The certificate of {host} is not valid before {} (check the server's clock \
                 and the issuance).",
                rfc3339(leaf.not_before)
            ),
        )
    } else if days_left < 30 {
        (
            Status::Fail,
            Severity::High,
            format!("The certificate of {host} expires in {days_left} days ({until})."),
        )
    } else if days_left < 60 {
        (
            Status::Fail,
            Severity::Medium,
            format!("The certificate of {host} expires in {days_left} days ({until})."),
        )
    } else {
        (
            Status::Pass,
            Severity::High,
            format!("The certificate of {host} is valid for {days_left} more days ({until})."),
        )
    };
    let f = TLS_CERT_EXPIRY
        .finding(status, detail)
        .with_evidences(ev)
        .with_remediation(RENEW_FIX);
    if status == Status::Fail {
        f.with_severity(sev)
    } else {
        f
    }
}

/// Does the certificate name `pattern` (a SAN dNSName) cover `host`?
/// RFC 6125 §6.4: case-insensitive, trailing dots ignored; a wildcard only
/// as the entire leftmost label, matching exactly one label, and never over
/// fewer than two remaining labels (`*.com`); no partial-label wildcards
/// (`f*.example.org`, `*x.example.org`).
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if p.is_empty() || h.is_empty() || h.contains('*') {
        return false;
    }
    if let Some(rest) = p.strip_prefix("*.") {
        if rest.contains('*') || rest.split('.').count() < 2 || rest.split('.').any(str::is_empty) {
            return false;
        }
        return match h.split_once('.') {
            Some((first, hrest)) => !first.is_empty() && hrest == rest,
            None => false,
        };
    }
    !p.contains('*') && p == h
}

/// `tls.cert_name`: do the leaf's names cover the host connected to?
/// `mta_sts_enforce` raises a failure to high (senders then refuse).
pub fn judge_cert_name(cert: Result<&CertReport, &str>, mta_sts_enforce: bool) -> Finding {
    let (r, leaf) = match leaf_or(&TLS_CERT_NAME, cert) {
        Ok(x) => x,
        Err(f) => return *f,
    };
    let host = &r.host;
    let ev = cert_evidence(r);
    let sev = if mta_sts_enforce {
        Severity::High
    } else {
        Severity::Medium
    };
    let fix = format!(
        "Get a certificate whose subjectAltName includes {host}, e.g.\n  certbot certonly \
         --standalone -d {host}\nand point the mail server at it (Postfix smtpd_tls_chain_files; \
         Exim tls_certificate; Dovecot ssl_cert). The MX record must name that host."
    );
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    let matched = if is_ip {
        leaf.ip_names
            .iter()
            .find(|n| n.parse::<std::net::IpAddr>().ok() == host.parse::<std::net::IpAddr>().ok())
    } else {
        leaf.dns_names.iter().find(|n| name_matches(n, host))
    };
    if let Some(n) = matched {
        return TLS_CERT_NAME
            .finding(
                Status::Pass,
                format!("The certificate of {host} covers it (subjectAltName {n})."),
            )
            .with_evidences(ev);
    }
    let names = if leaf.dns_names.is_empty() {
        "no DNS names in subjectAltName".to_string()
    } else {
        format!("names {}", leaf.dns_names.join(", "))
    };
    if leaf.dns_names.is_empty()
        && !is_ip
        && leaf.common_names.iter().any(|cn| name_matches(cn, host))
    {
        return TLS_CERT_NAME
            .finding(
                Status::Warn,
                format!(
                    "The certificate of {host} has no subjectAltName; only its common name \
                     matches, which current clients (RFC 6125, CA/B rules) ignore."
                ),
            )
            .with_severity(sev)
            .with_evidences(ev)
            .with_remediation(fix);
    }
    TLS_CERT_NAME
        .finding(
            Status::Fail,
            format!(
                "The certificate presented by {host} does not cover that name ({names}){}.",
                if mta_sts_enforce {
                    "; the domain's MTA-STS policy is in enforce mode, so senders that honour \
                     it will not deliver"
                } else {
                    ""
                }
            ),
        )
        .with_severity(sev)
        .with_evidences(ev)
        .with_remediation(fix)
}

/// `tls.cert_chain`.
pub fn judge_cert_chain(cert: Result<&CertReport, &str>) -> Finding {
    let r = match cert {
        Err(why) => {
            return TLS_CERT_CHAIN.finding(
                Status::Unknown,
                format!("No certificate could be examined: {why}."),
            )
        }
        Ok(r) => r,
    };
    let host = &r.host;
    let mut ev = cert_evidence(r);
    if let Err(e) = &r.handshake_signature {
        ev.push(note(format!("handshake signature not verified: {e}")));
    }
    let fix = format!(
        "Serve the full chain (server certificate first, then the intermediates) from a \
         publicly trusted CA (e.g. Let's Encrypt):\n\
         Postfix: smtpd_tls_chain_files = /etc/letsencrypt/live/{host}/privkey.pem, \
         /etc/letsencrypt/live/{host}/fullchain.pem\n\
         Exim: tls_certificate = /etc/letsencrypt/live/{host}/fullchain.pem\n\
         Sendmail: define(`confSERVER_CERT', `.../fullchain.pem')\n\
         OpenSMTPD: pki {host} cert \"/etc/letsencrypt/live/{host}/fullchain.pem\"\n\
         (With DANE-EE TLSA records senders check the TLSA record instead; MTA-STS senders \
         still require a trusted chain.)"
    );
    let (detail, ca_urls) = match &r.trust {
        Trust::Trusted { root } => {
            let detail =
                format!("The certificate chain of {host} leads to the trusted root {root}.");
            let f = TLS_CERT_CHAIN
                .finding(Status::Pass, detail)
                .with_evidences(ev);
            return f;
        }
        Trust::SelfSigned => (
            format!(
                "The certificate of {host} is self-signed: no sender can verify it (MTA-STS \
                 enforce fails)."
            ),
            false,
        ),
        Trust::Incomplete { missing_issuer } => (
            format!(
                "The chain sent by {host} is incomplete: the issuer {missing_issuer} was not \
                 sent and is not a trusted root. An intermediate is missing (or the CA is \
                 unknown)."
            ),
            true,
        ),
        Trust::UntrustedRoot { root } => (
            format!(
                "The certificate chain of {host} ends at {root}, a root that is not publicly \
                 trusted."
            ),
            false,
        ),
        Trust::Invalid { reason } => (
            format!("The certificate chain of {host} is not valid: {reason}."),
            false,
        ),
    };
    if ca_urls {
        for url in r.chain.iter().flat_map(|c| &c.ca_issuers) {
            ev.push(note(format!("caIssuers (AIA): {url}")));
        }
    }
    TLS_CERT_CHAIN
        .finding(Status::Fail, detail)
        .with_evidences(ev)
        .with_remediation(fix)
}

/// `tls.cert_key`.
pub fn judge_cert_key(cert: Result<&CertReport, &str>) -> Finding {
    let (r, leaf) = match leaf_or(&TLS_CERT_KEY, cert) {
        Ok(x) => x,
        Err(f) => return *f,
    };
    let host = &r.host;
    let mut ev = cert_evidence(r);
    let mut problems = Vec::new();
    let small = match leaf.key_type.as_str() {
        "RSA" | "DSA" => leaf.key_bits < 2048,
        t if t.starts_with("EC") => leaf.key_bits < 256,
        _ => false,
    };
    if small {
        problems.push(format!(
            "the server key is {} {} bits",
            leaf.key_type, leaf.key_bits
        ));
    } else if leaf.key_type == "DSA" {
        problems.push("the server key is DSA, which TLS 1.3 and current clients do not use".into());
    }
    for (i, c) in r.chain.iter().enumerate() {
        if i > 0 && c.self_signed {
            continue; // a root's self-signature is not checked by anyone
        }
        if let Some(h) = &c.weak_signature_hash {
            problems.push(format!(
                "{} is signed with {h} ({})",
                if i == 0 {
                    "the server certificate".to_string()
                } else {
                    format!("the intermediate {}", c.subject)
                },
                c.signature_algorithm
            ));
        }
    }
    if let Err(e) = &r.handshake_signature {
        ev.push(note(format!("handshake signature not verified: {e}")));
    }
    if problems.is_empty() {
        return TLS_CERT_KEY
            .finding(
                Status::Pass,
                format!(
                    "The certificate of {host} has a {} {}-bit key and is signed with {}.",
                    leaf.key_type, leaf.key_bits, leaf.signature_algorithm
                ),
            )
            .with_evidences(ev);
    }
    TLS_CERT_KEY
        .finding(
            Status::Fail,
            format!("Certificate of {host}: {}.", problems.join("; ")),
        )
        .with_evidences(ev)
        .with_remediation(
            "Issue a new key and certificate: ECDSA P-256 (or RSA 2048/3072) signed with \
             SHA-256, e.g.\n  certbot certonly --key-type ecdsa --elliptic-curve secp256r1 -d \
             mail.example.org\n  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
             -nodes -keyout mail.key -out mail.csr\nThen install it (Postfix \
             smtpd_tls_chain_files, Exim tls_certificate/tls_privatekey) and reload.",
        )
}
