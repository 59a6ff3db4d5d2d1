//! Certificate analysis and the tls.cert_* rules over fixtures made with
//! openssl (tests/data/tls/gen.sh): a good chain, expired, wrong name,
//! self-signed, RSA 1024, SHA-1 signed, wildcard, CN only, and a chain
//! with its intermediate missing.

use mailaudit_core::tls::cert::{analyze, CertReport, Trust};
use mailaudit_core::tls::ics::expiry_ics;
use mailaudit_core::tls::rules::{
    judge_cert_chain, judge_cert_expiry, judge_cert_key, judge_cert_name, name_matches,
};
use mailaudit_core::{Evidence, Severity, Status};

/// 2026-06-01T00:00:00Z: the fixtures' leaves are valid 2026-01-01 .. 2027-01-01.
const NOW: i64 = 1_780_272_000;
const HOST: &str = "mail.example.org";

fn der(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/data/tls/{name}.der", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// `names` sent by the server, the test root trusted.
fn seen(names: &[&str]) -> CertReport {
    let chain: Vec<Vec<u8>> = names.iter().map(|n| der(n)).collect();
    analyze(&chain, HOST, NOW, &[der("root")])
}

fn notes(f: &mailaudit_core::Finding) -> String {
    f.evidence
        .iter()
        .map(|e| match e {
            Evidence::Note { text } => text.clone(),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn good_chain_passes_everything() {
    let r = seen(&["leaf", "int"]);
    assert_eq!(
        r.trust,
        Trust::Trusted {
            root: "CN=mailaudit Test Root".into()
        }
    );
    let leaf = r.leaf().unwrap();
    assert_eq!(leaf.dns_names, ["mail.example.org"]);
    assert_eq!((leaf.key_type.as_str(), leaf.key_bits), ("EC P-256", 256));
    assert_eq!(leaf.signature_algorithm, "ecdsa-with-SHA256");
    assert_eq!(leaf.not_after, 1_798_761_600);
    assert!(!leaf.self_signed && !leaf.is_ca);
    assert_eq!(leaf.ca_issuers, ["http://ca.example.org/int.der"]);
    assert_eq!(
        leaf.sha256,
        "8dcbe6634d9ad1e2394332c82d4d807175fa9aef1b9f84e59ed1aa8c71272b34"
    );
    for f in [
        judge_cert_expiry(Ok(&r), NOW),
        judge_cert_name(Ok(&r), true),
        judge_cert_chain(Ok(&r)),
        judge_cert_key(Ok(&r)),
    ] {
        assert_eq!(f.status, Status::Pass, "{}: {}", f.id, f.detail);
        let n = notes(&f);
        assert!(n.contains("subject CN=mail.example.org"), "{n}");
        assert!(n.contains("issuer CN=mailaudit Test Intermediate"), "{n}");
        assert!(n.contains("SANs mail.example.org"), "{n}");
        assert!(n.contains("notAfter 2027-01-01T00:00:00Z"), "{n}");
    }
}

#[test]
fn expiry_thresholds() {
    let r = seen(&["leaf", "int"]);
    let at = |t| {
        let f = judge_cert_expiry(Ok(&r), t);
        (f.status, f.severity)
    };
    assert_eq!(at(NOW).0, Status::Pass);
    // 2026-11-15: 47 days left.
    assert_eq!(at(1_794_700_800), (Status::Fail, Severity::Medium));
    // 2026-12-10: 22 days left.
    assert_eq!(at(1_796_860_800), (Status::Fail, Severity::High));
    // Before notBefore.
    assert_eq!(at(1_767_000_000), (Status::Fail, Severity::High));
    let r = seen(&["expired", "int"]);
    let f = judge_cert_expiry(Ok(&r), NOW);
    assert_eq!((f.status, f.severity), (Status::Fail, Severity::Critical));
    assert!(f.detail.contains("expired on 2025-01-01"), "{}", f.detail);
    // Expiry is not the chain's business: the path itself is fine.
    assert!(matches!(r.trust, Trust::Trusted { .. }), "{:?}", r.trust);
}

#[test]
fn wrong_name_fails_higher_under_mta_sts() {
    let r = seen(&["wrongname", "int"]);
    let f = judge_cert_name(Ok(&r), false);
    assert_eq!((f.status, f.severity), (Status::Fail, Severity::Medium));
    assert!(f.detail.contains("other.example.net"), "{}", f.detail);
    assert!(f.remediation.contains("certbot"));
    let f = judge_cert_name(Ok(&r), true);
    assert_eq!((f.status, f.severity), (Status::Fail, Severity::High));
}

#[test]
fn wildcard_covers_one_label() {
    let r = seen(&["wildcard", "int"]);
    assert_eq!(judge_cert_name(Ok(&r), false).status, Status::Pass);
    let other = analyze(&[der("wildcard"), der("int")], "a.b.example.org", NOW, &[]);
    assert_eq!(judge_cert_name(Ok(&other), false).status, Status::Fail);
    let apex = analyze(&[der("wildcard"), der("int")], "example.org", NOW, &[]);
    assert_eq!(judge_cert_name(Ok(&apex), false).status, Status::Fail);
}

#[test]
fn name_matching_per_rfc6125() {
    assert!(name_matches("mail.example.org", "MAIL.Example.org."));
    assert!(name_matches("*.example.org", "mail.example.org"));
    assert!(!name_matches("*.example.org", "example.org"));
    assert!(!name_matches("*.example.org", "a.mail.example.org"));
    assert!(!name_matches("*.org", "example.org"), "wildcard over a TLD");
    assert!(
        !name_matches("m*.example.org", "mail.example.org"),
        "partial label"
    );
    assert!(!name_matches("*mail.example.org", "mail.example.org"));
    assert!(
        !name_matches("mail.*.org", "mail.example.org"),
        "not leftmost"
    );
    assert!(!name_matches("*.*.org", "a.b.org"));
    assert!(!name_matches("", "mail.example.org"));
    assert!(!name_matches("*.example.org", "*.example.org"));
}

#[test]
fn cn_only_is_a_warning() {
    let r = seen(&["cnonly", "int"]);
    assert!(r.leaf().unwrap().dns_names.is_empty());
    let f = judge_cert_name(Ok(&r), false);
    assert_eq!(f.status, Status::Warn, "{}", f.detail);
}

#[test]
fn self_signed() {
    let r = seen(&["selfsigned"]);
    assert_eq!(r.trust, Trust::SelfSigned);
    assert!(r.leaf().unwrap().self_signed);
    let f = judge_cert_chain(Ok(&r));
    assert_eq!((f.status, f.severity), (Status::Fail, Severity::Medium));
    assert!(f.detail.contains("self-signed"));
    assert!(f.remediation.contains("smtpd_tls_chain_files"));
    // RSA 2048 with SHA-256: the key is fine.
    assert_eq!(judge_cert_key(Ok(&r)).status, Status::Pass);
}

#[test]
fn missing_intermediate() {
    let r = seen(&["leaf"]);
    assert_eq!(
        r.trust,
        Trust::Incomplete {
            missing_issuer: "CN=mailaudit Test Intermediate".into()
        }
    );
    let f = judge_cert_chain(Ok(&r));
    assert_eq!(f.status, Status::Fail);
    assert!(f.detail.contains("incomplete"), "{}", f.detail);
    assert!(notes(&f).contains("caIssuers (AIA): http://ca.example.org/int.der"));
}

#[test]
fn unknown_root() {
    // The root sent along but not trusted.
    let r = analyze(&[der("leaf"), der("int"), der("root")], HOST, NOW, &[]);
    assert_eq!(
        r.trust,
        Trust::UntrustedRoot {
            root: "CN=mailaudit Test Root".into()
        }
    );
    assert_eq!(judge_cert_chain(Ok(&r)).status, Status::Fail);
    // Without it, the chain just stops: reported as incomplete.
    let r = analyze(&[der("leaf"), der("int")], HOST, NOW, &[]);
    assert!(matches!(r.trust, Trust::Incomplete { .. }), "{:?}", r.trust);
}

#[test]
fn small_rsa_key() {
    let r = seen(&["rsa1024", "int"]);
    assert_eq!(r.leaf().unwrap().key_bits, 1024);
    let f = judge_cert_key(Ok(&r));
    assert_eq!((f.status, f.severity), (Status::Fail, Severity::Medium));
    assert!(f.detail.contains("RSA 1024 bits"), "{}", f.detail);
    // The intermediate signs with P-256: the path itself is valid.
    assert!(matches!(r.trust, Trust::Trusted { .. }), "{:?}", r.trust);
}

#[test]
fn sha1_signature() {
    let r = seen(&["sha1", "int"]);
    let leaf = r.leaf().unwrap();
    assert_eq!(leaf.weak_signature_hash.as_deref(), Some("SHA-1"));
    let f = judge_cert_key(Ok(&r));
    assert_eq!(f.status, Status::Fail);
    assert!(f.detail.contains("SHA-1"), "{}", f.detail);
    // webpki refuses SHA-1 paths: the chain fails too, saying why.
    match &r.trust {
        Trust::Invalid { reason } => assert!(reason.contains("SHA-1"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nothing_seen_is_unknown() {
    for f in [
        judge_cert_expiry(Err("connection refused"), NOW),
        judge_cert_name(Err("connection refused"), false),
        judge_cert_chain(Err("connection refused")),
        judge_cert_key(Err("connection refused")),
    ] {
        assert_eq!(f.status, Status::Unknown, "{}", f.id);
        assert!(f.detail.contains("connection refused"));
    }
    // An unparsable certificate: the chain fails, the rest cannot say.
    let r = analyze(&[b"\x30\x03\x02\x01\x00".to_vec()], HOST, NOW, &[]);
    assert_eq!(judge_cert_chain(Ok(&r)).status, Status::Fail);
    assert_eq!(judge_cert_key(Ok(&r)).status, Status::Unknown);
}

#[test]
fn ics_reminder_from_a_real_certificate() {
    let r = seen(&["leaf", "int"]);
    let ics = expiry_ics(r.leaf().unwrap(), HOST, NOW).replace("\r\n ", "");
    assert!(ics.contains(
        "UID:cert-8dcbe6634d9ad1e2394332c82d4d807175fa9aef1b9f84e59ed1aa8c71272b34@mailaudit\r\n"
    ));
    assert!(ics.contains("DTSTART:20270101T000000Z\r\n"));
    assert!(ics.contains("DTSTAMP:20260601T000000Z\r\n"));
}

#[test]
fn mutated_certificates_never_panic() {
    let seeds = [der("leaf"), der("int"), der("rsa1024"), der("selfsigned")];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..400 {
        let mut c = seeds[i % seeds.len()].clone();
        for _ in 0..=(next() % 6) {
            let n = c.len();
            match next() % 3 {
                0 => c[(next() as usize) % n] = next() as u8,
                1 => c.truncate((next() as usize) % n + 1),
                _ => c[(next() as usize) % n] ^= 0x80,
            }
        }
        let r = analyze(&[c, der("int")], HOST, NOW, &[der("root")]);
        for f in [
            judge_cert_expiry(Ok(&r), NOW),
            judge_cert_name(Ok(&r), false),
            judge_cert_chain(Ok(&r)),
            judge_cert_key(Ok(&r)),
        ] {
            assert!(!f.detail.is_empty());
        }
    }
}
