//! Microsoft Exchange Server (on-premises): pasted PowerShell output of
//! `Get-ReceiveConnector`, `Get-SendConnector`, `Get-TransportConfig`,
//! `Get-ExchangeCertificate`, `Get-ExchangeServer` and `Get-ADPermission`
//! (`Format-List`, and simple `Format-Table` output).
//!
//! [`parse`] turns the text into objects of properties and tells each
//! object's cmdlet by its properties; [`rules`] judges them. A value cut by
//! PowerShell (`{a, b, c...}`, `$FormatEnumerationLimit`) never passes a
//! check that needs the missing items: it is `unknown`, with the command
//! that prints it whole. Certificate expiry compares `NotAfter`, read in
//! the formats PowerShell prints ([`when`]), with the analysis time the
//! host passes in (`now`); `shared/` never reads a clock.
//!
//! Rules: exchange.anonymous_relay, exchange.smuggling,
//! exchange.auth_plaintext, exchange.tls_off, exchange.size_limit,
//! exchange.rate_limits, exchange.tarpit, exchange.logging,
//! exchange.banner_disclosure, exchange.cert_expiry, exchange.dkim_signing.

pub mod parse;
pub mod rules;
pub mod when;

use crate::config::{ConfigOptions, Input};
use crate::report::{Assumption, Evidence, Finding};
use crate::rules::Rule;
use parse::{ObjKind, Object};
use rules::Build;

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &rules::EXCHANGE_ANONYMOUS_RELAY,
    &rules::EXCHANGE_SMUGGLING,
    &rules::EXCHANGE_AUTH_PLAINTEXT,
    &rules::EXCHANGE_TLS_OFF,
    &rules::EXCHANGE_SIZE_LIMIT,
    &rules::EXCHANGE_RATE_LIMITS,
    &rules::EXCHANGE_TARPIT,
    &rules::EXCHANGE_LOGGING,
    &rules::EXCHANGE_BANNER_DISCLOSURE,
    &rules::EXCHANGE_CERT_EXPIRY,
    &rules::EXCHANGE_DKIM_SIGNING,
];

/// The current release, named when the paste states none.
pub const CURRENT_RELEASE: &str = "Exchange Server Subscription Edition (15.2.2562)";

/// Everything a rule needs.
pub(crate) struct Ctx<'a> {
    pub receive: Vec<&'a Object<'a>>,
    pub send: Vec<&'a Object<'a>>,
    pub transport: Vec<&'a Object<'a>>,
    pub certs: Vec<&'a Object<'a>>,
    pub perms: Vec<&'a Object<'a>>,
    /// The oldest build stated, with where.
    pub build: Option<(Build, Evidence)>,
    /// Analysis time (Unix seconds).
    pub now: Option<i64>,
}

/// The analyser [`crate::config::analyze`] calls for the parts recognised
/// as Exchange.
pub fn analyse(parts: &[Input], opts: &ConfigOptions) -> (Vec<Finding>, Vec<Assumption>) {
    let objects: Vec<Object> = parts
        .iter()
        .flat_map(|p| parse::parse(&p.name, &p.text))
        .collect();
    check(&objects, opts.assume_version.as_deref(), &opts.now)
}

/// Rules over parsed objects.
pub fn check(
    objects: &[Object],
    assume_version: Option<&str>,
    now: &str,
) -> (Vec<Finding>, Vec<Assumption>) {
    let of = |k: ObjKind| {
        objects
            .iter()
            .filter(move |o| o.kind == k)
            .collect::<Vec<_>>()
    };
    let mut assumptions = Vec::new();
    // Builds: Get-ExchangeServer's AdminDisplayVersion, or ExSetup.exe's
    // file version; the oldest server decides.
    let mut stated: Vec<(Build, Evidence, String)> = Vec::new();
    for o in objects {
        let p = o
            .get("AdminDisplayVersion")
            .filter(|_| o.kind == ObjKind::Server)
            .or_else(|| {
                o.get("FileName")
                    .filter(|f| f.value.to_ascii_lowercase().ends_with("exsetup.exe"))
                    .and(o.get("FileVersion").or_else(|| o.get("ProductVersion")))
            });
        if let Some(p) = p {
            if let Some(b) = Build::parse(&p.value) {
                stated.push((
                    b,
                    Evidence::Config {
                        file: o.file.clone(),
                        line: u32::try_from(p.line).ok(),
                        text: p.text.to_string(),
                    },
                    o.get("Name")
                        .map(|n| n.value.to_string())
                        .unwrap_or_default(),
                ));
            }
        }
    }
    stated.sort_by_key(|s| s.0);
    let assumed = assume_version.and_then(Build::parse);
    if let (Some(bad), None) = (assume_version, assumed) {
        assumptions.push(Assumption::new(
            "exchange.version.ignored",
            format!("--assume-version {bad:?} is not an Exchange build (e.g. 15.2.1258.28)"),
        ));
    }
    let build = match (assumed, stated.first()) {
        (Some(b), _) => {
            assumptions.push(Assumption::new(
                "exchange.version",
                format!("{} {b} (from --assume-version)", b.product()),
            ));
            Some((
                b,
                Evidence::Note {
                    text: format!("build {b} (given with --assume-version)"),
                },
            ))
        }
        (None, Some((b, e, name))) => {
            assumptions.push(Assumption::new(
                "exchange.version",
                format!(
                    "{} {b} (from the input{}{})",
                    b.product(),
                    if name.is_empty() { "" } else { ", server " },
                    name
                ),
            ));
            Some((*b, e.clone()))
        }
        (None, None) => {
            assumptions.push(Assumption::new(
                "exchange.version",
                format!(
                    "not stated (paste `Get-ExchangeServer | Format-List Name,AdminDisplayVersion`); \
                     the build is not judged. Current release: {CURRENT_RELEASE}"
                ),
            ));
            None
        }
    };
    let counts: Vec<String> = [
        (ObjKind::ReceiveConnector, "receive connector"),
        (ObjKind::SendConnector, "send connector"),
        (ObjKind::TransportConfig, "transport configuration"),
        (ObjKind::Certificate, "certificate"),
        (ObjKind::Server, "server"),
        (ObjKind::AdPermission, "AD permission entry"),
        (ObjKind::Other, "unrecognised object"),
    ]
    .iter()
    .filter_map(|(k, n)| {
        let c = objects.iter().filter(|o| o.kind == *k).count();
        (c > 0).then(|| format!("{c} {n}{}", if c == 1 { "" } else { "s" }))
    })
    .collect();
    assumptions.push(Assumption::new(
        "exchange.objects",
        if counts.is_empty() {
            "no objects found in the PowerShell output".to_string()
        } else {
            counts.join(", ")
        },
    ));
    let ctx = Ctx {
        receive: of(ObjKind::ReceiveConnector),
        send: of(ObjKind::SendConnector),
        transport: of(ObjKind::TransportConfig),
        certs: of(ObjKind::Certificate),
        perms: of(ObjKind::AdPermission),
        build,
        now: crate::probe::plan::unix_time(now),
    };
    let findings = vec![
        rules::anonymous_relay(&ctx),
        rules::smuggling(&ctx),
        rules::auth_plaintext(&ctx),
        rules::tls_off(&ctx),
        rules::size_limit(&ctx),
        rules::rate_limits(&ctx),
        rules::tarpit(&ctx),
        rules::logging(&ctx),
        rules::banner_disclosure(&ctx),
        rules::cert_expiry(&ctx),
        rules::dkim_signing(&ctx),
    ];
    (findings, assumptions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{analyze, recognise, Software};
    use crate::report::{Report, Severity, Status};

    const RC: &str =
        include_str!("../../../../tests/fixtures/exchange/ex2019-receive-connectors.txt");
    const SC: &str = include_str!("../../../../tests/fixtures/exchange/ex2019-send-connector.txt");
    const TC: &str =
        include_str!("../../../../tests/fixtures/exchange/ex2019-transport-config.txt");
    const CERT: &str = include_str!("../../../../tests/fixtures/exchange/ex2019-certificates.txt");
    const SRV: &str = include_str!("../../../../tests/fixtures/exchange/ex2019-server.txt");
    const PERM: &str = include_str!("../../../../tests/fixtures/exchange/ex2019-adpermission.txt");
    const NOW: &str = "2026-11-29T12:00:00Z";

    fn run_at(text: &str, version: Option<&str>, now: &str) -> Vec<Finding> {
        check(&parse::parse("pasted", text), version, now).0
    }

    fn run(text: &str) -> Vec<Finding> {
        run_at(text, None, NOW)
    }

    fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
        fs.iter().find(|f| f.id == id).expect(id)
    }

    fn st(text: &str, id: &str) -> Status {
        get(&run(text), id).status
    }

    /// One receive connector, `Format-List` style, with overrides.
    fn rc(over: &[(&str, &str)]) -> String {
        let mut props: Vec<(String, String)> = [
            (
                "AuthMechanism",
                "Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer",
            ),
            ("Banner", "220 mx.contoso.com ESMTP"),
            ("Bindings", "{[::]:25, 0.0.0.0:25}"),
            ("BareLinefeedRejectionEnabled", "True"),
            ("Fqdn", "mx.contoso.com"),
            ("MessageRateLimit", "60"),
            ("MaxInboundConnection", "5000"),
            ("MaxInboundConnectionPerSource", "20"),
            ("MaxMessageSize", "36 MB (37,748,736 bytes)"),
            (
                "PermissionGroups",
                "AnonymousUsers, ExchangeServers, ExchangeLegacyServers",
            ),
            ("ProtocolLoggingLevel", "Verbose"),
            (
                "RemoteIPRanges",
                "{::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, 0.0.0.0-255.255.255.255}",
            ),
            ("RequireTLS", "False"),
            ("TarpitInterval", "00:00:05"),
            ("Identity", "EX01\\Default Frontend EX01"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        for (k, v) in over {
            match props.iter_mut().find(|(n, _)| n == k) {
                Some(p) => p.1 = v.to_string(),
                None => props.push((k.to_string(), v.to_string())),
            }
        }
        props
            .iter()
            .map(|(k, v)| format!("{k:<30} : {v}\n"))
            .collect::<String>()
            + "\n"
    }

    const ANON_PERMS: &str = "Identity       : EX01\\Default Frontend EX01\n\
                              User           : NT AUTHORITY\\ANONYMOUS LOGON\n\
                              ExtendedRights : {ms-Exch-SMTP-Submit}\nDeny           : False\n\n";

    fn hard() -> String {
        format!(
            "{}{ANON_PERMS}Name                : EX01\nAdminDisplayVersion : Version 15.2 (Build 1544.4)\n\n\
             Thumbprint : 3B9A\nServices   : IIS, SMTP\nNotAfter   : 6/30/2027 11:59:59 PM\n\n",
            rc(&[])
        )
    }

    #[test]
    fn hardened_output_passes_every_rule() {
        let fs = run(&hard());
        assert_eq!(fs.len(), RULES.len());
        for f in &fs {
            let want = if f.id == "exchange.dkim_signing" {
                Status::Info
            } else {
                Status::Pass
            };
            assert_eq!(f.status, want, "{}: {}", f.id, f.detail);
        }
    }

    #[test]
    fn findings_follow_the_registry() {
        let ids: Vec<String> = run("").into_iter().map(|f| f.id).collect();
        let reg: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids, reg);
        // Nothing pasted: unknown, never pass.
        for f in run("") {
            assert!(
                matches!(f.status, Status::Unknown | Status::Info),
                "{}: {:?}",
                f.id,
                f.status
            );
        }
    }

    #[test]
    fn anonymous_relay() {
        let id = "exchange.anonymous_relay";
        let relay = "Identity       : EX01\\Default Frontend EX01\n\
                     User           : NT AUTHORITY\\ANONYMOUS LOGON\n\
                     ExtendedRights : {ms-Exch-SMTP-Accept-Any-Recipient}\nDeny           : False\n\n";
        let f = run(&format!("{}{relay}", rc(&[])));
        let r = get(&f, id);
        assert_eq!(r.status, Status::Fail);
        assert!(r.remediation.contains("Remove-ADPermission"));
        assert!(r.remediation.contains("\"EX01\\Default Frontend EX01\""));
        // Denied, or for a connector limited to two internal hosts: no relay.
        assert_eq!(
            st(
                &format!(
                    "{}{}",
                    rc(&[]),
                    relay.replace("Deny           : False", "Deny           : True")
                ),
                id
            ),
            Status::Pass
        );
        assert_eq!(
            st(
                &format!(
                    "{}{relay}",
                    rc(&[("RemoteIPRanges", "{10.0.0.5, 10.0.0.6}")])
                ),
                id
            ),
            Status::Pass
        );
        // Permissions not pasted, or cut.
        assert_eq!(st(&rc(&[]), id), Status::Unknown);
        let cut = "Identity       : EX01\\Default Frontend EX01\nUser           : NT AUTHORITY\\ANONYMOUS LOGON\n\
                   ExtendedRights : {ms-Exch-SMTP-Submit, ms-Exch-SMTP-Accept-Any-Sender, ms-Exch-SMTP-Accept-Authoritative-Domain-Sender, ms-Exch-Accept-Headers-Routing...}\n\n";
        assert_eq!(st(&format!("{}{cut}", rc(&[])), id), Status::Unknown);
        // ExternallySecured on the internet.
        let ext = rc(&[
            ("AuthMechanism", "Tls, ExternalAuthoritative"),
            ("PermissionGroups", "ExchangeServers"),
            ("Identity", "EX01\\Relay"),
        ]);
        assert_eq!(st(&ext, id), Status::Fail);
        // Table output of Get-ADPermission.
        let table = "User                         ExtendedRights                      Deny\n\
                     ----                         --------------                      ----\n\
                     NT AUTHORITY\\ANONYMOUS LOGON {ms-Exch-SMTP-Accept-Any-Recipient} False\n\n";
        assert_eq!(st(&format!("{}{table}", rc(&[])), id), Status::Fail);
    }

    #[test]
    fn smuggling() {
        let id = "exchange.smuggling";
        let srv = |b: &str| format!("Name                : EX01\nAdminDisplayVersion : {b}\n\n");
        assert_eq!(
            st(&rc(&[("BareLinefeedRejectionEnabled", "False")]), id),
            Status::Warn
        );
        assert_eq!(st(&rc(&[]), id), Status::Pass);
        let old = format!("{}{}", rc(&[]), srv("Version 15.2 (Build 1258.27)"));
        let f = run(&old);
        assert_eq!(get(&f, id).status, Status::Fail);
        assert!(get(&f, id).detail.contains("CU13 Nov23SU"));
        assert_eq!(
            st(
                &format!("{}{}", rc(&[]), srv("Version 15.1 (Build 2507.35)")),
                id
            ),
            Status::Pass
        );
        assert_eq!(
            st(
                &format!("{}{}", rc(&[]), srv("Version 15.1 (Build 2507.32)")),
                id
            ),
            Status::Fail
        );
        assert_eq!(
            get(&run_at(&rc(&[]), Some("15.2.1118.39"), NOW), id).status,
            Status::Fail
        );
        // Port 587 only: not judged by the connector.
        assert_eq!(
            st(
                &rc(&[
                    ("Bindings", "{0.0.0.0:587}"),
                    ("BareLinefeedRejectionEnabled", "False")
                ]),
                id
            ),
            Status::Pass
        );
    }

    /// A property and its value.
    type Kv = (&'static str, &'static str);

    #[test]
    fn per_connector_rules() {
        let pairs: &[(&str, Kv, Kv)] = &[
            (
                "exchange.auth_plaintext",
                ("AuthMechanism", "Tls, BasicAuth"),
                ("AuthMechanism", "Tls, BasicAuth, BasicAuthRequireTLS"),
            ),
            (
                "exchange.tls_off",
                ("AuthMechanism", "None"),
                ("AuthMechanism", "Tls"),
            ),
            (
                "exchange.size_limit",
                ("MaxMessageSize", "Unlimited"),
                ("MaxMessageSize", "50 MB (52,428,800 bytes)"),
            ),
            (
                "exchange.size_limit",
                ("MaxMessageSize", "200 MB (209,715,200 bytes)"),
                ("MaxMessageSize", "100 MB (104,857,600 bytes)"),
            ),
            (
                "exchange.rate_limits",
                ("MessageRateLimit", "Unlimited"),
                ("MessageRateLimit", "100"),
            ),
            (
                "exchange.rate_limits",
                ("MaxInboundConnectionPerSource", "Unlimited"),
                ("MaxInboundConnectionPerSource", "20"),
            ),
            (
                "exchange.tarpit",
                ("TarpitInterval", "00:00:00"),
                ("TarpitInterval", "00:00:10"),
            ),
            (
                "exchange.logging",
                ("ProtocolLoggingLevel", "None"),
                ("ProtocolLoggingLevel", "Verbose"),
            ),
            (
                "exchange.banner_disclosure",
                ("Banner", ""),
                ("Banner", "220 mx ESMTP"),
            ),
            (
                "exchange.banner_disclosure",
                ("Banner", "220 mx Microsoft ESMTP MAIL Service ready"),
                ("Banner", "220 mx.contoso.com"),
            ),
        ];
        for (id, bad, good) in pairs {
            let f = run(&rc(&[*bad]));
            let r = get(&f, id);
            assert_eq!(r.status, Status::Fail, "{id} {bad:?}: {}", r.detail);
            assert!(
                r.remediation
                    .contains("-Identity \"EX01\\Default Frontend EX01\""),
                "{id}: {}",
                r.remediation
            );
            assert!(!r.evidence.is_empty(), "{id}");
            assert_eq!(st(&rc(&[*good]), id), Status::Pass, "{id} {good:?}");
        }
        // Partners must require TLS.
        let p = rc(&[("PermissionGroups", "Partners"), ("RequireTLS", "False")]);
        assert_eq!(st(&p, "exchange.tls_off"), Status::Fail);
        // The organisation-wide limit.
        assert_eq!(
            st(
                "MaxRecipientEnvelopeLimit : 500\nMaxReceiveSize : Unlimited\n",
                "exchange.size_limit"
            ),
            Status::Fail
        );
    }

    #[test]
    fn cert_expiry() {
        let id = "exchange.cert_expiry";
        let cert = |after: &str| {
            format!("Thumbprint : AB12\nServices   : IIS, SMTP\nNotAfter   : {after}\n\n")
        };
        let f = run(&cert("11/1/2026 11:59:59 PM"));
        assert_eq!(get(&f, id).status, Status::Fail);
        assert_eq!(get(&f, id).severity, Severity::Critical);
        let f = run(&cert("12/20/2026 11:59:59 PM"));
        assert_eq!(
            (get(&f, id).status, get(&f, id).severity),
            (Status::Fail, Severity::High)
        );
        assert_eq!(st(&cert("2027-01-15 10:00:00"), id), Status::Warn);
        assert_eq!(st(&cert("31.12.2027 23:59:59"), id), Status::Pass);
        // 05/01/2027: 1 May (pass) or 5 January (warn): say so.
        let f = run(&cert("05/01/2027 10:00:00"));
        assert_eq!(get(&f, id).status, Status::Unknown);
        assert!(
            get(&f, id).detail.contains("ambiguous"),
            "{}",
            get(&f, id).detail
        );
        // Both readings far away: fine either way.
        assert_eq!(st(&cert("03/04/2030 10:00:00"), id), Status::Pass);
        assert_eq!(st("", id), Status::Unknown);
        assert_eq!(
            st("Thumbprint : AB\nServices : IIS\nNotAfter : 1/1/2020\n", id),
            Status::Unknown
        );
    }

    fn report(inputs: &[Input]) -> Report {
        analyze(
            inputs,
            &ConfigOptions {
                now: NOW.into(),
                ..Default::default()
            },
        )
        .expect("report")
    }

    #[test]
    fn stock_exchange_2019_outputs() {
        let paste = format!("{RC}{SC}{TC}{CERT}{SRV}");
        let inputs = [Input::new("pasted", paste)];
        let d = recognise(&inputs, None);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].software, Software::Exchange);
        assert!(
            d[0].kind.contains("Get-ReceiveConnector output"),
            "{}",
            d[0].kind
        );
        let r = report(&inputs);
        let s = |id: &str| r.findings.iter().find(|f| f.id == id).expect(id).status;
        for (id, want) in [
            ("exchange.anonymous_relay", Status::Unknown),
            ("exchange.smuggling", Status::Warn),
            ("exchange.auth_plaintext", Status::Pass),
            ("exchange.tls_off", Status::Pass),
            ("exchange.size_limit", Status::Pass),
            ("exchange.rate_limits", Status::Fail),
            ("exchange.tarpit", Status::Pass),
            ("exchange.logging", Status::Fail),
            ("exchange.banner_disclosure", Status::Fail),
            ("exchange.cert_expiry", Status::Fail),
            ("exchange.dkim_signing", Status::Info),
        ] {
            assert_eq!(s(id), want, "{id}");
        }
        let a = r
            .assumptions
            .iter()
            .find(|a| a.key == "exchange.objects")
            .unwrap();
        assert_eq!(
            a.value,
            "5 receive connectors, 1 send connector, 1 transport configuration, 3 certificates, 1 server"
        );
        let v = r
            .assumptions
            .iter()
            .find(|a| a.key == "exchange.version")
            .unwrap();
        assert!(
            v.value.starts_with("Exchange Server 2019 15.2.1258.28"),
            "{}",
            v.value
        );
        // The smuggling warning names the port-25 connector and its line.
        let sm = r
            .findings
            .iter()
            .find(|f| f.id == "exchange.smuggling")
            .unwrap();
        assert!(sm.detail.contains("EX01\\Default Frontend EX01"));
        assert!(sm.remediation.contains("Set-ReceiveConnector -Identity \"EX01\\Default Frontend EX01\" -BareLinefeedRejectionEnabled $true"));
        // With the stock AD permissions pasted: no anonymous relay.
        let r = report(&[Input::new("pasted", format!("{RC}{PERM}"))]);
        let relay = r
            .findings
            .iter()
            .find(|f| f.id == "exchange.anonymous_relay")
            .unwrap();
        assert_eq!(relay.status, Status::Pass, "{}", relay.detail);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for t in [
            "Bindings : {",
            "RemoteIPRanges : {1.2.3.4/99, ::/0, x-y}\nBindings : {:}",
            "NotAfter : 99/99/9999",
            "Thumbprint : x\nServices : SMTP\nNotAfter :",
            "MaxMessageSize : (",
            "TarpitInterval : 1.:",
            "AdminDisplayVersion : Version 15.2 (Build",
            "User : ANONYMOUS LOGON\nExtendedRights : {",
        ] {
            let _ = run(t);
            let _ = run(&t.repeat(3));
        }
    }
}
