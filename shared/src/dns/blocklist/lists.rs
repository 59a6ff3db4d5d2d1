//! The curated DNS blocklists: zones, return codes, error codes, test
//! entries, delisting pages and access rules. `docs/blocklists.md` explains
//! each list and marks what could not be confirmed; keep the two in step.
//!
//! An answer is read only through [`Blocklist::read`], so the meaning of a
//! return code lives in one place. Error codes (a list refusing the query)
//! are never a listing.

use crate::dns::{DnsAnswer, DnsError, RrData};
use std::net::Ipv4Addr;

/// What a list is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// IP addresses (reversed octets, or IPv6 nibbles, before the zone).
    Ip,
    /// Domain names (the name before the zone: a "right-hand side" list).
    Domain,
}

/// How a listing is judged. Ordered from mildest to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    /// A policy list, not an abuse listing: Spamhaus PBL says "this address
    /// should not send mail straight to other domains' MX hosts" (dynamic
    /// or end-user ranges). Harmless for a host that only receives mail;
    /// fatal for one that sends.
    Policy,
    /// A reputation or low-confidence signal (URIBL grey/red, Mailspike's
    /// milder levels): may cost deliverability, rarely rejects outright.
    Reputation,
    /// Spam, exploited host, phishing, malware, botnet: receivers that use
    /// the list reject or junk the mail.
    Abuse,
}

/// One documented return code of an exact-match list.
#[derive(Debug)]
pub struct Code {
    pub code: Ipv4Addr,
    pub meaning: &'static str,
    pub weight: Weight,
}

/// One bit of the last octet of a bitmask list (SURBL, URIBL).
#[derive(Debug)]
pub struct Bit {
    pub bit: u8,
    pub meaning: &'static str,
    pub weight: Weight,
}

/// How return codes are read.
#[derive(Debug)]
pub enum Codes {
    /// Each answer is one of these codes.
    Exact(&'static [Code]),
    /// Answers are 127.0.0.x, x a sum of these bits.
    Bitmask(&'static [Bit]),
}

/// An answer that means the list refused or could not serve the query.
#[derive(Debug)]
pub struct ErrorCode {
    pub code: Ipv4Addr,
    pub meaning: &'static str,
}

/// One curated list.
#[derive(Debug)]
pub struct Blocklist {
    /// Stable id used in options (`lists`).
    pub id: &'static str,
    pub name: &'static str,
    /// The public zone queried.
    pub zone: &'static str,
    /// The operator's domain (any zone under it shares the error codes).
    pub operator: &'static str,
    pub target: Target,
    pub codes: Codes,
    /// Documented error answers, in groups (an operator's common codes
    /// and a list's own).
    pub errors: &'static [&'static [ErrorCode]],
    /// Every answer in this /24 is an error, documented or not
    /// (Spamhaus reserves 127.255.255.0/24 for errors).
    pub error_range: Option<[u8; 3]>,
    /// The list answers IPv6 (nibble) queries.
    pub ipv6: bool,
    /// The documented test entry, as the label(s) put before the zone:
    /// `2.0.0.127` (RFC 5782 §5: 127.0.0.2 is always listed) or a domain.
    pub test_entry: &'static str,
    /// The documented IPv6 test address (RFC 5782 §5: `::FFFF:7F00:2`),
    /// for lists with IPv6. Not queried by the audit (one canary per list).
    pub test_entry_v6: Option<&'static str>,
    /// With a Spamhaus DQS key, the zone becomes `<key>.<dqs>.dq.spamhaus.net`.
    pub dqs: Option<&'static str>,
    /// Where to look up a listing and ask for removal.
    pub delist: &'static str,
    /// How removal works, in one sentence.
    pub removal: &'static str,
    /// Queries through big public resolvers (Cloudflare, Google, Quad9) get
    /// real answers.
    pub public_resolvers: bool,
    /// How to query the list properly when it refuses.
    pub access: &'static str,
    /// Queried unless the caller selects lists.
    pub default: bool,
}

/// Where the DQS zones live.
pub const DQS_ZONE_SUFFIX: &str = "dq.spamhaus.net";
/// The operator domain of the DQS zones.
const DQS_OPERATOR: &str = "spamhaus.net";

const fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

const SPAMHAUS_ERRORS: &[ErrorCode] = &[
    ErrorCode {
        code: ip(127, 255, 255, 250),
        meaning: "the DQS key is disabled or invalid (127.255.255.250)",
    },
    ErrorCode {
        code: ip(127, 255, 255, 251),
        meaning: "the DQS key was rejected (127.255.255.251)",
    },
    ErrorCode {
        code: ip(127, 255, 255, 252),
        meaning: "the list name is mistyped: no such Spamhaus zone (127.255.255.252)",
    },
    ErrorCode {
        code: ip(127, 255, 255, 254),
        meaning: "Spamhaus refuses queries from public/open resolvers and \
                  unattributable networks (127.255.255.254)",
    },
    ErrorCode {
        code: ip(127, 255, 255, 255),
        meaning: "Spamhaus refuses the resolver for an excessive number of queries \
                  (127.255.255.255)",
    },
];

/// Errors only DBL gives, besides Spamhaus' common ones.
const DBL_ERRORS: &[ErrorCode] = &[ErrorCode {
    code: ip(127, 0, 1, 255),
    meaning: "DBL was asked about an IP address, which it does not list (127.0.1.255)",
}];

const SPAMHAUS_ACCESS: &str = "Spamhaus answers only low-volume queries from resolvers it can \
    attribute: query through your own recursive resolver (not Cloudflare, Google, Quad9 or \
    another public one), or give a free Spamhaus DQS key, which queries \
    <key>.zen.dq.spamhaus.net and <key>.dbl.dq.spamhaus.net instead";

const REFUSED_127_0_0_1: &str =
    "the list refuses this resolver: public resolvers exceed its free-use limit (127.0.0.1)";

const SINGLE_2: &[Code] = &[Code {
    code: ip(127, 0, 0, 2),
    meaning: "listed",
    weight: Weight::Abuse,
}];

/// Every curated list, IP lists first; the default ones come first in each group.
pub static LISTS: &[Blocklist] = &[
    Blocklist {
        id: "spamhaus-zen",
        name: "Spamhaus ZEN",
        zone: "zen.spamhaus.org",
        operator: "spamhaus.org",
        target: Target::Ip,
        codes: Codes::Exact(&[
            Code {
                code: ip(127, 0, 0, 2),
                meaning: "SBL: a known spam source or spam operation, listed by Spamhaus staff",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 3),
                meaning: "SBL CSS: snowshoe or low-reputation bulk sending detected automatically",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 4),
                meaning: "XBL: the host is exploited (malware, open proxy, botnet)",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 5),
                meaning: "XBL: the host is exploited (code reserved for XBL)",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 6),
                meaning: "XBL: the host is exploited (code reserved for XBL)",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 7),
                meaning: "XBL: the host is exploited (code reserved for XBL)",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 9),
                meaning: "SBL DROP: the network is hijacked or run by criminals",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 10),
                meaning: "PBL (set by the network's ISP): end-user or dynamic range that \
                          should not send mail directly to MX hosts — a policy entry, not abuse",
                weight: Weight::Policy,
            },
            Code {
                code: ip(127, 0, 0, 11),
                meaning: "PBL (set by Spamhaus): end-user or dynamic range that should not \
                          send mail directly to MX hosts — a policy entry, not abuse",
                weight: Weight::Policy,
            },
            Code {
                code: ip(127, 0, 0, 30),
                meaning: "SBL BCL: a botnet controller",
                weight: Weight::Abuse,
            },
        ]),
        errors: &[SPAMHAUS_ERRORS],
        error_range: Some([127, 255, 255]),
        ipv6: true,
        test_entry: "2.0.0.127",
        test_entry_v6: Some("::ffff:7f00:2"),
        dqs: Some("zen"),
        delist: "https://check.spamhaus.org/",
        removal: "look the address up; SBL listings need the cause fixed and a ticket, XBL \
                  and PBL entries can be removed from the lookup page once the host is clean \
                  (PBL: only for a real mail server with proper reverse DNS)",
        public_resolvers: false,
        access: SPAMHAUS_ACCESS,
        default: true,
    },
    Blocklist {
        id: "barracuda",
        name: "Barracuda BRBL",
        zone: "b.barracudacentral.org",
        operator: "barracudacentral.org",
        target: Target::Ip,
        codes: Codes::Exact(SINGLE_2),
        errors: &[],
        error_range: None,
        ipv6: false,
        test_entry: "2.0.0.127",
        test_entry_v6: None,
        dqs: None,
        delist: "https://www.barracudacentral.org/rbl/removal-request",
        removal: "fill in the removal request; Barracuda reviews it, usually within a day",
        public_resolvers: false,
        access: "Barracuda answers only resolvers registered (free) at \
                 https://www.barracudacentral.org/account/register: query through your own \
                 resolver and register its address",
        default: true,
    },
    Blocklist {
        id: "spamcop",
        name: "SpamCop",
        zone: "bl.spamcop.net",
        operator: "spamcop.net",
        target: Target::Ip,
        codes: Codes::Exact(&[Code {
            code: ip(127, 0, 0, 2),
            meaning: "recipients reported spam from this address",
            weight: Weight::Abuse,
        }]),
        errors: &[],
        error_range: None,
        ipv6: false,
        test_entry: "2.0.0.127",
        test_entry_v6: None,
        dqs: None,
        delist: "https://www.spamcop.net/bl.shtml",
        removal: "no form: the entry expires about 24 hours after the reports stop",
        public_resolvers: true,
        access: "query through another resolver; SpamCop normally answers public resolvers",
        default: true,
    },
    Blocklist {
        id: "mailspike",
        name: "Mailspike BL",
        zone: "bl.mailspike.net",
        operator: "mailspike.net",
        target: Target::Ip,
        codes: Codes::Exact(&[
            Code {
                code: ip(127, 0, 0, 2),
                meaning: "seen taking part in a distributed spam wave (Mailspike Z)",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 10),
                meaning: "reputation L5: worst",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 11),
                meaning: "reputation L4: very bad",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 12),
                meaning: "reputation L3: bad",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 0, 13),
                meaning: "reputation L2: suspicious behaviour",
                weight: Weight::Reputation,
            },
            Code {
                code: ip(127, 0, 0, 14),
                meaning: "reputation L1: neutral, probably spam",
                weight: Weight::Reputation,
            },
        ]),
        errors: &[],
        error_range: None,
        ipv6: false,
        test_entry: "2.0.0.127",
        test_entry_v6: None,
        dqs: None,
        delist: "https://mailspike.org/",
        removal: "request removal through the lookup on the Mailspike site; reputation \
                  improves by itself once the address sends clean mail",
        public_resolvers: true,
        access: "query through your own resolver: the free service is limited to \
                 100,000 queries a day per querying site",
        default: true,
    },
    Blocklist {
        id: "psbl",
        name: "PSBL",
        zone: "psbl.surriel.com",
        operator: "surriel.com",
        target: Target::Ip,
        codes: Codes::Exact(&[Code {
            code: ip(127, 0, 0, 2),
            meaning: "mail from this address reached PSBL's spam traps",
            weight: Weight::Abuse,
        }]),
        errors: &[],
        error_range: None,
        ipv6: false,
        test_entry: "2.0.0.127",
        test_entry_v6: None,
        dqs: None,
        delist: "https://psbl.org/remove",
        removal: "self-service removal on the page (entries also expire when the spam stops)",
        public_resolvers: true,
        access: "query through another resolver; PSBL normally answers public resolvers",
        default: true,
    },
    Blocklist {
        id: "uceprotect-1",
        name: "UCEPROTECT Level 1",
        zone: "dnsbl-1.uceprotect.net",
        operator: "uceprotect.net",
        target: Target::Ip,
        codes: Codes::Exact(&[Code {
            code: ip(127, 0, 0, 2),
            meaning: "this single address sent mail to UCEPROTECT's spam traps",
            weight: Weight::Abuse,
        }]),
        errors: &[],
        error_range: None,
        ipv6: false,
        test_entry: "2.0.0.127",
        test_entry_v6: None,
        dqs: None,
        delist: "https://www.uceprotect.net/en/rblcheck.php",
        removal: "entries expire 7 days after the last spam trap hit (UCEPROTECT also sells \
                  express removal; it is not needed)",
        public_resolvers: true,
        access: "query through your own resolver",
        default: false,
    },
    Blocklist {
        id: "s5h",
        name: "s5h.net RBL",
        zone: "all.s5h.net",
        operator: "s5h.net",
        target: Target::Ip,
        codes: Codes::Exact(&[Code {
            code: ip(127, 0, 0, 2),
            meaning: "spam or abusive requests came from this address",
            weight: Weight::Abuse,
        }]),
        errors: &[],
        error_range: None,
        ipv6: true,
        test_entry: "2.0.0.127",
        test_entry_v6: Some("::ffff:7f00:2"),
        dqs: None,
        delist: "http://www.usenix.org.uk/content/rblremove",
        removal: "open the removal page from the listed address itself (e.g. curl from the \
                  mail server): removal is immediate",
        public_resolvers: true,
        access: "query through your own resolver",
        default: false,
    },
    Blocklist {
        id: "spamhaus-dbl",
        name: "Spamhaus DBL",
        zone: "dbl.spamhaus.org",
        operator: "spamhaus.org",
        target: Target::Domain,
        codes: Codes::Exact(&[
            Code {
                code: ip(127, 0, 1, 2),
                meaning: "low-reputation domain (spam)",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 1, 4),
                meaning: "phishing domain",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 1, 5),
                meaning: "malware domain",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 1, 6),
                meaning: "botnet command-and-control domain",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 1, 102),
                meaning: "abused legitimate domain (spam)",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 1, 103),
                meaning: "abused legitimate domain used as a redirector",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 1, 104),
                meaning: "abused legitimate domain used for phishing",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 1, 105),
                meaning: "abused legitimate domain serving malware",
                weight: Weight::Abuse,
            },
            Code {
                code: ip(127, 0, 1, 106),
                meaning: "abused legitimate domain hosting botnet command and control",
                weight: Weight::Abuse,
            },
        ]),
        errors: &[DBL_ERRORS, SPAMHAUS_ERRORS],
        error_range: Some([127, 255, 255]),
        ipv6: false,
        test_entry: "dbltest.com",
        test_entry_v6: None,
        dqs: Some("dbl"),
        delist: "https://check.spamhaus.org/",
        removal: "look the domain up and follow the removal steps once the abuse is fixed \
                  (for an abused legitimate domain: clean the compromised site or redirector)",
        public_resolvers: false,
        access: SPAMHAUS_ACCESS,
        default: true,
    },
    Blocklist {
        id: "surbl",
        name: "SURBL multi",
        zone: "multi.surbl.org",
        operator: "surbl.org",
        target: Target::Domain,
        codes: Codes::Bitmask(&[
            Bit {
                bit: 8,
                meaning: "PH: phishing",
                weight: Weight::Abuse,
            },
            Bit {
                bit: 16,
                meaning: "MW: malware",
                weight: Weight::Abuse,
            },
            Bit {
                bit: 64,
                meaning: "ABUSE: spam and other abuse",
                weight: Weight::Abuse,
            },
            Bit {
                bit: 128,
                meaning: "CR: cracked (compromised) site",
                weight: Weight::Abuse,
            },
        ]),
        errors: &[&[ErrorCode {
            code: ip(127, 0, 0, 1),
            meaning: REFUSED_127_0_0_1,
        }]],
        error_range: None,
        ipv6: false,
        test_entry: "test.surbl.org",
        test_entry_v6: None,
        dqs: None,
        delist: "https://www.surbl.org/surbl-analysis",
        removal: "look the domain up and request removal once the abuse is fixed",
        public_resolvers: false,
        access: "SURBL blocks public resolvers and heavy users: query through your own \
                 recursive resolver",
        default: true,
    },
    Blocklist {
        id: "uribl",
        name: "URIBL multi",
        zone: "multi.uribl.com",
        operator: "uribl.com",
        target: Target::Domain,
        codes: Codes::Bitmask(&[
            Bit {
                bit: 2,
                meaning: "black: spam domain",
                weight: Weight::Abuse,
            },
            Bit {
                bit: 4,
                meaning: "grey: bulk-mail domain (may be legitimate)",
                weight: Weight::Reputation,
            },
            Bit {
                bit: 8,
                meaning: "red: young or privacy-protected domain seen in mail flow",
                weight: Weight::Reputation,
            },
        ]),
        errors: &[&[ErrorCode {
            code: ip(127, 0, 0, 1),
            meaning: "URIBL refused the query: public resolvers exceed its free-use limit \
                      (127.0.0.1)",
        }]],
        error_range: None,
        ipv6: false,
        test_entry: "test.uribl.com",
        test_entry_v6: None,
        dqs: None,
        delist: "https://admin.uribl.com/",
        removal: "log in (free account) and file a delisting request",
        public_resolvers: false,
        access: "URIBL refuses public resolvers and heavy users: query through your own \
                 recursive resolver",
        default: false,
    },
];

/// A list by id.
pub fn by_id(id: &str) -> Option<&'static Blocklist> {
    LISTS.iter().find(|l| l.id.eq_ignore_ascii_case(id.trim()))
}

/// True when a DNS list under `zone` answers errors with 127.x codes that
/// software must not read as "listed" (Spamhaus, URIBL, SURBL). The
/// Postfix rule `postfix.dnsbl_codes` asks this of every list it sees.
pub fn has_error_codes(zone: &str) -> bool {
    let z = zone.trim().trim_end_matches('.').to_ascii_lowercase();
    let under = |op: &str| z == op || z.ends_with(&format!(".{op}"));
    LISTS
        .iter()
        .filter(|l| !l.errors.is_empty() || l.error_range.is_some())
        .any(|l| under(l.operator) || (l.dqs.is_some() && under(DQS_OPERATOR)))
}

/// One return code as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub code: Ipv4Addr,
    /// What the code means (several for a bitmask).
    pub meanings: Vec<&'static str>,
    /// `None`: the code is not documented for this list.
    pub weight: Option<Weight>,
}

/// What one answer of a list says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// NXDOMAIN, or no A record.
    NotListed,
    Listed(Vec<Hit>),
    /// The list answered an error code (or an answer no list gives):
    /// nothing is known about the name.
    Refused(String),
    /// No usable answer (transport error, SERVFAIL, REFUSED…).
    Failed(String),
}

impl Blocklist {
    /// Every documented error answer.
    pub fn error_codes(&self) -> impl Iterator<Item = &'static ErrorCode> {
        self.errors.iter().flat_map(|g| g.iter())
    }

    /// Why `code` is an error answer, if it is.
    fn error(&self, code: Ipv4Addr) -> Option<String> {
        if let Some(e) = self.error_codes().find(|e| e.code == code) {
            return Some(e.meaning.to_string());
        }
        let [a, b, c, _] = code.octets();
        if self.error_range == Some([a, b, c]) {
            return Some(format!(
                "{code} is in {}'s error range {a}.{b}.{c}.0/24 (an undocumented error)",
                self.name
            ));
        }
        if a != 127 {
            return Some(format!(
                "{code} is outside 127.0.0.0/8, where DNS lists answer (RFC 5782): the \
                 resolver or network rewrote the answer (NXDOMAIN redirection?)"
            ));
        }
        None
    }

    fn decode(&self, code: Ipv4Addr) -> Hit {
        match &self.codes {
            Codes::Exact(codes) => match codes.iter().find(|c| c.code == code) {
                Some(c) => Hit {
                    code,
                    meanings: vec![c.meaning],
                    weight: Some(c.weight),
                },
                None => undocumented(code),
            },
            // Bitmask answers are 127.0.0.x; anything else in 127/8 (such
            // as an error code from some other list) sets no bit.
            Codes::Bitmask(_) if code.octets()[..3] != [127, 0, 0] => undocumented(code),
            Codes::Bitmask(bits) => {
                let last = code.octets()[3];
                let set: Vec<&Bit> = bits.iter().filter(|b| last & b.bit != 0).collect();
                match set.iter().map(|b| b.weight).max() {
                    Some(weight) => Hit {
                        code,
                        meanings: set.iter().map(|b| b.meaning).collect(),
                        weight: Some(weight),
                    },
                    None => undocumented(code),
                }
            }
        }
    }

    /// Reads one answer of this list.
    pub fn read(&self, answer: &Result<DnsAnswer, DnsError>) -> Verdict {
        let a = match answer {
            Err(e) => return Verdict::Failed(e.to_string()),
            Ok(a) if !a.is_definite() => {
                return Verdict::Failed(format!("the resolver answered {}", a.rcode_text()))
            }
            Ok(a) => a,
        };
        let mut codes: Vec<Ipv4Addr> = a
            .of_type()
            .filter_map(|d| match d {
                RrData::A(ip) => Some(*ip),
                _ => None,
            })
            .collect();
        codes.sort();
        codes.dedup();
        if codes.is_empty() {
            return Verdict::NotListed;
        }
        let errors: Vec<String> = codes.iter().filter_map(|c| self.error(*c)).collect();
        if !errors.is_empty() {
            return Verdict::Refused(errors.join("; "));
        }
        Verdict::Listed(codes.into_iter().map(|c| self.decode(c)).collect())
    }

    /// The entry RFC 5782 §5 says a list must never list: 127.0.0.1 for IP
    /// lists, `invalid` for domain lists. Asked only to confirm a listing.
    pub fn never_listed_entry(&self) -> &'static str {
        match self.target {
            Target::Ip => "1.0.0.127",
            Target::Domain => "invalid",
        }
    }

    /// Why the answer for the never-listed entry voids this list's
    /// listings: it is listed, so the list (or the resolver) answers
    /// "listed" for everything. Any other answer voids nothing.
    pub fn lists_everything(&self, answer: &Result<DnsAnswer, DnsError>) -> Option<String> {
        match self.read(answer) {
            Verdict::Listed(hits) => Some(format!(
                "it lists {}, which no list may list (RFC 5782 §5), so it answers \"listed\" \
                 for everything (a closed list, or a resolver that invents answers): {}",
                self.never_listed_entry(),
                codes_text(&hits)
            )),
            _ => None,
        }
    }

    /// Why the answer for the test entry shows the list cannot be trusted
    /// through this resolver; `None` when the test entry is listed.
    pub fn canary_failure(&self, answer: &Result<DnsAnswer, DnsError>) -> Option<String> {
        match self.read(answer) {
            Verdict::Listed(hits) if hits.iter().any(|h| h.weight.is_some()) => None,
            Verdict::Listed(hits) => Some(format!(
                "its test entry {} answered only undocumented codes ({})",
                self.test_entry,
                codes_text(&hits)
            )),
            Verdict::NotListed => Some(format!(
                "its test entry {} is not listed, so the resolver does not reach the list (the \
                 resolver or the list drops such queries)",
                self.test_entry
            )),
            Verdict::Refused(why) => Some(why),
            Verdict::Failed(why) => Some(format!("its test entry could not be asked: {why}")),
        }
    }
}

fn undocumented(code: Ipv4Addr) -> Hit {
    Hit {
        code,
        meanings: vec!["a return code this list does not document"],
        weight: None,
    }
}

/// "127.0.0.2, 127.0.0.4".
pub fn codes_text(hits: &[Hit]) -> String {
    hits.iter()
        .map(|h| h.code.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
