//! TLS, inbound and outbound: whether it is on, which protocol versions and
//! ciphers it allows, submission ports, outbound DANE.

use super::fix::{set, set_for, Edit, Remedy, WithRemedy};
use super::parse::Service;
use super::{Ctx, Value, View};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub static POSTFIX_TLS_INBOUND_OFF: Rule = Rule {
    id: "postfix.tls_inbound_off",
    area: Area::Config,
    title: "STARTTLS not offered (inbound)",
    severity: Severity::High,
    description:
        "An smtpd service offers no STARTTLS: smtpd_tls_security_level is effectively none \
        (the legacy smtpd_use_tls = yes means may), or no certificate is configured \
        (smtpd_tls_cert_file/smtpd_tls_chain_files), so mail arrives in clear text.",
    refs: &[
        "https://www.postfix.org/TLS_README.html#server_enable",
        "https://www.postfix.org/postconf.5.html#smtpd_tls_security_level",
        "RFC 3207",
    ],
};

pub static POSTFIX_TLS_OUTBOUND_OFF: Rule = Rule {
    id: "postfix.tls_outbound_off",
    area: Area::Config,
    title: "No TLS for outgoing mail",
    severity: Severity::Medium,
    description:
        "smtp_tls_security_level is unset or none (and the legacy smtp_use_tls is not yes), so \
        mail to other servers is sent in clear text even where they offer STARTTLS.",
    refs: &[
        "https://www.postfix.org/TLS_README.html#client_tls",
        "https://www.postfix.org/postconf.5.html#smtp_tls_security_level",
    ],
};

pub static POSTFIX_TLS_PROTOCOLS: Rule = Rule {
    id: "postfix.tls_protocols",
    area: Area::Config,
    title: "Obsolete TLS protocol versions allowed",
    severity: Severity::High,
    description: "smtpd_tls_protocols, smtpd_tls_mandatory_protocols, smtp_tls_protocols or \
        smtp_tls_mandatory_protocols (effective, including the defaults, which allow TLSv1 in every \
        release) allow SSLv2, SSLv3, TLSv1 or TLSv1.1.",
    refs: &[
        "https://www.postfix.org/postconf.5.html#smtpd_tls_protocols",
        "RFC 8996",
        "NIST SP 800-52r2 §3.1",
    ],
};

pub static POSTFIX_TLS13_DISABLED: Rule = Rule {
    id: "postfix.tls13_disabled",
    area: Area::Config,
    title: "TLS 1.3 disabled",
    severity: Severity::Low,
    description:
        "A TLS protocol setting excludes TLSv1.3 (explicitly, with <=TLSv1.2, or by excluding a \
        lower version above an enabled one, which OpenSSL treats as an upper bound).",
    refs: &[
        "https://www.postfix.org/postconf.5.html#smtpd_tls_protocols",
        "RFC 8446",
    ],
};

pub static POSTFIX_TLS_CIPHERS: Rule = Rule {
    id: "postfix.tls_ciphers",
    area: Area::Config,
    title: "Weak TLS cipher grade",
    severity: Severity::Medium,
    description: "smtpd_tls_ciphers, smtpd_tls_mandatory_ciphers, smtp_tls_ciphers or \
        smtp_tls_mandatory_ciphers is export, low or null (the default before mid-2015 releases was \
        export), or the cipher list of the grade in use was changed to add aNULL, eNULL, RC4 or 3DES.",
    refs: &[
        "https://www.postfix.org/postconf.5.html#smtpd_tls_ciphers",
        "https://www.postfix.org/postconf.5.html#tls_medium_cipherlist",
        "RFC 7465",
    ],
};

pub static POSTFIX_SUBMISSION_PLAINTEXT: Rule = Rule {
    id: "postfix.submission_plaintext",
    area: Area::Config,
    title: "Submission ports without mandatory TLS",
    severity: Severity::High,
    description:
        "The submission service (port 587) runs without smtpd_tls_security_level = encrypt, or \
        smtps/submissions (port 465) without smtpd_tls_wrappermode = yes, so mail clients may send \
        their mail (and session) unencrypted.",
    refs: &[
        "https://www.postfix.org/TLS_README.html#server_tls_auth",
        "RFC 8314",
    ],
};

pub static POSTFIX_OUTBOUND_DANE: Rule = Rule {
    id: "postfix.outbound_dane",
    area: Area::Config,
    title: "Outbound DANE",
    severity: Severity::Info,
    description: "Info: outbound DANE (smtp_dns_support_level = dnssec with smtp_tls_security_level = \
        dane) is not enabled, so TLS to destinations that publish TLSA records is not authenticated.",
    refs: &[
        "https://www.postfix.org/TLS_README.html#client_tls_dane",
        "RFC 7672",
    ],
};

/// smtpd views to judge (services, or main.cf when none run smtpd).
fn views<'a, 'b>(ctx: &'a Ctx<'b>) -> Vec<&'a View<'b>> {
    if ctx.views.is_empty() {
        vec![&ctx.main]
    } else {
        ctx.views.iter().collect()
    }
}

/// Views of the SMTP client: main.cf, and any `smtp`/`relay` client
/// transport in master.cf with its overrides.
fn client_views<'a>(ctx: &Ctx<'a>) -> Vec<View<'a>> {
    let mut out = vec![View::new(ctx.cfg, None, ctx.version)];
    for s in ctx
        .cfg
        .services
        .iter()
        .filter(|s| s.command == "smtp" && s.kind == "unix" && !s.overrides.is_empty())
    {
        out.push(View::new(ctx.cfg, Some(s), ctx.version));
    }
    out
}

/// The effective smtpd TLS level of a view (with the legacy parameters).
fn smtpd_level(v: &View) -> (String, Vec<Evidence>) {
    let level = v.get("smtpd_tls_security_level");
    if !level.text.trim().is_empty() {
        return (level.lower(), level.evidence());
    }
    let enforce = v.get("smtpd_enforce_tls");
    let use_tls = v.get("smtpd_use_tls");
    let mut ev = level.evidence();
    if enforce.is_yes() {
        ev.extend(enforce.evidence());
        return ("encrypt".into(), ev);
    }
    ev.extend(use_tls.evidence());
    if use_tls.is_yes() {
        ("may".into(), ev)
    } else {
        ("none".into(), ev)
    }
}

pub(crate) fn tls_inbound_off(ctx: &Ctx) -> Finding {
    let mut ev_pass = Vec::new();
    // Level none where a certificate is configured: turning TLS on needs
    // nothing else. Without a certificate, only the admin can say which.
    let mut remedy = Remedy::new();
    let mut failed = None;
    let mut needs_cert = false;
    for v in views(ctx) {
        let wrapper = v.get("smtpd_tls_wrappermode");
        let (level, mut ev) = smtpd_level(v);
        ev.extend(v.service_evidence());
        let certs: Vec<Value> = [
            "smtpd_tls_chain_files",
            "smtpd_tls_cert_file",
            "smtpd_tls_eccert_file",
            "smtpd_tls_dcert_file",
        ]
        .iter()
        .map(|n| v.get(n))
        .collect();
        let cert = certs.iter().find(|c| !c.text.trim().is_empty());
        if !wrapper.is_yes() && level == "none" {
            match cert {
                Some(_) => remedy.push(set(v, "smtpd_tls_security_level", "may")),
                None => needs_cert = true,
            }
            failed.get_or_insert((
                format!(
                    "For {}, the TLS security level is none, so the server never offers \
                     STARTTLS: every message and password reaches it in clear text and can be \
                     read or changed on the way.",
                    v.label()
                ),
                ev,
            ));
            continue;
        }
        match cert {
            Some(c) => {
                ev.extend(c.evidence());
                ev_pass.extend(ev);
            }
            None => {
                needs_cert = true;
                ev.extend(certs.iter().filter(|c| c.exists).flat_map(Value::evidence));
                failed.get_or_insert((
                    format!(
                        "For {}, TLS is enabled (level {level}) but no certificate is \
                         configured, so Postfix cannot actually offer STARTTLS and mail \
                         arrives in clear text.",
                        v.label()
                    ),
                    ev,
                ));
            }
        }
    }
    if let Some((detail, ev)) = failed {
        let f = POSTFIX_TLS_INBOUND_OFF
            .finding(Status::Fail, detail)
            .with_evidences(ev);
        return if needs_cert {
            f.with_remediation(REMEDIATION_INBOUND)
        } else {
            f.with_remedy(ctx, remedy)
        };
    }
    ev_pass.dedup();
    POSTFIX_TLS_INBOUND_OFF
        .finding(
            Status::Pass,
            "Every smtpd service offers TLS with a certificate.",
        )
        .with_evidences(ev_pass)
}

const REMEDIATION_INBOUND: &str = "In main.cf:\n\
    smtpd_tls_security_level = may\n\
    smtpd_tls_chain_files = /etc/letsencrypt/live/mail.example.org/privkey.pem, /etc/letsencrypt/live/mail.example.org/fullchain.pem";

pub(crate) fn tls_outbound_off(ctx: &Ctx) -> Finding {
    let mut ev_pass = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new();
    for v in client_views(ctx) {
        let level = v.get("smtp_tls_security_level");
        let mut ev = level.evidence();
        let effective = if level.text.trim().is_empty() {
            let enforce = v.get("smtp_enforce_tls");
            let use_tls = v.get("smtp_use_tls");
            ev.extend(use_tls.evidence());
            if enforce.is_yes() {
                "encrypt".to_string()
            } else if use_tls.is_yes() {
                "may".into()
            } else {
                "none".into()
            }
        } else {
            level.lower()
        };
        ev.extend(v.service_evidence());
        if effective == "none" {
            remedy.push(set(&v, "smtp_tls_security_level", "may"));
            failed.get_or_insert((
                format!(
                    "For {}, the SMTP client never uses STARTTLS, so mail to other servers \
                     crosses the internet in clear text even when they support TLS.",
                    v.label()
                ),
                ev,
            ));
            continue;
        }
        ev_pass.extend(ev);
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_TLS_OUTBOUND_OFF
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    POSTFIX_TLS_OUTBOUND_OFF
        .finding(
            Status::Pass,
            "The SMTP client uses TLS whenever the receiving server offers it (or requires it).",
        )
        .with_evidences(ev_pass)
}

const PROTOCOLS: [&str; 6] = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

fn protocol_index(name: &str) -> Option<usize> {
    if let Some(i) = PROTOCOLS.iter().position(|p| p.eq_ignore_ascii_case(name)) {
        return Some(i);
    }
    let hex = name.trim_start_matches("0x").trim_start_matches("0X");
    match u16::from_str_radix(hex, 16).ok()? {
        0x0002 => Some(0),
        0x0300 => Some(1),
        0x0301 => Some(2),
        0x0302 => Some(3),
        0x0303 => Some(4),
        0x0304 => Some(5),
        _ => None,
    }
}

/// The protocol versions a Postfix protocol list enables, after OpenSSL's
/// rule that a gap ends the range (a disabled version disables all higher
/// ones above an enabled one). Err when Postfix rejects the list.
pub(crate) fn enabled_protocols(value: &str, v: &super::Version) -> Result<[bool; 6], String> {
    let mut include = [false; 6];
    let mut any_include = false;
    let mut exclude = [false; 6];
    let (mut min, mut max) = (0usize, 5usize);
    for item in value
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .filter(|s| !s.is_empty())
    {
        if let Some(b) = item.strip_prefix(">=").or_else(|| item.strip_prefix("<=")) {
            if !v.series_at_least(3, 6) {
                return Err(format!(
                    "\"{item}\": the >=/<= syntax needs Postfix 3.6 or later"
                ));
            }
            let i = protocol_index(b).ok_or_else(|| format!("unknown protocol \"{b}\""))?;
            if item.starts_with(">=") {
                min = min.max(i);
            } else {
                max = max.min(i);
            }
        } else if let Some(n) = item.strip_prefix('!') {
            let i = protocol_index(n).ok_or_else(|| format!("unknown protocol \"{n}\""))?;
            exclude[i] = true;
        } else {
            let i = protocol_index(item).ok_or_else(|| format!("unknown protocol \"{item}\""))?;
            include[i] = true;
            any_include = true;
        }
    }
    let mut on = [false; 6];
    for i in 0..6 {
        on[i] = i >= min && i <= max && !exclude[i] && (!any_include || include[i]);
    }
    if let Some(lowest) = on.iter().position(|b| *b) {
        let mut gap = false;
        for slot in on.iter_mut().skip(lowest) {
            if !*slot {
                gap = true;
            } else if gap {
                *slot = false;
            }
        }
    }
    Ok(on)
}

struct ProtoSetting<'a> {
    label: String,
    /// The service whose view it is (None: main.cf).
    service: Option<&'a Service>,
    value: Value,
    result: Result<[bool; 6], String>,
}

impl ProtoSetting<'_> {
    /// The edit that bounds it from below only (TLS 1.2 and later).
    fn fix(&self, ctx: &Ctx) -> Edit {
        set_for(self.service, &self.value.name, modern_protocols(ctx))
    }
}

/// TLS 1.2 and later, in the syntax of the release.
fn modern_protocols(ctx: &Ctx) -> &'static str {
    if ctx.version.series_at_least(3, 6) {
        ">=TLSv1.2"
    } else {
        "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
    }
}

fn protocol_settings<'a>(ctx: &Ctx<'a>) -> Vec<ProtoSetting<'a>> {
    let mut out: Vec<ProtoSetting> = Vec::new();
    let mut push = |label: String, service: Option<&'a Service>, value: Value| {
        if out.iter().any(|s| {
            s.value.name == value.name
                && s.value.text == value.text
                && s.value.origin == value.origin
        }) {
            return;
        }
        let result = enabled_protocols(&value.text, ctx.version);
        out.push(ProtoSetting {
            label,
            service,
            value,
            result,
        });
    };
    for v in views(ctx) {
        for n in ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols"] {
            push(v.label(), v.service, v.get(n));
        }
    }
    for v in client_views(ctx) {
        for n in ["smtp_tls_protocols", "smtp_tls_mandatory_protocols"] {
            push(v.label(), v.service, v.get(n));
        }
    }
    out
}

pub(crate) fn tls_protocols(ctx: &Ctx) -> Finding {
    let settings = protocol_settings(ctx);
    let mut warn = None;
    let mut failed = None;
    let mut remedy = Remedy::new().context(if ctx.version.series_at_least(3, 6) {
        "Postfix 3.6+ syntax"
    } else {
        "before Postfix 3.6, exclude each old version"
    });
    let mut ev_pass = Vec::new();
    for s in &settings {
        match &s.result {
            Ok(on) => {
                let old: Vec<&str> = (0..4).filter(|i| on[*i]).map(|i| PROTOCOLS[i]).collect();
                if !old.is_empty() {
                    remedy.push(s.fix(ctx));
                    failed.get_or_insert((
                        format!(
                            "For {}, {} = \"{}\" allows {}. These versions have known \
                                 weaknesses (RFC 8996 deprecates TLS 1.0 and 1.1); an attacker in \
                                 the path can force a weak connection. (Your OpenSSL build may \
                                 refuse some of them anyway, but the configuration permits them.)",
                            s.label,
                            s.value.name,
                            s.value.text,
                            old.join(", ")
                        ),
                        s.value.evidence(),
                    ));
                    continue;
                }
                ev_pass.extend(s.value.evidence());
            }
            Err(e) => {
                remedy.push(s.fix(ctx));
                warn.get_or_insert((
                    format!(
                        "For {}, Postfix {} rejects {} = \"{}\" ({e}); TLS with this setting \
                         fails or falls back, so what is allowed cannot be told.",
                        s.label, ctx.version, s.value.name, s.value.text
                    ),
                    s.value.evidence(),
                ));
            }
        }
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_TLS_PROTOCOLS
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    if let Some((why, ev)) = warn {
        return POSTFIX_TLS_PROTOCOLS
            .finding(Status::Warn, why)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    ev_pass.dedup();
    POSTFIX_TLS_PROTOCOLS
        .finding(
            Status::Pass,
            "Inbound and outbound TLS allow only TLS 1.2 and later.",
        )
        .with_evidences(ev_pass)
}

pub(crate) fn tls13_disabled(ctx: &Ctx) -> Finding {
    let settings = protocol_settings(ctx);
    let mut ev_pass = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new().context("bound only from below");
    for s in &settings {
        if let Ok(on) = &s.result {
            if !on[5] {
                remedy.push(s.fix(ctx));
                failed.get_or_insert((
                    format!(
                        "For {}, {} = \"{}\" leaves TLS 1.3 out. TLS 1.3 is faster and drops \
                             the weak options of older versions; peers that support it should \
                             get it.",
                        s.label, s.value.name, s.value.text
                    ),
                    s.value.evidence(),
                ));
                continue;
            }
            ev_pass.extend(s.value.evidence());
        }
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_TLS13_DISABLED
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    ev_pass.dedup();
    POSTFIX_TLS13_DISABLED
        .finding(Status::Pass, "No TLS protocol setting excludes TLS 1.3.")
        .with_evidences(ev_pass)
}

/// A weak cipher class a changed cipher list adds, if any.
fn weak_class_added(list_text: &str) -> Option<&'static str> {
    const WEAK: &[(&str, &[&str])] = &[
        ("aNULL", &["ANULL", "ADH", "AECDH"]),
        (
            "eNULL",
            &["ENULL", "NULL", "COMPLEMENTOFALL", "COMPLEMENTOFDEFAULT"],
        ),
        ("RC4", &["RC4", "RC4-SHA", "RC4-MD5"]),
        ("3DES", &["3DES", "DES-CBC3-SHA", "EDH-RSA-DES-CBC3-SHA"]),
        ("EXPORT", &["EXPORT", "EXP", "LOW", "DES"]),
    ];
    let tokens: Vec<String> = list_text
        .split(|c: char| c == ':' || c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_uppercase())
        .collect();
    for (class, names) in WEAK {
        let class_up = class.to_ascii_uppercase();
        let matches = |t: &str| names.contains(&t) || t == class_up;
        if tokens
            .iter()
            .any(|t| t.starts_with('!') && matches(&t[1..]))
        {
            continue;
        }
        let last_add = tokens
            .iter()
            .rposition(|t| !t.starts_with(['!', '-', '+', '@']) && t.split('+').any(matches));
        let last_remove = tokens
            .iter()
            .rposition(|t| t.starts_with('-') && matches(&t[1..]));
        if let Some(a) = last_add {
            if last_remove.is_none_or(|r| r < a) {
                return Some(class);
            }
        }
    }
    None
}

pub(crate) fn tls_ciphers(ctx: &Ctx) -> Finding {
    let mut pairs: Vec<(String, Option<&Service>, Value)> = Vec::new();
    for v in views(ctx) {
        for n in ["smtpd_tls_ciphers", "smtpd_tls_mandatory_ciphers"] {
            pairs.push((v.label(), v.service, v.get(n)));
        }
    }
    for v in client_views(ctx) {
        for n in ["smtp_tls_ciphers", "smtp_tls_mandatory_ciphers"] {
            pairs.push((v.label(), v.service, v.get(n)));
        }
    }
    let mut ev_pass = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new();
    for (label, service, val) in &pairs {
        let grade = val.lower();
        if matches!(grade.as_str(), "export" | "low" | "null") {
            remedy.push(set_for(*service, &val.name, "medium"));
            failed.get_or_insert((
                format!(
                    "For {label}, {} = {grade} allows {}: an attacker in the path can \
                         break or downgrade the encryption.",
                    val.name,
                    if grade == "null" {
                        "ciphers without any encryption"
                    } else {
                        "export-grade or low-strength ciphers"
                    }
                ),
                val.evidence(),
            ));
            continue;
        }
        // The cipher list behind the grade, when it was changed.
        let list_name = format!("tls_{grade}_cipherlist");
        let v = View::new(ctx.cfg, None, ctx.version);
        let cl = v.get(&list_name);
        if cl.is_set() {
            if let Some(class) = weak_class_added(&cl.text) {
                let mut ev = val.evidence();
                ev.extend(cl.evidence());
                remedy.push(Edit::RemoveMain {
                    name: list_name.clone(),
                });
                failed.get_or_insert((
                    format!(
                        "For {label}, {} = {grade} uses {list_name}, which was changed to \
                         enable {class} ciphers.",
                        val.name
                    ),
                    ev,
                ));
                continue;
            }
        }
        ev_pass.extend(val.evidence());
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_TLS_CIPHERS
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    ev_pass.dedup();
    POSTFIX_TLS_CIPHERS
        .finding(
            Status::Pass,
            "Cipher grades are medium or high and their cipher lists add no weak ciphers.",
        )
        .with_evidences(ev_pass)
}

pub(crate) fn submission_plaintext(ctx: &Ctx) -> Finding {
    let subs: Vec<View> = ctx
        .cfg
        .services
        .iter()
        .filter(|s| s.is_smtpd_listener() && !s.is_loopback_only())
        .filter(|s| matches!(s.port(), Some(587 | 465)))
        .map(|s| View::new(ctx.cfg, Some(s), ctx.version))
        .collect();
    if subs.is_empty() {
        let detail = if ctx.has_master {
            "The pasted master.cf runs no submission (587) or smtps/submissions (465) service."
        } else {
            "master.cf was not pasted; the stock master.cf has no submission service enabled. \
             Paste master.cf to check the submission ports."
        };
        return POSTFIX_SUBMISSION_PLAINTEXT.finding(Status::Pass, detail);
    }
    let mut ev_pass = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new();
    for v in &subs {
        let Some(s) = v.service else { continue };
        let wrapper = v.get("smtpd_tls_wrappermode");
        let (level, level_ev) = smtpd_level(v);
        let mut ev = vec![s.source.evidence()];
        let port = s.port().unwrap_or(0);
        let bad = if port == 465 {
            ev.extend(wrapper.evidence());
            (!wrapper.is_yes()).then(|| {
                "smtpd_tls_wrappermode is not yes, so port 465 speaks plain SMTP where mail \
                 clients expect TLS from the first byte"
                    .to_string()
            })
        } else {
            ev.extend(level_ev);
            (level != "encrypt" && !wrapper.is_yes()).then(|| {
                format!(
                    "the TLS security level is {level}, not encrypt, so a mail client (or an \
                     attacker who strips STARTTLS) can submit mail — and log in — without TLS"
                )
            })
        };
        if let Some(why) = bad {
            let (name, value) = if port == 465 {
                ("smtpd_tls_wrappermode", "yes")
            } else {
                ("smtpd_tls_security_level", "encrypt")
            };
            remedy.push(Edit::SetServiceOption {
                service: s.name.clone(),
                kind: s.kind.clone(),
                name: name.into(),
                value: value.into(),
            });
            failed.get_or_insert((format!("For service {} (port {port}), {why}.", s.name), ev));
            continue;
        }
        ev_pass.extend(ev);
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_SUBMISSION_PLAINTEXT
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    POSTFIX_SUBMISSION_PLAINTEXT
        .finding(
            Status::Pass,
            "Submission requires TLS: 587 with smtpd_tls_security_level = encrypt, 465 with \
             wrapper-mode TLS.",
        )
        .with_evidences(ev_pass)
}

pub(crate) fn outbound_dane(ctx: &Ctx) -> Finding {
    let level = ctx.main.get("smtp_tls_security_level");
    let dns = ctx.main.get("smtp_dns_support_level");
    let mut ev = level.evidence();
    ev.extend(dns.evidence());
    if matches!(level.lower().as_str(), "dane" | "dane-only") && dns.lower() == "dnssec" {
        return POSTFIX_OUTBOUND_DANE
            .finding(
                Status::Pass,
                "Outbound DANE is on: TLS to destinations with DNSSEC-signed TLSA records is \
                 authenticated.",
            )
            .with_evidences(ev);
    }
    POSTFIX_OUTBOUND_DANE
        .finding(
            Status::Info,
            "Outbound DANE is not enabled. With it, Postfix authenticates the TLS certificates of \
             destinations that publish TLSA records (DNSSEC), which stops downgrade and \
             man-in-the-middle attacks on those connections. It needs a DNSSEC-validating \
             resolver on the host.",
        )
        .with_evidences(ev)
        .with_remediation(
            "In main.cf (with a local DNSSEC-validating resolver):\n\
             smtp_dns_support_level = dnssec\nsmtp_tls_security_level = dane",
        )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Version;
    use super::*;

    fn st(main: &str, id: &str) -> Status {
        status(main, None, id)
    }

    #[test]
    fn protocol_lists() {
        let v36 = Version::parse("3.6").unwrap();
        let v35 = Version::parse("3.5.9").unwrap();
        let on = |s: &str| enabled_protocols(s, &v36).unwrap();
        assert_eq!(on(">=TLSv1.2"), [false, false, false, false, true, true]);
        assert_eq!(on(">=TLSv1"), [false, false, true, true, true, true]);
        assert_eq!(on("!SSLv2, !SSLv3"), [false, false, true, true, true, true]);
        assert_eq!(
            on("!SSLv2:!SSLv3:!TLSv1.1"),
            [false, false, true, false, false, false],
            "gap ends the range"
        );
        assert_eq!(on(""), [true; 6]);
        assert_eq!(
            on("TLSv1.2 TLSv1.3"),
            [false, false, false, false, true, true]
        );
        assert_eq!(
            on(">=0x0303, <=TLSv1.2"),
            [false, false, false, false, true, false]
        );
        assert!(enabled_protocols(">=TLSv1.2", &v35).is_err());
        assert!(enabled_protocols("TLSv9", &v36).is_err());
    }

    #[test]
    fn protocols_rule() {
        let id = "postfix.tls_protocols";
        assert_eq!(st("", id), Status::Fail, "defaults allow TLSv1");
        let good = "smtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2\nsmtp_tls_protocols = >=TLSv1.2\nsmtp_tls_mandatory_protocols = >=TLSv1.2\n";
        assert_eq!(st(good, id), Status::Pass);
        let f = get(
            &run(
                &good.replace("smtp_tls_mandatory_protocols = >=TLSv1.2\n", ""),
                None,
            ),
            id,
        )
        .clone();
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("smtp_tls_mandatory_protocols"));
        // An override in master.cf weakens main.cf.
        assert_eq!(
            status(
                good,
                Some("smtp inet n - y - - smtpd -o smtpd_tls_protocols=!SSLv2,!SSLv3\n"),
                id
            ),
            Status::Fail
        );
        // Via $name.
        let via = good.replace(
            "smtpd_tls_protocols = >=TLSv1.2",
            "smtpd_tls_protocols = $p\np = >=TLSv1",
        );
        assert_eq!(st(&via, id), Status::Fail);
        assert_eq!(
            get(&run_v(good, None, Some("3.5.20")), id).status,
            Status::Warn,
            ">= syntax before 3.6"
        );
        let legacy = good.replace(">=TLSv1.2", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1");
        assert_eq!(
            get(&run_v(&legacy, None, Some("3.5.20")), id).status,
            Status::Pass
        );
        assert_eq!(st(good, "postfix.tls13_disabled"), Status::Pass);
        assert_eq!(
            st(
                &good.replace(
                    "smtp_tls_protocols = >=TLSv1.2",
                    "smtp_tls_protocols = >=TLSv1.2, <=TLSv1.2"
                ),
                "postfix.tls13_disabled"
            ),
            Status::Fail
        );
        assert_eq!(
            st(
                "smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1.3\n",
                "postfix.tls13_disabled"
            ),
            Status::Fail
        );
    }

    #[test]
    fn inbound() {
        let id = "postfix.tls_inbound_off";
        assert_eq!(st("", id), Status::Fail);
        assert_eq!(
            st("smtpd_tls_security_level = may\n", id),
            Status::Fail,
            "no certificate"
        );
        assert_eq!(
            st(
                "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = /c.pem\n",
                id
            ),
            Status::Pass
        );
        assert_eq!(
            st("smtpd_use_tls = yes\nsmtpd_tls_cert_file = /c.pem\n", id),
            Status::Pass,
            "legacy yes = may"
        );
        assert_eq!(
            status(
                "smtpd_tls_security_level = may\nsmtpd_tls_chain_files = /k.pem /c.pem\n",
                Some("smtp inet n - y - - smtpd -o smtpd_tls_security_level=none\n127.0.0.1:10025 inet n - n - - smtpd -o smtpd_tls_security_level=none\n"),
                id
            ),
            Status::Fail
        );
        assert_eq!(
            status(
                "smtpd_tls_security_level = may\nsmtpd_tls_chain_files = /k.pem /c.pem\n",
                Some("smtp inet n - y - - smtpd\n127.0.0.1:10025 inet n - n - - smtpd -o smtpd_tls_security_level=none\n"),
                id
            ),
            Status::Pass,
            "loopback re-injection is not inbound"
        );
    }

    #[test]
    fn outbound_and_dane() {
        assert_eq!(st("", "postfix.tls_outbound_off"), Status::Fail);
        assert_eq!(
            st(
                "smtp_tls_security_level = may\n",
                "postfix.tls_outbound_off"
            ),
            Status::Pass
        );
        assert_eq!(
            st("smtp_use_tls = yes\n", "postfix.tls_outbound_off"),
            Status::Pass
        );
        assert_eq!(
            status(
                "smtp_tls_security_level = may\n",
                Some("smtp unix - - y - - smtp -o smtp_tls_security_level=none\n"),
                "postfix.tls_outbound_off"
            ),
            Status::Fail
        );
        assert_eq!(st("", "postfix.outbound_dane"), Status::Info);
        assert_eq!(
            st(
                "smtp_tls_security_level = dane\nsmtp_dns_support_level = dnssec\n",
                "postfix.outbound_dane"
            ),
            Status::Pass
        );
    }

    #[test]
    fn ciphers() {
        let id = "postfix.tls_ciphers";
        assert_eq!(st("", id), Status::Pass);
        assert_eq!(st("smtpd_tls_ciphers = export\n", id), Status::Fail);
        assert_eq!(
            get(&run_v("", None, Some("2.11.3")), id).status,
            Status::Fail,
            "old default export"
        );
        assert_eq!(
            st(
                "tls_medium_cipherlist = aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH\n",
                id
            ),
            Status::Pass
        );
        assert_eq!(
            st("tls_medium_cipherlist = HIGH:MEDIUM:3DES\n", id),
            Status::Fail
        );
        assert_eq!(
            st("tls_medium_cipherlist = HIGH:RC4:!RC4\n", id),
            Status::Pass
        );
        assert_eq!(
            st(
                "smtp_tls_mandatory_ciphers = high\ntls_high_cipherlist = HIGH:aNULL\n",
                id
            ),
            Status::Fail
        );
    }

    #[test]
    fn submission() {
        let id = "postfix.submission_plaintext";
        assert_eq!(st("", id), Status::Pass);
        let m = "smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n  -o smtpd_sasl_auth_enable=yes\nsmtps inet n - y - - smtpd\n  -o smtpd_tls_wrappermode=yes\n";
        let f = get(&run("smtpd_tls_security_level = may\n", Some(m)), id).clone();
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("587"));
        assert!(f
            .remediation
            .contains("-o smtpd_tls_security_level=encrypt"));
        let fixed = m.replace(
            "  -o smtpd_sasl_auth_enable=yes\n",
            "  -o smtpd_tls_security_level=encrypt\n",
        );
        assert_eq!(status("", Some(&fixed), id), Status::Pass);
        let no_wrap = fixed.replace("  -o smtpd_tls_wrappermode=yes\n", "");
        assert_eq!(status("", Some(&no_wrap), id), Status::Fail);
        assert_eq!(
            status(
                "smtpd_tls_security_level = encrypt\n",
                Some("0.0.0.0:587 inet n - y - - smtpd\n"),
                id
            ),
            Status::Pass
        );
    }
}
