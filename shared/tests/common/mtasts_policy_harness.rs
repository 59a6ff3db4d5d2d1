//! The body of the `mtasts_policy` fuzz target, shared by the cargo-fuzz
//! target (`fuzz/fuzz_targets/mtasts_policy.rs`) and the stable test
//! `shared/tests/protocol_fuzz.rs`.
//!
//! Input: the body served at `https://mta-sts.<domain>/.well-known/mta-sts.txt`.
//! It goes through the policy parser, the `mx:` pattern matcher against
//! the domain's MX hosts, and the four MTA-STS rules (with a valid TXT
//! record, status 200 and `text/plain`). Asserts: no panic; an unparsable
//! policy never passes `mtasts.policy`; `mtasts.mx_coverage` passes only
//! when every MX host matches a pattern of a parsed policy.

use hickory_proto::op::ResponseCode;
use mailaudit_core::dns::mtasts::{self, Fetch, Lookup};
use mailaudit_core::dns::mx::MxLookup;
use mailaudit_core::dns::{DnsAnswer, RecordType, Rr, RrData};
use mailaudit_core::net::HttpResponse;
use mailaudit_core::Status;

const DOMAIN: &str = "example.test";
const MX: [&str; 3] = [
    "mail.example.test",
    "mx2.example.test",
    "mx.provider.example",
];

fn answer(qname: &str, rtype: RecordType, data: Vec<RrData>) -> DnsAnswer {
    DnsAnswer {
        qname: qname.into(),
        qtype: rtype,
        rcode: ResponseCode::NoError,
        authentic_data: false,
        records: data
            .into_iter()
            .map(|data| Rr {
                name: qname.into(),
                ttl: 300,
                data,
            })
            .collect(),
    }
}

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = mtasts::parse_policy(&text);
    if let Ok(p) = &parsed {
        for pat in &p.mx {
            for h in MX {
                let _ = mtasts::mx_matches(pat, h);
            }
        }
    }
    let txt = answer(
        "_mta-sts.example.test",
        RecordType::TXT,
        vec![RrData::Txt(vec![b"v=STSv1; id=20261129;".to_vec()])],
    );
    let l = Lookup {
        domain: DOMAIN.into(),
        txt: Ok(txt),
        fetch: Some(Fetch {
            url: mtasts::policy_url(DOMAIN),
            result: Ok(HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "text/plain".into())],
                body: data.to_vec(),
            }),
        }),
    };
    let mx = MxLookup {
        answer: Ok(answer(
            DOMAIN,
            RecordType::MX,
            MX.iter()
                .enumerate()
                .map(|(i, h)| RrData::Mx {
                    preference: 10 * i as u16,
                    exchange: h.to_string(),
                })
                .collect(),
        )),
        hosts: Vec::new(),
    };
    let f = mtasts::judge(DOMAIN, &l, &mx);
    assert_eq!(f.len(), mtasts::RULES.len());
    let _ = mtasts::enforced(&l);
    let policy_ok = std::str::from_utf8(data)
        .ok()
        .and_then(|t| mtasts::parse_policy(t).ok());
    for x in &f {
        if x.id == "mtasts.policy" && policy_ok.is_none() {
            assert_ne!(x.status, Status::Pass, "unparsable policy passed: {text:?}");
        }
        if x.id == "mtasts.mx_coverage" && x.status == Status::Pass {
            let p = policy_ok
                .as_ref()
                .expect("coverage passed without a policy");
            for h in MX {
                assert!(
                    p.mx.iter().any(|pat| mtasts::mx_matches(pat, h)),
                    "coverage passed but {h} matches none of {:?}",
                    p.mx
                );
            }
        }
    }
}
