//! The `sendmail.*` rules over a [`super::model::Model`].

use super::model::{AccessEntry, Source, Syntax};
use super::options::{binary_default, macro_of, mc_default};
use super::{Ctx, VersionSource};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

const CF_README: &str = "sendmail cf/README (Configuration Files), 8.18";
const OP_GUIDE: &str = "Sendmail Installation and Operation Guide (doc/op/op.me), §5.6 options";

pub static SENDMAIL_OPEN_RELAY: Rule = Rule {
    id: "sendmail.open_relay",
    area: Area::Config,
    title: "Open relay",
    severity: Severity::Critical,
    description: "FEATURE(promiscuous_relay), relay_entire_domain, relay_based_on_MX, \
        relay_local_from or loose_relay_check is enabled, or a relay-domains/access entry is broad \
        enough to let any internet client relay. Unknown when the relay decision depends on an \
        access map that was not pasted.",
    refs: &[CF_README, "RFC 5321 §3.6.2"],
};

pub static SENDMAIL_SMUGGLING: Rule = Rule {
    id: "sendmail.smuggling",
    area: Area::Config,
    title: "SMTP smuggling (bare LF/CR accepted)",
    severity: Severity::Critical,
    description: "Bare LF or CR line endings are accepted in the SMTP dialogue, so a sender can \
        smuggle a forged second message past SPF/DMARC (CVE-2023-51765). Sendmail 8.18.1 and later \
        reject them unless srv_features relaxes it (G, U or O); older releases accept them, and \
        Debian's 8.17.1.9 backport (+deb12u1) rejects only when srv_features `o` is enabled.",
    refs: &[
        "sendmail RELEASE_NOTES, 8.18.1/8.18.1 2024/01/31",
        "CVE-2023-51765",
        "Debian sendmail 8.17.1.9-2+deb12u1 changelog (srv_features o)",
        "https://sec-consult.com/blog/detail/smtp-smuggling-spoofing-e-mails-worldwide/",
    ],
};

pub static SENDMAIL_VRFY_EXPN: Rule = Rule {
    id: "sendmail.vrfy_expn",
    area: Area::Config,
    title: "VRFY/EXPN (address harvesting)",
    severity: Severity::Medium,
    description:
        "PrivacyOptions contains neither goaway nor both novrfy and noexpn, so anyone can \
        ask the server which addresses exist and what aliases expand to.",
    refs: &[OP_GUIDE, CF_README],
};

pub static SENDMAIL_AUTH_PLAINTEXT: Rule = Rule {
    id: "sendmail.auth_plaintext",
    area: Area::Config,
    title: "Password authentication only over TLS",
    severity: Severity::High,
    description: "AUTH mechanisms that send the password in clear (PLAIN, LOGIN) are offered and \
        AuthOptions lacks `p`, so passwords can cross the network without encryption.",
    refs: &[CF_README, "RFC 4954 §4"],
};

pub static SENDMAIL_TLS_OFF: Rule = Rule {
    id: "sendmail.tls_off",
    area: Area::Config,
    title: "STARTTLS offered",
    severity: Severity::High,
    description: "No server certificate (confSERVER_CERT / ServerCertFile), so sendmail offers no \
        STARTTLS and all mail and logins cross the network in clear text.",
    refs: &[CF_README, "RFC 3207", "NIST SP 800-177r1 §4.1"],
};

pub static SENDMAIL_TLS_PROTOCOLS: Rule = Rule {
    id: "sendmail.tls_protocols",
    area: Area::Config,
    title: "Obsolete TLS versions",
    severity: Severity::High,
    description: "ServerSSLOptions lacks +SSL_OP_NO_TLSv1 and +SSL_OP_NO_TLSv1_1 (and \
        +SSL_OP_NO_SSLv3), so clients may negotiate protocol versions RFC 8996 deprecates.",
    refs: &[CF_README, "RFC 8996"],
};

pub static SENDMAIL_RATE_LIMITS: Rule = Rule {
    id: "sendmail.rate_limits",
    area: Area::Config,
    title: "Connection rate limits",
    severity: Severity::Medium,
    description: "None of ConnectionRateThrottle, MaxDaemonChildren, FEATURE(ratecontrol) or \
        FEATURE(conncontrol) is in place, so one client can open connections as fast as it likes.",
    refs: &[CF_README, OP_GUIDE],
};

pub static SENDMAIL_GREETING_DELAY: Rule = Rule {
    id: "sendmail.greeting_delay",
    area: Area::Config,
    title: "Greeting delay (greet_pause)",
    severity: Severity::Low,
    description: "No FEATURE(greet_pause), so spam bots that talk before the 220 greeting are not \
        caught.",
    refs: &[CF_README],
};

pub static SENDMAIL_SIZE_LIMIT: Rule = Rule {
    id: "sendmail.size_limit",
    area: Area::Config,
    title: "Message size limit",
    severity: Severity::Medium,
    description:
        "MaxMessageSize is unset or 0 (no limit) or above 100 MB, so a single message can \
        fill the queue's disk.",
    refs: &[OP_GUIDE],
};

pub static SENDMAIL_LOGGING: Rule = Rule {
    id: "sendmail.logging",
    area: Area::Config,
    title: "Log level",
    severity: Severity::Low,
    description: "LogLevel is below 9, so sendmail does not log what is needed to follow \
        deliveries and abuse (9 is the default).",
    refs: &[OP_GUIDE, "NIST SP 800-92"],
};

pub static SENDMAIL_BANNER_DISCLOSURE: Rule = Rule {
    id: "sendmail.banner_disclosure",
    area: Area::Config,
    title: "SMTP banner discloses the version",
    severity: Severity::Low,
    description: "SmtpGreetingMessage (confSMTP_LOGIN_MSG) contains $v or $Z, the sendmail and \
        configuration versions (the default does), which tells attackers which exploits to try.",
    refs: &[CF_README, OP_GUIDE],
};

/// 100 MB.
const SIZE_CAP: u64 = 100 * 1024 * 1024;

/// An option as the server sees it.
struct Eff {
    name: &'static str,
    value: String,
    /// The line that set (or undefined) it; None: never set.
    source: Option<Source>,
    /// Whether the value is a default (never set, or undefined).
    default: bool,
}

impl Eff {
    fn evidence(&self, ctx: &Ctx) -> Evidence {
        match &self.source {
            Some(s) if !self.default => s.evidence(),
            Some(s) => Evidence::Config {
                file: s.file.clone(),
                line: u32::try_from(s.line).ok(),
                text: format!(
                    "{} (undefined: the binary's default \"{}\" applies)",
                    s.text, self.value
                ),
            },
            None => Evidence::Config {
                file: ctx.file.clone(),
                line: None,
                text: if ctx.m.has_cf {
                    format!(
                        "{} not set; the sendmail binary's default is \"{}\"",
                        self.name, self.value
                    )
                } else {
                    format!(
                        "{} ({}) not set; the default of a .mc build is \"{}\"",
                        macro_of(self.name).unwrap_or(self.name),
                        self.name,
                        self.value
                    )
                },
            },
        }
    }

    fn is_set(&self) -> bool {
        !self.default
    }
}

fn eff(ctx: &Ctx, name: &'static str) -> Eff {
    match ctx.m.option(name) {
        Some(o) => match &o.value {
            Some(v) => Eff {
                name,
                value: v.trim().to_string(),
                source: Some(o.source.clone()),
                default: false,
            },
            None => Eff {
                name,
                value: binary_default(name).unwrap_or("").to_string(),
                source: Some(o.source.clone()),
                default: true,
            },
        },
        None => Eff {
            name,
            value: if ctx.m.has_cf {
                binary_default(name)
            } else {
                mc_default(name)
            }
            .unwrap_or("")
            .to_string(),
            source: None,
            default: true,
        },
    }
}

/// The snippet that sets an option, in the pasted syntax.
fn set_snippet(ctx: &Ctx, option: &str, value: &str) -> String {
    let mc = ctx.m.has_mc || ctx.m.option(option).is_some_and(|o| o.syntax == Syntax::Mc);
    match (mc, macro_of(option)) {
        (true, Some(m)) => format!("define(`{m}', `{value}')dnl"),
        _ => format!("O {option}={value}"),
    }
}

/// What to do after editing, in the pasted syntax.
fn rebuild(ctx: &Ctx) -> &'static str {
    if ctx.m.has_mc {
        "\ndnl In sendmail.mc; then rebuild sendmail.cf (`make -C /etc/mail`, or \
         `m4 sendmail.mc > sendmail.cf`) and restart sendmail."
    } else {
        "\n# In sendmail.cf (better: in the .mc it is generated from); then restart sendmail."
    }
}

fn flags(v: &str) -> Vec<String> {
    v.split([',', ' ', '\t'])
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn unknown_matching(ctx: &Ctx, words: &[&str]) -> Vec<Source> {
    ctx.m
        .unknown
        .iter()
        .filter(|(w, _)| {
            let w = w.to_ascii_lowercase();
            words.iter().any(|k| w.contains(k))
        })
        .map(|(_, s)| s.clone())
        .collect()
}

// ----------------------------------------------------------- open relay

/// FEATUREs that relay for clients the server cannot vouch for.
const RELAY_FEATURES: &[(&str, &str)] = &[
    (
        "promiscuous_relay",
        "relays for anyone: every internet client can send through this server",
    ),
    (
        "relay_entire_domain",
        "relays for every host in the local domains ($=m), however it is named in DNS",
    ),
    (
        "relay_based_on_MX",
        "relays for any domain whose MX points here: whoever controls a domain's DNS can use \
         this server as their relay",
    ),
    (
        "relay_local_from",
        "relays when the MAIL FROM address is local, which any spammer can forge",
    ),
    (
        "loose_relay_check",
        "accepts %-hack addresses (user%other@here), a classic relay path",
    ),
];

/// A relay-domains or access key that covers a large part of the
/// internet: empty, a bare top-level label, `0`, or a public IPv4 prefix of
/// one or two octets.
fn broad_key(key: &str) -> bool {
    let k = key.trim().trim_start_matches('.').to_ascii_lowercase();
    if k.is_empty() || k == "0" || k == "0.0.0.0" {
        return true;
    }
    let octets: Vec<&str> = k.split('.').collect();
    if octets
        .iter()
        .all(|o| !o.is_empty() && o.len() <= 3 && o.chars().all(|c| c.is_ascii_digit()))
    {
        let first: u32 = octets.first().and_then(|o| o.parse().ok()).unwrap_or(0);
        let second: u32 = octets.get(1).and_then(|o| o.parse().ok()).unwrap_or(0);
        let private = first == 10
            || first == 127
            || (first == 192 && second == 168 && octets.len() >= 2)
            || (first == 172 && (16..32).contains(&second) && octets.len() >= 2);
        return octets.len() <= 2 && !private;
    }
    // A single DNS label other than localhost: a TLD.
    !k.contains('.') && !k.contains(':') && k != "localhost" && !k.contains('@')
}

pub(crate) fn open_relay(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_OPEN_RELAY;
    let m = ctx.m;
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for (name, why) in RELAY_FEATURES {
        if let Some(f) = m.feature(name) {
            problems.push(format!("FEATURE({name}) {why}"));
            evidence.push(f.source.evidence());
        }
    }
    for (d, s) in &m.relay_domains {
        if broad_key(d) {
            problems.push(format!(
                "the relay domain \"{d}\" (class R) covers a whole top-level domain or network, \
                 so hosts there may relay"
            ));
            evidence.push(s.evidence());
        }
    }
    let relay_entries: Vec<&AccessEntry> = m
        .access
        .iter()
        .filter(|e| e.action.eq_ignore_ascii_case("RELAY"))
        .collect();
    for e in &relay_entries {
        let connect = e.tag.is_empty() || e.tag.eq_ignore_ascii_case("Connect");
        if connect && broad_key(&e.key) {
            problems.push(format!(
                "the access entry \"{}\" lets every client in \"{}\" relay",
                e.source.text, e.key
            ));
            evidence.push(e.source.evidence());
        }
    }
    // Where the MTA listens: DAEMON_OPTIONS, else all interfaces.
    let daemons = &m.daemons;
    let loopback = !daemons.is_empty() && daemons.iter().all(|d| d.loopback_only());
    let listen_ev: Vec<Evidence> = daemons.iter().map(|d| d.source.evidence()).collect();
    let fix = if m.has_mc {
        "dnl Remove the relaying FEATUREs, e.g. delete the line\ndnl FEATURE(`promiscuous_relay')dnl\n\
         dnl and list the hosts and networks allowed to relay in /etc/mail/access:\n\
         dnl   Connect:192.0.2.10   RELAY\n\
         dnl   Connect:10.0.0       RELAY\n\
         FEATURE(`access_db')dnl\n\
         dnl Then rebuild sendmail.cf (`make -C /etc/mail`) and restart sendmail."
    } else {
        "# Regenerate sendmail.cf from a .mc without FEATURE(promiscuous_relay),\n\
         # relay_entire_domain, relay_based_on_MX, relay_local_from and loose_relay_check,\n\
         # and list the clients allowed to relay in /etc/mail/access (Connect:10.0.0 RELAY)."
    };
    if !problems.is_empty() {
        if loopback {
            return rule
                .finding(
                    Status::Warn,
                    format!(
                        "{}. The MTA listens only on the loopback interface, so this is not \
                         reachable from the internet today; it becomes an open relay the day \
                         the listening address changes.",
                        problems.join("; ")
                    ),
                )
                .with_evidences(evidence.into_iter().chain(listen_ev))
                .with_remediation(fix);
        }
        let mw = m.feature("relay_mail_from");
        let mut f = rule
            .finding(
                Status::Fail,
                format!(
                    "Unauthenticated internet clients can relay: {}. Spammers find open relays \
                     within hours and the server's address ends up on blocklists.",
                    problems.join("; ")
                ),
            )
            .with_evidences(evidence)
            .with_remediation(fix);
        if let Some(mw) = mw {
            f = f.with_evidence(mw.source.evidence());
        }
        return f;
    }
    if loopback {
        return rule
            .finding(
                Status::Pass,
                "The MTA listens only on the loopback interface (DAEMON_OPTIONS Addr=127.0.0.1 \
                 or ::1), so no internet client can connect, let alone relay; no relaying \
                 FEATURE is enabled.",
            )
            .with_evidences(listen_ev);
    }
    if let Some(mw) = m.feature("relay_mail_from") {
        return rule
            .finding(
                Status::Warn,
                "FEATURE(relay_mail_from) relays for senders whose MAIL FROM address is marked \
                 RELAY in the access map; the sender address is not authenticated, so anyone \
                 who forges such an address can relay.",
            )
            .with_evidence(mw.source.evidence())
            .with_remediation(
                "dnl Remove FEATURE(`relay_mail_from') and use SMTP AUTH or Connect: entries \
                 instead.",
            );
    }
    if let Some(db) = m.uses_access_db() {
        if !m.access_pasted {
            return rule
                .finding(
                    Status::Unknown,
                    "No relaying FEATURE is enabled, but the relay decision also depends on the \
                     access map (FEATURE(access_db)): a broad `Connect:` or IP entry with RELAY \
                     there would make an open relay. Paste /etc/mail/access (as `# file: \
                     access`) to decide.",
                )
                .with_evidence(db.evidence())
                .with_remediation(
                    "# Check /etc/mail/access: RELAY only for your own hosts and networks,\n\
                     # e.g. Connect:127.0.0.1 RELAY, Connect:10.0.0 RELAY.",
                );
        }
    }
    let mut detail = String::from(
        "No relaying FEATURE (promiscuous_relay, relay_entire_domain, relay_based_on_MX, \
         relay_local_from, loose_relay_check) is enabled",
    );
    if m.access_pasted {
        detail.push_str(", and no RELAY entry of the pasted access map is broad");
    }
    detail.push_str(
        "; sendmail then relays only for the hosts in class R (relay-domains) and itself.",
    );
    if !m.relay_files.is_empty() {
        detail.push_str(
            " The relay-domains file it reads was not pasted; it should name only your own \
             domains and hosts.",
        );
    }
    let mut f = rule.finding(Status::Pass, detail);
    for e in relay_entries.iter().take(5) {
        f = f.with_evidence(e.source.evidence());
    }
    f
}

// ------------------------------------------------------------ smuggling

pub(crate) fn smuggling(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_SMUGGLING;
    let m = ctx.m;
    let v = &ctx.version;
    let version_ev = match &ctx.version_source {
        VersionSource::Stated(e) => e.clone(),
        VersionSource::Assumed => Evidence::Note {
            text: format!("sendmail {} (given with --assume-version)", v.text),
        },
        VersionSource::Default => Evidence::Note {
            text: format!(
                "sendmail {} assumed (current stable release; the input does not state one)",
                v.text
            ),
        },
    };
    // Relaxations: G (bare LF), U (bare CR), O (lone-dot end of data).
    let relaxed: Vec<&(String, Source)> = m
        .srv_features
        .iter()
        .filter(|(l, _)| l.contains(['G', 'U', 'O']))
        .collect();
    let has_o = m.srv_features.iter().any(|(l, _)| l.contains('o'));
    let fix = if m.has_mc {
        "dnl Upgrade to sendmail 8.18.1 or later (it rejects bare CR/LF by default), and do not\n\
         dnl relax it with srv_features G, U or O except for trusted legacy hosts, e.g. in\n\
         dnl /etc/mail/access:   Srv_Features:192.0.2.25   G\n\
         dnl On Debian 12's 8.17.1.9-2+deb12u1 or later, enable the backported check for all\n\
         dnl clients in /etc/mail/access:   Srv_Features:   o\n\
         FEATURE(`access_db')dnl"
    } else {
        "# Upgrade to sendmail 8.18.1 or later; on Debian 12's 8.17.1.9-2+deb12u1 or later add\n\
         # to /etc/mail/access:   Srv_Features:   o"
    };
    if v.at_least(&[8, 18, 1]) {
        if relaxed.is_empty() {
            return rule
                .finding(
                    Status::Pass,
                    format!(
                        "Sendmail {} rejects bare LF and bare CR and accepts only CRLF.CRLF as \
                         the end of a message by default (8.18.1 release notes); no srv_features \
                         G, U or O relaxing it was seen{}.",
                        v.text,
                        if m.uses_access_db().is_some() && !m.access_pasted {
                            " (Srv_Features: entries of the access map, which was not pasted, \
                             could relax it for some clients)"
                        } else {
                            ""
                        }
                    ),
                )
                .with_evidence(version_ev);
        }
        let all_clients = relaxed.iter().any(|(_, s)| {
            let t = s.text.trim_start();
            !t.to_ascii_lowercase().starts_with("srv_features:")
                || t.get("srv_features:".len()..)
                    .is_none_or(|r| r.starts_with(char::is_whitespace))
        });
        let status = if all_clients {
            Status::Fail
        } else {
            Status::Warn
        };
        return rule
            .finding(
                status,
                format!(
                    "Sendmail {} would reject bare LF/CR, but srv_features G, U or O turns that \
                     off{}: smuggled messages can then pass (CVE-2023-51765). The release notes \
                     recommend relaxing it only for trusted legacy hosts, with u2/g2 (replace by \
                     a space) rather than U/G.",
                    v.text,
                    if all_clients {
                        " for every client"
                    } else {
                        " for the clients listed"
                    }
                ),
            )
            .with_evidences(relaxed.iter().map(|(_, s)| s.evidence()))
            .with_evidence(version_ev)
            .with_remediation(fix);
    }
    // Before 8.18.1.
    if has_o && relaxed.is_empty() {
        let ev: Vec<Evidence> = m
            .srv_features
            .iter()
            .filter(|(l, _)| l.contains('o'))
            .map(|(_, s)| s.evidence())
            .collect();
        if v.debian_backport {
            return rule
                .finding(
                    Status::Pass,
                    format!(
                        "Sendmail {} is Debian's build with the CVE-2023-51765 backport, and \
                         srv_features `o` (accept only CRLF.CRLF as end of data) is enabled.",
                        v.text
                    ),
                )
                .with_evidences(ev)
                .with_evidence(version_ev);
        }
        return rule
            .finding(
                Status::Warn,
                format!(
                    "srv_features `o` is set, but sendmail {} is older than 8.18.1: `o` only \
                     works in builds that carry the CVE-2023-51765 backport (Debian \
                     8.17.1.9-2+deb12u1 and later, some SUSE builds); upstream releases before \
                     8.18.1 ignore it and accept bare LF.",
                    v.text
                ),
            )
            .with_evidences(ev)
            .with_evidence(version_ev)
            .with_remediation(fix);
    }
    if v.debian_backport && m.uses_access_db().is_some() && !m.access_pasted {
        return rule
            .finding(
                Status::Warn,
                format!(
                    "Sendmail {} is Debian's build with the CVE-2023-51765 backport, which \
                     protects only when srv_features `o` is enabled (e.g. `Srv_Features: o` in \
                     the access map). The access map was not pasted, so whether it is enabled \
                     cannot be seen; by default the backport stays off.",
                    v.text
                ),
            )
            .with_evidence(version_ev)
            .with_remediation(fix);
    }
    rule.finding(
        Status::Fail,
        format!(
            "Sendmail {} is older than 8.18.1 and accepts bare LF line endings, so a sender can \
             smuggle a second, forged message past SPF and DMARC checks (CVE-2023-51765).{}",
            v.text,
            if v.debian_backport {
                " This Debian build has the backported check, but srv_features `o` is not \
                 enabled."
            } else {
                ""
            }
        ),
    )
    .with_evidences(relaxed.iter().map(|(_, s)| s.evidence()))
    .with_evidence(version_ev)
    .with_remediation(fix)
}

// ---------------------------------------------------------------- VRFY

pub(crate) fn vrfy_expn(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_VRFY_EXPN;
    let p = eff(ctx, "PrivacyOptions");
    let f = flags(&p.value);
    let has = |x: &str| f.iter().any(|y| y == x);
    if has("goaway") || (has("novrfy") && has("noexpn")) {
        return rule
            .finding(
                Status::Pass,
                format!(
                    "PrivacyOptions = {}: VRFY and EXPN are refused.",
                    if p.value.is_empty() {
                        "(empty)"
                    } else {
                        &p.value
                    }
                ),
            )
            .with_evidence(p.evidence(ctx));
    }
    let missing: Vec<&str> = ["novrfy", "noexpn"]
        .into_iter()
        .filter(|x| !has(x))
        .collect();
    // goaway covers authwarnings, noexpn, novrfy, noverb, need*helo,
    // nobodyreturn, noetrn, noreceipts.
    let covered = [
        "goaway",
        "authwarnings",
        "noexpn",
        "novrfy",
        "noverb",
        "needmailhelo",
        "needexpnhelo",
        "needvrfyhelo",
        "nobodyreturn",
        "noetrn",
        "noreceipts",
        "public",
    ];
    let mut keep: Vec<String> = vec!["goaway".into()];
    keep.extend(f.iter().filter(|x| !covered.contains(&x.as_str())).cloned());
    rule.finding(
        Status::Fail,
        format!(
            "PrivacyOptions = {} lacks {} (and goaway), so anyone can use {} to find out which \
             addresses exist — a gift to spammers and password guessers.",
            if p.value.is_empty() {
                "(empty: public)".to_string()
            } else {
                format!("\"{}\"", p.value)
            },
            missing.join(" and "),
            missing
                .iter()
                .map(|m| m.trim_start_matches("no").to_ascii_uppercase())
                .collect::<Vec<_>>()
                .join("/")
        ),
    )
    .with_evidence(p.evidence(ctx))
    .with_remediation(format!(
        "{}{}",
        set_snippet(ctx, "PrivacyOptions", &keep.join(",")),
        rebuild(ctx)
    ))
}

// ---------------------------------------------------------------- AUTH

pub(crate) fn auth_plaintext(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_AUTH_PLAINTEXT;
    let mechs = eff(ctx, "AuthMechanisms");
    let opts = eff(ctx, "AuthOptions");
    let list: Vec<String> = mechs
        .value
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let plain: Vec<&String> = list
        .iter()
        .filter(|m| *m == "PLAIN" || *m == "LOGIN")
        .collect();
    let opt_flags: Vec<String> = opts
        .value
        .split([',', ' '])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let has_p = opt_flags.iter().any(|f| f == "p");
    if plain.is_empty() {
        let hidden = unknown_matching(ctx, &["sasl", "auth"]);
        if !mechs.is_set() && !hidden.is_empty() {
            return rule
                .finding(
                    Status::Unknown,
                    "No AUTH mechanisms are set in the paste, but a file that was not pasted \
                     (SASL configuration) may set them. Paste it to decide.",
                )
                .with_evidences(hidden.iter().map(Source::evidence));
        }
        return rule
            .finding(
                Status::Pass,
                format!(
                    "No clear-text AUTH mechanism (PLAIN, LOGIN) is offered: AuthMechanisms = \
                     \"{}\".",
                    mechs.value
                ),
            )
            .with_evidence(mechs.evidence(ctx));
    }
    let plain_names = plain
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" and ");
    if has_p {
        return rule
            .finding(
                Status::Pass,
                format!(
                    "{plain_names} are offered only once TLS protects the session: AuthOptions \
                     contains `p`."
                ),
            )
            .with_evidence(mechs.evidence(ctx))
            .with_evidence(opts.evidence(ctx));
    }
    let mut new_opts = opt_flags.clone();
    new_opts.push("p".into());
    rule.finding(
        Status::Fail,
        format!(
            "{plain_names} send the password in clear (base64) and are offered without TLS: \
             AuthOptions lacks `p`, so a password typed into a mail client can be read by \
             anyone on the path."
        ),
    )
    .with_evidence(mechs.evidence(ctx))
    .with_evidence(opts.evidence(ctx))
    .with_remediation(format!(
        "{}{}",
        set_snippet(ctx, "AuthOptions", &new_opts.join(",")),
        rebuild(ctx)
    ))
}

// ----------------------------------------------------------------- TLS

enum Cert {
    Set(Eff),
    Hidden(Vec<Source>),
    Missing(Eff),
}

fn cert(ctx: &Ctx) -> Cert {
    let c = eff(ctx, "ServerCertFile");
    if c.is_set() && !c.value.is_empty() {
        return Cert::Set(c);
    }
    let hidden = unknown_matching(ctx, &["tls", "ssl", "cert"]);
    if !hidden.is_empty() && !c.is_set() {
        return Cert::Hidden(hidden);
    }
    Cert::Missing(c)
}

pub(crate) fn tls_off(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_TLS_OFF;
    match cert(ctx) {
        Cert::Set(c) => rule
            .finding(
                Status::Pass,
                format!(
                    "A server certificate is configured ({}), so sendmail offers STARTTLS.",
                    c.value
                ),
            )
            .with_evidence(c.evidence(ctx)),
        Cert::Hidden(h) => rule
            .finding(
                Status::Unknown,
                "ServerCertFile is not set in the paste, but an included file that was not \
                 pasted (Debian's /etc/mail/tls/starttls.m4, for instance) usually sets it. \
                 Paste it to decide.",
            )
            .with_evidences(h.iter().map(Source::evidence)),
        Cert::Missing(c) => {
            let fix = if ctx.m.has_mc {
                "define(`CERT_DIR', `/etc/mail/tls')dnl\n\
                 define(`confSERVER_CERT', `CERT_DIR/mx.example.org.crt')dnl\n\
                 define(`confSERVER_KEY', `CERT_DIR/mx.example.org.key')dnl\n\
                 define(`confCLIENT_CERT', `CERT_DIR/mx.example.org.crt')dnl\n\
                 define(`confCLIENT_KEY', `CERT_DIR/mx.example.org.key')dnl\n\
                 define(`confCACERT_PATH', `/etc/ssl/certs')dnl\n\
                 dnl (Debian: run `sendmailconfig` after setting up TLS with `/usr/share/sendmail/update_tls`.)\n\
                 dnl Then rebuild sendmail.cf and restart sendmail."
                    .to_string()
            } else {
                "O ServerCertFile=/etc/mail/tls/mx.example.org.crt\n\
                 O ServerKeyFile=/etc/mail/tls/mx.example.org.key\n\
                 O CACertPath=/etc/ssl/certs"
                    .to_string()
            };
            rule.finding(
                Status::Fail,
                "No server certificate (confSERVER_CERT / ServerCertFile) is configured, so \
                 sendmail does not offer STARTTLS: mail from other servers and any login \
                 cross the network in clear text.",
            )
            .with_evidence(c.evidence(ctx))
            .with_remediation(fix)
        }
    }
}

pub(crate) fn tls_protocols(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_TLS_PROTOCOLS;
    match cert(ctx) {
        Cert::Missing(c) => {
            return rule
                .finding(
                    Status::Info,
                    "Not applicable: no server certificate is configured, so sendmail offers no \
                     TLS at all (see sendmail.tls_off).",
                )
                .with_evidence(c.evidence(ctx))
        }
        Cert::Hidden(h) if !eff(ctx, "ServerSSLOptions").is_set() => {
            return rule
                .finding(
                    Status::Unknown,
                    "The TLS settings are in an included file that was not pasted; paste it to \
                     decide which protocol versions are allowed.",
                )
                .with_evidences(h.iter().map(Source::evidence))
        }
        _ => {}
    }
    let o = eff(ctx, "ServerSSLOptions");
    let mut on: Vec<String> = Vec::new();
    for tok in o.value.split([' ', ',', '\t']).filter(|t| !t.is_empty()) {
        let (add, name) = match tok.as_bytes().first() {
            Some(b'-') => (false, tok.get(1..).unwrap_or("")),
            Some(b'+') => (true, tok.get(1..).unwrap_or("")),
            _ => (true, tok),
        };
        let name = name.to_ascii_uppercase();
        on.retain(|x| *x != name);
        if add {
            on.push(name);
        }
    }
    let has = |n: &str| on.iter().any(|x| x == n);
    let missing: Vec<&str> = [
        ("SSL_OP_NO_TLSV1", "TLSv1"),
        ("SSL_OP_NO_TLSV1_1", "TLSv1.1"),
    ]
    .into_iter()
    .filter(|(f, _)| !has(f))
    .map(|(_, n)| n)
    .collect();
    let fix = format!(
        "{}{}",
        set_snippet(
            ctx,
            "ServerSSLOptions",
            "+SSL_OP_NO_SSLv2 +SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1 \
             +SSL_OP_CIPHER_SERVER_PREFERENCE"
        ),
        rebuild(ctx)
    );
    if !missing.is_empty() {
        return rule
            .finding(
                Status::Fail,
                format!(
                    "ServerSSLOptions = \"{}\" does not exclude {}: clients may negotiate \
                     protocol versions RFC 8996 deprecates. (OpenSSL 3 at its default security \
                     level already refuses them on some distributions, but the configuration \
                     should not depend on the library build.)",
                    o.value,
                    missing.join(" and ")
                ),
            )
            .with_evidence(o.evidence(ctx))
            .with_remediation(fix);
    }
    if !has("SSL_OP_NO_SSLV3") {
        return rule
            .finding(
                Status::Warn,
                "TLSv1 and TLSv1.1 are excluded, but SSLv3 is not (+SSL_OP_NO_SSLv3); current \
                 OpenSSL builds no longer include SSLv3, older ones do.",
            )
            .with_evidence(o.evidence(ctx))
            .with_remediation(fix);
    }
    rule.finding(
        Status::Pass,
        "ServerSSLOptions excludes SSLv3, TLSv1 and TLSv1.1.",
    )
    .with_evidence(o.evidence(ctx))
}

// --------------------------------------------------------------- limits

fn number(e: &Eff) -> Option<u64> {
    e.value.trim().parse().ok()
}

pub(crate) fn rate_limits(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_RATE_LIMITS;
    let m = ctx.m;
    let throttle = eff(ctx, "ConnectionRateThrottle");
    let children = eff(ctx, "MaxDaemonChildren");
    let mut good = Vec::new();
    let mut ev = Vec::new();
    for e in [&throttle, &children] {
        if number(e).is_some_and(|n| n > 0) {
            good.push(format!("{} = {}", e.name, e.value));
            ev.push(e.evidence(ctx));
        }
    }
    let feats: Vec<&super::model::Feature> = ["ratecontrol", "conncontrol"]
        .iter()
        .filter_map(|n| m.feature(n))
        .collect();
    for f in &feats {
        good.push(format!("FEATURE({})", f.name));
        ev.push(f.source.evidence());
    }
    if !good.is_empty() {
        let only_features = good.len() == feats.len();
        let entries = m.access.iter().any(|e| {
            e.tag.eq_ignore_ascii_case("ClientRate") || e.tag.eq_ignore_ascii_case("ClientConn")
        });
        if only_features && m.access_pasted && !entries {
            return rule
                .finding(
                    Status::Warn,
                    "FEATURE(ratecontrol)/FEATURE(conncontrol) act on ClientRate:/ClientConn: \
                     entries of the access map, and the pasted access map has none, so no client \
                     is limited.",
                )
                .with_evidences(ev)
                .with_remediation(
                    "# /etc/mail/access: limits for every client (then `make -C /etc/mail`)\n\
                     ClientRate:        10\nClientConn:        5\n\
                     ClientRate:127.0.0.1  0\nClientConn:127.0.0.1  0",
                );
        }
        let mut detail = format!("Connection limits are in place: {}.", good.join(", "));
        if only_features && !m.access_pasted {
            detail.push_str(
                " The features limit clients through ClientRate:/ClientConn: entries of the \
                 access map, which was not pasted.",
            );
        }
        return rule.finding(Status::Pass, detail).with_evidences(ev);
    }
    rule.finding(
        Status::Fail,
        "No connection limit: ConnectionRateThrottle and MaxDaemonChildren are 0 (unlimited) and \
         neither FEATURE(ratecontrol) nor FEATURE(conncontrol) is used, so one client can open \
         connections as fast as it likes and exhaust the server.",
    )
    .with_evidence(throttle.evidence(ctx))
    .with_evidence(children.evidence(ctx))
    .with_remediation(if m.has_mc {
        "define(`confCONNECTION_RATE_THROTTLE', `15')dnl\n\
         define(`confMAX_DAEMON_CHILDREN', `100')dnl\n\
         FEATURE(`access_db')dnl\n\
         FEATURE(`ratecontrol', `nodelay', `terminate')dnl\n\
         FEATURE(`conncontrol', `nodelay', `terminate')dnl\n\
         dnl /etc/mail/access:  ClientRate: 10   ClientConn: 5\n\
         dnl Then rebuild sendmail.cf and restart sendmail."
            .to_string()
    } else {
        "O ConnectionRateThrottle=15\nO MaxDaemonChildren=100".to_string()
    })
}

pub(crate) fn greeting_delay(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_GREETING_DELAY;
    let m = ctx.m;
    let fix = if m.has_mc {
        "FEATURE(`access_db')dnl\nFEATURE(`greet_pause', `1000')dnl\n\
         dnl Then rebuild sendmail.cf and restart sendmail."
    } else {
        "# Add FEATURE(`greet_pause', `1000') to the .mc and regenerate sendmail.cf."
    };
    let Some(f) = m.feature("greet_pause") else {
        return rule
            .finding(
                Status::Fail,
                "FEATURE(greet_pause) is not used, so clients that send commands before the 220 \
                 greeting (a trait of spam bots) are not caught.",
            )
            .with_evidence(Evidence::Config {
                file: ctx.file.clone(),
                line: None,
                text: "no FEATURE(`greet_pause')".into(),
            })
            .with_remediation(fix);
    };
    let default_ms: Option<u64> = f.args.first().and_then(|a| a.trim().parse().ok());
    let entries = m
        .access
        .iter()
        .any(|e| e.tag.eq_ignore_ascii_case("GreetPause"));
    let from_cf = f.args.is_empty() && f.source.text.starts_with("#####");
    if default_ms.is_some_and(|n| n > 0) || entries || from_cf {
        return rule
            .finding(
                Status::Pass,
                match default_ms {
                    Some(n) if n > 0 => format!(
                        "FEATURE(greet_pause) waits {n} ms before the greeting and drops clients \
                         that talk first."
                    ),
                    _ if entries => "FEATURE(greet_pause) is used with GreetPause: entries in \
                                     the access map."
                        .to_string(),
                    _ => "FEATURE(greet_pause) is part of this sendmail.cf.".to_string(),
                },
            )
            .with_evidence(f.source.evidence());
    }
    rule.finding(
        Status::Warn,
        "FEATURE(greet_pause) is used without a default pause, so only clients with a \
         GreetPause: entry in the access map are delayed; the access map was not pasted or has \
         none.",
    )
    .with_evidence(f.source.evidence())
    .with_remediation(fix)
}

pub(crate) fn size_limit(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_SIZE_LIMIT;
    let s = eff(ctx, "MaxMessageSize");
    let fix = format!(
        "{}{}",
        set_snippet(ctx, "MaxMessageSize", "52428800"),
        rebuild(ctx)
    );
    match number(&s) {
        Some(0) => rule
            .finding(
                Status::Fail,
                "MaxMessageSize is 0 (no limit): one message can fill the mail queue's disk and \
                 stop all mail.",
            )
            .with_evidence(s.evidence(ctx))
            .with_remediation(fix),
        Some(n) if n > SIZE_CAP => rule
            .finding(
                Status::Fail,
                format!(
                    "MaxMessageSize = {n} bytes ({} MB) is above 100 MB; messages that large can \
                     fill the queue's disk quickly and most receivers refuse them anyway.",
                    n / (1024 * 1024)
                ),
            )
            .with_evidence(s.evidence(ctx))
            .with_remediation(fix),
        Some(n) => rule
            .finding(
                Status::Pass,
                format!("MaxMessageSize = {n} bytes ({} MB).", n / (1024 * 1024)),
            )
            .with_evidence(s.evidence(ctx)),
        None => rule
            .finding(
                Status::Unknown,
                format!(
                    "MaxMessageSize = \"{}\" is not a number of bytes; sendmail may not accept it.",
                    s.value
                ),
            )
            .with_evidence(s.evidence(ctx))
            .with_remediation(fix),
    }
}

pub(crate) fn logging(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_LOGGING;
    let l = eff(ctx, "LogLevel");
    match number(&l) {
        Some(n) if n < 9 => rule
            .finding(
                Status::Fail,
                format!(
                    "LogLevel = {n} is below 9: sendmail stops logging information needed to \
                     follow deliveries and abuse (9 is the default; 10 and above add detail)."
                ),
            )
            .with_evidence(l.evidence(ctx))
            .with_remediation(format!(
                "{}{}",
                set_snippet(ctx, "LogLevel", "9"),
                rebuild(ctx)
            )),
        Some(n) => rule
            .finding(Status::Pass, format!("LogLevel = {n} (9 or more)."))
            .with_evidence(l.evidence(ctx)),
        None => rule
            .finding(
                Status::Unknown,
                format!("LogLevel = \"{}\" is not a number.", l.value),
            )
            .with_evidence(l.evidence(ctx)),
    }
}

pub(crate) fn banner_disclosure(ctx: &Ctx) -> Finding {
    let rule = &SENDMAIL_BANNER_DISCLOSURE;
    let g = eff(ctx, "SmtpGreetingMessage");
    let shows: Vec<&str> = [("$v", "$v (sendmail version)"), ("$Z", "$Z (cf version)")]
        .into_iter()
        .filter(|(m, _)| g.value.contains(m))
        .map(|(_, d)| d)
        .collect();
    if shows.is_empty() {
        return rule
            .finding(
                Status::Pass,
                format!(
                    "The greeting \"{}\" does not show the sendmail version.",
                    g.value
                ),
            )
            .with_evidence(g.evidence(ctx));
    }
    let mut detail = format!(
        "The 220 greeting \"{}\" shows {}: anyone who connects learns the exact release and can \
         look up its vulnerabilities.",
        g.value,
        shows.join(" and ")
    );
    if !g.is_set() {
        if let Some((w, _)) = ctx.m.unknown.iter().find(|(w, _)| w.starts_with("OSTYPE")) {
            detail.push_str(&format!(
                " ({w} was not pasted; Debian's OSTYPE sets a greeting with $v/$Z too.)"
            ));
        }
    }
    rule.finding(Status::Fail, detail)
        .with_evidence(g.evidence(ctx))
        .with_remediation(format!(
            "{}{}",
            set_snippet(ctx, "SmtpGreetingMessage", "$j ESMTP; $b"),
            rebuild(ctx)
        ))
}

#[cfg(test)]
mod tests {
    use super::super::{check, model::Model, RULES};
    use crate::config::Input;
    use crate::report::{Finding, Status};

    fn run_v(text: &str, version: Option<&str>) -> Vec<Finding> {
        let parts = [Input::new("sendmail.mc", text)];
        check(&Model::build(&parts), version, &parts).0
    }

    fn run(text: &str) -> Vec<Finding> {
        run_v(text, None)
    }

    fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
        fs.iter().find(|f| f.id == id).unwrap()
    }

    fn st(text: &str, id: &str) -> Status {
        get(&run(text), id).status
    }

    /// A .mc that passes every rule (8.18.1 assumed).
    pub const HARD: &str = "\
divert(-1)dnl
divert(0)dnl
include(`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(`hardened')dnl
define(`confPRIVACY_FLAGS', `goaway,restrictqrun')dnl
define(`confSMTP_LOGIN_MSG', `$j ESMTP; $b')dnl
define(`confLOG_LEVEL', `10')dnl
define(`confMAX_MESSAGE_SIZE', `52428800')dnl
define(`confCONNECTION_RATE_THROTTLE', `15')dnl
define(`confMAX_DAEMON_CHILDREN', `100')dnl
define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl
define(`confAUTH_OPTIONS', `A,p,y')dnl
define(`confSERVER_CERT', `/etc/mail/tls/mx.crt')dnl
define(`confSERVER_KEY', `/etc/mail/tls/mx.key')dnl
define(`confSERVER_SSL_OPTIONS', `+SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1')dnl
FEATURE(`greet_pause', `1000')dnl
DAEMON_OPTIONS(`Family=inet, Name=MTA-v4, Port=smtp')dnl
MAILER(`local')dnl
MAILER(`smtp')dnl
";

    #[test]
    fn hardened_mc_passes_every_rule() {
        let fs = run(HARD);
        assert_eq!(fs.len(), RULES.len());
        for f in &fs {
            assert_eq!(f.status, Status::Pass, "{}: {}", f.id, f.detail);
        }
    }

    #[test]
    fn findings_follow_the_registry() {
        let ids: Vec<String> = run("").into_iter().map(|f| f.id).collect();
        let reg: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids, reg);
    }

    #[test]
    fn open_relay() {
        let id = "sendmail.open_relay";
        let f = run("FEATURE(`promiscuous_relay')dnl\n");
        let r = get(&f, id);
        assert_eq!(r.status, Status::Fail);
        assert!(
            matches!(&r.evidence[0], crate::report::Evidence::Config { line: Some(1), text, .. } if text.contains("promiscuous_relay"))
        );
        assert!(r.remediation.contains("access"));
        for feat in [
            "relay_entire_domain",
            "relay_based_on_MX",
            "relay_local_from",
            "loose_relay_check",
        ] {
            assert_eq!(
                st(&format!("FEATURE(`{feat}')dnl\n"), id),
                Status::Fail,
                "{feat}"
            );
        }
        assert_eq!(st("RELAY_DOMAIN(`com')dnl\n", id), Status::Fail);
        assert_eq!(st("RELAY_DOMAIN(`example.org')dnl\n", id), Status::Pass);
        // Depends on an access map not pasted.
        assert_eq!(st("FEATURE(`access_db')dnl\n", id), Status::Unknown);
        // The access map pasted: a broad entry fails, a narrow one passes.
        let both = |access: &str| {
            let parts = [
                Input::new("sendmail.mc", "FEATURE(`access_db')dnl\n"),
                Input::new("access", access),
            ];
            get(&check(&Model::build(&parts), None, &parts).0, id).status
        };
        assert_eq!(both("Connect:203.0 RELAY\n"), Status::Fail);
        assert_eq!(
            both("Connect:10.0.0 RELAY\nConnect:localhost RELAY\n"),
            Status::Pass
        );
        // Loopback only.
        let lo = "DAEMON_OPTIONS(`Family=inet, Name=MTA-v4, Port=smtp, Addr=127.0.0.1')dnl\n";
        assert_eq!(
            st(&format!("{lo}FEATURE(`access_db')dnl\n"), id),
            Status::Pass
        );
        assert_eq!(
            st(&format!("{lo}FEATURE(`promiscuous_relay')dnl\n"), id),
            Status::Warn
        );
        assert_eq!(st("FEATURE(`relay_mail_from')dnl\n", id), Status::Warn);
    }

    #[test]
    fn smuggling() {
        let id = "sendmail.smuggling";
        let v = |t: &str, ver: &str| get(&run_v(t, Some(ver)), id).status;
        assert_eq!(v("", "8.18.1"), Status::Pass);
        assert_eq!(v("", "8.17.2"), Status::Fail);
        let relax =
            "FEATURE(`access_db')dnl\nLOCAL_SRV_FEATURES\nSLocal_srv_features\nR$*\t$#local $: G\n";
        assert_eq!(v(relax, "8.18.1"), Status::Fail);
        let o = "LOCAL_SRV_FEATURES\nSLocal_srv_features\nR$*\t$#local $: o\n";
        assert_eq!(v(o, "8.17.1.9-2+deb12u2"), Status::Pass);
        assert_eq!(v(o, "8.17.1"), Status::Warn);
        assert_eq!(
            v("FEATURE(`access_db')dnl\n", "8.17.1.9-2+deb12u2"),
            Status::Warn
        );
        assert_eq!(v("", "8.17.1.9-2+deb12u2"), Status::Fail);
        // Version stated in the paste.
        let f = run("VERSIONID(`$Id: sendmail.mc, v 8.15.2 2015-07-03')\n");
        assert_eq!(get(&f, id).status, Status::Fail);
        // Relaxed for one listed host only (access map): warn.
        let parts = [
            Input::new("sendmail.mc", "FEATURE(`access_db')dnl\n"),
            Input::new("access", "Srv_Features:192.0.2.7 G\n"),
        ];
        let fs = check(&Model::build(&parts), Some("8.18.1"), &parts).0;
        assert_eq!(get(&fs, id).status, Status::Warn);
    }

    #[test]
    fn vrfy_expn() {
        let id = "sendmail.vrfy_expn";
        assert_eq!(st("", id), Status::Fail);
        let f = run("define(`confPRIVACY_FLAGS', `authwarnings,restrictqrun')dnl\n");
        let r = get(&f, id);
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.remediation.contains("`goaway,restrictqrun'"),
            "{}",
            r.remediation
        );
        assert_eq!(
            st("define(`confPRIVACY_FLAGS', `novrfy, noexpn')dnl\n", id),
            Status::Pass
        );
        assert_eq!(
            st("define(`confPRIVACY_FLAGS', `novrfy')dnl\n", id),
            Status::Fail
        );
    }

    #[test]
    fn auth_plaintext() {
        let id = "sendmail.auth_plaintext";
        let mechs =
            "define(`confAUTH_MECHANISMS', `EXTERNAL GSSAPI DIGEST-MD5 CRAM-MD5 LOGIN PLAIN')dnl\n";
        assert_eq!(st(mechs, id), Status::Fail);
        assert_eq!(
            st(
                &format!("{mechs}define(`confAUTH_OPTIONS', `A,p')dnl\n"),
                id
            ),
            Status::Pass
        );
        assert_eq!(st("", id), Status::Pass);
        assert_eq!(
            st("include(`/etc/mail/sasl/sasl.m4')dnl\n", id),
            Status::Unknown
        );
    }

    #[test]
    fn tls() {
        assert_eq!(st("", "sendmail.tls_off"), Status::Fail);
        assert_eq!(st("", "sendmail.tls_protocols"), Status::Info);
        let cert = "define(`confSERVER_CERT', `/etc/mail/tls/a.crt')dnl\n";
        assert_eq!(st(cert, "sendmail.tls_off"), Status::Pass);
        assert_eq!(st(cert, "sendmail.tls_protocols"), Status::Fail);
        assert_eq!(
            st(
                &format!("{cert}define(`confSERVER_SSL_OPTIONS', `+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1')dnl\n"),
                "sendmail.tls_protocols"
            ),
            Status::Warn
        );
        assert_eq!(
            st(
                &format!("{cert}define(`confSERVER_SSL_OPTIONS', `+SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1_1')dnl\n"),
                "sendmail.tls_protocols"
            ),
            Status::Fail
        );
        let inc = "include(`/etc/mail/tls/starttls.m4')dnl\n";
        assert_eq!(st(inc, "sendmail.tls_off"), Status::Unknown);
        assert_eq!(st(inc, "sendmail.tls_protocols"), Status::Unknown);
    }

    #[test]
    fn limits_delay_size_logging_banner() {
        assert_eq!(st("", "sendmail.rate_limits"), Status::Fail);
        assert_eq!(
            st(
                "define(`confCONNECTION_RATE_THROTTLE', `15')dnl\n",
                "sendmail.rate_limits"
            ),
            Status::Pass
        );
        assert_eq!(
            st(
                "FEATURE(`ratecontrol', `nodelay', `terminate')dnl\n",
                "sendmail.rate_limits"
            ),
            Status::Pass
        );
        assert_eq!(st("", "sendmail.greeting_delay"), Status::Fail);
        assert_eq!(
            st(
                "FEATURE(`greet_pause', `700')dnl\n",
                "sendmail.greeting_delay"
            ),
            Status::Pass
        );
        assert_eq!(
            st("FEATURE(`greet_pause')dnl\n", "sendmail.greeting_delay"),
            Status::Warn
        );
        assert_eq!(st("", "sendmail.size_limit"), Status::Fail);
        assert_eq!(
            st(
                "define(`confMAX_MESSAGE_SIZE', `209715200')dnl\n",
                "sendmail.size_limit"
            ),
            Status::Fail
        );
        assert_eq!(
            st(
                "define(`confMAX_MESSAGE_SIZE', `10000000')dnl\n",
                "sendmail.size_limit"
            ),
            Status::Pass
        );
        assert_eq!(st("", "sendmail.logging"), Status::Pass);
        assert_eq!(
            st("define(`confLOG_LEVEL', `6')dnl\n", "sendmail.logging"),
            Status::Fail
        );
        assert_eq!(st("", "sendmail.banner_disclosure"), Status::Fail);
        assert_eq!(
            st(
                "define(`confSMTP_LOGIN_MSG', `$j ESMTP')dnl\n",
                "sendmail.banner_disclosure"
            ),
            Status::Pass
        );
    }

    #[test]
    fn cf_defaults_are_the_binary_ones() {
        let parts = [Input::new(
            "sendmail.cf",
            "V10/Berkeley\nO LogLevel=5\nO PrivacyOptions=goaway\n",
        )];
        let fs = check(&Model::build(&parts), None, &parts).0;
        assert_eq!(get(&fs, "sendmail.logging").status, Status::Fail);
        assert_eq!(get(&fs, "sendmail.vrfy_expn").status, Status::Pass);
        let b = get(&fs, "sendmail.banner_disclosure");
        assert_eq!(b.status, Status::Fail);
        assert!(b.detail.contains("ready at"), "{}", b.detail);
        assert!(
            b.remediation.starts_with("O SmtpGreetingMessage="),
            "{}",
            b.remediation
        );
    }
}
