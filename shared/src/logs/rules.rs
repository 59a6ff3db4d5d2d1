//! The `logs.*` rules, decided from what [`super::LogAnalyzer`] kept.
//!
//! Thresholds are the catalog's: 5 failed logins from one address within
//! 10 minutes; 10 user names from one address or 10 addresses for one user
//! name; an authenticated sender's hour above 5x that sender's median over
//! the hours of the log window (hours without mail count as 0 — a sender
//! quiet most of the day has median 0, so the floor of 50 recipients an hour
//! decides) and at least 50; deferred and bounced deliveries in the last
//! quarter of the window at least twice the first quarter and at least 20.
//!
//! Evidence: a table per finding (as a note, one row per address, user or
//! sender) and the log lines themselves (file, line number, text): the line
//! where an address reached the threshold, a spike hour's first line, a
//! reason's first occurrence.

use super::parse::Format;
use super::{LogAnalyzer, LogStats};
use crate::config::fail2ban::jails::jail_snippet;
use crate::config::Software;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub const BRUTE_COUNT: usize = 5;
pub const BRUTE_WINDOW: i64 = 600;
pub const SPRAY: usize = 10;
pub const SPIKE_FACTOR: f64 = 5.0;
pub const SPIKE_MIN: u64 = 50;
pub const QUEUE_FACTOR: u64 = 2;
pub const QUEUE_MIN: u64 = 20;

/// Rows in a table of evidence.
const ROWS: usize = 10;

pub static LOGS_AUTH_BRUTEFORCE: Rule = Rule {
    id: "logs.auth_bruteforce",
    area: Area::Config,
    title: "Password guessing against SMTP AUTH",
    severity: Severity::High,
    description:
        "One client IP has 5 or more failed SASL logins within 10 minutes; the finding lists \
        the addresses, their counts, and when each was first and last seen.",
    refs: &[
        "https://attack.mitre.org/techniques/T1110/001/",
        "NIST SP 800-63B §5.2.2 (rate limiting)",
        "https://www.postfix.org/postconf.5.html#smtpd_client_auth_rate_limit",
    ],
};

pub static LOGS_AUTH_SPRAY: Rule = Rule {
    id: "logs.auth_spray",
    area: Area::Config,
    title: "Password spraying (many users or many addresses)",
    severity: Severity::High,
    description:
        "10 or more distinct user names fail to log in from one IP, or one user name fails \
        from 10 or more IPs, within the log: someone knows or guesses the accounts and tries them \
        slowly or from a botnet.",
    refs: &[
        "https://attack.mitre.org/techniques/T1110/003/",
        "NIST SP 800-63B §5.2.2 (rate limiting)",
    ],
};

pub static LOGS_RELAY_ATTEMPTS: Rule = Rule {
    id: "logs.relay_attempts",
    area: Area::Config,
    title: "Open-relay probing",
    severity: Severity::Info,
    description: "External clients were refused relaying (`Relay access denied`, Exim `relay not \
        permitted`, Sendmail `Relaying denied`, Exchange `5.7.54 Unable to relay`): someone is \
        probing for an open relay. Info with the counts; pass when there are none.",
    refs: &[
        "RFC 5321 §7.1",
        "https://www.postfix.org/SMTPD_ACCESS_README.html",
    ],
};

pub static LOGS_OUTBOUND_SPIKE: Rule = Rule {
    id: "logs.outbound_spike",
    area: Area::Config,
    title: "Sending spike by an authenticated account",
    severity: Severity::High,
    description: "An authenticated sender's recipients in one hour exceed 5x that sender's median \
        over the hours of the log (and at least 50): the account may be compromised and sending \
        spam.",
    refs: &[
        "https://attack.mitre.org/techniques/T1078/",
        "https://www.postfix.org/postconf.5.html#smtpd_client_recipient_rate_limit",
    ],
};

pub static LOGS_QUEUE_GROWTH: Rule = Rule {
    id: "logs.queue_growth",
    area: Area::Config,
    title: "Growing deferred and bounced deliveries",
    severity: Severity::Medium,
    description:
        "Deferred or bounced deliveries in the last quarter of the log window are at least \
        twice those of the first quarter (and at least 20); the finding gives the top reasons \
        (blocklisting, TLS failures, timeouts).",
    refs: &["https://www.postfix.org/QSHAPE_README.html", "RFC 3463"],
};

pub static LOGS_TLS_FAILURES: Rule = Rule {
    id: "logs.tls_failures",
    area: Area::Config,
    title: "TLS handshake failures",
    severity: Severity::Low,
    description: "Inbound or outbound TLS handshakes failed, listed by peer: outdated clients or \
        servers, scanners, or a certificate or protocol setting that peers cannot use.",
    refs: &[
        "RFC 3207",
        "RFC 8996",
        "https://www.postfix.org/TLS_README.html",
    ],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &LOGS_AUTH_BRUTEFORCE,
    &LOGS_AUTH_SPRAY,
    &LOGS_RELAY_ATTEMPTS,
    &LOGS_OUTBOUND_SPIKE,
    &LOGS_QUEUE_GROWTH,
    &LOGS_TLS_FAILURES,
];

/// The spike condition for one hour.
pub fn is_spike(count: u64, median: f64) -> bool {
    count >= SPIKE_MIN && count as f64 > SPIKE_FACTOR * median
}

/// The mail software that wrote most of the log.
fn software(a: &LogAnalyzer) -> Option<Software> {
    let mut best: Option<(u64, Software)> = None;
    for (i, f) in Format::ALL.iter().enumerate() {
        let sw = match f {
            Format::Postfix => Software::Postfix,
            Format::Exim => Software::Exim,
            Format::Sendmail => Software::Sendmail,
            Format::ExchangeProtocol | Format::ExchangeTracking => Software::Exchange,
            Format::OtherMail => continue,
        };
        let n = a.formats[i];
        if n > 0 && best.is_none_or(|(b, _)| n > b) {
            best = Some((n, sw));
        }
    }
    best.map(|(_, s)| s)
}

/// Lines of a mail server (not only Dovecot and friends).
fn mta_lines(a: &LogAnalyzer) -> u64 {
    a.formats.iter().take(5).sum()
}

fn window(stats: &LogStats) -> String {
    match (&stats.first, &stats.last) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => "no timestamps".into(),
    }
}

fn table(header: &str, rows: Vec<String>, total: usize) -> Evidence {
    let mut text = String::from(header);
    for r in rows.iter().take(ROWS) {
        text.push('\n');
        text.push_str(r);
    }
    if total > ROWS {
        text.push_str(&format!("\n… and {} more", total - ROWS));
    }
    Evidence::Note { text }
}

fn short(t: &Option<String>) -> String {
    t.as_deref()
        .unwrap_or("?")
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

/// Findings of all six rules.
pub fn judge(a: &LogAnalyzer, stats: &LogStats) -> Vec<Finding> {
    if mta_lines(a) == 0 {
        let why = format!(
            "None of the {} lines is a Postfix, Exim, Sendmail or Exchange log line, so the log \
             cannot show this. Paste or load the mail server's log (e.g. /var/log/mail.log, \
             Exim's mainlog, Exchange's SmtpReceive/MessageTracking logs).",
            stats.lines
        );
        return RULES
            .iter()
            .map(|r| r.finding(Status::Unknown, why.clone()))
            .collect();
    }
    let sw = software(a);
    // Message tracking logs record messages, not SMTP sessions: logins,
    // relay refusals and handshakes are not in them.
    let sessions = a.formats.iter().take(4).sum::<u64>() > 0;
    let no_sessions = |r: &'static Rule| {
        r.finding(
            Status::Unknown,
            "Only Exchange message tracking logs were given: they record messages, not SMTP \
             sessions, so logins, relay refusals and TLS handshakes are not in them. Load the \
             SMTP receive protocol logs (TransportRoles\\Logs\\FrontEnd\\ProtocolLog\\SmtpReceive) \
             too.",
        )
    };
    if !sessions {
        return vec![
            no_sessions(&LOGS_AUTH_BRUTEFORCE),
            no_sessions(&LOGS_AUTH_SPRAY),
            no_sessions(&LOGS_RELAY_ATTEMPTS),
            outbound(a, stats, sw),
            queue(a, stats, sw),
            no_sessions(&LOGS_TLS_FAILURES),
        ];
    }
    vec![
        bruteforce(a, stats, sw),
        spray(a, stats, sw),
        relay(a, stats, sw),
        outbound(a, stats, sw),
        queue(a, stats, sw),
        tls(a, stats, sw),
    ]
}

/// A ban list and a jail for the offending addresses, in the software's terms.
fn ban_remediation(sw: Option<Software>, ips: &[String]) -> String {
    let list = ips.iter().take(20).cloned().collect::<Vec<_>>();
    match sw {
        Some(Software::Exchange) => format!(
            "# PowerShell on the Exchange server: block the addresses now\n\
             New-NetFirewallRule -DisplayName \"mailaudit: SMTP password guessing\" -Direction Inbound \
             -Action Block -Protocol TCP -LocalPort 25,587 -RemoteAddress {}\n\
             # and require TLS for AUTH on client connectors; consider disabling Basic auth for SMTP\n",
            list.join(",")
        ),
        _ => {
            let jail = match sw {
                Some(Software::Exim) => "exim",
                Some(Software::Sendmail) => "sendmail-auth",
                _ => "postfix-sasl",
            };
            let mut s = jail_snippet(sw.or(Some(Software::Postfix)));
            s.push_str(&format!(
                "\n# ban the addresses seen now (fail2ban 0.10+):\n\
                 # fail2ban-client set {jail} banip {}\n",
                list.join(" ")
            ));
            if matches!(sw, None | Some(Software::Postfix)) {
                s.push_str(
                    "\n# /etc/postfix/main.cf: also slow down AUTH per client (anvil, per minute)\n\
                     smtpd_client_auth_rate_limit = 5\n",
                );
            }
            s
        }
    }
}

fn bruteforce(a: &LogAnalyzer, stats: &LogStats, sw: Option<Software>) -> Finding {
    let mut flagged: Vec<_> = a
        .ips
        .iter()
        .filter(|(_, s)| s.flag_line.is_some())
        .collect();
    if flagged.is_empty() {
        return LOGS_AUTH_BRUTEFORCE.finding(
            Status::Pass,
            format!(
                "{} failed SMTP login(s) in the log ({}); no address reached {BRUTE_COUNT} within \
                 10 minutes.",
                stats.auth_failures,
                window(stats)
            ),
        );
    }
    flagged.sort_by(|x, y| y.1.failures.cmp(&x.1.failures).then(x.0.cmp(y.0)));
    let rows: Vec<String> = flagged
        .iter()
        .map(|(ip, s)| {
            format!(
                "{ip} — {} failures, up to {}{} in 10 min — first {} — last {}",
                s.failures,
                s.peak,
                if s.peak as usize >= super::PEAK_CAP {
                    "+"
                } else {
                    ""
                },
                short(&Some(super::time::rfc3339(s.first))),
                short(&Some(super::time::rfc3339(s.last)))
            )
        })
        .collect();
    let mut ev = vec![table(
        "address — failed logins — busiest 10 minutes — first seen — last seen",
        rows,
        flagged.len(),
    )];
    for (_, s) in flagged.iter().take(3) {
        if let Some(r) = &s.flag_line {
            ev.push(a.evidence(r));
        }
    }
    let ips: Vec<String> = flagged.iter().map(|(ip, _)| ip.to_string()).collect();
    let total: u64 = flagged.iter().map(|(_, s)| s.failures).sum();
    LOGS_AUTH_BRUTEFORCE
        .finding(
            Status::Fail,
            format!(
                "{} address(es) failed to log in {BRUTE_COUNT} or more times within 10 minutes \
                 ({total} failures between them; worst: {} with {}). Someone is guessing \
                 passwords; until they are banned, every weak password is at risk.",
                flagged.len(),
                ips[0],
                flagged[0].1.failures
            ),
        )
        .with_evidences(ev)
        .with_remediation(ban_remediation(sw, &ips))
}

fn spray(a: &LogAnalyzer, _stats: &LogStats, sw: Option<Software>) -> Finding {
    let mut by_ip: Vec<_> = a
        .ips
        .iter()
        .filter(|(_, s)| s.users.len() >= SPRAY)
        .collect();
    by_ip.sort_by(|x, y| y.1.users.len().cmp(&x.1.users.len()).then(x.0.cmp(y.0)));
    let mut by_user: Vec<_> = a
        .users
        .iter()
        .filter(|(_, s)| s.ips.len() >= SPRAY)
        .collect();
    by_user.sort_by(|x, y| y.1.ips.len().cmp(&x.1.ips.len()).then(x.0.cmp(y.0)));
    let named = a.users.len();
    if by_ip.is_empty() && by_user.is_empty() {
        if a.auth_total > 0 && named == 0 {
            return LOGS_AUTH_SPRAY.finding(
                Status::Unknown,
                format!(
                    "{} failed logins, but the log names no user in them (Postfix logs \
                     sasl_username on failures only in recent releases; Exchange's protocol log \
                     never does), so spraying across accounts cannot be told from one guesser.",
                    a.auth_total
                ),
            );
        }
        return LOGS_AUTH_SPRAY.finding(
            Status::Pass,
            format!(
                "No address failed with {SPRAY} or more user names, and no user name failed from \
                 {SPRAY} or more addresses ({named} user name(s) with failures)."
            ),
        );
    }
    let cap = |n: usize| {
        if n >= super::SET_CAP {
            format!("{n}+")
        } else {
            n.to_string()
        }
    };
    let mut ev = Vec::new();
    let mut parts = Vec::new();
    if !by_ip.is_empty() {
        ev.push(table(
            "address — distinct user names — failed logins — users (sample)",
            by_ip
                .iter()
                .map(|(ip, s)| {
                    format!(
                        "{ip} — {} — {} — {}",
                        cap(s.users.len()),
                        s.failures,
                        s.users
                            .iter()
                            .take(5)
                            .map(|u| &**u)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect(),
            by_ip.len(),
        ));
        parts.push(format!(
            "{} address(es) tried {SPRAY} or more user names (most: {} with {})",
            by_ip.len(),
            by_ip[0].0,
            cap(by_ip[0].1.users.len())
        ));
        if let Some(r) = &by_ip[0].1.first_line {
            ev.push(a.evidence(r));
        }
    }
    if !by_user.is_empty() {
        ev.push(table(
            "user name — distinct addresses — failed logins",
            by_user
                .iter()
                .map(|(u, s)| format!("{u} — {} — {}", cap(s.ips.len()), s.failures))
                .collect(),
            by_user.len(),
        ));
        parts.push(format!(
            "{} user name(s) failed from {SPRAY} or more addresses (most: {} from {})",
            by_user.len(),
            by_user[0].0,
            cap(by_user[0].1.ips.len())
        ));
        if let Some(r) = &by_user[0].1.first_line {
            ev.push(a.evidence(r));
        }
    }
    let ips: Vec<String> = by_ip.iter().map(|(ip, _)| ip.to_string()).collect();
    let mut fix = String::from(
        "# The account names are known: make sure every account has a strong, unique \
         password (or an app password), disable accounts nobody uses, and rate-limit AUTH.\n",
    );
    fix.push_str(&ban_remediation(sw, &ips));
    LOGS_AUTH_SPRAY
        .finding(
            Status::Fail,
            format!(
                "{}. Spraying stays under per-address limits: one password against many \
                 accounts, or many addresses against one.",
                parts.join("; ")
            ),
        )
        .with_evidences(ev)
        .with_remediation(fix)
}

fn relay(a: &LogAnalyzer, stats: &LogStats, sw: Option<Software>) -> Finding {
    if a.relay_total == 0 {
        let internal = if a.relay_internal > 0 {
            format!(
                " ({} refusal(s) of private or loopback clients are not counted as probes)",
                a.relay_internal
            )
        } else {
            String::new()
        };
        return LOGS_RELAY_ATTEMPTS.finding(
            Status::Pass,
            format!("No external client was refused relaying{internal}."),
        );
    }
    let mut probers: Vec<_> = a.ips.iter().filter(|(_, s)| s.relay > 0).collect();
    probers.sort_by(|x, y| y.1.relay.cmp(&x.1.relay).then(x.0.cmp(y.0)));
    let mut ev = vec![table(
        "address — relay attempts refused — first seen — last seen",
        probers
            .iter()
            .map(|(ip, s)| {
                format!(
                    "{ip} — {} — {} — {}",
                    s.relay,
                    short(&Some(super::time::rfc3339(s.first))),
                    short(&Some(super::time::rfc3339(s.last)))
                )
            })
            .collect(),
        probers.len(),
    )];
    if let Some(r) = probers.first().and_then(|(_, s)| s.first_line.as_ref()) {
        ev.push(a.evidence(r));
    }
    let jail = match sw {
        Some(Software::Exim) => Some("[exim]\nenabled = true\n"),
        Some(Software::Sendmail) => Some("[sendmail-reject]\nenabled = true\n"),
        Some(Software::Exchange) => None,
        _ => Some(
            "[postfix]\nenabled = true\n# mode more (the default) matches Relay access denied\n",
        ),
    };
    let fix = match jail {
        Some(j) => format!(
            "# Nothing to fix if every attempt was refused (the log shows the refusals).\n\
             # To stop repeat probers from using resources, ban them:\n\
             # /etc/fail2ban/jail.d/mail.local\n{j}"
        ),
        None => "# Nothing to fix if every attempt was refused. Block repeat probers at the \
                 firewall (New-NetFirewallRule -Direction Inbound -Action Block -RemoteAddress …)."
            .into(),
    };
    LOGS_RELAY_ATTEMPTS
        .finding(
            Status::Info,
            format!(
                "{} relay attempt(s) from {} external address(es) were refused in {}: someone is \
                 probing for an open relay. Refused attempts are harmless; a server that accepted \
                 them would be abused within hours.",
                a.relay_total,
                probers.len(),
                window(stats)
            ),
        )
        .with_evidences(ev)
        .with_remediation(fix)
}

fn outbound(a: &LogAnalyzer, stats: &LogStats, sw: Option<Software>) -> Finding {
    if a.senders.is_empty() {
        return LOGS_OUTBOUND_SPIKE.finding(
            Status::Unknown,
            if a.submissions > 0 {
                format!(
                    "{} authenticated submission(s), but their recipient counts are not in the \
                     log (Postfix: the qmgr `nrcpt=` line; Sendmail: `nrcpts=`; Exim: \
                     deliveries), so sending volume per account cannot be measured.",
                    a.submissions
                )
            } else {
                "The log shows no authenticated submission (Postfix logs `sasl_username=` on \
                 smtpd's `client=` line, Exim `A=` on arrivals, Sendmail `AUTH=server`, Exchange \
                 STOREDRIVER receive events), so sending by accounts cannot be judged."
                    .into()
            },
        );
    }
    // Senders beyond the table's rows may spike too.
    let mut all: Vec<(&str, u64, f64, i64)> = Vec::new();
    for (name, s) in &a.senders {
        let median = a.median(s);
        for (h, c) in &s.hours {
            if is_spike(*c, median) {
                all.push((name, *c, median, *h));
            }
        }
    }
    all.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)).then(x.3.cmp(&y.3)));
    if all.is_empty() {
        let top = stats.outbound.senders.first();
        return LOGS_OUTBOUND_SPIKE.finding(
            Status::Pass,
            format!(
                "{} authenticated sender(s); no hour above {SPIKE_FACTOR}x the sender's median \
                 and {SPIKE_MIN} recipients{}.",
                a.senders.len(),
                top.map(|t| format!(
                    " (busiest: {} with {} recipients at most in an hour)",
                    t.sender, t.peak
                ))
                .unwrap_or_default()
            ),
        );
    }
    let mut ev = vec![table(
        "sender — recipients in the hour — hour — sender's median per hour",
        all.iter()
            .map(|(n, c, m, h)| {
                format!(
                    "{n} — {c} — {} — {m}",
                    short(&Some(super::time::rfc3339(h * 3600)))
                )
            })
            .collect(),
        all.len(),
    )];
    let mut named: Vec<&str> = Vec::new();
    for (n, _, _, h) in &all {
        if named.contains(n) {
            continue;
        }
        named.push(n);
        if let Some((_, r)) = a
            .senders
            .get(*n)
            .and_then(|s| s.big.iter().find(|(bh, _)| bh == h))
        {
            if ev.len() < 4 {
                ev.push(a.evidence(r));
            }
        }
    }
    let who = named.first().copied().unwrap_or("?");
    let fix = match sw {
        Some(Software::Exim) => format!(
            "# Lock the account ({who}) and change its password, then limit sending per user.\n\
             # Exim, in acl_smtp_rcpt before accepting authenticated senders:\n\
             deny  authenticated = *\n\
             \x20     ratelimit     = 100 / 1h / per_rcpt / strict / $authenticated_id\n\
             \x20     message       = Sending rate limit exceeded\n"
        ),
        Some(Software::Exchange) => format!(
            "# Lock the mailbox ({who}), reset its password and revoke its sessions; then cap\n\
             # recipients per message and per day, e.g.:\n\
             Set-TransportConfig -MaxRecipientEnvelopeLimit 100\n\
             New-ThrottlingPolicy -Name \"mailaudit-senders\" -RecipientRateLimit 500\n"
        ),
        Some(Software::Sendmail) => format!(
            "# Lock the account ({who}) and change its password. Sendmail has no per-user rate\n\
             # limit built in: add a milter (e.g. milter-limit) or a policy server.\n\
             # Hold the queue while you look: sendmail -qQ / mailq\n"
        ),
        _ => format!(
            "# Lock the account ({who}) and change its password; hold its queued mail:\n\
             #   postqueue -j | jq -r 'select(.sender==\"{who}\") | .queue_id' | postsuper -h -\n\
             # Then limit what one client may send (main.cf, per anvil_rate_time_unit = 60s):\n\
             smtpd_client_message_rate_limit = 30\n\
             smtpd_client_recipient_rate_limit = 100\n\
             # (per-user limits need a policy service such as policyd-rate-limit)\n"
        ),
    };
    LOGS_OUTBOUND_SPIKE
        .finding(
            Status::Fail,
            format!(
                "{} account(s) sent to far more recipients in an hour than usual: {} sent to {} \
                 recipients in the hour from {}, against a median of {} per hour over the {} \
                 hour(s) of the log. A sudden burst from one login is how a stolen password \
                 shows: spam from your server gets your IP blocklisted.",
                named.len(),
                all[0].0,
                all[0].1,
                short(&Some(super::time::rfc3339(all[0].3 * 3600))),
                all[0].2,
                stats.outbound.hours
            ),
        )
        .with_evidences(ev)
        .with_remediation(fix)
}

fn queue(a: &LogAnalyzer, stats: &LogStats, _sw: Option<Software>) -> Finding {
    let d = &stats.deliveries;
    let attempts = d.sent + d.deferred + d.bounced;
    if attempts == 0 {
        return LOGS_QUEUE_GROWTH.finding(
            Status::Unknown,
            "The log shows no delivery (Postfix `status=`, Exim `=>`/`==`/`**`, Sendmail `stat=`, \
             Exchange SEND/DEFER/FAIL events), so the queue cannot be judged.",
        );
    }
    let (Some(first), Some(last)) = (a.first, a.last) else {
        return LOGS_QUEUE_GROWTH.finding(Status::Unknown, "The log lines carry no time.");
    };
    let span = last - first;
    let q = span / 4;
    let early = a.trouble.sum(first, first + q.max(1));
    let late = a.trouble.sum(last - q, last + 1);
    let categories = d
        .categories
        .iter()
        .take(4)
        .map(|c| format!("{} ({})", c.name, c.count))
        .collect::<Vec<_>>()
        .join(", ");
    let table_ev = table(
        "reason (addresses and numbers masked as #) — deliveries",
        d.reasons
            .iter()
            .map(|r| format!("{} — {}", r.name, r.count))
            .collect(),
        d.reasons.len(),
    );
    let growing = late >= QUEUE_MIN && late >= QUEUE_FACTOR * early;
    if !growing {
        let mut f = LOGS_QUEUE_GROWTH.finding(
            Status::Pass,
            format!(
                "{} deferred and {} bounced of {attempts} deliveries; {late} in the last quarter \
                 of the window against {early} in the first — not growing (fails at twice the \
                 first quarter and at least {QUEUE_MIN}).",
                d.deferred, d.bounced
            ),
        );
        if !d.reasons.is_empty() {
            f = f.with_evidence(table_ev);
        }
        return f;
    }
    let mut ev = vec![table_ev];
    let mut firsts: Vec<_> = a.reasons.iter().collect();
    firsts.sort_by(|x, y| y.1.count.cmp(&x.1.count).then(x.0.cmp(y.0)));
    for (_, r) in firsts.iter().take(2) {
        ev.push(a.evidence(&r.first));
    }
    let top = d.categories.first().map(|c| c.name.as_str()).unwrap_or("");
    let mut fix = String::from(
        "# See what is stuck and why (Postfix): qshape deferred; postqueue -p | tail\n\
         # Exim: exim -bp | exiqsumm; Sendmail: mailq\n",
    );
    if top.starts_with("blocklisting") {
        fix.push_str(
            "# Receivers refuse this server's IP: find the source of spam (see\n\
             # logs.outbound_spike), stop it, then check and request delisting:\n\
             #   mailaudit audit <your domain>   (blocklists.* checks)\n",
        );
    } else if top.starts_with("TLS") {
        fix.push_str(
            "# Outbound TLS fails: check the client side settings (Postfix main.cf)\n\
             smtp_tls_security_level = may\n\
             smtp_tls_protocols = >=TLSv1.2\n\
             smtp_tls_loglevel = 1\n",
        );
    } else {
        fix.push_str(
            "# Check DNS and outbound port 25 from the server (some providers block it),\n\
             # and the receivers' replies in the reasons above.\n",
        );
    }
    LOGS_QUEUE_GROWTH
        .finding(
            Status::Fail,
            format!(
                "Deferred and bounced deliveries grew from {early} in the first quarter of the \
                 log window to {late} in the last ({} in all). Top reasons: {categories}.",
                d.deferred + d.bounced
            ),
        )
        .with_evidences(ev)
        .with_remediation(fix)
}

fn tls(a: &LogAnalyzer, stats: &LogStats, sw: Option<Software>) -> Finding {
    if a.tls_total == 0 {
        return LOGS_TLS_FAILURES.finding(
            Status::Pass,
            "No TLS handshake failure in the log (Postfix logs SSL_accept/SSL_connect errors at \
             every TLS log level; Exim logs TLS errors; Exchange logs `TLS negotiation failed`).",
        );
    }
    let inbound: u64 = a
        .tls
        .iter()
        .filter(|((out, _), _)| !out)
        .map(|(_, p)| p.count)
        .sum();
    let mut ev = vec![table(
        "peer — direction — failed handshakes",
        stats
            .tls_failures
            .iter()
            .map(|p| format!("{} — {} — {}", p.peer, p.direction, p.count))
            .collect(),
        a.tls.len(),
    )];
    let mut peers: Vec<_> = a.tls.iter().collect();
    peers.sort_by(|x, y| y.1.count.cmp(&x.1.count).then(x.0.cmp(y.0)));
    for (_, p) in peers.iter().take(2) {
        ev.push(a.evidence(&p.first));
    }
    let fix = match sw {
        Some(Software::Exim) => "# Exim: log details with log_selector = +tls_cipher +tls_peerdn, and offer TLS 1.2+:\n\
             tls_require_ciphers = SECURE192:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2\n"
            .to_string(),
        Some(Software::Exchange) => "# Exchange: check the certificate bound to SMTP (Get-ExchangeCertificate) and\n\
             # that TLS 1.2 is enabled in SCHANNEL; see which peers fail in the protocol log.\n"
            .to_string(),
        Some(Software::Sendmail) => "# Sendmail: check the certificate files (confSERVER_CERT, confCACERT) and\n\
             # define(`confTLS_SRV_OPTIONS', `V') only if you must accept clients without certificates.\n"
            .to_string(),
        _ => "# Postfix: log the details, then look at what failing peers offer:\n\
             smtpd_tls_loglevel = 1\n\
             smtp_tls_loglevel = 1\n\
             # serve a full chain and modern protocols (scanners failing is expected):\n\
             smtpd_tls_protocols = >=TLSv1.2\n\
             smtpd_tls_mandatory_protocols = >=TLSv1.2\n"
            .to_string(),
    };
    LOGS_TLS_FAILURES
        .finding(
            Status::Fail,
            format!(
                "{} TLS handshake(s) failed ({inbound} inbound, {} outbound) with {} peer(s). \
                 Inbound failures are often scanners or outdated clients; outbound failures mean \
                 mail to those servers goes unencrypted or not at all.",
                a.tls_total,
                a.tls_total.saturating_sub(inbound),
                a.tls.len()
            ),
        )
        .with_evidences(ev)
        .with_remediation(fix)
}
