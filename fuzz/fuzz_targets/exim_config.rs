//! Arbitrary bytes as an Exim configuration (0xFF starts a new part)
//! through the Exim analyser: parse, every rule, the pasted-text path. The
//! body is shared with the stable test `shared/tests/exim_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/exim_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
