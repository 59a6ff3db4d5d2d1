//! The `exchange.*` rules over parsed PowerShell output.

use super::parse::{ObjKind, Object, Prop};
use super::when::{self, Parsed};
use super::Ctx;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use std::net::{Ipv4Addr, Ipv6Addr};

const SET_RC: &str = "https://learn.microsoft.com/powershell/module/exchange/set-receiveconnector";
const RC_DOC: &str = "https://learn.microsoft.com/exchange/mail-flow/connectors/receive-connectors";

pub static EXCHANGE_ANONYMOUS_RELAY: Rule = Rule {
    id: "exchange.anonymous_relay",
    area: Area::Config,
    title: "Anonymous relay through a receive connector",
    severity: Severity::Critical,
    description: "A receive connector with PermissionGroups containing AnonymousUsers and \
        RemoteIPRanges wider than a few internal hosts grants anonymous users \
        ms-Exch-SMTP-Accept-Any-Recipient (Get-ADPermission output), or an ExternallySecured \
        (ExternalAuthoritative) connector accepts an internet-facing range.",
    refs: &[
        "https://learn.microsoft.com/exchange/mail-flow/connectors/allow-anonymous-relay",
        RC_DOC,
    ],
};

pub static EXCHANGE_SMUGGLING: Rule = Rule {
    id: "exchange.smuggling",
    area: Area::Config,
    title: "SMTP smuggling (bare line feeds accepted)",
    severity: Severity::Critical,
    description: "Warn when BareLinefeedRejectionEnabled is False (the default) on a receive \
        connector bound to port 25; fail when the build (AdminDisplayVersion, or ExSetup's file \
        version) predates the November 2023 security update (Exchange 2019 CU13 15.2.1258.28, \
        CU12 15.2.1118.40, Exchange 2016 CU23 15.1.2507.35; CU14 and later include it).",
    refs: &[
        SET_RC,
        "https://learn.microsoft.com/exchange/new-features/build-numbers-and-release-dates",
        "https://techcommunity.microsoft.com/blog/exchange/released-november-2023-exchange-server-security-updates/3980209",
    ],
};

pub static EXCHANGE_AUTH_PLAINTEXT: Rule = Rule {
    id: "exchange.auth_plaintext",
    area: Area::Config,
    title: "Basic authentication only over TLS",
    severity: Severity::High,
    description: "A receive connector's AuthMechanism contains BasicAuth without \
        BasicAuthRequireTLS, so passwords may be sent before STARTTLS.",
    refs: &[SET_RC, "RFC 4954 §4"],
};

pub static EXCHANGE_TLS_OFF: Rule = Rule {
    id: "exchange.tls_off",
    area: Area::Config,
    title: "TLS on internet-facing connectors",
    severity: Severity::High,
    description: "An internet-facing receive connector lacks Tls in AuthMechanism (no STARTTLS), \
        or a connector meant for partners (Partners permission group, domain security) has \
        RequireTLS False.",
    refs: &[SET_RC, "RFC 3207"],
};

pub static EXCHANGE_SIZE_LIMIT: Rule = Rule {
    id: "exchange.size_limit",
    area: Area::Config,
    title: "Message size limit",
    severity: Severity::Medium,
    description: "MaxMessageSize is Unlimited or above 100 MB on a receive connector (or the \
        organisation's MaxReceiveSize in Get-TransportConfig), so a single message can fill the \
        queue database's disk.",
    refs: &[
        SET_RC,
        "https://learn.microsoft.com/exchange/mail-flow/message-size-limits",
    ],
};

pub static EXCHANGE_RATE_LIMITS: Rule = Rule {
    id: "exchange.rate_limits",
    area: Area::Config,
    title: "Connection and message rate limits",
    severity: Severity::Medium,
    description: "MessageRateLimit, MaxInboundConnectionPerSource or MaxInboundConnection is \
        Unlimited on a receive connector, so one client can flood the server.",
    refs: &[
        SET_RC,
        "https://learn.microsoft.com/exchange/mail-flow/message-rate-limits",
    ],
};

pub static EXCHANGE_TARPIT: Rule = Rule {
    id: "exchange.tarpit",
    area: Area::Config,
    title: "Tarpit interval",
    severity: Severity::Low,
    description: "TarpitInterval is below 00:00:05 on a receive connector, so directory \
        harvesting and unauthenticated abuse get no delay (the greeting delay of the seed \
        guidance; EDCA TLS-048).",
    refs: &[SET_RC],
};

pub static EXCHANGE_LOGGING: Rule = Rule {
    id: "exchange.logging",
    area: Area::Config,
    title: "Protocol logging",
    severity: Severity::Low,
    description: "ProtocolLoggingLevel is None on a connector, so its SMTP conversations are not \
        recorded for investigations.",
    refs: &[
        SET_RC,
        "https://learn.microsoft.com/exchange/mail-flow/connectors/protocol-logging",
        "NIST SP 800-92",
    ],
};

pub static EXCHANGE_BANNER_DISCLOSURE: Rule = Rule {
    id: "exchange.banner_disclosure",
    area: Area::Config,
    title: "SMTP banner discloses the software",
    severity: Severity::Low,
    description: "A receive connector uses the default Banner (empty: \"220 <FQDN> Microsoft \
        ESMTP MAIL Service ready at <date>\") or a banner naming Microsoft ESMTP, which tells \
        attackers what to try.",
    refs: &[SET_RC],
};

pub static EXCHANGE_CERT_EXPIRY: Rule = Rule {
    id: "exchange.cert_expiry",
    area: Area::Config,
    title: "SMTP certificate expiry",
    severity: Severity::High,
    description: "A certificate bound to SMTP (Services includes SMTP) has expired (fail, \
        critical), expires within 30 days (fail) or within 60 days (warn). Unknown when no \
        Get-ExchangeCertificate output was pasted.",
    refs: &[
        "https://learn.microsoft.com/powershell/module/exchange/get-exchangecertificate",
        "RFC 5280 §4.1.2.5",
    ],
};

pub static EXCHANGE_DKIM_SIGNING: Rule = Rule {
    id: "exchange.dkim_signing",
    area: Area::Config,
    title: "DKIM signing",
    severity: Severity::Info,
    description: "Exchange Server (on-premises) has no built-in DKIM signing: outgoing mail is \
        signed only by a third-party transport agent or a gateway.",
    refs: &["RFC 6376", "NIST SP 800-177r1 §4.5"],
};

/// 100 MB.
const SIZE_CAP: u64 = 100 * 1024 * 1024;

fn ev(o: &Object, p: &Prop) -> Evidence {
    Evidence::Config {
        file: o.file.clone(),
        line: u32::try_from(p.line).ok(),
        text: p.text.to_string(),
    }
}

/// Evidence of a property, or of the object when the property is absent.
fn ev_or(o: &Object, name: &str) -> Evidence {
    match o.get(name) {
        Some(p) => ev(o, p),
        None => Evidence::Config {
            file: o.file.clone(),
            line: o.props.first().and_then(|p| u32::try_from(p.line).ok()),
            text: format!("{}: no {name} property in the pasted output", o.identity()),
        },
    }
}

fn quote_id(id: &str) -> String {
    format!("\"{}\"", id.replace('"', "`\""))
}

fn no_connectors(rule: &'static Rule) -> Finding {
    rule.finding(
        Status::Unknown,
        "No Get-ReceiveConnector output was pasted. Run `Get-ReceiveConnector | Format-List` in \
         the Exchange Management Shell and paste its output.",
    )
    .with_remediation("Get-ReceiveConnector | Format-List")
}

// ------------------------------------------------------------ addresses

/// What a RemoteIPRanges entry covers.
#[derive(Debug, Default, Clone, Copy)]
struct Cover {
    /// Addresses covered (saturating).
    count: u128,
    /// Includes public (globally routed) addresses.
    public: bool,
}

fn v4_public(a: u32) -> bool {
    let o = a.to_be_bytes();
    !(o[0] == 10
        || o[0] == 127
        || (o[0] == 172 && (16..32).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 169 && o[1] == 254)
        || o[0] == 0)
}

fn v4_range_public(lo: u32, hi: u32) -> bool {
    // Public unless the whole range lies inside one private block.
    let blocks: [(u32, u32); 6] = [
        (0x0A00_0000, 0x0AFF_FFFF),
        (0x7F00_0000, 0x7FFF_FFFF),
        (0xAC10_0000, 0xAC1F_FFFF),
        (0xC0A8_0000, 0xC0A8_FFFF),
        (0xA9FE_0000, 0xA9FE_FFFF),
        (0x0000_0000, 0x00FF_FFFF),
    ];
    if blocks.iter().any(|(a, b)| lo >= *a && hi <= *b) {
        return false;
    }
    lo != hi || v4_public(lo)
}

fn v6_public(lo: u128, hi: u128) -> bool {
    // Global unicast 2000::/3 intersects the range.
    let g_lo: u128 = 0x2000u128 << 112;
    let g_hi: u128 = (0x4000u128 << 112) - 1;
    lo <= g_hi && hi >= g_lo
}

fn cover(entry: &str) -> Option<Cover> {
    let e = entry.trim();
    if let Some((a, b)) = e.split_once('-') {
        if let (Ok(a), Ok(b)) = (a.trim().parse::<Ipv4Addr>(), b.trim().parse::<Ipv4Addr>()) {
            let (lo, hi) = (u32::from(a), u32::from(b));
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            return Some(Cover {
                count: u128::from(hi - lo) + 1,
                public: v4_range_public(lo, hi),
            });
        }
        if let (Ok(a), Ok(b)) = (a.trim().parse::<Ipv6Addr>(), b.trim().parse::<Ipv6Addr>()) {
            let (lo, hi) = (u128::from(a), u128::from(b));
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            return Some(Cover {
                count: (hi - lo).saturating_add(1),
                public: v6_public(lo, hi),
            });
        }
        return None;
    }
    if let Some((a, n)) = e.split_once('/') {
        let n: u32 = n.trim().parse().ok()?;
        if let Ok(a) = a.trim().parse::<Ipv4Addr>() {
            if n > 32 {
                return None;
            }
            let size: u64 = 1u64 << (32 - n);
            let lo = u32::from(a) & !((size - 1) as u32);
            let hi = lo.saturating_add((size - 1) as u32);
            return Some(Cover {
                count: u128::from(size),
                public: v4_range_public(lo, hi),
            });
        }
        if let Ok(a) = a.trim().parse::<Ipv6Addr>() {
            if n > 128 {
                return None;
            }
            let size: u128 = if n == 0 {
                u128::MAX
            } else {
                1u128 << (128 - n)
            };
            let lo = u128::from(a) & !size.wrapping_sub(1);
            let hi = lo.saturating_add(size.wrapping_sub(1));
            return Some(Cover {
                count: size,
                public: v6_public(lo, hi),
            });
        }
        return None;
    }
    if let Ok(a) = e.parse::<Ipv4Addr>() {
        return Some(Cover {
            count: 1,
            public: v4_public(u32::from(a)),
        });
    }
    if let Ok(a) = e.parse::<Ipv6Addr>() {
        let x = u128::from(a);
        return Some(Cover {
            count: 1,
            public: v6_public(x, x),
        });
    }
    None
}

/// How wide a connector's RemoteIPRanges are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// A few internal hosts (≤ 16 addresses, none public).
    Few,
    /// More than a few, all internal.
    Internal,
    /// Includes public addresses: internet-facing.
    Internet,
    /// Not pasted, cut (`...`) or unreadable.
    Unknown,
}

fn reach(o: &Object) -> Reach {
    let Some(p) = o.get("RemoteIPRanges") else {
        return Reach::Unknown;
    };
    let (items, cut) = p.list();
    let mut total: u128 = 0;
    let mut public = false;
    let mut unreadable = false;
    for i in &items {
        match cover(i) {
            Some(c) => {
                total = total.saturating_add(c.count);
                public |= c.public;
            }
            None => unreadable = true,
        }
    }
    if public {
        return Reach::Internet;
    }
    if cut || unreadable || items.is_empty() {
        return Reach::Unknown;
    }
    if total <= 16 {
        Reach::Few
    } else {
        Reach::Internal
    }
}

fn ports(o: &Object) -> Vec<u16> {
    o.get("Bindings")
        .map(|p| {
            p.list()
                .0
                .iter()
                .filter_map(|b| b.rsplit(':').next()?.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn list_has(o: &Object, name: &str, item: &str) -> Option<bool> {
    let p = o.get(name)?;
    let (items, cut) = p.list();
    let has = items.iter().any(|i| i.eq_ignore_ascii_case(item));
    if !has && cut {
        return None;
    }
    Some(has)
}

// -------------------------------------------------------------- relay

/// Anonymous `ms-Exch-SMTP-Accept-Any-Recipient` rows that apply to a
/// connector (Identity matching it, or no Identity column).
fn anonymous_relay_rights<'a>(ctx: &Ctx<'a>, id: &str) -> (Vec<&'a Object<'a>>, bool) {
    let mut hits = Vec::new();
    let mut unsure = false;
    for p in &ctx.perms {
        let user = p.get("User").map(|u| u.value.to_ascii_uppercase());
        if !user
            .as_deref()
            .is_some_and(|u| u.contains("ANONYMOUS LOGON") || u.starts_with("NT AUTHORITY\\ANON"))
        {
            continue;
        }
        if let Some(pid) = p.get("Identity").map(|x| x.value.trim().to_string()) {
            let pid_l = pid.trim_end_matches("...").to_ascii_lowercase();
            let id_l = id.to_ascii_lowercase();
            let name_l = id_l.rsplit('\\').next().unwrap_or("").to_string();
            let same = id_l.starts_with(&pid_l)
                || pid_l.ends_with(&name_l)
                || name_l.starts_with(&pid_l)
                || pid_l.contains(&id_l);
            if !pid.is_empty() && !same {
                continue;
            }
        }
        if p.get("Deny").and_then(Prop::is_true) == Some(true) {
            continue;
        }
        let Some(rights) = p.get("ExtendedRights") else {
            unsure = true;
            continue;
        };
        let (items, cut) = rights.list();
        if items
            .iter()
            .any(|r| r.eq_ignore_ascii_case("ms-Exch-SMTP-Accept-Any-Recipient"))
        {
            hits.push(*p);
        } else if cut {
            unsure = true;
        }
    }
    (hits, unsure)
}

pub(crate) fn anonymous_relay(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_ANONYMOUS_RELAY;
    if ctx.receive.is_empty() {
        return no_connectors(rule);
    }
    let mut fails = Vec::new();
    let mut evidence = Vec::new();
    let mut unknown = Vec::new();
    let mut unknown_ev = Vec::new();
    let mut fix = Vec::new();
    for o in &ctx.receive {
        let id = o.identity();
        let r = reach(o);
        let anon = list_has(o, "PermissionGroups", "AnonymousUsers");
        let external = list_has(o, "AuthMechanism", "ExternalAuthoritative");
        if external == Some(true) && r == Reach::Internet {
            fails.push(format!(
                "{id} is ExternallySecured (AuthMechanism ExternalAuthoritative) and accepts \
                 public addresses: every sender in RemoteIPRanges is treated as an Exchange \
                 server and may relay"
            ));
            evidence.push(ev_or(o, "AuthMechanism"));
            evidence.push(ev_or(o, "RemoteIPRanges"));
            fix.push(format!(
                "Set-ReceiveConnector -Identity {} -RemoteIPRanges <the relaying hosts' \
                 addresses>",
                quote_id(&id)
            ));
            continue;
        }
        if anon == Some(false) || matches!(r, Reach::Few) {
            continue;
        }
        let (hits, unsure) = anonymous_relay_rights(ctx, &id);
        if !hits.is_empty() {
            fails.push(format!(
                "{id} lets anonymous users relay (NT AUTHORITY\\ANONYMOUS LOGON has \
                 ms-Exch-SMTP-Accept-Any-Recipient) and accepts {}",
                match r {
                    Reach::Internet => "public addresses: an open relay",
                    _ => "more than a few internal hosts",
                }
            ));
            evidence.push(ev_or(o, "PermissionGroups"));
            evidence.push(ev_or(o, "RemoteIPRanges"));
            for h in hits {
                evidence.push(ev_or(h, "ExtendedRights"));
            }
            fix.push(format!(
                "Get-ADPermission -Identity {id} -User \"NT AUTHORITY\\ANONYMOUS LOGON\" | \
                 Where-Object {{ $_.ExtendedRights -like \"*Accept-Any-Recipient*\" }} | \
                 Remove-ADPermission\nSet-ReceiveConnector -Identity {id} -RemoteIPRanges \
                 <the few hosts that must relay>",
                id = quote_id(&id)
            ));
            continue;
        }
        if ctx.perms.is_empty() || unsure || anon.is_none() {
            unknown.push(id.clone());
            unknown_ev.push(ev_or(o, "PermissionGroups"));
        }
    }
    if !fails.is_empty() {
        return rule
            .finding(
                Status::Fail,
                format!(
                    "{}. Spammers find open relays within hours and the server's addresses end \
                     up on blocklists.",
                    fails.join("; ")
                ),
            )
            .with_evidences(evidence)
            .with_remediation(fix.join("\n"));
    }
    if !unknown.is_empty() {
        return rule
            .finding(
                Status::Unknown,
                format!(
                    "{} accept anonymous connections from more than a few hosts; whether \
                     anonymous users may relay there depends on the \
                     ms-Exch-SMTP-Accept-Any-Recipient permission, which is not in the paste \
                     (or was cut with `...`). Paste the output of the command below to decide.",
                    unknown.join(", ")
                ),
            )
            .with_evidences(unknown_ev)
            .with_remediation(
                "Get-ReceiveConnector | Get-ADPermission | Where-Object { $_.ExtendedRights \
                 -like \"*Any-Recipient*\" } | Format-List Identity,User,ExtendedRights,Deny",
            );
    }
    rule.finding(
        Status::Pass,
        "No receive connector lets anonymous users relay: where AnonymousUsers may connect from \
         more than a few hosts, the pasted permissions grant them no \
         ms-Exch-SMTP-Accept-Any-Recipient, and no ExternallySecured connector accepts public \
         addresses.",
    )
}

// ------------------------------------------------------------ smuggling

/// An Exchange build: 15.2.1258.28.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Build(pub u32, pub u32, pub u32, pub u32);

impl std::fmt::Display for Build {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}.{}", self.0, self.1, self.2, self.3)
    }
}

impl Build {
    /// `Version 15.2 (Build 1258.28)`, `15.2.1258.28`, `15.02.1258.028`.
    pub fn parse(s: &str) -> Option<Build> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("Version ") {
            let (mm, b) = rest.split_once("(Build ")?;
            let mut m = mm.trim().split('.');
            let (ma, mi) = (m.next()?.parse().ok()?, m.next()?.parse().ok()?);
            let mut b = b.trim_end_matches(')').trim().split('.');
            let (bu, re) = (
                b.next()?.parse().ok()?,
                b.next().unwrap_or("0").parse().ok()?,
            );
            return Some(Build(ma, mi, bu, re));
        }
        let n: Vec<u32> = s
            .split('.')
            .map(|p| p.trim().parse().ok())
            .collect::<Option<_>>()?;
        match n.as_slice() {
            [a, b, c, d] => Some(Build(*a, *b, *c, *d)),
            [a, b, c] => Some(Build(*a, *b, *c, 0)),
            _ => None,
        }
    }

    pub fn product(&self) -> &'static str {
        match (self.0, self.1) {
            (15, 2) if self.2 >= 2562 => "Exchange Server Subscription Edition",
            (15, 2) => "Exchange Server 2019",
            (15, 1) => "Exchange Server 2016",
            (15, 0) => "Exchange Server 2013",
            (14, _) => "Exchange Server 2010",
            _ => "Exchange Server",
        }
    }
}

/// November 2023 security update builds (Microsoft's "Exchange Server
/// build numbers and release dates"; CSS-Exchange's build table).
pub const NOV23SU: &[(Build, &str)] = &[
    (Build(15, 1, 2507, 35), "Exchange Server 2016 CU23 Nov23SU"),
    (Build(15, 2, 1118, 40), "Exchange Server 2019 CU12 Nov23SU"),
    (Build(15, 2, 1258, 28), "Exchange Server 2019 CU13 Nov23SU"),
];

/// Whether a build has the November 2023 security update (or a later CU
/// that includes it), with the build that has it.
fn has_nov23(b: Build) -> (bool, Option<&'static str>) {
    match (b.0, b.1) {
        (15, 2) if b.2 > 1258 => (true, None), // CU14 (15.2.1544.4, Feb 2024) and later
        (15, 2) if b.2 >= 1258 => (b >= NOV23SU[2].0, Some(NOV23SU[2].1)),
        (15, 2) if b.2 >= 1118 => (b >= NOV23SU[1].0, Some(NOV23SU[1].1)),
        (15, 2) => (
            false,
            Some("Exchange Server 2019 CU13 Nov23SU or later (CU14/CU15)"),
        ),
        (15, 1) if b.2 >= 2507 => (b >= NOV23SU[0].0, Some(NOV23SU[0].1)),
        (15, 1) => (false, Some("Exchange Server 2016 CU23 with Nov23SU")),
        (v, _) if v > 15 => (true, None),
        _ => (
            false,
            Some("a supported release (Exchange 2013 and older got no Nov23SU)"),
        ),
    }
}

pub(crate) fn smuggling(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_SMUGGLING;
    // The build first: an unpatched server fails whatever the connectors say.
    if let Some((b, e)) = &ctx.build {
        let (ok, want) = has_nov23(*b);
        if !ok {
            return rule
                .finding(
                    Status::Fail,
                    format!(
                        "{} build {b} predates the November 2023 security update ({}): the \
                         server misses that update's transport fixes. Install the latest \
                         cumulative and security update.",
                        b.product(),
                        want.unwrap_or("Nov23SU")
                    ),
                )
                .with_evidence(e.clone())
                .with_remediation(
                    "# Install the latest CU and SU for this version (Exchange 2019 CU15 or \
                     Exchange Server SE), then check:\nGet-ExchangeServer | Format-List \
                     Name,AdminDisplayVersion",
                );
        }
    }
    if ctx.receive.is_empty() {
        return no_connectors(rule);
    }
    let mut off = Vec::new();
    let mut ev_off = Vec::new();
    let mut fix = Vec::new();
    let mut on = Vec::new();
    let mut unknown = Vec::new();
    for o in &ctx.receive {
        let p = ports(o);
        if !p.contains(&25) {
            continue;
        }
        let id = o.identity();
        match o
            .get("BareLinefeedRejectionEnabled")
            .and_then(Prop::is_true)
        {
            Some(true) => on.push(id),
            Some(false) => {
                ev_off.push(ev_or(o, "BareLinefeedRejectionEnabled"));
                fix.push(format!(
                    "Set-ReceiveConnector -Identity {} -BareLinefeedRejectionEnabled $true",
                    quote_id(&id)
                ));
                off.push(id);
            }
            None => unknown.push(id),
        }
    }
    let build_note = match &ctx.build {
        Some((b, _)) => format!(" The build ({b}) has the November 2023 security update."),
        None => " The build was not pasted (Get-ExchangeServer | fl Name,AdminDisplayVersion), \
                 so whether it has the November 2023 security update is not judged."
            .to_string(),
    };
    if !off.is_empty() {
        let mut f = rule
            .finding(
                Status::Warn,
                format!(
                    "BareLinefeedRejectionEnabled is False (the default) on {} bound to port 25, \
                     so messages with bare line feeds are accepted and relayed as they are, \
                     which SMTP smuggling relies on.{build_note}",
                    off.join(", ")
                ),
            )
            .with_evidences(ev_off)
            .with_remediation(fix.join("\n"));
        if let Some((_, e)) = &ctx.build {
            f = f.with_evidence(e.clone());
        }
        return f;
    }
    if !unknown.is_empty() && on.is_empty() {
        return rule.finding(
            Status::Unknown,
            format!(
                "The output for {} has no BareLinefeedRejectionEnabled property; paste the full \
                 `Get-ReceiveConnector | Format-List` output.",
                unknown.join(", ")
            ),
        );
    }
    if on.is_empty() {
        return rule.finding(
            Status::Pass,
            format!("No pasted receive connector is bound to port 25.{build_note}"),
        );
    }
    let mut f = rule.finding(
        Status::Pass,
        format!(
            "Bare line feeds are rejected on every connector bound to port 25 ({}).{build_note}",
            on.join(", ")
        ),
    );
    if let Some((_, e)) = &ctx.build {
        f = f.with_evidence(e.clone());
    }
    f
}

// --------------------------------------------------------- per connector

/// A check run on every receive connector: the bad ones with evidence and
/// a fix, or None when the connector is fine.
fn per_connector(
    ctx: &Ctx,
    rule: &'static Rule,
    objects: &[&Object],
    pass: &str,
    fail_intro: &str,
    status: Status,
    check: impl Fn(&Object) -> Option<(String, Vec<Evidence>, String)>,
) -> Finding {
    let _ = ctx;
    let mut bad = Vec::new();
    let mut evidence = Vec::new();
    let mut fix = Vec::new();
    for o in objects {
        if let Some((why, e, f)) = check(o) {
            bad.push(why);
            evidence.extend(e);
            if !fix.contains(&f) {
                fix.push(f);
            }
        }
    }
    if bad.is_empty() {
        return rule.finding(Status::Pass, pass);
    }
    rule.finding(status, format!("{fail_intro} {}.", bad.join("; ")))
        .with_evidences(evidence)
        .with_remediation(fix.join("\n"))
}

pub(crate) fn auth_plaintext(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_AUTH_PLAINTEXT;
    if ctx.receive.is_empty() {
        return no_connectors(rule);
    }
    per_connector(
        ctx,
        rule,
        &ctx.receive,
        "Every receive connector that offers BasicAuth requires TLS first (BasicAuthRequireTLS).",
        "Passwords can be sent before STARTTLS:",
        Status::Fail,
        |o| {
            let basic = list_has(o, "AuthMechanism", "BasicAuth")?;
            let tls = list_has(o, "AuthMechanism", "BasicAuthRequireTLS")?;
            (basic && !tls).then(|| {
                let id = o.identity();
                let mut mechs = o
                    .get("AuthMechanism")
                    .map(|p| p.list().0)
                    .unwrap_or_default();
                mechs.push("BasicAuthRequireTLS".into());
                if !mechs.iter().any(|m| m.eq_ignore_ascii_case("Tls")) {
                    mechs.insert(0, "Tls".into());
                }
                (
                    format!("{id} offers BasicAuth without BasicAuthRequireTLS"),
                    vec![ev_or(o, "AuthMechanism")],
                    format!(
                        "Set-ReceiveConnector -Identity {} -AuthMechanism {}",
                        quote_id(&id),
                        mechs.join(",")
                    ),
                )
            })
        },
    )
}

pub(crate) fn tls_off(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_TLS_OFF;
    if ctx.receive.is_empty() {
        return no_connectors(rule);
    }
    per_connector(
        ctx,
        rule,
        &ctx.receive,
        "Every internet-facing receive connector offers STARTTLS (Tls in AuthMechanism), and \
         partner connectors require TLS.",
        "TLS is missing:",
        Status::Fail,
        |o| {
            let id = o.identity();
            if reach(o) == Reach::Internet && list_has(o, "AuthMechanism", "Tls") == Some(false) {
                let mut mechs = o
                    .get("AuthMechanism")
                    .map(|p| p.list().0)
                    .unwrap_or_default();
                mechs.retain(|m| !m.eq_ignore_ascii_case("None"));
                mechs.insert(0, "Tls".into());
                return Some((
                    format!(
                        "{id} accepts public addresses without offering STARTTLS (no Tls in \
                         AuthMechanism)"
                    ),
                    vec![ev_or(o, "AuthMechanism"), ev_or(o, "RemoteIPRanges")],
                    format!(
                        "Set-ReceiveConnector -Identity {} -AuthMechanism {}",
                        quote_id(&id),
                        mechs.join(",")
                    ),
                ));
            }
            let partner = list_has(o, "PermissionGroups", "Partners") == Some(true)
                || o.identity().to_ascii_lowercase().contains("partner");
            if partner && o.get("RequireTLS").and_then(Prop::is_true) == Some(false) {
                return Some((
                    format!("{id} is meant for partners but RequireTLS is False"),
                    vec![ev_or(o, "RequireTLS")],
                    format!(
                        "Set-ReceiveConnector -Identity {} -RequireTLS $true",
                        quote_id(&id)
                    ),
                ));
            }
            None
        },
    )
}

/// `36 MB (37,748,736 bytes)` → bytes; `Unlimited` → None inside Some.
fn byte_size(v: &str) -> Option<Option<u64>> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("unlimited") {
        return Some(None);
    }
    if let Some((_, r)) = v.split_once('(') {
        let digits: String = r
            .split_whitespace()
            .next()?
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        return digits.parse().ok().map(Some);
    }
    let mut f = v.split_whitespace();
    let n: f64 = f.next()?.replace(',', "").parse().ok()?;
    let mult: f64 = match f.next().map(|u| u.to_ascii_uppercase()) {
        None => 1.0,
        Some(u) if u == "B" || u == "BYTES" => 1.0,
        Some(u) if u == "KB" => 1024.0,
        Some(u) if u == "MB" => 1024.0 * 1024.0,
        Some(u) if u == "GB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(Some((n * mult) as u64))
}

pub(crate) fn size_limit(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_SIZE_LIMIT;
    if ctx.receive.is_empty() && ctx.transport.is_empty() {
        return no_connectors(rule);
    }
    let mut objects: Vec<&Object> = ctx.receive.clone();
    objects.extend(ctx.transport.iter().copied());
    per_connector(
        ctx,
        rule,
        &objects,
        "Message size limits are at most 100 MB on every pasted receive connector (and in the \
         transport configuration).",
        "No reasonable size limit:",
        Status::Fail,
        |o| {
            let (prop, cmd) = if o.kind == ObjKind::TransportConfig {
                (
                    "MaxReceiveSize",
                    "Set-TransportConfig -MaxReceiveSize 50MB".to_string(),
                )
            } else {
                (
                    "MaxMessageSize",
                    format!(
                        "Set-ReceiveConnector -Identity {} -MaxMessageSize 50MB",
                        quote_id(&o.identity())
                    ),
                )
            };
            let p = o.get(prop)?;
            let size = byte_size(&p.value)?;
            let why = match size {
                None => format!("{} has {prop} Unlimited", o.identity()),
                Some(n) if n > SIZE_CAP => format!(
                    "{} has {prop} {} MB, above 100 MB",
                    o.identity(),
                    n / (1024 * 1024)
                ),
                Some(_) => return None,
            };
            Some((why, vec![ev(o, p)], cmd))
        },
    )
}

pub(crate) fn rate_limits(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_RATE_LIMITS;
    if ctx.receive.is_empty() {
        return no_connectors(rule);
    }
    per_connector(
        ctx,
        rule,
        &ctx.receive,
        "MessageRateLimit, MaxInboundConnectionPerSource and MaxInboundConnection are limited on \
         every pasted receive connector.",
        "Unlimited client rates:",
        Status::Fail,
        |o| {
            let unlimited: Vec<&Prop> = [
                "MessageRateLimit",
                "MaxInboundConnectionPerSource",
                "MaxInboundConnection",
            ]
            .iter()
            .filter_map(|n| o.get(n))
            .filter(|p| p.value.trim().eq_ignore_ascii_case("unlimited"))
            .collect();
            if unlimited.is_empty() {
                return None;
            }
            let id = o.identity();
            let mut cmd = format!("Set-ReceiveConnector -Identity {}", quote_id(&id));
            for p in &unlimited {
                cmd.push_str(match p.name.to_ascii_lowercase().as_str() {
                    "messageratelimit" => " -MessageRateLimit 60",
                    "maxinboundconnectionpersource" => " -MaxInboundConnectionPerSource 20",
                    _ => " -MaxInboundConnection 5000",
                });
            }
            Some((
                format!(
                    "{id}: {} Unlimited",
                    unlimited
                        .iter()
                        .map(|p| &*p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                unlimited.iter().map(|p| ev(o, p)).collect(),
                cmd,
            ))
        },
    )
}

/// `00:00:05`, `1.00:00:00`, `00:00:00.5000000` → seconds.
fn timespan(v: &str) -> Option<f64> {
    let v = v.trim();
    let (days, rest) = match v.split_once('.') {
        Some((d, r)) if r.contains(':') && !d.contains(':') => (d.parse::<f64>().ok()?, r),
        _ => (0.0, v),
    };
    let mut f = rest.split(':');
    let h: f64 = f.next()?.parse().ok()?;
    let m: f64 = f.next()?.parse().ok()?;
    let s: f64 = f.next()?.parse().ok()?;
    Some(days * 86_400.0 + h * 3600.0 + m * 60.0 + s)
}

pub(crate) fn tarpit(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_TARPIT;
    if ctx.receive.is_empty() {
        return no_connectors(rule);
    }
    per_connector(
        ctx,
        rule,
        &ctx.receive,
        "TarpitInterval is at least 5 seconds on every pasted receive connector.",
        "No or a short tarpit:",
        Status::Fail,
        |o| {
            let p = o.get("TarpitInterval")?;
            let secs = timespan(&p.value)?;
            (secs < 5.0).then(|| {
                let id = o.identity();
                (
                    format!("{id} has TarpitInterval {}", p.value.trim()),
                    vec![ev(o, p)],
                    format!(
                        "Set-ReceiveConnector -Identity {} -TarpitInterval 00:00:05",
                        quote_id(&id)
                    ),
                )
            })
        },
    )
}

pub(crate) fn logging(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_LOGGING;
    if ctx.receive.is_empty() && ctx.send.is_empty() {
        return no_connectors(rule);
    }
    let mut objects: Vec<&Object> = ctx.receive.clone();
    objects.extend(ctx.send.iter().copied());
    per_connector(
        ctx,
        rule,
        &objects,
        "Protocol logging is on (Verbose) on every pasted connector.",
        "Protocol logging is off:",
        Status::Fail,
        |o| {
            let p = o.get("ProtocolLoggingLevel")?;
            p.value.trim().eq_ignore_ascii_case("none").then(|| {
                let id = o.identity();
                let cmd = if o.kind == ObjKind::SendConnector {
                    "Set-SendConnector"
                } else {
                    "Set-ReceiveConnector"
                };
                (
                    format!("{id} has ProtocolLoggingLevel None"),
                    vec![ev(o, p)],
                    format!(
                        "{cmd} -Identity {} -ProtocolLoggingLevel Verbose",
                        quote_id(&id)
                    ),
                )
            })
        },
    )
}

pub(crate) fn banner_disclosure(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_BANNER_DISCLOSURE;
    if ctx.receive.is_empty() {
        return no_connectors(rule);
    }
    per_connector(
        ctx,
        rule,
        &ctx.receive,
        "Every internet-facing receive connector has a custom banner that does not name the \
         software.",
        "The SMTP greeting names the software:",
        Status::Fail,
        |o| {
            if reach(o) != Reach::Internet {
                return None;
            }
            let p = o.get("Banner")?;
            let v = p.value.trim();
            let default = v.is_empty() || v.eq_ignore_ascii_case("$null");
            if !default && !v.to_ascii_lowercase().contains("microsoft esmtp") {
                return None;
            }
            let id = o.identity();
            let fqdn = o
                .get("Fqdn")
                .map(|f| f.value.trim().to_string())
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| "mail.example.com".into());
            Some((
                if default {
                    format!(
                        "{id} uses the default banner (\"220 {fqdn} Microsoft ESMTP MAIL Service \
                         ready at ...\")"
                    )
                } else {
                    format!("{id} has the banner \"{v}\"")
                },
                vec![ev(o, p)],
                format!(
                    "Set-ReceiveConnector -Identity {} -Banner \"220 {fqdn} ESMTP\"",
                    quote_id(&id)
                ),
            ))
        },
    )
}

// ------------------------------------------------------------ certificate

pub(crate) fn cert_expiry(ctx: &Ctx) -> Finding {
    let rule = &EXCHANGE_CERT_EXPIRY;
    if ctx.certs.is_empty() {
        return rule
            .finding(
                Status::Unknown,
                "No Get-ExchangeCertificate output was pasted, so the expiry of the certificate \
                 SMTP uses cannot be checked.",
            )
            .with_remediation(
                "Get-ExchangeCertificate | Format-List Thumbprint,Subject,Services,NotAfter",
            );
    }
    let Some(now) = ctx.now else {
        return rule.finding(
            Status::Unknown,
            "The time of the analysis was not given (RFC 3339 `now`), so expiry cannot be \
             judged.",
        );
    };
    let smtp: Vec<&&Object> = ctx
        .certs
        .iter()
        .filter(|c| {
            c.get("Services").is_some_and(|s| {
                s.value
                    .split([',', ' '])
                    .any(|x| x.trim().eq_ignore_ascii_case("SMTP"))
            })
        })
        .collect();
    if smtp.is_empty() {
        return rule
            .finding(
                Status::Unknown,
                "None of the pasted certificates is bound to SMTP (Services without SMTP); \
                 paste the one SMTP uses.",
            )
            .with_evidences(ctx.certs.iter().map(|c| ev_or(c, "Services")));
    }
    let day = 86_400i64;
    // (severity rank, status, severity, text, evidence)
    let mut worst: Option<(u8, Status, Severity)> = None;
    let mut notes = Vec::new();
    let mut evidence = Vec::new();
    let mut unsure = Vec::new();
    for c in smtp {
        let id = c
            .get("Thumbprint")
            .map(|t| t.value.to_string())
            .unwrap_or_else(|| c.identity());
        let subject = c
            .get("Subject")
            .map(|s| format!(" ({})", s.value.trim()))
            .unwrap_or_default();
        let Some(p) = c.get("NotAfter") else {
            unsure.push(format!("{id}: no NotAfter in the output"));
            continue;
        };
        let judge = |t: i64| -> (u8, Status, Severity, String) {
            let left = (t - now).div_euclid(day);
            if t <= now {
                (
                    4,
                    Status::Fail,
                    Severity::Critical,
                    format!("expired on {} ({} days ago)", when::day(t), -left),
                )
            } else if t - now < 30 * day {
                (
                    3,
                    Status::Fail,
                    Severity::High,
                    format!("expires on {} (in {left} days)", when::day(t)),
                )
            } else if t - now < 60 * day {
                (
                    2,
                    Status::Warn,
                    Severity::High,
                    format!("expires on {} (in {left} days)", when::day(t)),
                )
            } else {
                (
                    0,
                    Status::Pass,
                    Severity::High,
                    format!("valid until {} ({left} days)", when::day(t)),
                )
            }
        };
        let verdict = match when::parse(&p.value) {
            Some(Parsed::One(t)) => judge(t),
            Some(Parsed::Ambiguous {
                month_first,
                day_first,
            }) => {
                let (a, b) = (judge(month_first), judge(day_first));
                if a.1 == b.1 && a.2 == b.2 {
                    let mut v = a.clone();
                    v.3 = format!(
                        "{} read month-first, {} read day-first (the date \"{}\" is ambiguous, \
                         but both readings agree)",
                        a.3,
                        b.3,
                        p.value.trim()
                    );
                    v
                } else {
                    unsure.push(format!(
                        "{id}{subject}: NotAfter \"{}\" is ambiguous — {} if month/day, {} if \
                         day/month; run `Get-ExchangeCertificate | Format-List \
                         Thumbprint,@{{n='NotAfter';e={{$_.NotAfter.ToString('o')}}}}` to print \
                         it unambiguously",
                        p.value.trim(),
                        a.3,
                        b.3
                    ));
                    evidence.push(ev(c, p));
                    continue;
                }
            }
            None => {
                unsure.push(format!(
                    "{id}: NotAfter \"{}\" is not a date this tool reads",
                    p.value.trim()
                ));
                evidence.push(ev(c, p));
                continue;
            }
        };
        notes.push(format!("{id}{subject} {}", verdict.3));
        evidence.push(ev(c, p));
        if let Some(s) = c.get("Services") {
            evidence.push(ev(c, s));
        }
        if worst.is_none_or(|w| verdict.0 > w.0) {
            worst = Some((verdict.0, verdict.1, verdict.2));
        }
    }
    let fix = "New-ExchangeCertificate (or import a renewed certificate from your CA), then:\n\
               Enable-ExchangeCertificate -Thumbprint <new thumbprint> -Services SMTP";
    match worst {
        Some((rank, status, sev)) if rank > 0 => {
            let mut detail = format!(
                "The certificate SMTP uses {}: remote servers that verify it (DANE, MTA-STS) \
                 stop delivering, and clients warn.",
                notes.join("; ")
            );
            if !unsure.is_empty() {
                detail.push_str(&format!(" Also: {}.", unsure.join("; ")));
            }
            rule.finding(status, detail)
                .with_severity(sev)
                .with_evidences(evidence)
                .with_remediation(fix)
        }
        _ if !unsure.is_empty() => rule
            .finding(
                Status::Unknown,
                format!(
                    "{}{}",
                    unsure.join("; "),
                    if notes.is_empty() {
                        String::new()
                    } else {
                        format!(". Others: {}", notes.join("; "))
                    }
                ),
            )
            .with_evidences(evidence),
        _ => rule
            .finding(
                Status::Pass,
                format!("Certificates bound to SMTP: {}.", notes.join("; ")),
            )
            .with_evidences(evidence),
    }
}

pub(crate) fn dkim_signing(ctx: &Ctx) -> Finding {
    let _ = ctx;
    EXCHANGE_DKIM_SIGNING
        .finding(
            Status::Info,
            "Exchange Server on-premises cannot sign outgoing mail with DKIM by itself: sign with \
             a third-party transport agent on the Exchange servers, or at the gateway or cloud \
             service that sends your mail to the internet, and publish the selector's key in \
             DNS.",
        )
        .with_remediation(
            "# Install a DKIM signing transport agent (e.g. the open-source \"DKIM Signer for \
             Exchange\"),\n# or route outbound mail through a gateway that signs; check with:\n\
             Get-TransportAgent",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers() {
        let c = cover("0.0.0.0-255.255.255.255").unwrap();
        assert!(c.public && c.count == 1 << 32);
        assert!(!cover("10.0.0.0/8").unwrap().public);
        assert!(!cover("192.168.1.10").unwrap().public);
        assert!(cover("192.0.2.0/24").unwrap().public);
        assert!(
            cover("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
                .unwrap()
                .public
        );
        assert!(!cover("fd00::/8").unwrap().public);
        assert_eq!(cover("10.0.0.1-10.0.0.4").unwrap().count, 4);
        assert!(cover("banana").is_none());
        assert!(cover("1.2.3.4/99").is_none());
        assert!(cover("::/0").unwrap().public);
    }

    #[test]
    fn builds_and_sizes() {
        assert_eq!(
            Build::parse("Version 15.2 (Build 1258.28)"),
            Some(Build(15, 2, 1258, 28))
        );
        assert_eq!(Build::parse("15.02.1258.028"), Some(Build(15, 2, 1258, 28)));
        assert!(has_nov23(Build(15, 2, 1258, 28)).0);
        assert!(!has_nov23(Build(15, 2, 1258, 27)).0);
        assert!(has_nov23(Build(15, 2, 1544, 4)).0);
        assert!(has_nov23(Build(15, 2, 1118, 40)).0);
        assert!(!has_nov23(Build(15, 2, 1118, 39)).0);
        assert!(!has_nov23(Build(15, 2, 986, 42)).0);
        assert!(has_nov23(Build(15, 1, 2507, 35)).0);
        assert!(!has_nov23(Build(15, 1, 2507, 34)).0);
        assert!(!has_nov23(Build(15, 0, 1497, 48)).0);
        assert_eq!(
            byte_size("36 MB (37,748,736 bytes)"),
            Some(Some(37_748_736))
        );
        assert_eq!(byte_size("Unlimited"), Some(None));
        assert_eq!(byte_size("150MB"), None);
        assert_eq!(byte_size("150 MB"), Some(Some(150 * 1024 * 1024)));
        assert_eq!(timespan("00:00:05"), Some(5.0));
        assert_eq!(timespan("1.00:00:00"), Some(86_400.0));
        assert_eq!(timespan("00:00:00.5000000"), Some(0.5));
    }
}
