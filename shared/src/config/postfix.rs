//! Postfix: `main.cf`, `master.cf`, `postconf -n` / `postconf -M` output.
//!
//! Read as Postfix reads them: `#` comment lines, continuation lines that
//! start with white space, last definition wins, `$name`/`${name}`
//! expansion, and per-service `-o name=value` (or `-o { name = value }`)
//! overrides in master.cf. A logical line is classified by its shape, so
//! main.cf and master.cf may be pasted together.
//!
//! Rules decided here: `postfix.open_relay`, `postfix.vrfy_enabled`,
//! `postfix.auth_plaintext`.

use super::Input;
use crate::report::{Assumption, Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use std::net::IpAddr;

pub static POSTFIX_OPEN_RELAY: Rule = Rule {
    id: "postfix.open_relay",
    area: Area::Config,
    title: "Open relay (Postfix relay restrictions)",
    severity: Severity::Critical,
    description: "The relay restrictions (smtpd_relay_restrictions, else smtpd_recipient_restrictions), \
        evaluated first-match as Postfix does for each smtpd service, reach an accepting result before \
        reject_unauth_destination/defer_unauth_destination — e.g. permit_mynetworks with a public mynetworks, \
        a bare permit, or a list with no relay control at all (smtpd then refuses all mail).",
    refs: &[
        "https://www.postfix.org/SMTPD_ACCESS_README.html",
        "https://www.postfix.org/postconf.5.html#smtpd_relay_restrictions",
        "NIST SP 800-177r1 §4",
    ],
};

pub static POSTFIX_VRFY_ENABLED: Rule = Rule {
    id: "postfix.vrfy_enabled",
    area: Area::Config,
    title: "VRFY command (address harvesting)",
    severity: Severity::Medium,
    description:
        "disable_vrfy_command is not yes, so anyone can ask the server whether an address exists.",
    refs: &["https://www.postfix.org/postconf.5.html#disable_vrfy_command"],
};

pub static POSTFIX_AUTH_PLAINTEXT: Rule = Rule {
    id: "postfix.auth_plaintext",
    area: Area::Config,
    title: "Password authentication only over TLS",
    severity: Severity::High,
    description: "SASL authentication is enabled (in main.cf or a master.cf service) without \
        smtpd_tls_auth_only = yes or smtpd_tls_security_level = encrypt for that service, so passwords \
        can cross the network in clear text.",
    refs: &[
        "https://www.postfix.org/SASL_README.html",
        "https://www.postfix.org/postconf.5.html#smtpd_tls_auth_only",
        "RFC 4954 §4",
    ],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &POSTFIX_OPEN_RELAY,
    &POSTFIX_VRFY_ENABLED,
    &POSTFIX_AUTH_PLAINTEXT,
];

/// The release whose defaults apply when no version is stated.
pub const CURRENT_STABLE: &str = "3.10";

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    pub line: u32,
    pub text: String,
}

impl Source {
    fn evidence(&self) -> Evidence {
        Evidence::Config {
            file: self.file.clone(),
            line: Some(self.line),
            text: self.text.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub kind: String,
    pub command: String,
    pub overrides: Vec<Param>,
    pub source: Source,
}

impl Service {
    fn is_smtpd_listener(&self) -> bool {
        self.command == "smtpd" && (self.kind == "inet" || self.kind == "pass")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Every main.cf definition in order (the last of a name wins).
    pub params: Vec<Param>,
    pub services: Vec<Service>,
    /// Whether any master.cf content was pasted.
    pub has_master: bool,
    /// Lines that could not be understood.
    pub diagnostics: Vec<Source>,
}

const SERVICE_TYPES: &[&str] = &["inet", "unix", "fifo", "pass", "unix-dgram"];

/// Logical lines of a file: (first line number, joined text, first line).
fn logical_lines(text: &str) -> Vec<(u32, String, String)> {
    let mut out: Vec<(u32, String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(trimmed);
                continue;
            }
        }
        out.push((n, trimmed.to_string(), line.trim_end().to_string()));
    }
    out
}

fn is_param_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

fn parse_assignment(s: &str) -> Option<(String, String)> {
    let (name, value) = s.split_once('=')?;
    let name = name.trim();
    is_param_name(name).then(|| (name.to_string(), value.trim().to_string()))
}

impl Config {
    pub fn parse(parts: &[Input]) -> Config {
        let mut cfg = Config::default();
        for part in parts {
            for (line, joined, first) in logical_lines(&part.text) {
                let source = Source {
                    file: part.name.clone(),
                    line,
                    text: first,
                };
                let fields: Vec<&str> = joined.split_whitespace().collect();
                if fields.len() >= 8 && SERVICE_TYPES.contains(&fields[1]) {
                    cfg.has_master = true;
                    cfg.services.push(parse_service(&joined, source));
                } else if let Some((name, value)) = parse_assignment(&joined) {
                    cfg.params.push(Param {
                        name,
                        value,
                        source,
                    });
                } else {
                    cfg.diagnostics.push(source);
                }
            }
        }
        cfg
    }

    /// The main.cf definition in force for `name`, if any.
    pub fn main(&self, name: &str) -> Option<&Param> {
        self.params.iter().rev().find(|p| p.name == name)
    }
}

fn parse_service(joined: &str, source: Source) -> Service {
    let fields: Vec<&str> = joined.split_whitespace().collect();
    let mut overrides = Vec::new();
    // Arguments after the command; `-o name=value`, `-o name = value`
    // is not valid, but `-o { name = value }` is (Postfix 3.0+).
    let args = &fields[8..];
    let mut i = 0;
    while i < args.len() {
        if args[i] == "-o" && i + 1 < args.len() {
            if args[i + 1].starts_with('{') {
                let mut j = i + 1;
                let mut buf = String::new();
                while j < args.len() {
                    buf.push_str(args[j]);
                    buf.push(' ');
                    if args[j].ends_with('}') {
                        break;
                    }
                    j += 1;
                }
                let inner = buf.trim().trim_start_matches('{').trim_end_matches('}');
                if let Some((name, value)) = parse_assignment(inner) {
                    overrides.push(Param {
                        name,
                        value,
                        source: source.clone(),
                    });
                }
                i = j + 1;
            } else {
                if let Some((name, value)) = parse_assignment(args[i + 1]) {
                    overrides.push(Param {
                        name,
                        value,
                        source: source.clone(),
                    });
                }
                i += 2;
            }
        } else {
            i += 1;
        }
    }
    Service {
        name: fields[0].to_string(),
        kind: fields[1].to_string(),
        command: fields[7].to_string(),
        overrides,
        source,
    }
}

/// Whether the texts look like Postfix configuration.
pub fn looks_like_postfix(parts: &[Input]) -> bool {
    let cfg = Config::parse(parts);
    let known = cfg
        .params
        .iter()
        .filter(|p| default(&p.name).is_some() || KNOWN_EXTRA.contains(&p.name.as_str()))
        .count();
    cfg.has_master || known >= 1 && known * 2 >= cfg.params.len().max(1)
}

/// Parameters we recognise without reading their value (detection only).
const KNOWN_EXTRA: &[&str] = &[
    "myhostname",
    "mydomain",
    "myorigin",
    "mydestination",
    "inet_interfaces",
    "inet_protocols",
    "relayhost",
    "alias_maps",
    "alias_database",
    "smtpd_banner",
    "biff",
    "append_dot_mydomain",
    "readme_directory",
    "smtpd_tls_cert_file",
    "smtpd_tls_key_file",
    "smtpd_tls_chain_files",
    "smtp_tls_security_level",
    "message_size_limit",
    "mailbox_size_limit",
    "recipient_delimiter",
    "home_mailbox",
    "virtual_transport",
    "virtual_mailbox_domains",
    "smtpd_sasl_type",
    "smtpd_sasl_path",
    "milter_default_action",
    "smtpd_milters",
    "non_smtpd_milters",
    "queue_directory",
    "mail_version",
];

/// Built-in defaults (for compatibility_level >= 1) of the parameters the
/// rules read.
fn default(name: &str) -> Option<&'static str> {
    Some(match name {
        "compatibility_level" => "0",
        "smtpd_relay_restrictions" => {
            "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"
        }
        "smtpd_recipient_restrictions" => "",
        "mynetworks_style" => "host",
        "mynetworks" => "",
        "disable_vrfy_command" => "no",
        "smtpd_sasl_auth_enable" => "no",
        "smtpd_tls_auth_only" => "no",
        "smtpd_tls_security_level" => "",
        "smtpd_tls_wrappermode" => "no",
        "smtpd_use_tls" => "no",
        "smtpd_enforce_tls" => "no",
        _ => return None,
    })
}

/// A value as seen by one service: `-o` override, else main.cf, else default.
#[derive(Debug, Clone)]
struct Value {
    text: String,
    origin: Option<Source>,
}

impl Value {
    fn evidence(&self, name: &str, version: &str) -> Evidence {
        match &self.origin {
            Some(s) => s.evidence(),
            None => Evidence::Config {
                file: "main.cf".into(),
                line: None,
                text: format!(
                    "{name} not set; default for Postfix {version} is \"{}\"",
                    self.text
                ),
            },
        }
    }

    fn is_yes(&self) -> bool {
        matches!(self.text.to_ascii_lowercase().as_str(), "yes" | "true")
    }
}

struct View<'a> {
    cfg: &'a Config,
    service: Option<&'a Service>,
    legacy_compat: bool,
    version: &'a str,
}

impl View<'_> {
    fn raw(&self, name: &str) -> Option<Value> {
        if let Some(p) = self
            .service
            .and_then(|s| s.overrides.iter().rev().find(|p| p.name == name))
        {
            return Some(Value {
                text: p.value.clone(),
                origin: Some(p.source.clone()),
            });
        }
        if let Some(p) = self.cfg.main(name) {
            return Some(Value {
                text: p.value.clone(),
                origin: Some(p.source.clone()),
            });
        }
        let d = match (name, self.legacy_compat) {
            ("smtpd_relay_restrictions", true) => "",
            ("smtpd_recipient_restrictions", true) => {
                "permit_mynetworks, reject_unauth_destination"
            }
            ("mynetworks_style", true) => "subnet",
            _ => default(name)?,
        };
        Some(Value {
            text: d.into(),
            origin: None,
        })
    }

    /// The value with `$name`/`${name}` references expanded.
    fn get(&self, name: &str) -> Value {
        let mut v = self.raw(name).unwrap_or(Value {
            text: String::new(),
            origin: None,
        });
        v.text = self.expand(&v.text, 0);
        v
    }

    fn expand(&self, text: &str, depth: u8) -> String {
        if depth > 10 || !text.contains('$') {
            return text.to_string();
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let (name, len) = if let Some(inner) = after.strip_prefix('{') {
                match inner.find('}') {
                    Some(end) => (&inner[..end], end + 2),
                    None => ("", 0),
                }
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            };
            if is_param_name(name) {
                let sub = self.raw(name).map(|v| v.text).unwrap_or_default();
                out.push_str(&self.expand(&sub, depth + 1));
                rest = &after[len..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }
}

/// Items of a Postfix list value (comma and/or white space separated).
fn list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// How far `mynetworks` opens the server.
#[derive(Debug, PartialEq, Eq)]
enum Networks {
    /// Only private/loopback space or small public ranges.
    Narrow,
    /// A public range larger than /24 (IPv4) or /48 (IPv6).
    Broad(String),
    /// Depends on a table, a file or the interfaces.
    Undecidable(String),
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

fn networks(view: &View) -> (Networks, Evidence) {
    let mn = view.get("mynetworks");
    if mn.origin.is_none() {
        let style = view.get("mynetworks_style");
        let ev = style.evidence("mynetworks_style", view.version);
        return match style.text.as_str() {
            "host" => (Networks::Narrow, ev),
            s => (
                Networks::Undecidable(format!(
                    "mynetworks is not set and mynetworks_style = {s} trusts the networks of the \
                     server's interfaces, which the configuration does not show"
                )),
                ev,
            ),
        };
    }
    let ev = mn.evidence("mynetworks", view.version);
    for item in list(&mn.text) {
        if item.contains(':') && !item.starts_with('[') && item.parse::<IpAddr>().is_err()
            || item.starts_with('/')
        {
            return (
                Networks::Undecidable(format!(
                    "mynetworks includes {item}, whose content was not pasted"
                )),
                ev,
            );
        }
        let cleaned = item.replace(['[', ']'], "");
        let (addr, len) = match cleaned.split_once('/') {
            Some((a, l)) => (a.to_string(), l.parse::<u8>().ok()),
            None => (cleaned.clone(), None),
        };
        let Ok(ip) = addr.parse::<IpAddr>() else {
            continue;
        };
        let (max, limit) = match ip {
            IpAddr::V4(_) => (32, 24),
            IpAddr::V6(_) => (128, 48),
        };
        let len = len.unwrap_or(max);
        if len < limit && !(is_private(ip) && len >= if ip.is_ipv4() { 8 } else { 7 }) {
            return (Networks::Broad(item), ev);
        }
    }
    (Networks::Narrow, ev)
}

#[derive(Debug)]
enum Outcome {
    /// The list accepts an unauthenticated internet client's recipient.
    Permit(String),
    Reject,
    Undecidable(String),
    /// Fell off the end of the list (Postfix: permit).
    NoDecision,
}

const TAKES_ARGUMENT: &[&str] = &[
    "reject_rbl_client",
    "reject_rhsbl_client",
    "reject_rhsbl_sender",
    "reject_rhsbl_helo",
    "reject_rhsbl_recipient",
    "reject_rhsbl_reverse_client",
    "permit_dnswl_client",
    "permit_rhswl_client",
    "check_policy_service",
    "check_sasl_access",
];

fn evaluate(items: &[String], nets: &Networks) -> Outcome {
    let mut i = 0;
    while i < items.len() {
        let item = items[i].as_str();
        i += 1;
        match item {
            "reject_unauth_destination" | "defer_unauth_destination" | "reject" | "defer"
            | "defer_all" => return Outcome::Reject,
            "permit" => return Outcome::Permit("permit".into()),
            "permit_mynetworks" => match nets {
                Networks::Broad(r) => {
                    return Outcome::Permit(format!("permit_mynetworks with mynetworks including {r}"))
                }
                Networks::Undecidable(why) => {
                    return Outcome::Undecidable(format!("permit_mynetworks: {why}"))
                }
                Networks::Narrow => {}
            },
            "permit_tls_all_clientcerts" => {
                return Outcome::Undecidable(
                    "permit_tls_all_clientcerts lets any client with a certificate from a trusted CA relay".into(),
                )
            }
            _ if item.starts_with("check_") && item.ends_with("_access") => {
                let table = items.get(i).cloned().unwrap_or_default();
                return Outcome::Undecidable(format!(
                    "{item} {table} can return OK for any client, and the table was not pasted"
                ));
            }
            _ if TAKES_ARGUMENT.contains(&item) => i += 1,
            _ => {}
        }
    }
    Outcome::NoDecision
}

fn lists_have_relay_control(items: &[&[String]]) -> bool {
    items.iter().any(|l| {
        l.iter().any(|i| {
            matches!(
                i.as_str(),
                "reject_unauth_destination"
                    | "defer_unauth_destination"
                    | "reject"
                    | "defer"
                    | "defer_if_permit"
                    | "check_relay_domains"
            )
        })
    })
}

/// Rules over a parsed configuration. Returns findings and assumptions.
pub fn check(cfg: &Config, assume_version: Option<&str>) -> (Vec<Finding>, Vec<Assumption>) {
    let stated = cfg.main("mail_version").map(|p| p.value.clone());
    let (version, how) = match (assume_version, &stated) {
        (Some(v), _) => (v.to_string(), "from --assume-version".to_string()),
        (None, Some(v)) => (v.clone(), "from mail_version in the input".to_string()),
        (None, None) => (
            CURRENT_STABLE.to_string(),
            "current stable release; the input does not state one".to_string(),
        ),
    };
    let compat = cfg.main("compatibility_level").map(|p| p.value.clone());
    let legacy_compat = compat
        .as_deref()
        .is_some_and(|c| c.split('.').next().and_then(|m| m.parse::<u32>().ok()) == Some(0));
    let mut assumptions = vec![Assumption::new(
        "postfix.version",
        format!("{version} ({how})"),
    )];
    if legacy_compat {
        assumptions.push(Assumption::new(
            "postfix.compatibility_level",
            "0: Postfix applies its backwards-compatible defaults (smtpd_relay_restrictions empty, \
             mynetworks_style = subnet)",
        ));
    }
    let default_master;
    let services: Vec<&Service> = if cfg.has_master {
        cfg.services
            .iter()
            .filter(|s| s.is_smtpd_listener())
            .collect()
    } else {
        assumptions.push(Assumption::new(
            "postfix.master.cf",
            "not pasted: Postfix's stock master.cf assumed (smtpd on port 25 only)",
        ));
        default_master = Service {
            name: "smtp".into(),
            kind: "inet".into(),
            command: "smtpd".into(),
            overrides: vec![],
            source: Source {
                file: "master.cf".into(),
                line: 0,
                text: "smtp      inet  n       -       y       -       -       smtpd".into(),
            },
        };
        vec![&default_master]
    };
    let views: Vec<View> = services
        .iter()
        .map(|s| View {
            cfg,
            service: Some(s),
            legacy_compat,
            version: &version,
        })
        .collect();
    let findings = vec![open_relay(&views), vrfy(&views), auth_plaintext(&views)];
    (findings, assumptions)
}

fn service_label(v: &View) -> String {
    v.service
        .map(|s| format!("service {} ({})", s.name, s.kind))
        .unwrap_or_else(|| "main.cf".into())
}

fn open_relay(views: &[View]) -> Finding {
    if views.is_empty() {
        return POSTFIX_OPEN_RELAY.finding(
            Status::Info,
            "The pasted master.cf runs no smtpd service, so this server receives no mail over SMTP.",
        );
    }
    let mut undecided = Vec::new();
    let mut all_ev = Vec::new();
    for v in views {
        let relay = v.get("smtpd_relay_restrictions");
        let rcpt = v.get("smtpd_recipient_restrictions");
        let (nets, nets_ev) = networks(v);
        let relay_items = list(&relay.text);
        let rcpt_items = list(&rcpt.text);
        let ev = vec![
            relay.evidence("smtpd_relay_restrictions", v.version),
            rcpt.evidence("smtpd_recipient_restrictions", v.version),
            nets_ev,
        ];
        if !lists_have_relay_control(&[&relay_items, &rcpt_items]) {
            return POSTFIX_OPEN_RELAY
                .finding(
                    Status::Fail,
                    format!(
                        "For {}, neither smtpd_relay_restrictions nor smtpd_recipient_restrictions \
                         contains reject_unauth_destination (or defer_unauth_destination, reject, \
                         defer). Postfix refuses to run smtpd like this (\"specify at least one \
                         working instance of reject_unauth_destination…\"), so this server accepts \
                         no mail; relaxing it by hand would make it an open relay.",
                        service_label(v)
                    ),
                )
                .with_evidences(ev)
                .with_remediation(REMEDIATION_RELAY);
        }
        let first = evaluate(&relay_items, &nets);
        let second = evaluate(&rcpt_items, &nets);
        let accepts = |o: &Outcome| matches!(o, Outcome::Permit(_) | Outcome::NoDecision);
        match (&first, &second) {
            (Outcome::Reject, _) | (_, Outcome::Reject) => {}
            (Outcome::Undecidable(why), _) | (_, Outcome::Undecidable(why)) => {
                undecided.push((format!("{}: {why}", service_label(v)), ev.clone()))
            }
            _ if accepts(&first) && accepts(&second) => {
                let how = match (&first, &second) {
                    (Outcome::Permit(h), _) | (_, Outcome::Permit(h)) => h.clone(),
                    _ => "no restriction rejects the recipient".into(),
                };
                return POSTFIX_OPEN_RELAY
                    .finding(
                        Status::Fail,
                        format!(
                            "For {}, an unauthenticated client anywhere on the internet can relay \
                             mail through this server to any domain: the restrictions reach {how} \
                             before reject_unauth_destination (or defer_unauth_destination). Spammers find open relays within \
                             hours, and the server's address ends up on every blocklist.",
                            service_label(v)
                        ),
                    )
                    .with_evidences(ev)
                    .with_remediation(REMEDIATION_RELAY);
            }
            _ => {}
        }
        all_ev.extend(ev);
    }
    if let Some((why, ev)) = undecided.into_iter().next() {
        return POSTFIX_OPEN_RELAY
            .finding(
                Status::Warn,
                format!(
                    "Whether unauthenticated clients can relay depends on data that was not \
                     pasted — {why}. Paste that table, or test from outside with \
                     `mailaudit audit <domain>`."
                ),
            )
            .with_evidences(ev)
            .with_remediation(REMEDIATION_RELAY);
    }
    all_ev.dedup();
    POSTFIX_OPEN_RELAY
        .finding(
            Status::Pass,
            "Every smtpd service rejects recipients in other domains for unauthenticated \
             clients outside mynetworks (reject_unauth_destination is reached first).",
        )
        .with_evidences(all_ev)
}

const REMEDIATION_RELAY: &str = "In main.cf:\n\
    mynetworks = 127.0.0.0/8 [::1]/128\n\
    smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination\n\
    then run `postfix reload`.";

fn vrfy(views: &[View]) -> Finding {
    for v in views {
        let val = v.get("disable_vrfy_command");
        if !val.is_yes() {
            return POSTFIX_VRFY_ENABLED
                .finding(
                    Status::Fail,
                    format!(
                        "For {}, Postfix answers VRFY, so anyone can test which addresses exist \
                         on this server — a gift to spammers and to password-guessing attacks.",
                        service_label(v)
                    ),
                )
                .with_evidence(val.evidence("disable_vrfy_command", v.version))
                .with_remediation("In main.cf:\ndisable_vrfy_command = yes");
        }
    }
    let ev = views.first().map(|v| {
        v.get("disable_vrfy_command")
            .evidence("disable_vrfy_command", v.version)
    });
    POSTFIX_VRFY_ENABLED
        .finding(
            Status::Pass,
            "VRFY is disabled (disable_vrfy_command = yes).",
        )
        .with_evidences(ev)
}

fn auth_plaintext(views: &[View]) -> Finding {
    let mut any_sasl = false;
    let mut ev_pass = Vec::new();
    for v in views {
        let sasl = v.get("smtpd_sasl_auth_enable");
        if !sasl.is_yes() {
            continue;
        }
        any_sasl = true;
        let auth_only = v.get("smtpd_tls_auth_only");
        let level = v.get("smtpd_tls_security_level");
        let wrapper = v.get("smtpd_tls_wrappermode");
        let enforce = v.get("smtpd_enforce_tls");
        let protected = auth_only.is_yes()
            || level.text.eq_ignore_ascii_case("encrypt")
            || wrapper.is_yes()
            || (level.origin.is_none() && enforce.is_yes());
        let mut ev = vec![sasl.evidence("smtpd_sasl_auth_enable", v.version)];
        if let Some(s) = v.service {
            if s.source.line > 0 {
                ev.push(s.source.evidence());
            }
        }
        ev.push(auth_only.evidence("smtpd_tls_auth_only", v.version));
        ev.push(level.evidence("smtpd_tls_security_level", v.version));
        if !protected {
            return POSTFIX_AUTH_PLAINTEXT
                .finding(
                    Status::Fail,
                    format!(
                        "For {}, SASL authentication is offered before the client has switched \
                         to TLS, so user names and passwords can be read off the network.",
                        service_label(v)
                    ),
                )
                .with_evidences(ev)
                .with_remediation(
                    "In main.cf:\nsmtpd_tls_auth_only = yes\n\
                     and for the submission service in master.cf:\n\
                     submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n  \
                     -o smtpd_sasl_auth_enable=yes",
                );
        }
        ev_pass.extend(ev);
    }
    if !any_sasl {
        return POSTFIX_AUTH_PLAINTEXT.finding(
            Status::Pass,
            "No smtpd service enables SASL authentication, so no password is ever asked for.",
        );
    }
    POSTFIX_AUTH_PLAINTEXT
        .finding(
            Status::Pass,
            "Every service that offers SASL authentication requires TLS first.",
        )
        .with_evidences(ev_pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;

    fn run(main: &str, master: Option<&str>) -> Vec<Finding> {
        let mut parts = vec![Input::new("main.cf", main)];
        if let Some(m) = master {
            parts.push(Input::new("master.cf", m));
        }
        check(&Config::parse(&parts), None).0
    }

    fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
        fs.iter().find(|f| f.id == id).unwrap()
    }

    const WEAK: &str = "\
# weak
compatibility_level = 3.6
mynetworks = 0.0.0.0/0
smtpd_relay_restrictions = permit_mynetworks,
    reject_unauth_destination
disable_vrfy_command = no
smtpd_sasl_auth_enable = yes
";

    const HARD: &str = "\
compatibility_level = 3.6
mynetworks = 127.0.0.0/8 [::1]/128 10.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
disable_vrfy_command = yes
smtpd_sasl_auth_enable = yes
smtpd_tls_auth_only = yes
";

    #[test]
    fn weak_config_fails_with_line_evidence() {
        let fs = run(WEAK, None);
        let relay = get(&fs, "postfix.open_relay");
        assert_eq!(relay.status, Status::Fail);
        assert_eq!(relay.severity, Severity::Critical);
        assert!(relay.evidence.contains(&Evidence::Config {
            file: "main.cf".into(),
            line: Some(3),
            text: "mynetworks = 0.0.0.0/0".into()
        }));
        assert!(relay
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::Config { line: Some(4), .. })));
        let vrfy = get(&fs, "postfix.vrfy_enabled");
        assert_eq!(vrfy.status, Status::Fail);
        assert!(matches!(
            vrfy.evidence[0],
            Evidence::Config { line: Some(6), .. }
        ));
        assert_eq!(get(&fs, "postfix.auth_plaintext").status, Status::Fail);
    }

    #[test]
    fn hardened_config_passes() {
        let fs = run(HARD, None);
        for f in &fs {
            assert_eq!(f.status, Status::Pass, "{}: {}", f.id, f.detail);
        }
    }

    #[test]
    fn defaults_are_safe_and_cited() {
        let fs = run("myhostname = mx.example.org\n", None);
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Pass);
        let vrfy = get(&fs, "postfix.vrfy_enabled");
        assert_eq!(vrfy.status, Status::Fail);
        match &vrfy.evidence[0] {
            Evidence::Config {
                line: None, text, ..
            } => assert!(text.contains("not set; default")),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn bare_permit_and_missing_control() {
        let fs = run(
            "smtpd_relay_restrictions = permit\nsmtpd_recipient_restrictions = reject_unauth_destination\n",
            None,
        );
        assert_eq!(
            get(&fs, "postfix.open_relay").status,
            Status::Pass,
            "recipient list still rejects"
        );
        let fs = run("smtpd_relay_restrictions = permit\n", None);
        let f = get(&fs, "postfix.open_relay");
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("refuses"), "{}", f.detail);
    }

    #[test]
    fn last_definition_wins_and_expansion() {
        let fs = run(
            "mynetworks = 127.0.0.0/8\nmy_nets = 0.0.0.0/0\nmynetworks = $my_nets\n",
            None,
        );
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Fail);
        let fs = run(
            "mynetworks = 0.0.0.0/0\nmynetworks = ${loopback}\nloopback = 127.0.0.1\n",
            None,
        );
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Pass);
    }

    #[test]
    fn access_tables_are_undecidable() {
        let fs = run(
            "smtpd_relay_restrictions = check_client_access hash:/etc/postfix/clients, reject_unauth_destination\n",
            None,
        );
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Warn);
    }

    #[test]
    fn master_cf_overrides_per_service() {
        let master = "\
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o { smtpd_relay_restrictions = permit_sasl_authenticated, reject }
";
        let fs = run("disable_vrfy_command = yes\n", Some(master));
        let auth = get(&fs, "postfix.auth_plaintext");
        assert_eq!(auth.status, Status::Fail);
        assert!(auth.evidence.iter().any(
            |e| matches!(e, Evidence::Config { file, line: Some(2), .. } if file == "master.cf")
        ));
        let fixed = master.replace(
            "-o smtpd_sasl_auth_enable=yes",
            "-o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_security_level=encrypt",
        );
        let fs = run("disable_vrfy_command = yes\n", Some(&fixed));
        assert_eq!(get(&fs, "postfix.auth_plaintext").status, Status::Pass);
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Pass);
    }

    #[test]
    fn private_networks_are_not_broad() {
        let fs = run(
            "mynetworks = 10.0.0.0/8, 192.168.0.0/16, [fd00::]/8, 198.51.100.0/24\n",
            None,
        );
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Pass);
        let fs = run("mynetworks = 198.51.0.0/16\n", None);
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Fail);
        let fs = run("mynetworks = [::]/0\n", None);
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Fail);
    }

    #[test]
    fn legacy_compat_uses_subnet_style() {
        let fs = run("compatibility_level = 0\n", None);
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Warn);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "=",
            " = ",
            "\t\n\n",
            "a = $",
            "a = ${",
            "a = ${b",
            "x inet n - y - - smtpd -o",
            "-o {",
            "a=$a\nb=$a",
        ] {
            let _ = run(s, None);
            let _ = run("", Some(s));
        }
    }
}
