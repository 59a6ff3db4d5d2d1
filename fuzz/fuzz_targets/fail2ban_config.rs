//! Arbitrary bytes as fail2ban files (cut at 0xFF into jail.conf,
//! jail.d/a.conf, jail.local, jail.d/b.local, paths-debian.conf) through
//! the fail2ban analyser and the pasted-text path. The body is shared with
//! the stable test `shared/tests/fail2ban_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/fail2ban_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
