//! Arbitrary bytes as TXT RRsets through every TXT-record parser and judge (SPF, DKIM, DMARC, MTA-STS, TLS-RPT, BIMI).
//! The body (input format, assertions) is shared with the stable test
//! `shared/tests/protocol_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/dns_records_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
