//! Who may relay: `postfix.open_relay`, `postfix.mynetworks_broad`,
//! `postfix.smuggling_exclusions` (all judged from network lists).

use super::fix::{set, Edit, Remedy, WithRemedy};
use super::{list, Ctx, View};
use crate::addr::Net;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use std::net::IpAddr;

pub static POSTFIX_OPEN_RELAY: Rule = Rule {
    id: "postfix.open_relay",
    area: Area::Config,
    title: "Open relay (Postfix relay restrictions)",
    severity: Severity::Critical,
    description: "The relay restrictions (smtpd_relay_restrictions, else smtpd_recipient_restrictions), \
        evaluated first-match as Postfix does for each smtpd service (restriction classes included), \
        reach an accepting result before reject_unauth_destination/defer_unauth_destination — via \
        permit_mynetworks with a broad mynetworks, a bare permit, or no relay control at all (smtpd then \
        refuses to start). Warn when the decision depends on a table or policy service that was not pasted \
        (check_*_access), on permit_tls_all_clientcerts, or on anonymous SASL.",
    refs: &[
        "https://www.postfix.org/SMTPD_ACCESS_README.html",
        "https://www.postfix.org/postconf.5.html#smtpd_relay_restrictions",
        "NIST SP 800-177r1 §4",
    ],
};

pub static POSTFIX_MYNETWORKS_BROAD: Rule = Rule {
    id: "postfix.mynetworks_broad",
    area: Area::Config,
    title: "Trusted networks (mynetworks) too broad",
    severity: Severity::Critical,
    description: "mynetworks contains a public range larger than a /24 (IPv6: /48), such as 0.0.0.0/0 or \
        [::]/0, or is left to mynetworks_style = subnet/class on public interfaces. Clients in mynetworks \
        may relay and skip most checks. Unknown when it depends on a table, a file or the interface \
        addresses, which the configuration does not show.",
    refs: &[
        "https://www.postfix.org/postconf.5.html#mynetworks",
        "https://www.postfix.org/postconf.5.html#mynetworks_style",
        "NIST SP 800-177r1 §4",
    ],
};

pub static POSTFIX_SMUGGLING_EXCLUSIONS: Rule = Rule {
    id: "postfix.smuggling_exclusions",
    area: Area::Config,
    title: "Bare-newline exclusions wider than mynetworks",
    severity: Severity::Medium,
    description: "smtpd_forbid_bare_newline_exclusions lets clients outside $mynetworks send bare \
        newlines, so SMTP smuggling (CVE-2023-51764) stays possible from those networks.",
    refs: &[
        "https://www.postfix.org/postconf.5.html#smtpd_forbid_bare_newline_exclusions",
        "https://www.postfix.org/smtp-smuggling.html",
    ],
};

/// One item of a mynetworks-style list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Net(Net),
    /// `!pattern`: excluded (Postfix 2.4+ match lists).
    Negated,
    /// A table, file or host name whose content decides.
    Opaque(String),
    /// Not an address Postfix accepts (it stops with a fatal error).
    Invalid(String),
}

pub(crate) fn parse_item(item: &str) -> Item {
    if item.starts_with('!') {
        return Item::Negated;
    }
    if item.starts_with('/') || item.starts_with('{') {
        return Item::Opaque(item.to_string());
    }
    let (host, len) = if let Some(rest) = item.strip_prefix('[') {
        match rest.split_once(']') {
            Some((a, tail)) => match tail.strip_prefix('/') {
                Some(l) => (a, Some(l)),
                None if tail.is_empty() => (a, None),
                None => return Item::Invalid(item.to_string()),
            },
            None => return Item::Invalid(item.to_string()),
        }
    } else {
        match item.split_once('/') {
            Some((a, l)) if a.parse::<IpAddr>().is_ok() => (a, Some(l)),
            _ if item.parse::<IpAddr>().is_ok() => (item, None),
            // `type:table`, or a host/domain name pattern.
            _ => return Item::Opaque(item.to_string()),
        }
    };
    let Ok(addr) = host.parse::<IpAddr>() else {
        return Item::Invalid(item.to_string());
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(l) if l <= max => l,
            _ => return Item::Invalid(item.to_string()),
        },
    };
    Item::Net(Net { addr, len })
}

/// How far `mynetworks` opens the server, for one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Networks {
    /// Only private/loopback space or small public ranges.
    Narrow(Vec<Net>),
    /// A public range larger than /24 (IPv4) or /48 (IPv6).
    Broad(String),
    /// Depends on a table, a file or the interfaces.
    Undecidable(String),
}

pub(crate) fn networks(view: &View) -> (Networks, Vec<Evidence>) {
    let mn = view.get("mynetworks");
    if !mn.is_set() {
        let style = view.get("mynetworks_style");
        let ifaces = view.get("inet_interfaces");
        let mut ev = style.evidence();
        let verdict = match style.lower().as_str() {
            "host" => Networks::Narrow(vec![]),
            s => {
                ev.extend(ifaces.evidence());
                let items = list(&ifaces.text);
                let addrs: Vec<Option<IpAddr>> = items
                    .iter()
                    .map(|i| {
                        i.trim_start_matches('[')
                            .trim_end_matches(']')
                            .parse::<IpAddr>()
                            .ok()
                            .or_else(|| {
                                (i == "localhost" || i == "loopback-only")
                                    .then(|| "127.0.0.1".parse().expect("ip"))
                            })
                    })
                    .collect();
                if !items.is_empty() && addrs.iter().all(Option::is_some) {
                    let public = addrs.iter().flatten().find(|a| {
                        !Net {
                            addr: **a,
                            len: if a.is_ipv4() { 32 } else { 128 },
                        }
                        .is_private()
                    });
                    match public {
                        Some(a) => Networks::Broad(format!(
                            "the {s} of public interface address {a} (mynetworks_style = {s})"
                        )),
                        None => Networks::Narrow(vec![]),
                    }
                } else {
                    Networks::Undecidable(format!(
                        "mynetworks is not set and mynetworks_style = {s} trusts the {s} of every \
                         interface address, which the configuration does not show (inet_interfaces = {})",
                        ifaces.text
                    ))
                }
            }
        };
        return (verdict, ev);
    }
    let ev = mn.evidence();
    if let Some(err) = &mn.error {
        return (
            Networks::Undecidable(format!("mynetworks cannot be expanded: {err}")),
            ev,
        );
    }
    let mut nets = Vec::new();
    let mut opaque = None;
    for item in list(&mn.text) {
        match parse_item(&item) {
            Item::Net(n) if n.is_broad() => {
                return (Networks::Broad(item), ev);
            }
            Item::Net(n) => nets.push(n),
            Item::Negated => {}
            Item::Opaque(s) => {
                opaque.get_or_insert(s);
            }
            Item::Invalid(s) => {
                opaque.get_or_insert(format!("{s} (not a valid address: Postfix stops)"));
            }
        }
    }
    match opaque {
        Some(s) => (
            Networks::Undecidable(format!(
                "mynetworks includes {s}, whose content was not pasted"
            )),
            ev,
        ),
        None => (Networks::Narrow(nets), ev),
    }
}

pub(crate) fn mynetworks_broad(ctx: &Ctx) -> Finding {
    let mut views: Vec<&View> = ctx.views.iter().collect();
    if views.is_empty() {
        views.push(&ctx.main);
    }
    let mut unknown = None;
    let mut pass_ev = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new().context("list only your own hosts");
    for v in views {
        let (nets, ev) = networks(v);
        match nets {
            Networks::Broad(what) => {
                remedy.push(loopback_only(v));
                failed.get_or_insert((
                    format!(
                        "For {}, mynetworks trusts {what}. Every client in mynetworks may relay \
                         mail to any domain and skips most spam checks, so anyone in that range \
                         — far more than your own servers — can send spam through this server.",
                        v.label()
                    ),
                    ev,
                ));
            }
            Networks::Undecidable(why) => {
                unknown.get_or_insert((format!("For {}, {why}.", v.label()), ev));
            }
            Networks::Narrow(_) => pass_ev.extend(ev),
        }
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_MYNETWORKS_BROAD
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    if let Some((why, ev)) = unknown {
        return POSTFIX_MYNETWORKS_BROAD
            .finding(
                Status::Unknown,
                format!(
                    "{why} Paste the table or set mynetworks to explicit addresses \
                     (`postconf mynetworks` on the server shows the effective value)."
                ),
            )
            .with_evidences(ev)
            .with_remediation(REMEDIATION_MYNETWORKS);
    }
    pass_ev.dedup();
    POSTFIX_MYNETWORKS_BROAD
        .finding(
            Status::Pass,
            "mynetworks holds only loopback, private or small (/24 or smaller) ranges.",
        )
        .with_evidences(pass_ev)
}

const REMEDIATION_MYNETWORKS: &str = "In main.cf (list only your own hosts):\n\
    mynetworks = 127.0.0.0/8 [::1]/128";

/// Loopback only: the one value that needs no knowledge of the site.
pub(crate) const LOOPBACK: &str = "127.0.0.0/8 [::1]/128";

/// mynetworks set to loopback only for what `v` sees, with a comment that
/// the admin's own networks are theirs to add.
fn loopback_only(v: &View) -> Edit {
    match set(v, "mynetworks", LOOPBACK) {
        Edit::SetMain { name, value, .. } => Edit::SetMain {
            name,
            value,
            comment: Some(
                "mailaudit --fix: only this host is trusted now; add your own networks \
                 (other servers that relay through this one) to mynetworks"
                    .into(),
            ),
        },
        other => other,
    }
}

pub(crate) fn smuggling_exclusions(ctx: &Ctx) -> Finding {
    use super::defaults::BARE_NEWLINE;
    if !ctx.version.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1) {
        return POSTFIX_SMUGGLING_EXCLUSIONS.finding(
            Status::Pass,
            format!(
                "Postfix {} has no smtpd_forbid_bare_newline_exclusions (see postfix.smuggling).",
                ctx.version
            ),
        );
    }
    let mut ev_pass = Vec::new();
    let mut unknown = None;
    let mut failed = None;
    let mut remedy = Remedy::new();
    for v in &ctx.views {
        let ex = v.get("smtpd_forbid_bare_newline_exclusions");
        let mn = v.get("mynetworks");
        let mut ev = ex.evidence();
        if ex.text.trim() == mn.text.trim() && ex.error.is_none() {
            ev_pass.extend(ev);
            continue;
        }
        let (nets, nets_ev) = networks(v);
        ev.extend(nets_ev);
        let trusted: Vec<Net> = match &nets {
            Networks::Narrow(n) => n.clone(),
            _ => Vec::new(),
        };
        for item in list(&ex.text) {
            let wider = match parse_item(&item) {
                Item::Net(n) => {
                    !(trusted.iter().any(|t| n.within(t)) || (!mn.is_set() && n.is_private()))
                }
                Item::Negated => false,
                Item::Opaque(s) | Item::Invalid(s) => {
                    unknown.get_or_insert((
                        format!(
                            "For {}, smtpd_forbid_bare_newline_exclusions includes {s}, whose \
                             content was not pasted.",
                            v.label()
                        ),
                        ev.clone(),
                    ));
                    false
                }
            };
            if wider {
                remedy.push(set(
                    v,
                    "smtpd_forbid_bare_newline_exclusions",
                    "$mynetworks",
                ));
                failed.get_or_insert((
                    format!(
                        "For {}, smtpd_forbid_bare_newline_exclusions includes {item}, which is \
                         not inside mynetworks: clients there may still send bare newlines and \
                         smuggle forged messages past SPF/DMARC checks (CVE-2023-51764).",
                        v.label()
                    ),
                    ev.clone(),
                ));
                break;
            }
        }
        ev_pass.extend(ev);
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_SMUGGLING_EXCLUSIONS
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    if let Some((why, ev)) = unknown {
        return POSTFIX_SMUGGLING_EXCLUSIONS
            .finding(
                Status::Unknown,
                format!("{why} Paste it to decide this check."),
            )
            .with_evidences(ev)
            .with_remediation("In main.cf:\nsmtpd_forbid_bare_newline_exclusions = $mynetworks");
    }
    ev_pass.dedup();
    POSTFIX_SMUGGLING_EXCLUSIONS
        .finding(
            Status::Pass,
            "Only clients in mynetworks are excluded from bare-newline enforcement.",
        )
        .with_evidences(ev_pass)
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

/// DNS blocklist restrictions (each followed by the list's domain).
pub(crate) const DNSBL_RESTRICTIONS: &[&str] = &[
    "reject_rbl_client",
    "reject_rhsbl_client",
    "reject_rhsbl_sender",
    "reject_rhsbl_helo",
    "reject_rhsbl_recipient",
    "reject_rhsbl_reverse_client",
];

/// Restrictions followed by one argument.
fn takes_argument(item: &str) -> bool {
    DNSBL_RESTRICTIONS.contains(&item) || OTHER_TAKES_ARGUMENT.contains(&item)
}

const OTHER_TAKES_ARGUMENT: &[&str] = &[
    "permit_dnswl_client",
    "permit_rhswl_client",
    "check_policy_service",
    "sleep",
];

const REQUIRED: &[&str] = &[
    "reject_unauth_destination",
    "defer_unauth_destination",
    "reject",
    "defer",
    "defer_if_permit",
    "check_relay_domains",
];

/// A restriction list with `{ ... }` groups opened up (Postfix 3.0+
/// allows grouping, e.g. `{ check_client_access inline:{...} }`).
fn restriction_list(text: &str) -> Vec<String> {
    fn walk(text: &str, depth: usize, out: &mut Vec<String>) {
        for item in list(text) {
            match item.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                Some(inner) if depth < 8 => walk(inner, depth + 1, out),
                _ => out.push(item),
            }
        }
    }
    let mut out = Vec::new();
    walk(text, 0, &mut out);
    out
}

struct Eval<'a, 'b> {
    view: &'a View<'b>,
    nets: &'a Networks,
    classes: Vec<String>,
    anonymous_sasl: Option<String>,
}

impl Eval<'_, '_> {
    fn class(&self, name: &str) -> Option<Vec<String>> {
        self.classes
            .iter()
            .any(|c| c == name)
            .then(|| restriction_list(&self.view.get(name).text))
    }

    /// Postfix's `has_required`: a working instance of a required
    /// restriction, `warn_if_reject X` not counting, classes expanded.
    fn has_required(&self, items: &[String], depth: usize) -> bool {
        let mut i = 0;
        while i < items.len() {
            let it = items[i].as_str();
            if it == "warn_if_reject" && i + 1 < items.len() {
                i += 2;
                continue;
            }
            if REQUIRED.contains(&it) {
                return true;
            }
            if depth < 8 {
                if let Some(sub) = self.class(it) {
                    if self.has_required(&sub, depth + 1) {
                        return true;
                    }
                }
            }
            i += 1;
        }
        false
    }

    fn evaluate(&self, items: &[String], depth: usize) -> Outcome {
        let mut i = 0;
        while i < items.len() {
            let item = items[i].as_str();
            i += 1;
            match item {
                // The next restriction only logs.
                "warn_if_reject" => {
                    let next = items.get(i).map(String::as_str).unwrap_or("");
                    i += 1;
                    if takes_argument(next) || next.starts_with("check_") {
                        i += 1;
                    }
                }
                "reject_unauth_destination"
                | "defer_unauth_destination"
                | "reject"
                | "defer"
                | "defer_if_permit"
                | "check_relay_domains" => return Outcome::Reject,
                "permit" => return Outcome::Permit("a bare permit".into()),
                "permit_mynetworks" => match self.nets {
                    Networks::Broad(r) => {
                        return Outcome::Permit(format!(
                            "permit_mynetworks with mynetworks including {r}"
                        ))
                    }
                    Networks::Undecidable(why) => {
                        return Outcome::Undecidable(format!("permit_mynetworks: {why}"))
                    }
                    Networks::Narrow(_) => {}
                },
                "permit_sasl_authenticated" => {
                    if let Some(why) = &self.anonymous_sasl {
                        return Outcome::Undecidable(why.clone());
                    }
                }
                "permit_tls_all_clientcerts" => {
                    return Outcome::Undecidable(
                        "permit_tls_all_clientcerts lets any client with a certificate from a CA \
                         in smtpd_tls_CAfile/CApath relay, and which CAs those hold was not pasted"
                            .into(),
                    )
                }
                "check_policy_service" => {
                    let arg = items.get(i).cloned().unwrap_or_default();
                    return Outcome::Undecidable(format!(
                        "check_policy_service {arg} can answer OK for any client, and what it \
                         answers was not pasted"
                    ));
                }
                _ if item.starts_with("check_") && item.ends_with("_access") => {
                    let table = items.get(i).cloned().unwrap_or_default();
                    return Outcome::Undecidable(format!(
                        "{item} {table} can return OK for any client, and the table was not pasted"
                    ));
                }
                _ if takes_argument(item) => i += 1,
                _ => {
                    if let Some(sub) = self.class(item) {
                        if depth >= 8 {
                            return Outcome::Undecidable(format!(
                                "restriction class {item} nests too deeply"
                            ));
                        }
                        match self.evaluate(&sub, depth + 1) {
                            Outcome::NoDecision => {}
                            Outcome::Permit(how) => {
                                return Outcome::Permit(format!(
                                    "{how} (in restriction class {item})"
                                ))
                            }
                            other => return other,
                        }
                    }
                }
            }
        }
        Outcome::NoDecision
    }
}

/// Whether this view would let anonymous SASL clients count as
/// authenticated (SASL on, noanonymous missing).
pub(crate) fn anonymous_sasl(v: &View) -> Option<(String, Vec<Evidence>)> {
    if !v.get("smtpd_sasl_auth_enable").is_yes() {
        return None;
    }
    for name in [
        "smtpd_sasl_security_options",
        "smtpd_sasl_tls_security_options",
    ] {
        let o = v.get(name);
        if !list(&o.lower()).iter().any(|x| x == "noanonymous") {
            return Some((
                format!(
                    "{name} lacks noanonymous, so a client can log in with the ANONYMOUS \
                     mechanism (if the SASL back-end offers it) and then counts as \
                     permit_sasl_authenticated"
                ),
                o.evidence(),
            ));
        }
    }
    None
}

pub(crate) fn open_relay(ctx: &Ctx) -> Finding {
    if ctx.views.is_empty() {
        return POSTFIX_OPEN_RELAY.finding(
            Status::Info,
            "The pasted master.cf runs no smtpd service reachable from the network, so this \
             server receives no mail over SMTP from other hosts.",
        );
    }
    let mut undecided = Vec::new();
    let mut all_ev = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new();
    for v in &ctx.views {
        let relay = v.get("smtpd_relay_restrictions");
        let rcpt = v.get("smtpd_recipient_restrictions");
        let (nets, nets_ev) = networks(v);
        let anon = anonymous_sasl(v);
        let eval = Eval {
            view: v,
            nets: &nets,
            classes: list(&v.get("smtpd_restriction_classes").text),
            anonymous_sasl: anon.as_ref().map(|a| a.0.clone()),
        };
        let relay_items = restriction_list(&relay.text);
        let rcpt_items = restriction_list(&rcpt.text);
        let mut ev = Vec::new();
        ev.extend(v.service_evidence());
        ev.extend(relay.evidence());
        ev.extend(rcpt.evidence());
        ev.extend(nets_ev);
        if let Some((_, e)) = &anon {
            ev.extend(e.iter().cloned());
        }
        if !eval.has_required(&relay_items, 0) && !eval.has_required(&rcpt_items, 0) {
            remedy.push(set(v, "smtpd_relay_restrictions", RELAY_RESTRICTIONS));
            if matches!(nets, Networks::Broad(_)) {
                remedy.push(loopback_only(v));
            }
            failed.get_or_insert((
                    format!(
                        "For {}, neither smtpd_relay_restrictions nor smtpd_recipient_restrictions \
                         contains a working reject_unauth_destination (or defer_unauth_destination, \
                         reject, defer). Postfix refuses to run smtpd like this (\"specify at least \
                         one working instance of…\"), so this server accepts no mail; relaxing it by \
                         hand would make it an open relay.",
                        v.label()
                    ),
                ev,
            ));
            continue;
        }
        let first = eval.evaluate(&relay_items, 0);
        let second = eval.evaluate(&rcpt_items, 0);
        let accepts = |o: &Outcome| matches!(o, Outcome::Permit(_) | Outcome::NoDecision);
        match (&first, &second) {
            (Outcome::Reject, _) | (_, Outcome::Reject) => {}
            (Outcome::Undecidable(why), _) | (_, Outcome::Undecidable(why)) => {
                undecided.push((format!("{}: {why}", v.label()), ev.clone()))
            }
            _ if accepts(&first) && accepts(&second) => {
                let how = match (&first, &second) {
                    (Outcome::Permit(h), _) | (_, Outcome::Permit(h)) => h.clone(),
                    _ => "the end of both lists without a rejection".into(),
                };
                // Trusting loopback only may be enough; the relay
                // restrictions are replaced only when it is not.
                let narrow = Networks::Narrow(Vec::new());
                let trimmed = Eval {
                    nets: &narrow,
                    ..eval
                };
                let still_open = accepts(&trimmed.evaluate(&relay_items, 0))
                    && accepts(&trimmed.evaluate(&rcpt_items, 0));
                if matches!(nets, Networks::Broad(_)) {
                    remedy.push(loopback_only(v));
                }
                if still_open || !matches!(nets, Networks::Broad(_)) {
                    remedy.push(set(v, "smtpd_relay_restrictions", RELAY_RESTRICTIONS));
                }
                failed.get_or_insert((
                    format!(
                        "For {}, an unauthenticated client anywhere on the internet can relay \
                             mail through this server to any domain: the restrictions reach {how} \
                             before reject_unauth_destination (or defer_unauth_destination). \
                             Spammers find open relays within hours, and the server's address \
                             ends up on every blocklist.",
                        v.label()
                    ),
                    ev.clone(),
                ));
            }
            _ => {}
        }
        all_ev.extend(ev);
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_OPEN_RELAY
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy.note("then run `postfix reload`."));
    }
    if let Some((why, ev)) = undecided.into_iter().next() {
        return POSTFIX_OPEN_RELAY
            .finding(
                Status::Warn,
                format!(
                    "Whether unauthenticated clients can relay depends on something the pasted \
                     configuration does not settle — {why}. Paste that table (or fix the setting), \
                     or test from outside with `mailaudit audit <domain>`."
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

/// The relay restrictions of Postfix 2.10+ with compatibility level 2.
const RELAY_RESTRICTIONS: &str =
    "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination";

const REMEDIATION_RELAY: &str = "In main.cf:\n\
    mynetworks = 127.0.0.0/8 [::1]/128\n\
    smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination\n\
    then run `postfix reload`.";

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    const C: &str = "compatibility_level = 3.6\n";

    fn relay(main: &str) -> Status {
        status(&format!("{C}{main}"), None, "postfix.open_relay")
    }

    fn broad(main: &str) -> Status {
        status(&format!("{C}{main}"), None, "postfix.mynetworks_broad")
    }

    #[test]
    fn weak_fails_with_line_evidence() {
        let fs = run(
            "# weak\ncompatibility_level = 3.6\nmynetworks = 0.0.0.0/0\nsmtpd_relay_restrictions = permit_mynetworks,\n    reject_unauth_destination\n",
            None,
        );
        let f = get(&fs, "postfix.open_relay");
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.severity, Severity::Critical);
        assert!(f.evidence.contains(&Evidence::Config {
            file: "main.cf".into(),
            line: Some(3),
            text: "mynetworks = 0.0.0.0/0".into()
        }));
        assert!(f
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::Config { line: Some(4), .. })));
        assert!(!f.remediation.is_empty());
        assert_eq!(get(&fs, "postfix.mynetworks_broad").status, Status::Fail);
    }

    #[test]
    fn bare_permit_and_missing_control() {
        assert_eq!(
            relay("smtpd_relay_restrictions = permit\nsmtpd_recipient_restrictions = reject_unauth_destination\n"),
            Status::Pass,
            "recipient list still rejects"
        );
        let fs = run(&format!("{C}smtpd_relay_restrictions = permit\n"), None);
        let f = get(&fs, "postfix.open_relay");
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("refuses"), "{}", f.detail);
        // warn_if_reject does not count as a working instance.
        let f = relay("smtpd_relay_restrictions = permit_mynetworks, warn_if_reject reject_unauth_destination\n");
        assert_eq!(f, Status::Fail);
    }

    #[test]
    fn permit_hidden_in_a_long_list() {
        assert_eq!(
            relay("smtpd_relay_restrictions = reject_non_fqdn_sender, reject_unknown_sender_domain,\n  reject_rbl_client zen.spamhaus.org, permit_mynetworks, sleep 1,\n  permit, reject_unauth_destination\n"),
            Status::Fail
        );
        assert_eq!(
            relay(
                "smtpd_relay_restrictions = reject_rbl_client permit, reject_unauth_destination\n"
            ),
            Status::Pass,
            "an argument is not a restriction"
        );
    }

    #[test]
    fn restriction_classes() {
        let main = "smtpd_restriction_classes = open, safe\nopen = permit\nsafe = reject_unauth_destination\n";
        assert_eq!(
            relay(&format!(
                "{main}smtpd_relay_restrictions = permit_mynetworks, safe\n"
            )),
            Status::Pass
        );
        assert_eq!(
            relay(&format!(
                "{main}smtpd_relay_restrictions = open, reject_unauth_destination\n"
            )),
            Status::Fail
        );
        // A class name not declared in smtpd_restriction_classes is not one.
        assert_eq!(
            relay("open = permit\nsmtpd_relay_restrictions = open, reject_unauth_destination\n"),
            Status::Pass
        );
        let looped = "smtpd_restriction_classes = a\na = a\nsmtpd_relay_restrictions = a, reject_unauth_destination\n";
        assert_ne!(relay(looped), Status::Pass);
    }

    #[test]
    fn access_tables_policy_and_anonymous_sasl_warn() {
        assert_eq!(
            relay("smtpd_relay_restrictions = { check_client_access inline:{0.0.0.0/0=OK} }, reject_unauth_destination\n"),
            Status::Warn,
            "a braced group"
        );
        assert_eq!(
            relay("smtpd_relay_restrictions = check_client_access hash:/etc/postfix/clients, reject_unauth_destination\n"),
            Status::Warn
        );
        assert_eq!(
            relay("smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination\nsmtpd_sasl_auth_enable = yes\nsmtpd_sasl_security_options = noplaintext\n"),
            Status::Warn
        );
        assert_eq!(
            relay("smtpd_relay_restrictions = reject_unauth_destination, check_client_access hash:/x\n"),
            Status::Pass
        );
    }

    #[test]
    fn mynetworks_via_name_and_last_wins() {
        let fs = run(
            &format!("{C}mynetworks = 127.0.0.0/8\nmy_nets = 0.0.0.0/0\nmynetworks = $my_nets\n"),
            None,
        );
        let f = get(&fs, "postfix.mynetworks_broad");
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence
                .iter()
                .any(|e| matches!(e, Evidence::Config { line: Some(3), .. })),
            "{:?}",
            f.evidence
        );
        assert_eq!(get(&fs, "postfix.open_relay").status, Status::Fail);
        assert_eq!(
            relay("mynetworks = 0.0.0.0/0\nmynetworks = ${loopback}\nloopback = 127.0.0.1\n"),
            Status::Pass
        );
    }

    #[test]
    fn broad_networks() {
        assert_eq!(
            broad("mynetworks = 10.0.0.0/8, 192.168.0.0/16, [fd00::]/8, 198.51.100.0/24\n"),
            Status::Pass
        );
        assert_eq!(broad("mynetworks = 198.51.0.0/16\n"), Status::Fail);
        assert_eq!(broad("mynetworks = [::]/0\n"), Status::Fail);
        assert_eq!(broad("mynetworks = [2001:db8::]/32\n"), Status::Fail);
        assert_eq!(
            broad("mynetworks = 10.0.0.0/7\n"),
            Status::Fail,
            "10/7 covers public 11/8"
        );
        assert_eq!(
            broad("mynetworks = 127.0.0.0/8 hash:/etc/postfix/nets\n"),
            Status::Unknown
        );
        assert_eq!(broad(""), Status::Pass, "style host at level 3.6");
        assert_eq!(
            status("", None, "postfix.mynetworks_broad"),
            Status::Unknown,
            "level 0: subnet"
        );
        assert_eq!(
            broad("mynetworks_style = subnet\ninet_interfaces = 203.0.113.5\n"),
            Status::Fail
        );
        assert_eq!(
            broad("mynetworks_style = class\ninet_interfaces = 127.0.0.1, 10.1.2.3\n"),
            Status::Pass
        );
        assert_eq!(
            status(
                "",
                Some("smtp inet n - y - - smtpd -o mynetworks=0.0.0.0/0\n"),
                "postfix.mynetworks_broad"
            ),
            Status::Fail,
            "a master.cf override"
        );
    }

    #[test]
    fn master_override_weakens_main() {
        let master = "smtp inet n - y - - smtpd\n  -o smtpd_relay_restrictions=permit_mynetworks,permit\n  -o smtpd_recipient_restrictions=reject_unauth_destination\n127.0.0.1:10025 inet n - n - - smtpd -o smtpd_relay_restrictions=permit\n";
        let fs = run(&format!("{C}mynetworks = 127.0.0.0/8\n"), Some(master));
        assert_eq!(
            get(&fs, "postfix.open_relay").status,
            Status::Pass,
            "loopback service ignored"
        );
        let master = "smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n  -o { smtpd_relay_restrictions = permit_mynetworks, permit }\n  -o smtpd_recipient_restrictions=permit\n";
        let fs = run(&format!("{C}mynetworks = 127.0.0.0/8\n"), Some(master));
        let f = get(&fs, "postfix.open_relay");
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("submission"));
        assert!(f.evidence.iter().any(
            |e| matches!(e, Evidence::Config { file, line: Some(3), .. } if file == "master.cf")
        ));
    }

    #[test]
    fn legacy_compat_is_not_a_pass() {
        // Level 0: smtpd_relay_restrictions defaults to empty, and so does
        // smtpd_recipient_restrictions: smtpd refuses to start.
        let f = get(&run("myhostname = x\n", None), "postfix.open_relay").clone();
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("refuses"));
        assert!(f.evidence.iter().any(|e| matches!(e, Evidence::Config { text, .. } if text.contains("at the configured compatibility_level"))));
        // With a recipient list, mynetworks_style = subnet decides.
        assert_eq!(
            status("compatibility_level = 0\nsmtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n", None, "postfix.open_relay"),
            Status::Warn
        );
    }

    #[test]
    fn exclusions() {
        let ex = |m: &str| {
            status(
                &format!("{C}mynetworks = 127.0.0.0/8 192.168.1.0/24\n{m}"),
                None,
                "postfix.smuggling_exclusions",
            )
        };
        assert_eq!(ex(""), Status::Pass);
        assert_eq!(
            ex("smtpd_forbid_bare_newline_exclusions = 192.168.1.0/25\n"),
            Status::Pass
        );
        assert_eq!(
            ex("smtpd_forbid_bare_newline_exclusions = $mynetworks 0.0.0.0/0\n"),
            Status::Fail
        );
        assert_eq!(
            ex("smtpd_forbid_bare_newline_exclusions = 192.168.0.0/16\n"),
            Status::Fail
        );
        assert_eq!(
            ex("smtpd_forbid_bare_newline_exclusions = cidr:/etc/postfix/x\n"),
            Status::Unknown
        );
    }
}
