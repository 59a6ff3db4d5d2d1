//! Arbitrary bytes as main.cf (up to the first 0xFF) and master.cf (after
//! it) through the Postfix analyser: parse, every rule, expanded values
//! within the cap, the pasted-text path. The body is shared with the stable
//! test `shared/tests/postfix_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/postfix_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
