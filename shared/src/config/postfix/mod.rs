//! Postfix: `main.cf`, `master.cf`, `postconf -n` / `postconf -M` /
//! `postconf -P` output.
//!
//! Read as Postfix reads them ([`parse`]), values expanded as Postfix
//! expands them ([`expand`]), with the built-in defaults of the release
//! being judged ([`defaults`]). Each smtpd service is judged with its own
//! view: its master.cf `-o` overrides, else main.cf, else the default — and
//! `$name` references inside values see the overrides too, as in Postfix.
//!
//! Rules are declared in the module that decides them ([`relay`],
//! [`smtpd`], [`tls`], [`params`]) and listed here in catalog order.

pub mod defaults;
pub(crate) mod expand;
pub mod fix;
mod names;
pub mod params;
pub mod parse;
pub mod relay;
pub mod smtpd;
pub mod tls;
pub mod version;

pub use defaults::Version;
pub use fix::{fix, Edit, FixPlan, Fixed, FixedFile, Manual, Remedy};
pub use parse::{Config, Diagnostic, Param, Service, Source};

use super::Input;
use crate::report::{Assumption, Evidence, Finding};
use crate::rules::Rule;
use expand::Lookup;
use std::cell::RefCell;
use std::collections::HashMap;

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &relay::POSTFIX_OPEN_RELAY,
    &relay::POSTFIX_MYNETWORKS_BROAD,
    &smtpd::POSTFIX_SMUGGLING,
    &relay::POSTFIX_SMUGGLING_EXCLUSIONS,
    &smtpd::POSTFIX_AUTH_PLAINTEXT,
    &smtpd::POSTFIX_SASL_ANONYMOUS,
    &tls::POSTFIX_TLS_INBOUND_OFF,
    &tls::POSTFIX_TLS_OUTBOUND_OFF,
    &tls::POSTFIX_TLS_PROTOCOLS,
    &tls::POSTFIX_TLS13_DISABLED,
    &tls::POSTFIX_TLS_CIPHERS,
    &tls::POSTFIX_SUBMISSION_PLAINTEXT,
    &smtpd::POSTFIX_VRFY_ENABLED,
    &smtpd::POSTFIX_RATE_LIMITS,
    &smtpd::POSTFIX_GREETING_DELAY,
    &smtpd::POSTFIX_SIZE_LIMIT,
    &smtpd::POSTFIX_LOGGING,
    &smtpd::POSTFIX_BANNER_DISCLOSURE,
    &smtpd::POSTFIX_HELO_REQUIRED,
    &smtpd::POSTFIX_DNSBL_CODES,
    &smtpd::POSTFIX_DKIM_SIGNING,
    &params::POSTFIX_UNKNOWN_PARAMETER,
    &tls::POSTFIX_OUTBOUND_DANE,
    &version::POSTFIX_VERSION,
];

/// smtpd services judged at most (hostile input; real master.cf files
/// have a handful).
pub const MAX_SERVICES: usize = 64;

/// The release whose defaults apply when no version is stated.
pub const CURRENT_STABLE: &str = "3.10";

/// Whether the texts look like Postfix configuration.
pub fn looks_like_postfix(parts: &[Input]) -> bool {
    looks_like_postfix_config(&Config::parse(parts))
}

/// [`looks_like_postfix`] on texts already parsed, so that detection and
/// analysis share one parse ([`crate::config::analyze`]).
pub fn looks_like_postfix_config(cfg: &Config) -> bool {
    // A master.cf service decides it: no need to look up every name.
    if cfg.has_master {
        return true;
    }
    let v = Version::parse(CURRENT_STABLE).expect("valid");
    let known = cfg
        .params
        .iter()
        .filter(|p| {
            defaults::default(&p.name, &v).is_some() || KNOWN_EXTRA.contains(&p.name.as_str())
        })
        .count();
    known >= 1 && known * 2 >= cfg.params.len().max(1)
}

/// Whether `name` is a parameter Postfix knows (any supported release).
pub fn is_parameter_name(name: &str) -> bool {
    // A hash set: detection asks this for every `name = value` line of a
    // paste, and a binary search over ~950 names costs ten string
    // comparisons a line.
    static SET: std::sync::OnceLock<std::collections::HashSet<&str, foldhash::fast::FixedState>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| names::NAMES.iter().copied().collect())
        .contains(name)
}

/// Every parameter name Postfix knows (any supported release), for
/// detection's one name table.
pub(crate) fn parameter_names() -> &'static [&'static str] {
    names::NAMES
}

/// `str::split_ascii_whitespace`, skipping runs of blanks in one step
/// (the std iterator yields, then filters out, an empty piece per blank:
/// detection runs this over every line, and `Format-List` lines hold runs
/// of 30 blanks).
struct AsciiFields<'a>(&'a str);

impl<'a> Iterator for AsciiFields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let b = self.0.as_bytes();
        let start = b.iter().position(|c| !c.is_ascii_whitespace())?;
        let end = b
            .iter()
            .skip(start)
            .position(u8::is_ascii_whitespace)
            .map_or(b.len(), |n| start + n);
        // Both ends are at ASCII bytes (or the end): character boundaries.
        let field = self.0.get(start..end)?;
        self.0 = self.0.get(end..).unwrap_or("");
        Some(field)
    }
}

/// Whether a line has the shape of a master.cf service or `postconf -M`
/// line: a service name, a known type, then private/unpriv/chroot
/// (`y`, `n`, `-`), wakeup and maxproc (numbers, `-`, `?`), a command.
pub fn may_be_service_line(line: &str) -> bool {
    let mut f = AsciiFields(line);
    // The type first: detection asks this of lines that are mostly not
    // service lines, and most fail here.
    let (Some(_), Some(kind)) = (f.next(), f.next()) else {
        return false;
    };
    if !parse::SERVICE_TYPES.contains(&kind) {
        return false;
    }
    let (Some(p), Some(u), Some(c), Some(w), Some(m), Some(_cmd)) =
        (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
    else {
        return false;
    };
    let flag = |s: &str| matches!(s, "y" | "n" | "-");
    let num = |s: &str| {
        s == "-" || s.trim_end_matches('?').chars().all(|c| c.is_ascii_digit()) && !s.is_empty()
    };
    flag(p) && flag(u) && flag(c) && num(w) && num(m)
}

/// Parameters recognised for detection whose value no rule reads.
const KNOWN_EXTRA: &[&str] = &[
    "myhostname",
    "mydomain",
    "myorigin",
    "mydestination",
    "mynetworks",
    "inet_protocols",
    "relayhost",
    "alias_maps",
    "alias_database",
    "biff",
    "append_dot_mydomain",
    "readme_directory",
    "mailbox_size_limit",
    "recipient_delimiter",
    "home_mailbox",
    "virtual_transport",
    "virtual_mailbox_domains",
    "smtpd_sasl_path",
    "milter_default_action",
    "queue_directory",
    "smtp_tls_CApath",
    "smtp_tls_CAfile",
    "smtpd_tls_session_cache_database",
    "smtp_tls_session_cache_database",
];

/// A value as one service sees it: `-o` override, else main.cf, else the
/// default of the release; `$name` references expanded.
#[derive(Debug, Clone)]
pub(crate) struct Value {
    pub name: String,
    /// Expanded text.
    pub text: String,
    /// Where it was set; None = the built-in default.
    pub origin: Option<Source>,
    /// Lines of the parameters its expansion referenced.
    pub refs: Vec<Source>,
    /// Names of the parameters its expansion referenced.
    pub ref_names: Vec<String>,
    /// An expansion error Postfix would stop at.
    pub error: Option<String>,
    /// Whether the parameter exists in the judged release (set or default).
    pub exists: bool,
    version: String,
    compat_dependent: bool,
}

impl Value {
    /// The line that set it (plus the lines its `$name` references came
    /// from), or the default.
    pub fn evidence(&self) -> Vec<Evidence> {
        let mut out = vec![self.primary()];
        for r in &self.refs {
            let e = r.evidence();
            if !out.contains(&e) {
                out.push(e);
            }
        }
        out
    }

    pub fn primary(&self) -> Evidence {
        match &self.origin {
            Some(s) => s.evidence(),
            None if !self.exists => Evidence::Config {
                file: "main.cf".into(),
                line: None,
                text: format!(
                    "{} not set; Postfix {} does not have this parameter",
                    self.name, self.version
                ),
            },
            None => Evidence::Config {
                file: "main.cf".into(),
                line: None,
                text: format!(
                    "{} not set; default for Postfix {} is \"{}\"{}",
                    self.name,
                    self.version,
                    self.text,
                    if self.compat_dependent {
                        " (at the configured compatibility_level)"
                    } else {
                        ""
                    }
                ),
            },
        }
    }

    pub fn is_yes(&self) -> bool {
        matches!(
            self.text.trim().to_ascii_lowercase().as_str(),
            "yes" | "true"
        )
    }

    pub fn lower(&self) -> String {
        self.text.trim().to_ascii_lowercase()
    }

    pub fn is_set(&self) -> bool {
        self.origin.is_some()
    }
}

/// What one smtpd service (or main.cf alone, `service: None`) sees.
pub(crate) struct View<'a> {
    pub cfg: &'a Config,
    pub service: Option<&'a Service>,
    pub version: &'a Version,
    /// Values already expanded for this view.
    /// (foldhash: the names are not attacker-chosen keys of a long-lived
    /// map, and SipHash was a visible share of the look-ups.)
    cache: RefCell<HashMap<String, Value, foldhash::fast::RandomState>>,
}

impl Lookup for View<'_> {
    fn lookup(&self, name: &str) -> Option<(String, Option<Source>)> {
        if let Some(p) = self
            .service
            .and_then(|s| s.overrides.iter().rev().find(|p| p.name == name))
        {
            return Some((p.value.to_string(), Some(p.source.clone())));
        }
        // A daemon's service_name is its master.cf service (`postconf -P -x`).
        if let (Some(s), "service_name") = (self.service, name) {
            return Some((s.name.clone(), None));
        }
        if let Some(p) = self.cfg.main(name) {
            return Some((p.value.to_string(), Some(p.source.clone())));
        }
        defaults::default(name, self.version).map(|d| (d, None))
    }
}

impl<'a> View<'a> {
    pub fn new(cfg: &'a Config, service: Option<&'a Service>, version: &'a Version) -> Self {
        View {
            cfg,
            service,
            version,
            cache: RefCell::default(),
        }
    }

    pub fn get(&self, name: &str) -> Value {
        #[cfg(test)]
        params::note_read(name);
        if let Some(v) = self.cache.borrow().get(name) {
            return v.clone();
        }
        let v = self.compute(name);
        self.cache.borrow_mut().insert(name.to_string(), v.clone());
        v
    }

    fn compute(&self, name: &str) -> Value {
        let found = self.lookup(name);
        let has_default = defaults::default(name, self.version).is_some();
        let (raw, origin) = found.unwrap_or_default();
        let e = expand::expand(self, &raw);
        let refs = e
            .refs
            .iter()
            .filter_map(|(_, s)| s.clone())
            .filter(|s| Some(s) != origin.as_ref())
            .collect();
        Value {
            name: name.to_string(),
            text: e.text,
            compat_dependent: origin.is_none() && raw.contains("compatibility_level"),
            exists: has_default || origin.is_some(),
            origin,
            refs,
            ref_names: e.refs.into_iter().map(|(n, _)| n).collect(),
            error: e.error,
            version: self.version.text.clone(),
        }
    }

    pub fn label(&self) -> String {
        match self.service {
            Some(s) => format!("service {} ({})", s.name, s.kind),
            None => "main.cf".into(),
        }
    }

    /// The master.cf line of the service, when one was pasted.
    pub fn service_evidence(&self) -> Option<Evidence> {
        self.service
            .filter(|s| s.source.line > 0)
            .map(|s| s.source.evidence())
    }
}

/// Items of a Postfix list (comma and/or white space separated; `{ ... }`
/// groups kept whole).
pub(crate) fn list(value: &str) -> Vec<String> {
    if !value.contains(['{', '}']) {
        return value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut level = 0usize;
    for c in value.chars() {
        match c {
            '{' => {
                level += 1;
                cur.push(c);
            }
            '}' => {
                level = level.saturating_sub(1);
                cur.push(c);
            }
            c if level == 0 && (c == ',' || c.is_whitespace()) => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Everything a rule needs.
pub(crate) struct Ctx<'a> {
    pub cfg: &'a Config,
    pub version: &'a Version,
    /// smtpd services reachable from the network (or the stock one).
    pub views: Vec<View<'a>>,
    /// main.cf alone (client-side and global parameters).
    pub main: View<'a>,
    /// Whether master.cf was pasted (else the stock one is assumed).
    pub has_master: bool,
    /// How the judged release was chosen.
    pub version_source: version::VersionSource,
    /// The remedies of the findings made ([`fix::WithRemedy`]).
    pub remedies: RefCell<Vec<(String, fix::Remedy)>>,
}

/// The analyser [`crate::config::analyze`] calls for the parts recognised
/// as Postfix.
pub fn analyse(parts: &[Input], opts: &super::ConfigOptions) -> (Vec<Finding>, Vec<Assumption>) {
    check(&Config::parse(parts), opts.assume_version.as_deref())
}

/// Rules over a parsed configuration. Returns findings and assumptions.
pub fn check(cfg: &Config, assume_version: Option<&str>) -> (Vec<Finding>, Vec<Assumption>) {
    let (findings, assumptions, _) = check_with_remedies(cfg, assume_version);
    (findings, assumptions)
}

/// [`check`], with the remedy of each finding that has one.
pub(crate) fn check_with_remedies(
    cfg: &Config,
    assume_version: Option<&str>,
) -> (Vec<Finding>, Vec<Assumption>, Vec<(String, fix::Remedy)>) {
    let mut assumptions = Vec::new();
    let stated = cfg.main("mail_version").map(|p| p.value.clone());
    let assumed = assume_version.and_then(|v| Version::parse(v).map(|p| (v, p)));
    let (version, how, version_source) =
        match (&assumed, stated.as_deref().and_then(Version::parse)) {
            (Some((_, v)), _) => (
                v.clone(),
                "from --assume-version".to_string(),
                version::VersionSource::Assumed,
            ),
            (None, Some(v)) => (
                v,
                "from mail_version in the input".to_string(),
                version::VersionSource::Stated(
                    cfg.main("mail_version")
                        .map(|p| p.source.evidence())
                        .unwrap_or(Evidence::Note {
                            text: "mail_version".into(),
                        }),
                ),
            ),
            (None, None) => (
                Version::parse(CURRENT_STABLE).expect("valid"),
                "current stable release; the input does not state one".to_string(),
                version::VersionSource::Default,
            ),
        };
    if let (Some(bad), None) = (assume_version, &assumed) {
        assumptions.push(Assumption::new(
            "postfix.version.ignored",
            format!("--assume-version {bad:?} is not a Postfix version"),
        ));
    }
    let patch_note = if version.patch.is_none() {
        " (latest patch release of the series)"
    } else {
        ""
    };
    assumptions.insert(
        0,
        Assumption::new("postfix.version", format!("{version}{patch_note} ({how})")),
    );
    let compat = cfg.main("compatibility_level").map(|p| p.value.clone());
    assumptions.push(Assumption::new(
        "postfix.compatibility_level",
        match &compat {
            Some(c) => format!("{c} (from the input)"),
            None => "not set: Postfix applies its backwards-compatible defaults (level 0: \
                     smtpd_relay_restrictions empty, mynetworks_style = subnet)"
                .into(),
        },
    ));
    let default_master;
    let services: Vec<&Service> = if cfg.has_master {
        let all: Vec<&Service> = cfg
            .services
            .iter()
            .filter(|s| s.is_internet_facing())
            .collect();
        if all.len() > MAX_SERVICES {
            assumptions.push(Assumption::new(
                "postfix.services",
                format!(
                    "{} smtpd services in master.cf: only the first {MAX_SERVICES} were judged",
                    all.len()
                ),
            ));
        }
        all.into_iter().take(MAX_SERVICES).collect()
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
                part: 0,
                line: 0,
                text: "smtp      inet  n       -       y       -       -       smtpd".into(),
            },
        };
        vec![&default_master]
    };
    if !cfg.diagnostics.is_empty() {
        assumptions.push(Assumption::new(
            "postfix.unparsed",
            cfg.diagnostics
                .iter()
                .take(5)
                .map(|d| format!("{}:{}: {}", d.source.file, d.source.line, d.message))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    let ctx = Ctx {
        cfg,
        version: &version,
        views: services
            .iter()
            .map(|s| View::new(cfg, Some(s), &version))
            .collect(),
        main: View::new(cfg, None, &version),
        has_master: cfg.has_master,
        version_source,
        remedies: RefCell::default(),
    };
    let findings = vec![
        relay::open_relay(&ctx),
        relay::mynetworks_broad(&ctx),
        smtpd::smuggling(&ctx),
        relay::smuggling_exclusions(&ctx),
        smtpd::auth_plaintext(&ctx),
        smtpd::sasl_anonymous(&ctx),
        tls::tls_inbound_off(&ctx),
        tls::tls_outbound_off(&ctx),
        tls::tls_protocols(&ctx),
        tls::tls13_disabled(&ctx),
        tls::tls_ciphers(&ctx),
        tls::submission_plaintext(&ctx),
        smtpd::vrfy(&ctx),
        smtpd::rate_limits(&ctx),
        smtpd::greeting_delay(&ctx),
        smtpd::size_limit(&ctx),
        smtpd::logging(&ctx),
        smtpd::banner_disclosure(&ctx),
        smtpd::helo_required(&ctx),
        smtpd::dnsbl_codes(&ctx),
        smtpd::dkim_signing(&ctx),
        params::unknown_parameter(&ctx),
        tls::outbound_dane(&ctx),
        version::version(&ctx),
    ];
    (findings, assumptions, ctx.remedies.take())
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::report::Status;

    pub fn run_v(main: &str, master: Option<&str>, version: Option<&str>) -> Vec<Finding> {
        let mut parts = vec![Input::new("main.cf", main)];
        if let Some(m) = master {
            parts.push(Input::new("master.cf", m));
        }
        check(&Config::parse(&parts), version).0
    }

    pub fn run(main: &str, master: Option<&str>) -> Vec<Finding> {
        run_v(main, master, None)
    }

    pub fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
        fs.iter().find(|f| f.id == id).unwrap()
    }

    pub fn status(main: &str, master: Option<&str>, id: &str) -> Status {
        get(&run(main, master), id).status
    }

    /// A main.cf that passes every rule.
    pub const HARD: &str = "\
compatibility_level = 3.6
myhostname = mail.example.org
smtpd_banner = $myhostname ESMTP
mynetworks = 127.0.0.0/8 [::1]/128 10.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_pipelining, permit_mynetworks, sleep 1, reject_unauth_destination
disable_vrfy_command = yes
smtpd_helo_required = yes
smtpd_sasl_auth_enable = yes
smtpd_tls_auth_only = yes
smtpd_tls_security_level = may
smtpd_tls_chain_files = /etc/ssl/private/mail.pem
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtp_tls_protocols = >=TLSv1.2
smtp_tls_mandatory_protocols = >=TLSv1.2
smtp_tls_security_level = dane
smtp_dns_support_level = dnssec
smtpd_client_connection_rate_limit = 30
smtpd_client_message_rate_limit = 60
smtpd_client_recipient_rate_limit = 200
smtpd_client_auth_rate_limit = 10
smtpd_milters = inet:localhost:8891
non_smtpd_milters = $smtpd_milters
smtpd_tls_loglevel = 1
";
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::report::Status;

    #[test]
    fn ascii_fields_are_split_ascii_whitespace() {
        for s in [
            "",
            "   ",
            "a",
            " a  b\t\tc \r\n",
            "smtp      inet  n       -       y       -       -       smtpd",
            "Name                    : value é ü",
            "\u{a0}x\u{3000} y",
        ] {
            let want: Vec<&str> = s.split_ascii_whitespace().collect();
            assert_eq!(AsciiFields(s).collect::<Vec<_>>(), want, "{s:?}");
        }
    }

    #[test]
    fn hardened_config_passes_every_rule() {
        let fs = run_v(HARD, None, Some("3.10.1"));
        assert_eq!(fs.len(), RULES.len());
        for f in &fs {
            // Log forwarding is configured outside Postfix: info at best.
            let want = if f.id == "postfix.logging" {
                Status::Info
            } else {
                Status::Pass
            };
            assert_eq!(f.status, want, "{}: {}", f.id, f.detail);
        }
    }

    #[test]
    fn findings_follow_the_registry() {
        let fs = run("", None);
        let ids: Vec<&str> = fs.iter().map(|f| f.id.as_str()).collect();
        let reg: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids, reg);
    }

    #[test]
    fn version_sources() {
        let cfg = Config::parse(&[Input::new("x", "mail_version = 3.7.11\n")]);
        let (_, a) = check(&cfg, None);
        assert!(a[0].value.starts_with("3.7.11 (from mail_version"));
        let (_, a) = check(&cfg, Some("3.9.2"));
        assert!(a[0].value.starts_with("3.9.2 (from --assume-version"));
        let (_, a) = check(&Config::parse(&[]), None);
        assert!(
            a[0].value.starts_with("3.10 (latest patch"),
            "{}",
            a[0].value
        );
        let (_, a) = check(&cfg, Some("banana"));
        assert!(a.iter().any(|x| x.key == "postfix.version.ignored"));
    }

    #[test]
    fn overrides_are_seen_by_references() {
        let cfg = Config::parse(&[
            Input::new("main.cf", "a = $b\nb = main\n"),
            Input::new("master.cf", "smtp inet n - y - - smtpd -o b=svc\n"),
        ]);
        let v = Version::parse("3.10").unwrap();
        let view = View::new(&cfg, Some(&cfg.services[0]), &v);
        assert_eq!(view.get("a").text, "svc");
        let main = View::new(&cfg, None, &v);
        let a = main.get("a");
        assert_eq!(a.text, "main");
        assert_eq!(a.evidence().len(), 2);
    }

    #[test]
    fn lists_keep_braces() {
        assert_eq!(
            list("a, b  c,,{ x y }, cidr:{{1 OK}, {2 OK}}"),
            ["a", "b", "c", "{ x y }", "cidr:{{1 OK}, {2 OK}}"]
        );
    }

    #[test]
    fn hostile_input_stays_bounded() {
        let mut main = String::from("p0 = xxxxxxxxxxxxxxxx\r\n");
        for i in 1..60 {
            main.push_str(&format!("p{i} = $p{0} ${{p{0}}}\r\n", i - 1));
        }
        for name in [
            "mynetworks",
            "smtpd_banner",
            "smtpd_tls_protocols",
            "smtpd_relay_restrictions",
            "smtpd_recipient_restrictions",
            "postscreen_dnsbl_sites",
        ] {
            main.push_str(&format!("{name} = $p59\r\n"));
        }
        main.push_str("loop = ${loop?{$loop}}\nsmtpd_client_restrictions = $loop\n");
        main.push_str(&format!(
            "smtpd_helo_restrictions = {}\n",
            "permit_mynetworks, ".repeat(50_000)
        ));
        main.push_str("x\0y = \0\n");
        for i in 0..5_000 {
            main.push_str(&format!("unknown_parameter_{i} = 1\n"));
        }
        let mut master = String::new();
        for i in 0..100 {
            master.push_str(&format!(
                "s{i} inet n - y - - smtpd {}\n",
                "-o smtpd_banner=$p59 ".repeat(20)
            ));
        }
        let fs = run(&main, Some(&master));
        assert_eq!(fs.len(), RULES.len());
        assert_eq!(get(&fs, "postfix.mynetworks_broad").status, Status::Unknown);
        assert_ne!(get(&fs, "postfix.open_relay").status, Status::Pass);
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
            "mynetworks = $mynetworks",
            "smtpd_relay_restrictions = r\nsmtpd_restriction_classes = r\nr = r",
            "mynetworks = 1.2.3.4/99 [::]/200 [::1 /x",
            "smtpd_tls_protocols = >= <= ! !! >=0x",
        ] {
            let _ = run(s, None);
            let _ = run("", Some(s));
        }
    }
}
