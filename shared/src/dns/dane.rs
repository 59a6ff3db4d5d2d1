//! DANE for SMTP (RFC 7672): the MX hosts' TLSA records and the rule
//! `dane.tlsa`, plus the certificate matching the SMTP/TLS probe uses.
//!
//! API:
//! - [`lookup`]`(resolver, &MxLookup) -> DaneLookup`: one TLSA query
//!   (`_25._tcp.<host>`, [`tlsa_name`]) per MX host, all at once.
//! - [`judge`]`(domain, &DaneLookup) -> Finding`: the published records.
//! - [`match_chain`]`(&[Tlsa], chain_der, mx_host) -> DaneMatch`: whether a
//!   served certificate chain satisfies the records, for the probe, which
//!   reports a mismatch as `dane.tlsa` fail (critical).
//! - [`Tlsa`]: one record, with [`Tlsa::problem`] (malformed?) and
//!   [`Tlsa::usable`] (would an SMTP client use it?).
//!
//! `judge` decides, per MX host, then for the domain (worst first):
//! - TLSA records in an answer the resolver did not validate (no AD: the
//!   zone is unsigned, or bogus and asked with CD): senders ignore them →
//!   fail, medium;
//! - a malformed record (usage, selector or matching type outside RFC
//!   6698/7218's registries, a SHA-256 digest not 32 bytes long, SHA-512 not
//!   64, empty data): unusable → fail, medium;
//! - usage 0 (PKIX-TA) or 1 (PKIX-EE), which SMTP clients treat as
//!   unusable (RFC 7672 §3.1.3) → fail, low;
//! - no rollover-safe set: a single `3 x x` record and no `2 x x`, so a new
//!   key breaks delivery until the record changes (RFC 7671 §8.1, the
//!   "current + next" practice) → info;
//! - TLSA at some MX hosts but not others → info (a sender is protected
//!   only at the hosts with records);
//! - no TLSA at any MX host → info (DANE not deployed);
//! - a failed TLSA look-up → unknown (and a DANE sender defers mail to a
//!   host whose TLSA look-up fails, RFC 7672 §2.2);
//! - otherwise pass (the match against the served certificates is the
//!   probe's part).
//!
//! `match_chain` follows RFC 7671/7672: only usages 2 (DANE-TA) and 3
//! (DANE-EE) with selector 0 (whole certificate) or 1 (SubjectPublicKeyInfo)
//! and matching 0 (exact), 1 (SHA-256) or 2 (SHA-512) are usable. DANE-EE
//! matches the server's own certificate, ignoring its names and dates
//! (RFC 7672 §3.1.1). DANE-TA matches an issuer on the chain from the
//! server's certificate up (linked by subject/issuer names), and then the
//! server certificate's names must cover the MX host (RFC 7672 §3.2.3;
//! a wildcard stands for one left-most label). Not done here: signature
//! verification along the DANE-TA chain (the engine carries no signature
//! crypto; a server sends the chain its CA gave it, so name linkage finds
//! the same path) and validity dates (the engine has no clock: the probe
//! checks expiry under `tls.cert_expiry`).
//!
//! Crates: `x509-parser` extracts the SubjectPublicKeyInfo and names,
//! `sha2` computes the digests; both are pure Rust and build for wasm32.

use crate::dns::mx::MxLookup;
use crate::dns::{DnsAnswer, DnsError, RecordType, Resolver, RrData};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use futures::future::join_all;
use hickory_proto::op::ResponseCode;
use sha2::{Digest, Sha256, Sha512};
use std::fmt;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

pub static DANE_TLSA: Rule = Rule {
    id: "dane.tlsa",
    area: Area::Transport,
    title: "DANE TLSA records",
    severity: Severity::Critical,
    description: "TLSA records are present but the zone is not DNSSEC-signed (medium), are \
        malformed (undefined parameters, digest of the wrong length: medium), use usage 0/1 on \
        port 25 (low), match none of the served certificates (critical: DANE senders will not \
        deliver), or have no rollover-safe pair (info).",
    refs: &[
        "RFC 6698",
        "RFC 7671 §5, §8.1",
        "RFC 7672 §2.2, §3.1",
        "RFC 7218",
    ],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&DANE_TLSA];

/// One TLSA record (RFC 6698 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    pub data: Vec<u8>,
}

impl Tlsa {
    pub fn from_rdata(d: &RrData) -> Option<Tlsa> {
        match d {
            RrData::Tlsa {
                usage,
                selector,
                matching,
                data,
            } => Some(Tlsa {
                usage: *usage,
                selector: *selector,
                matching: *matching,
                data: data.clone(),
            }),
            _ => None,
        }
    }

    /// Why no client can use this record, if it is malformed.
    pub fn problem(&self) -> Option<String> {
        if self.usage > 3 {
            return Some(format!("certificate usage {} is not defined", self.usage));
        }
        if self.selector > 1 {
            return Some(format!("selector {} is not defined", self.selector));
        }
        match (self.matching, self.data.len()) {
            (m, _) if m > 2 => Some(format!("matching type {m} is not defined")),
            (_, 0) => Some("the certificate association data is empty".into()),
            (1, n) if n != 32 => Some(format!(
                "a SHA-256 digest is 32 bytes, this one is {n} bytes"
            )),
            (2, n) if n != 64 => Some(format!(
                "a SHA-512 digest is 64 bytes, this one is {n} bytes"
            )),
            _ => None,
        }
    }

    /// Whether an SMTP client uses it: well-formed, usage 2 or 3.
    pub fn usable(&self) -> bool {
        matches!(self.usage, 2 | 3) && self.problem().is_none()
    }

    /// Whether this record's association matches `cert` (selector and
    /// matching type applied). False for unusable parameters.
    fn matches(&self, cert: &Cert<'_>) -> bool {
        let selected = match self.selector {
            0 => cert.der,
            1 => cert.spki,
            _ => return false,
        };
        match self.matching {
            0 => selected == self.data.as_slice(),
            1 => Sha256::digest(selected).as_slice() == self.data.as_slice(),
            2 => Sha512::digest(selected).as_slice() == self.data.as_slice(),
            _ => false,
        }
    }
}

impl fmt::Display for Tlsa {
    /// Presentation format: `3 1 1 <hex>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rr = RrData::Tlsa {
            usage: self.usage,
            selector: self.selector,
            matching: self.matching,
            data: self.data.clone(),
        };
        rr.fmt(f)
    }
}

/// The TLSA records of an answer.
pub fn records(a: &DnsAnswer) -> Vec<Tlsa> {
    a.of_type().filter_map(Tlsa::from_rdata).collect()
}

/// Where the TLSA records of an MX host's SMTP service are: `_25._tcp.<host>`.
pub fn tlsa_name(host: &str) -> String {
    format!("_25._tcp.{host}")
}

#[derive(Debug, Clone)]
pub struct HostTlsa {
    pub host: String,
    pub answer: Result<DnsAnswer, DnsError>,
}

#[derive(Debug, Clone)]
pub struct DaneLookup {
    /// Why the MX hosts are not known, if they are not.
    pub mx_unknown: Option<String>,
    /// The domain's MX answer was validated (AD).
    pub mx_authentic: bool,
    pub hosts: Vec<HostTlsa>,
}

/// The TLSA records of every MX host (one query each, all at once).
pub async fn lookup<N: Network>(resolver: &Resolver<'_, N>, mx: &MxLookup) -> DaneLookup {
    let mx_unknown = match &mx.answer {
        Err(e) => Some(format!("the MX records could not be read ({e})")),
        Ok(a) if !a.is_definite() => Some(format!(
            "the resolver answered {} for the MX records",
            a.rcode_text()
        )),
        Ok(_) => None,
    };
    let mx_authentic = mx.answer.as_ref().is_ok_and(|a| a.authentic_data);
    let queries = mx.hosts.iter().map(|h| async move {
        HostTlsa {
            host: h.host.clone(),
            answer: resolver.query(&tlsa_name(&h.host), RecordType::TLSA).await,
        }
    });
    DaneLookup {
        mx_unknown,
        mx_authentic,
        hosts: join_all(queries).await,
    }
}

/// One host's judgement: problems (with severity), info notes, or why not
/// decided.
#[derive(Default)]
struct HostVerdict {
    has_records: bool,
    problems: Vec<(Severity, String)>,
    notes: Vec<String>,
    undecided: Option<String>,
}

fn judge_host(h: &HostTlsa) -> HostVerdict {
    let mut v = HostVerdict::default();
    let name = tlsa_name(&h.host);
    let a = match &h.answer {
        Err(e) => {
            v.undecided = Some(format!("{name}: the TLSA look-up failed ({e})"));
            return v;
        }
        Ok(a) if !a.is_definite() => {
            let bogus_hint = if a.rcode == ResponseCode::ServFail {
                "; a DANE sender defers mail to this host while its TLSA look-up fails"
            } else {
                ""
            };
            v.undecided = Some(format!(
                "{name}: the resolver answered {}{bogus_hint}",
                a.rcode_text()
            ));
            return v;
        }
        Ok(a) => a,
    };
    let recs = records(a);
    if recs.is_empty() {
        return v;
    }
    v.has_records = true;
    if !a.authentic_data {
        v.problems.push((
            Severity::Medium,
            format!(
                "{name}: TLSA records are published but the resolver did not validate them \
                 (no AD bit): the zone is not DNSSEC-signed, so senders ignore them"
            ),
        ));
    }
    for r in &recs {
        if let Some(why) = r.problem() {
            v.problems.push((
                Severity::Medium,
                format!("{name}: \"{r}\" is malformed: {why}"),
            ));
        } else if r.usage <= 1 {
            v.problems.push((
                Severity::Low,
                format!(
                    "{name}: \"{r}\" uses usage {} ({}), which SMTP clients treat as unusable \
                     (RFC 7672 §3.1.3)",
                    r.usage,
                    if r.usage == 0 { "PKIX-TA" } else { "PKIX-EE" }
                ),
            ));
        }
    }
    let usable: Vec<&Tlsa> = recs.iter().filter(|r| r.usable()).collect();
    if usable.is_empty() {
        v.notes.push(format!(
            "{name}: no usable record, so DANE senders fall back to unauthenticated TLS"
        ));
    } else {
        let ee = usable.iter().filter(|r| r.usage == 3).count();
        let ta = usable.iter().filter(|r| r.usage == 2).count();
        if ee == 1 && ta == 0 {
            v.notes.push(format!(
                "{name}: a single DANE-EE record and no DANE-TA record, so replacing the \
                 server's key breaks delivery from DANE senders until the record is updated \
                 (no rollover-safe pair)"
            ));
        }
    }
    v
}

/// `dane.tlsa` from the published records.
pub fn judge(domain: &str, l: &DaneLookup) -> Finding {
    if let Some(why) = &l.mx_unknown {
        return DANE_TLSA.finding(
            Status::Unknown,
            format!("The TLSA records of the MX hosts of {domain} were not checked: {why}."),
        );
    }
    if l.hosts.is_empty() {
        return DANE_TLSA.finding(
            Status::Info,
            format!("{domain} has no MX host, so there are no TLSA records to check."),
        );
    }
    let mut ev = Vec::new();
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut undecided = Vec::new();
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for h in &l.hosts {
        if let Ok(a) = &h.answer {
            ev.push(a.evidence());
        }
        let v = judge_host(h);
        if v.has_records {
            with.push(h.host.as_str());
        } else if v.undecided.is_none() {
            without.push(h.host.as_str());
        }
        problems.extend(v.problems);
        notes.extend(v.notes);
        undecided.extend(v.undecided);
    }
    if !with.is_empty() && !without.is_empty() {
        notes.push(format!(
            "TLSA records at {} but not at {}: DANE senders are protected only when they \
             deliver to the hosts with records",
            with.join(", "),
            without.join(", ")
        ));
    }
    if !with.is_empty() && !l.mx_authentic {
        notes.push(format!(
            "the MX records of {domain} are not DNSSEC-validated, so an attacker who can forge \
             DNS answers can send mail to other MX hosts, and DANE protects less"
        ));
    }
    for n in &notes {
        ev.push(Evidence::Note { text: n.clone() });
    }
    let probe_note = "Whether the records match the certificates the servers present is \
        checked by the SMTP/TLS probe.";
    if let Some(sev) = problems.iter().map(|(s, _)| *s).max() {
        let mut detail = format!(
            "The TLSA records of the MX hosts of {domain} have problems: {}.",
            problems
                .iter()
                .map(|(_, p)| p.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        for extra in [&notes, &undecided] {
            if !extra.is_empty() {
                detail.push_str(&format!(" Also: {}.", extra.join("; ")));
            }
        }
        let unsigned = problems.iter().any(|(_, p)| p.contains("no AD bit"));
        let host = with.first().copied().unwrap_or("mail.example.org");
        let mut remediation = String::new();
        if unsigned {
            remediation.push_str(
                "Sign the zone that holds the TLSA records with DNSSEC and publish its DS at \
                 the registrar: without it the records protect nothing. ",
            );
        }
        remediation.push_str(&format!(
            "Publish DANE-EE records of the server's public key (usage 3, selector 1, \
             SHA-256), one for the current key and one for the next, or a DANE-TA record of \
             your CA's intermediate:\n{}. TLSA 3 1 1 <sha256 of the current key's SPKI>\n\
             {}. TLSA 3 1 1 <sha256 of the next key's SPKI>\n\
             The digest: openssl x509 -in cert.pem -noout -pubkey | openssl pkey -pubin \
             -outform DER | openssl dgst -sha256",
            tlsa_name(host),
            tlsa_name(host)
        ));
        return DANE_TLSA
            .finding(Status::Fail, detail)
            .with_severity(sev)
            .with_evidences(ev)
            .with_remediation(remediation);
    }
    if !undecided.is_empty() {
        return DANE_TLSA
            .finding(
                Status::Unknown,
                format!(
                    "The TLSA records of the MX hosts of {domain} could not all be read: {}.",
                    undecided.join("; ")
                ),
            )
            .with_evidences(ev);
    }
    if with.is_empty() {
        return DANE_TLSA
            .finding(
                Status::Info,
                format!(
                    "DANE is not deployed: no MX host of {domain} publishes TLSA records \
                     ({}). Senders that support DANE (e.g. Postfix with DNSSEC, several large \
                     mail providers) then use TLS without authenticating the server.",
                    l.hosts
                        .iter()
                        .map(|h| tlsa_name(&h.host))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_severity(Severity::Info)
            .with_evidences(ev)
            .with_remediation(
                "Once the MX hosts' zone is DNSSEC-signed, publish TLSA records for each MX \
                 host, e.g. _25._tcp.mail.example.org. TLSA 3 1 1 <sha256 of the server key's \
                 SPKI>, plus a second one for the next key.",
            );
    }
    if !notes.is_empty() {
        return DANE_TLSA
            .finding(
                Status::Info,
                format!(
                    "{domain} publishes validated TLSA records at {}. {}. {probe_note}",
                    with.join(", "),
                    capitalise(&notes.join("; "))
                ),
            )
            .with_severity(Severity::Info)
            .with_evidences(ev)
            .with_remediation(
                "Keep two records per host: the current key and the next (3 1 1 each), or add \
                 a DANE-TA record (2 1 1) of the issuing CA, so a key change never leaves the \
                 published records behind.",
            );
    }
    DANE_TLSA
        .finding(
            Status::Pass,
            format!(
                "Every MX host of {domain} publishes DNSSEC-validated, usable TLSA records \
                 with a rollover-safe set: {}. {probe_note}",
                with.join(", ")
            ),
        )
        .with_evidences(ev)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The outcome of matching a served chain against TLSA records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaneMatch {
    /// A usable record matches: `record` is its index in the slice given,
    /// `depth` the matched certificate's position (0 = the server's own).
    Matched {
        record: usize,
        usage: u8,
        depth: usize,
    },
    /// Usable records exist and none is satisfied: DANE senders will not
    /// deliver to this host.
    Mismatch { usable: usize, reason: String },
    /// No record is usable for SMTP (only usages 0/1, or malformed):
    /// senders fall back to unauthenticated TLS.
    NoUsableRecords,
    /// The chain cannot be read (empty, or the server certificate does not
    /// parse).
    BadChain(String),
}

/// `dane.tlsa` once a probe has seen the certificate chain `host` serves:
/// the record judgement (`records_finding`, from [`judge`]) stays, unless
/// the host's usable TLSA records match none of the served certificates —
/// then DANE senders will not deliver at all (critical).
pub fn judge_served(
    records_finding: Finding,
    l: &DaneLookup,
    host: &str,
    chain_der: &[Vec<u8>],
) -> Finding {
    let Some(answer) = l
        .hosts
        .iter()
        .find(|h| h.host == host)
        .and_then(|h| h.answer.as_ref().ok())
    else {
        return records_finding;
    };
    let tlsa = records(answer);
    if tlsa.is_empty() {
        return records_finding;
    }
    match match_chain(&tlsa, chain_der, host) {
        DaneMatch::Matched {
            record,
            usage,
            depth,
        } => {
            let which = tlsa
                .get(record)
                .map(|t| format!("{} {} {}", t.usage, t.selector, t.matching))
                .unwrap_or_default();
            let what = if depth == 0 {
                "the server's own certificate".to_string()
            } else {
                format!("the certificate {depth} step(s) up its chain")
            };
            let mut f = records_finding;
            f.evidence.push(Evidence::Note {
                text: format!(
                    "{host}: the TLSA record {which} (usage {usage}) matches {what} served after STARTTLS"
                ),
            });
            f
        }
        DaneMatch::Mismatch { usable, reason } => DANE_TLSA
            .finding(
                Status::Fail,
                format!(
                    "None of the {usable} usable TLSA record(s) of {host} matches the certificate \
                     chain it serves after STARTTLS ({reason}). Senders that use DANE will not \
                     deliver mail to it at all."
                ),
            )
            .with_severity(Severity::Critical)
            .with_evidence(answer.evidence())
            .with_evidence(Evidence::Note {
                text: format!(
                    "{host}: served chain of {} certificate(s); TLSA: {}",
                    chain_der.len(),
                    tlsa.iter()
                        .map(|t| format!("{} {} {}", t.usage, t.selector, t.matching))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
            .with_remediation(format!(
                "Publish a TLSA record for the certificate {host} serves now (e.g. `3 1 1 <SHA-256 \
                 of its public key>`: openssl x509 -in cert.pem -noout -pubkey | openssl pkey \
                 -pubin -outform DER | openssl dgst -sha256), keep the old and the new record side \
                 by side during a key rollover, and change certificates only after the new TLSA \
                 record has been published for at least two TTLs."
            )),
        DaneMatch::NoUsableRecords | DaneMatch::BadChain(_) => records_finding,
    }
}

/// The parts of a certificate matching needs.
struct Cert<'a> {
    der: &'a [u8],
    spki: &'a [u8],
    subject: &'a [u8],
    issuer: &'a [u8],
    names: Vec<String>,
}

fn parse(der: &[u8]) -> Result<Cert<'_>, String> {
    let (_, c) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let mut names: Vec<String> = match c.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|g| match g {
                GeneralName::DNSName(n) => Some(n.to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if names.is_empty() {
        // No DNS names in a SAN: the subject's common name (RFC 6125 §6.4.4).
        names = c
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .map(str::to_ascii_lowercase)
            .collect();
    }
    Ok(Cert {
        der: c.as_raw(),
        spki: c.tbs_certificate.subject_pki.raw,
        subject: c.tbs_certificate.subject.as_raw(),
        issuer: c.tbs_certificate.issuer.as_raw(),
        names,
    })
}

/// `pattern` (a certificate name, maybe `*.example.org`) covers `host`.
fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = pattern.strip_prefix("*.") {
        return host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest);
    }
    pattern == host
}

/// Whether `chain_der` (server certificate first, as sent in TLS) satisfies
/// `tlsa` for `mx_host` under RFC 7671/7672. See the module documentation.
pub fn match_chain(tlsa: &[Tlsa], chain_der: &[Vec<u8>], mx_host: &str) -> DaneMatch {
    let usable: Vec<(usize, &Tlsa)> = tlsa
        .iter()
        .enumerate()
        .filter(|(_, t)| t.usable())
        .collect();
    if usable.is_empty() {
        return DaneMatch::NoUsableRecords;
    }
    let Some(leaf_der) = chain_der.first() else {
        return DaneMatch::BadChain("the server sent no certificate".into());
    };
    let leaf = match parse(leaf_der) {
        Ok(c) => c,
        Err(e) => {
            return DaneMatch::BadChain(format!("the server certificate cannot be parsed: {e}"))
        }
    };
    for (i, t) in &usable {
        if t.usage == 3 && t.matches(&leaf) {
            return DaneMatch::Matched {
                record: *i,
                usage: 3,
                depth: 0,
            };
        }
    }
    // The issuer path from the server certificate up, by names; other
    // certificates in the chain that do not parse are left out.
    let certs: Vec<Option<Cert<'_>>> = chain_der.iter().map(|d| parse(d).ok()).collect();
    let mut path = vec![0usize];
    let mut cur = &leaf;
    while path.len() < chain_der.len() && cur.subject != cur.issuer {
        let next = certs.iter().enumerate().find(|(j, c)| {
            !path.contains(j) && c.as_ref().is_some_and(|c| c.subject == cur.issuer)
        });
        match next {
            Some((j, Some(c))) => {
                path.push(j);
                cur = c;
            }
            _ => break,
        }
    }
    let mut ta_without_name = false;
    for (i, t) in usable.iter().filter(|(_, t)| t.usage == 2) {
        for &j in &path[1..] {
            let Some(c) = &certs[j] else { continue };
            if t.matches(c) {
                if leaf.names.iter().any(|n| name_matches(n, mx_host)) {
                    return DaneMatch::Matched {
                        record: *i,
                        usage: 2,
                        depth: j,
                    };
                }
                ta_without_name = true;
            }
        }
    }
    let reason = if ta_without_name {
        format!(
            "the chain reaches the trust anchor of a DANE-TA record, but the server \
             certificate's names ({}) do not cover {mx_host}",
            leaf.names.join(", ")
        )
    } else {
        "no usable TLSA record matches the server certificate (DANE-EE) or an issuer on its \
         chain (DANE-TA)"
            .to_string()
    };
    DaneMatch::Mismatch {
        usable: usable.len(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::mx;
    use crate::net::NetError;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;

    // ---- the records (judge) ----

    fn run(net: &ScriptedNet) -> Finding {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let m = block_on(mx::lookup(&r, "example.org"));
        let l = block_on(lookup(&r, &m));
        judge("example.org", &l)
    }

    const T: &str = "_25._tcp.mail.example.org";

    fn zone() -> ScriptedNet {
        ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25")
    }

    #[test]
    fn a_signed_rollover_safe_set_passes() {
        let net = zone()
            .tlsa(T, 3, 1, 1, &[1; 32])
            .tlsa(T, 3, 1, 1, &[2; 32])
            .signed_zone("example.org");
        let f = run(&net);
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        // The MX look-up's 3 queries and one TLSA query.
        assert_eq!(net.requests(), 4);
        let net = zone()
            .tlsa(T, 3, 1, 1, &[1; 32])
            .tlsa(T, 2, 1, 1, &[2; 32])
            .signed_zone("example.org");
        assert_eq!(run(&net).status, Status::Pass);
    }

    #[test]
    fn no_tlsa_is_info() {
        let f = run(&zone().signed_zone("example.org"));
        assert_eq!(f.status, Status::Info);
        assert!(f.detail.contains("not deployed"), "{}", f.detail);
    }

    #[test]
    fn tlsa_in_an_unsigned_zone_fails_medium() {
        let net = zone().tlsa(T, 3, 1, 1, &[1; 32]).tlsa(T, 3, 1, 1, &[2; 32]);
        let f = run(&net);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.detail.contains("no AD bit"), "{}", f.detail);
        assert!(f.remediation.contains("DNSSEC"));
    }

    #[test]
    fn pkix_usages_fail_low() {
        let net = zone()
            .tlsa(T, 1, 1, 1, &[1; 32])
            .tlsa(T, 3, 1, 1, &[2; 32])
            .tlsa(T, 3, 1, 1, &[3; 32])
            .signed_zone("example.org");
        let f = run(&net);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.severity, Severity::Low);
        assert!(f.detail.contains("PKIX-EE"), "{}", f.detail);
    }

    #[test]
    fn malformed_records_fail() {
        for (u, s, m, len) in [
            (3, 1, 1, 20),
            (3, 1, 2, 32),
            (4, 1, 1, 32),
            (3, 2, 1, 32),
            (3, 1, 3, 32),
        ] {
            let net = zone()
                .tlsa(T, u, s, m, &vec![7; len])
                .tlsa(T, 3, 1, 1, &[2; 32])
                .signed_zone("example.org");
            let f = run(&net);
            assert_eq!(f.status, Status::Fail, "{u} {s} {m} {len}");
            assert_eq!(f.severity, Severity::Medium);
            assert!(f.detail.contains("malformed"), "{}", f.detail);
        }
        // Exact-match data has no fixed length.
        let net = zone()
            .tlsa(T, 3, 1, 0, &[7; 91])
            .tlsa(T, 3, 1, 1, &[2; 32])
            .signed_zone("example.org");
        assert_eq!(run(&net).status, Status::Pass);
    }

    #[test]
    fn a_single_dane_ee_record_is_info() {
        let net = zone().tlsa(T, 3, 1, 1, &[1; 32]).signed_zone("example.org");
        let f = run(&net);
        assert_eq!(f.status, Status::Info, "{}", f.detail);
        assert!(f.detail.contains("rollover-safe"), "{}", f.detail);
    }

    #[test]
    fn partial_deployment_is_info() {
        let net = zone()
            .mx("example.org", 20, "backup.example.org")
            .a("backup.example.org", "198.51.100.26")
            .tlsa(T, 3, 1, 1, &[1; 32])
            .tlsa(T, 3, 1, 1, &[2; 32])
            .signed_zone("example.org");
        let f = run(&net);
        assert_eq!(f.status, Status::Info, "{}", f.detail);
        assert!(f.detail.contains("backup.example.org"), "{}", f.detail);
    }

    #[test]
    fn failed_lookups_are_unknown() {
        let net = zone().error(T, RecordType::TLSA, NetError::Timeout(5000));
        assert_eq!(run(&net).status, Status::Unknown);
        let net = zone().rcode(T, RecordType::TLSA, ResponseCode::ServFail);
        let f = run(&net);
        assert_eq!(f.status, Status::Unknown);
        assert!(f.detail.contains("defers"), "{}", f.detail);
        let net = ScriptedNet::new().error("example.org", RecordType::MX, NetError::Timeout(1));
        assert_eq!(run(&net).status, Status::Unknown);
    }

    // ---- the chain (match_chain), on certificates made by openssl ----

    const ROOT: &[u8] = include_bytes!("../../tests/data/dane/root.der");
    const INTER: &[u8] = include_bytes!("../../tests/data/dane/inter.der");
    const LEAF: &[u8] = include_bytes!("../../tests/data/dane/leaf.der");
    const OTHER: &[u8] = include_bytes!("../../tests/data/dane/other.der");
    const WILD: &[u8] = include_bytes!("../../tests/data/dane/wild.der");
    const STRANGER: &[u8] = include_bytes!("../../tests/data/dane/stranger.der");
    const OTHERCA: &[u8] = include_bytes!("../../tests/data/dane/otherca.der");
    /// TLSA data openssl computed for those certificates (make.sh).
    const ORACLE: &str = include_str!("../../tests/data/dane/tlsa.txt");

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The oracle's record for (certificate, usage, selector, matching).
    fn rec(cert: &str, u: u8, s: u8, m: u8) -> Tlsa {
        ORACLE
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| {
                f[0] == cert && f[1..4] == [&*u.to_string(), &*s.to_string(), &*m.to_string()]
            })
            .map(|f| Tlsa {
                usage: u,
                selector: s,
                matching: m,
                data: hex(f[4]),
            })
            .unwrap_or_else(|| panic!("no oracle line for {cert} {u} {s} {m}"))
    }

    fn chain(certs: &[&[u8]]) -> Vec<Vec<u8>> {
        certs.iter().map(|c| c.to_vec()).collect()
    }

    fn served(net: &ScriptedNet, chain_der: &[Vec<u8>]) -> (Finding, Finding) {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let m = block_on(mx::lookup(&r, "example.org"));
        let l = block_on(lookup(&r, &m));
        let records = judge("example.org", &l);
        let after = judge_served(records.clone(), &l, "mail.example.org", chain_der);
        (records, after)
    }

    #[test]
    fn the_served_chain_confirms_or_breaks_the_records() {
        let leaf = rec("leaf", 3, 1, 1);
        let good = zone()
            .signed(true)
            .tlsa(T, 3, 1, 1, &leaf.data)
            .tlsa(T, 3, 1, 1, &[2; 32]);
        let (records, after) = served(&good, &chain(&[LEAF, INTER]));
        assert_eq!(after.status, records.status);
        assert!(after.evidence.iter().any(|e| matches!(e,
            Evidence::Note { text } if text.contains("matches the server's own certificate"))));

        let stale = zone()
            .signed(true)
            .tlsa(T, 3, 1, 1, &[7; 32])
            .tlsa(T, 3, 1, 1, &[8; 32]);
        let (_, after) = served(&stale, &chain(&[LEAF, INTER]));
        assert_eq!(after.status, Status::Fail);
        assert_eq!(after.severity, Severity::Critical);
        assert!(
            after.detail.contains("will not deliver"),
            "{}",
            after.detail
        );

        // No TLSA at the host: nothing to match, the record finding stands.
        let none = zone().signed(true);
        let (records, after) = served(&none, &chain(&[LEAF, INTER]));
        assert_eq!(after, records);
    }

    #[test]
    fn dane_ee_matches_every_selector_and_matching_type() {
        let served = chain(&[LEAF, INTER]);
        for (s, m) in [(1, 1), (0, 1), (1, 2), (0, 2), (1, 0), (0, 0)] {
            let t = [rec("other", 3, 1, 1), rec("leaf", 3, s, m)];
            assert_eq!(
                match_chain(&t, &served, "mx.example.org"),
                DaneMatch::Matched {
                    record: 1,
                    usage: 3,
                    depth: 0
                },
                "3 {s} {m}"
            );
        }
    }

    #[test]
    fn dane_ee_ignores_names() {
        // RFC 7672 §3.1.1: the certificate's names do not matter for 3 x x.
        let t = [rec("leaf", 3, 1, 1)];
        assert!(matches!(
            match_chain(&t, &chain(&[LEAF]), "smtp.elsewhere.example"),
            DaneMatch::Matched { usage: 3, .. }
        ));
    }

    #[test]
    fn a_new_key_without_a_new_record_mismatches() {
        let t = [rec("leaf", 3, 1, 1)];
        let m = match_chain(&t, &chain(&[OTHER, INTER]), "mx.example.org");
        assert!(matches!(m, DaneMatch::Mismatch { usable: 1, .. }), "{m:?}");
        // The DANE-EE record never matches an issuer.
        let t = [rec("inter", 2, 1, 1)];
        let ee_of_inter = Tlsa {
            usage: 3,
            ..t[0].clone()
        };
        assert!(matches!(
            match_chain(&[ee_of_inter], &chain(&[LEAF, INTER]), "mx.example.org"),
            DaneMatch::Mismatch { .. }
        ));
    }

    #[test]
    fn dane_ta_matches_an_issuer_on_the_path() {
        let served = chain(&[LEAF, INTER, ROOT]);
        for (cert, s, m, depth) in [
            ("inter", 1, 1, 1),
            ("inter", 0, 1, 1),
            ("root", 1, 1, 2),
            ("root", 0, 1, 2),
            ("root", 1, 2, 2),
        ] {
            let t = [rec(cert, 2, s, m)];
            assert_eq!(
                match_chain(&t, &served, "mx.example.org"),
                DaneMatch::Matched {
                    record: 0,
                    usage: 2,
                    depth
                },
                "{cert} 2 {s} {m}"
            );
        }
        // Out of order is fine: the path is followed by names.
        let t = [rec("root", 2, 1, 1)];
        assert!(matches!(
            match_chain(&t, &chain(&[LEAF, ROOT, INTER]), "mail.example.org"),
            DaneMatch::Matched { depth: 1, .. }
        ));
        // A trust anchor the server does not send cannot be matched.
        assert!(matches!(
            match_chain(&t, &chain(&[LEAF, INTER]), "mx.example.org"),
            DaneMatch::Mismatch { .. }
        ));
    }

    #[test]
    fn dane_ta_checks_names() {
        let t = [rec("inter", 2, 1, 1)];
        let m = match_chain(&t, &chain(&[LEAF, INTER]), "smtp.example.org");
        match m {
            DaneMatch::Mismatch { reason, .. } => {
                assert!(reason.contains("do not cover smtp.example.org"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        // A wildcard covers one label, no more.
        let served = chain(&[WILD, INTER]);
        assert!(matches!(
            match_chain(&t, &served, "MX.Example.org."),
            DaneMatch::Matched { .. }
        ));
        assert!(matches!(
            match_chain(&t, &served, "a.mx.example.org"),
            DaneMatch::Mismatch { .. }
        ));
        assert!(matches!(
            match_chain(&t, &served, "example.org"),
            DaneMatch::Mismatch { .. }
        ));
    }

    #[test]
    fn dane_ta_needs_the_anchor_on_the_servers_path() {
        // The chain carries the intermediate, but the server certificate
        // was issued by another CA: the intermediate is not on its path.
        let t = [rec("inter", 2, 1, 1)];
        assert!(matches!(
            match_chain(&t, &chain(&[STRANGER, INTER, ROOT]), "mx.example.org"),
            DaneMatch::Mismatch { .. }
        ));
        let t = [rec("otherca", 2, 1, 1)];
        assert!(matches!(
            match_chain(&t, &chain(&[STRANGER, OTHERCA]), "mx.example.org"),
            DaneMatch::Matched { depth: 1, .. }
        ));
        // The server certificate itself is not a trust anchor.
        let t = [Tlsa {
            usage: 2,
            ..rec("leaf", 3, 1, 1)
        }];
        assert!(matches!(
            match_chain(&t, &chain(&[LEAF, INTER]), "mx.example.org"),
            DaneMatch::Mismatch { .. }
        ));
    }

    #[test]
    fn unusable_records_and_bad_chains() {
        let pkix = Tlsa {
            usage: 1,
            ..rec("leaf", 3, 1, 1)
        };
        let short = Tlsa {
            data: vec![1; 20],
            ..rec("leaf", 3, 1, 1)
        };
        assert_eq!(
            match_chain(&[pkix, short], &chain(&[LEAF]), "mx.example.org"),
            DaneMatch::NoUsableRecords
        );
        let t = [rec("leaf", 3, 1, 1)];
        assert!(matches!(
            match_chain(&t, &[], "mx.example.org"),
            DaneMatch::BadChain(_)
        ));
        for garbage in [
            vec![],
            vec![0x30],
            vec![0x30, 0x82, 0xff, 0xff, 0],
            vec![0xff; 64],
        ] {
            assert!(matches!(
                match_chain(&t, &[garbage], "mx.example.org"),
                DaneMatch::BadChain(_)
            ));
        }
        // Garbage after the server certificate is ignored, not a panic.
        assert!(matches!(
            match_chain(
                &[rec("inter", 2, 1, 1)],
                &[LEAF.to_vec(), vec![0x30, 0x03, 1]],
                "mx.example.org"
            ),
            DaneMatch::Mismatch { .. }
        ));
    }

    #[test]
    fn record_checks() {
        assert!(rec("leaf", 3, 1, 1).usable());
        assert!(!Tlsa {
            usage: 0,
            ..rec("root", 2, 1, 1)
        }
        .usable());
        assert_eq!(
            rec("leaf", 3, 1, 1).to_string(),
            format!(
                "3 1 1 {}",
                ORACLE.lines().nth(1).unwrap()[11..].to_uppercase()
            )
        );
        assert!(Tlsa {
            usage: 3,
            selector: 1,
            matching: 2,
            data: vec![0; 32]
        }
        .problem()
        .unwrap()
        .contains("SHA-512"));
    }
}
