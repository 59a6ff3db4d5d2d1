//! DKIM key discovery and the rules `dkim.missing`, `dkim.key_weak`,
//! `dkim.testing` and `dkim.revoked`.
//!
//! DNS cannot list a domain's selectors, so the audit tries a planned set
//! ([`Selectors`]: user-given, from a pasted configuration via
//! [`selectors_from_config`], then [`COMMON_SELECTORS`], at most
//! [`MAX_SELECTORS`]), and also asks `_domainkey.<domain>` itself: an
//! NXDOMAIN there means no selector can exist below it (RFC 8020), while
//! NOERROR means keys exist under names we did not guess.
//!
//! Use:
//! ```ignore
//! let plan = dkim::Selectors::new(&opts.selectors, &dkim::selectors_from_config(pasted));
//! let found = dkim::lookup(&resolver, &domain, &plan).await; // 1 + plan.tried().len() queries, all at once
//! findings.extend(dkim::judge(&domain, &found));            // always the four dkim.* findings
//! ```
//!
//! A selector that is a CNAME (hosted DKIM: Microsoft 365's
//! `selector1._domainkey` → `…onmicrosoft.com`) is followed by the
//! resolver; the finding says where the key was served from, and a CNAME
//! whose target has no key is called out.
//!
//! Dependent rules, as `dmarc.policy` does when there is no record: when no
//! key record was found, `dkim.key_weak`, `dkim.testing` and `dkim.revoked`
//! are `info` ("no key to judge, see dkim.missing"), or `unknown` when a
//! look-up failed, since the key may sit behind the failed one. Records
//! verifiers cannot use (malformed tag list, bad base64, wrong key type) are
//! a `dkim.key_weak` failure with the reason; `dkim.missing` counts them as
//! published.

pub mod record;
pub mod selectors;

pub use record::{parse_key_record, KeyRecord, KeyType, PublicKey, RecordError, RsaEncoding};
pub use selectors::{
    normalize_selector, selectors_from_config, Selector, Selectors, Source, COMMON_SELECTORS,
    MAX_SELECTORS,
};

use crate::dns::{DnsAnswer, DnsError, RecordType, Resolver, RrData};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use futures::future::join_all;

pub static DKIM_MISSING: Rule = Rule {
    id: "dkim.missing",
    area: Area::Authentication,
    title: "DKIM key published",
    severity: Severity::Medium,
    description:
        "Fail: _domainkey under the domain does not exist (NXDOMAIN, so no selector can exist \
        below it — RFC 8020) and no key was found at the tried selectors (common ones, those from \
        a pasted config, user-given); warn: _domainkey exists but none of the tried selectors has \
        a key (name one with --selector); unknown when the look-ups failed.",
    refs: &["RFC 6376 §3.6.2", "RFC 8020", "NIST SP 800-177r1 §4.5"],
};

pub static DKIM_KEY_WEAK: Rule = Rule {
    id: "dkim.key_weak",
    area: Area::Authentication,
    title: "DKIM key strength",
    severity: Severity::Medium,
    description: "A DKIM RSA key is shorter than 1024 bits (high) or 2048 bits (medium), or a key \
        record cannot be used by verifiers (malformed, wrong key type or encoding — high).",
    refs: &["RFC 8301 §3.2", "RFC 8463", "RFC 6376 §3.6.1"],
};

pub static DKIM_TESTING: Rule = Rule {
    id: "dkim.testing",
    area: Area::Authentication,
    title: "DKIM testing mode",
    severity: Severity::Low,
    description: "A DKIM key record still has t=y (testing): verifiers may treat its signatures \
        as if the mail were unsigned.",
    refs: &["RFC 6376 §3.6.1"],
};

pub static DKIM_REVOKED: Rule = Rule {
    id: "dkim.revoked",
    area: Area::Authentication,
    title: "Revoked DKIM key",
    severity: Severity::Info,
    description: "A selector that was tried (named by you, found in a pasted configuration, or a \
        common one) publishes an empty p= (a revoked key): mail still signed with it fails DKIM.",
    refs: &["RFC 6376 §3.6.1", "RFC 6376 §6.1.2"],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&DKIM_MISSING, &DKIM_KEY_WEAK, &DKIM_TESTING, &DKIM_REVOKED];

/// The answer for one selector.
#[derive(Debug, Clone)]
pub struct SelectorLookup {
    pub selector: Selector,
    /// `<selector>._domainkey.<domain>`.
    pub qname: String,
    pub answer: Result<DnsAnswer, DnsError>,
}

/// One DKIM key record found at a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRecord {
    /// The record's text, TXT strings joined.
    pub text: String,
    pub parsed: Result<KeyRecord, RecordError>,
}

/// What a selector's answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAt {
    /// The look-up failed; nothing is known.
    Failed(String),
    /// No DKIM key record there (NXDOMAIN, no TXT, or TXT that is not DKIM).
    NoRecord,
    /// One or more DKIM key records (usable or not).
    Records(Vec<FoundRecord>),
}

impl SelectorLookup {
    pub fn key_at(&self) -> KeyAt {
        let a = match &self.answer {
            Err(e) => return KeyAt::Failed(e.to_string()),
            Ok(a) if !a.is_definite() => {
                return KeyAt::Failed(format!("the resolver answered {}", a.rcode_text()))
            }
            Ok(a) => a,
        };
        let found: Vec<FoundRecord> = a
            .of_type()
            .filter_map(RrData::txt_joined)
            .filter(|t| record::looks_like_key_record(t))
            .map(|text| FoundRecord {
                parsed: parse_key_record(&text),
                text,
            })
            .collect();
        if found.is_empty() {
            KeyAt::NoRecord
        } else {
            KeyAt::Records(found)
        }
    }

    /// Where the selector's CNAME chain ends, when it is an alias.
    pub fn alias_target(&self) -> Option<&str> {
        let a = self.answer.as_ref().ok()?;
        let mut at = self.qname.as_str();
        let mut moved = false;
        for _ in 0..a.records.len() {
            let next = a.records.iter().find_map(|r| match &r.data {
                RrData::Cname(t) if r.name == at => Some(t.as_str()),
                _ => None,
            });
            match next {
                Some(t) => {
                    at = t;
                    moved = true;
                }
                None => break,
            }
        }
        moved.then_some(at)
    }

    /// The name exists in DNS (it answered NOERROR, or is an alias).
    fn name_exists(&self) -> bool {
        self.answer.as_ref().is_ok_and(|a| {
            a.rcode == hickory_proto::op::ResponseCode::NoError || self.alias_target().is_some()
        })
    }

    fn evidence(&self) -> Evidence {
        match &self.answer {
            Ok(a) => a.evidence(),
            Err(e) => Evidence::Note {
                text: format!("{} TXT: {e}", self.qname),
            },
        }
    }

    /// "selector1 (given by you, via CNAME to x)".
    fn label(&self) -> String {
        let mut s = format!("{} ({}", self.selector.name, self.selector.source.as_str());
        if let Some(t) = self.alias_target() {
            s.push_str(&format!(", via CNAME to {t}"));
        }
        s.push(')');
        s
    }
}

/// Everything the DKIM rules read.
#[derive(Debug, Clone)]
pub struct DkimLookup {
    /// The answer for `_domainkey.<domain>` TXT (exists or NXDOMAIN).
    pub domainkey: Result<DnsAnswer, DnsError>,
    pub selectors: Vec<SelectorLookup>,
    /// Selectors not asked (invalid, over the cap, name too long), with why.
    pub skipped: Vec<(String, String)>,
}

/// Asks `_domainkey.<domain>` and every planned selector's TXT, all at
/// once. `domain` must be normalised ([`crate::dns::normalize_name`]).
/// Costs `1 + selectors.tried().len()` queries (at most 1 + [`MAX_SELECTORS`]).
pub async fn lookup<N: Network>(
    resolver: &Resolver<'_, N>,
    domain: &str,
    selectors: &Selectors,
) -> DkimLookup {
    let base = format!("_domainkey.{domain}");
    let mut skipped = selectors.skipped().to_vec();
    let mut planned = Vec::new();
    for s in selectors.tried() {
        let qname = format!("{}.{base}", s.name);
        if qname.len() > 253 {
            skipped.push((
                s.name.clone(),
                format!("{qname} is longer than a DNS name may be"),
            ));
        } else {
            planned.push((s.clone(), qname));
        }
    }
    let asks = planned.into_iter().map(|(selector, qname)| async move {
        let answer = resolver.query(&qname, RecordType::TXT).await;
        SelectorLookup {
            selector,
            qname,
            answer,
        }
    });
    let (domainkey, selectors) =
        futures::join!(resolver.query(&base, RecordType::TXT), join_all(asks));
    DkimLookup {
        domainkey,
        selectors,
        skipped,
    }
}

/// Per-selector facts the four rules share.
struct Seen<'a> {
    lookup: &'a SelectorLookup,
    at: KeyAt,
}

impl Seen<'_> {
    fn records(&self) -> &[FoundRecord] {
        match &self.at {
            KeyAt::Records(r) => r,
            _ => &[],
        }
    }

    /// Has a record that is not a revoked key (usable or not).
    fn has_key(&self) -> bool {
        self.records()
            .iter()
            .any(|r| !matches!(&r.parsed, Ok(k) if k.key == PublicKey::Revoked))
    }

    fn is_revoked(&self) -> bool {
        !self.has_key()
            && self
                .records()
                .iter()
                .any(|r| matches!(&r.parsed, Ok(k) if k.key == PublicKey::Revoked))
    }

    fn failure(&self) -> Option<&str> {
        match &self.at {
            KeyAt::Failed(why) => Some(why),
            _ => None,
        }
    }

    /// One line for the summary note.
    fn outcome(&self) -> String {
        let name = &self.lookup.selector.name;
        let rcode = match &self.lookup.answer {
            Ok(a) => a.rcode_text(),
            Err(_) => String::new(),
        };
        let what = match &self.at {
            KeyAt::Failed(why) => format!("look-up failed: {why}"),
            KeyAt::NoRecord => match self.lookup.alias_target() {
                Some(t) => format!("CNAME to {t}, which has no DKIM key ({rcode})"),
                None if rcode == "NOERROR" => "no DKIM record (NOERROR)".into(),
                None => rcode,
            },
            KeyAt::Records(_) if self.is_revoked() => "revoked key (empty p=)".into(),
            KeyAt::Records(_) => "key record".into(),
        };
        format!("{name}: {what}")
    }
}

/// The four DKIM findings for `domain`, one per rule.
pub fn judge(domain: &str, l: &DkimLookup) -> Vec<Finding> {
    let seen: Vec<Seen<'_>> = l
        .selectors
        .iter()
        .map(|s| Seen {
            lookup: s,
            at: s.key_at(),
        })
        .collect();
    let failed: Vec<String> = seen
        .iter()
        .filter_map(|s| s.failure().map(|w| format!("{} ({w})", s.lookup.qname)))
        .collect();
    let tried_note = Evidence::Note {
        text: if seen.is_empty() {
            "No selector was tried.".into()
        } else {
            format!(
                "Selectors tried: {}",
                seen.iter()
                    .map(Seen::outcome)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        },
    };
    let mut base_ev = vec![match &l.domainkey {
        Ok(a) => a.evidence(),
        Err(e) => Evidence::Note {
            text: format!("_domainkey.{domain} TXT: {e}"),
        },
    }];
    base_ev.push(tried_note);
    if !l.skipped.is_empty() {
        base_ev.push(Evidence::Note {
            text: format!(
                "Selectors not tried: {}",
                l.skipped
                    .iter()
                    .map(|(n, why)| format!("{n:?}: {why}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    }
    let any_key = seen.iter().any(Seen::has_key);
    // What the dependent rules say when there is no key to judge.
    let nothing = |rule: &'static Rule, what: &str| -> Finding {
        if failed.is_empty() {
            rule.finding(
                Status::Info,
                format!("No DKIM {what} was found for {domain}, so there is nothing to judge (see dkim.missing)."),
            )
            .with_evidences(base_ev.clone())
        } else {
            rule.finding(
                Status::Unknown,
                format!(
                    "No DKIM {what} was found, and some look-ups failed ({}), so this cannot be \
                     judged. Run the audit again or use another resolver.",
                    failed.join("; ")
                ),
            )
            .with_evidences(base_ev.clone())
        }
    };
    let key_weak = if any_key {
        judge_key_weak(domain, &seen)
    } else {
        nothing(&DKIM_KEY_WEAK, "key")
    };
    let any_usable = seen.iter().any(|s| {
        s.records()
            .iter()
            .any(|r| matches!(&r.parsed, Ok(k) if k.key != PublicKey::Revoked))
    });
    let testing = if any_usable {
        judge_testing(domain, &seen)
    } else if any_key {
        DKIM_TESTING
            .finding(
                Status::Info,
                "No usable DKIM key record was found (see dkim.key_weak), so its flags cannot be \
                 judged.",
            )
            .with_evidences(base_ev.clone())
    } else {
        nothing(&DKIM_TESTING, "key")
    };
    let revoked = if seen.iter().any(|s| !s.records().is_empty()) {
        judge_revoked(domain, &seen)
    } else {
        nothing(&DKIM_REVOKED, "key record")
    };
    vec![
        judge_missing(domain, l, &seen, &failed, base_ev),
        key_weak,
        testing,
        revoked,
    ]
}

const SIGNING_HOWTO: &str =
    "Sign outgoing mail with DKIM and publish the public key. With OpenDKIM:\n\
    \x20 opendkim-genkey -b 2048 -s mail -d DOMAIN\n\
    then publish the record it writes to mail.txt:\n\
    \x20 mail._domainkey.DOMAIN. TXT \"v=DKIM1; k=rsa; p=<base64 public key>\"\n\
    and list the key in OpenDKIM's KeyTable and SigningTable (rspamd: dkim_signing.conf; Exim: \
    dkim_domain, dkim_selector and dkim_private_key on the remote_smtp transport). Hosted mail: \
    turn DKIM on in the provider's console (Microsoft 365: Defender portal > Email \
    authentication > DKIM, then publish the selector1/selector2 CNAMEs it shows; Google \
    Workspace: Admin console > Apps > Gmail > Authenticate email).";

fn judge_missing(
    domain: &str,
    l: &DkimLookup,
    seen: &[Seen<'_>],
    failed: &[String],
    mut ev: Vec<Evidence>,
) -> Finding {
    let howto = SIGNING_HOWTO.replace("DOMAIN", domain);
    let keyed: Vec<&Seen<'_>> = seen.iter().filter(|s| s.has_key()).collect();
    if !keyed.is_empty() {
        let names: Vec<String> = keyed.iter().map(|s| s.lookup.label()).collect();
        let unusable = keyed
            .iter()
            .all(|s| s.records().iter().all(|r| r.parsed.is_err()));
        let mut detail = format!(
            "{domain} publishes DKIM key records at {} of the {} selectors tried: {}.",
            keyed.len(),
            seen.len(),
            names.join(", ")
        );
        if unusable {
            detail.push_str(" None of them can be used by verifiers (see dkim.key_weak).");
        }
        ev.extend(keyed.iter().map(|s| s.lookup.evidence()));
        return DKIM_MISSING
            .finding(Status::Pass, detail)
            .with_evidences(ev);
    }
    // Interesting answers are shown in full; the rest are in the summary note.
    ev.extend(
        seen.iter()
            .filter(|s| {
                s.failure().is_some() || s.is_revoked() || s.lookup.alias_target().is_some()
            })
            .map(|s| s.lookup.evidence()),
    );
    let tried: Vec<&str> = seen
        .iter()
        .map(|s| s.lookup.selector.name.as_str())
        .collect();
    let tried_text = if tried.is_empty() {
        "no selector was tried".to_string()
    } else {
        format!(
            "none of the {} selectors tried ({}) has a key",
            tried.len(),
            tried.join(", ")
        )
    };
    let mut extra = String::new();
    let revoked: Vec<&str> = seen
        .iter()
        .filter(|s| s.is_revoked())
        .map(|s| s.lookup.selector.name.as_str())
        .collect();
    if !revoked.is_empty() {
        extra.push_str(&format!(
            " Revoked keys (empty p=) are published at {} (see dkim.revoked).",
            revoked.join(", ")
        ));
    }
    for s in seen {
        if let (KeyAt::NoRecord, Some(t)) = (&s.at, s.lookup.alias_target()) {
            extra.push_str(&format!(
                " {} is a CNAME to {t}, which publishes no key: if your provider signs with this \
                 selector, DKIM is not (yet) turned on there.",
                s.lookup.qname
            ));
        }
    }
    if !failed.is_empty() {
        return DKIM_MISSING
            .finding(
                Status::Unknown,
                format!(
                    "No DKIM key was found for {domain}, but some look-ups failed: {}. A key may \
                     be published there.{extra}",
                    failed.join("; ")
                ),
            )
            .with_evidences(ev)
            .with_remediation(format!(
                "Run the audit again, or ask another resolver, e.g. `dig TXT {}`.",
                seen.iter()
                    .find(|s| s.failure().is_some())
                    .map(|s| s.lookup.qname.as_str())
                    .unwrap_or("selector._domainkey.example.org")
            ));
    }
    let ask_for_selector = format!(
        "Find the selector your mail is signed with: the s= tag of the DKIM-Signature header of a \
         message you sent (or header.s= in the recipient's Authentication-Results header), then \
         run `mailaudit audit {domain} --selector <s>`, or paste the signer's configuration \
         (opendkim.conf, KeyTable, rspamd dkim_signing.conf, Exim transport). If your messages \
         carry no DKIM-Signature header, they are not signed:\n{howto}"
    );
    let below_exists = seen.iter().any(|s| s.lookup.name_exists());
    match &l.domainkey {
        Ok(a) if a.is_nxdomain() && !below_exists => DKIM_MISSING
            .finding(
                Status::Fail,
                format!(
                    "_domainkey.{domain} does not exist (NXDOMAIN), so no DKIM key can be \
                     published under any selector (RFC 8020), and {tried_text}. Receivers cannot \
                     verify a DKIM signature for {domain}, and DMARC rests on SPF alone, which \
                     breaks when mail is forwarded.{extra}"
                ),
            )
            .with_evidences(ev)
            .with_remediation(howto),
        Ok(a) if a.is_definite() => {
            let why = if a.is_nxdomain() {
                format!(
                    "the resolver says _domainkey.{domain} does not exist, yet names below it \
                     answer, so its NXDOMAIN cannot be trusted (RFC 8020)"
                )
            } else {
                format!(
                    "_domainkey.{domain} exists, so keys are probably published under selectors \
                     that were not guessed"
                )
            };
            DKIM_MISSING
                .finding(
                    Status::Warn,
                    format!("No DKIM key was found for {domain}: {tried_text}, but {why}.{extra}"),
                )
                .with_evidences(ev)
                .with_remediation(ask_for_selector)
        }
        other => {
            let why = match other {
                Ok(a) => format!("the resolver answered {}", a.rcode_text()),
                Err(e) => e.to_string(),
            };
            DKIM_MISSING
                .finding(
                    Status::Warn,
                    format!(
                        "No DKIM key was found for {domain}: {tried_text}. Whether \
                         _domainkey.{domain} exists could not be checked ({why}), so keys may be \
                         published under other selectors.{extra}"
                    ),
                )
                .with_evidences(ev)
                .with_remediation(ask_for_selector)
        }
    }
}

fn judge_key_weak(domain: &str, seen: &[Seen<'_>]) -> Finding {
    let mut problems: Vec<(Severity, String)> = Vec::new();
    let mut fine: Vec<String> = Vec::new();
    let mut ev = Vec::new();
    let mut weak_selector = None;
    let mut only_ed25519 = true;
    let mut notes = Vec::new();
    for s in seen.iter().filter(|s| s.has_key()) {
        ev.push(s.lookup.evidence());
        let sel = &s.lookup.selector.name;
        for r in s.records() {
            match &r.parsed {
                Ok(k) => match k.key {
                    PublicKey::Revoked => {}
                    PublicKey::Ed25519 => fine.push(format!("{sel}: Ed25519")),
                    PublicKey::Rsa { bits, encoding } => {
                        only_ed25519 = false;
                        if encoding == RsaEncoding::Pkcs1 {
                            notes.push(format!(
                                "{sel} publishes a bare PKCS#1 RSAPublicKey rather than the usual \
                                 SubjectPublicKeyInfo; most verifiers accept both"
                            ));
                        }
                        if bits < 1024 {
                            weak_selector.get_or_insert(sel.clone());
                            problems.push((
                                Severity::High,
                                format!(
                                    "{sel}: RSA {bits} bits, below the 1024-bit minimum of RFC \
                                     8301 — verifiers reject it and it can be factored"
                                ),
                            ));
                        } else if bits < 2048 {
                            weak_selector.get_or_insert(sel.clone());
                            problems.push((
                                Severity::Medium,
                                format!("{sel}: RSA {bits} bits, below the 2048 bits RFC 8301 recommends"),
                            ));
                        } else {
                            fine.push(format!("{sel}: RSA {bits} bits"));
                        }
                    }
                },
                Err(e) => {
                    only_ed25519 = false;
                    problems.push((
                        Severity::High,
                        format!("{sel}: the key record cannot be used by verifiers: {e}"),
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        let mut detail = format!("The DKIM keys of {domain} are strong: {}.", fine.join(", "));
        if only_ed25519 {
            detail.push_str(
                " Only Ed25519 keys were found; RFC 8463 advises signing with an RSA key as well, \
                 since not every verifier supports Ed25519.",
            );
        }
        for n in notes {
            detail.push_str(&format!(" Note: {n}."));
        }
        return DKIM_KEY_WEAK
            .finding(Status::Pass, detail)
            .with_evidences(ev);
    }
    let severity = problems
        .iter()
        .map(|(s, _)| *s)
        .max()
        .unwrap_or(Severity::Medium);
    let has_invalid = seen
        .iter()
        .any(|s| s.records().iter().any(|r| r.parsed.is_err()));
    let mut fix = Vec::new();
    if let Some(sel) = weak_selector {
        fix.push(format!(
            "Generate a 2048-bit key under a new selector, publish it, switch the signer to it, \
             and after a few days revoke the old selector with an empty p=:\n\
             \x20 opendkim-genkey -b 2048 -s {sel}-2048 -d {domain}\n\
             \x20 {sel}-2048._domainkey.{domain}. TXT \"v=DKIM1; k=rsa; p=<base64 public key>\"\n\
             A 2048-bit key is longer than 255 bytes: publish it as one TXT record made of several \
             quoted strings (most DNS hosting panels split it for you)."
        ));
    }
    if has_invalid {
        fix.push(
            "Republish exactly the record your signer generated (opendkim-genkey writes it to \
             <selector>.txt): v=DKIM1 first, each tag once, k=rsa with the base64 \
             SubjectPublicKeyInfo, or k=ed25519 with the raw 32-byte key (RFC 8463)."
                .to_string(),
        );
    }
    let mut detail = format!(
        "{}.",
        problems
            .iter()
            .map(|(_, p)| p.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    if !fine.is_empty() {
        detail.push_str(&format!(" Strong: {}.", fine.join(", ")));
    }
    DKIM_KEY_WEAK
        .finding(Status::Fail, detail)
        .with_severity(severity)
        .with_evidences(ev)
        .with_remediation(fix.join("\n"))
}

fn judge_testing(domain: &str, seen: &[Seen<'_>]) -> Finding {
    let mut testing = Vec::new();
    let mut ev = Vec::new();
    let mut fixes = Vec::new();
    for s in seen {
        for r in s.records() {
            if let Ok(k) = &r.parsed {
                if k.key != PublicKey::Revoked && k.testing() {
                    testing.push(s.lookup.selector.name.clone());
                    ev.push(s.lookup.evidence());
                    fixes.push(format!(
                        "{}. TXT \"{}\"",
                        s.lookup.qname,
                        k.without_testing_flag()
                    ));
                }
            }
        }
    }
    if testing.is_empty() {
        return DKIM_TESTING.finding(
            Status::Pass,
            format!("No DKIM key of {domain} is in testing mode (t=y)."),
        );
    }
    DKIM_TESTING
        .finding(
            Status::Fail,
            format!(
                "The DKIM key record at {} has t=y: the domain says it is testing DKIM, and \
                 verifiers may treat mail whose signature fails as if it were unsigned.",
                testing.join(", ")
            ),
        )
        .with_evidences(ev)
        .with_remediation(format!(
            "Once test messages show dkim=pass in the recipient's Authentication-Results, \
             republish the record without the y flag:\n{}",
            fixes.join("\n")
        ))
}

fn judge_revoked(domain: &str, seen: &[Seen<'_>]) -> Finding {
    let revoked: Vec<&Seen<'_>> = seen.iter().filter(|s| s.is_revoked()).collect();
    if revoked.is_empty() {
        return DKIM_REVOKED.finding(
            Status::Pass,
            format!("None of the DKIM selectors of {domain} that answered is revoked."),
        );
    }
    let referenced: Vec<&str> = revoked
        .iter()
        .filter(|s| s.lookup.selector.source != Source::Common)
        .map(|s| s.lookup.selector.name.as_str())
        .collect();
    let mut detail = format!(
        "{} publish{} an empty p=, which revokes the key (RFC 6376 §3.6.1): signatures made \
         with it fail.",
        revoked
            .iter()
            .map(|s| s.lookup.label())
            .collect::<Vec<_>>()
            .join(", "),
        if revoked.len() == 1 { "es" } else { "" }
    );
    let remediation = if referenced.is_empty() {
        detail.push_str(" That is fine if no server signs with it any more.");
        "Nothing to do if no server signs with this selector any more; the empty record tells \
         verifiers the key was withdrawn."
            .to_string()
    } else {
        detail.push_str(&format!(
            " {} is still named by you or your configuration: mail signed with it fails DKIM.",
            referenced.join(", ")
        ));
        let sel = referenced[0];
        format!(
            "Give the signer a current key under a new selector and point its configuration at \
             it:\n  opendkim-genkey -b 2048 -s {sel}-2048 -d {domain}\n  \
             {sel}-2048._domainkey.{domain}. TXT \"v=DKIM1; k=rsa; p=<base64 public key>\"\n\
             If nothing signs with {sel} any more, remove it from the configuration."
        )
    };
    DKIM_REVOKED
        .finding(Status::Info, detail)
        .with_evidences(revoked.iter().map(|s| s.lookup.evidence()))
        .with_remediation(remediation)
}

#[cfg(test)]
mod tests;
