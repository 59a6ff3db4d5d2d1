//! PowerShell `Format-List` output (and simple `Format-Table` output of
//! `Get-ADPermission`) into objects of properties.
//!
//! Hand-written: the format is PowerShell's display, not a data format
//! (no crate reads it). `Format-List` prints each object as `Name : value`
//! lines with the colons aligned, wraps long values onto continuation
//! lines indented with spaces, prints multi-valued properties as `{a, b,
//! c}` — cut to `$FormatEnumerationLimit` items (4 by default) with `...`
//! — and separates objects by blank lines. Which cmdlet produced an object
//! is not printed; it is told by its properties ([`ObjKind::of`]), or by a
//! preceding prompt line (`[PS] C:\>Get-SendConnector | fl`).

use std::borrow::Cow;

/// One property of one object. Borrowed from the pasted text where it can
/// be (a value continued on further lines is joined into a new string):
/// three allocations a property were a third of the analysis of a
/// 10,000-line paste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop<'a> {
    pub name: Cow<'a, str>,
    /// The value, continuation lines joined with a space.
    pub value: Cow<'a, str>,
    /// 1-based line of the `Name : value` line.
    pub line: usize,
    /// That line's text (trimmed, at most 300 characters).
    pub text: &'a str,
}

impl Prop<'_> {
    /// `{a, b, c}` or `a, b, c` as items; `true` when the list was cut
    /// (`...` at its end: `$FormatEnumerationLimit`).
    pub fn list(&self) -> (Vec<String>, bool) {
        let v = self.value.trim();
        let inner = v
            .strip_prefix('{')
            .map(|r| r.strip_suffix('}').unwrap_or(r))
            .unwrap_or(v);
        let inner = inner.trim();
        let (inner, cut) = match inner.strip_suffix("...") {
            Some(r) => (r, true),
            None => (inner, false),
        };
        let items = inner
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (items, cut)
    }

    pub fn is_true(&self) -> Option<bool> {
        match self.value.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

/// What produced an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjKind {
    ReceiveConnector,
    SendConnector,
    TransportConfig,
    Certificate,
    Server,
    AdPermission,
    Other,
}

impl ObjKind {
    /// By its properties (the prompt's cmdlet, when there was one, wins).
    fn of(props: &[Prop<'_>], hint: Option<ObjKind>) -> ObjKind {
        let has = |n: &str| props.iter().any(|p| p.name.eq_ignore_ascii_case(n));
        let class = props
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case("ObjectClass"))
            .map(|p| p.value.to_ascii_lowercase())
            .unwrap_or_default();
        if class.contains("msexchsmtpreceiveconnector")
            || (has("Bindings") && (has("RemoteIPRanges") || has("PermissionGroups")))
        {
            return ObjKind::ReceiveConnector;
        }
        if class.contains("msexchroutingsmtpconnector")
            || has("AddressSpaces")
            || has("SmartHosts")
            || has("DNSRoutingEnabled")
        {
            return ObjKind::SendConnector;
        }
        if has("Thumbprint") && (has("NotAfter") || has("Services")) {
            return ObjKind::Certificate;
        }
        if has("ExtendedRights") || (has("AccessRights") && has("User")) {
            return ObjKind::AdPermission;
        }
        if has("MaxRecipientEnvelopeLimit")
            || has("InternalSMTPServers")
            || has("ShadowRedundancyEnabled")
            || has("TLSReceiveDomainSecureList")
        {
            return ObjKind::TransportConfig;
        }
        if has("AdminDisplayVersion") || has("ServerRole") {
            return ObjKind::Server;
        }
        hint.unwrap_or(ObjKind::Other)
    }
}

#[derive(Debug, Clone)]
pub struct Object<'a> {
    pub kind: ObjKind,
    pub props: Vec<Prop<'a>>,
    /// The part (file) it came from.
    pub file: String,
}

impl<'a> Object<'a> {
    pub fn get(&self, name: &str) -> Option<&Prop<'a>> {
        self.props
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// `Identity`, else `Server\Name`, else `Name`, else the first line.
    pub fn identity(&self) -> String {
        if let Some(p) = self.get("Identity").filter(|p| !p.value.is_empty()) {
            return p.value.to_string();
        }
        match (self.get("Server"), self.get("Name")) {
            (Some(s), Some(n)) if !s.value.is_empty() => format!("{}\\{}", s.value, n.value),
            (_, Some(n)) => n.value.to_string(),
            _ => self
                .props
                .first()
                .map(|p| format!("object at line {}", p.line))
                .unwrap_or_default(),
        }
    }
}

/// Objects per part; at most this many (hostile input).
pub const MAX_OBJECTS: usize = 20_000;
/// Characters kept of one value.
const MAX_VALUE: usize = 64 * 1024;

fn cmdlet_hint(line: &str) -> Option<ObjKind> {
    let l = line.to_ascii_lowercase();
    let (_, cmd) = l.split_once('>')?;
    let cmd = cmd.trim_start();
    Some(if cmd.starts_with("get-receiveconnector") {
        ObjKind::ReceiveConnector
    } else if cmd.starts_with("get-sendconnector") {
        ObjKind::SendConnector
    } else if cmd.starts_with("get-transportconfig") {
        ObjKind::TransportConfig
    } else if cmd.starts_with("get-exchangecertificate") {
        ObjKind::Certificate
    } else if cmd.starts_with("get-exchangeserver") {
        ObjKind::Server
    } else if cmd.starts_with("get-adpermission") {
        ObjKind::AdPermission
    } else {
        return None;
    })
}

/// A `Name : value` line: the name (no spaces) and the value.
fn property(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(':')?;
    let name_t = crate::config::trim_end_fast(name);
    // Bytes, not characters: a non-ASCII character fails either way.
    if name_t.is_empty()
        || name_t.starts_with(char::is_whitespace)
        || !name_t
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.')
    {
        return None;
    }
    // `Name : value`, `Name :`, or (rare) `Name: value`.
    let value = rest.strip_prefix(' ').unwrap_or(rest);
    if !(name.len() > name_t.len() || rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((name_t, crate::config::trim_end_fast(value)))
}

/// The first `n` characters of `s`.
fn first_chars(s: &str, n: usize) -> &str {
    if s.len() <= n {
        // No more characters than bytes.
        return s;
    }
    let end = s.char_indices().nth(n).map_or(s.len(), |(i, _)| i);
    s.get(..end).unwrap_or(s)
}

/// Parses one pasted part.
pub fn parse<'a>(file: &str, text: &'a str) -> Vec<Object<'a>> {
    let mut out: Vec<Object<'a>> = Vec::new();
    let mut props: Vec<Prop<'a>> = Vec::new();
    let mut hint: Option<ObjKind> = None;
    let lines: Vec<&'a str> = crate::config::lines(text).collect();
    let flush = |props: &mut Vec<Prop<'a>>, out: &mut Vec<Object<'a>>, hint: Option<ObjKind>| {
        if !props.is_empty() && out.len() < MAX_OBJECTS {
            let p = std::mem::take(props);
            out.push(Object {
                kind: ObjKind::of(&p, hint),
                props: p,
                file: file.to_string(),
            });
        }
        props.clear();
    };
    let mut i = 0;
    while i < lines.len() {
        let raw = lines.get(i).copied().unwrap_or("");
        let line_no = i + 1;
        i += 1;
        let t = crate::config::trim_fast(raw);
        if t.is_empty() {
            flush(&mut props, &mut out, hint);
            continue;
        }
        // Prompts: `PS C:\> Get-ReceiveConnector | fl`, `[PS] C:\...>cmd`.
        if t.starts_with("PS ") || t.starts_with("[PS]") {
            flush(&mut props, &mut out, hint);
            hint = cmdlet_hint(t);
            continue;
        }
        // A table: header, then a line of dashes.
        let next = lines.get(i).map(|l| l.trim_end()).unwrap_or("");
        if props.is_empty()
            && !next.is_empty()
            && next.chars().all(|c| c == '-' || c == ' ')
            && next.contains("--")
        {
            let (objs, used) = table(file, &lines, i - 1);
            for o in objs {
                if out.len() < MAX_OBJECTS {
                    out.push(o);
                }
            }
            i = (i - 1) + used.max(1);
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if indented {
            if let Some(last) = props.last_mut() {
                if last.value.len() < MAX_VALUE {
                    let v = last.value.to_mut();
                    if !v.is_empty() {
                        v.push(' ');
                    }
                    v.push_str(t);
                }
                continue;
            }
        }
        match property(raw) {
            Some((name, value)) => props.push(Prop {
                name: Cow::Borrowed(name),
                value: Cow::Borrowed(first_chars(value, MAX_VALUE)),
                line: line_no,
                text: first_chars(t, 300),
            }),
            None => {
                // Not a property: a wrapped value that lost its indent, or
                // noise; keep it with the previous value.
                if let Some(last) = props.last_mut() {
                    if last.value.len() < MAX_VALUE {
                        let v = last.value.to_mut();
                        v.push(' ');
                        v.push_str(t);
                    }
                }
            }
        }
    }
    flush(&mut props, &mut out, hint);
    out
}

/// A `Format-Table` block starting at `start` (the header line): one
/// object per row, columns cut at the dash groups. Returns the objects and
/// the lines used.
fn table<'a>(file: &str, lines: &[&'a str], start: usize) -> (Vec<Object<'a>>, usize) {
    let header = lines.get(start).copied().unwrap_or("");
    let dashes = lines.get(start + 1).copied().unwrap_or("");
    // Column starts: where each run of dashes begins.
    let mut cols: Vec<(usize, usize)> = Vec::new();
    let db = dashes.as_bytes();
    let mut j = 0;
    while j < db.len() {
        if db.get(j) == Some(&b'-') {
            let s = j;
            while db.get(j) == Some(&b'-') {
                j += 1;
            }
            cols.push((s, j));
        } else {
            j += 1;
        }
    }
    let cell = |line: &str, k: usize| -> String {
        let s = cols.get(k).map(|c| c.0).unwrap_or(0);
        let e = cols.get(k + 1).map(|c| c.0).unwrap_or(usize::MAX);
        let chars: Vec<char> = line.chars().collect();
        chars
            .get(s.min(chars.len())..e.min(chars.len()))
            .map(|c| c.iter().collect::<String>())
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let names: Vec<String> = (0..cols.len()).map(|k| cell(header, k)).collect();
    let mut objs = Vec::new();
    let mut n = 2;
    while let Some(&row) = lines.get(start + n) {
        if row.trim().is_empty() {
            break;
        }
        let line_no = start + n + 1;
        let props: Vec<Prop<'a>> = names
            .iter()
            .enumerate()
            .filter(|(_, name)| !name.is_empty())
            .map(|(k, name)| Prop {
                name: Cow::Owned(name.clone()),
                value: Cow::Owned(cell(row, k)),
                line: line_no,
                text: first_chars(row.trim(), 300),
            })
            .collect();
        objs.push(Object {
            kind: ObjKind::of(&props, None),
            props,
            file: file.to_string(),
        });
        n += 1;
        if objs.len() >= MAX_OBJECTS {
            break;
        }
    }
    (objs, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RC: &str = "\
RunspaceId                              : 5b5d6a8e-0f46-4f2f-9a41-4f6e2f0a1d77
AuthMechanism                           : Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer
Banner                                  :
Bindings                                : {[::]:25, 0.0.0.0:25}
RemoteIPRanges                          : {::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, 0.0.0.0-255.255.255.255}
PermissionGroups                        : AnonymousUsers, ExchangeServers, ExchangeLegacyServers
DistinguishedName                       : CN=Default Frontend EX01,CN=SMTP Receive Connectors,CN=Protocols,CN=EX01,CN=Servers,CN=Exchange
                                          Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups
Identity                                : EX01\\Default Frontend EX01

Thumbprint         : 0D3E5F8D7C1B2A3948576A6B5C4D3E2F1A0B9C8D
Services           : IMAP, POP, IIS, SMTP
NotAfter           : 12/31/2026 11:59:59 PM
CertificateDomains : {mail.contoso.com, autodiscover.contoso.com, contoso.com, owa.contoso.com...}
";

    #[test]
    fn format_list_objects_wraps_and_lists() {
        let o = parse("x", RC);
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].kind, ObjKind::ReceiveConnector);
        assert_eq!(o[0].identity(), "EX01\\Default Frontend EX01");
        assert_eq!(o[0].get("Banner").unwrap().value, "");
        let (b, cut) = o[0].get("Bindings").unwrap().list();
        assert_eq!(
            (b.as_slice(), cut),
            (&["[::]:25".to_string(), "0.0.0.0:25".into()][..], false)
        );
        assert!(o[0]
            .get("DistinguishedName")
            .unwrap()
            .value
            .ends_with("Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups"));
        assert_eq!(o[0].get("Identity").unwrap().line, 9);
        assert_eq!(o[1].kind, ObjKind::Certificate);
        let (d, cut) = o[1].get("CertificateDomains").unwrap().list();
        assert!(cut);
        assert_eq!(d.last().unwrap(), "owa.contoso.com");
    }

    #[test]
    fn tables_and_prompts() {
        let t = "[PS] C:\\Windows\\system32>Get-ADPermission \"EX01\\Relay\" | ft User,ExtendedRights,Deny\n\n\
User                          ExtendedRights                             Deny\n\
----                          --------------                             ----\n\
NT AUTHORITY\\ANONYMOUS LOGON  {ms-Exch-SMTP-Accept-Any-Recipient}        False\n\
MS Exchange\\Edge Transp...    {ms-Exch-SMTP-Submit, ms-Exch-SMTP-Acce... False\n\n\
PS C:\\> Get-SendConnector | fl\n\nName : Internet\nMaxMessageSize : 35 MB (36,700,160 bytes)\n";
        let o = parse("x", t);
        assert_eq!(o.len(), 3, "{o:?}");
        assert_eq!(o[0].kind, ObjKind::AdPermission);
        assert_eq!(
            o[0].get("User").unwrap().value,
            "NT AUTHORITY\\ANONYMOUS LOGON"
        );
        assert_eq!(o[0].get("User").unwrap().line, 5);
        assert_eq!(o[0].get("Deny").unwrap().is_true(), Some(false));
        assert_eq!(o[2].kind, ObjKind::SendConnector);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for t in [
            ":",
            " : ",
            "a :",
            "{",
            "}",
            "a : {",
            "a : {...",
            "x\n---\n",
            "a b\n-- --\nxxxxxxxxxxxxxxxxxxxxxx\n",
            "é : ü\n  ß",
            "\u{0}: \u{0}",
            "PS",
            "[PS]>",
            "-----\n-----\n",
        ] {
            let _ = parse("x", t);
        }
    }
}
