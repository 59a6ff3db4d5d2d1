//! Arbitrary bytes as a presented certificate chain through the x509-parser/webpki wrapper, the certificate rules and DANE matching.
//! The body (input format, assertions) is shared with the stable test
//! `shared/tests/protocol_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/x509_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
