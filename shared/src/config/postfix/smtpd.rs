//! What the SMTP server allows: smuggling, authentication, VRFY, limits,
//! banner, HELO, greeting delay, DNSBL result filters, DKIM signing.

use super::defaults::{BARE_NEWLINE, BARE_NEWLINE_NORMALIZE};
use super::fix::{raw, set, Remedy, WithRemedy};
use super::{list, Ctx, Value, View};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub static POSTFIX_SMUGGLING: Rule = Rule {
    id: "postfix.smuggling",
    area: Area::Config,
    title: "SMTP smuggling (bare newlines accepted)",
    severity: Severity::Critical,
    description: "smtpd_forbid_bare_newline is effectively no (the default before Postfix 3.9, and the \
        only state of releases that lack the parameter) and the short-term workaround is not in place, \
        so a sender can smuggle a forged second message past SPF/DMARC (CVE-2023-51764). Warn when only \
        the short-term workaround (smtpd_data_restrictions = reject_unauth_pipelining plus \
        smtpd_discard_ehlo_keywords = chunking) protects the server.",
    refs: &[
        "https://www.postfix.org/smtp-smuggling.html",
        "https://www.postfix.org/postconf.5.html#smtpd_forbid_bare_newline",
        "CVE-2023-51764",
    ],
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

pub static POSTFIX_SASL_ANONYMOUS: Rule = Rule {
    id: "postfix.sasl_anonymous",
    area: Area::Config,
    title: "Anonymous SASL logins allowed",
    severity: Severity::High,
    description:
        "Where SASL is enabled, smtpd_sasl_security_options (or, for AUTH after STARTTLS, \
        smtpd_sasl_tls_security_options) lacks noanonymous, so a client may authenticate without \
        credentials and be treated as permit_sasl_authenticated.",
    refs: &[
        "https://www.postfix.org/SASL_README.html",
        "https://www.postfix.org/postconf.5.html#smtpd_sasl_security_options",
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

pub static POSTFIX_RATE_LIMITS: Rule = Rule {
    id: "postfix.rate_limits",
    area: Area::Config,
    title: "Client rate limits",
    severity: Severity::Medium,
    description: "Any of smtpd_client_connection_rate_limit, smtpd_client_message_rate_limit, \
        smtpd_client_recipient_rate_limit or smtpd_client_auth_rate_limit is 0 (no limit, the default), \
        so one client can flood the server or guess passwords at full speed.",
    refs: &[
        "https://www.postfix.org/TUNING_README.html",
        "https://www.postfix.org/postconf.5.html#smtpd_client_connection_rate_limit",
        "https://www.postfix.org/anvil.8.html",
    ],
};

pub static POSTFIX_GREETING_DELAY: Rule = Rule {
    id: "postfix.greeting_delay",
    area: Area::Config,
    title: "Greeting delay (pregreet test)",
    severity: Severity::Low,
    description: "Neither postscreen (an `smtp inet ... postscreen` service with postscreen_greet_action \
        other than ignore) nor a sleep pause in the smtpd restrictions is configured, so spam bots that \
        talk before the greeting are not caught.",
    refs: &[
        "https://www.postfix.org/POSTSCREEN_README.html#pregreet",
        "https://www.postfix.org/postconf.5.html#postscreen_greet_action",
    ],
};

pub static POSTFIX_SIZE_LIMIT: Rule = Rule {
    id: "postfix.size_limit",
    area: Area::Config,
    title: "Message size limit",
    severity: Severity::Medium,
    description:
        "message_size_limit is 0 (unlimited) or above 100 MB, so a single message can fill the \
        queue's disk.",
    refs: &["https://www.postfix.org/postconf.5.html#message_size_limit"],
};

pub static POSTFIX_LOGGING: Rule = Rule {
    id: "postfix.logging",
    area: Area::Config,
    title: "Logging of TLS sessions and log files",
    severity: Severity::Low,
    description: "smtpd_tls_loglevel = 0 (the default: TLS sessions are not logged), or maillog_file \
        writes to a file that Postfix never rotates by itself (warn: schedule `postfix logrotate`). \
        Info otherwise: forwarding of the logs to a remote syslog or SIEM is configured outside \
        Postfix and cannot be seen here.",
    refs: &[
        "https://www.postfix.org/postconf.5.html#smtpd_tls_loglevel",
        "https://www.postfix.org/MAILLOG_README.html",
        "NIST SP 800-92",
    ],
};

pub static POSTFIX_BANNER_DISCLOSURE: Rule = Rule {
    id: "postfix.banner_disclosure",
    area: Area::Config,
    title: "SMTP banner discloses software",
    severity: Severity::Low,
    description:
        "smtpd_banner shows $mail_name, $mail_version or the operating system (the default \
        banner shows $mail_name), which tells attackers which exploits to try.",
    refs: &["https://www.postfix.org/postconf.5.html#smtpd_banner"],
};

pub static POSTFIX_HELO_REQUIRED: Rule = Rule {
    id: "postfix.helo_required",
    area: Area::Config,
    title: "HELO/EHLO required",
    severity: Severity::Low,
    description:
        "smtpd_helo_required is not yes, so clients may skip HELO/EHLO and HELO restrictions \
        never apply.",
    refs: &["https://www.postfix.org/postconf.5.html#smtpd_helo_required"],
};

pub static POSTFIX_DNSBL_CODES: Rule = Rule {
    id: "postfix.dnsbl_codes",
    area: Area::Config,
    title: "DNSBL without a result filter",
    severity: Severity::Medium,
    description: "reject_rbl_client, reject_rhsbl_* or postscreen_dnsbl_sites use Spamhaus (or another \
        list that answers errors with 127.x codes, such as URIBL or SURBL) without a result filter such \
        as =127.0.0.[2..11]: when the list refuses the query (public resolver, over quota) every client \
        is rejected.",
    refs: &[
        "https://www.postfix.org/postconf.5.html#reject_rbl_client",
        "https://www.postfix.org/postconf.5.html#postscreen_dnsbl_sites",
        "https://docs.spamhaus.com/datasets/docs/source/40-real-world-usage/PublicMirrors/MTAs/020-Postfix.html",
    ],
};

pub static POSTFIX_DKIM_SIGNING: Rule = Rule {
    id: "postfix.dkim_signing",
    area: Area::Config,
    title: "DKIM signing of outgoing mail",
    severity: Severity::Medium,
    description: "No milter (smtpd_milters/non_smtpd_milters, in main.cf or a master.cf service) that \
        could sign outgoing mail, so receivers cannot verify it and DMARC relies on SPF alone. Warn when \
        only a content_filter (e.g. amavis, which can sign) is configured.",
    refs: &[
        "https://www.postfix.org/MILTER_README.html",
        "RFC 6376",
        "NIST SP 800-177r1 §4.5",
    ],
};

/// Views to judge: the smtpd services, or main.cf when there are none.
fn views<'a, 'b>(ctx: &'a Ctx<'b>) -> Vec<&'a View<'b>> {
    if ctx.views.is_empty() {
        vec![&ctx.main]
    } else {
        ctx.views.iter().collect()
    }
}

/// One parameter judged per service: the first service where `bad` holds
/// is the one described; the remedy sets `good` wherever `bad` holds.
/// Otherwise the rule passes with the values seen.
fn simple(
    ctx: &Ctx,
    rule: &'static Rule,
    name: &str,
    bad: impl Fn(&Value) -> Option<String>,
    pass: &str,
    good: &str,
    remedy: Remedy,
) -> Finding {
    let mut ev = Vec::new();
    let mut failed = None;
    let mut remedy = remedy;
    for v in views(ctx) {
        let val = v.get(name);
        if let Some(why) = bad(&val) {
            remedy.push(set(v, name, good));
            failed.get_or_insert((format!("For {}, {why}", v.label()), val.evidence()));
            continue;
        }
        ev.extend(val.evidence());
    }
    if let Some((detail, ev)) = failed {
        return rule
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    ev.dedup();
    rule.finding(Status::Pass, pass).with_evidences(ev)
}

pub(crate) fn vrfy(ctx: &Ctx) -> Finding {
    simple(
        ctx,
        &POSTFIX_VRFY_ENABLED,
        "disable_vrfy_command",
        |v| {
            (!v.is_yes()).then(|| {
                "Postfix answers VRFY, so anyone can test which addresses exist on this server — a \
                 gift to spammers and to password-guessing attacks."
                    .into()
            })
        },
        "VRFY is disabled (disable_vrfy_command = yes).",
        "yes",
        Remedy::new(),
    )
}

pub(crate) fn helo_required(ctx: &Ctx) -> Finding {
    simple(
        ctx,
        &POSTFIX_HELO_REQUIRED,
        "smtpd_helo_required",
        |v| {
            (!v.is_yes()).then(|| {
                "clients may send mail without introducing themselves with HELO/EHLO, which \
                 many spam bots do; HELO-based restrictions then never apply."
                    .into()
            })
        },
        "Every smtpd service requires HELO/EHLO (smtpd_helo_required = yes).",
        "yes",
        Remedy::new(),
    )
}

/// 100 MB.
const SIZE_CAP: u64 = 100 * 1024 * 1024;

/// mailbox_size_limit and virtual_mailbox_limit unless set.
const MAILBOX_DEFAULT: &str = "51200000";

/// What the fix sets: 50 MB.
const SIZE_FIX: u64 = 50 * 1024 * 1024;

pub(crate) fn size_limit(ctx: &Ctx) -> Finding {
    // local(8) and virtual(8) stop with a configuration error when their
    // mailbox limit is below message_size_limit: stay under both.
    let mut good = SIZE_FIX;
    let mut context = "50 MB".to_string();
    for n in ["mailbox_size_limit", "virtual_mailbox_limit"] {
        let val = ctx.main.get(n);
        // Both default to 51200000 in every release.
        let text = if val.exists {
            val.text
        } else {
            MAILBOX_DEFAULT.into()
        };
        if let Ok(limit) = text.trim().parse::<u64>() {
            if limit > 0 && limit < good {
                good = limit;
                context = format!("no more than {n}, which must not be smaller");
            }
        }
    }
    let good = good.to_string();
    simple(
        ctx,
        &POSTFIX_SIZE_LIMIT,
        "message_size_limit",
        |v| match v.text.trim().parse::<u64>() {
            Ok(0) => Some(
                "message_size_limit = 0 means no limit: one message can fill the mail queue's \
                 disk and stop all mail."
                    .into(),
            ),
            Ok(n) if n > SIZE_CAP => Some(format!(
                "message_size_limit = {n} bytes ({} MB) is above 100 MB; messages that large can \
                 fill the queue's disk quickly and most receivers refuse them anyway.",
                n / (1024 * 1024)
            )),
            Ok(_) => None,
            Err(_) => Some(format!(
                "message_size_limit = {:?} is not a number; Postfix stops with a configuration \
                 error.",
                v.text
            )),
        },
        "message_size_limit is set and at most 100 MB.",
        &good,
        Remedy::new().context(context),
    )
}

pub(crate) fn rate_limits(ctx: &Ctx) -> Finding {
    let names: Vec<&str> = [
        "smtpd_client_connection_rate_limit",
        "smtpd_client_message_rate_limit",
        "smtpd_client_recipient_rate_limit",
        "smtpd_client_auth_rate_limit",
    ]
    .into_iter()
    .filter(|n| *n != "smtpd_client_auth_rate_limit" || ctx.version.series_at_least(3, 1))
    .collect();
    let mut ev_pass = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new().context("per client and minute; anvil_rate_time_unit = 60s");
    for v in views(ctx) {
        let mut off = Vec::new();
        let mut ev = Vec::new();
        for n in &names {
            let val = v.get(n);
            if val.text.trim().parse::<u64>().map_or(true, |x| x == 0) {
                off.push(*n);
                ev.extend(val.evidence());
                remedy.push(set(
                    v,
                    n,
                    match *n {
                        "smtpd_client_connection_rate_limit" => "30",
                        "smtpd_client_message_rate_limit" => "60",
                        "smtpd_client_recipient_rate_limit" => "200",
                        _ => "10",
                    },
                ));
            } else {
                ev_pass.extend(val.evidence());
            }
        }
        if !off.is_empty() && failed.is_none() {
            failed = Some((
                format!(
                    "For {}, {} {} 0 (no limit): a single client can open connections, send \
                     messages or try passwords as fast as it likes.",
                    v.label(),
                    off.join(", "),
                    if off.len() == 1 { "is" } else { "are" }
                ),
                ev,
            ));
        }
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_RATE_LIMITS
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    ev_pass.dedup();
    POSTFIX_RATE_LIMITS
        .finding(
            Status::Pass,
            "Connection, message, recipient and authentication rates per client are limited.",
        )
        .with_evidences(ev_pass)
}

pub(crate) fn logging(ctx: &Ctx) -> Finding {
    let mut ev_ok = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new();
    for v in views(ctx) {
        let level = v.get("smtpd_tls_loglevel");
        match level.text.trim().parse::<u32>() {
            Ok(n) if n > 0 => ev_ok.extend(level.evidence()),
            _ => {
                remedy.push(set(v, "smtpd_tls_loglevel", "1"));
                failed.get_or_insert((
                    format!(
                        "For {}, smtpd_tls_loglevel = {} logs nothing about TLS: the logs \
                         cannot show which clients used encryption, with which protocol, or \
                         why a handshake failed.",
                        v.label(),
                        level.text
                    ),
                    level.evidence(),
                ));
            }
        }
    }
    if let Some((detail, ev)) = failed {
        // The client side too, unless it already logs.
        if !ctx
            .main
            .get("smtp_tls_loglevel")
            .text
            .trim()
            .parse::<u32>()
            .is_ok_and(|n| n > 0)
        {
            remedy.push(set(&ctx.main, "smtp_tls_loglevel", "1"));
        }
        return POSTFIX_LOGGING
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    let file = ctx.main.get("maillog_file");
    let path = file.text.trim();
    if !path.is_empty() && !path.starts_with("/dev/") {
        return POSTFIX_LOGGING
            .finding(
                Status::Warn,
                format!(
                    "maillog_file = {path}: Postfix writes its log there through postlogd but never \
                     rotates it by itself, so unless `postfix logrotate` (or logrotate with a \
                     reload) runs regularly, the file grows until the disk is full."
                ),
            )
            .with_evidences(file.evidence())
            .with_remediation(
                "Rotate it daily, e.g. in root's crontab:\n0 0 * * * /usr/sbin/postfix logrotate\n\
                 (maillog_file_rotate_suffix sets the name of the rotated files)",
            );
    }
    ev_ok.dedup();
    POSTFIX_LOGGING
        .finding(
            Status::Info,
            "TLS sessions are logged. Whether the logs are forwarded to a remote syslog server or \
             SIEM is configured in the system's syslog (rsyslog, journald), not in Postfix, so it \
             cannot be seen here — forward them so an intruder cannot erase the trail.",
        )
        .with_evidences(ev_ok)
}

pub(crate) fn banner_disclosure(ctx: &Ctx) -> Finding {
    const OS: &[&str] = &[
        "debian",
        "ubuntu",
        "centos",
        "red hat",
        "redhat",
        "rhel",
        "fedora",
        "freebsd",
        "openbsd",
        "netbsd",
        "suse",
        "gentoo",
        "alpine",
        "linux",
        "gnu",
        "raspbian",
        "almalinux",
        "rocky",
        "windows",
        "darwin",
        "macos",
    ];
    let mut ev_pass = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new();
    for v in views(ctx) {
        let b = v.get("smtpd_banner");
        let lower = b.text.to_ascii_lowercase();
        let mail_name = v.get("mail_name").text.to_ascii_lowercase();
        let shows = if b.ref_names.iter().any(|n| n == "mail_version") {
            Some("the Postfix version ($mail_version)".to_string())
        } else if b.ref_names.iter().any(|n| n == "mail_name")
            || (!mail_name.is_empty() && lower.contains(&mail_name))
            || lower.contains("postfix")
        {
            Some("the software name ($mail_name = Postfix)".to_string())
        } else {
            OS.iter()
                .find(|o| {
                    lower
                        .split(|c: char| !c.is_ascii_alphanumeric() && c != ' ')
                        .any(|w| {
                            w.split(' ').any(|x| x == **o) || (o.contains(' ') && w.contains(**o))
                        })
                })
                .map(|o| format!("the operating system ({o})"))
        };
        if let Some(what) = shows {
            remedy.push(set(v, "smtpd_banner", "$myhostname ESMTP"));
            failed.get_or_insert((
                format!(
                    "For {}, the greeting every client sees (\"220 {}\") shows {what}. That tells \
                     an attacker which exploits to try; RFC 5321 needs only the host name.",
                    v.label(),
                    b.text
                ),
                b.evidence(),
            ));
            continue;
        }
        ev_pass.extend(b.evidence());
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_BANNER_DISCLOSURE
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    ev_pass.dedup();
    POSTFIX_BANNER_DISCLOSURE
        .finding(
            Status::Pass,
            "The SMTP greeting shows the host name only, not the software, version or OS.",
        )
        .with_evidences(ev_pass)
}

pub(crate) fn auth_plaintext(ctx: &Ctx) -> Finding {
    let mut any_sasl = false;
    let mut ev_pass = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new()
        .note("(or, for a submission service, -o smtpd_tls_security_level=encrypt in master.cf)");
    for v in views(ctx) {
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
            || level.lower() == "encrypt"
            || wrapper.is_yes()
            || (level.text.trim().is_empty() && enforce.is_yes());
        let mut ev = sasl.evidence();
        ev.extend(v.service_evidence());
        ev.extend(auth_only.evidence());
        ev.extend(level.evidence());
        if !protected {
            remedy.push(set(v, "smtpd_tls_auth_only", "yes"));
            failed.get_or_insert((
                format!(
                    "For {}, SASL authentication is offered before the client has switched \
                     to TLS, so user names and passwords can be read off the network.",
                    v.label()
                ),
                ev,
            ));
            continue;
        }
        ev_pass.extend(ev);
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_AUTH_PLAINTEXT
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    if !any_sasl {
        return POSTFIX_AUTH_PLAINTEXT.finding(
            Status::Pass,
            "No smtpd service enables SASL authentication, so no password is ever asked for.",
        );
    }
    ev_pass.dedup();
    POSTFIX_AUTH_PLAINTEXT
        .finding(
            Status::Pass,
            "Every service that offers SASL authentication requires TLS first.",
        )
        .with_evidences(ev_pass)
}

pub(crate) fn sasl_anonymous(ctx: &Ctx) -> Finding {
    let mut any = false;
    let mut ev_pass = Vec::new();
    let mut failed = None;
    let mut remedy = Remedy::new();
    for v in views(ctx) {
        if !v.get("smtpd_sasl_auth_enable").is_yes() {
            continue;
        }
        any = true;
        if let Some((why, mut ev)) = super::relay::anonymous_sasl(v) {
            ev.extend(v.service_evidence());
            // noanonymous added to what is there; the TLS options follow
            // the plain ones when they refer to them.
            let mut fixed_plain = false;
            for name in [
                "smtpd_sasl_security_options",
                "smtpd_sasl_tls_security_options",
            ] {
                if list(&v.get(name).lower())
                    .iter()
                    .any(|x| x == "noanonymous")
                {
                    continue;
                }
                let old = raw(v, name);
                if fixed_plain
                    && [
                        "$smtpd_sasl_security_options",
                        "${smtpd_sasl_security_options}",
                    ]
                    .contains(&old.trim())
                {
                    continue;
                }
                fixed_plain |= name == "smtpd_sasl_security_options";
                let new = if old.trim().is_empty() {
                    "noanonymous".to_string()
                } else {
                    format!("{}, noanonymous", old.trim().trim_end_matches(','))
                };
                remedy.push(set(v, name, new));
            }
            failed.get_or_insert((
                format!(
                    "For {}, {why}. Anyone could then send mail as an \"authenticated\" user, \
                     including relaying to any domain.",
                    v.label()
                ),
                ev,
            ));
            continue;
        }
        ev_pass.extend(v.get("smtpd_sasl_security_options").evidence());
        ev_pass.extend(v.get("smtpd_sasl_tls_security_options").evidence());
    }
    if let Some((detail, ev)) = failed {
        return POSTFIX_SASL_ANONYMOUS
            .finding(Status::Fail, detail)
            .with_evidences(ev)
            .with_remedy(ctx, remedy);
    }
    if !any {
        return POSTFIX_SASL_ANONYMOUS.finding(
            Status::Pass,
            "No smtpd service enables SASL authentication.",
        );
    }
    ev_pass.dedup();
    POSTFIX_SASL_ANONYMOUS
        .finding(
            Status::Pass,
            "Every service with SASL refuses anonymous logins (noanonymous), with and without TLS.",
        )
        .with_evidences(ev_pass)
}

pub(crate) fn smuggling(ctx: &Ctx) -> Finding {
    let version = ctx.version;
    let supported = version.has_backported(BARE_NEWLINE.0, BARE_NEWLINE.1);
    let full = version.has_backported(BARE_NEWLINE_NORMALIZE.0, BARE_NEWLINE_NORMALIZE.1);
    let good = if full { "normalize" } else { "yes" };
    // Without the parameter there is nothing to set: an upgrade is needed.
    let manual = format!(
        "Upgrade Postfix (3.9+, or 3.8.5, 3.7.10, 3.6.14, 3.5.24 or later in your series; \
         Postfix {version} lacks the fix) and set in main.cf:\n\
         smtpd_forbid_bare_newline = normalize\n\
         Until then, the short-term workaround in main.cf:\n\
         smtpd_data_restrictions = reject_unauth_pipelining\n\
         smtpd_discard_ehlo_keywords = chunking, silent-discard"
    );
    let mut remedy = Remedy::new();
    let mut fail: Option<(String, Vec<Evidence>)> = None;
    let mut warn: Option<(String, Vec<Evidence>)> = None;
    let mut ev_pass = Vec::new();
    for v in views(ctx) {
        let val = v.get("smtpd_forbid_bare_newline");
        let lower = val.lower();
        let mut ev = val.evidence();
        let needs_fix = |remedy: &mut Remedy| {
            remedy.push(set(v, "smtpd_forbid_bare_newline", good));
            let ex = v.get("smtpd_forbid_bare_newline_exclusions");
            if ex.text.trim() != v.get("mynetworks").text.trim() {
                remedy.push(set(
                    v,
                    "smtpd_forbid_bare_newline_exclusions",
                    "$mynetworks",
                ));
            }
        };
        if supported {
            match lower.as_str() {
                "yes" | "true" => {
                    ev_pass.extend(ev);
                    continue;
                }
                "normalize" | "reject" if full => {
                    ev_pass.extend(ev);
                    continue;
                }
                "normalize" | "reject" => {
                    needs_fix(&mut remedy);
                    warn.get_or_insert((
                        format!(
                            "For {}, smtpd_forbid_bare_newline = {lower}, but Postfix {version} \
                             accepts only yes or no here (normalize and reject came with 3.9, \
                             3.8.5, 3.7.10, 3.6.14, 3.5.24), so smtpd stops with a configuration \
                             error. Use yes.",
                            v.label()
                        ),
                        ev,
                    ));
                    continue;
                }
                "no" | "false" => {}
                other => {
                    needs_fix(&mut remedy);
                    warn.get_or_insert((
                        format!(
                            "For {}, smtpd_forbid_bare_newline = {other:?} is not a value Postfix \
                             accepts (normalize, yes, reject, no); smtpd stops with a \
                             configuration error.",
                            v.label()
                        ),
                        ev,
                    ));
                    continue;
                }
            }
            needs_fix(&mut remedy);
        }
        // Bare newlines accepted: is the short-term workaround in place?
        let data = v.get("smtpd_data_restrictions");
        let discard = v.get("smtpd_discard_ehlo_keywords");
        let pipelining = list(&data.lower())
            .iter()
            .any(|x| x == "reject_unauth_pipelining");
        let chunking = list(&discard.lower()).iter().any(|x| x == "chunking");
        ev.extend(data.evidence());
        ev.extend(discard.evidence());
        let why_open = if supported {
            format!(
                "smtpd_forbid_bare_newline is no{}",
                if val.is_set() {
                    ""
                } else {
                    " (the default before 3.9)"
                }
            )
        } else {
            format!(
                "Postfix {version} predates smtpd_forbid_bare_newline{}",
                if val.is_set() {
                    " (the setting has no effect in this release)"
                } else {
                    ""
                }
            )
        };
        if pipelining && chunking {
            warn.get_or_insert((
                format!(
                    "For {}, {why_open}; only the short-term workaround (reject_unauth_pipelining \
                     and no CHUNKING) is in place. It stops the known smuggling variants but not \
                     every bare-newline trick.",
                    v.label()
                ),
                ev,
            ));
            continue;
        }
        fail.get_or_insert((
            format!(
                "For {}, {why_open}, so this server accepts a bare newline as end of line. A \
                 sender at another provider can smuggle a second, forged message (\"From: \
                 anyone@your-domain\") through it that passes SPF and DMARC (CVE-2023-51764).",
                v.label()
            ),
            ev,
        ));
    }
    let (status, (detail, ev)) = match (fail, warn) {
        (Some(f), _) => (Status::Fail, f),
        (None, Some(w)) => (Status::Warn, w),
        (None, None) => {
            ev_pass.dedup();
            return POSTFIX_SMUGGLING
                .finding(
                    Status::Pass,
                    "Bare newlines are not accepted as line endings (smtpd_forbid_bare_newline is \
                     normalize, yes or reject), which stops SMTP smuggling.",
                )
                .with_evidences(ev_pass);
        }
    };
    let f = POSTFIX_SMUGGLING.finding(status, detail).with_evidences(ev);
    if supported {
        f.with_remedy(ctx, remedy)
    } else {
        f.with_remediation(manual)
    }
}

pub(crate) fn greeting_delay(ctx: &Ctx) -> Finding {
    // postscreen on a listener, with a pregreet action.
    let mut ev_fail = Vec::new();
    for s in ctx
        .cfg
        .services
        .iter()
        .filter(|s| s.command == "postscreen" && s.kind == "inet" && !s.is_loopback_only())
    {
        let v = View::new(ctx.cfg, Some(s), ctx.version);
        let action = v.get("postscreen_greet_action");
        let mut ev = vec![s.source.evidence()];
        ev.extend(action.evidence());
        if action.lower() != "ignore" && !action.text.trim().is_empty() {
            return POSTFIX_GREETING_DELAY
                .finding(
                    Status::Pass,
                    format!(
                        "postscreen runs on {} and acts on clients that talk before the greeting \
                         (postscreen_greet_action = {}).",
                        s.name,
                        action.lower()
                    ),
                )
                .with_evidences(ev);
        }
        ev_fail.extend(ev);
    }
    const LISTS: &[&str] = &[
        "smtpd_client_restrictions",
        "smtpd_helo_restrictions",
        "smtpd_sender_restrictions",
        "smtpd_relay_restrictions",
        "smtpd_recipient_restrictions",
        "smtpd_data_restrictions",
    ];
    let mut all_sleep = !ctx.views.is_empty();
    let mut judged: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    let mut sleep_ev = Vec::new();
    for v in &ctx.views {
        let found = LISTS.iter().map(|n| v.get(n)).find(|val| {
            // Services mostly share main.cf's lists: judge each text once.
            *judged.entry(val.text.clone()).or_insert_with(|| {
                list(&val.lower())
                    .windows(2)
                    .any(|w| w[0] == "sleep" && w[1].parse::<u32>().is_ok_and(|n| n > 0))
            })
        });
        match found {
            Some(val) => sleep_ev.extend(val.evidence()),
            None => all_sleep = false,
        }
    }
    if all_sleep {
        sleep_ev.dedup();
        return POSTFIX_GREETING_DELAY
            .finding(
                Status::Pass,
                "Every smtpd service pauses with sleep in its restrictions, which (with \
                 reject_unauth_pipelining) catches clients that do not wait for replies.",
            )
            .with_evidences(sleep_ev);
    }
    let mut ev = ev_fail;
    ev.extend(ctx.views.iter().filter_map(|v| v.service_evidence()));
    if ev.is_empty() {
        ev.push(Evidence::Config {
            file: "master.cf".into(),
            line: None,
            text: "not pasted; the stock master.cf runs smtpd, not postscreen, on port 25".into(),
        });
    }
    POSTFIX_GREETING_DELAY
        .finding(
            Status::Fail,
            "Port 25 answers at once and nothing checks whether the client waits for the greeting: \
             neither postscreen with postscreen_greet_action = enforce nor a sleep pause is \
             configured. Many spam bots talk first and are cheap to reject this way.",
        )
        .with_evidences(ev)
        .with_remediation(
            "In master.cf, replace the smtp line by:\n\
             smtp      inet  n       -       y       -       1       postscreen\n\
             smtpd     pass  -       -       y       -       -       smtpd\n\
             dnsblog   unix  -       -       y       -       0       dnsblog\n\
             tlsproxy  unix  -       -       y       -       0       tlsproxy\n\
             and in main.cf:\npostscreen_greet_action = enforce",
        )
}

/// `domain=filter*weight` / `domain&mask`: (domain, filtered).
fn split_site(site: &str) -> (&str, bool) {
    let site = site.split('*').next().unwrap_or(site);
    match site.find(['=', '&']) {
        Some(i) => {
            let filter = &site[i + 1..];
            (
                &site[..i],
                !filter.starts_with("127.255") && !filter.is_empty(),
            )
        }
        None => (site, false),
    }
}

pub(crate) fn dnsbl_codes(ctx: &Ctx) -> Finding {
    const LISTS: &[&str] = &[
        "smtpd_client_restrictions",
        "smtpd_helo_restrictions",
        "smtpd_sender_restrictions",
        "smtpd_relay_restrictions",
        "smtpd_recipient_restrictions",
        "smtpd_data_restrictions",
    ];
    let mut seen = Vec::new();
    let mut judged: std::collections::HashSet<(String, String)> = Default::default();
    let mut views: Vec<View> = ctx
        .views
        .iter()
        .map(|v| View::new(v.cfg, v.service, v.version))
        .collect();
    views.push(View::new(ctx.cfg, None, ctx.version));
    for s in ctx
        .cfg
        .services
        .iter()
        .filter(|s| s.command == "postscreen")
    {
        views.push(View::new(ctx.cfg, Some(s), ctx.version));
    }
    for v in &views {
        let classes = list(&v.get("smtpd_restriction_classes").text);
        let mut names: Vec<String> = LISTS.iter().map(|s| s.to_string()).collect();
        names.extend(classes);
        for n in &names {
            let val = v.get(n);
            // Services mostly share main.cf's lists: judge each text once.
            if !judged.insert((n.clone(), val.text.clone())) {
                continue;
            }
            let items = list(&val.text);
            for w in items.windows(2) {
                if super::relay::DNSBL_RESTRICTIONS.contains(&w[0].as_str()) {
                    let (domain, filtered) = split_site(&w[1]);
                    if crate::dns::blocklist::has_error_codes(domain) && !filtered {
                        seen.push((format!("{} {}", w[0], w[1]), val.evidence()));
                    }
                }
            }
        }
        let ps = v.get("postscreen_dnsbl_sites");
        if !judged.insert(("postscreen_dnsbl_sites".into(), ps.text.clone())) {
            continue;
        }
        for site in list(&ps.text) {
            let (domain, filtered) = split_site(&site);
            if crate::dns::blocklist::has_error_codes(domain) && !filtered {
                seen.push((format!("postscreen_dnsbl_sites {site}"), ps.evidence()));
            }
        }
    }
    if let Some((what, ev)) = seen.into_iter().next() {
        return POSTFIX_DNSBL_CODES
            .finding(
                Status::Fail,
                format!(
                    "{what} has no result filter. When the list refuses a query (queries through a \
                     public or shared resolver, or over the free quota) it answers with an error \
                     code such as 127.255.255.254 — and Postfix treats that as \"listed\", \
                     rejecting every client."
                ),
            )
            .with_evidences(ev)
            .with_remediation(
                "In main.cf, filter the answers, e.g.:\n\
                 smtpd_recipient_restrictions = ..., reject_rbl_client zen.spamhaus.org=127.0.0.[2..11], ...\n\
                 postscreen_dnsbl_sites = zen.spamhaus.org=127.0.0.[2..11]*3\n\
                 (and query Spamhaus through your own resolver or a DQS key)",
            );
    }
    POSTFIX_DNSBL_CODES.finding(
        Status::Pass,
        "No DNS blocklist with error codes is used without a result filter.",
    )
}

pub(crate) fn dkim_signing(ctx: &Ctx) -> Finding {
    let mut views: Vec<&View> = ctx.views.iter().collect();
    views.push(&ctx.main);
    let mut milters = Vec::new();
    for v in &views {
        for n in ["smtpd_milters", "non_smtpd_milters"] {
            let val = v.get(n);
            if !val.text.trim().is_empty() {
                milters.push(val);
            }
        }
    }
    if !milters.is_empty() {
        let hint = milters.iter().any(|m| {
            let l = m.lower();
            ["dkim", "rspamd", "8891", "11332"]
                .iter()
                .any(|h| l.contains(h))
        });
        let mut ev: Vec<Evidence> = milters.iter().flat_map(Value::evidence).collect();
        ev.dedup();
        return POSTFIX_DKIM_SIGNING
            .finding(
                Status::Pass,
                if hint {
                    "A milter that signs with DKIM (OpenDKIM or rspamd) is configured."
                } else {
                    "A milter is configured that can sign outgoing mail; make sure it signs with \
                     DKIM (check a sent message for a DKIM-Signature header)."
                },
            )
            .with_evidences(ev);
    }
    let filter = ctx.main.get("content_filter");
    let mut ev: Vec<Evidence> = ctx.main.get("smtpd_milters").evidence();
    ev.extend(ctx.main.get("non_smtpd_milters").evidence());
    if !filter.text.trim().is_empty() {
        ev.extend(filter.evidence());
        return POSTFIX_DKIM_SIGNING
            .finding(
                Status::Warn,
                format!(
                    "No milter is configured; only content_filter = {} could sign (amavis can, \
                     if its DKIM signing is set up) — the configuration does not show it.",
                    filter.text
                ),
            )
            .with_evidences(ev)
            .with_remediation(REMEDIATION_DKIM);
    }
    POSTFIX_DKIM_SIGNING
        .finding(
            Status::Fail,
            "No milter is configured (smtpd_milters and non_smtpd_milters are empty), so nothing \
             signs outgoing mail with DKIM. Receivers cannot verify it, and DMARC then depends on \
             SPF alone, which breaks on forwarding.",
        )
        .with_evidences(ev)
        .with_remediation(REMEDIATION_DKIM)
}

const REMEDIATION_DKIM: &str =
    "Install OpenDKIM (listening on inet:localhost:8891), then in main.cf:\n\
    milter_default_action = accept\n\
    smtpd_milters = inet:localhost:8891\n\
    non_smtpd_milters = $smtpd_milters";

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    fn st(main: &str, id: &str) -> Status {
        status(main, None, id)
    }

    #[test]
    fn vrfy_defaults_are_cited() {
        let fs = run("myhostname = mail.example.org\n", None);
        let vrfy = get(&fs, "postfix.vrfy_enabled");
        assert_eq!(vrfy.status, Status::Fail);
        match &vrfy.evidence[0] {
            Evidence::Config {
                line: None, text, ..
            } => assert!(
                text.contains("not set; default for Postfix 3.10 is \"no\""),
                "{text}"
            ),
            e => panic!("{e:?}"),
        }
        assert_eq!(
            st("disable_vrfy_command = yes\n", "postfix.vrfy_enabled"),
            Status::Pass
        );
    }

    #[test]
    fn auth_plaintext_per_service() {
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
            |e| matches!(e, Evidence::Config { file, line: Some(4), .. } if file == "master.cf")
        ));
        let fixed = master.replace(
            "-o smtpd_sasl_auth_enable=yes",
            "-o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_security_level=encrypt",
        );
        let fs = run("disable_vrfy_command = yes\n", Some(&fixed));
        assert_eq!(get(&fs, "postfix.auth_plaintext").status, Status::Pass);
        assert_eq!(
            st(
                "smtpd_sasl_auth_enable = yes\nsmtpd_enforce_tls = yes\n",
                "postfix.auth_plaintext"
            ),
            Status::Pass,
            "legacy enforce"
        );
    }

    #[test]
    fn sasl_anonymous() {
        let id = "postfix.sasl_anonymous";
        assert_eq!(st("smtpd_sasl_auth_enable = yes\n", id), Status::Pass);
        assert_eq!(
            st("smtpd_sasl_security_options = noplaintext\n", id),
            Status::Pass,
            "SASL off"
        );
        assert_eq!(
            st(
                "smtpd_sasl_auth_enable = yes\nsmtpd_sasl_security_options = noplaintext\n",
                id
            ),
            Status::Fail
        );
        assert_eq!(
            st(
                "smtpd_sasl_auth_enable = yes\nsmtpd_sasl_tls_security_options = noplaintext\n",
                id
            ),
            Status::Fail,
            "after STARTTLS"
        );
        assert_eq!(
            st("smtpd_sasl_auth_enable = yes\nsmtpd_sasl_security_options = noanonymous, noplaintext\nsmtpd_sasl_tls_security_options = noanonymous\n", id),
            Status::Pass
        );
        assert_eq!(
            status("", Some("submission inet n - y - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_security_options=\n"), id),
            Status::Fail,
            "emptied by an override"
        );
    }

    #[test]
    fn smuggling_by_version() {
        let id = "postfix.smuggling";
        let sv = |main: &str, v: &str| get(&run_v(main, None, Some(v)), id).status;
        assert_eq!(sv("", "3.10"), Status::Pass, "3.9+ default normalize");
        let fs = run_v("", None, Some("3.7.11"));
        let f = get(&fs, id);
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence.iter().any(|e| matches!(e, Evidence::Config { text, .. } if text.contains("default for Postfix 3.7.11 is \"no\""))));
        assert_eq!(
            sv("smtpd_forbid_bare_newline = normalize\n", "3.7.11"),
            Status::Pass
        );
        assert_eq!(
            sv("smtpd_forbid_bare_newline = yes\n", "3.7.9"),
            Status::Pass
        );
        assert_eq!(
            sv("smtpd_forbid_bare_newline = normalize\n", "3.7.9"),
            Status::Warn,
            "only yes/no in 3.7.9"
        );
        assert_eq!(
            sv("smtpd_forbid_bare_newline = yes\n", "3.7.8"),
            Status::Fail,
            "no such parameter"
        );
        let workaround = "smtpd_data_restrictions = reject_unauth_pipelining\nsmtpd_discard_ehlo_keywords = chunking, silent-discard\n";
        assert_eq!(sv(workaround, "3.7.8"), Status::Warn);
        assert_eq!(sv(workaround, "3.8.4"), Status::Warn);
        assert_eq!(
            sv(
                "smtpd_data_restrictions = reject_unauth_pipelining\n",
                "3.4.14"
            ),
            Status::Fail
        );
        assert_eq!(
            sv("smtpd_forbid_bare_newline = no\n", "3.10.1"),
            Status::Fail
        );
        // A master.cf override weakening main.cf.
        let fs = run_v(
            "smtpd_forbid_bare_newline = normalize\n",
            Some("smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n  -o smtpd_forbid_bare_newline=no\n"),
            Some("3.9.1"),
        );
        let f = get(&fs, id);
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("submission"));
        assert!(f.evidence.iter().any(
            |e| matches!(e, Evidence::Config { file, line: Some(3), .. } if file == "master.cf")
        ));
        // mail_version in the input.
        assert_eq!(st("mail_version = 3.8.3\n", id), Status::Fail);
    }

    #[test]
    fn simple_rules() {
        assert_eq!(
            st("smtpd_helo_required = yes\n", "postfix.helo_required"),
            Status::Pass
        );
        assert_eq!(st("", "postfix.helo_required"), Status::Fail);
        assert_eq!(
            st("", "postfix.size_limit"),
            Status::Pass,
            "default 10240000"
        );
        assert_eq!(
            st("message_size_limit = 0\n", "postfix.size_limit"),
            Status::Fail
        );
        assert_eq!(
            st("message_size_limit = 209715200\n", "postfix.size_limit"),
            Status::Fail
        );
        assert_eq!(
            st("message_size_limit = 52428800\n", "postfix.size_limit"),
            Status::Pass
        );
        let lim = "smtpd_client_connection_rate_limit = 30\nsmtpd_client_message_rate_limit = 60\nsmtpd_client_recipient_rate_limit = 200\nsmtpd_client_auth_rate_limit = 10\n";
        assert_eq!(st(lim, "postfix.rate_limits"), Status::Pass);
        let f = get(
            &run(&lim.replace("= 10\n", "= 0\n"), None),
            "postfix.rate_limits",
        )
        .clone();
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("smtpd_client_auth_rate_limit"));
        assert!(f.remediation.contains("smtpd_client_auth_rate_limit = 10"));
        assert_eq!(
            get(
                &run_v(
                    &lim.replace("smtpd_client_auth_rate_limit = 10\n", ""),
                    None,
                    Some("3.0.15")
                ),
                "postfix.rate_limits"
            )
            .status,
            Status::Pass,
            "no auth rate limit before 3.1"
        );
    }

    #[test]
    fn logging() {
        let id = "postfix.logging";
        assert_eq!(st("", id), Status::Fail, "default 0");
        assert_eq!(st("smtpd_tls_loglevel = 1\n", id), Status::Info);
        assert_eq!(
            st("smtpd_tls_loglevel = 1\nmaillog_file = /dev/stdout\n", id),
            Status::Info
        );
        assert_eq!(
            st(
                "smtpd_tls_loglevel = 1\nmaillog_file = /var/log/postfix.log\n",
                id
            ),
            Status::Warn
        );
        assert_eq!(
            status(
                "smtpd_tls_loglevel = 1\n",
                Some("smtp inet n - y - - smtpd -o smtpd_tls_loglevel=0\n"),
                id
            ),
            Status::Fail
        );
    }

    #[test]
    fn banner() {
        let id = "postfix.banner_disclosure";
        assert_eq!(st("", id), Status::Fail, "default shows $mail_name");
        assert_eq!(st("smtpd_banner = $myhostname ESMTP\n", id), Status::Pass);
        assert_eq!(
            st("smtpd_banner = $myhostname ESMTP (Debian/GNU)\n", id),
            Status::Fail
        );
        assert_eq!(
            st(
                "smtpd_banner = $myhostname ESMTP $v\nv = ${mail_version}\n",
                id
            ),
            Status::Fail
        );
        assert_eq!(
            st("smtpd_banner = $myhostname ESMTP ready\n", id),
            Status::Pass
        );
        assert_eq!(
            status(
                "smtpd_banner = $myhostname ESMTP\n",
                Some("smtp inet n - y - - smtpd -o { smtpd_banner = $myhostname $mail_name }\n"),
                id
            ),
            Status::Fail
        );
    }

    #[test]
    fn greeting() {
        let id = "postfix.greeting_delay";
        assert_eq!(st("", id), Status::Fail);
        assert_eq!(
            st(
                "smtpd_client_restrictions = sleep 1, reject_unauth_pipelining\n",
                id
            ),
            Status::Pass
        );
        let ps = "smtp inet n - y - 1 postscreen\nsmtpd pass - - y - - smtpd\n";
        assert_eq!(
            status("", Some(ps), id),
            Status::Fail,
            "greet action ignore"
        );
        assert_eq!(
            status("postscreen_greet_action = enforce\n", Some(ps), id),
            Status::Pass
        );
    }

    #[test]
    fn dnsbl() {
        let id = "postfix.dnsbl_codes";
        assert_eq!(st("", id), Status::Pass);
        assert_eq!(st("smtpd_recipient_restrictions = reject_unauth_destination, reject_rbl_client zen.spamhaus.org\n", id), Status::Fail);
        assert_eq!(st("smtpd_recipient_restrictions = reject_unauth_destination, reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]\n", id), Status::Pass);
        assert_eq!(st("smtpd_recipient_restrictions = reject_unauth_destination, reject_rbl_client bl.spamcop.net\n", id), Status::Pass);
        assert_eq!(
            st(
                "postscreen_dnsbl_sites = zen.spamhaus.org*3 bl.spamcop.net\n",
                id
            ),
            Status::Fail
        );
        assert_eq!(
            st(
                "postscreen_dnsbl_sites = zen.spamhaus.org=127.0.0.[2..11]*3\n",
                id
            ),
            Status::Pass
        );
        assert_eq!(
            st(
                "smtpd_sender_restrictions = reject_rhsbl_sender dbl.spamhaus.org\n",
                id
            ),
            Status::Fail
        );
    }

    #[test]
    fn dkim() {
        let id = "postfix.dkim_signing";
        assert_eq!(st("", id), Status::Fail);
        assert_eq!(
            st("smtpd_milters = inet:localhost:8891\n", id),
            Status::Pass
        );
        assert_eq!(
            st("content_filter = smtp-amavis:[127.0.0.1]:10024\n", id),
            Status::Warn
        );
        assert_eq!(
            status(
                "",
                Some("submission inet n - y - - smtpd -o smtpd_milters=unix:/run/opendkim.sock\n"),
                id
            ),
            Status::Pass
        );
    }
}
