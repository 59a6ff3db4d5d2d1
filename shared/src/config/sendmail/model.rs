//! One model of what a pasted `sendmail.mc` and/or `sendmail.cf` (plus an
//! access map or `sendmail -d0.1` output, when pasted) configure: options
//! by their sendmail.cf names, FEATUREs, daemons, relay domains, maps,
//! versions, and what could not be seen (`include`, `OSTYPE`, ...).
//!
//! A `.mc` is read by [`super::m4`]; its `define(`confX', ...)` calls
//! become options through [`super::options::option_of`]. A sendmail.cf is
//! read line by line: `O Name=value`, `C`/`F` class lines, `DZ`, `V`, `K`,
//! `M` lines, rule sets, and the `#####  $Id: feature.m4` lines the cf
//! generator writes for each FEATURE it included. Raw cf lines inside a
//! `.mc`'s `LOCAL_CONFIG`/`LOCAL_RULESETS` sections are read the same way.

use super::m4;
use super::options::{option_of, MACROS};
use crate::config::Input;
use crate::report::Evidence;

/// Where something was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub text: String,
}

impl Source {
    pub fn evidence(&self) -> Evidence {
        Evidence::Config {
            file: self.file.clone(),
            line: u32::try_from(self.line).ok(),
            text: self.text.clone(),
        }
    }
}

/// Which syntax a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Mc,
    Cf,
}

/// An option set (or, `value: None`, undefined with `undefine`).
#[derive(Debug, Clone)]
pub struct OptionSet {
    /// sendmail.cf name (`PrivacyOptions`).
    pub name: String,
    pub value: Option<String>,
    pub source: Source,
    pub syntax: Syntax,
}

#[derive(Debug, Clone)]
pub struct Feature {
    pub name: String,
    pub args: Vec<String>,
    pub source: Source,
}

/// `DAEMON_OPTIONS(...)` or `O DaemonPortOptions=...`.
#[derive(Debug, Clone)]
pub struct Daemon {
    pub spec: String,
    pub source: Source,
}

impl Daemon {
    /// A `Key=value` field (keys compared case-insensitively, by their
    /// first letter as sendmail does for the short forms `A`, `P`, `M`).
    pub fn field(&self, key: &str) -> Option<String> {
        self.spec.split(',').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let k = k.trim();
            let same = k.eq_ignore_ascii_case(key)
                || (k.len() == 1
                    && key.get(..1).is_some_and(|f| f.eq_ignore_ascii_case(k))
                    && !key.eq_ignore_ascii_case("Family"));
            same.then(|| v.trim().to_string())
        })
    }

    /// Listens on loopback only (`Addr=127.0.0.1`, `::1`, `localhost`).
    pub fn loopback_only(&self) -> bool {
        match self.field("Addr").or_else(|| self.field("Address")) {
            Some(a) => {
                let a = a.to_ascii_lowercase();
                a.starts_with("127.") || a == "::1" || a == "localhost"
            }
            None => false,
        }
    }
}

/// An access map entry: `Tag:key  action` (tag may be empty).
#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub tag: String,
    pub key: String,
    pub action: String,
    pub source: Source,
}

/// Where a version came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VersionFrom {
    /// `VERSIONID(...)` in a .mc (the file's revision; weakest).
    VersionId,
    /// The `DZ` line of a sendmail.cf (release of the cf files).
    CfDz,
    /// `Version 8.x.y` of `sendmail -d0.1` (the binary; strongest).
    Binary,
}

#[derive(Debug, Default)]
pub struct Model {
    pub options: Vec<OptionSet>,
    pub features: Vec<Feature>,
    pub daemons: Vec<Daemon>,
    /// Relay domains/hosts: `RELAY_DOMAIN(...)`, `C{R}`/`CR` lines.
    pub relay_domains: Vec<(String, Source)>,
    /// Files of relay domains: `RELAY_DOMAIN_FILE`, `F{R}`/`FR` lines.
    pub relay_files: Vec<Source>,
    /// `K` map declarations: (name, rest).
    pub maps: Vec<(String, String, Source)>,
    pub mailers: Vec<(String, Source)>,
    pub trust_auth: Vec<(String, Source)>,
    pub milters: Vec<(String, Source)>,
    /// Content not pasted: `include`, `OSTYPE`, `DOMAIN`, `HACK`, ...
    pub unknown: Vec<(String, Source)>,
    pub versions: Vec<(VersionFrom, String, Source)>,
    pub access: Vec<AccessEntry>,
    /// Whether an access map itself was pasted.
    pub access_pasted: bool,
    /// Letters returned by a local `srv_features` rule set (raw cf rules).
    pub srv_features: Vec<(String, Source)>,
    pub has_mc: bool,
    pub has_cf: bool,
    pub diagnostics: Vec<(Source, String)>,
}

/// FEATURE file names of sendmail 8.17/8.18's cf/feature directory, as
/// the cf generator names them in its `#####  $Id: NAME.m4` lines.
const FEATURE_FILES: &[&str] = &[
    "accept_unqualified_senders",
    "accept_unresolvable_domains",
    "access_db",
    "allmasquerade",
    "always_add_domain",
    "authinfo",
    "badmx",
    "bcc",
    "bestmx_is_local",
    "bitdomain",
    "blacklist_recipients",
    "block_bad_helo",
    "blocklist_recipients",
    "check_cert_altnames",
    "check_other",
    "compat_check",
    "conncontrol",
    "delay_checks",
    "dnsbl",
    "domainmap",
    "domaintable",
    "enhdnsbl",
    "generics_entire_domain",
    "genericstable",
    "greet_pause",
    "ldap_routing",
    "limited_masquerade",
    "local_lmtp",
    "local_no_masquerade",
    "local_procmail",
    "lookupdotdomain",
    "loose_relay_check",
    "mailertable",
    "masquerade_entire_domain",
    "masquerade_envelope",
    "msp",
    "mtamark",
    "no_default_msa",
    "nocanonify",
    "nopercenthack",
    "notsticky",
    "nouucp",
    "nullclient",
    "preserve_local_plus_detail",
    "preserve_luser_host",
    "promiscuous_relay",
    "queuegroup",
    "ratecontrol",
    "redirect",
    "relay_based_on_MX",
    "relay_entire_domain",
    "relay_hosts_only",
    "relay_local_from",
    "relay_mail_from",
    "require_rdns",
    "rhsbl",
    "smrsh",
    "stickyhost",
    "sts",
    "tls_failures",
    "tls_session_features",
    "use_client_ptr",
    "use_ct_file",
    "use_cw_file",
    "uucpdomain",
    "virtuser_entire_domain",
    "virtusertable",
];

/// Access map tags (cf/README), recognised at the start of a line.
pub const ACCESS_TAGS: &[&str] = &[
    "Connect",
    "From",
    "To",
    "Spam",
    "Srv_Features",
    "Clt_Features",
    "GreetPause",
    "ClientRate",
    "ClientConn",
    "Try_TLS",
    "TLS_Srv",
    "TLS_Clt",
    "TLS_Rcpt",
    "Auth",
];

/// Lines of a text (1-based access), for evidence.
struct Lines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            lines: text.lines().collect(),
        }
    }
    fn text(&self, line: usize) -> String {
        let t = line
            .checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map(|l| l.trim())
            .unwrap_or("");
        // Evidence stays readable for 1 MB lines.
        match t.char_indices().nth(300) {
            Some((i, _)) => format!("{}…", t.get(..i).unwrap_or("")),
            None => t.to_string(),
        }
    }
}

/// Whether a line is `.mc` syntax: a call of a sendmail macro, `define`,
/// or `dnl`.
fn mc_line(t: &str) -> bool {
    let t = t.trim_start();
    if t.starts_with("dnl") {
        return t
            .get(3..)
            .and_then(|r| r.chars().next())
            .is_none_or(|c| c.is_whitespace() || c == '(' || c == '#');
    }
    let word: String = t
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if word.is_empty() {
        return false;
    }
    let rest = t.get(word.len()..).unwrap_or("");
    (m4::SENDMAIL_MACROS.contains(&word.as_str())
        && (rest.starts_with('(') || rest.trim().is_empty() || rest.starts_with("dnl")))
        || (matches!(word.as_str(), "define" | "undefine" | "ifdef" | "ifelse")
            && rest.starts_with('('))
}

/// Whether a line is sendmail.cf syntax (not shared with a .mc).
fn cf_line(t: &str) -> bool {
    let b = t.as_bytes();
    let (Some(&c0), c1) = (b.first(), b.get(1).copied()) else {
        return false;
    };
    match c0 {
        b'O' => c1 == Some(b' ') && t.contains('='),
        b'V' => c1.is_some_and(|c| c.is_ascii_digit()),
        b'D' => c1 == Some(b'Z') || c1 == Some(b'{'),
        b'R' => c1 == Some(b'$') || c1 == Some(b'<'),
        b'S' => {
            c1.is_some_and(|c| c.is_ascii_alphanumeric()) && !t.contains(' ') && !t.contains('(')
        }
        b'K' => c1.is_some_and(|c| c.is_ascii_alphabetic()) && t.contains(' ') && !t.contains('('),
        b'M' => t.contains(", P=") || t.contains(",P="),
        b'C' | b'F' => matches!(c1, Some(b'w') | Some(b'{') | Some(b'R')) && !t.contains('('),
        b'#' => t.starts_with("#####  $Id: "),
        _ => false,
    }
}

impl Model {
    /// Builds the model from the parts recognised as Sendmail.
    pub fn build(parts: &[Input]) -> Model {
        let mut m = Model::default();
        for part in parts {
            m.add(part);
        }
        m
    }

    fn add(&mut self, part: &Input) {
        let lines = Lines::new(&part.text);
        let src = |line: usize| Source {
            file: part.name.clone(),
            line,
            text: lines.text(line),
        };
        // Where a .mc ends and a sendmail.cf pasted after it begins: the
        // first cf line after which no .mc line follows.
        let mut last_mc = None;
        let mut first_cf_after = None;
        for (i, l) in lines.lines.iter().enumerate() {
            if mc_line(l) {
                last_mc = Some(i);
                first_cf_after = None;
            } else if cf_line(l.trim_end()) && first_cf_after.is_none() {
                first_cf_after = Some(i);
            }
        }
        let split = match (last_mc, first_cf_after) {
            (None, _) => 0,
            (Some(_), Some(k)) => k,
            (Some(_), None) => lines.lines.len(),
        };
        if split > 0 {
            self.has_mc = true;
            let mc: String = lines
                .lines
                .iter()
                .take(split)
                .flat_map(|l| [*l, "\n"])
                .collect();
            self.add_mc(&mc, &src);
        }
        let mut cf_seen = false;
        let mut ruleset = String::new();
        for (i, l) in lines.lines.iter().enumerate().skip(split) {
            let t = l.trim_end();
            if cf_line(t) {
                cf_seen = true;
            }
            self.cf_line(t, i + 1, &src, &mut ruleset, Syntax::Cf);
        }
        if cf_seen {
            self.has_cf = true;
        }
        // Access map entries and `sendmail -d0.1` output, anywhere.
        let named_access = part
            .name
            .rsplit(['/', '\\'])
            .next()
            .is_some_and(|n| n.starts_with("access"));
        for (i, l) in lines.lines.iter().enumerate() {
            let t = l.trim();
            if let Some(v) = t.strip_prefix("Version ") {
                let v = v.trim();
                if v.starts_with("8.") && v.chars().all(|c| c.is_ascii_digit() || c == '.') {
                    self.versions
                        .push((VersionFrom::Binary, v.to_string(), src(i + 1)));
                    continue;
                }
            }
            if let Some(e) = access_entry(t, named_access, || src(i + 1)) {
                self.access_pasted = true;
                if e.tag.eq_ignore_ascii_case("Srv_Features") {
                    self.srv_features.push((e.action.clone(), e.source.clone()));
                }
                self.access.push(e);
            }
        }
        if named_access {
            self.access_pasted = true;
        }
    }

    fn add_mc(&mut self, text: &str, src: &dyn Fn(usize) -> Source) {
        let read = m4::read(text);
        for (line, msg) in read.diagnostics {
            self.diagnostics.push((src(line), msg));
        }
        for c in read.calls {
            let s = src(c.line);
            let arg = |i: usize| c.args.get(i).map(|a| a.trim().to_string());
            match c.name.as_str() {
                "define" | "pushdef" => {
                    let name = arg(0).unwrap_or_default();
                    let value = c.args.get(1).cloned().unwrap_or_default();
                    if let Some(opt) = option_of(&name) {
                        self.options.push(OptionSet {
                            name: opt.into(),
                            value: Some(value),
                            source: s,
                            syntax: Syntax::Mc,
                        });
                    } else if name == "confCR_FILE" {
                        self.relay_files.push(s);
                    }
                }
                "undefine" => {
                    if let Some(opt) = arg(0).and_then(|n| option_of(&n)) {
                        self.options.push(OptionSet {
                            name: opt.into(),
                            value: None,
                            source: s,
                            syntax: Syntax::Mc,
                        });
                    }
                }
                "FEATURE" => {
                    let name = arg(0).unwrap_or_default();
                    if !name.is_empty() {
                        self.features.push(Feature {
                            name,
                            args: c
                                .args
                                .iter()
                                .skip(1)
                                .map(|a| a.trim().to_string())
                                .collect(),
                            source: s,
                        });
                    }
                }
                "DAEMON_OPTIONS" => self.daemons.push(Daemon {
                    spec: arg(0).unwrap_or_default(),
                    source: s,
                }),
                "RELAY_DOMAIN" => {
                    for d in arg(0).unwrap_or_default().split_whitespace() {
                        self.relay_domains.push((d.to_string(), s.clone()));
                    }
                }
                "RELAY_DOMAIN_FILE" => self.relay_files.push(s),
                "TRUST_AUTH_MECH" => self.trust_auth.push((arg(0).unwrap_or_default(), s)),
                "INPUT_MAIL_FILTER" | "MAIL_FILTER" => {
                    self.milters.push((arg(0).unwrap_or_default(), s))
                }
                "MAILER" => self.mailers.push((arg(0).unwrap_or_default(), s)),
                "VERSIONID" => {
                    if let Some(v) = version_in(&arg(0).unwrap_or_default()) {
                        self.versions.push((VersionFrom::VersionId, v, s));
                    }
                }
                "include" | "sinclude" | "OSTYPE" | "DOMAIN" | "HACK" | "SITECONFIG" => {
                    let what = arg(0).unwrap_or_default();
                    // cf.m4 itself is the library every .mc includes.
                    if !(c.name == "include" && what.ends_with("/m4/cf.m4")) {
                        self.unknown.push((format!("{}(`{what}')", c.name), s));
                    }
                }
                _ => {}
            }
        }
        let mut ruleset = String::new();
        for (_, line, text) in read.local {
            self.cf_line(&text, line, src, &mut ruleset, Syntax::Mc);
        }
    }

    /// One sendmail.cf line (also a raw line of a .mc's LOCAL_* section).
    fn cf_line(
        &mut self,
        t: &str,
        line: usize,
        src: &dyn Fn(usize) -> Source,
        ruleset: &mut String,
        syntax: Syntax,
    ) {
        let b = t.as_bytes();
        let Some(&c0) = b.first() else {
            return;
        };
        let rest = t.get(1..).unwrap_or("");
        match c0 {
            b'O' if rest.starts_with(' ') => {
                let body = rest.trim();
                let (name, value) = match body.split_once('=') {
                    Some((n, v)) => (n.trim(), v.trim()),
                    None => (body, ""),
                };
                if name.is_empty() {
                    return;
                }
                let canonical = MACROS
                    .iter()
                    .map(|(_, o)| *o)
                    .find(|o| o.eq_ignore_ascii_case(name))
                    .unwrap_or(name);
                if canonical == "DaemonPortOptions" {
                    self.daemons.push(Daemon {
                        spec: value.to_string(),
                        source: src(line),
                    });
                }
                self.options.push(OptionSet {
                    name: canonical.to_string(),
                    value: Some(value.to_string()),
                    source: src(line),
                    syntax,
                });
            }
            // Old one-letter forms: `OL9`, `Opgoaway`.
            b'O' if rest.starts_with('L') || rest.starts_with('p') => {
                let name = if rest.starts_with('L') {
                    "LogLevel"
                } else {
                    "PrivacyOptions"
                };
                self.options.push(OptionSet {
                    name: name.into(),
                    value: Some(rest.get(1..).unwrap_or("").trim().to_string()),
                    source: src(line),
                    syntax,
                });
            }
            b'D' if rest.starts_with('Z') => {
                let v = rest.get(1..).unwrap_or("").trim();
                if !v.is_empty() {
                    self.versions
                        .push((VersionFrom::CfDz, v.to_string(), src(line)));
                }
            }
            b'C' | b'F' => {
                let (class, items) = if let Some(r) = rest.strip_prefix('{') {
                    match r.split_once('}') {
                        Some((c, i)) => (c, i),
                        None => return,
                    }
                } else {
                    (rest.get(..1).unwrap_or(""), rest.get(1..).unwrap_or(""))
                };
                if class == "R" {
                    if c0 == b'C' {
                        for d in items.split_whitespace() {
                            self.relay_domains.push((d.to_string(), src(line)));
                        }
                    } else {
                        self.relay_files.push(src(line));
                    }
                } else if class == "TrustAuthMech" && c0 == b'C' {
                    self.trust_auth.push((items.trim().to_string(), src(line)));
                }
            }
            b'K' => {
                let mut f = rest.splitn(2, char::is_whitespace);
                let name = f.next().unwrap_or("").to_string();
                let spec = f.next().unwrap_or("").trim().to_string();
                if !name.is_empty() {
                    self.maps.push((name, spec, src(line)));
                }
            }
            b'M' if t.contains("P=") => {
                let name = rest.split([',', ' ', '\t']).next().unwrap_or("");
                self.mailers.push((name.to_string(), src(line)));
            }
            b'S' => {
                *ruleset = rest
                    .split(|c: char| c == '=' || c.is_whitespace())
                    .next()
                    .unwrap_or("")
                    .to_string();
            }
            b'R' if ruleset.eq_ignore_ascii_case("local_srv_features") => {
                // RHS of the rule: `$: letters` or `$# ... $: letters`.
                let rhs = t.split('\t').filter(|s| !s.is_empty()).nth(1).unwrap_or(t);
                if let Some((_, after)) = rhs.rsplit_once("$:") {
                    let letters: String = after
                        .split_whitespace()
                        .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric()))
                        .collect::<Vec<_>>()
                        .join(" ");
                    if !letters.is_empty() {
                        self.srv_features.push((letters, src(line)));
                    }
                }
            }
            b'#' => {
                // `#####  $Id: greet_pause.m4,v 1.5 ... #####`
                if let Some(r) = t.strip_prefix("#####  $Id: ") {
                    let file = r.split(',').next().unwrap_or("");
                    if let Some(name) = file.strip_suffix(".m4") {
                        if FEATURE_FILES.contains(&name) {
                            self.features.push(Feature {
                                name: name.to_string(),
                                args: Vec::new(),
                                source: src(line),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The last setting of an option (None: never set).
    pub fn option(&self, name: &str) -> Option<&OptionSet> {
        self.options.iter().rev().find(|o| o.name == name)
    }

    pub fn feature(&self, name: &str) -> Option<&Feature> {
        self.features
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Whether the access map is consulted (FEATURE(access_db) or a
    /// `Kaccess` map).
    pub fn uses_access_db(&self) -> Option<Source> {
        self.feature("access_db")
            .map(|f| f.source.clone())
            .or_else(|| {
                self.maps
                    .iter()
                    .find(|(n, _, _)| n == "access")
                    .map(|(_, _, s)| s.clone())
            })
    }
}

/// `8.17.1.9-2+deb12u2` out of a VERSIONID text (`$Id: sendmail.mc, v
/// 8.17.1.9-2+deb12u2 ...`).
fn version_in(s: &str) -> Option<String> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_start_matches('v'))
        .find(|w| {
            w.starts_with("8.")
                && w.split(['-', '+', '/']).next().is_some_and(|n| {
                    n.split('.').count() >= 3
                        && n.split('.')
                            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
                })
        })
        .map(str::to_string)
}

/// An access map line: `Tag:key<ws>action` with a known tag, or (in a part
/// named `access*`) `key<ws>action`.
fn access_entry(
    t: &str,
    untagged_ok: bool,
    source: impl FnOnce() -> Source,
) -> Option<AccessEntry> {
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let mut f = t.splitn(2, char::is_whitespace);
    let lhs = f.next()?;
    let action = f.next()?.trim();
    if action.is_empty() {
        return None;
    }
    let (tag, key) = match lhs.split_once(':') {
        Some((tag, key)) if ACCESS_TAGS.iter().any(|a| a.eq_ignore_ascii_case(tag)) => {
            (tag.to_string(), key.to_string())
        }
        _ if untagged_ok => (String::new(), lhs.to_string()),
        _ => return None,
    };
    Some(AccessEntry {
        tag,
        key,
        action: action.to_string(),
        source: source(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Model {
        Model::build(&[Input::new("sendmail.mc", text)])
    }

    #[test]
    fn mc_options_features_daemons() {
        let m = model(
            "divert(0)dnl\nVERSIONID(`$Id: sendmail.mc, v 8.17.1.9-2+deb12u2 2024-06-16')\n\
             define(`confPRIVACY_FLAGS', `goaway')dnl\nFEATURE(`greet_pause', `1000')dnl\n\
             DAEMON_OPTIONS(`Family=inet, Name=MTA-v4, Port=smtp, Addr=127.0.0.1')dnl\n\
             include(`/etc/mail/m4/dialup.m4')dnl\nundefine(`confLOG_LEVEL')dnl\n",
        );
        assert!(m.has_mc && !m.has_cf);
        let p = m.option("PrivacyOptions").unwrap();
        assert_eq!(p.value.as_deref(), Some("goaway"));
        assert_eq!(p.source.line, 3);
        assert_eq!(p.source.text, "define(`confPRIVACY_FLAGS', `goaway')dnl");
        assert_eq!(m.feature("greet_pause").unwrap().args, ["1000"]);
        assert!(m.daemons[0].loopback_only());
        assert_eq!(m.daemons[0].field("Port").as_deref(), Some("smtp"));
        assert_eq!(m.unknown.len(), 1);
        assert_eq!(m.option("LogLevel").unwrap().value, None);
        assert_eq!(m.versions[0].1, "8.17.1.9-2+deb12u2");
    }

    #[test]
    fn cf_lines() {
        let m = Model::build(&[Input::new(
            "sendmail.cf",
            "V10/Berkeley\n#####  $Id: greet_pause.m4,v 1.5 2013-11-22 ca Exp $  #####\n\
             Cwlocalhost\nFR-o /etc/mail/relay-domains %[^\\#]\nCRexample.org\n\
             Kaccess hash -T<TMPF> /etc/mail/access\nDZ8.17.1.9/Debian-2+deb12u2\n\
             O privacyoptions=goaway\nO DaemonPortOptions=Family=inet, Name=MTA-v4, Port=smtp\n\
             Msmtp,\t\tP=[IPC], F=mDFMuX, S=EnvFromSMTP\n",
        )]);
        assert!(m.has_cf && !m.has_mc);
        assert!(m.feature("greet_pause").is_some());
        assert_eq!(m.relay_files.len(), 1);
        assert_eq!(m.relay_domains[0].0, "example.org");
        assert!(m.uses_access_db().is_some());
        assert_eq!(m.versions[0].1, "8.17.1.9/Debian-2+deb12u2");
        assert_eq!(
            m.option("PrivacyOptions").unwrap().value.as_deref(),
            Some("goaway")
        );
        assert_eq!(m.daemons.len(), 1);
        assert_eq!(m.mailers[0].0, "smtp");
    }

    #[test]
    fn mc_then_cf_in_one_paste_keeps_lines() {
        let m =
            model("FEATURE(`access_db')dnl\nMAILER(`smtp')dnl\n\nV10/Berkeley\nO LogLevel=12\n");
        assert!(m.has_mc && m.has_cf);
        let l = m.option("LogLevel").unwrap();
        assert_eq!((l.source.line, l.syntax), (5, Syntax::Cf));
    }

    #[test]
    fn local_config_and_srv_features() {
        let m = model(
            "FEATURE(`access_db')dnl\nMAILER(`smtp')dnl\nLOCAL_CONFIG\nO MaxMessageSize=5000000\n\
             LOCAL_SRV_FEATURES\nSLocal_srv_features\nR$*\t$#local $: G U\n",
        );
        assert_eq!(
            m.option("MaxMessageSize").unwrap().value.as_deref(),
            Some("5000000")
        );
        assert_eq!(m.srv_features[0].0, "G U");
        assert_eq!(m.srv_features[0].1.line, 7);
    }

    #[test]
    fn access_map_and_d01() {
        let m = Model::build(&[
            Input::new(
                "access",
                "Connect:localhost RELAY\n10.1.2 RELAY\nSrv_Features:192.0.2 G\n",
            ),
            Input::new("d0.1", "Version 8.17.1.9\n Compiled with: DANE\n"),
        ]);
        assert!(m.access_pasted);
        assert_eq!(m.access.len(), 3);
        assert_eq!(m.access[1].key, "10.1.2");
        assert_eq!(m.srv_features[0].0, "G");
        assert_eq!(
            m.versions[0],
            (
                VersionFrom::Binary,
                "8.17.1.9".into(),
                m.versions[0].2.clone()
            )
        );
    }
}
