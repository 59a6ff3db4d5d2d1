//! Arbitrary bytes as DoH answers (DNS wire format) through decode_answer and every reader of answers.
//! The body (input format, assertions) is shared with the stable test
//! `shared/tests/protocol_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/dns_wire_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
