//! Which DKIM selectors an audit tries, and where each came from.
//!
//! DNS cannot list the selectors of a domain, so the audit tries, in this
//! order: the selectors the user named (`--selector`), those found in a
//! pasted signer configuration ([`selectors_from_config`]), then
//! [`COMMON_SELECTORS`]. Names are lower-cased, deduplicated and checked
//! against RFC 6376's selector syntax (dot-separated letter-digit-hyphen
//! labels); at most [`MAX_SELECTORS`] are asked, so the DKIM part of an
//! audit costs at most `MAX_SELECTORS + 1` subrequests.

use std::fmt;

/// Selectors worth trying on any domain, most common first:
/// `default` (opendkim-genkey's default, cPanel), `dkim` (rspamd, mailcow,
/// iRedMail), `mail` (many tutorials, Yandex), `selector1`/`selector2`
/// (Microsoft 365), `google` (Google Workspace), `s1`/`s2` (SendGrid and
/// others), `k1`/`k2` (Mailchimp, Mandrill), `smtp` (Mailgun), `key1`.
///
/// Left out to stay inside the subrequest budget, and worth a `--selector`
/// when they apply: `mxvault`, `everlytickey1`, `sig1` (iCloud), `s1024`,
/// `fm1`..`fm3` (Fastmail), `protonmail`..`protonmail3`, `zmail` (Zoho),
/// date-named selectors (`202401`) and Amazon SES's random tokens.
pub const COMMON_SELECTORS: &[&str] = &[
    "default",
    "dkim",
    "mail",
    "selector1",
    "selector2",
    "google",
    "s1",
    "s2",
    "k1",
    "k2",
    "smtp",
    "key1",
];

/// The most selectors one audit asks about (user-given and configured ones
/// first). With the `_domainkey` query that is 13 of a Worker's 50
/// subrequests.
pub const MAX_SELECTORS: usize = 12;

/// Where a selector came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Named by the user.
    User,
    /// Found in a pasted signer configuration.
    Config,
    /// From [`COMMON_SELECTORS`].
    Common,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::User => "given by you",
            Source::Config => "from the pasted configuration",
            Source::Common => "a common selector",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// Lower case, validated.
    pub name: String,
    pub source: Source,
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The selectors an audit tries, and those it will not, with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selectors {
    tried: Vec<Selector>,
    /// (input as given, reason) for names that were not tried.
    skipped: Vec<(String, String)>,
}

impl Selectors {
    /// User-given, then configured, then the common selectors, deduplicated
    /// and capped at [`MAX_SELECTORS`].
    pub fn new(user: &[String], from_config: &[String]) -> Selectors {
        let mut s = Selectors::explicit(user, from_config);
        for c in COMMON_SELECTORS {
            s.push(c, Source::Common);
        }
        s
    }

    /// Only the selectors named by the user or a configuration.
    pub fn explicit(user: &[String], from_config: &[String]) -> Selectors {
        let mut s = Selectors::default();
        for u in user {
            s.push(u, Source::User);
        }
        for c in from_config {
            s.push(c, Source::Config);
        }
        s
    }

    fn push(&mut self, input: &str, source: Source) {
        let name = match normalize_selector(input) {
            Ok(n) => n,
            Err(why) => {
                if source != Source::Common {
                    self.skipped.push((input.to_string(), why.into()));
                }
                return;
            }
        };
        if self.tried.iter().any(|t| t.name == name) {
            return;
        }
        if self.tried.len() >= MAX_SELECTORS {
            if source != Source::Common {
                self.skipped.push((
                    input.to_string(),
                    format!("over the limit of {MAX_SELECTORS} selectors per audit"),
                ));
            }
            return;
        }
        self.tried.push(Selector { name, source });
    }

    /// The selectors to ask, in order.
    pub fn tried(&self) -> &[Selector] {
        &self.tried
    }

    /// Names that will not be asked, with the reason.
    pub fn skipped(&self) -> &[(String, String)] {
        &self.skipped
    }

    /// One line for a report's assumptions, e.g.
    /// "given: mine; common: default, dkim (cap 12)".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (source, label) in [
            (Source::User, "given"),
            (Source::Config, "from config"),
            (Source::Common, "common"),
        ] {
            let names: Vec<&str> = self
                .tried
                .iter()
                .filter(|s| s.source == source)
                .map(|s| s.name.as_str())
                .collect();
            if !names.is_empty() {
                parts.push(format!("{label}: {}", names.join(", ")));
            }
        }
        if parts.is_empty() {
            parts.push("none".into());
        }
        let mut out = format!("{} (at most {MAX_SELECTORS})", parts.join("; "));
        if !self.skipped.is_empty() {
            let names: Vec<&str> = self.skipped.iter().map(|(n, _)| n.as_str()).collect();
            out.push_str(&format!("; not tried: {}", names.join(", ")));
        }
        out
    }
}

/// Checks and normalises a selector: trims, lower-cases, accepts a full
/// key name (`sel._domainkey.example.org` gives `sel`), and requires
/// RFC 6376 §3.1 syntax: dot-separated labels of letters, digits and
/// hyphens, not starting or ending with a hyphen, at most 63 bytes each.
pub fn normalize_selector(input: &str) -> Result<String, &'static str> {
    let mut s = input.trim().trim_end_matches('.').to_ascii_lowercase();
    if let Some(i) = s.find("._domainkey") {
        s.truncate(i);
    }
    if s.is_empty() {
        return Err("it is empty");
    }
    if s.len() > 200 {
        return Err("it is longer than 200 characters");
    }
    for label in s.split('.') {
        if label.is_empty() {
            return Err("it has an empty label");
        }
        if label.len() > 63 {
            return Err("a label is longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("only letters, digits, hyphens and dots are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label starts or ends with a hyphen");
        }
    }
    Ok(s)
}

/// Selectors named in a pasted signer configuration or message header:
/// - OpenDKIM `opendkim.conf` `Selector sel`, and KeyTable lines
///   `sel._domainkey.example.com example.com:sel:/etc/keys/sel.private`;
/// - dkimproxy `selector sel`;
/// - rspamd `dkim_signing.conf` / Haraka `selector = "sel";` (also `selector: "sel"`);
/// - Exim `dkim_selector = sel` (a list `sel1 : sel2` too; expansions with `$` are skipped);
/// - amavisd-new `dkim_key('example.com', 'sel', '/path')`;
/// - a pasted `DKIM-Signature:` header's `s=` tag, or `header.s=` in
///   `Authentication-Results:`.
///
/// Comments (`#`) are ignored; the result is lower case, valid and
/// deduplicated, in order of appearance. Never fails: text it does not
/// understand gives no selectors.
pub fn selectors_from_config(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |raw: &str| {
        let raw = raw.trim().trim_matches(['"', '\'']);
        if raw.contains('$') || raw.contains('%') {
            return;
        }
        if let Ok(s) = normalize_selector(raw) {
            if !found.contains(&s) {
                found.push(s);
            }
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    for (i, raw_line) in lines.iter().enumerate() {
        let line = raw_line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        // Headers: the DKIM-Signature tag list may be folded over lines.
        if let Some(rest) = strip_prefix_ci(line, "dkim-signature:") {
            let mut header = rest.to_string();
            for next in lines.iter().skip(i + 1) {
                if next.starts_with([' ', '\t']) {
                    header.push_str(next);
                } else {
                    break;
                }
            }
            for spec in header.split(';') {
                if let Some((n, v)) = spec.split_once('=') {
                    if n.trim() == "s" {
                        add(v);
                    }
                }
            }
            continue;
        }
        if let Some(pos) = find_ci(line, "header.s=") {
            let v = &line[pos + "header.s=".len()..];
            let end = v.find([' ', ';', '\t', ')']).unwrap_or(v.len());
            add(&v[..end]);
            continue;
        }
        if let Some(args) = strip_prefix_ci(line, "dkim_key") {
            // amavisd-new: dkim_key('example.com', 'sel', '/path/key.pem');
            let inner = args
                .trim_start()
                .strip_prefix('(')
                .and_then(|a| a.split(')').next())
                .unwrap_or("");
            if let Some(sel) = inner.split(',').nth(1) {
                add(sel);
            }
            continue;
        }
        if let Some((key, value)) = assignment(line) {
            let key = key.trim_matches(['"', '\'']).to_ascii_lowercase();
            let value = value.trim().trim_end_matches([';', ',']).trim();
            match key.as_str() {
                "selector" => add(value),
                "dkim_selector" if !value.contains('$') => {
                    // Exim list: `sel1 : sel2`, or `<; sel1 ; sel2`.
                    let (sep, list) = match value.strip_prefix('<') {
                        Some(rest) => {
                            let mut cs = rest.chars();
                            match cs.next() {
                                Some(c) if !c.is_whitespace() => (c, cs.as_str()),
                                _ => (':', rest),
                            }
                        }
                        None => (':', value),
                    };
                    for item in list.split(sep) {
                        add(item);
                    }
                }
                _ => {}
            }
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            // OpenDKIM / dkimproxy: `Selector sel`.
            [k, v] if k.eq_ignore_ascii_case("selector") => add(v),
            // OpenDKIM KeyTable: `keyname domain:selector:keypath`.
            [_, spec] => {
                let parts: Vec<&str> = spec.split(':').collect();
                if let [domain, sel, key] = parts.as_slice() {
                    let domain_like = *domain == "%" || domain.contains('.');
                    if domain_like && !key.is_empty() {
                        add(sel);
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// `key = value` or `key: value` (rspamd UCL / JSON), key being one word.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let i = line.find(['=', ':'])?;
    let key = line[..i].trim();
    let word = key.trim_matches(['"', '\'']);
    let is_word = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    is_word.then(|| (key, &line[i + 1..]))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalises_and_validates() {
        assert_eq!(normalize_selector(" Selector1 ").unwrap(), "selector1");
        assert_eq!(
            normalize_selector("s1._domainkey.example.org.").unwrap(),
            "s1"
        );
        assert_eq!(normalize_selector("2024.eu").unwrap(), "2024.eu");
        for bad in [
            "",
            "a..b",
            "-x",
            "x-",
            "a_b",
            "sel ector",
            "s\u{e9}l",
            "a;b",
        ] {
            assert!(normalize_selector(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_selector(&"a".repeat(64)).is_err());
        assert!(normalize_selector(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn order_dedup_and_cap() {
        let s = Selectors::new(
            &strings(&["Mine", "google", "bad_one"]),
            &strings(&["mine", "cfg"]),
        );
        let names: Vec<_> = s.tried().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), MAX_SELECTORS);
        assert_eq!(&names[..3], ["mine", "google", "cfg"]);
        assert_eq!(s.tried()[1].source, Source::User);
        assert_eq!(s.tried()[2].source, Source::Config);
        assert_eq!(s.tried()[3].source, Source::Common);
        // `google` is not asked twice; `bad_one` is reported, not asked.
        assert_eq!(names.iter().filter(|n| **n == "google").count(), 1);
        assert_eq!(s.skipped().len(), 1);
        assert_eq!(s.skipped()[0].0, "bad_one");
        // Common ones beyond the cap are silently left out; user ones are not.
        let many: Vec<String> = (0..15).map(|i| format!("u{i}")).collect();
        let s = Selectors::new(&many, &[]);
        assert_eq!(s.tried().len(), MAX_SELECTORS);
        assert!(s.tried().iter().all(|s| s.source == Source::User));
        assert_eq!(s.skipped().len(), 3);
        assert!(s.skipped()[0].1.contains("limit"));
        assert_eq!(
            Selectors::new(&[], &[]).tried().len(),
            COMMON_SELECTORS.len()
        );
        assert!(Selectors::explicit(&[], &[]).tried().is_empty());
        assert_eq!(
            Selectors::explicit(&strings(&["a", "b c"]), &strings(&["k"])).summary(),
            "given: a; from config: k (at most 12); not tried: b c"
        );
        assert_eq!(Selectors::explicit(&[], &[]).summary(), "none (at most 12)");
        assert!(COMMON_SELECTORS.len() <= MAX_SELECTORS);
    }

    #[test]
    fn opendkim() {
        let conf = "\
# /etc/opendkim.conf
Syslog          yes
Domain          example.com
Selector        Mail2024   # rotated yearly
KeyFile         /etc/opendkim/keys/mail2024.private
Socket          inet:8891@localhost
KeyTable        refile:/etc/opendkim/KeyTable
SigningTable    refile:/etc/opendkim/SigningTable
";
        assert_eq!(selectors_from_config(conf), ["mail2024"]);
        let keytable = "\
mail._domainkey.example.com example.com:mail:/etc/opendkim/keys/example.com/mail.private
s2._domainkey.example.net   example.net:s2:/etc/opendkim/keys/s2.private
%._domainkey                %:wild:/etc/opendkim/keys/wild.private
*@example.com mail._domainkey.example.com
";
        assert_eq!(selectors_from_config(keytable), ["mail", "s2", "wild"]);
    }

    #[test]
    fn rspamd_exim_amavis_dkimproxy() {
        let rspamd = r#"
# local.d/dkim_signing.conf
path = "/var/lib/rspamd/dkim/$domain.$selector.key";
selector_map = "/etc/rspamd/dkim_selectors.map";
selector = "dkim2024";
domain {
  example.org {
    path = "/var/lib/rspamd/dkim/example.org.key";
    selector = "rsp";
  }
}
"#;
        assert_eq!(selectors_from_config(rspamd), ["dkim2024", "rsp"]);
        // rspamd's JSON-style UCL.
        assert_eq!(
            selectors_from_config(r#"  "selector": "jsonsel","#),
            ["jsonsel"]
        );
        let exim = "\
remote_smtp:
  driver = smtp
  dkim_domain = ${lc:${domain:$h_from:}}
  dkim_selector = x2024 : backup
  dkim_private_key = /etc/exim4/dkim/$dkim_domain.pem
other:
  dkim_selector = ${if eq{$dkim_domain}{a.org}{a}{b}}
";
        assert_eq!(selectors_from_config(exim), ["x2024", "backup"]);
        assert_eq!(
            selectors_from_config("dkim_selector = <; one ; two"),
            ["one", "two"]
        );
        let amavis = "dkim_key('example.com', 'amv', '/var/db/dkim/example-foo.key.pem');";
        assert_eq!(selectors_from_config(amavis), ["amv"]);
        assert_eq!(selectors_from_config("selector  proxysel\n"), ["proxysel"]);
    }

    #[test]
    fn headers() {
        let msg = "\
Authentication-Results: mx.google.com; dkim=pass header.i=@example.org header.s=hdr header.b=abc
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org;
\ts=Folded; t=1700000000; h=from:to:subject;
\tbh=abc=; b=def=
Subject: hello
";
        assert_eq!(selectors_from_config(msg), ["hdr", "folded"]);
    }

    #[test]
    fn nothing_from_unrelated_config() {
        let postfix = "\
smtpd_milters = inet:localhost:8891
non_smtpd_milters = $smtpd_milters
smtp inet n - y - - smtpd
domainlist local_domains = @ : localhost
relayhost = [smtp.example.net]:587
";
        assert!(selectors_from_config(postfix).is_empty());
        assert!(selectors_from_config("").is_empty());
        assert!(selectors_from_config("selector = \"bad_sel\"").is_empty());
    }
}
