//! DNS blocklists (DNSBL/RHSBL, RFC 5782) and the rules `blocklist.ip`,
//! `blocklist.domain` and `blocklist.inconclusive`.
//!
//! The curated lists, their return codes and error codes are in [`lists`]
//! (documented in `docs/blocklists.md`). [`lookup`] asks these questions at
//! once (one round trip; a second only when a list reports a listing): for
//! each selected list its documented test entry
//! (the *canary*), the audited domain on each domain list, and each MX or
//! sending address on each IP list that supports its family. [`judge`]
//! then reads the answers:
//!
//! - a list whose canary is not listed, answers an error code, or cannot
//!   be asked is *inconclusive*: none of its answers is judged, and
//!   `blocklist.inconclusive` says why and how to query it properly;
//! - an answer in a list's error set (Spamhaus 127.255.255.x, URIBL and
//!   SURBL 127.0.0.1) or outside 127.0.0.0/8 is inconclusive too — an
//!   error code is never a listing;
//! - NXDOMAIN (or no A record) from a list whose canary works is "not
//!   listed";
//! - a documented code is a listing, judged by its weight (abuse, policy,
//!   reputation); an undocumented 127.x code is a `warn`, never a `fail`.
//!
//! Query names: IPv4 `4.3.2.1.<zone>`, IPv6 the 32 reversed nibbles
//! (`…8.b.d.0.1.0.0.2.<zone>`, only on lists with IPv6), domains
//! `<domain>.<zone>`. A Spamhaus DQS key turns `zen.spamhaus.org` into
//! `<key>.zen.dq.spamhaus.net` (and DBL into `<key>.dbl.dq.spamhaus.net`);
//! the key never appears in findings. [`BlocklistOptions::zone_suffix`] is
//! a test hook that appends a suffix to every zone so a test bed can serve
//! the real list definitions offline.
//!
//! Before any listing is believed, the list is asked about the entry RFC
//! 5782 §5 says it must never list (127.0.0.1, or `invalid` for domain
//! lists): a list that "lists" it lists everything and is inconclusive.
//! That second round trip happens only when some list reported a listing.
//!
//! Budget: first round = lists (one canary each) + domain lists + for each
//! checked address the IP lists that support its family; second round = one
//! query per list that reported a listing. With the default lists (5 IP
//! lists of which 1 has IPv6, 2 domain lists) the first round is
//! `9 + 5 × IPv4 addresses + 1 × IPv6 address`, kept within
//! [`BlocklistOptions::max_queries`] (20) and
//! [`BlocklistOptions::max_addresses`] (4): two IPv4 and one IPv6 address
//! fit (20 queries); the second round adds at most 7. Addresses beyond the
//! cap are named in the findings as not checked.

pub mod lists;

use crate::dns::mx::MxLookup;
use crate::dns::{normalize_name, DnsAnswer, DnsError, RecordType, Resolver};
use crate::net::Network;
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use futures::future::join_all;
use lists::{Blocklist, Hit, Target, Verdict, Weight, DQS_ZONE_SUFFIX, LISTS};
use std::net::IpAddr;

pub use lists::has_error_codes;

pub static BLOCKLIST_IP: Rule = Rule {
    id: "blocklist.ip",
    area: Area::Blocklists,
    title: "IP blocklists",
    severity: Severity::High,
    description: "An MX or sending IP address is listed on a DNS blocklist; the finding gives, \
        per list, the meaning of the return code and the delisting link — seed.",
    refs: &[
        "RFC 5782",
        "https://docs.spamhaus.com/datasets/docs/source/10-data-type-documentation/datasets/040-zones.html",
    ],
};

pub static BLOCKLIST_DOMAIN: Rule = Rule {
    id: "blocklist.domain",
    area: Area::Blocklists,
    title: "Domain blocklists",
    severity: Severity::High,
    description: "The domain is listed on a domain blocklist (Spamhaus DBL, SURBL, URIBL).",
    refs: &[
        "RFC 5782 §3",
        "https://docs.spamhaus.com/datasets/docs/source/10-data-type-documentation/datasets/040-zones.html",
    ],
};

pub static BLOCKLIST_INCONCLUSIVE: Rule = Rule {
    id: "blocklist.inconclusive",
    area: Area::Blocklists,
    title: "Blocklists that could not be queried",
    severity: Severity::Info,
    description: "A blocklist refused the query (e.g. Spamhaus 127.255.255.252/254/255 via a \
        public resolver, URIBL 127.0.0.1) or its test entry did not answer as listed: its \
        answers are reported unknown, never listed, with how to query it properly (own \
        resolver, DQS key).",
    refs: &[
        "RFC 5782 §5",
        "https://www.spamhaus.org/news/article/807/using-our-public-mirrors-check-your-return-codes-now",
    ],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&BLOCKLIST_IP, &BLOCKLIST_DOMAIN, &BLOCKLIST_INCONCLUSIVE];

/// Placeholder for the DQS key in everything this module returns.
const KEY_SHOWN_AS: &str = "<dqs-key>";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocklistOptions {
    /// A Spamhaus Data Query Service key: Spamhaus lists are then asked at
    /// `<key>.<list>.dq.spamhaus.net`, which works through any resolver.
    pub dqs_key: Option<String>,
    /// TEST HOOK: appended to every list zone (`zen.spamhaus.org.bl.test`)
    /// so a test bed's authoritative server can serve real list
    /// definitions offline. Never set in production.
    pub zone_suffix: Option<String>,
    /// List ids to query ([`lists::by_id`]); `None` = the default lists.
    pub lists: Option<Vec<String>>,
    /// Addresses the domain sends from, besides its MX hosts. Checked
    /// first, and a policy listing (Spamhaus PBL) is a failure for them.
    pub sending_ips: Vec<IpAddr>,
    /// At most this many addresses are checked.
    pub max_addresses: usize,
    /// At most this many queries in the first round (canaries and domain
    /// queries first; addresses are added while they fit). The second
    /// round adds at most one query per selected list.
    pub max_queries: usize,
}

impl Default for BlocklistOptions {
    fn default() -> Self {
        BlocklistOptions {
            dqs_key: None,
            zone_suffix: None,
            lists: None,
            sending_ips: Vec::new(),
            max_addresses: 4,
            max_queries: 20,
        }
    }
}

/// One selected list and how it was asked.
#[derive(Debug, Clone)]
pub struct ListRun {
    pub list: &'static Blocklist,
    /// The zone asked (DQS key shown as `<dqs-key>`).
    pub zone: String,
    /// Why the list was not asked at all (invalid DQS key or suffix).
    pub skipped: Option<String>,
    /// The answer for the list's test entry.
    pub canary: Option<Result<DnsAnswer, DnsError>>,
    /// The answer for the entry the list must never list
    /// ([`Blocklist::never_listed_entry`]), asked only when the list
    /// reported a listing.
    pub never_listed: Option<Result<DnsAnswer, DnsError>>,
}

/// One address and the answers of the IP lists about it.
#[derive(Debug, Clone)]
pub struct AddressCheck {
    pub ip: IpAddr,
    /// MX hosts with this address.
    pub mx_hosts: Vec<String>,
    /// Given as a sending IP.
    pub sending: bool,
    /// (index into [`BlocklistLookup::lists`], answer).
    pub answers: Vec<(usize, Result<DnsAnswer, DnsError>)>,
    /// Lists not asked about this address, and why.
    pub not_checked: Vec<(usize, &'static str)>,
}

/// Everything [`lookup`] asked and heard.
#[derive(Debug, Clone)]
pub struct BlocklistLookup {
    pub lists: Vec<ListRun>,
    pub addresses: Vec<AddressCheck>,
    /// The domain on each domain list: (index into `lists`, answer).
    pub domain: Vec<(usize, Result<DnsAnswer, DnsError>)>,
    /// Addresses found but not checked, and why.
    pub left_out: Vec<(IpAddr, String)>,
    /// Why some MX addresses are not known (MX or A/AAAA look-up failed).
    pub mx_gaps: Vec<String>,
    /// Requested list ids that are not curated lists.
    pub unknown_lists: Vec<String>,
    /// Queries sent (both rounds).
    pub queries: usize,
}

/// The reversed form of an address used by DNS lists: `4.3.2.1` for
/// 1.2.3.4, the 32 nibbles in reverse order for IPv6.
pub fn reverse_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => v6
            .octets()
            .iter()
            .rev()
            .flat_map(|b| [b & 0x0f, b >> 4])
            .map(|n| format!("{n:x}"))
            .collect::<Vec<_>>()
            .join("."),
    }
}

/// A DQS key is one DNS label of letters and digits (Spamhaus issues 26).
fn valid_dqs_key(key: &str) -> bool {
    (8..=63).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The zone to ask for `list` (with the real key), or why it cannot be asked.
fn zone_for(list: &Blocklist, opts: &BlocklistOptions) -> Result<String, String> {
    let mut zone = match (&opts.dqs_key, list.dqs) {
        (Some(key), Some(dqs)) => {
            let key = key.trim();
            if !valid_dqs_key(key) {
                return Err("the Spamhaus DQS key given is not valid (it should be the \
                     26-character key from the Spamhaus portal, letters and digits only)"
                    .into());
            }
            format!("{}.{dqs}.{DQS_ZONE_SUFFIX}", key.to_ascii_lowercase())
        }
        _ => list.zone.to_string(),
    };
    if let Some(suffix) = &opts.zone_suffix {
        let suffix = normalize_name(suffix)
            .map_err(|_| format!("the test zone suffix {suffix:?} is not a domain name"))?;
        zone = format!("{zone}.{suffix}");
    }
    Ok(zone)
}

/// Why an address is not looked up at all.
fn not_listable(ip: IpAddr) -> Option<&'static str> {
    let private = "a private or internal address (blocklists list public addresses only)";
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            let internal = v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]));
            internal.then_some(private)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments()[0];
            let internal = v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s & 0xfe00) == 0xfc00
                || (s & 0xffc0) == 0xfe80;
            internal.then_some(private)
        }
    }
}

/// IPv4-mapped IPv6 addresses are their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn supports(list: &Blocklist, ip: IpAddr) -> bool {
    list.target == Target::Ip && (ip.is_ipv4() || list.ipv6)
}

fn selected(opts: &BlocklistOptions) -> (Vec<&'static Blocklist>, Vec<String>) {
    let Some(ids) = &opts.lists else {
        return (LISTS.iter().filter(|l| l.default).collect(), Vec::new());
    };
    let mut chosen: Vec<&'static Blocklist> = Vec::new();
    let mut unknown = Vec::new();
    for id in ids {
        match lists::by_id(id) {
            Some(l) if !chosen.iter().any(|c| c.id == l.id) => chosen.push(l),
            Some(_) => {}
            None => unknown.push(id.clone()),
        }
    }
    // Catalog order, whatever order the caller named them in.
    chosen.sort_by_key(|l| LISTS.iter().position(|x| x.id == l.id));
    (chosen, unknown)
}

/// The candidate addresses (sending IPs first, then MX addresses by
/// preference) and why some MX addresses are unknown.
fn candidates(mx: &MxLookup, opts: &BlocklistOptions) -> (Vec<AddressCheck>, Vec<String>) {
    let mut out: Vec<AddressCheck> = Vec::new();
    let mut add = |ip: IpAddr, host: Option<&str>| {
        let ip = canonical(ip);
        let idx = match out.iter().position(|a| a.ip == ip) {
            Some(i) => i,
            None => {
                out.push(AddressCheck {
                    ip,
                    mx_hosts: Vec::new(),
                    sending: false,
                    answers: Vec::new(),
                    not_checked: Vec::new(),
                });
                out.len() - 1
            }
        };
        match host {
            Some(h) if !out[idx].mx_hosts.iter().any(|x| x == h) => {
                out[idx].mx_hosts.push(h.to_string())
            }
            Some(_) => {}
            None => out[idx].sending = true,
        }
    };
    for ip in &opts.sending_ips {
        add(*ip, None);
    }
    let mut gaps = Vec::new();
    match &mx.answer {
        Err(e) => gaps.push(format!("the MX records could not be read ({e})")),
        Ok(a) if !a.is_definite() => gaps.push(format!(
            "the resolver answered {} for the MX records",
            a.rcode_text()
        )),
        Ok(_) => {}
    }
    for h in &mx.hosts {
        for (rtype, r) in [("A", &h.a), ("AAAA", &h.aaaa)] {
            match r {
                Err(e) => gaps.push(format!("{} {rtype}: {e}", h.host)),
                Ok(a) if !a.is_definite() => {
                    gaps.push(format!("{} {rtype}: {}", h.host, a.rcode_text()))
                }
                Ok(_) => {}
            }
        }
        for ip in h.addresses() {
            add(ip, Some(&h.host));
        }
    }
    (out, gaps)
}

fn redact(text: &str, key: Option<&str>) -> String {
    match key {
        Some(k) if !k.is_empty() => {
            // Names are lower case; so is the key as asked.
            let lower = k.to_ascii_lowercase();
            text.replace(k, KEY_SHOWN_AS).replace(&lower, KEY_SHOWN_AS)
        }
        _ => text.to_string(),
    }
}

fn redact_answer(r: Result<DnsAnswer, DnsError>, key: Option<&str>) -> Result<DnsAnswer, DnsError> {
    if key.is_none() {
        return r;
    }
    match r {
        Ok(mut a) => {
            a.qname = redact(&a.qname, key);
            for rr in &mut a.records {
                rr.name = redact(&rr.name, key);
                if let crate::dns::RrData::Cname(t) = &mut rr.data {
                    *t = redact(t, key);
                }
            }
            Ok(a)
        }
        Err(DnsError::BadName(n)) => Err(DnsError::BadName(redact(&n, key))),
        Err(e) => Err(e),
    }
}

/// What one query is for.
enum Purpose {
    Canary(usize),
    Domain(usize),
    Address(usize, usize),
}

/// Asks every selected list about `domain`, the MX addresses in `mx` and
/// `opts.sending_ips`, all at once beside each list's test entry; then,
/// only for lists that reported a listing, the entry they must never list.
pub async fn lookup<N: Network>(
    resolver: &Resolver<'_, N>,
    domain: &str,
    mx: &MxLookup,
    opts: &BlocklistOptions,
) -> BlocklistLookup {
    let domain = normalize_name(domain).unwrap_or_else(|_| domain.to_string());
    let (chosen, unknown_lists) = selected(opts);
    let key = opts
        .dqs_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let mut runs = Vec::new();
    let mut zones = Vec::new();
    for list in chosen {
        let zone = zone_for(list, opts);
        runs.push(ListRun {
            list,
            zone: redact(zone.as_deref().unwrap_or(list.zone), key),
            skipped: zone.as_ref().err().cloned(),
            canary: None,
            never_listed: None,
        });
        zones.push(zone.ok());
    }
    let mut plan: Vec<(Purpose, String)> = Vec::new();
    for (i, zone) in zones.iter().enumerate() {
        if let Some(z) = zone {
            plan.push((
                Purpose::Canary(i),
                format!("{}.{z}", runs[i].list.test_entry),
            ));
        }
    }
    for (i, zone) in zones.iter().enumerate() {
        if let (Some(z), Target::Domain) = (zone, runs[i].list.target) {
            plan.push((Purpose::Domain(i), format!("{domain}.{z}")));
        }
    }
    let (mut addresses, mx_gaps) = candidates(mx, opts);
    let mut left_out = Vec::new();
    let mut kept = Vec::new();
    for mut a in addresses.drain(..) {
        if let Some(why) = not_listable(a.ip) {
            left_out.push((a.ip, why.to_string()));
            continue;
        }
        let asks: Vec<usize> = (0..runs.len())
            .filter(|&i| zones[i].is_some() && supports(runs[i].list, a.ip))
            .collect();
        if kept.len() >= opts.max_addresses || plan.len() + asks.len() > opts.max_queries {
            left_out.push((
                a.ip,
                "not checked: the audit's query budget is spent".to_string(),
            ));
            continue;
        }
        let idx = kept.len();
        for &i in &asks {
            let name = format!("{}.{}", reverse_ip(a.ip), zones[i].as_deref().unwrap_or(""));
            plan.push((Purpose::Address(idx, i), name));
        }
        for (i, run) in runs.iter().enumerate() {
            if run.list.target == Target::Ip && !supports(run.list, a.ip) {
                a.not_checked
                    .push((i, "not checked: the list has no IPv6 data"));
            }
        }
        kept.push(a);
    }
    let queries = plan.len();
    let answers = join_all(
        plan.iter()
            .map(|(_, name)| resolver.query(name, RecordType::A)),
    )
    .await;
    let mut domain_answers = Vec::new();
    for ((purpose, _), answer) in plan.into_iter().zip(answers) {
        let answer = redact_answer(answer, key);
        match purpose {
            Purpose::Canary(i) => runs[i].canary = Some(answer),
            Purpose::Domain(i) => domain_answers.push((i, answer)),
            Purpose::Address(a, i) => kept[a].answers.push((i, answer)),
        }
    }
    // Before a listing is believed: does the list list everything? One
    // more round trip, only for lists that reported a listing.
    let listing = |i: usize, r: &Result<DnsAnswer, DnsError>| {
        matches!(runs[i].list.read(r), Verdict::Listed(_))
    };
    let mut confirm: Vec<usize> = kept
        .iter()
        .flat_map(|a| a.answers.iter())
        .chain(domain_answers.iter())
        .filter(|(i, r)| list_problem(&runs[*i]).is_none() && listing(*i, r))
        .map(|(i, _)| *i)
        .collect();
    confirm = dedup(confirm);
    let names: Vec<String> = confirm
        .iter()
        .map(|&i| {
            let zone = zones[i].as_deref().unwrap_or("");
            format!("{}.{zone}", runs[i].list.never_listed_entry())
        })
        .collect();
    let answers = join_all(names.iter().map(|name| resolver.query(name, RecordType::A))).await;
    for (i, answer) in confirm.into_iter().zip(answers) {
        runs[i].never_listed = Some(redact_answer(answer, key));
    }
    let queries = queries + names.len();
    BlocklistLookup {
        lists: runs,
        addresses: kept,
        domain: domain_answers,
        left_out,
        mx_gaps,
        unknown_lists,
        queries,
    }
}

/// Why a list's answers cannot be judged, if they cannot.
fn list_problem(run: &ListRun) -> Option<String> {
    if let Some(why) = &run.skipped {
        return Some(why.clone());
    }
    let canary = match &run.canary {
        None => Some("its test entry was not asked".into()),
        Some(c) => run.list.canary_failure(c),
    };
    canary.or_else(|| {
        run.never_listed
            .as_ref()
            .and_then(|n| run.list.lists_everything(n))
    })
}

/// One judged answer.
enum Reading {
    Clean,
    Listed(Vec<Hit>),
    /// Why is in blocklist.inconclusive.
    Inconclusive,
}

fn reading(
    run: &ListRun,
    problem: &Option<String>,
    answer: &Result<DnsAnswer, DnsError>,
) -> Reading {
    if problem.is_some() {
        return Reading::Inconclusive;
    }
    match run.list.read(answer) {
        Verdict::NotListed => Reading::Clean,
        Verdict::Listed(hits) => Reading::Listed(hits),
        Verdict::Refused(_) | Verdict::Failed(_) => Reading::Inconclusive,
    }
}

/// How bad one listing is for this address: (status, severity).
fn grade(hits: &[Hit], sending: bool) -> (Status, Severity) {
    let worst = hits.iter().map(|h| h.weight).max().flatten();
    let undocumented = hits.iter().any(|h| h.weight.is_none());
    match worst {
        Some(Weight::Abuse) => (Status::Fail, Severity::High),
        Some(Weight::Policy) if sending => (Status::Fail, Severity::High),
        Some(Weight::Reputation) => (Status::Warn, Severity::Medium),
        _ if undocumented => (Status::Warn, Severity::Medium),
        _ => (Status::Warn, Severity::Low),
    }
}

fn hits_text(hits: &[Hit]) -> String {
    hits.iter()
        .map(|h| format!("{} = {}", h.code, h.meanings.join(" + ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn who(a: &AddressCheck) -> String {
    let mut roles = Vec::new();
    if a.sending {
        roles.push("sending IP".to_string());
    }
    if !a.mx_hosts.is_empty() {
        roles.push(format!("MX {}", a.mx_hosts.join(", ")));
    }
    format!("{} ({})", a.ip, roles.join("; "))
}

fn names(runs: &[ListRun], idx: impl IntoIterator<Item = usize>) -> String {
    let mut v: Vec<&str> = idx.into_iter().map(|i| runs[i].list.name).collect();
    v.dedup();
    v.join(", ")
}

/// What the answers of several lists add up to, for one rule.
#[derive(Default)]
struct Tally {
    listings: Vec<(Status, Severity, String, &'static Blocklist)>,
    clean: Vec<usize>,
    inconclusive: Vec<usize>,
    evidence: Vec<Evidence>,
    /// How many of `evidence` (at its start) show listings.
    listed_evidence: usize,
}

impl Tally {
    fn add(
        &mut self,
        lookup: &BlocklistLookup,
        problems: &[Option<String>],
        i: usize,
        answer: &Result<DnsAnswer, DnsError>,
        subject: &str,
        sending: bool,
    ) {
        let run = &lookup.lists[i];
        // Answers of unusable lists are not evidence of anything here
        // (blocklist.inconclusive shows them); listings come first.
        let read = reading(run, &problems[i], answer);
        match (&read, answer) {
            (Reading::Clean, Ok(a)) => self.evidence.push(a.evidence()),
            (Reading::Listed(_), Ok(a)) => {
                self.evidence.insert(self.listed_evidence, a.evidence());
                self.listed_evidence += 1;
            }
            _ => {}
        }
        match read {
            Reading::Clean => self.clean.push(i),
            Reading::Inconclusive => self.inconclusive.push(i),
            Reading::Listed(hits) => {
                let (status, severity) = grade(&hits, sending);
                let mut line = format!(
                    "{subject} is listed on {} ({}): {}",
                    run.list.name,
                    run.zone,
                    hits_text(&hits)
                );
                if hits.iter().any(|h| h.weight == Some(Weight::Policy)) && !sending {
                    line.push_str(
                        ". This is a policy entry, not an abuse listing: fine for a host that \
                         only receives mail, but receivers that use ZEN reject mail this \
                         address sends directly",
                    );
                }
                if hits.iter().all(|h| h.weight.is_none()) {
                    line.push_str(". The code is undocumented: it may be a new kind of listing");
                }
                self.listings.push((status, severity, line, run.list));
            }
        }
    }

    /// Lists of this kind that were never asked count as unchecked.
    fn add_skipped(&mut self, lookup: &BlocklistLookup, target: Target) {
        for (i, run) in lookup.lists.iter().enumerate() {
            if run.list.target == target && run.skipped.is_some() {
                self.inconclusive.push(i);
            }
        }
    }

    /// The finding for `rule` about `what` (the subjects checked).
    fn finding(
        self,
        rule: &'static Rule,
        lookup: &BlocklistLookup,
        what: &str,
        notes: Vec<String>,
    ) -> Finding {
        let mut ev = self.evidence;
        ev.extend(notes.iter().map(|n| Evidence::Note { text: n.clone() }));
        let unchecked = if self.inconclusive.is_empty() {
            String::new()
        } else {
            format!(
                " Could not be checked on {} (see blocklist.inconclusive).",
                names(&lookup.lists, dedup(self.inconclusive.clone()))
            )
        };
        if let Some(&(status, _, _, _)) = self.listings.iter().min_by_key(|l| l.0) {
            let severity = self
                .listings
                .iter()
                .filter(|l| l.0 == status)
                .map(|l| l.1)
                .max()
                .unwrap_or(rule.severity);
            let mut lines: Vec<String> = self.listings.iter().map(|l| l.2.clone()).collect();
            lines.dedup();
            let mut delist: Vec<String> = Vec::new();
            for (_, _, _, list) in &self.listings {
                let line = format!("{}: {} — {}", list.name, list.delist, list.removal);
                if !delist.contains(&line) {
                    delist.push(line);
                }
            }
            return rule
                .finding(status, format!("{}.{unchecked}", lines.join(".\n")))
                .with_severity(severity)
                .with_evidences(ev)
                .with_remediation(format!(
                    "Find and stop the cause first (a compromised account or password, an open \
                     relay, an infected host, a form that sends mail), or the listing returns. \
                     Then request removal:\n{}",
                    delist.join("\n")
                ));
        }
        if !self.inconclusive.is_empty() {
            let clean = dedup(self.clean.clone());
            let detail = if clean.is_empty() {
                format!("No list could be checked for {what}.{unchecked}")
            } else {
                format!(
                    "{what}: not listed on {}.{unchecked}",
                    names(&lookup.lists, clean)
                )
            };
            return rule
                .finding(Status::Unknown, detail.trim().to_string())
                .with_evidences(ev);
        }
        rule.finding(
            Status::Pass,
            format!(
                "{what}: not listed on {}.",
                names(&lookup.lists, dedup(self.clean))
            ),
        )
        .with_evidences(ev)
    }
}

fn dedup(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v.dedup();
    v
}

/// `blocklist.ip`, `blocklist.domain` and `blocklist.inconclusive`.
pub fn judge(domain: &str, lookup: &BlocklistLookup) -> Vec<Finding> {
    let problems: Vec<Option<String>> = lookup.lists.iter().map(list_problem).collect();
    vec![
        judge_ip(lookup, &problems),
        judge_domain(domain, lookup, &problems),
        judge_inconclusive(lookup, &problems),
    ]
}

fn judge_ip(lookup: &BlocklistLookup, problems: &[Option<String>]) -> Finding {
    let mut notes: Vec<String> = lookup
        .left_out
        .iter()
        .map(|(ip, why)| format!("{ip}: {why}"))
        .collect();
    for a in &lookup.addresses {
        for (i, why) in &a.not_checked {
            notes.push(format!("{} on {}: {why}", a.ip, lookup.lists[*i].list.name));
        }
    }
    if !lookup.lists.iter().any(|r| r.list.target == Target::Ip) {
        return BLOCKLIST_IP.finding(Status::Info, "No IP blocklist was selected.");
    }
    if lookup.addresses.is_empty() {
        let mut ev: Vec<Evidence> = notes
            .into_iter()
            .map(|text| Evidence::Note { text })
            .collect();
        if !lookup.mx_gaps.is_empty() {
            ev.extend(
                lookup
                    .mx_gaps
                    .iter()
                    .map(|g| Evidence::Note { text: g.clone() }),
            );
            return BLOCKLIST_IP
                .finding(
                    Status::Unknown,
                    format!(
                        "The mail server addresses are not known, so no blocklist could be \
                         checked: {}.",
                        lookup.mx_gaps.join("; ")
                    ),
                )
                .with_evidences(ev);
        }
        return BLOCKLIST_IP
            .finding(
                Status::Info,
                "No public MX or sending address to check against IP blocklists.",
            )
            .with_evidences(ev);
    }
    let mut tally = Tally::default();
    for a in &lookup.addresses {
        let subject = who(a);
        for (i, answer) in &a.answers {
            tally.add(lookup, problems, *i, answer, &subject, a.sending);
        }
        if a.answers.is_empty() {
            notes.push(format!("{}: no selected list covers this address", a.ip));
        }
    }
    tally.add_skipped(lookup, Target::Ip);
    let checked: Vec<String> = lookup.addresses.iter().map(|a| a.ip.to_string()).collect();
    let uncovered = lookup.addresses.iter().any(|a| a.answers.is_empty());
    let mut f = tally.finding(&BLOCKLIST_IP, lookup, &checked.join(", "), notes);
    // Gaps in what was checked keep a clean result from passing.
    if f.status == Status::Pass && (uncovered || !lookup.mx_gaps.is_empty()) {
        let mut gaps = lookup.mx_gaps.clone();
        if uncovered {
            gaps.push("an address is covered by no selected list".into());
        }
        f.status = Status::Unknown;
        f.detail = format!(
            "{} Not every address could be checked: {}.",
            f.detail,
            gaps.join("; ")
        );
    }
    if f.status == Status::Pass && !lookup.left_out.is_empty() {
        f.detail = format!(
            "{} Not checked: {}.",
            f.detail,
            lookup
                .left_out
                .iter()
                .map(|(ip, why)| format!("{ip} ({why})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    f
}

fn judge_domain(domain: &str, lookup: &BlocklistLookup, problems: &[Option<String>]) -> Finding {
    if lookup.domain.is_empty() {
        let skipped: Vec<&str> = lookup
            .lists
            .iter()
            .filter(|r| r.list.target == Target::Domain)
            .map(|r| r.list.name)
            .collect();
        if skipped.is_empty() {
            return BLOCKLIST_DOMAIN.finding(Status::Info, "No domain blocklist was selected.");
        }
        return BLOCKLIST_DOMAIN.finding(
            Status::Unknown,
            format!(
                "{domain} could not be checked on {} (see blocklist.inconclusive).",
                skipped.join(", ")
            ),
        );
    }
    let mut tally = Tally::default();
    for (i, answer) in &lookup.domain {
        tally.add(lookup, problems, *i, answer, domain, false);
    }
    tally.add_skipped(lookup, Target::Domain);
    tally.finding(&BLOCKLIST_DOMAIN, lookup, domain, Vec::new())
}

fn judge_inconclusive(lookup: &BlocklistLookup, problems: &[Option<String>]) -> Finding {
    let mut lines = Vec::new();
    let mut ev = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    for (i, run) in lookup.lists.iter().enumerate() {
        let mut reasons: Vec<String> = Vec::new();
        if let Some(p) = &problems[i] {
            reasons.push(p.clone());
            for a in [&run.canary, &run.never_listed]
                .into_iter()
                .flatten()
                .flatten()
            {
                ev.push(a.evidence());
            }
        } else {
            let answers = lookup
                .addresses
                .iter()
                .flat_map(|a| a.answers.iter().map(move |(j, r)| (a.ip.to_string(), j, r)))
                .chain(
                    lookup
                        .domain
                        .iter()
                        .map(|(j, r)| ("the domain".to_string(), j, r)),
                )
                .filter(|(_, j, _)| **j == i);
            for (subject, _, r) in answers {
                if let Verdict::Refused(why) | Verdict::Failed(why) = run.list.read(r) {
                    reasons.push(format!("{subject}: {why}"));
                    if let Ok(a) = r {
                        ev.push(a.evidence());
                    }
                }
            }
        }
        if reasons.is_empty() {
            continue;
        }
        reasons.dedup();
        lines.push(format!(
            "{} ({}): {}",
            run.list.name,
            run.zone,
            reasons.join("; ")
        ));
        let fix = format!("{}: {}.", run.list.name, run.list.access);
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    if !lookup.unknown_lists.is_empty() {
        ev.push(Evidence::Note {
            text: format!(
                "not curated lists, ignored: {}",
                lookup.unknown_lists.join(", ")
            ),
        });
    }
    if lines.is_empty() {
        let n = lookup.lists.len();
        return BLOCKLIST_INCONCLUSIVE
            .finding(
                Status::Pass,
                format!(
                    "All {n} lists answered their test entries as listed, and every query \
                     got a usable answer ({} queries).",
                    lookup.queries
                ),
            )
            .with_evidences(ev);
    }
    BLOCKLIST_INCONCLUSIVE
        .finding(
            Status::Unknown,
            format!(
                "These lists could not be used, so their answers are unknown — not \"not \
                 listed\", and never \"listed\":\n{}",
                lines.join("\n")
            ),
        )
        .with_evidences(ev)
        .with_remediation(fixes.join("\n"))
}

#[cfg(test)]
mod tests;
