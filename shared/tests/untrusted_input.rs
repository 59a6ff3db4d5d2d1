//! Untrusted input never panics the engine: mutation fuzzing (deterministic
//! seeds, so a failure reproduces) of every parser reachable from outside —
//! DNS answers from a resolver, pasted configuration, SPF and DMARC text.
//! Coverage-guided fuzzing with cargo-fuzz comes with the hardening issue;
//! this keeps a fast, always-on net under the same entry points.

use mailaudit_core::config::{analyze, ConfigOptions, Input};
use mailaudit_core::dns::{decode_answer, dmarc, encode_query, spf, RecordType};

mod common;
use common::Rng;

/// A real answer to mutate: a response to an MX query with one record.
fn seed_answer() -> Vec<u8> {
    let mut q = encode_query("example.org", RecordType::MX).unwrap();
    // Drop the OPT record (the last 11 bytes) and its count, mark as response.
    q.truncate(q.len() - 11);
    q[11] = 0; // ARCOUNT
    q[2] |= 0x80; // QR
    q[7] = 1; // ANCOUNT
    q.extend_from_slice(&[
        0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 1, 44, 0, 9, 0, 10, 4, b'm', b'a', b'i', b'l', 0xc0, 0x0c,
    ]);
    q
}

#[test]
fn dns_answers_never_panic() {
    let seed = seed_answer();
    let ok = decode_answer("example.org", RecordType::MX, &seed).expect("seed decodes");
    assert_eq!(ok.of_type().count(), 1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let m = rng.mutate(&seed);
        let _ = decode_answer("example.org", RecordType::MX, &m);
    }
}

#[test]
fn pasted_configs_never_panic() {
    let seeds: [&[u8]; 3] = [
        b"mynetworks = 0.0.0.0/0\nsmtpd_relay_restrictions = permit_mynetworks,\n  reject_unauth_destination\nx = ${y}\ny = $x\n",
        b"# file: master.cf\nsubmission inet n - y - - smtpd\n  -o { smtpd_sasl_auth_enable = yes }\n  -o smtpd_tls_security_level=encrypt\n",
        "disable_vrfy_command = \u{f1}\u{0}\n\t# comment\n=\n".as_bytes(),
    ];
    let opts = ConfigOptions::default();
    let mut rng = Rng(42);
    for i in 0..5_000 {
        let m = rng.mutate(seeds[i % seeds.len()]);
        let text = String::from_utf8_lossy(&m).into_owned();
        let _ = analyze(&[Input::new("fuzz", text)], &opts);
    }
}

#[test]
fn spf_and_dmarc_text_never_panics() {
    let seeds: [&[u8]; 2] = [
        b"v=spf1 ip4:192.0.2.0/24 include:_spf.example.org redirect=x ~all",
        b"v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:a@b",
    ];
    let mut rng = Rng(7);
    for i in 0..20_000 {
        let m = rng.mutate(seeds[i % 2]);
        let text = String::from_utf8_lossy(&m);
        let _ = spf::terms(&text);
        let _ = dmarc::parse(&text);
    }
}

#[test]
fn domain_policy_text_never_panics() {
    use mailaudit_core::dns::{bimi, mtasts, psl, tlsrpt};
    let seeds: [&[u8]; 7] = [
        b"v=DMARC1; p=reject; sp=none; np=quarantine; pct=50; fo=0:1:d; rf=afrf; ri=86400; rua=mailto:a@b.example!10m,mailto:c@d.example; ruf=mailto:e@f.example; adkim=s; aspf=r; psd=n; t=y",
        b"v=STSv1; id=20250101T000000; ext=1",
        b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmx: *.example.net\r\nmax_age: 604800\r\n",
        b"v=TLSRPTv1; rua=mailto:tls@example.org,https://r.example.net/x",
        b"v=BIMI1; l=https://example.org/logo.svg; a=https://example.org/vmc.pem; avp=brand",
        "mail.b\u{fc}cher.xn--55qx5d.cn.".as_bytes(),
        b"*.a.b.example.org",
    ];
    let mut rng = Rng(0x5eed_d0c5);
    for i in 0..30_000 {
        let m = rng.mutate(seeds[i % seeds.len()]);
        let text = String::from_utf8_lossy(&m);
        let _ = dmarc::parse(&text);
        let _ = dmarc::is_dmarc_record(&text);
        let _ = dmarc::parse_report_uri(&text);
        let _ = psl::organizational_domain(&text);
        let _ = psl::public_suffix(&text);
        let _ = mtasts::parse_record(&text);
        let _ = mtasts::parse_policy(&text);
        let _ = mtasts::mx_matches(&text, "mail.example.org");
        let _ = mtasts::mx_matches("*.example.org", &text);
        let _ = tlsrpt::parse(&text);
        let _ = bimi::parse(&text);
    }
}

/// The same records as DNS answers and HTTP bodies, through the look-ups
/// and judges (raw bytes, not only valid UTF-8).
#[test]
fn domain_policy_answers_never_panic() {
    use mailaudit_core::dns::{bimi, mtasts, mx, tlsrpt, Resolver};
    use mailaudit_core::testing::ScriptedNet;
    let record: &[u8] =
        b"v=DMARC1; p=reject; rua=mailto:a@vendor.example!1g; ruf=mailto:x@example.org";
    let sts: &[u8] = b"v=STSv1; id=abc";
    let policy: &[u8] = b"version: STSv1\nmode: testing\nmx: *.example.org\nmax_age: 86400\n";
    let url = "https://mta-sts.example.org/.well-known/mta-sts.txt";
    let mut rng = Rng(0xb1b1);
    for _ in 0..1_500 {
        let net = ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .txt_strings("_dmarc.example.org", &[&rng.mutate(record)])
            .txt_strings(
                "example.org._report._dmarc.vendor.example",
                &[&rng.mutate(b"v=DMARC1")],
            )
            .txt_strings("_mta-sts.example.org", &[&rng.mutate(sts)])
            .txt_strings(
                "_smtp._tls.example.org",
                &[&rng.mutate(b"v=TLSRPTv1; rua=mailto:a@b.example")],
            )
            .txt_strings(
                "default._bimi.example.org",
                &[&rng.mutate(b"v=BIMI1; l=https://a.example/l.svg")],
            )
            .page(url, 200, "text/plain", &rng.mutate(policy));
        let r = Resolver::new(&net, "https://doh.test/dns-query");
        futures::executor::block_on(async {
            let d = dmarc::lookup(&r, "example.org").await;
            assert_eq!(dmarc::judge("example.org", &d).len(), 4);
            let m = mx::lookup(&r, "example.org").await;
            let s = mtasts::lookup(&r, &net, "example.org").await;
            assert_eq!(mtasts::judge("example.org", &s, &m).len(), 4);
            let t = tlsrpt::lookup(&r, "example.org").await;
            assert_eq!(tlsrpt::judge("example.org", &t).len(), 1);
            let b = bimi::lookup(&r, "example.org").await;
            assert_eq!(bimi::judge("example.org", &b, Some(&d)).len(), 1);
        });
    }
}
