//! Reverse DNS of the mail servers and the rule `dns.ptr`.
//!
//! API:
//! - [`lookup`]`(resolver, &MxLookup, max_addresses) -> PtrLookup`: for each
//!   distinct address of the MX hosts (at most `max_addresses`, in MX
//!   preference order; [`MAX_ADDRESSES`] is the default), the PTR record
//!   and, for each PTR name (at most [`MAX_NAMES`]), its A (IPv4) or AAAA
//!   (IPv6) records. One PTR query per address plus one forward query per
//!   name, all addresses at once.
//! - [`lookup_addresses`] does the same for addresses from elsewhere (e.g.
//!   sending IPs), [`reverse_name`] gives the `in-addr.arpa`/`ip6.arpa`
//!   name of an address.
//! - [`judge`]`(domain, &PtrLookup) -> Finding`: one finding for the domain
//!   summarising every address, with evidence per address.
//! - [`generic_reason`] is the "dynamic/generic name" heuristic.
//!
//! Verdicts: an address without PTR, or whose PTR names do not resolve
//! back to it (no forward-confirmed reverse DNS, FCrDNS), fails (medium):
//! many receivers reject or score such mail. A forward-confirmed name that
//! looks generic is `warn` (medium): a heuristic cannot be sure, but large
//! receivers treat names like these as consumer or default cloud ranges.
//!
//! The heuristic ([`generic_reason`]) calls a name generic when
//! - it embeds the address: three consecutive octets of an IPv4 address as
//!   separate numbers in either order (`198-51-100-25`, `25.100.51.198`,
//!   `host-51-100-25`), all four as one zero-padded or plain run of digits
//!   (`198051100025`), or the address in hex (`c6336419`); for IPv6 the
//!   address with `-` for `:`, its 32 nibbles in either order, or three
//!   consecutive non-zero groups;
//! - a label other than the last two (the provider's own domain, which may
//!   legitimately be e.g. `dsl-provider.net`) has a token such as
//!   `dynamic`, `dyn`, `dhcp`, `pool`, `cable`, `dsl`, `adsl`, `ppp`,
//!   `client`, `broadband`, `customer`, `cpe`, `dialup`, `static-ip`
//!   (tokens split at non-alphanumerics and at letter/digit boundaries:
//!   `dsl123` has the token `dsl`, `dslmail` does not);
//! - it is a cloud provider's default name (EC2 `compute.amazonaws.com`,
//!   Google Cloud `googleusercontent.com`, Azure `cloudapp.net`, Hetzner
//!   `your-server.de`, Linode, Vultr, Contabo, OVH `vps.ovh.net`).

use crate::dns::mx::MxLookup;
use crate::dns::{DnsAnswer, DnsError, RecordType, Resolver, RrData};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use futures::future::join_all;
use std::fmt::Write as _;
use std::net::IpAddr;

pub static DNS_PTR: Rule = Rule {
    id: "dns.ptr",
    area: Area::Dns,
    title: "Reverse DNS (PTR) of the mail servers",
    severity: Severity::Medium,
    description: "An MX or sending IP has no PTR record, its PTR is not forward-confirmed \
        (FCrDNS: the PTR name's A/AAAA records do not include the IP), or the PTR name looks \
        dynamic or generic.",
    refs: &["RFC 1912 §2.1", "RFC 8601 §2.7.3 (iprev)"],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&DNS_PTR];

/// Addresses checked by default: each costs one PTR query plus one
/// forward query per PTR name, from the audit's subrequest budget.
pub const MAX_ADDRESSES: usize = 6;
/// PTR names followed forward per address (an address should have one).
pub const MAX_NAMES: usize = 2;

/// One address and what its reverse DNS said.
#[derive(Debug, Clone)]
pub struct AddressLookup {
    pub ip: IpAddr,
    /// The MX hosts (or other sources) that have this address.
    pub hosts: Vec<String>,
    pub ptr: Result<DnsAnswer, DnsError>,
    /// Each PTR name followed (at most [`MAX_NAMES`]) and its A or AAAA.
    pub forward: Vec<(String, Result<DnsAnswer, DnsError>)>,
}

impl AddressLookup {
    /// The PTR names, in canonical order.
    pub fn names(&self) -> Vec<String> {
        match &self.ptr {
            Ok(a) => a
                .of_type()
                .filter_map(|d| match d {
                    RrData::Ptr(n) => Some(n.clone()),
                    _ => None,
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PtrLookup {
    pub addresses: Vec<AddressLookup>,
    /// Addresses not checked because of the limit.
    pub skipped: Vec<IpAddr>,
    /// Why some addresses are not known (MX look-up failed, MX host
    /// address look-ups failed).
    pub unresolved: Vec<String>,
}

/// The reverse-mapping name of an address: `25.100.51.198.in-addr.arpa`,
/// or 32 nibbles under `ip6.arpa` (RFC 3596 §2.5).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72);
            for b in v6.octets().iter().rev() {
                let _ = write!(s, "{:x}.{:x}.", b & 0xf, b >> 4);
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

/// The MX hosts' distinct addresses, in MX order, each with its hosts.
fn mx_targets(mx: &MxLookup) -> Vec<(IpAddr, Vec<String>)> {
    let mut out: Vec<(IpAddr, Vec<String>)> = Vec::new();
    for h in &mx.hosts {
        for ip in h.addresses() {
            match out.iter_mut().find(|(i, _)| *i == ip) {
                Some((_, hosts)) => hosts.push(h.host.clone()),
                None => out.push((ip, vec![h.host.clone()])),
            }
        }
    }
    out
}

/// Reverse DNS of every MX address (at most `max_addresses`).
pub async fn lookup<N: Network>(
    resolver: &Resolver<'_, N>,
    mx: &MxLookup,
    max_addresses: usize,
) -> PtrLookup {
    let mut unresolved = Vec::new();
    match &mx.answer {
        Err(e) => unresolved.push(format!("the MX records could not be read ({e})")),
        Ok(a) if !a.is_definite() => unresolved.push(format!(
            "the resolver answered {} for the MX records",
            a.rcode_text()
        )),
        Ok(_) => {}
    }
    for h in &mx.hosts {
        for (rtype, r) in [("A", &h.a), ("AAAA", &h.aaaa)] {
            match r {
                Err(e) => unresolved.push(format!("{} {rtype}: {e}", h.host)),
                Ok(a) if !a.is_definite() => {
                    unresolved.push(format!("{} {rtype}: {}", h.host, a.rcode_text()))
                }
                Ok(_) => {}
            }
        }
    }
    let (addresses, skipped) = lookup_addresses(resolver, mx_targets(mx), max_addresses).await;
    PtrLookup {
        addresses,
        skipped,
        unresolved,
    }
}

/// Reverse DNS of the given addresses (each with the hosts it belongs to),
/// at most `max_addresses` of them; returns the look-ups and the addresses
/// skipped.
pub async fn lookup_addresses<N: Network>(
    resolver: &Resolver<'_, N>,
    mut targets: Vec<(IpAddr, Vec<String>)>,
    max_addresses: usize,
) -> (Vec<AddressLookup>, Vec<IpAddr>) {
    let skipped = targets
        .split_off(max_addresses.min(targets.len()))
        .into_iter()
        .map(|(ip, _)| ip)
        .collect();
    let lookups = targets.into_iter().map(|(ip, hosts)| async move {
        let ptr = resolver.query(&reverse_name(ip), RecordType::PTR).await;
        let mut a = AddressLookup {
            ip,
            hosts,
            ptr,
            forward: Vec::new(),
        };
        let rtype = match ip {
            IpAddr::V4(_) => RecordType::A,
            IpAddr::V6(_) => RecordType::AAAA,
        };
        let names: Vec<String> = a
            .names()
            .into_iter()
            .filter(|n| !n.is_empty())
            .take(MAX_NAMES)
            .collect();
        let forward = names.iter().map(|n| resolver.query(n, rtype));
        a.forward = names.iter().cloned().zip(join_all(forward).await).collect();
        a
    });
    (join_all(lookups).await, skipped)
}

/// What one address's reverse DNS amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Forward-confirmed, not generic-looking.
    Good(String),
    /// Forward-confirmed, but the name looks generic.
    Generic(String, String),
    /// No PTR (NXDOMAIN or no record).
    Missing,
    /// PTR names whose A/AAAA do not include the address.
    NotConfirmed(Vec<String>),
    Undecided(String),
}

fn verdict(a: &AddressLookup) -> Verdict {
    match &a.ptr {
        Err(e) => return Verdict::Undecided(format!("the PTR look-up failed ({e})")),
        Ok(ans) if !ans.is_definite() => {
            return Verdict::Undecided(format!(
                "the resolver answered {} for the PTR record",
                ans.rcode_text()
            ))
        }
        Ok(_) => {}
    }
    let names: Vec<String> = a.names().into_iter().filter(|n| !n.is_empty()).collect();
    if names.is_empty() {
        return Verdict::Missing;
    }
    let mut undecided = None;
    for (name, fwd) in &a.forward {
        match fwd {
            Ok(f) if f.is_definite() => {
                let confirms = f.of_type().any(|d| match (d, a.ip) {
                    (RrData::A(x), IpAddr::V4(ip)) => *x == ip,
                    (RrData::Aaaa(x), IpAddr::V6(ip)) => *x == ip,
                    _ => false,
                });
                if confirms {
                    return match generic_reason(name, a.ip) {
                        Some(why) => Verdict::Generic(name.clone(), why),
                        None => Verdict::Good(name.clone()),
                    };
                }
            }
            Ok(f) => {
                undecided = Some(format!(
                    "the resolver answered {} for {name}",
                    f.rcode_text()
                ))
            }
            Err(e) => undecided = Some(format!("the look-up of {name} failed ({e})")),
        }
    }
    match undecided {
        Some(why) => Verdict::Undecided(why),
        None => Verdict::NotConfirmed(names),
    }
}

const GENERIC_WORDS: &[&str] = &[
    "dynamic",
    "dyn",
    "dynip",
    "dhcp",
    "dip",
    "pool",
    "cable",
    "dsl",
    "adsl",
    "vdsl",
    "xdsl",
    "sdsl",
    "ppp",
    "pppoe",
    "dialup",
    "dialin",
    "client",
    "clients",
    "broadband",
    "customer",
    "customers",
    "cust",
    "cpe",
    "residential",
    "unassigned",
    "ftth",
    "fttx",
    "staticip",
    "generic",
];

/// Default reverse names of cloud and hosting providers.
const CLOUD_DEFAULTS: &[(&str, &str)] = &[
    ("compute.amazonaws.com", "Amazon EC2"),
    ("compute-1.amazonaws.com", "Amazon EC2"),
    ("googleusercontent.com", "Google Cloud"),
    ("cloudapp.net", "Microsoft Azure"),
    ("cloudapp.azure.com", "Microsoft Azure"),
    ("your-server.de", "Hetzner"),
    ("linodeusercontent.com", "Linode"),
    ("members.linode.com", "Linode"),
    ("vultrusercontent.com", "Vultr"),
    ("contaboserver.net", "Contabo"),
    ("vps.ovh.net", "OVHcloud"),
    ("vps.ovh.ca", "OVHcloud"),
];

/// Tokens of a label: split at non-alphanumerics and letter/digit changes.
fn tokens(label: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_digit = None;
    for c in label.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur_digit = None;
            continue;
        }
        let d = c.is_ascii_digit();
        if cur_digit.is_some_and(|p| p != d) && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur_digit = Some(d);
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether `seq` contains `window` as consecutive elements.
fn has_window<T: PartialEq>(seq: &[T], window: &[T]) -> bool {
    !window.is_empty() && seq.windows(window.len()).any(|w| w == window)
}

fn embeds_address(name: &str, ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o: Vec<u32> = v4.octets().iter().map(|&b| u32::from(b)).collect();
            let runs: Vec<&str> = name
                .split(|c: char| !c.is_ascii_digit())
                .filter(|r| !r.is_empty())
                .collect();
            let nums: Vec<Option<u32>> = runs.iter().map(|r| r.parse().ok()).collect();
            let some = |w: &[u32]| w.iter().map(|&x| Some(x)).collect::<Vec<_>>();
            let rev: Vec<u32> = o.iter().rev().copied().collect();
            for w in [&o[0..3], &o[1..4], &rev[0..3], &rev[1..4]] {
                if has_window(&nums, &some(w)) {
                    return true;
                }
            }
            let joined = [
                format!("{:03}{:03}{:03}{:03}", o[0], o[1], o[2], o[3]),
                format!("{:03}{:03}{:03}{:03}", o[3], o[2], o[1], o[0]),
                format!("{}{}{}{}", o[0], o[1], o[2], o[3]),
                format!("{}{}{}{}", o[3], o[2], o[1], o[0]),
            ];
            if runs
                .iter()
                .any(|r| r.len() >= 7 && joined.iter().any(|j| j == r))
            {
                return true;
            }
            let hex = format!("{:08x}", u32::from(v4));
            name.to_ascii_lowercase().contains(&hex)
        }
        IpAddr::V6(v6) => {
            let lower = name.to_ascii_lowercase();
            if lower.contains(&v6.to_string().replace(':', "-")) {
                return true;
            }
            let nibbles: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
            let reversed: String = nibbles.chars().rev().collect();
            let hexonly: String = lower.chars().filter(|c| c.is_ascii_hexdigit()).collect();
            if hexonly.contains(&nibbles) || hexonly.contains(&reversed) {
                return true;
            }
            let groups: Vec<Option<u16>> = lower
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|t| !t.is_empty())
                .map(|t| {
                    if t.len() <= 4 {
                        u16::from_str_radix(t, 16).ok()
                    } else {
                        None
                    }
                })
                .collect();
            let seg = v6.segments();
            seg.windows(3).any(|w| {
                w.iter().all(|&g| g != 0)
                    && has_window(&groups, &w.iter().map(|&g| Some(g)).collect::<Vec<_>>())
            })
        }
    }
}

/// Why `name` (the PTR name of `ip`) looks dynamic or generic, if it does.
/// See the module documentation for the heuristic.
pub fn generic_reason(name: &str, ip: IpAddr) -> Option<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    for (suffix, provider) in CLOUD_DEFAULTS {
        if name == *suffix || name.ends_with(&format!(".{suffix}")) {
            return Some(format!("it is {provider}'s default name for the address"));
        }
    }
    if embeds_address(&name, ip) {
        return Some("it embeds the IP address".into());
    }
    let labels: Vec<&str> = name.split('.').collect();
    let scanned = &labels[..labels.len().saturating_sub(2)];
    for label in scanned {
        let t = tokens(label);
        if let Some(w) = t.iter().find(|t| GENERIC_WORDS.contains(&t.as_str())) {
            return Some(format!("it contains \"{w}\""));
        }
        if has_window(&t, &["static".to_string(), "ip".to_string()]) {
            return Some("it contains \"static-ip\"".into());
        }
    }
    None
}

fn describe(a: &AddressLookup, v: &Verdict) -> String {
    let ip = a.ip;
    let of = if a.hosts.is_empty() {
        String::new()
    } else {
        format!(" ({})", a.hosts.join(", "))
    };
    match v {
        Verdict::Good(n) => format!("{ip}{of}: PTR {n}, forward-confirmed"),
        Verdict::Generic(n, why) => {
            format!("{ip}{of}: PTR {n} is forward-confirmed but looks generic: {why}")
        }
        Verdict::Missing => format!("{ip}{of}: no PTR record"),
        Verdict::NotConfirmed(ns) => format!(
            "{ip}{of}: PTR {} does not resolve back to {ip} (not forward-confirmed)",
            ns.join(", ")
        ),
        Verdict::Undecided(why) => format!("{ip}{of}: not decided, {why}"),
    }
}

/// `dns.ptr` for the domain's MX addresses.
pub fn judge(domain: &str, p: &PtrLookup) -> Finding {
    let mut ev = Vec::new();
    let mut lines = Vec::new();
    let (mut failing, mut generic, mut undecided) = (Vec::new(), Vec::new(), Vec::new());
    for a in &p.addresses {
        let v = verdict(a);
        let line = describe(a, &v);
        ev.push(Evidence::Note { text: line.clone() });
        if let Ok(ans) = &a.ptr {
            ev.push(ans.evidence());
        }
        for (_, f) in &a.forward {
            if let Ok(f) = f {
                ev.push(f.evidence());
            }
        }
        match v {
            Verdict::Good(_) => {}
            Verdict::Generic(..) => generic.push(a),
            Verdict::Missing | Verdict::NotConfirmed(_) => failing.push(a),
            Verdict::Undecided(_) => undecided.push(line.clone()),
        }
        lines.push(line);
    }
    undecided.extend(p.unresolved.iter().cloned());
    if !p.skipped.is_empty() {
        let list: Vec<String> = p.skipped.iter().map(IpAddr::to_string).collect();
        ev.push(Evidence::Note {
            text: format!(
                "{} more address(es) not checked (limit of {} per audit): {}",
                list.len(),
                p.addresses.len(),
                list.join(", ")
            ),
        });
    }
    let skipped_note = if p.skipped.is_empty() {
        String::new()
    } else {
        format!(
            " {} more MX address(es) were not checked, to stay within the audit's budget.",
            p.skipped.len()
        )
    };
    if p.addresses.is_empty() {
        if !undecided.is_empty() {
            return DNS_PTR
                .finding(
                    Status::Unknown,
                    format!(
                        "The addresses of the mail servers of {domain} are not known, so their \
                         reverse DNS could not be checked: {}.",
                        undecided.join("; ")
                    ),
                )
                .with_evidences(ev);
        }
        return DNS_PTR.finding(
            Status::Info,
            format!(
                "{domain} has no MX host with an address, so there is no reverse DNS to check."
            ),
        );
    }
    let summary = lines.join("; ");
    if !failing.is_empty() || !generic.is_empty() {
        let status = if failing.is_empty() {
            Status::Warn
        } else {
            Status::Fail
        };
        let mut detail = format!("Reverse DNS of the mail servers of {domain}: {summary}.");
        if failing.is_empty() {
            detail.push_str(
                " A generic-looking name is judged by a heuristic, but many receivers treat \
                 such names as dynamic or default ranges and score or reject the mail.",
            );
        } else {
            detail.push_str(
                " Many receivers reject or mark as spam mail from an address whose reverse DNS \
                 is missing or does not point back to it.",
            );
        }
        if !undecided.is_empty() {
            detail.push_str(&format!(" Not decided: {}.", undecided.join("; ")));
        }
        detail.push_str(&skipped_note);
        let example = failing.first().or(generic.first()).copied();
        let remediation = match example {
            Some(a) => {
                let host = a
                    .hosts
                    .first()
                    .cloned()
                    .unwrap_or_else(|| format!("mail.{domain}"));
                let rtype = if a.ip.is_ipv4() { "A" } else { "AAAA" };
                format!(
                    "Ask whoever provides the address (hosting provider or ISP; it is usually a \
                     setting in their control panel) to set its reverse DNS to the mail \
                     server's name, and make sure that name resolves back to the address:\n\
                     {}. PTR {host}.\n{host}. {rtype} {}\n\
                     Use a name in your own domain, not the provider's default.",
                    reverse_name(a.ip),
                    a.ip
                )
            }
            None => String::new(),
        };
        return DNS_PTR
            .finding(status, detail)
            .with_evidences(ev)
            .with_remediation(remediation);
    }
    if !undecided.is_empty() {
        return DNS_PTR
            .finding(
                Status::Unknown,
                format!(
                    "Reverse DNS of the mail servers of {domain} could not all be checked: {}. \
                     Checked: {summary}.",
                    undecided.join("; ")
                ),
            )
            .with_evidences(ev);
    }
    DNS_PTR
        .finding(
            Status::Pass,
            format!(
                "Every checked mail server address of {domain} has a forward-confirmed PTR \
                 record with a specific name: {summary}.{skipped_note}"
            ),
        )
        .with_evidences(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::mx;
    use crate::net::NetError;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn run_with(net: &ScriptedNet, max: usize) -> Finding {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let m = block_on(mx::lookup(&r, "example.org"));
        let p = block_on(lookup(&r, &m, max));
        judge("example.org", &p)
    }

    fn run(net: &ScriptedNet) -> Finding {
        run_with(net, MAX_ADDRESSES)
    }

    fn mail() -> ScriptedNet {
        ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25")
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name(ip("198.51.100.25")),
            "25.100.51.198.in-addr.arpa"
        );
        assert_eq!(
            reverse_name(ip("2001:db8::567:89ab")),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn forward_confirmed_specific_name_passes() {
        let net = mail()
            .ptr("25.100.51.198.in-addr.arpa", "mail.example.org")
            .aaaa("mail.example.org", "2001:db8::25")
            .ptr(&reverse_name(ip("2001:db8::25")), "mail.example.org");
        let f = run(&net);
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        assert!(f.detail.contains("198.51.100.25"));
        assert!(f.detail.contains("2001:db8::25"));
    }

    #[test]
    fn missing_ptr_fails() {
        let f = run(&mail());
        assert_eq!(f.status, Status::Fail, "{}", f.detail);
        assert!(f.detail.contains("no PTR"), "{}", f.detail);
        assert!(
            f.remediation
                .contains("25.100.51.198.in-addr.arpa. PTR mail.example.org."),
            "{}",
            f.remediation
        );
    }

    #[test]
    fn ptr_that_does_not_point_back_fails() {
        let net = mail()
            .ptr("25.100.51.198.in-addr.arpa", "mx.other.example")
            .a("mx.other.example", "203.0.113.9");
        let f = run(&net);
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("not forward-confirmed"), "{}", f.detail);
        // A PTR name that does not exist at all is not confirmed either.
        let net = mail().ptr("25.100.51.198.in-addr.arpa", "gone.example.net");
        assert_eq!(run(&net).status, Status::Fail);
    }

    #[test]
    fn generic_names_warn() {
        let net = mail()
            .ptr(
                "25.100.51.198.in-addr.arpa",
                "ec2-198-51-100-25.compute-1.amazonaws.com",
            )
            .a("ec2-198-51-100-25.compute-1.amazonaws.com", "198.51.100.25");
        let f = run(&net);
        assert_eq!(f.status, Status::Warn, "{}", f.detail);
        assert!(f.detail.contains("Amazon EC2"), "{}", f.detail);
    }

    #[test]
    fn generic_heuristic() {
        let v4 = ip("198.51.100.25");
        for name in [
            "198-51-100-25.dyn.example.net",
            "25.100.51.198.static.example.net",
            "host-51-100-25.example.net",
            "ip198051100025.example.net",
            "c6336419.example.net",
            "dynamic-7.example.net",
            "pool-a.customers.isp.example",
            "dsl123.isp.example",
            "static-ip.foo.isp.example",
            "static.25.100.51.198.clients.your-server.de",
            "vm1.bc.googleusercontent.com",
        ] {
            assert!(generic_reason(name, v4).is_some(), "{name}");
        }
        for name in [
            "mail.example.org",
            "mx1.example.org",
            "smtp25.example.org",
            "dslmail.example.org",
            // The provider's own domain is not scanned for words.
            "mail.dsl-provider.net",
            "mail.cable.example",
        ] {
            assert_eq!(generic_reason(name, v4), None, "{name}");
        }
        let v6 = ip("2001:db8:1:2::25");
        assert!(generic_reason("2001-db8-1-2--25.example.net", v6).is_some());
        assert!(generic_reason("host-db8-1-2.example.net", v6).is_some());
        assert_eq!(generic_reason("mail.example.org", v6), None);
    }

    #[test]
    fn failures_are_unknown_not_missing() {
        let net = mail().error(
            "25.100.51.198.in-addr.arpa",
            RecordType::PTR,
            NetError::Timeout(5000),
        );
        let f = run(&net);
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
        assert!(f.detail.contains("timed out"), "{}", f.detail);
        let net = mail()
            .ptr("25.100.51.198.in-addr.arpa", "mail.example.org")
            .rcode(
                "mail.example.org",
                RecordType::A,
                hickory_proto::op::ResponseCode::ServFail,
            );
        // The MX host's own address is unknown now: nothing to check.
        assert_eq!(run(&net).status, Status::Unknown);
        let net = ScriptedNet::new().error("example.org", RecordType::MX, NetError::Timeout(1));
        assert_eq!(run(&net).status, Status::Unknown);
    }

    #[test]
    fn a_known_problem_outweighs_an_undecided_address() {
        let net = ScriptedNet::new()
            .mx("example.org", 10, "a.example.org")
            .a("a.example.org", "198.51.100.1")
            .mx("example.org", 20, "b.example.org")
            .a("b.example.org", "198.51.100.2")
            .error(
                "2.100.51.198.in-addr.arpa",
                RecordType::PTR,
                NetError::Timeout(1),
            );
        let f = run(&net);
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("Not decided"), "{}", f.detail);
    }

    #[test]
    fn the_address_limit_is_kept_and_said() {
        let mut net = ScriptedNet::new().mx("example.org", 10, "mail.example.org");
        for i in 1..=4 {
            let addr = format!("198.51.100.{i}");
            net = net
                .a("mail.example.org", &addr)
                .ptr(&reverse_name(ip(&addr)), "mail.example.org");
        }
        let f = run_with(&net, 2);
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        assert!(f.detail.contains("2 more MX address"), "{}", f.detail);
        // MX, A, AAAA, then 2 PTR + the forward A (already known).
        assert_eq!(net.requests(), 5);
    }

    #[test]
    fn no_mx_is_info() {
        let net = ScriptedNet::new().mx("example.org", 0, "");
        assert_eq!(run(&net).status, Status::Info);
    }
}
