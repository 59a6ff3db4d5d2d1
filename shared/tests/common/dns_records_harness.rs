//! The body of the `dns_records` fuzz target, shared by the cargo-fuzz
//! target (`fuzz/fuzz_targets/dns_records.rs`, coverage-guided, nightly)
//! and the stable test `shared/tests/protocol_fuzz.rs`.
//!
//! Input: the TXT RRset of one name. Records are split at 0xFF, each
//! record's character-strings at 0xFE (so a record can arrive in several
//! strings, as DNS allows). Every TXT parser of the engine reads every
//! record — SPF, DKIM key records, DMARC (and its report URIs), MTA-STS,
//! TLS-RPT, BIMI — and every judge reads the RRset as the answer at its own
//! name. Asserts: no panic, one finding per rule where the rule set is
//! fixed, and no finding passes on a record its parser rejects.

use hickory_proto::op::ResponseCode;
use mailaudit_core::dns::dkim::{self, DkimLookup, Selector, SelectorLookup, Source};
use mailaudit_core::dns::mx::MxLookup;
use mailaudit_core::dns::{bimi, dmarc, mtasts, spf, tlsrpt, DnsAnswer, RecordType, Rr, RrData};
use mailaudit_core::Status;

const DOMAIN: &str = "example.org";

pub fn records(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
    data.split(|&b| b == 0xff)
        .map(|r| r.split(|&b| b == 0xfe).map(<[u8]>::to_vec).collect())
        .collect()
}

fn answer(qname: &str, recs: &[Vec<Vec<u8>>]) -> DnsAnswer {
    DnsAnswer {
        qname: qname.into(),
        qtype: RecordType::TXT,
        rcode: ResponseCode::NoError,
        authentic_data: false,
        records: recs
            .iter()
            .map(|strings| Rr {
                name: qname.into(),
                ttl: 300,
                data: RrData::Txt(strings.clone()),
            })
            .collect(),
    }
}

fn found(texts: &[String], at: &str) -> dmarc::Found {
    match texts {
        [] => dmarc::Found::None,
        [one] => dmarc::Found::Record {
            at: at.into(),
            text: one.clone(),
        },
        _ => dmarc::Found::Several {
            at: at.into(),
            texts: texts.to_vec(),
        },
    }
}

pub fn run(data: &[u8]) {
    let recs = records(data);
    let texts: Vec<String> = recs
        .iter()
        .map(|s| String::from_utf8_lossy(&s.concat()).into_owned())
        .collect();

    // The parsers, record by record.
    for t in &texts {
        let _ = spf::terms(t);
        let _ = spf::parse::parse_record(t);
        let _ = dkim::record::tag_list(t);
        let _ = dkim::record::looks_like_key_record(t);
        if let Ok(k) = dkim::parse_key_record(t) {
            let _ = k.strict();
        }
        let d = dmarc::parse(t);
        let _ = (dmarc::is_dmarc_record(t), d.usability());
        for uri in t.split([',', ';', '=']) {
            let _ = dmarc::parse_report_uri(uri.trim());
            let _ = tlsrpt::check_uri(uri.trim());
        }
        let _ = mtasts::parse_record(t);
        let _ = tlsrpt::parse(t);
        let _ = bimi::is_bimi_candidate(t);
        if let Ok(b) = bimi::parse(t) {
            let _ = b.declines();
        }
    }

    // The judges, the RRset as the answer at each record's own name.
    let spf_answer = answer(DOMAIN, &recs);
    let spf_texts = spf::spf_records(&spf_answer);
    let _ = spf::answer_size(&spf_answer);
    let spf_findings = spf::judge(DOMAIN, &Ok(spf_answer));
    if spf_texts.len() == 1 && spf::parse::parse_record(&spf_texts[0]).is_err() {
        for f in &spf_findings {
            if f.id == "spf.syntax" {
                assert_ne!(f.status, Status::Pass, "spf.syntax passed: {spf_texts:?}");
            }
        }
    }

    let tls = tlsrpt::Lookup {
        domain: DOMAIN.into(),
        txt: Ok(answer("_smtp._tls.example.org", &recs)),
    };
    let f = tlsrpt::judge(DOMAIN, &tls);
    assert_eq!(f.len(), tlsrpt::RULES.len());
    let kept = tlsrpt::tlsrpt_records(tls.txt.as_ref().unwrap());
    if kept.len() == 1 && tlsrpt::parse(&kept[0]).is_err() {
        assert_ne!(f[0].status, Status::Pass, "{kept:?}");
    }

    let sts = mtasts::Lookup {
        domain: DOMAIN.into(),
        txt: Ok(answer("_mta-sts.example.org", &recs)),
        fetch: None,
    };
    let _ = mtasts::sts_records(sts.txt.as_ref().unwrap());
    let mx = MxLookup {
        answer: Err(mailaudit_core::dns::DnsError::Malformed("not asked".into())),
        hosts: Vec::new(),
    };
    let f = mtasts::judge(DOMAIN, &sts, &mx);
    assert_eq!(f.len(), mtasts::RULES.len());
    let _ = mtasts::enforced(&sts);

    let dmarc_texts: Vec<String> = texts
        .iter()
        .filter(|t| dmarc::is_dmarc_record(t))
        .cloned()
        .collect();
    let dl = dmarc::Lookup {
        domain: DOMAIN.into(),
        org_domain: DOMAIN.into(),
        found: found(&dmarc_texts, DOMAIN),
        near_misses: texts
            .iter()
            .filter(|t| !dmarc::is_dmarc_record(t))
            .take(4)
            .map(|t| ("_dmarc.example.org".to_string(), t.clone()))
            .collect(),
        evidence: vec![answer("_dmarc.example.org", &recs).evidence()],
        reports: Vec::new(),
        unchecked: Vec::new(),
    };
    let f = dmarc::judge(DOMAIN, &dl);
    assert!(!f.is_empty());

    let bimi_texts: Vec<String> = texts
        .iter()
        .filter(|t| bimi::is_bimi_candidate(t))
        .cloned()
        .collect();
    let bl = bimi::Lookup {
        domain: DOMAIN.into(),
        org_domain: DOMAIN.into(),
        found: found(&bimi_texts, DOMAIN),
        evidence: Vec::new(),
    };
    let f = bimi::judge(DOMAIN, &bl, Some(&dl));
    assert_eq!(f.len(), bimi::RULES.len());

    let dk = DkimLookup {
        domainkey: Ok(answer("_domainkey.example.org", &[])),
        selectors: vec![SelectorLookup {
            selector: Selector {
                name: "s1".into(),
                source: Source::User,
            },
            qname: "s1._domainkey.example.org".into(),
            answer: Ok(answer("s1._domainkey.example.org", &recs)),
        }],
        skipped: Vec::new(),
    };
    let f = dkim::judge(DOMAIN, &dk);
    assert_eq!(f.len(), dkim::RULES.len());
}
