//! Untrusted input never panics the DNS-core checks: certificates a server
//! sends (DANE matching), TLSA and PTR data from DNS answers, mutated from
//! real seeds with deterministic seeds, so a failure reproduces.

use mailaudit_core::dns::dane::{match_chain, Tlsa};
use mailaudit_core::dns::ptr::{generic_reason, reverse_name};
use mailaudit_core::dns::{decode_answer, encode_query, RecordType};
use std::net::IpAddr;

mod common;
use common::Rng;

const LEAF: &[u8] = include_bytes!("data/dane/leaf.der");
const INTER: &[u8] = include_bytes!("data/dane/inter.der");

#[test]
fn served_certificates_never_panic_dane_matching() {
    let mut rng = Rng(0x5eed_da9e);
    let records: Vec<Tlsa> = (0u8..=3)
        .flat_map(|usage| {
            (0u8..=2).flat_map(move |selector| {
                (0u8..=3).map(move |matching| Tlsa {
                    usage,
                    selector,
                    matching,
                    data: vec![0xab; if matching == 2 { 64 } else { 32 }],
                })
            })
        })
        .collect();
    for i in 0..3_000 {
        let chain = if i % 2 == 0 {
            vec![rng.mutate(LEAF), INTER.to_vec()]
        } else {
            vec![LEAF.to_vec(), rng.mutate(INTER), rng.mutate(INTER)]
        };
        let _ = match_chain(&records, &chain, "mx.example.org");
    }
}

/// A TLSA answer with one record, as a resolver would send it.
fn seed_tlsa_answer() -> Vec<u8> {
    let mut q = encode_query("_25._tcp.mx.example.org", RecordType::TLSA).unwrap();
    q.truncate(q.len() - 11); // drop the OPT record
    q[11] = 0; // ARCOUNT
    q[2] |= 0x80; // QR
    q[7] = 1; // ANCOUNT
    q.extend_from_slice(&[
        0xc0, 0x0c, 0, 52, 0, 1, 0, 0, 1, 44, 0, 7, 3, 1, 1, 1, 2, 3, 4,
    ]);
    q
}

#[test]
fn tlsa_answers_never_panic() {
    let seed = seed_tlsa_answer();
    let ok = decode_answer("_25._tcp.mx.example.org", RecordType::TLSA, &seed).unwrap();
    assert_eq!(ok.of_type().next().unwrap().to_string(), "3 1 1 01020304");
    let mut rng = Rng(52);
    for _ in 0..10_000 {
        let m = rng.mutate(&seed);
        if let Ok(a) = decode_answer("_25._tcp.mx.example.org", RecordType::TLSA, &m) {
            for d in a.of_type() {
                let _ = d.to_string();
                if let Some(t) = Tlsa::from_rdata(d) {
                    let _ = (t.problem(), t.usable());
                    let _ = match_chain(&[t], &[LEAF.to_vec()], "mx.example.org");
                }
            }
        }
    }
}

#[test]
fn ptr_names_never_panic_the_heuristic() {
    let seeds: [&[u8]; 3] = [
        b"ec2-198-51-100-25.compute-1.amazonaws.com",
        b"static.25.100.51.198.clients.your-server.de",
        "2001-db8--25.dyn.example.\u{e9}".as_bytes(),
    ];
    let ips: [IpAddr; 2] = [
        "198.51.100.25".parse().unwrap(),
        "2001:db8::25".parse().unwrap(),
    ];
    let mut rng = Rng(1912);
    for i in 0..10_000 {
        let m = rng.mutate(seeds[i % 3]);
        let name = String::from_utf8_lossy(&m);
        let _ = generic_reason(&name, ips[i % 2]);
        let _ = reverse_name(ips[i % 2]);
    }
}
