//! Arbitrary bytes as sendmail.mc / sendmail.cf / access map through the
//! Sendmail analyser: the m4 reader within its caps, every rule, the
//! pasted-text path. The body is shared with the stable test
//! `shared/tests/sendmail_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/sendmail_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
