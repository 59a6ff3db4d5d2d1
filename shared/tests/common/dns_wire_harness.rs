//! The body of the `dns_wire` fuzz target, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/dns_wire.rs`) and the stable test
//! `shared/tests/protocol_fuzz.rs`.
//!
//! Input: byte 0 picks the question (name and type, as the audit asks
//! them); the rest is the DNS message a DoH resolver sends back, decoded
//! by `dns::decode_answer` (hickory-proto underneath). A decoded answer
//! then goes through everything that reads answers: evidence, the TXT
//! joiners of SPF/MTA-STS/TLS-RPT, the MX set, TLSA records and their
//! problems, and the SPF judge. Asserts: no panic; a decoded answer is for
//! the question asked; canonical order does not depend on the order the
//! records came in (decoding twice gives the same answer).
//!
//! The same bytes are also a datagram on a plain-DNS host's socket:
//! `dns::wire` (id, TC bit, reply-to-this-query test) reads them before
//! anything is decoded. Asserts: no panic; a datagram the host would take
//! as the reply (`reply_matches`) is never one the decoder finds to be for
//! another question.

use mailaudit_core::dns::{
    dane, decode_answer, encode_query, mtasts, mx, spf, tlsrpt, DnsError, RecordType,
};

pub const QUESTIONS: [(&str, RecordType); 12] = [
    ("example.test", RecordType::TXT),
    ("lookups11.example.test", RecordType::TXT),
    ("sel1._domainkey.example.test", RecordType::TXT),
    ("_dmarc.dmarc2.example.test", RecordType::TXT),
    ("example.test", RecordType::MX),
    ("_dmarc.example.test", RecordType::TXT),
    ("_25._tcp.mail.example.test", RecordType::TLSA),
    ("mail.example.test", RecordType::A),
    ("mail.example.test", RecordType::AAAA),
    ("25.25.18.198.in-addr.arpa", RecordType::PTR),
    ("example.test", RecordType::DNSKEY),
    ("nx.example.test", RecordType::A),
];

pub fn run(data: &[u8]) {
    let Some((&sel, wire)) = data.split_first() else {
        return;
    };
    let (name, rtype) = QUESTIONS[usize::from(sel) % QUESTIONS.len()];
    let mut query = encode_query(name, rtype).expect("a valid question");
    let datagram = wire;
    {
        use mailaudit_core::dns::wire;
        wire::set_id(&mut query, wire::id(datagram).unwrap_or(0));
    }
    let taken = mailaudit_core::dns::wire::reply_matches(&query, datagram);
    let _ = mailaudit_core::dns::wire::truncated(datagram);
    let decoded = decode_answer(name, rtype, wire);
    assert!(
        !(taken && decoded == Err(DnsError::WrongQuestion)),
        "a datagram taken as the reply is for another question"
    );
    let Ok(a) = decoded else {
        return;
    };
    assert_eq!((a.qname.as_str(), a.qtype), (name, rtype));
    assert_eq!(decode_answer(name, rtype, wire).ok().as_ref(), Some(&a));
    let _ = (
        a.evidence(),
        a.rcode_text(),
        a.is_definite(),
        a.is_nxdomain(),
    );
    for d in a.of_type() {
        let _ = (d.to_string(), d.txt_joined());
    }
    for r in &a.records {
        let _ = r.data.to_string();
    }
    let _ = spf::spf_records(&a);
    let _ = spf::answer_size(&a);
    let _ = mtasts::sts_records(&a);
    let _ = tlsrpt::tlsrpt_records(&a);
    let _ = mx::mx_set(&a);
    for t in dane::records(&a) {
        let _ = (t.problem(), t.usable());
    }
    let _ = spf::judge(name, &Ok(a));
}
