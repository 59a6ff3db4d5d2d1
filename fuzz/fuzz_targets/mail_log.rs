//! Arbitrary bytes as a mail log through the streaming analyser (chunks cut
//! at every 0xFF byte, then whole, line by line, and pasted through
//! `config::analyze`): no panic, chunking does not change the findings,
//! the memory caps hold. The body is shared with the stable test
//! `shared/tests/logs_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/maillog_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
