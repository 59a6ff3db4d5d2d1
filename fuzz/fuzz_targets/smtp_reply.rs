//! Arbitrary bytes as what an SMTP server sends, through the reply parser and a client session (greeting, EHLO, STARTTLS).
//! The body (input format, assertions) is shared with the stable test
//! `shared/tests/protocol_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/smtp_reply_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
