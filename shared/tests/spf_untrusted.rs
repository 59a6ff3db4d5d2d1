//! Untrusted SPF text never panics the parser or the evaluator: mutation
//! fuzzing (deterministic seeds) of records served over the scripted
//! network, including macro-strings, CIDR lengths and include chains.

use mailaudit_core::{dns, testing};

use dns::spf::{parse, Evaluator, Identity};
use dns::Resolver;
use futures::executor::block_on;
use testing::ScriptedNet;

mod common;
use common::Rng;

const SEEDS: &[&str] = &[
    "v=spf1 a mx/24//64 ptr:example.org ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all",
    "v=spf1 include:inc.example.org exists:%{ir}.%{l1r+-}._spf.%{d} -all",
    "v=spf1 redirect=inc.example.org exp=exp.%{d2}",
    "v=spf1 a:%{H}.%{p}.%{v}.%{s} mx:%{o} -all foo=%%%_%-",
    "v=spf1 ?all",
];

const ALPHABET: &[u8] = b"v=spf1 :/%{}.-+~?aimxpt0123456789lrdsohcv_,=";

fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut b = s.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(4) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b.remove(i);
            }
            1 => {
                let i = rng.below(b.len() + 1);
                b.insert(i, ALPHABET[rng.below(ALPHABET.len())]);
            }
            2 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = (rng.next() & 0xff) as u8;
            }
            _ => {
                let i = rng.below(b.len() + 1);
                let j = rng.below(b.len() + 1);
                let (lo, hi) = (i.min(j), i.max(j));
                let piece = b[lo..hi].to_vec();
                b.splice(lo..lo, piece);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutated_records_never_panic() {
    let mut rng = Rng(0x5eed_5bf1);
    for round in 0..300 {
        let top = mutate(&mut rng, SEEDS[round % SEEDS.len()]);
        let inc = mutate(&mut rng, SEEDS[(round + 1) % SEEDS.len()]);
        let _ = parse::parse_record(&top);
        let net = ScriptedNet::new()
            .txt("example.org", &top)
            .txt("inc.example.org", &inc)
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "192.0.2.25");
        let resolver = Resolver::new(&net, "https://doh.test/dns-query");
        let ev = Evaluator::new(&resolver);
        for ip in ["192.0.2.25", "2001:db8::1"] {
            let id = Identity {
                ip: ip.parse().unwrap(),
                sender: "user@example.org".into(),
                helo: "mail.example.org".into(),
            };
            let out = block_on(ev.check_host(&id, "example.org"));
            assert!(out.lookups <= 11, "{top}: {}", out.lookups);
        }
        let walk = block_on(ev.walk("example.org", None));
        let _ = walk.tree.lines();
        // Bounded: the cache and the RFC limits keep the queries few.
        assert!(ev.queries_sent() < 80, "{top}: {}", ev.queries_sent());
    }
}
