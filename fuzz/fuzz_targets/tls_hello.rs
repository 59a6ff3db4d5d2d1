//! Arbitrary bytes as a server's answer to the probe's ClientHello (ServerHello, alerts, garbage) through the parser and the probe.
//! The body (input format, assertions) is shared with the stable test
//! `shared/tests/protocol_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/tls_hello_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
