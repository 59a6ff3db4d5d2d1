//! Arbitrary bytes as an MTA-STS policy body through the parser, the mx matcher and the MTA-STS rules.
//! The body (input format, assertions) is shared with the stable test
//! `shared/tests/protocol_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/mtasts_policy_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
