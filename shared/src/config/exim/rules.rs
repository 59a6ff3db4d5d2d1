//! The `exim.*` rules: each declared with its catalog text and decided from
//! the parsed configuration ([`super::Ctx`]).

use super::acl::{self, Outcome};
use super::lists::{self, Tri};
use super::parse::{Acl, AclItem, Cond, ListKind, Source, Statement, Verb};
use super::version::{smuggling2_fixed, smuggling_fixed, Fixed};
use super::{Ctx, VersionSource};
use crate::addr::Net;
use crate::report::Severity;
use crate::report::{Evidence, Finding, Status};
use crate::rules::{Area, Rule};

const SPEC_ACL: &str =
    "https://www.exim.org/exim-html-current/doc/html/spec_html/ch-access_control_lists.html";
const SPEC_MAIN: &str =
    "https://www.exim.org/exim-html-current/doc/html/spec_html/ch-main_configuration.html";
const SPEC_TLS: &str =
    "https://www.exim.org/exim-html-current/doc/html/spec_html/ch-encrypted_smtp_connections_using_tlsssl.html";
const SPEC_AUTH: &str =
    "https://www.exim.org/exim-html-current/doc/html/spec_html/ch-smtp_authentication.html";
const SPEC_LOG: &str =
    "https://www.exim.org/exim-html-current/doc/html/spec_html/ch-log_files.html";
const SPEC_DKIM: &str =
    "https://www.exim.org/exim-html-current/doc/html/spec_html/ch-dkim_spf_srs_and_dmarc.html";

pub static EXIM_OPEN_RELAY: Rule = Rule {
    id: "exim.open_relay",
    area: Area::Config,
    title: "Open relay (Exim RCPT ACL)",
    severity: Severity::Critical,
    description: "The RCPT ACL (acl_smtp_rcpt), evaluated statement by statement as Exim does, accepts \
        recipients outside +local_domains/+relay_to_domains for a client outside +relay_from_hosts that \
        has not authenticated; or relay_from_hosts (or relay_to_domains) is so broad that strangers \
        qualify. Conditions that cannot be evaluated make the result unknown, never a pass.",
    refs: &[SPEC_ACL, "RFC 5321 §7.9", "RFC 2505 §2.1"],
};

pub static EXIM_SMUGGLING: Rule = Rule {
    id: "exim.smuggling",
    area: Area::Config,
    title: "SMTP smuggling (Exim)",
    severity: Severity::Critical,
    description: "The stated Exim version (distribution backports taken into account where the version \
        string shows them, e.g. Debian 4.96-15+deb12u4) predates the fix for CVE-2023-51766 (4.97.1) and \
        neither workaround (chunking_advertise_hosts = or pipelining_advertise_hosts =) is set, so a \
        sender can smuggle a forged message past SPF/DMARC. Unknown when no version is given; warn when \
        the fix for the later variant CVE-2026-94057 (4.100.1) is missing.",
    refs: &[
        "https://exim.org/static/doc/security/CVE-2023-51766.txt",
        "https://sec-consult.com/blog/detail/smtp-smuggling-spoofing-e-mails-worldwide/",
        "CVE-2023-51766",
        "CVE-2026-94057",
    ],
};

pub static EXIM_AUTH_PLAINTEXT: Rule = Rule {
    id: "exim.auth_plaintext",
    area: Area::Config,
    title: "Password authentication only over TLS (Exim)",
    severity: Severity::High,
    description:
        "A server authenticator that takes passwords in clear (PLAIN, LOGIN) exists and neither \
        auth_advertise_hosts nor its server_advertise_condition requires TLS (e.g. \
        ${if eq{$tls_in_cipher}{}{}{*}}), so passwords can cross the network unencrypted.",
    refs: &[SPEC_AUTH, "RFC 4954 §4"],
};

pub static EXIM_TLS_OFF: Rule = Rule {
    id: "exim.tls_off",
    area: Area::Config,
    title: "STARTTLS with a real certificate (Exim)",
    severity: Severity::High,
    description: "tls_advertise_hosts is empty (no STARTTLS), or no tls_certificate is set, in which case \
        Exim (4.88+) offers TLS with a self-signed certificate it makes itself: mail is encrypted \
        opportunistically but no sender can verify the server (DANE and MTA-STS senders will not deliver).",
    refs: &[SPEC_TLS, "RFC 3207", "NIST SP 800-177r1 §5.2"],
};

pub static EXIM_TLS_PROTOCOLS: Rule = Rule {
    id: "exim.tls_protocols",
    area: Area::Config,
    title: "Old TLS versions allowed (Exim)",
    severity: Severity::High,
    description: "TLS below 1.2 is allowed, judged by the TLS library the configuration implies: a GnuTLS \
        priority string in tls_require_ciphers (Debian builds with GnuTLS) that keeps VERS-TLS1.0/1.1, or \
        openssl_options lacking +no_tlsv1 +no_tlsv1_1 on OpenSSL builds. Warn when only the library's \
        default decides.",
    refs: &[SPEC_TLS, "RFC 8996", "NIST SP 800-52r2 §3.1"],
};

pub static EXIM_VRFY_EXPN: Rule = Rule {
    id: "exim.vrfy_expn",
    area: Area::Config,
    title: "VRFY/EXPN allowed (Exim)",
    severity: Severity::Medium,
    description:
        "acl_smtp_vrfy or acl_smtp_expn accepts an internet client, so anyone can test which \
        addresses exist (when unset, Exim refuses both commands).",
    refs: &[SPEC_ACL, "RFC 5321 §7.3"],
};

pub static EXIM_RATE_LIMITS: Rule = Rule {
    id: "exim.rate_limits",
    area: Area::Config,
    title: "Client rate limits (Exim)",
    severity: Severity::Medium,
    description: "Neither a ratelimit condition in the connect, MAIL or RCPT ACLs nor \
        smtp_accept_max_per_host is configured, so one client can flood the server or guess passwords \
        at full speed.",
    refs: &[SPEC_ACL, SPEC_MAIN],
};

pub static EXIM_GREETING_DELAY: Rule = Rule {
    id: "exim.greeting_delay",
    area: Area::Config,
    title: "Greeting delay (Exim)",
    severity: Severity::Low,
    description:
        "The connect ACL (acl_smtp_connect) has no delay modifier, so spam bots that talk before \
        the greeting are not caught by Exim's synchronization check (smtp_enforce_sync).",
    refs: &[SPEC_ACL, SPEC_MAIN],
};

pub static EXIM_SIZE_LIMIT: Rule = Rule {
    id: "exim.size_limit",
    area: Area::Config,
    title: "Message size limit (Exim)",
    severity: Severity::Medium,
    description:
        "message_size_limit is 0 (unlimited) or above 100 MB, so a single message can fill the \
        spool's disk (Exim's default is 50M).",
    refs: &[SPEC_MAIN],
};

pub static EXIM_LOGGING: Rule = Rule {
    id: "exim.logging",
    area: Area::Config,
    title: "Logging of TLS peers and SMTP errors (Exim)",
    severity: Severity::Low,
    description: "log_selector lacks +tls_peerdn, +smtp_protocol_error or +smtp_syntax_error (none is in \
        Exim's default selection), or sets -all, so attacks and TLS peers leave no trace in the main log.",
    refs: &[SPEC_LOG, "NIST SP 800-92"],
};

pub static EXIM_BANNER_DISCLOSURE: Rule = Rule {
    id: "exim.banner_disclosure",
    area: Area::Config,
    title: "SMTP banner discloses the Exim version",
    severity: Severity::Low,
    description:
        "smtp_banner includes $version_number or $exim_version (Exim's default banner shows \
        $version_number), which tells attackers which exploits to try.",
    refs: &[SPEC_MAIN],
};

pub static EXIM_DKIM_SIGNING: Rule = Rule {
    id: "exim.dkim_signing",
    area: Area::Config,
    title: "DKIM signing of outgoing mail (Exim)",
    severity: Severity::Medium,
    description:
        "The smtp transport(s) that the routers use for remote delivery lack dkim_private_key, \
        so outgoing mail is not signed and DMARC relies on SPF alone.",
    refs: &[SPEC_DKIM, "RFC 6376", "NIST SP 800-177r1 §4.5"],
};

pub static EXIM_DNSBL_CODES: Rule = Rule {
    id: "exim.dnsbl_codes",
    area: Area::Config,
    title: "DNSBL without a result filter (Exim)",
    severity: Severity::Medium,
    description: "A dnslists condition queries Spamhaus without a result filter such as \
        =127.0.0.2,127.0.0.3,… or !&0.255.255.0: when Spamhaus refuses the query (public resolver, over \
        quota) it answers 127.255.255.x and every client is treated as listed.",
    refs: &[
        SPEC_ACL,
        "https://docs.spamhaus.com/datasets/docs/source/40-real-world-usage/PublicMirrors/MTAs/020-Postfix.html",
    ],
};

/// "On Debian, …" when the input is Debian's packaging.
fn debian_note(ctx: &Ctx, note: &str) -> String {
    if ctx.debian {
        format!("\n\n{note}")
    } else {
        String::new()
    }
}

// ---------------------------------------------------------------- ACL helpers

/// How an `acl_smtp_*` option resolves.
enum AclRef<'a> {
    /// Not set: Exim's default (accept or deny, by option).
    Unset,
    /// One or more named ACLs (several when an expansion picks one).
    Named(Vec<&'a Acl>, bool),
    /// An inline ACL (`acl_smtp_vrfy = accept`).
    Inline(Acl),
    /// Not resolvable from the paste (file, missing ACL, expansion).
    Opaque(String),
}

fn resolve<'a>(ctx: &'a Ctx, name: &'static str) -> (AclRef<'a>, super::Value) {
    let v = ctx.opt(name);
    if !v.is_set() {
        return (AclRef::Unset, v);
    }
    let text = v.text.trim().to_string();
    if text.is_empty() {
        return (AclRef::Unset, v);
    }
    if text.starts_with('/') {
        return (
            AclRef::Opaque(format!(
                "{name} reads its ACL from the file {text}, which was not pasted"
            )),
            v,
        );
    }
    if text.contains('$') {
        let names: Vec<&Acl> = ctx
            .cfg
            .acls
            .iter()
            .filter(|a| text.contains(a.name.as_str()))
            .collect();
        if names.is_empty() {
            return (
                AclRef::Opaque(format!(
                    "{name} is an expansion that names no ACL of the paste"
                )),
                v,
            );
        }
        // Ports are the attacker's choice; anything else the selector reads is not.
        let ports_only = text.split('$').skip(1).all(|r| {
            let var = r
                .trim_start_matches('{')
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            matches!(
                var,
                "interface_port" | "received_port" | "if" | "tls_in_cipher" | ""
            )
        });
        return (AclRef::Named(names, ports_only), v);
    }
    if !text.contains(' ') {
        if let Some(a) = ctx.cfg.acl(&text) {
            return (AclRef::Named(vec![a], true), v);
        }
    }
    // Inline ACL text: `accept`, `deny message = no`.
    let src = v
        .source
        .clone()
        .unwrap_or_else(|| Source::new(&ctx.file, 0, &text));
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (text.as_str(), ""),
    };
    match Verb::parse(word) {
        Some(verb) => {
            let mut st = Statement {
                verb,
                source: src.clone(),
                conds: Vec::new(),
            };
            if !rest.is_empty() {
                match super::parse::parse_cond(rest, &src) {
                    Ok(c) => st.conds.push(c),
                    Err(_) => {
                        return (
                            AclRef::Opaque(format!("{name} = {text} is not an ACL Exim can read")),
                            v,
                        )
                    }
                }
            }
            (
                AclRef::Inline(Acl {
                    name: name.to_string(),
                    source: src,
                    items: vec![AclItem::Statement(st)],
                }),
                v,
            )
        }
        None => (
            AclRef::Opaque(format!(
                "{name} names the ACL \"{text}\", which is not in the paste"
            )),
            v,
        ),
    }
}

/// The ACL outcome for the attacker, over every ACL the option may pick.
fn outcome(ctx: &Ctx, r: &AclRef) -> Option<Outcome> {
    let env = ctx.env();
    match r {
        AclRef::Unset | AclRef::Opaque(_) => None,
        AclRef::Inline(a) => Some(acl::eval(&env, a, 0)),
        AclRef::Named(list, ports_only) => {
            let mut all: Option<Outcome> = None;
            for a in list {
                let o = acl::eval(&env, a, 0);
                all = Some(match all {
                    None => o,
                    Some(mut prev) => {
                        prev.accept = prev.accept.or(o.accept);
                        prev.reject = prev.reject.or(o.reject);
                        if prev.accepted_by.is_none() {
                            prev.accepted_by = o.accepted_by;
                            prev.accepted_lines = o.accepted_lines;
                        }
                        prev.uncertain.extend(o.uncertain);
                        if prev.stopped_by.is_none() {
                            prev.stopped_by = o.stopped_by;
                            prev.stopped_lines = o.stopped_lines;
                        } else {
                            prev.stopped_lines.extend(o.stopped_lines);
                        }
                        prev
                    }
                });
            }
            let mut o = all?;
            if !ports_only && list.len() > 1 && o.accept == Tri::Yes {
                o.accept = Tri::Unknown;
            }
            Some(o)
        }
    }
}

fn lines(srcs: &[Source]) -> String {
    let mut v: Vec<String> = srcs
        .iter()
        .take(4)
        .map(|s| format!("line {} ({})", s.line, s.text))
        .collect();
    v.dedup();
    v.join(", ")
}

// ------------------------------------------------------------------ open relay

const REMEDIATION_RELAY: &str =
    "Only your own domains, relay domains, networks and authenticated users may \
    relay. In the main section:\n\n\
    domainlist local_domains    = @ : example.org\n\
    domainlist relay_to_domains =\n\
    hostlist   relay_from_hosts = <; 127.0.0.1 ; ::1\n\
    acl_smtp_rcpt = acl_check_rcpt\n\n\
    begin acl\n\n\
    acl_check_rcpt:\n  \
    accept  hosts         = :\n  \
    accept  hosts         = +relay_from_hosts\n  \
    accept  authenticated = *\n  \
    require message       = relay not permitted\n          \
    domains       = +local_domains : +relay_to_domains\n  \
    require verify        = recipient\n  \
    accept";

pub(crate) fn open_relay(ctx: &Ctx) -> Finding {
    let rule = &EXIM_OPEN_RELAY;
    let debian = debian_note(
        ctx,
        "On Debian, relay networks and domains come from dc_relay_nets and dc_relay_domains in \
         /etc/exim4/update-exim4.conf.conf (dpkg-reconfigure exim4-config), then run update-exim4.conf.",
    );
    let remedy = format!("{REMEDIATION_RELAY}{debian}");
    let mut fails: Vec<(String, Vec<Evidence>)> = Vec::new();
    let mut unknowns: Vec<(String, Vec<Evidence>)> = Vec::new();

    // relay_from_hosts and relay_to_domains must not be broad.
    if let Some(l) = ctx.cfg.list(ListKind::Host, "relay_from_hosts") {
        for item in lists::items(&l.value) {
            if item.starts_with('!') {
                continue;
            }
            let broad =
                item == "*" || Net::parse(&item).is_some_and(|n| n.len == 0 || n.is_broad());
            if broad {
                fails.push((
                    format!(
                        "relay_from_hosts includes {item}: every host in it may send mail to any \
                         domain through this server, far more than your own machines"
                    ),
                    vec![l.source.evidence()],
                ));
                break;
            }
            if lists::looks_like_macro(&item) {
                unknowns.push((
                    format!(
                        "relay_from_hosts is the macro {item}, whose value is not in the paste{}",
                        if ctx.debian {
                            " (Debian's update-exim4.conf sets it from dc_relay_nets)"
                        } else {
                            ""
                        }
                    ),
                    vec![l.source.evidence()],
                ));
            } else if lists::is_opaque(&item) {
                unknowns.push((
                    format!("relay_from_hosts includes {item}, whose content was not pasted"),
                    vec![l.source.evidence()],
                ));
            }
        }
    }
    if let Some(l) = ctx.cfg.list(ListKind::Domain, "relay_to_domains") {
        for item in lists::items(&l.value) {
            if item == "*" {
                fails.push((
                    "relay_to_domains is *: the server relays to every domain".into(),
                    vec![l.source.evidence()],
                ));
            } else if lists::looks_like_macro(&item) {
                unknowns.push((
                    format!(
                        "relay_to_domains is the macro {item}, whose value is not in the paste"
                    ),
                    vec![l.source.evidence()],
                ));
            }
        }
    }

    let (r, v) = resolve(ctx, "acl_smtp_rcpt");
    let mut pass_detail = String::new();
    let mut pass_ev = vec![v.evidence(&ctx.file)];
    match (&r, outcome(ctx, &r)) {
        (AclRef::Unset, _) => {
            pass_detail =
                "acl_smtp_rcpt is not set, so Exim refuses every recipient (and receives \
                no mail over SMTP at all)."
                    .into();
        }
        (AclRef::Opaque(why), _) => unknowns.push((
            format!("{why}; the relay decision cannot be followed"),
            vec![v.evidence(&ctx.file)],
        )),
        (_, Some(o)) => match o.accept {
            Tri::Yes => {
                let mut ev = vec![v.evidence(&ctx.file)];
                ev.extend(o.accepted_lines.iter().map(Source::evidence));
                let at = o
                    .accepted_by
                    .as_ref()
                    .map(|s| format!(" at line {} ({})", s.line, s.text))
                    .unwrap_or_default();
                fails.push((
                    format!(
                        "The RCPT ACL accepts a recipient in a domain this server does not handle from a \
                         client that is neither in relay_from_hosts nor authenticated{at}: anyone can \
                         send spam through this server (open relay)"
                    ),
                    ev,
                ));
            }
            Tri::Unknown => {
                let mut ev = vec![v.evidence(&ctx.file)];
                ev.extend(o.uncertain.iter().take(4).map(Source::evidence));
                unknowns.push((
                    format!(
                        "The RCPT ACL might accept relaying for an unauthenticated outside client: the \
                         outcome depends on statements that cannot be evaluated from the paste ({})",
                        lines(&o.uncertain)
                    ),
                    ev,
                ));
            }
            Tri::No => {
                if let Some(s) = &o.stopped_by {
                    pass_ev.extend(o.stopped_lines.iter().map(Source::evidence));
                    pass_detail = format!(
                        "The RCPT ACL refuses recipients outside +local_domains/+relay_to_domains for \
                         clients outside +relay_from_hosts that have not authenticated (line {}: {}).",
                        s.line, s.text
                    );
                } else {
                    pass_detail = "The RCPT ACL never accepts a foreign recipient from an \
                        unauthenticated outside client."
                        .into();
                }
            }
        },
        (_, None) => {}
    }
    if !fails.is_empty() {
        let detail = fails
            .iter()
            .map(|(d, _)| d.as_str())
            .collect::<Vec<_>>()
            .join(". ");
        let ev: Vec<Evidence> = fails.into_iter().flat_map(|(_, e)| e).collect();
        return rule
            .finding(Status::Fail, format!("{detail}."))
            .with_evidences(ev)
            .with_remediation(remedy);
    }
    if !unknowns.is_empty() {
        let detail = unknowns
            .iter()
            .map(|(d, _)| d.as_str())
            .collect::<Vec<_>>()
            .join(". ");
        let ev: Vec<Evidence> = unknowns.into_iter().flat_map(|(_, e)| e).collect();
        let mut d = format!("{detail}.");
        if !pass_detail.is_empty() {
            d.push(' ');
            d.push_str(&pass_detail);
        }
        return rule
            .finding(
                Status::Unknown,
                format!(
                    "{d} Paste the missing parts, or test with `exim -bh 192.0.2.1` on the server."
                ),
            )
            .with_evidences(ev)
            .with_remediation(remedy);
    }
    rule.finding(Status::Pass, pass_detail)
        .with_evidences(pass_ev)
}

// ------------------------------------------------------------------- smuggling

pub(crate) fn smuggling(ctx: &Ctx) -> Finding {
    let rule = &EXIM_SMUGGLING;
    let chunk = ctx.opt("chunking_advertise_hosts");
    let pipe = ctx.opt("pipelining_advertise_hosts");
    let workaround: Vec<&super::Value> = [&chunk, &pipe]
        .into_iter()
        .filter(|v| v.is_set() && v.text.trim().is_empty())
        .collect();
    let version_ev = match &ctx.version_source {
        VersionSource::Default => {
            let f = rule.finding(
                Status::Unknown,
                "The input does not state the Exim release, so whether it has the SMTP smuggling fix \
                 (CVE-2023-51766, Exim 4.97.1; Debian 12 4.96-15+deb12u4) cannot be judged. Paste the \
                 first line of `exim -bV`, or on Debian/Ubuntu `dpkg -s exim4-base | grep Version`, or \
                 give the release with --assume-version.",
            );
            let f = f.with_evidences(workaround.iter().map(|v| v.evidence(&ctx.file)));
            return f.with_remediation(
                "Run `exim -bV | head -1` (Debian/Ubuntu: `dpkg -s exim4-base | grep Version`) and \
                 include the output.",
            );
        }
        VersionSource::Assumed => Evidence::Note {
            text: format!("Exim {} (given with --assume-version)", ctx.version),
        },
        VersionSource::Stated(e) => e.clone(),
    };
    let v = &ctx.version;
    // A -bV banner has no distribution revision: on a Debian build the fix
    // may be backported all the same.
    let banner_only =
        matches!(&version_ev, Evidence::Config { text, .. } if text.starts_with("Exim version"));
    let fixed = match smuggling_fixed(v) {
        Fixed::No(why) if banner_only && ctx.debian => Fixed::CannotTell(format!(
            "{why} by its -bV banner, which does not show the Debian revision that may carry the \
             backported fix (Debian 12: 4.96-15+deb12u4)"
        )),
        f => f,
    };
    let upgrade = "Upgrade Exim: 4.97.1 or later upstream (current: 4.100.1); Debian 12 \
        4.96-15+deb12u4 or later (4.96-15+deb12u11 also fixes CVE-2026-94057); Ubuntu 22.04 \
        4.95-4ubuntu2.5, 20.04 4.93-13ubuntu1.10 or later. Until then, in the main section:\n\n\
        chunking_advertise_hosts =\npipelining_advertise_hosts =";
    match fixed {
        Fixed::No(why) if workaround.is_empty() => rule
            .finding(
                Status::Fail,
                format!(
                    "{why}, which has the SMTP smuggling flaw (CVE-2023-51766): a sender can end DATA \
                     with <LF>.<CR><LF> and smuggle a second, forged message past SPF and DMARC. \
                     Neither workaround (empty chunking_advertise_hosts or pipelining_advertise_hosts) \
                     is set."
                ),
            )
            .with_evidence(version_ev)
            .with_evidence(chunk.evidence(&ctx.file))
            .with_evidence(pipe.evidence(&ctx.file))
            .with_remediation(upgrade),
        Fixed::No(why) => rule
            .finding(
                Status::Pass,
                format!(
                    "{why} (CVE-2023-51766), but the workaround is in place ({} empty); upgrade \
                     anyway to drop it.",
                    workaround.iter().map(|v| v.name).collect::<Vec<_>>().join(" and ")
                ),
            )
            .with_evidence(version_ev)
            .with_evidences(workaround.iter().map(|v| v.evidence(&ctx.file))),
        Fixed::CannotTell(why) => rule
            .finding(
                Status::Warn,
                format!(
                    "{why}. If it does not, the server has the SMTP smuggling flaw (CVE-2023-51766){}. \
                     Check the package changelog (`apt changelog exim4-base | grep -i 51766`).",
                    if workaround.is_empty() {
                        " and no workaround is set"
                    } else {
                        ", mitigated by the workaround that is set"
                    }
                ),
            )
            .with_evidence(version_ev)
            .with_remediation(upgrade),
        Fixed::Yes(why) => match smuggling2_fixed(v) {
            Fixed::Yes(_) => rule
                .finding(
                    Status::Pass,
                    format!(
                        "{why} for SMTP smuggling (CVE-2023-51766) and the later variant \
                         CVE-2026-94057."
                    ),
                )
                .with_evidence(version_ev),
            Fixed::No(why2) | Fixed::CannotTell(why2) => rule
                .finding(
                    Status::Warn,
                    format!(
                        "{why} for CVE-2023-51766, but {why2}: the later smuggling variant \
                         CVE-2026-94057 (crafted data after a rejection during DATA) is fixed only in \
                         Exim 4.100.1 and Debian 12's 4.96-15+deb12u11."
                    ),
                )
                .with_evidence(version_ev)
                .with_remediation(
                    "Upgrade to Exim 4.100.1 or later (Debian 12: 4.96-15+deb12u11 or later).",
                ),
        },
    }
}

// --------------------------------------------------------------- auth over TLS

/// An advertise condition that offers AUTH only on encrypted connections.
fn requires_tls(expr: &str) -> bool {
    let e: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
    (e.contains("tls_in_cipher") || e.contains("tls_cipher") || e.contains("tls_in_ver"))
        && (e.contains("{}{}{*}")
            || e.contains("{*}{}")
            || e.starts_with("${if!eq")
            || e.contains("def:tls"))
}

/// Mechanisms that carry the password itself.
fn plaintext_mechanism(d: &super::parse::Driver) -> bool {
    let driver = d.driver().unwrap_or("");
    let name = d
        .get("server_mech")
        .or_else(|| d.get("public_name"))
        .map(|o| o.text().trim().trim_matches('"').to_ascii_uppercase())
        .unwrap_or_else(|| d.name.to_ascii_uppercase());
    match driver {
        "plaintext" => true,
        "dovecot" | "cyrus_sasl" | "gsasl" => name == "PLAIN" || name == "LOGIN",
        _ => false,
    }
}

pub(crate) fn auth_plaintext(ctx: &Ctx) -> Finding {
    let rule = &EXIM_AUTH_PLAINTEXT;
    let servers: Vec<&super::parse::Driver> = ctx
        .cfg
        .authenticators
        .iter()
        .filter(|d| d.is_server_auth())
        .collect();
    if servers.is_empty() {
        return rule.finding(
            Status::Pass,
            if ctx.cfg.authenticators.is_empty() {
                "No authenticators are configured: the server offers no AUTH."
            } else {
                "Only client-side authenticators are configured (used when this server logs in to a \
                 smarthost): it offers no AUTH itself."
            },
        );
    }
    let adv = ctx.opt("auth_advertise_hosts");
    if adv.is_set() && adv.text.trim().is_empty() {
        return rule
            .finding(
                Status::Pass,
                "auth_advertise_hosts is empty: AUTH is never offered.",
            )
            .with_evidence(adv.evidence(&ctx.file));
    }
    let global_tls = requires_tls(&adv.text);
    let tls = ctx.tls_advertised();
    let mut failed = Vec::new();
    let mut ok_ev = vec![adv.evidence(&ctx.file)];
    for d in &servers {
        if !plaintext_mechanism(d) {
            continue;
        }
        let cond = d.get("server_advertise_condition");
        let local_tls = cond.is_some_and(|c| requires_tls(c.text()));
        if global_tls || local_tls {
            if let Some(c) = cond {
                ok_ev.push(c.source.evidence());
            }
            continue;
        }
        failed.push(d);
    }
    if failed.is_empty() {
        return rule
            .finding(
                Status::Pass,
                "Every password authenticator is offered only on TLS connections.",
            )
            .with_evidences(ok_ev);
    }
    let names: Vec<String> = failed
        .iter()
        .map(|d| {
            format!(
                "{} ({})",
                d.name,
                d.get("public_name").map(|o| o.text()).unwrap_or("?")
            )
        })
        .collect();
    let mut ev = vec![adv.evidence(&ctx.file)];
    ev.extend(failed.iter().map(|d| d.source.evidence()));
    let no_tls = if tls == Tri::No {
        " STARTTLS is not even offered, so every login is in clear text."
    } else {
        ""
    };
    rule.finding(
        Status::Fail,
        format!(
            "The authenticator(s) {} take passwords in clear and are offered on unencrypted \
             connections too (auth_advertise_hosts does not require TLS, nor does their \
             server_advertise_condition): a login can be read off the network.{no_tls}",
            names.join(", ")
        ),
    )
    .with_evidences(ev)
    .with_remediation(format!(
        "Offer password mechanisms only after STARTTLS, in each server authenticator:\n\n\
         {}:\n  server_advertise_condition = ${{if eq{{$tls_in_cipher}}{{}}{{}}{{*}}}}\n\n\
         or for all authenticators, in the main section:\n\n\
         auth_advertise_hosts = ${{if eq{{$tls_in_cipher}}{{}}{{}}{{*}}}}{}",
        failed.first().map(|d| d.name.as_str()).unwrap_or("plain_server"),
        debian_note(
            ctx,
            "On Debian, do not define AUTH_SERVER_ALLOW_NOTLS_PASSWORDS: the stock examples add this \
             condition unless it is set."
        )
    ))
}

// ------------------------------------------------------------------------- TLS

pub(crate) fn tls_off(ctx: &Ctx) -> Finding {
    let rule = &EXIM_TLS_OFF;
    let adv = ctx.opt("tls_advertise_hosts");
    let cert = ctx.opt("tls_certificate");
    let remedy = format!(
        "In the main section (a certificate for the name the MX record points to):\n\n\
         tls_advertise_hosts = *\n\
         tls_certificate = /etc/ssl/mail.example.org/fullchain.pem\n\
         tls_privatekey = /etc/ssl/mail.example.org/privkey.pem{}",
        debian_note(
            ctx,
            "On Debian, install the certificate as /etc/exim4/exim.crt and the key as \
             /etc/exim4/exim.key (group Debian-exim, mode 640), put MAIN_TLS_ENABLE = yes in \
             /etc/exim4/exim4.conf.localmacros (or conf.d/main/000_localmacros) and run update-exim4.conf."
        )
    );
    match ctx.tls_advertised() {
        Tri::No => return rule
            .finding(
                Status::Fail,
                "STARTTLS is not offered (tls_advertise_hosts is empty, or unset before Exim 4.87): mail to this server and \
                     any logins cross the network in clear text.",
            )
            .with_evidence(adv.evidence(&ctx.file))
            .with_remediation(remedy),
        Tri::Unknown => {
            return rule
                .finding(
                    Status::Unknown,
                    "tls_advertise_hosts depends on an expansion or a list whose content was not \
                     pasted, so whether STARTTLS is offered cannot be told.",
                )
                .with_evidence(adv.evidence(&ctx.file))
                .with_remediation(remedy)
        }
        Tri::Yes => {}
    }
    if cert.text.trim().is_empty() {
        let self_signed = ctx.version.at_least(&[4, 88]);
        return rule
            .finding(
                Status::Fail,
                if self_signed {
                    "No tls_certificate is set, so Exim offers STARTTLS with a self-signed certificate \
                     it generates itself: connections are encrypted, but no sender can verify the \
                     server, and senders that require verification (DANE, MTA-STS) will not deliver."
                } else {
                    "No tls_certificate is set, so STARTTLS cannot work."
                },
            )
            .with_evidence(adv.evidence(&ctx.file))
            .with_evidence(cert.evidence(&ctx.file))
            .with_remediation(remedy);
    }
    rule.finding(
        Status::Pass,
        format!(
            "STARTTLS is offered with the certificate {}.",
            cert.text.trim()
        ),
    )
    .with_evidence(adv.evidence(&ctx.file))
    .with_evidence(cert.evidence(&ctx.file))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lib {
    GnuTls,
    OpenSsl,
}

/// The versions a GnuTLS priority string enables: (TLS 1.0, TLS 1.1)
/// still on; None when the base keyword is unknown.
fn gnutls_old_versions(prio: &str) -> Option<(bool, bool)> {
    let mut v10 = false;
    let mut v11 = false;
    let mut known = false;
    for tok in prio.split(':').map(str::trim) {
        let (sign, name) = match tok.chars().next() {
            Some('+') => ('+', &tok[1..]),
            Some('-') | Some('!') => ('-', &tok[1..]),
            _ => (' ', tok),
        };
        let upper = name.to_ascii_uppercase();
        match (sign, upper.as_str()) {
            (
                ' ',
                "NORMAL" | "PERFORMANCE" | "SECURE" | "SECURE128" | "SECURE192" | "SECURE256"
                | "PFS" | "LEGACY",
            ) => {
                v10 = true;
                v11 = true;
                known = true;
            }
            (' ', "SUITEB128" | "SUITEB192") => {
                v10 = false;
                v11 = false;
                known = true;
            }
            (' ', "NONE") => {
                v10 = false;
                v11 = false;
                known = true;
            }
            (s, "VERS-ALL" | "VERS-TLS-ALL") => {
                v10 = s == '+';
                v11 = s == '+';
            }
            (s, "VERS-TLS1.0") => v10 = s == '+',
            (s, "VERS-TLS1.1") => v11 = s == '+',
            // `@SYSTEM` defers to a system policy we cannot see.
            (' ', u) if u.starts_with('@') => return None,
            _ => {}
        }
    }
    known.then_some((v10, v11))
}

pub(crate) fn tls_protocols(ctx: &Ctx) -> Finding {
    let rule = &EXIM_TLS_PROTOCOLS;
    if ctx.tls_advertised() == Tri::No {
        return rule.finding(
            Status::Info,
            "STARTTLS is not offered (see exim.tls_off), so no TLS version is negotiated with clients.",
        );
    }
    let ciphers = ctx.opt("tls_require_ciphers");
    let ossl = ctx.opt("openssl_options");
    let gnutls_syntax = ciphers.is_set()
        && gnutls_old_versions(&ciphers.text).is_some()
        && !ciphers.text.contains('!');
    let (lib, how): (Option<Lib>, String) = if let Some((l, src)) = &ctx.cfg.tls_library {
        (
            Some(if l == "GnuTLS" {
                Lib::GnuTls
            } else {
                Lib::OpenSsl
            }),
            format!("exim -bV reports {l} (line {})", src.line),
        )
    } else if ossl.is_set() {
        (
            Some(Lib::OpenSsl),
            "openssl_options is set (OpenSSL builds only)".into(),
        )
    } else if gnutls_syntax {
        (
            Some(Lib::GnuTls),
            "tls_require_ciphers is a GnuTLS priority string".into(),
        )
    } else if ctx.debian {
        (
            Some(Lib::GnuTls),
            "Debian and Ubuntu build Exim with GnuTLS".into(),
        )
    } else {
        (None, String::new())
    };
    let gnutls_fix = "tls_require_ciphers = NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-SSL3.0";
    let openssl_fix = "openssl_options = +no_sslv2 +no_sslv3 +no_tlsv1 +no_tlsv1_1 +single_dh_use +no_ticket +no_renegotiation";
    match lib {
        Some(Lib::GnuTls) => {
            let mut ev = vec![ciphers.evidence(&ctx.file)];
            if ossl.is_set() {
                ev.push(ossl.evidence(&ctx.file));
            }
            let fatal = if ossl.is_set() {
                " Note: openssl_options is a fatal configuration error in a GnuTLS build of Exim."
            } else {
                ""
            };
            if !ciphers.is_set() || ciphers.text.trim().is_empty() {
                return rule
                    .finding(
                        Status::Warn,
                        format!(
                            "The TLS library is GnuTLS ({how}) and tls_require_ciphers is not set, so \
                             GnuTLS's default priority decides; its NORMAL priority still enables TLS 1.0 \
                             and 1.1 in the GnuTLS releases current distributions ship, unless a system \
                             policy removes them.{fatal}"
                        ),
                    )
                    .with_evidences(ev)
                    .with_remediation(format!("In the main section:\n\n{gnutls_fix}"));
            }
            if ciphers.text.contains('$') {
                return rule
                    .finding(
                        Status::Unknown,
                        "tls_require_ciphers is an expansion, so the GnuTLS priority cannot be judged.",
                    )
                    .with_evidences(ev)
                    .with_remediation(format!("In the main section:\n\n{gnutls_fix}"));
            }
            match gnutls_old_versions(&ciphers.text) {
                Some((false, false)) => rule
                    .finding(
                        Status::Pass,
                        format!("The GnuTLS priority string excludes TLS 1.0 and 1.1 ({how}).{fatal}"),
                    )
                    .with_evidences(ev),
                Some((a, b)) => {
                    let which = match (a, b) {
                        (true, true) => "TLS 1.0 and 1.1",
                        (true, false) => "TLS 1.0",
                        _ => "TLS 1.1",
                    };
                    rule.finding(
                        Status::Fail,
                        format!(
                            "The GnuTLS priority string in tls_require_ciphers keeps {which} enabled \
                             ({how}); those versions are deprecated (RFC 8996).{fatal}"
                        ),
                    )
                    .with_evidences(ev)
                    .with_remediation(format!("In the main section:\n\n{gnutls_fix}"))
                }
                None => rule
                    .finding(
                        Status::Unknown,
                        format!(
                            "tls_require_ciphers is not a GnuTLS priority string mailaudit can read \
                             ({how}).{fatal}"
                        ),
                    )
                    .with_evidences(ev)
                    .with_remediation(format!("In the main section:\n\n{gnutls_fix}")),
            }
        }
        Some(Lib::OpenSsl) => {
            let t = ossl.text.to_ascii_lowercase();
            let has = |x: &str| t.split_whitespace().any(|w| w == x);
            let ok = has("+no_tlsv1") && has("+no_tlsv1_1");
            if ok {
                rule.finding(
                    Status::Pass,
                    format!("openssl_options disables TLS 1.0 and 1.1 ({how})."),
                )
                .with_evidence(ossl.evidence(&ctx.file))
            } else {
                rule.finding(
                    Status::Fail,
                    format!(
                        "The TLS library is OpenSSL ({how}) and openssl_options lacks +no_tlsv1 \
                         +no_tlsv1_1, so TLS 1.0 and 1.1 stay allowed unless the system's OpenSSL \
                         policy removes them (tls_require_ciphers cannot restrict versions under \
                         OpenSSL)."
                    ),
                )
                .with_evidence(ossl.evidence(&ctx.file))
                .with_remediation(format!("In the main section:\n\n{openssl_fix}"))
            }
        }
        None => rule
            .finding(
                Status::Unknown,
                "Nothing in the paste shows which TLS library this Exim uses (GnuTLS or OpenSSL), and \
                 neither tls_require_ciphers nor openssl_options restricts the versions, so whether TLS \
                 1.0/1.1 are allowed depends on the library's defaults. `exim -bV` shows the library.",
            )
            .with_evidence(ciphers.evidence(&ctx.file))
            .with_evidence(ossl.evidence(&ctx.file))
            .with_remediation(format!(
                "In the main section, for a GnuTLS build:\n\n{gnutls_fix}\n\nfor an OpenSSL build:\n\n{openssl_fix}"
            )),
    }
}

// ------------------------------------------------------------------- VRFY/EXPN

pub(crate) fn vrfy_expn(ctx: &Ctx) -> Finding {
    let rule = &EXIM_VRFY_EXPN;
    let mut fail = Vec::new();
    let mut unknown = Vec::new();
    let mut ev_all = Vec::new();
    for (opt, cmd) in [("acl_smtp_vrfy", "VRFY"), ("acl_smtp_expn", "EXPN")] {
        let (r, v) = resolve(ctx, opt);
        ev_all.push(v.evidence(&ctx.file));
        match (&r, outcome(ctx, &r)) {
            (AclRef::Unset, _) => {}
            (AclRef::Opaque(why), _) => {
                unknown.push((format!("{why} ({cmd})"), v.evidence(&ctx.file)))
            }
            (_, Some(o)) => match o.accept {
                Tri::Yes => fail.push((cmd, v.evidence(&ctx.file), o.accepted_lines)),
                Tri::Unknown => unknown.push((
                    format!("{opt} may accept {cmd} ({})", lines(&o.uncertain)),
                    v.evidence(&ctx.file),
                )),
                Tri::No => {}
            },
            (_, None) => {}
        }
    }
    let remedy =
        "Remove acl_smtp_vrfy and acl_smtp_expn (unset, Exim refuses both commands), or in \
        the main section:\n\nacl_smtp_vrfy = deny\nacl_smtp_expn = deny";
    if !fail.is_empty() {
        let cmds: Vec<&str> = fail.iter().map(|(c, _, _)| *c).collect();
        let mut ev = Vec::new();
        for (_, e, by) in fail {
            ev.push(e);
            ev.extend(by.iter().map(Source::evidence));
        }
        return rule
            .finding(
                Status::Fail,
                format!(
                    "Exim answers {} for clients on the internet, so anyone can test which addresses \
                     exist here — a gift to spammers and password guessers.",
                    cmds.join(" and ")
                ),
            )
            .with_evidences(ev)
            .with_remediation(remedy);
    }
    if !unknown.is_empty() {
        let d: Vec<String> = unknown.iter().map(|(d, _)| d.clone()).collect();
        return rule
            .finding(Status::Unknown, format!("{}.", d.join("; ")))
            .with_evidences(unknown.into_iter().map(|(_, e)| e))
            .with_remediation(remedy);
    }
    rule.finding(
        Status::Pass,
        "VRFY and EXPN are refused for internet clients (no ACL accepts them; an unset ACL means deny).",
    )
    .with_evidences(ev_all)
}

// ---------------------------------------------------------- ACL content checks

/// The ACLs an option may run, and those they call with `acl =` (a few levels).
fn acls_of<'a>(ctx: &'a Ctx, opt: &'static str) -> (Vec<&'a Acl>, Option<String>, super::Value) {
    let (r, v) = resolve(ctx, opt);
    let mut out: Vec<&Acl> = Vec::new();
    let mut opaque = None;
    match r {
        AclRef::Named(list, _) => out.extend(list),
        AclRef::Opaque(why) => opaque = Some(why),
        AclRef::Inline(_) | AclRef::Unset => {}
    }
    let mut i = 0;
    while i < out.len() && out.len() < 32 {
        let called: Vec<&Acl> = out[i]
            .statements()
            .flat_map(|s| s.conds.iter())
            .filter(|c| c.name == "acl")
            .filter_map(|c| ctx.cfg.acl(c.value.split_whitespace().next().unwrap_or("")))
            .collect();
        for a in called {
            if !out.iter().any(|x| std::ptr::eq(*x, a)) {
                out.push(a);
            }
        }
        i += 1;
    }
    (out, opaque, v)
}

fn find_cond<'a>(acls: &[&'a Acl], name: &str) -> Option<&'a Cond> {
    acls.iter()
        .flat_map(|a| a.statements())
        .flat_map(|s| s.conds.iter())
        .find(|c| c.name == name)
}

pub(crate) fn rate_limits(ctx: &Ctx) -> Finding {
    let rule = &EXIM_RATE_LIMITS;
    let max = ctx.opt("smtp_accept_max_per_host");
    let mut opaque = Vec::new();
    let mut ev = vec![max.evidence(&ctx.file)];
    for opt in ["acl_smtp_connect", "acl_smtp_mail", "acl_smtp_rcpt"] {
        let (acls, why, v) = acls_of(ctx, opt);
        if let Some(c) = find_cond(&acls, "ratelimit") {
            return rule
                .finding(
                    Status::Pass,
                    format!(
                        "A ratelimit condition limits clients ({opt}, line {}).",
                        c.source.line
                    ),
                )
                .with_evidence(c.source.evidence());
        }
        if let Some(w) = why {
            opaque.push(w);
        }
        if v.is_set() {
            ev.push(v.evidence(&ctx.file));
        }
    }
    let m = max.text.trim();
    if max.is_set() && !m.is_empty() && m != "0" {
        return rule
            .finding(
                Status::Pass,
                format!(
                    "smtp_accept_max_per_host = {m} limits parallel connections per client host."
                ),
            )
            .with_evidence(max.evidence(&ctx.file));
    }
    let remedy = "In the main section:\n\nsmtp_accept_max_per_host = 10\n\nand in the RCPT ACL, before \
        the statements that accept outside clients:\n\n  deny    ratelimit = 100 / 1h / strict / per_rcpt\n          \
        !hosts    = +relay_from_hosts\n          message   = Sending rate too high";
    if !opaque.is_empty() {
        return rule
            .finding(
                Status::Unknown,
                format!(
                    "No ratelimit condition or smtp_accept_max_per_host in the paste, but {}.",
                    opaque.join("; ")
                ),
            )
            .with_evidences(ev)
            .with_remediation(remedy);
    }
    rule.finding(
        Status::Fail,
        "No ratelimit condition in the connect, MAIL or RCPT ACLs and no smtp_accept_max_per_host: one \
         client can open as many connections and send as fast as it likes (spam runs, password \
         guessing).",
    )
    .with_evidences(ev)
    .with_remediation(remedy)
}

/// Exim time: `5s`, `1m30s`, `2`; zero or unreadable is None.
fn nonzero_time(v: &str) -> Option<bool> {
    let t = v.trim();
    if t.contains('$') {
        return None;
    }
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    Some(digits.chars().any(|c| c != '0'))
}

pub(crate) fn greeting_delay(ctx: &Ctx) -> Finding {
    let rule = &EXIM_GREETING_DELAY;
    let (acls, why, v) = acls_of(ctx, "acl_smtp_connect");
    let remedy = "In the main section:\n\nacl_smtp_connect = acl_check_connect\n\nand in the ACL section:\n\n\
        acl_check_connect:\n  accept  hosts = +relay_from_hosts\n  accept  delay = 5s";
    for a in &acls {
        for s in a.statements() {
            for c in &s.conds {
                if c.name == "delay" && nonzero_time(&c.value) != Some(false) {
                    return rule
                        .finding(
                            Status::Pass,
                            format!(
                                "The connect ACL waits ({} delay = {}) before the greeting, so clients \
                                 that talk first are caught.",
                                s.verb.name(),
                                c.value
                            ),
                        )
                        .with_evidence(c.source.evidence());
                }
            }
        }
    }
    if let Some(w) = why {
        return rule
            .finding(
                Status::Unknown,
                format!("{w}; a greeting delay cannot be seen."),
            )
            .with_evidence(v.evidence(&ctx.file))
            .with_remediation(remedy);
    }
    rule.finding(
        Status::Fail,
        if v.is_set() {
            "The connect ACL has no delay modifier: the greeting is sent at once, and spam bots that \
             send their commands without waiting for it go unnoticed."
        } else {
            "acl_smtp_connect is not set, so there is no greeting delay: spam bots that send their \
             commands without waiting for the greeting go unnoticed."
        },
    )
    .with_evidence(v.evidence(&ctx.file))
    .with_remediation(remedy)
}

// ----------------------------------------------------------- main-option checks

/// Exim integer with K/M/G suffix.
fn exim_size(v: &str) -> Option<u64> {
    let t = v.trim();
    let (num, mul) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1024u64),
        'm' | 'M' => (&t[..t.len() - 1], 1024 * 1024),
        'g' | 'G' => (&t[..t.len() - 1], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mul)
}

pub(crate) fn size_limit(ctx: &Ctx) -> Finding {
    let rule = &EXIM_SIZE_LIMIT;
    let v = ctx.opt("message_size_limit");
    let remedy = format!(
        "In the main section:\n\nmessage_size_limit = 50M{}",
        debian_note(
            ctx,
            "On Debian, set MESSAGE_SIZE_LIMIT = 50M in /etc/exim4/exim4.conf.localmacros."
        )
    );
    match exim_size(&v.text) {
        None => rule
            .finding(
                Status::Unknown,
                format!("message_size_limit = {} cannot be read as a size (an expansion?).", v.text),
            )
            .with_evidence(v.evidence(&ctx.file))
            .with_remediation(remedy),
        Some(0) => rule
            .finding(
                Status::Fail,
                "message_size_limit is 0, which means no limit: one message can fill the spool's disk.",
            )
            .with_evidence(v.evidence(&ctx.file))
            .with_remediation(remedy),
        Some(n) if n > 100 * 1024 * 1024 => rule
            .finding(
                Status::Fail,
                format!(
                    "message_size_limit is {} ({} MB), above 100 MB: a few messages can fill the spool's \
                     disk.",
                    v.text.trim(),
                    n / (1024 * 1024)
                ),
            )
            .with_evidence(v.evidence(&ctx.file))
            .with_remediation(remedy),
        Some(_) => rule
            .finding(
                Status::Pass,
                format!("Messages are limited to {}.", v.text.trim()),
            )
            .with_evidence(v.evidence(&ctx.file)),
    }
}

pub(crate) fn logging(ctx: &Ctx) -> Finding {
    let rule = &EXIM_LOGGING;
    let v = ctx.opt("log_selector");
    const WANT: [&str; 3] = ["tls_peerdn", "smtp_protocol_error", "smtp_syntax_error"];
    let mut on = [false; 3];
    let mut minus_all = false;
    for tok in v.text.split_whitespace() {
        let (plus, name) = match tok.chars().next() {
            Some('+') => (true, &tok[1..]),
            Some('-') => (false, &tok[1..]),
            _ => continue,
        };
        if name == "all" {
            on = [plus; 3];
            if !plus {
                minus_all = true;
            }
            continue;
        }
        if let Some(i) = WANT.iter().position(|w| *w == name) {
            on[i] = plus;
        }
    }
    let remedy = format!(
        "In the main section:\n\nlog_selector = +smtp_protocol_error +smtp_syntax_error +tls_peerdn{}",
        debian_note(
            ctx,
            "On Debian, keep MAIN_LOG_SELECTOR's stock value (it has all three) or add them to it."
        )
    );
    let missing: Vec<&str> = WANT
        .iter()
        .zip(on)
        .filter(|(_, o)| !o)
        .map(|(w, _)| *w)
        .collect();
    if minus_all || !missing.is_empty() {
        let mut d = String::new();
        if minus_all {
            d.push_str("log_selector sets -all, switching off most of Exim's logging. ");
        }
        if !missing.is_empty() {
            d.push_str(&format!(
                "The main log lacks {}: TLS peers and SMTP protocol or syntax errors (scanners, \
                 smuggling and brute-force attempts) are not recorded.",
                missing
                    .iter()
                    .map(|m| format!("+{m}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return rule
            .finding(Status::Fail, d.trim().to_string())
            .with_evidence(v.evidence(&ctx.file))
            .with_remediation(remedy);
    }
    rule.finding(
        Status::Pass,
        "log_selector records TLS peers and SMTP protocol and syntax errors. Forwarding of the logs to a \
         remote syslog or SIEM is configured outside Exim and cannot be seen here.",
    )
    .with_evidence(v.evidence(&ctx.file))
}

pub(crate) fn banner_disclosure(ctx: &Ctx) -> Finding {
    let rule = &EXIM_BANNER_DISCLOSURE;
    let v = ctx.opt("smtp_banner");
    if v.text.contains("version_number") || v.text.contains("exim_version") {
        return rule
            .finding(
                Status::Fail,
                if v.is_set() {
                    "smtp_banner shows the Exim version to every client, which tells attackers which \
                     exploits to try."
                } else {
                    "smtp_banner is not set, and Exim's default banner shows the Exim version to every \
                     client, which tells attackers which exploits to try."
                },
            )
            .with_evidence(v.evidence(&ctx.file))
            .with_remediation("In the main section:\n\nsmtp_banner = $smtp_active_hostname ESMTP $tod_full");
    }
    rule.finding(Status::Pass, "smtp_banner does not show the Exim version.")
        .with_evidence(v.evidence(&ctx.file))
}

pub(crate) fn dkim_signing(ctx: &Ctx) -> Finding {
    let rule = &EXIM_DKIM_SIGNING;
    let remedy = format!(
        "In each smtp transport used for remote delivery:\n\n\
         remote_smtp:\n  driver = smtp\n  dkim_domain = ${{lc:${{domain:$h_from:}}}}\n  \
         dkim_selector = mail\n  dkim_private_key = /etc/exim/dkim/${{dkim_domain}}.key\n  \
         dkim_canon = relaxed{}",
        debian_note(
            ctx,
            "On Debian, define DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY in \
             /etc/exim4/exim4.conf.localmacros; the stock remote_smtp transports use them."
        )
    );
    // Transports the remote routers use.
    let mut used: Vec<&super::parse::Driver> = Vec::new();
    let mut remote_routers = Vec::new();
    let mut conditional = Vec::new();
    for r in &ctx.cfg.routers {
        if !matches!(r.driver(), Some("dnslookup" | "manualroute"))
            || r.get("verify_only")
                .is_some_and(|o| o.as_bool() == Some(true))
        {
            continue;
        }
        // Routers for domains listed in a lookup or file we cannot see
        // (Debian's hubbed_hosts) do not carry mail for arbitrary domains.
        let dom = r
            .get("domains")
            .map(|d| lists::eval(ctx.cfg, d.text(), lists::Subject::RecipientDomain, 0).t)
            .unwrap_or(Tri::Yes);
        if dom != Tri::Yes {
            conditional.push(r);
            continue;
        }
        remote_routers.push(r);
        if let Some(t) = r.get("transport") {
            for tr in &ctx.cfg.transports {
                if t.text().contains(tr.name.as_str())
                    && tr.driver() == Some("smtp")
                    && !used.iter().any(|u| u.name == tr.name)
                {
                    used.push(tr);
                }
            }
        }
    }
    if ctx.cfg.routers.is_empty() && ctx.cfg.transports.is_empty() {
        return rule
            .finding(
                Status::Unknown,
                "No routers or transports were pasted, so the transport that delivers to other servers \
                 cannot be checked for DKIM signing.",
            )
            .with_remediation(remedy);
    }
    if remote_routers.is_empty() && !ctx.cfg.routers.is_empty() {
        let note = if conditional.is_empty() {
            String::new()
        } else {
            format!(
                " ({} only route{} domains listed in a lookup or file that was not pasted.)",
                conditional
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if conditional.len() == 1 { "s" } else { "" }
            )
        };
        return rule
            .finding(
                Status::Pass,
                format!(
                    "No router delivers mail for arbitrary domains to remote hosts (no dnslookup or \
                     manualroute router for them), so this server sends no mail to other domains and \
                     has nothing to sign.{note}"
                ),
            )
            .with_evidences(conditional.iter().map(|r| r.source.evidence()));
    }
    if used.is_empty() {
        used = ctx
            .cfg
            .transports
            .iter()
            .filter(|t| t.driver() == Some("smtp"))
            .collect();
    }
    if used.is_empty() {
        return rule
            .finding(
                Status::Unknown,
                "The routers send mail to remote hosts, but their smtp transport is not in the paste.",
            )
            .with_evidences(remote_routers.iter().map(|r| r.source.evidence()))
            .with_remediation(remedy);
    }
    let unsigned: Vec<&&super::parse::Driver> = used
        .iter()
        .filter(|t| {
            t.get("dkim_private_key").is_none_or(|o| {
                matches!(
                    o.text().trim().to_ascii_lowercase().as_str(),
                    "" | "0" | "false"
                )
            })
        })
        .collect();
    if unsigned.is_empty() {
        return rule
            .finding(
                Status::Pass,
                format!(
                    "The remote transport(s) {} sign with DKIM.",
                    used.iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_evidences(
                used.iter()
                    .filter_map(|t| t.get("dkim_private_key"))
                    .map(|o| o.source.evidence()),
            );
    }
    rule.finding(
        Status::Fail,
        format!(
            "The transport(s) {} deliver to other servers without dkim_private_key: outgoing mail is not \
             DKIM-signed, so receivers cannot verify it and DMARC relies on SPF alone.",
            unsigned.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    )
    .with_evidences(unsigned.iter().map(|t| t.source.evidence()))
    .with_remediation(remedy)
}

pub(crate) fn dnsbl_codes(ctx: &Ctx) -> Finding {
    let rule = &EXIM_DNSBL_CODES;
    let mut bad: Vec<(&Cond, String)> = Vec::new();
    let mut seen = Vec::new();
    for a in &ctx.cfg.acls {
        for s in a.statements() {
            for c in s.conds.iter().filter(|c| c.name == "dnslists") {
                seen.push(c);
                for item in lists::items(&c.value) {
                    let item = item.trim_start_matches('!').trim();
                    let domain_part = item.split('/').next().unwrap_or(item);
                    if domain_part.to_ascii_lowercase().contains("spamhaus")
                        && !domain_part.contains('=')
                        && !domain_part.contains('&')
                    {
                        bad.push((c, domain_part.to_string()));
                    }
                }
            }
        }
    }
    if !bad.is_empty() {
        let names: Vec<String> = bad.iter().map(|(_, d)| d.clone()).collect();
        return rule
            .finding(
                Status::Fail,
                format!(
                    "dnslists queries {} without a result filter: when Spamhaus refuses a query (public \
                     or shared resolver, over the free quota) it answers 127.255.255.x, and Exim treats \
                     every client as listed.",
                    names.join(", ")
                ),
            )
            .with_evidences(bad.iter().map(|(c, _)| c.source.evidence()))
            .with_remediation(
                "Accept only real listing codes, e.g. in the ACL:\n\n  deny    dnslists = \
                 zen.spamhaus.org=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.9,127.0.0.10,127.0.0.11\n          \
                 message  = $sender_host_address is listed at $dnslist_domain\n\nand query through your \
                 own resolver (or Spamhaus DQS), not a public one.",
            );
    }
    if seen.is_empty() {
        return rule.finding(
            Status::Pass,
            "No dnslists condition queries Spamhaus (no DNS blocklist is used).",
        );
    }
    rule.finding(
        Status::Pass,
        "Every dnslists condition that queries Spamhaus filters the answer codes, or none queries it.",
    )
    .with_evidences(seen.iter().map(|c| c.source.evidence()))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{get, run, run_v};
    use crate::report::Status;

    const GOOD: &str = "\
primary_hostname = mx.example.org
domainlist local_domains = @ : example.org
domainlist relay_to_domains =
hostlist relay_from_hosts = <; 127.0.0.1 ; ::1
acl_smtp_connect = acl_check_connect
acl_smtp_rcpt = acl_check_rcpt
tls_advertise_hosts = *
tls_certificate = /etc/ssl/mx.pem
tls_privatekey = /etc/ssl/mx.key
tls_require_ciphers = NORMAL:-VERS-TLS1.0:-VERS-TLS1.1
smtp_banner = $smtp_active_hostname ESMTP
log_selector = +smtp_protocol_error +smtp_syntax_error +tls_peerdn
message_size_limit = 25M
smtp_accept_max_per_host = 10
begin acl
acl_check_connect:
  accept delay = 5s
acl_check_rcpt:
  accept hosts = :
  accept hosts = +relay_from_hosts
  accept authenticated = *
  deny ratelimit = 100 / 1h / strict
  deny dnslists = zen.spamhaus.org=127.0.0.2,127.0.0.3
  require domains = +local_domains : +relay_to_domains
  require verify = recipient
  accept
begin routers
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = remote_smtp
begin transports
remote_smtp:
  driver = smtp
  dkim_domain = example.org
  dkim_selector = s1
  dkim_private_key = /etc/exim/dkim.key
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_condition = ${if eq{$auth3}{x}}
  server_advertise_condition = ${if eq{$tls_in_cipher}{}{}{*}}
";

    fn st(text: &str, id: &str) -> Status {
        get(&run_v(text, Some("4.98.2")), id).status
    }

    #[test]
    fn good_config_passes_everything() {
        let fs = run_v(GOOD, Some("4.100.1"));
        for f in &fs {
            assert_eq!(f.status, Status::Pass, "{}: {}", f.id, f.detail);
        }
        assert_eq!(fs.len(), super::super::RULES.len());
    }

    #[test]
    fn open_relay() {
        let open = GOOD.replace(
            "  require domains = +local_domains : +relay_to_domains\n",
            "",
        );
        assert_eq!(st(&open, "exim.open_relay"), Status::Fail);
        let broad = GOOD.replace("<; 127.0.0.1 ; ::1", "0.0.0.0/0");
        assert_eq!(st(&broad, "exim.open_relay"), Status::Fail);
        let unk = GOOD.replace(
            "  accept authenticated = *\n",
            "  accept condition = ${lookup{$sender_host_address}lsearch{/x}}\n",
        );
        assert_eq!(st(&unk, "exim.open_relay"), Status::Unknown);
        let unset = GOOD.replace("acl_smtp_rcpt = acl_check_rcpt\n", "");
        assert_eq!(st(&unset, "exim.open_relay"), Status::Pass);
        let f = get(&run_v(&open, Some("4.98.2")), "exim.open_relay").clone();
        assert!(
            f.remediation.contains("require message"),
            "{}",
            f.remediation
        );
    }

    #[test]
    fn smuggling() {
        assert_eq!(get(&run(GOOD), "exim.smuggling").status, Status::Unknown);
        assert_eq!(
            get(
                &run(&format!("Exim version 4.96 #2 built x\n{GOOD}")),
                "exim.smuggling"
            )
            .status,
            Status::Fail
        );
        assert_eq!(
            get(&run_v(GOOD, Some("4.96")), "exim.smuggling").status,
            Status::Fail
        );
        assert_eq!(
            get(&run_v(GOOD, Some("4.96-15+deb12u4")), "exim.smuggling").status,
            Status::Warn
        );
        assert_eq!(
            get(&run_v(GOOD, Some("4.96-15+deb12u11")), "exim.smuggling").status,
            Status::Pass
        );
        assert_eq!(
            get(&run_v(GOOD, Some("4.94.2-7+deb11u2")), "exim.smuggling").status,
            Status::Warn
        );
        let wa = format!("chunking_advertise_hosts =\n{GOOD}");
        assert_eq!(
            get(&run_v(&wa, Some("4.96")), "exim.smuggling").status,
            Status::Pass
        );
        let f = get(
            &run(&format!("Version: 4.96-15+deb12u2\n{GOOD}")),
            "exim.smuggling",
        )
        .clone();
        assert_eq!(f.status, Status::Fail, "{}", f.detail);
    }

    #[test]
    fn auth_plaintext() {
        let bad = GOOD.replace(
            "  server_advertise_condition = ${if eq{$tls_in_cipher}{}{}{*}}\n",
            "",
        );
        assert_eq!(st(&bad, "exim.auth_plaintext"), Status::Fail);
        let global =
            format!("auth_advertise_hosts = ${{if eq{{$tls_in_cipher}}{{}}{{}}{{*}}}}\n{bad}");
        assert_eq!(st(&global, "exim.auth_plaintext"), Status::Pass);
    }

    #[test]
    fn tls() {
        let nocert = GOOD.replace("tls_certificate = /etc/ssl/mx.pem\n", "");
        assert_eq!(st(&nocert, "exim.tls_off"), Status::Fail);
        let off = GOOD.replace("tls_advertise_hosts = *", "tls_advertise_hosts =");
        assert_eq!(st(&off, "exim.tls_off"), Status::Fail);
        assert_eq!(st(&off, "exim.tls_protocols"), Status::Info);
        let old = GOOD.replace("NORMAL:-VERS-TLS1.0:-VERS-TLS1.1", "NORMAL:-VERS-TLS1.0");
        assert_eq!(st(&old, "exim.tls_protocols"), Status::Fail);
        let ossl = GOOD.replace(
            "tls_require_ciphers = NORMAL:-VERS-TLS1.0:-VERS-TLS1.1",
            "openssl_options = +no_sslv3",
        );
        assert_eq!(st(&ossl, "exim.tls_protocols"), Status::Fail);
        let ossl_ok = GOOD.replace(
            "tls_require_ciphers = NORMAL:-VERS-TLS1.0:-VERS-TLS1.1",
            "openssl_options = +no_sslv3 +no_tlsv1 +no_tlsv1_1",
        );
        assert_eq!(st(&ossl_ok, "exim.tls_protocols"), Status::Pass);
        let unknown_lib = GOOD.replace(
            "tls_require_ciphers = NORMAL:-VERS-TLS1.0:-VERS-TLS1.1\n",
            "",
        );
        assert_eq!(st(&unknown_lib, "exim.tls_protocols"), Status::Unknown);
    }

    #[test]
    fn vrfy_expn() {
        let v = GOOD.replace(
            "acl_smtp_rcpt = acl_check_rcpt\n",
            "acl_smtp_rcpt = acl_check_rcpt\nacl_smtp_vrfy = accept\n",
        );
        assert_eq!(st(&v, "exim.vrfy_expn"), Status::Fail);
        let v = GOOD.replace(
            "acl_smtp_rcpt = acl_check_rcpt\n",
            "acl_smtp_rcpt = acl_check_rcpt\nacl_smtp_expn = acl_check_rcpt\n",
        );
        assert_eq!(st(&v, "exim.vrfy_expn"), Status::Pass);
    }

    #[test]
    fn limits_delay_size_logging_banner() {
        let no_rl = GOOD
            .replace("  deny ratelimit = 100 / 1h / strict\n", "")
            .replace("smtp_accept_max_per_host = 10\n", "");
        assert_eq!(st(&no_rl, "exim.rate_limits"), Status::Fail);
        let only_max = GOOD.replace("  deny ratelimit = 100 / 1h / strict\n", "");
        assert_eq!(st(&only_max, "exim.rate_limits"), Status::Pass);
        let no_delay = GOOD.replace("acl_smtp_connect = acl_check_connect\n", "");
        assert_eq!(st(&no_delay, "exim.greeting_delay"), Status::Fail);
        assert_eq!(
            st(&GOOD.replace("25M", "0"), "exim.size_limit"),
            Status::Fail
        );
        assert_eq!(
            st(&GOOD.replace("25M", "200M"), "exim.size_limit"),
            Status::Fail
        );
        assert_eq!(
            st(
                &GOOD.replace("message_size_limit = 25M\n", ""),
                "exim.size_limit"
            ),
            Status::Pass
        );
        assert_eq!(
            st(&GOOD.replace(" +tls_peerdn", ""), "exim.logging"),
            Status::Fail
        );
        assert_eq!(
            st(
                &GOOD.replace("log_selector = ", "log_selector = -all "),
                "exim.logging"
            ),
            Status::Fail
        );
        assert_eq!(
            st(
                &GOOD.replace("smtp_banner = $smtp_active_hostname ESMTP\n", ""),
                "exim.banner_disclosure"
            ),
            Status::Fail
        );
    }

    #[test]
    fn dkim_and_dnsbl() {
        let nodkim = GOOD.replace("  dkim_private_key = /etc/exim/dkim.key\n", "");
        assert_eq!(st(&nodkim, "exim.dkim_signing"), Status::Fail);
        let raw = GOOD.replace("zen.spamhaus.org=127.0.0.2,127.0.0.3", "zen.spamhaus.org");
        assert_eq!(st(&raw, "exim.dnsbl_codes"), Status::Fail);
    }
}
