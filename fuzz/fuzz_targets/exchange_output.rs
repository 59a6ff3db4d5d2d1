//! Arbitrary bytes as pasted PowerShell output through the Exchange
//! analyser: the Format-List/Format-Table parser, every rule, the
//! pasted-text path. The body is shared with the stable test
//! `shared/tests/exchange_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/exchange_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
