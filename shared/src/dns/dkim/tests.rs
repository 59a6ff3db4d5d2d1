//! The DKIM rules over the scripted network.

use super::record::tests::*;
use super::*;
use crate::net::NetError;
use crate::testing::ScriptedNet;
use futures::executor::block_on;
use hickory_proto::op::ResponseCode;

const D: &str = "example.org";

fn key(sel: &str) -> String {
    format!("{sel}._domainkey.{D}")
}

fn run_with(net: &ScriptedNet, user: &[&str]) -> Vec<Finding> {
    let r = Resolver::new(net, "https://doh.test/dns-query");
    let user: Vec<String> = user.iter().map(|s| s.to_string()).collect();
    let l = block_on(lookup(&r, D, &Selectors::new(&user, &[])));
    let fs = judge(D, &l);
    let ids: Vec<&str> = fs.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, RULES.iter().map(|r| r.id).collect::<Vec<_>>());
    for f in &fs {
        assert!(!f.detail.is_empty());
        if f.status != Status::Pass {
            assert!(!f.evidence.is_empty(), "{} has no evidence", f.id);
        }
        if matches!(f.status, Status::Fail | Status::Warn) {
            assert!(!f.remediation.is_empty(), "{} has no remediation", f.id);
        }
    }
    fs
}

fn run(net: &ScriptedNet) -> Vec<Finding> {
    run_with(net, &[])
}

fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
    fs.iter().find(|f| f.id == id).unwrap()
}

fn statuses(fs: &[Finding]) -> [Status; 4] {
    [fs[0].status, fs[1].status, fs[2].status, fs[3].status]
}

#[test]
fn strong_key_at_a_common_selector_passes() {
    let net = ScriptedNet::new().txt(&key("mail"), &format!("v=DKIM1; k=rsa; p={RSA2048}"));
    let fs = run(&net);
    assert_eq!(statuses(&fs), [Status::Pass; 4]);
    let missing = get(&fs, "dkim.missing");
    assert!(
        missing.detail.contains("mail (a common selector)"),
        "{}",
        missing.detail
    );
    assert!(get(&fs, "dkim.key_weak").detail.contains("RSA 2048 bits"));
    // _domainkey plus every common selector, each once.
    let asked = net.asked();
    assert_eq!(asked.len(), 1 + COMMON_SELECTORS.len());
    assert!(asked.contains(&(format!("_domainkey.{D}"), RecordType::TXT)));
    assert_eq!(net.requests(), 1 + COMMON_SELECTORS.len());
}

#[test]
fn no_domainkey_tree_fails() {
    let net = ScriptedNet::new().txt(D, "v=spf1 -all");
    let fs = run(&net);
    assert_eq!(
        statuses(&fs),
        [Status::Fail, Status::Info, Status::Info, Status::Info]
    );
    let m = get(&fs, "dkim.missing");
    assert_eq!(m.severity, Severity::Medium);
    assert!(m.detail.contains("NXDOMAIN"), "{}", m.detail);
    assert!(m
        .remediation
        .contains("opendkim-genkey -b 2048 -s mail -d example.org"));
    // Evidence: the _domainkey answer, then the per-selector summary.
    assert!(matches!(&m.evidence[0], Evidence::Dns { rcode, .. } if rcode == "NXDOMAIN"));
    assert!(
        matches!(&m.evidence[1], Evidence::Note { text } if text.contains("selector1: NXDOMAIN"))
    );
}

#[test]
fn unguessed_selector_warns_until_named() {
    let net = ScriptedNet::new().txt(&key("x7k2"), &format!("v=DKIM1; p={RSA2048}"));
    let fs = run(&net);
    let m = get(&fs, "dkim.missing");
    assert_eq!(m.status, Status::Warn);
    assert!(
        m.detail.contains("_domainkey.example.org exists"),
        "{}",
        m.detail
    );
    assert!(m.remediation.contains("--selector"));
    assert_eq!(get(&fs, "dkim.key_weak").status, Status::Info);
    // Named by the user (any case, or as a full key name), it is found.
    for given in ["X7K2", "x7k2._domainkey.example.org."] {
        let fs = run_with(&net, &[given]);
        assert_eq!(statuses(&fs), [Status::Pass; 4], "{given}");
        assert!(get(&fs, "dkim.missing")
            .detail
            .contains("x7k2 (given by you)"));
    }
}

#[test]
fn key_sizes() {
    for (b64, status, severity) in [
        (RSA512, Status::Fail, Severity::High),
        (RSA1023, Status::Fail, Severity::High),
        (RSA1024, Status::Fail, Severity::Medium),
        (RSA1024_PKCS1, Status::Fail, Severity::Medium),
        (RSA2048, Status::Pass, Severity::Medium),
        (RSA2048_PKCS1, Status::Pass, Severity::Medium),
        (RSA4096, Status::Pass, Severity::Medium),
    ] {
        let net = ScriptedNet::new().txt(&key("default"), &format!("v=DKIM1; k=rsa; p={b64}"));
        let f = get(&run(&net), "dkim.key_weak").clone();
        assert_eq!((f.status, f.severity), (status, severity), "{}", f.detail);
        if status == Status::Fail {
            assert!(f
                .remediation
                .contains("opendkim-genkey -b 2048 -s default-2048 -d example.org"));
        }
    }
    let net = ScriptedNet::new().txt(&key("s1"), &format!("v=DKIM1; k=ed25519; p={ED_RAW}"));
    let f = get(&run(&net), "dkim.key_weak").clone();
    assert_eq!(f.status, Status::Pass);
    assert!(f.detail.contains("Ed25519") && f.detail.contains("RSA key as well"));
}

#[test]
fn weakest_key_decides_and_strong_ones_are_listed() {
    let net = ScriptedNet::new()
        .txt(&key("selector1"), &format!("v=DKIM1; p={RSA2048}"))
        .txt(&key("selector2"), &format!("v=DKIM1; p={RSA1024}"))
        .txt(&key("s1"), &format!("v=DKIM1; k=ed25519; p={ED_RAW}"));
    let fs = run(&net);
    let f = get(&fs, "dkim.key_weak");
    assert_eq!((f.status, f.severity), (Status::Fail, Severity::Medium));
    assert!(
        f.detail.starts_with("selector2: RSA 1024 bits"),
        "{}",
        f.detail
    );
    assert!(f.detail.contains("selector1: RSA 2048 bits"));
    assert_eq!(f.evidence.len(), 3);
    assert!(get(&fs, "dkim.missing")
        .detail
        .contains("at 3 of the 12 selectors"));
}

#[test]
fn two_records_at_one_selector_are_both_judged() {
    let net = ScriptedNet::new()
        .txt(&key("mail"), &format!("v=DKIM1; p={RSA2048}"))
        .txt(&key("mail"), &format!("v=DKIM1; p={RSA512}"))
        .txt(&key("mail"), "some-verification=abc");
    let f = get(&run(&net), "dkim.key_weak").clone();
    assert_eq!((f.status, f.severity), (Status::Fail, Severity::High));
}

#[test]
fn unusable_records_fail_key_weak_not_missing() {
    for rec in [
        format!("v=DKIM1; p={RSA2048}; p={RSA2048}"),
        format!("k=rsa; v=DKIM1; p={RSA2048}"),
        format!("v=DKIM1; k=ed25519; p={ED_SPKI}"),
        "v=DKIM1; p=not*base64".to_string(),
    ] {
        let net = ScriptedNet::new().txt(&key("dkim"), &rec);
        let fs = run(&net);
        assert_eq!(
            statuses(&fs),
            [Status::Pass, Status::Fail, Status::Info, Status::Pass],
            "{rec}"
        );
        let f = get(&fs, "dkim.key_weak");
        assert_eq!(f.severity, Severity::High);
        assert!(f.detail.contains("cannot be used"), "{}", f.detail);
        assert!(f.remediation.contains("Republish"));
        assert!(get(&fs, "dkim.missing")
            .detail
            .contains("None of them can be used"));
    }
    // Not DKIM at all: an SPF record at a selector is no key.
    let net = ScriptedNet::new().txt(&key("dkim"), "v=spf1 -all");
    let fs = run(&net);
    assert_eq!(get(&fs, "dkim.missing").status, Status::Warn);
    let notes = &get(&fs, "dkim.missing").evidence;
    assert!(notes.iter().any(
        |e| matches!(e, Evidence::Note { text } if text.contains("dkim: no DKIM record (NOERROR)"))
    ));
}

#[test]
fn testing_flag() {
    let net = ScriptedNet::new().txt(&key("mail"), &format!("v=DKIM1; t=y; k=rsa; p={RSA2048}"));
    let f = get(&run(&net), "dkim.testing").clone();
    assert_eq!((f.status, f.severity), (Status::Fail, Severity::Low));
    assert!(f.detail.contains("mail"));
    let want = format!("mail._domainkey.example.org. TXT \"v=DKIM1; k=rsa; p={RSA2048}\"");
    assert!(f.remediation.contains(&want), "{}", f.remediation);
    let net = ScriptedNet::new().txt(&key("mail"), &format!("v=DKIM1; t=s; p={RSA2048}"));
    assert_eq!(get(&run(&net), "dkim.testing").status, Status::Pass);
    // A revoked record's flags do not matter.
    let net = ScriptedNet::new()
        .txt(&key("mail"), &format!("v=DKIM1; p={RSA2048}"))
        .txt(&key("old"), "v=DKIM1; t=y; p=");
    assert_eq!(
        get(&run_with(&net, &["old"]), "dkim.testing").status,
        Status::Pass
    );
}

#[test]
fn revoked_keys() {
    // Only a revoked key: no key published, so dkim.missing warns.
    let net = ScriptedNet::new().txt(&key("default"), "v=DKIM1; k=rsa; p=");
    let fs = run(&net);
    assert_eq!(
        statuses(&fs),
        [Status::Warn, Status::Info, Status::Info, Status::Info]
    );
    assert!(get(&fs, "dkim.missing").detail.contains("Revoked keys"));
    let r = get(&fs, "dkim.revoked");
    assert_eq!(r.severity, Severity::Info);
    assert!(r.detail.contains("fine if no server signs"), "{}", r.detail);
    // Named in the user's configuration: still referenced.
    let net = ScriptedNet::new()
        .txt(&key("mail"), &format!("v=DKIM1; p={RSA2048}"))
        .txt(&key("old2019"), "v=DKIM1; p=");
    let fs = run_with(&net, &["old2019"]);
    assert_eq!(
        statuses(&fs),
        [Status::Pass, Status::Pass, Status::Pass, Status::Info]
    );
    let r = get(&fs, "dkim.revoked");
    assert!(r.detail.contains("still named"), "{}", r.detail);
    assert!(r.remediation.contains("-s old2019-2048 -d example.org"));
}

#[test]
fn hosted_dkim_through_cname() {
    let target = "selector1-example-org._domainkey.example.onmicrosoft.com";
    let net = ScriptedNet::new()
        .cname(&key("selector1"), target)
        .txt(target, &format!("v=DKIM1; k=rsa; p={RSA2048}"));
    let fs = run(&net);
    assert_eq!(statuses(&fs), [Status::Pass; 4]);
    let m = get(&fs, "dkim.missing");
    assert!(
        m.detail.contains(&format!("via CNAME to {target}")),
        "{}",
        m.detail
    );
    // The CNAME is published but the provider has no key (DKIM not enabled).
    let net = ScriptedNet::new().cname(&key("selector1"), target);
    let fs = run(&net);
    let m = get(&fs, "dkim.missing");
    assert_eq!(m.status, Status::Warn, "{}", m.detail);
    assert!(m.detail.contains("publishes no key"), "{}", m.detail);
    assert!(m
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Dns { query, .. } if query == &key("selector1"))));
}

#[test]
fn failures_are_unknown_never_missing() {
    // A selector fails and no key is found elsewhere: cannot conclude.
    let net = ScriptedNet::new()
        .rcode(&key("selector1"), RecordType::TXT, ResponseCode::ServFail)
        .txt(D, "v=spf1 -all");
    let fs = run(&net);
    assert_eq!(statuses(&fs), [Status::Unknown; 4]);
    assert!(get(&fs, "dkim.missing").detail.contains("SERVFAIL"));
    // Even with _domainkey NXDOMAIN.
    let net = ScriptedNet::new()
        .error(&key("google"), RecordType::TXT, NetError::Timeout(5000))
        .rcode(
            &format!("_domainkey.{D}"),
            RecordType::TXT,
            ResponseCode::NXDomain,
        );
    assert_eq!(get(&run(&net), "dkim.missing").status, Status::Unknown);
    // Every query times out.
    let mut net = ScriptedNet::new().error(
        &format!("_domainkey.{D}"),
        RecordType::TXT,
        NetError::Timeout(5000),
    );
    for s in COMMON_SELECTORS {
        net = net.error(&key(s), RecordType::TXT, NetError::Timeout(5000));
    }
    let fs = run(&net);
    assert_eq!(statuses(&fs), [Status::Unknown; 4]);
    // _domainkey fails but every selector answered: may be missing, cannot tell.
    let net = ScriptedNet::new().error(
        &format!("_domainkey.{D}"),
        RecordType::TXT,
        NetError::Timeout(5000),
    );
    let m = get(&run(&net), "dkim.missing").clone();
    assert_eq!(m.status, Status::Warn);
    assert!(m.detail.contains("could not be checked"), "{}", m.detail);
    // A key found elsewhere still passes; the failure stays in the evidence.
    let net = ScriptedNet::new()
        .txt(&key("mail"), &format!("v=DKIM1; p={RSA2048}"))
        .error(&key("dkim"), RecordType::TXT, NetError::Timeout(5000));
    let fs = run(&net);
    assert_eq!(statuses(&fs), [Status::Pass; 4]);
    assert!(get(&fs, "dkim.missing")
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Note { text } if text.contains("dkim: look-up failed"))));
}

#[test]
fn nxdomain_contradicted_by_names_below_is_not_trusted() {
    let net = ScriptedNet::new()
        .rcode(
            &format!("_domainkey.{D}"),
            RecordType::TXT,
            ResponseCode::NXDomain,
        )
        .txt(&key("default"), "v=DKIM1; p=");
    let m = get(&run(&net), "dkim.missing").clone();
    assert_eq!(m.status, Status::Warn);
    assert!(m.detail.contains("cannot be trusted"), "{}", m.detail);
}

#[test]
fn skipped_selectors_are_reported_not_asked() {
    let domain = format!("{}.example.org", "x".repeat(60));
    let net = ScriptedNet::new().txt(
        &format!("mail._domainkey.{domain}"),
        &format!("v=DKIM1; p={RSA2048}"),
    );
    let long = ["a".repeat(60), "b".repeat(60), "c".repeat(60)].join(".");
    let r = Resolver::new(&net, "https://doh.test/dns-query");
    let plan = Selectors::explicit(&["bad_sel".into(), long.clone()], &[]);
    assert_eq!(
        plan.tried().len(),
        1,
        "syntax is fine, only the name is too long"
    );
    let l = block_on(lookup(&r, &domain, &plan));
    assert!(l.selectors.is_empty());
    assert_eq!(l.skipped.len(), 2);
    assert_eq!(net.asked().len(), 1, "only _domainkey asked");
    let fs = judge(&domain, &l);
    let m = get(&fs, "dkim.missing");
    assert_eq!(m.status, Status::Warn);
    assert!(m.detail.contains("no selector was tried"));
    assert!(m.evidence.iter().any(
        |e| matches!(e, Evidence::Note { text } if text.contains("bad_sel") && text.contains("longer than a DNS name"))
    ));
}

#[test]
fn config_selectors_are_tried_first() {
    let conf = "Selector  relay2024\n";
    let net = ScriptedNet::new().txt(&key("relay2024"), &format!("v=DKIM1; p={RSA4096}"));
    let r = Resolver::new(&net, "https://doh.test/dns-query");
    let plan = Selectors::new(&[], &selectors_from_config(conf));
    let l = block_on(lookup(&r, D, &plan));
    assert_eq!(l.selectors[0].selector.source, Source::Config);
    let fs = judge(D, &l);
    assert!(get(&fs, "dkim.missing")
        .detail
        .contains("relay2024 (from the pasted configuration)"));
    assert_eq!(get(&fs, "dkim.key_weak").status, Status::Pass);
}

/// The CLI's server runs audits on a multi-threaded runtime: the look-up
/// future must be `Send` when the network's futures are.
#[test]
fn lookup_future_is_send_when_the_network_is() {
    use crate::testing::{assert_send, DownNet};
    let net = DownNet;
    let r = Resolver::new(&net, "https://doh.test/dns-query");
    let plan = Selectors::new(&[], &[]);
    let l = block_on(assert_send(lookup(&r, D, &plan)));
    assert_eq!(statuses(&judge(D, &l)), [Status::Unknown; 4]);
}
