use super::*;
use crate::dns::mx;
use crate::net::NetError;
use crate::testing::ScriptedNet;
use futures::executor::block_on;
use hickory_proto::op::ResponseCode;
use std::net::Ipv4Addr;

const DOH: &str = "https://doh.test/dns-query";

/// The default lists' test entries, answering as the real lists do.
fn canaries() -> ScriptedNet {
    ScriptedNet::new()
        .a("2.0.0.127.zen.spamhaus.org", "127.0.0.2")
        .a("2.0.0.127.zen.spamhaus.org", "127.0.0.4")
        .a("2.0.0.127.zen.spamhaus.org", "127.0.0.10")
        .a("2.0.0.127.b.barracudacentral.org", "127.0.0.2")
        .a("2.0.0.127.bl.spamcop.net", "127.0.0.2")
        .a("2.0.0.127.bl.mailspike.net", "127.0.0.2")
        .a("2.0.0.127.psbl.surriel.com", "127.0.0.2")
        .a("dbltest.com.dbl.spamhaus.org", "127.0.1.2")
        .a("test.surbl.org.multi.surbl.org", "127.0.0.254")
}

/// example.org with one MX host at 198.51.100.25.
fn one_mx(net: ScriptedNet) -> ScriptedNet {
    net.mx("example.org", 10, "mail.example.org")
        .a("mail.example.org", "198.51.100.25")
}

fn run_with(net: &ScriptedNet, opts: &BlocklistOptions) -> (BlocklistLookup, Vec<Finding>) {
    let r = Resolver::new(net, DOH);
    let m = block_on(mx::lookup(&r, "example.org"));
    let l = block_on(lookup(&r, "example.org", &m, opts));
    let f = judge("example.org", &l);
    (l, f)
}

fn run(net: &ScriptedNet) -> Vec<Finding> {
    run_with(net, &BlocklistOptions::default()).1
}

fn get<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
    f.iter().find(|f| f.id == id).expect(id)
}

fn text(f: &Finding) -> String {
    format!("{} {:?} {}", f.detail, f.evidence, f.remediation)
}

#[test]
fn reversed_names() {
    assert_eq!(
        reverse_ip("198.51.100.25".parse().unwrap()),
        "25.100.51.198"
    );
    assert_eq!(
        reverse_ip("2001:db8::1".parse().unwrap()),
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
    );
    // RFC 5782 IPv6 test entry ::FFFF:7F00:2.
    assert_eq!(
        reverse_ip("::ffff:7f00:2".parse().unwrap()),
        "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
    );
}

#[test]
fn zones_with_dqs_key_and_test_suffix() {
    let zen = lists::by_id("spamhaus-zen").unwrap();
    let dbl = lists::by_id("spamhaus-dbl").unwrap();
    let spamcop = lists::by_id("spamcop").unwrap();
    let key = "abcdefghijklmnopqrstuvwxyz";
    let opts = BlocklistOptions {
        dqs_key: Some(key.to_uppercase()),
        ..Default::default()
    };
    assert_eq!(
        zone_for(zen, &opts).unwrap(),
        format!("{key}.zen.dq.spamhaus.net")
    );
    assert_eq!(
        zone_for(dbl, &opts).unwrap(),
        format!("{key}.dbl.dq.spamhaus.net")
    );
    assert_eq!(zone_for(spamcop, &opts).unwrap(), "bl.spamcop.net");
    let test = BlocklistOptions {
        zone_suffix: Some("BL.test.".into()),
        ..Default::default()
    };
    assert_eq!(zone_for(zen, &test).unwrap(), "zen.spamhaus.org.bl.test");
    for bad in [
        "short",
        "has.dot.in.it.abcdefghij",
        "abcdefghijklmnopqrstuvwxy!",
    ] {
        let opts = BlocklistOptions {
            dqs_key: Some(bad.into()),
            ..Default::default()
        };
        assert!(zone_for(zen, &opts).is_err(), "{bad}");
        assert!(
            zone_for(spamcop, &opts).is_ok(),
            "a key only concerns Spamhaus"
        );
    }
}

#[test]
fn clean_server_passes_with_the_documented_query_count() {
    let net = one_mx(canaries());
    let (l, f) = run_with(&net, &BlocklistOptions::default());
    for id in ["blocklist.ip", "blocklist.domain", "blocklist.inconclusive"] {
        assert_eq!(
            get(&f, id).status,
            Status::Pass,
            "{id}: {}",
            get(&f, id).detail
        );
    }
    // 7 canaries + 2 domain lists + 5 IP lists x 1 address.
    assert_eq!(l.queries, 14);
    // The MX look-up made 3 (MX, A, AAAA).
    assert_eq!(net.requests(), 3 + 14);
    let asked: Vec<String> = net.asked().into_iter().map(|(n, _)| n).collect();
    for name in [
        "25.100.51.198.zen.spamhaus.org",
        "25.100.51.198.psbl.surriel.com",
        "example.org.dbl.spamhaus.org",
        "example.org.multi.surbl.org",
        "2.0.0.127.bl.spamcop.net",
    ] {
        assert!(
            asked.iter().any(|a| a == name),
            "{name} not asked: {asked:?}"
        );
    }
    assert!(get(&f, "blocklist.ip").detail.contains("Spamhaus ZEN"));
}

#[test]
fn abuse_listing_fails_with_meaning_and_delisting_link() {
    let net = one_mx(canaries()).a("25.100.51.198.zen.spamhaus.org", "127.0.0.4");
    let f = run(&net);
    let ip = get(&f, "blocklist.ip");
    assert_eq!(ip.status, Status::Fail);
    assert_eq!(ip.severity, Severity::High);
    assert!(ip.detail.contains("XBL"), "{}", ip.detail);
    assert!(ip.detail.contains("MX mail.example.org"), "{}", ip.detail);
    assert!(ip.remediation.contains("https://check.spamhaus.org/"));
    assert_eq!(get(&f, "blocklist.inconclusive").status, Status::Pass);
}

#[test]
fn pbl_is_a_policy_entry_for_an_mx_but_fails_a_sending_ip() {
    let net = one_mx(canaries()).a("25.100.51.198.zen.spamhaus.org", "127.0.0.10");
    let ip = get(&run(&net), "blocklist.ip").clone();
    assert_eq!(ip.status, Status::Warn);
    assert_eq!(ip.severity, Severity::Low);
    assert!(ip.detail.contains("not an abuse listing"), "{}", ip.detail);
    let opts = BlocklistOptions {
        sending_ips: vec!["198.51.100.25".parse().unwrap()],
        ..Default::default()
    };
    let (l, f) = run_with(&net, &opts);
    // One address, both MX and sending: asked once per list.
    assert_eq!(l.addresses.len(), 1);
    let ip = get(&f, "blocklist.ip");
    assert_eq!(ip.status, Status::Fail);
    assert_eq!(ip.severity, Severity::High);
    assert!(
        ip.detail.contains("sending IP; MX mail.example.org"),
        "{}",
        ip.detail
    );
}

/// A resolver that answers every A question with 127.255.255.254 (what
/// Spamhaus gives public resolvers) — for every list, canary or not.
struct RefusedEverywhere;

impl Network for RefusedEverywhere {
    type Conn = crate::testing::ScriptedConn;

    async fn http(
        &self,
        req: crate::net::HttpRequest,
    ) -> Result<crate::net::HttpResponse, NetError> {
        use hickory_proto::op::{Message, MessageType, OpCode};
        use hickory_proto::rr::{rdata::A, RData, Record};
        let q = Message::from_vec(&req.body).map_err(|e| NetError::Other(e.to_string()))?;
        let question = q.queries[0].clone();
        let mut resp = Message::new(0, MessageType::Response, OpCode::Query);
        resp.add_query(question.clone());
        match question.query_type() {
            RecordType::A => {
                resp.add_answer(Record::from_rdata(
                    question.name().clone(),
                    60,
                    RData::A(A(Ipv4Addr::new(127, 255, 255, 254))),
                ));
            }
            RecordType::MX => {
                let mx = hickory_proto::rr::rdata::MX::new(
                    10,
                    hickory_proto::rr::Name::from_utf8("mail.example.org.").unwrap(),
                );
                resp.add_answer(Record::from_rdata(
                    question.name().clone(),
                    60,
                    RData::MX(mx),
                ));
            }
            _ => {}
        }
        Ok(crate::net::HttpResponse {
            status: 200,
            headers: vec![],
            body: resp.to_vec().map_err(|e| NetError::Other(e.to_string()))?,
        })
    }

    async fn tcp_connect(
        &self,
        _: &str,
        _: u16,
        _: u32,
    ) -> Result<crate::testing::ScriptedConn, NetError> {
        Err(NetError::Refused("no TCP here".into()))
    }
}

#[test]
fn a_resolver_answering_127_255_255_254_to_everything_is_inconclusive_never_listed() {
    let net = RefusedEverywhere;
    let r = Resolver::new(&net, DOH);
    // The MX host's "address" is 127.255.255.254 too: it is not public,
    // so it is not looked up; use a sending IP to force IP queries.
    let m = block_on(mx::lookup(&r, "example.org"));
    let opts = BlocklistOptions {
        sending_ips: vec!["198.51.100.25".parse().unwrap()],
        lists: Some(LISTS.iter().map(|l| l.id.to_string()).collect()),
        max_queries: 50,
        ..Default::default()
    };
    let l = block_on(lookup(&r, "example.org", &m, &opts));
    assert!(l.addresses[0].answers.len() >= 5, "{:?}", l.addresses);
    let f = judge("example.org", &l);
    let inc = get(&f, "blocklist.inconclusive");
    assert_eq!(inc.status, Status::Unknown);
    assert_eq!(inc.severity, Severity::Info);
    for list in LISTS {
        assert!(
            inc.detail.contains(list.name),
            "{} missing: {}",
            list.name,
            inc.detail
        );
    }
    assert!(
        inc.detail.contains("public/open resolvers"),
        "{}",
        inc.detail
    );
    assert!(inc.remediation.contains("DQS key"), "{}", inc.remediation);
    for id in ["blocklist.ip", "blocklist.domain"] {
        let g = get(&f, id);
        assert_eq!(g.status, Status::Unknown, "{id}: {}", g.detail);
        assert!(!g.detail.contains("is listed"), "{}", g.detail);
    }
}

#[test]
fn spamhaus_refusing_the_public_resolver_leaves_other_lists_judged() {
    // .rcode() clears the scripted canary records; .a() then replaces them.
    let net = one_mx(canaries())
        .rcode(
            "2.0.0.127.zen.spamhaus.org",
            RecordType::A,
            ResponseCode::NoError,
        )
        .a("2.0.0.127.zen.spamhaus.org", "127.255.255.254")
        .a("25.100.51.198.zen.spamhaus.org", "127.255.255.254")
        .a("dbltest.com.dbl.spamhaus.org", "127.255.255.254")
        .a("example.org.dbl.spamhaus.org", "127.255.255.254");
    let f = run(&net);
    let ip = get(&f, "blocklist.ip");
    assert_eq!(ip.status, Status::Unknown, "{}", ip.detail);
    assert!(
        ip.detail.contains("not listed on Barracuda BRBL"),
        "{}",
        ip.detail
    );
    assert!(
        ip.detail.contains("Could not be checked on Spamhaus ZEN"),
        "{}",
        ip.detail
    );
    // ZEN's NXDOMAIN for the address proves nothing: not shown as evidence.
    let ev = format!("{:?}", ip.evidence);
    assert!(!ev.contains("zen.spamhaus.org"), "{ev}");
    assert!(ev.contains("25.100.51.198.bl.spamcop.net"), "{ev}");
    let inc = get(&f, "blocklist.inconclusive");
    assert_eq!(inc.status, Status::Unknown);
    assert!(inc.detail.contains("Spamhaus ZEN"));
    assert!(inc.detail.contains("127.255.255.254"));
    assert!(!inc.detail.contains("SpamCop"), "{}", inc.detail);
    assert!(inc.remediation.contains("own recursive resolver"));
    assert_eq!(get(&f, "blocklist.domain").status, Status::Unknown);
}

#[test]
fn a_dead_canary_voids_the_lists_answers() {
    // SpamCop's test entry is not listed (resolver drops the zone, or the
    // list is gone and now lists everything): its "listed" answer for the
    // MX is not believed.
    let net = one_mx(canaries())
        .rcode(
            "2.0.0.127.bl.spamcop.net",
            RecordType::A,
            ResponseCode::NXDomain,
        )
        .a("25.100.51.198.bl.spamcop.net", "127.0.0.2");
    let f = run(&net);
    assert_eq!(get(&f, "blocklist.ip").status, Status::Unknown);
    let inc = get(&f, "blocklist.inconclusive");
    assert!(inc.detail.contains("SpamCop"), "{}", inc.detail);
    assert!(
        inc.detail.contains("test entry 2.0.0.127 is not listed"),
        "{}",
        inc.detail
    );
}

#[test]
fn a_list_that_lists_everything_is_not_believed() {
    let listed_everywhere = |net: ScriptedNet| {
        net.a("25.100.51.198.bl.spamcop.net", "127.0.0.2")
            .a("example.org.multi.surbl.org", "127.0.0.64")
    };
    // Confirmed: 127.0.0.1 and "invalid" are not listed.
    let net = listed_everywhere(one_mx(canaries()));
    let (l, f) = run_with(&net, &BlocklistOptions::default());
    assert_eq!(l.queries, 14 + 2, "one confirmation per listing list");
    let asked: Vec<String> = net.asked().into_iter().map(|(n, _)| n).collect();
    assert!(asked.contains(&"1.0.0.127.bl.spamcop.net".to_string()));
    assert!(asked.contains(&"invalid.multi.surbl.org".to_string()));
    assert_eq!(get(&f, "blocklist.ip").status, Status::Fail);
    assert_eq!(get(&f, "blocklist.domain").status, Status::Fail);

    // They are listed too: both lists answer "listed" for everything.
    let net = listed_everywhere(one_mx(canaries()))
        .a("1.0.0.127.bl.spamcop.net", "127.0.0.2")
        .a("invalid.multi.surbl.org", "127.0.0.64");
    let f = run(&net);
    assert_eq!(get(&f, "blocklist.ip").status, Status::Unknown);
    assert_eq!(get(&f, "blocklist.domain").status, Status::Unknown);
    let inc = get(&f, "blocklist.inconclusive");
    assert!(inc.detail.contains("SpamCop"), "{}", inc.detail);
    assert!(inc.detail.contains("it lists 1.0.0.127"), "{}", inc.detail);
    assert!(inc.detail.contains("it lists invalid"), "{}", inc.detail);

    // A confirmation that times out voids nothing.
    let net = listed_everywhere(one_mx(canaries())).error(
        "1.0.0.127.bl.spamcop.net",
        RecordType::A,
        NetError::Timeout(5000),
    );
    assert_eq!(get(&run(&net), "blocklist.ip").status, Status::Fail);
}

#[test]
fn canary_timeout_and_undocumented_canary_are_inconclusive() {
    let net = one_mx(canaries())
        .error(
            "2.0.0.127.psbl.surriel.com",
            RecordType::A,
            NetError::Timeout(5000),
        )
        .rcode(
            "test.surbl.org.multi.surbl.org",
            RecordType::A,
            ResponseCode::NoError,
        )
        .a("test.surbl.org.multi.surbl.org", "127.0.0.1");
    let f = run(&net);
    let inc = get(&f, "blocklist.inconclusive");
    assert!(inc.detail.contains("PSBL"), "{}", inc.detail);
    assert!(inc.detail.contains("timed out"), "{}", inc.detail);
    assert!(inc.detail.contains("SURBL"), "{}", inc.detail);
    assert!(inc.detail.contains("127.0.0.1"), "{}", inc.detail);

    let net = one_mx(canaries())
        .rcode(
            "2.0.0.127.bl.mailspike.net",
            RecordType::A,
            ResponseCode::NoError,
        )
        .a("2.0.0.127.bl.mailspike.net", "127.0.0.99");
    let inc = get(&run(&net), "blocklist.inconclusive").clone();
    assert!(
        inc.detail.contains("undocumented codes (127.0.0.99)"),
        "{}",
        inc.detail
    );
}

#[test]
fn error_codes_and_rewritten_answers_are_never_listings() {
    // The canary works, then the list starts refusing (quota) — and a
    // resolver rewrites NXDOMAIN into an advertising server's address.
    let net = one_mx(canaries())
        .a("25.100.51.198.zen.spamhaus.org", "127.255.255.255")
        .a("25.100.51.198.bl.spamcop.net", "198.51.100.99")
        .a("example.org.dbl.spamhaus.org", "127.0.1.255");
    let f = run(&net);
    let ip = get(&f, "blocklist.ip");
    assert_eq!(ip.status, Status::Unknown, "{}", ip.detail);
    let inc = get(&f, "blocklist.inconclusive");
    assert!(
        inc.detail.contains("excessive number of queries"),
        "{}",
        inc.detail
    );
    assert!(inc.detail.contains("outside 127.0.0.0/8"), "{}", inc.detail);
    assert!(
        inc.detail.contains("IP address, which it does not list"),
        "{}",
        inc.detail
    );
    assert_eq!(get(&f, "blocklist.domain").status, Status::Unknown);
}

#[test]
fn undocumented_and_reputation_codes_warn() {
    let net = one_mx(canaries()).a("25.100.51.198.zen.spamhaus.org", "127.0.0.99");
    let ip = get(&run(&net), "blocklist.ip").clone();
    assert_eq!(ip.status, Status::Warn);
    assert_eq!(ip.severity, Severity::Medium);
    assert!(ip.detail.contains("undocumented"), "{}", ip.detail);

    let net = one_mx(canaries()).a("25.100.51.198.bl.mailspike.net", "127.0.0.13");
    let ip = get(&run(&net), "blocklist.ip").clone();
    assert_eq!(ip.status, Status::Warn, "{}", ip.detail);
    assert!(ip.detail.contains("L2"), "{}", ip.detail);

    // An abuse listing elsewhere outranks both.
    let net = one_mx(canaries())
        .a("25.100.51.198.bl.mailspike.net", "127.0.0.13")
        .a("25.100.51.198.psbl.surriel.com", "127.0.0.2");
    let ip = get(&run(&net), "blocklist.ip").clone();
    assert_eq!(ip.status, Status::Fail);
    assert!(ip.remediation.contains("https://psbl.org/remove"));
    assert!(ip.remediation.contains("https://mailspike.org/"));
}

#[test]
fn ipv6_addresses_are_asked_only_where_lists_have_ipv6() {
    let v6 = "2001:db8::25";
    let nibbles = reverse_ip(v6.parse().unwrap());
    let net = canaries()
        .mx("example.org", 10, "mail.example.org")
        .aaaa("mail.example.org", v6)
        .a(&format!("{nibbles}.zen.spamhaus.org"), "127.0.0.3");
    let (l, f) = run_with(&net, &BlocklistOptions::default());
    // 7 canaries + 2 domain queries + ZEN only, + ZEN's confirmation.
    assert_eq!(l.queries, 11);
    assert_eq!(l.addresses[0].not_checked.len(), 4);
    let ip = get(&f, "blocklist.ip");
    assert_eq!(ip.status, Status::Fail);
    assert!(ip.detail.contains("CSS"), "{}", ip.detail);
    assert!(
        text(ip).contains("not checked: the list has no IPv6 data"),
        "{}",
        text(ip)
    );
}

#[test]
fn internal_addresses_are_never_looked_up() {
    // 127.0.0.2 is every list's test entry: looking it up would "list" the MX.
    let net = canaries()
        .mx("example.org", 10, "mail.example.org")
        .a("mail.example.org", "127.0.0.2")
        .a("mail.example.org", "10.1.2.3")
        .aaaa("mail.example.org", "fd00::25")
        .aaaa("mail.example.org", "::ffff:192.168.1.1");
    let (l, f) = run_with(&net, &BlocklistOptions::default());
    assert!(l.addresses.is_empty());
    assert_eq!(l.left_out.len(), 4);
    assert_eq!(l.queries, 9);
    let ip = get(&f, "blocklist.ip");
    assert_eq!(ip.status, Status::Info, "{}", ip.detail);
    assert!(text(ip).contains("private or internal"), "{}", text(ip));
}

#[test]
fn the_dqs_key_is_used_but_never_shown() {
    let key = "k0d2e4f6g8h0j2k4m6n8p0q2r4";
    let zen = format!("{key}.zen.dq.spamhaus.net");
    let dbl = format!("{key}.dbl.dq.spamhaus.net");
    let net = canaries()
        .mx("example.org", 10, "mail.example.org")
        .a("mail.example.org", "198.51.100.25")
        .a(&format!("2.0.0.127.{zen}"), "127.0.0.2")
        .a(&format!("dbltest.com.{dbl}"), "127.0.1.2")
        .a(&format!("25.100.51.198.{zen}"), "127.0.0.2")
        .a(&format!("example.org.{dbl}"), "127.0.1.4");
    let opts = BlocklistOptions {
        dqs_key: Some(key.into()),
        ..Default::default()
    };
    let (l, f) = run_with(&net, &opts);
    let asked: Vec<String> = net.asked().into_iter().map(|(n, _)| n).collect();
    assert!(asked.contains(&format!("25.100.51.198.{zen}")), "{asked:?}");
    assert!(!asked.iter().any(|n| n.ends_with("zen.spamhaus.org")));
    assert_eq!(get(&f, "blocklist.ip").status, Status::Fail);
    assert_eq!(get(&f, "blocklist.domain").status, Status::Fail);
    assert!(get(&f, "blocklist.domain").detail.contains("phishing"));
    let shown = format!("{l:?} {f:?}");
    assert!(!shown.contains(key), "the key leaked: {shown}");
    assert!(shown.contains("<dqs-key>.zen.dq.spamhaus.net"));
}

#[test]
fn an_invalid_dqs_key_makes_spamhaus_inconclusive() {
    let net = one_mx(canaries());
    let opts = BlocklistOptions {
        dqs_key: Some("not a key".into()),
        ..Default::default()
    };
    let (l, f) = run_with(&net, &opts);
    // Spamhaus ZEN and DBL are not asked at all.
    assert_eq!(l.queries, 14 - 4);
    let inc = get(&f, "blocklist.inconclusive");
    assert_eq!(inc.status, Status::Unknown);
    assert!(
        inc.detail.contains("DQS key given is not valid"),
        "{}",
        inc.detail
    );
    assert!(!text(inc).contains("not a key"));
    // SURBL answered "not listed", DBL was never asked: not a pass.
    let dom = get(&f, "blocklist.domain");
    assert_eq!(dom.status, Status::Unknown, "{}", dom.detail);
    assert!(dom.detail.contains("Spamhaus DBL"), "{}", dom.detail);
    assert_eq!(get(&f, "blocklist.ip").status, Status::Unknown);
}

#[test]
fn domain_lists_read_their_codes_and_bitmasks() {
    let all_domain = BlocklistOptions {
        lists: Some(vec!["spamhaus-dbl".into(), "SURBL".into(), "uribl".into()]),
        ..Default::default()
    };
    let base = || one_mx(canaries()).a("test.uribl.com.multi.uribl.com", "127.0.0.14");
    let (l, f) = run_with(&base(), &all_domain);
    assert_eq!(l.queries, 6, "3 canaries + 3 domain queries, no IP list");
    assert_eq!(get(&f, "blocklist.domain").status, Status::Pass);
    assert_eq!(get(&f, "blocklist.ip").status, Status::Info);

    let net = base().a("example.org.multi.surbl.org", "127.0.0.80");
    let dom = get(&run_with(&net, &all_domain).1, "blocklist.domain").clone();
    assert_eq!(dom.status, Status::Fail);
    assert!(dom.detail.contains("MW: malware + ABUSE"), "{}", dom.detail);

    let net = base().a("example.org.multi.uribl.com", "127.0.0.4");
    let dom = get(&run_with(&net, &all_domain).1, "blocklist.domain").clone();
    assert_eq!(dom.status, Status::Warn, "{}", dom.detail);
    assert!(dom.detail.contains("grey"), "{}", dom.detail);

    // URIBL refusing the resolver: 127.0.0.1 is not "listed".
    let net = one_mx(canaries())
        .a("test.uribl.com.multi.uribl.com", "127.0.0.1")
        .a("example.org.multi.uribl.com", "127.0.0.1");
    let f = run_with(&net, &all_domain).1;
    assert_eq!(get(&f, "blocklist.domain").status, Status::Unknown);
    assert!(get(&f, "blocklist.inconclusive").detail.contains("URIBL"));
}

#[test]
fn addresses_beyond_the_budget_are_named_not_checked() {
    let mut net = canaries().mx("example.org", 10, "mail.example.org");
    for i in 1..=6 {
        net = net.a("mail.example.org", &format!("198.51.100.{i}"));
    }
    let (l, f) = run_with(&net, &BlocklistOptions::default());
    // 9 + 5 per address, at most 20: two addresses.
    assert_eq!(l.addresses.len(), 2);
    assert_eq!(l.queries, 19);
    assert!(l.queries <= BlocklistOptions::default().max_queries);
    assert_eq!(l.left_out.len(), 4);
    let ip = get(&f, "blocklist.ip");
    assert_eq!(ip.status, Status::Pass);
    assert!(ip.detail.contains("query budget"), "{}", ip.detail);

    let opts = BlocklistOptions {
        max_addresses: 1,
        max_queries: 100,
        ..Default::default()
    };
    let (l, _) = run_with(&net, &opts);
    assert_eq!((l.addresses.len(), l.queries), (1, 14));
}

#[test]
fn unknown_mx_addresses_keep_the_ip_check_from_passing() {
    let net = canaries().error("example.org", RecordType::MX, NetError::Timeout(5000));
    let f = run(&net);
    assert_eq!(get(&f, "blocklist.ip").status, Status::Unknown);
    assert_eq!(get(&f, "blocklist.domain").status, Status::Pass);

    // One MX host resolves, the other times out.
    let net = canaries()
        .mx("example.org", 10, "mail.example.org")
        .mx("example.org", 20, "backup.example.org")
        .a("mail.example.org", "198.51.100.25")
        .error("backup.example.org", RecordType::A, NetError::Timeout(5000));
    let ip = get(&run(&net), "blocklist.ip").clone();
    assert_eq!(ip.status, Status::Unknown, "{}", ip.detail);
    assert!(
        ip.detail.contains("backup.example.org A: "),
        "{}",
        ip.detail
    );
    assert!(ip.detail.contains("timed out"), "{}", ip.detail);

    // No MX at all: nothing to check, said as info.
    let net = canaries().txt("example.org", "v=spf1 -all");
    assert_eq!(get(&run(&net), "blocklist.ip").status, Status::Info);
}

#[test]
fn the_test_suffix_moves_every_zone() {
    let net = ScriptedNet::new()
        .mx("example.org", 10, "mail.example.org")
        .a("mail.example.org", "198.18.25.26")
        .a("2.0.0.127.zen.spamhaus.org.bl.test", "127.0.0.2")
        .a("26.25.18.198.zen.spamhaus.org.bl.test", "127.0.0.2");
    let opts = BlocklistOptions {
        zone_suffix: Some("bl.test".into()),
        lists: Some(vec!["spamhaus-zen".into()]),
        ..Default::default()
    };
    let (_, f) = run_with(&net, &opts);
    let asked = net.asked();
    let list_queries: Vec<&String> = asked
        .iter()
        .filter(|(n, t)| *t == RecordType::A && n != "mail.example.org")
        .map(|(n, _)| n)
        .collect();
    // Canary, the MX address, then the never-listed entry confirming it.
    assert_eq!(list_queries.len(), 3, "{asked:?}");
    assert!(list_queries.iter().all(|n| n.ends_with(".bl.test")));
    assert_eq!(get(&f, "blocklist.ip").status, Status::Fail);
    assert_eq!(get(&f, "blocklist.domain").status, Status::Info);
}

#[test]
fn unknown_list_ids_are_reported_and_ignored() {
    let opts = BlocklistOptions {
        lists: Some(vec!["spamcop".into(), "sorbs".into(), "spamcop".into()]),
        ..Default::default()
    };
    let (l, f) = run_with(&one_mx(canaries()), &opts);
    assert_eq!(l.lists.len(), 1);
    assert_eq!(l.unknown_lists, vec!["sorbs".to_string()]);
    assert!(text(get(&f, "blocklist.inconclusive")).contains("sorbs"));
}

#[test]
fn the_table_is_consistent() {
    let mut ids = std::collections::HashSet::new();
    for l in LISTS {
        assert!(ids.insert(l.id), "duplicate {}", l.id);
        assert_eq!(normalize_name(l.zone).unwrap(), l.zone);
        assert!(l.delist.starts_with("http"), "{}", l.id);
        assert_eq!(l.test_entry_v6.is_some(), l.ipv6, "{}", l.id);
        // No code is both a listing and an error.
        if let lists::Codes::Exact(codes) = &l.codes {
            for c in *codes {
                assert!(
                    l.error_codes().all(|e| e.code != c.code),
                    "{} {}",
                    l.id,
                    c.code
                );
                assert_eq!(c.code.octets()[0], 127);
            }
        }
        assert_eq!(l.dqs.is_some(), l.operator == "spamhaus.org", "{}", l.id);
    }
    let defaults = |t| LISTS.iter().filter(|l| l.default && l.target == t).count();
    assert_eq!(defaults(Target::Ip), 5);
    assert_eq!(defaults(Target::Domain), 2);
}

#[test]
fn error_code_lists_for_the_postfix_rule() {
    for zone in [
        "zen.spamhaus.org",
        "sbl.spamhaus.org.",
        "KEY.zen.dq.spamhaus.net",
        "multi.uribl.com",
        "black.uribl.com",
        "multi.surbl.org",
    ] {
        assert!(has_error_codes(zone), "{zone}");
    }
    for zone in [
        "bl.spamcop.net",
        "b.barracudacentral.org",
        "notspamhaus.org",
        "spamhaus.org.evil.example",
    ] {
        assert!(!has_error_codes(zone), "{zone}");
    }
}

#[test]
fn garbage_answers_do_not_panic() {
    let zen = lists::by_id("spamhaus-zen").unwrap();
    let net = ScriptedNet::new()
        .txt("x.zen.spamhaus.org", "not an address")
        .cname("y.zen.spamhaus.org", "z.example")
        .a("z.example", "127.0.0.2")
        .rcode("w.zen.spamhaus.org", RecordType::A, ResponseCode::ServFail);
    let r = Resolver::new(&net, DOH);
    let read = |n: &str| zen.read(&block_on(r.query(n, RecordType::A)));
    assert_eq!(read("x.zen.spamhaus.org"), Verdict::NotListed);
    assert!(matches!(read("y.zen.spamhaus.org"), Verdict::Listed(_)));
    assert!(matches!(read("w.zen.spamhaus.org"), Verdict::Failed(_)));
    let long = format!("{}.example.org", "a".repeat(63));
    let deep = [long.as_str(); 4].join(".");
    assert!(matches!(read(&deep), Verdict::Failed(_)));
}

/// The CLI runs audits on a multi-threaded runtime: the look-up future
/// must be `Send` when the network's futures are.
#[test]
fn lookup_future_is_send_when_the_network_is() {
    use crate::testing::assert_send;
    let net = RefusedEverywhere;
    let r = Resolver::new(&net, DOH);
    let m = block_on(mx::lookup(&r, "example.org"));
    let opts = BlocklistOptions::default();
    let l = block_on(assert_send(lookup(&r, "example.org", &m, &opts)));
    assert!(l.queries > 0);
}
