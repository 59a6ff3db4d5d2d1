//! IP address blocks, and the guard that keeps a public service from being
//! turned against private networks (SSRF).
//!
//! [`Net`] is the one CIDR type of the crate (Postfix `mynetworks`, the
//! guard's tables). [`AddressPolicy`] decides whether the service may
//! connect to an address: only public unicast addresses, every one of them
//! checked after our own DNS look-up and then used as is (the caller
//! connects to the checked IP, never to a name that could re-resolve).
//!
//! Refused, IPv4: 0.0.0.0/8 ("this network"), 10/8, 100.64/10 (CGNAT),
//! 127/8, 169.254/16 (link-local, cloud metadata), 172.16/12, 192.0.0/24
//! (IETF protocol assignments), 192.0.2/24, 198.51.100/24, 203.0.113/24
//! (documentation), 192.88.99/24 (6to4 relay anycast), 192.168/16,
//! 198.18/15 (benchmarking), 224/4 (multicast), 240/4 (reserved, incl.
//! 255.255.255.255 broadcast).
//! IPv6: everything outside 2000::/3 (global unicast) — so ::, ::1,
//! IPv4-mapped ::ffff:0:0/96 and IPv4-compatible ::/96, 64:ff9b::/96 and
//! 64:ff9b:1::/48 (NAT64), 100::/64 (discard), fc00::/7 (ULA), fe80::/10,
//! fec0::/10, ff00::/8 (multicast) — and, inside 2000::/3, 2001::/23 (IETF
//! protocol assignments, incl. Teredo 2001::/32), 2001:db8::/32 and
//! 3fff::/20 (documentation), 2002::/16 (6to4, which embeds an IPv4
//! address), 5f00::/16 (SRv6 SIDs).
//!
//! Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries
//! (RFC 6890 and updates), RFC 9637.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address block `addr/len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub len: u8,
}

fn mask(ip: IpAddr, len: u8) -> u128 {
    let (bits, width) = match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32u32),
        IpAddr::V6(a) => (u128::from(a), 128u32),
    };
    let len = u32::from(len).min(width);
    if len == 0 {
        0
    } else {
        let keep = u128::MAX << (128 - len);
        (bits << (128 - width)) & keep
    }
}

impl Net {
    pub const fn new(addr: IpAddr, len: u8) -> Net {
        Net { addr, len }
    }

    /// A single address.
    pub fn host(addr: IpAddr) -> Net {
        Net {
            addr,
            len: if addr.is_ipv4() { 32 } else { 128 },
        }
    }

    /// `a.b.c.d/len`, `x::y/len` or a bare address; None if not a block.
    pub fn parse(s: &str) -> Option<Net> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim_matches(['[', ']']).parse().ok()?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(l) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => {
                l.parse::<u8>().ok().filter(|l| *l <= width)?
            }
            Some(_) => return None,
            None => width,
        };
        Some(Net { addr, len })
    }

    /// Whether `self` lies wholly inside `outer`.
    pub fn within(&self, outer: &Net) -> bool {
        self.addr.is_ipv4() == outer.addr.is_ipv4()
            && self.len >= outer.len
            && mask(self.addr, outer.len) == mask(outer.addr, outer.len)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        Net::host(ip).within(self)
    }

    /// Private, loopback, link-local or CGNAT space (an operator's own
    /// networks; IPv4-mapped IPv6 blocks are judged by their IPv4 part).
    pub fn is_private(&self) -> bool {
        const PRIVATE: &[Net] = &[
            v4(10, 0, 0, 0, 8),
            v4(172, 16, 0, 0, 12),
            v4(192, 168, 0, 0, 16),
            v4(127, 0, 0, 0, 8),
            v4(169, 254, 0, 0, 16),
            v4(100, 64, 0, 0, 10),
            v6([0, 0, 0, 0, 0, 0, 0, 1], 128),
            v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
            v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        ];
        let v4 = match self.addr {
            IpAddr::V6(a) => a.to_ipv4_mapped().map(|m| Net {
                addr: IpAddr::V4(m),
                len: self.len.saturating_sub(96),
            }),
            _ => None,
        };
        let me = v4.unwrap_or(*self);
        PRIVATE.iter().any(|p| me.within(p))
    }

    /// Public and larger than /24 (IPv4) or /48 (IPv6).
    pub fn is_broad(&self) -> bool {
        let limit = if self.addr.is_ipv4() { 24 } else { 48 };
        !self.is_private() && self.len < limit
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Net {
    Net::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), len)
}

const fn v6(s: [u16; 8], len: u8) -> Net {
    Net::new(
        IpAddr::V6(Ipv6Addr::new(
            s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
        )),
        len,
    )
}

/// Special-purpose blocks a public service never connects to, with why.
const REFUSED: &[(Net, &str)] = &[
    (v4(0, 0, 0, 0, 8), "\"this network\" (0.0.0.0/8)"),
    (v4(10, 0, 0, 0, 8), "private (RFC 1918)"),
    (v4(100, 64, 0, 0, 10), "carrier-grade NAT (RFC 6598)"),
    (v4(127, 0, 0, 0, 8), "loopback"),
    (
        v4(169, 254, 0, 0, 16),
        "link-local (includes cloud metadata services)",
    ),
    (v4(172, 16, 0, 0, 12), "private (RFC 1918)"),
    (v4(192, 0, 0, 0, 24), "IETF protocol assignments"),
    (v4(192, 0, 2, 0, 24), "documentation (TEST-NET-1)"),
    (v4(192, 88, 99, 0, 24), "6to4 relay anycast"),
    (v4(192, 168, 0, 0, 16), "private (RFC 1918)"),
    (v4(198, 18, 0, 0, 15), "benchmarking (RFC 2544)"),
    (v4(198, 51, 100, 0, 24), "documentation (TEST-NET-2)"),
    (v4(203, 0, 113, 0, 24), "documentation (TEST-NET-3)"),
    (v4(224, 0, 0, 0, 4), "multicast"),
    (v4(240, 0, 0, 0, 4), "reserved or broadcast"),
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), "unspecified (::)"),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), "loopback"),
    (
        v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96),
        "IPv4-mapped IPv6 (refused whatever the IPv4 address)",
    ),
    (
        v6([0, 0, 0, 0, 0, 0, 0, 0], 96),
        "IPv4-compatible IPv6 (deprecated)",
    ),
    (v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96), "NAT64 (RFC 6052)"),
    (v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), "local-use NAT64"),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), "discard-only"),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
        "IETF protocol assignments (incl. Teredo)",
    ),
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), "documentation"),
    (
        v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16),
        "6to4 (embeds an IPv4 address)",
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
        "documentation (RFC 9637)",
    ),
    (v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), "SRv6 SIDs"),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), "unique local (ULA)"),
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), "link-local"),
    (
        v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),
        "site-local (deprecated)",
    ),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), "multicast"),
];

/// Why an address may not be connected to.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    if let Some((_, why)) = REFUSED.iter().find(|(n, _)| n.contains(ip)) {
        return Some(why);
    }
    match ip {
        IpAddr::V6(a) if a.segments()[0] & 0xe000 != 0x2000 => {
            Some("not global unicast IPv6 (outside 2000::/3)")
        }
        _ => None,
    }
}

/// Which addresses a service may connect to. The default allows public
/// unicast addresses only; `allow` adds blocks (the test bed's range, for
/// tests only — hosts take it from an explicit flag, never by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    pub allow: Vec<Net>,
    /// No checks at all: the CLI's own `audit` command, whose user audits
    /// their internal servers on purpose.
    pub unrestricted: bool,
}

impl AddressPolicy {
    /// Public unicast only.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Anything (the CLI auditing its user's own network).
    pub fn unrestricted() -> Self {
        AddressPolicy {
            allow: Vec::new(),
            unrestricted: true,
        }
    }

    /// `Ok` if the address may be used, else the reason shown to users
    /// (`unknown: address not public (…)`).
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        if self.unrestricted || self.allow.iter().any(|n| n.contains(ip)) {
            return Ok(());
        }
        match refusal(ip) {
            Some(why) => Err(format!("address {ip} is not public: {why}")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        let p = AddressPolicy::public_only();
        for bad in [
            "127.0.0.1",
            "10.0.0.1",
            "169.254.169.254",
            "::1",
            "::ffff:10.0.0.1",
            "::ffff:8.8.8.8",
            "0.0.0.0",
            "255.255.255.255",
            "100.64.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "192.0.2.10",
            "198.18.25.25",
            "198.19.0.1",
            "203.0.113.5",
            "224.0.0.1",
            "::",
            "::10.0.0.1",
            "64:ff9b::a00:1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2002:a00:1::1",
            "2001:0:4136:e378::1",
            "3fff::1",
            "4000::1",
        ] {
            assert!(p.check(ip(bad)).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        let p = AddressPolicy::public_only();
        for good in [
            "8.8.8.8",
            "1.1.1.1",
            "193.0.6.139",
            "2a00:1450:4001:80b::200e",
            "2606:4700:4700::1111",
            "172.32.0.1",
            "100.128.0.1",
        ] {
            assert!(p.check(ip(good)).is_ok(), "{good} must pass");
        }
    }

    #[test]
    fn the_test_bed_range_needs_an_explicit_allowance() {
        let bed = ip("198.18.25.25");
        assert!(AddressPolicy::default().check(bed).is_err());
        let p = AddressPolicy {
            allow: vec![Net::parse("198.18.25.0/24").unwrap()],
            unrestricted: false,
        };
        assert!(p.check(bed).is_ok());
        assert!(p.check(ip("198.18.26.1")).is_err());
        assert!(AddressPolicy::unrestricted().check(ip("10.1.1.1")).is_ok());
    }

    #[test]
    fn blocks_parse_and_nest() {
        let n = Net::parse("10.1.0.0/16").unwrap();
        assert!(n.within(&Net::parse("10.0.0.0/8").unwrap()));
        assert!(n.is_private());
        assert!(Net::parse("0.0.0.0/0").unwrap().is_broad());
        assert!(Net::parse("[::ffff:10.0.0.0]/104").unwrap().is_private());
        for bad in ["10.0.0.0/33", "10.0.0.0/", "x/8", "10.0.0.0/-1", "::/129"] {
            assert!(Net::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            Net::parse("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
    }
}
