//! Untrusted DKIM input never panics: mutation fuzzing (deterministic
//! seeds) of key records — their tag lists, their base64 and the DER inside
//! it — served over the scripted network, and of pasted configurations.

use base64::Engine;
use futures::executor::block_on;
use mailaudit_core::dns::dkim::{self, PublicKey, Selectors};
use mailaudit_core::dns::Resolver;
use mailaudit_core::testing::ScriptedNet;
use mailaudit_core::Status;

mod common;
use common::Rng;

const RSA1024: &str = include_str!("data/dkim/rsa1024.spki.b64");
const RSA2048_PKCS1: &str = include_str!("data/dkim/rsa2048.pkcs1.b64");
const ED_RAW: &str = include_str!("data/dkim/ed25519.raw.b64");
const ED_SPKI: &str = include_str!("data/dkim/ed25519.spki.b64");

const ALPHABET: &[u8] = b"v=DKIM1;kpthns:rsaed25519y*email \t\r\nABCxyz+/=0";

fn mutate(rng: &mut Rng, b: &mut Vec<u8>, alphabet: &[u8]) {
    for _ in 0..=rng.below(4) {
        match rng.below(4) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b.remove(i);
            }
            1 => {
                let i = rng.below(b.len() + 1);
                b.insert(i, alphabet[rng.below(alphabet.len())]);
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
}

/// A key whose DER is mutated, so the ASN.1 decoders see broken input.
fn broken_key(rng: &mut Rng, b64: &str) -> String {
    let std = base64::engine::general_purpose::STANDARD;
    let mut der = std.decode(b64).expect("test key");
    mutate(
        rng,
        &mut der,
        &[0x00, 0x02, 0x03, 0x30, 0x80, 0x81, 0x82, 0xff],
    );
    std.encode(der)
}

#[test]
fn mutated_key_records_never_panic() {
    let mut rng = Rng(0xd1c1_5eed);
    let keys = [RSA1024, RSA2048_PKCS1, ED_RAW, ED_SPKI];
    let mut parsed_rsa = 0;
    for round in 0..400 {
        let key = keys[round % keys.len()];
        let p = if round % 3 == 0 {
            broken_key(&mut rng, key)
        } else {
            key.to_string()
        };
        // Mostly the key's own type; sometimes the wrong one.
        let rsa = key == RSA1024 || key == RSA2048_PKCS1;
        let k = if rsa != (round % 7 == 0) {
            "rsa"
        } else {
            "ed25519"
        };
        let mut rec = format!("v=DKIM1; k={k}; t=y:s; h=sha256; p={p}").into_bytes();
        // Rounds: broken DER, mutated text, or intact (only split below).
        if round % 3 == 1 {
            mutate(&mut rng, &mut rec, ALPHABET);
        }
        let text = String::from_utf8_lossy(&rec).into_owned();
        let parsed = dkim::parse_key_record(&text);
        if round % 3 == 2 && round % 7 != 0 && key != ED_SPKI {
            assert!(parsed.is_ok(), "{text}: {parsed:?}");
        }
        if let Ok(r) = parsed {
            if let PublicKey::Rsa { bits, .. } = r.key {
                assert!(bits > 0, "{text}");
                parsed_rsa += 1;
            }
            let _ = r.without_testing_flag();
        }
        let _ = dkim::record::looks_like_key_record(&text);
        // Served raw over DNS, split at random, judged end to end.
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut rest = &rec[..];
        while !rest.is_empty() {
            let (a, b) = rest.split_at(rest.len().min(1 + rng.below(255)));
            parts.push(a);
            rest = b;
        }
        let net = ScriptedNet::new().txt_strings("mail._domainkey.example.org", &parts);
        let resolver = Resolver::new(&net, "https://doh.test/dns-query");
        let plan = Selectors::explicit(&["mail".into()], &[]);
        let l = block_on(dkim::lookup(&resolver, "example.org", &plan));
        let fs = dkim::judge("example.org", &l);
        assert_eq!(fs.len(), 4);
        // Whatever the text, the lookups worked: nothing is unknown.
        assert!(fs.iter().all(|f| f.status != Status::Unknown), "{text}");
    }
    assert!(
        parsed_rsa > 20,
        "the fuzzer reached only {parsed_rsa} valid RSA keys"
    );
}

#[test]
fn random_configs_never_panic() {
    let mut rng = Rng(0xc0ff_ee11);
    let seeds = [
        "Selector mail\nKeyTable refile:/etc/kt\n",
        "a._domainkey.example.com example.com:a:/k\n",
        "selector = \"x\";\ndkim_selector = <; a ; b\n",
        "dkim_key('example.com', 'amv', '/p');\nDKIM-Signature: v=1; s=q;\n\tb=x\n",
        "Authentication-Results: x; dkim=pass header.s=hs",
    ];
    for round in 0..500 {
        let mut b = seeds[round % seeds.len()].as_bytes().to_vec();
        mutate(&mut rng, &mut b, b"selector=:;'\"\n\t #$%<(),._domainkey");
        let text = String::from_utf8_lossy(&b);
        for s in dkim::selectors_from_config(&text) {
            assert_eq!(dkim::normalize_selector(&s).as_deref(), Ok(s.as_str()));
        }
        let _ = dkim::normalize_selector(&text);
    }
}
