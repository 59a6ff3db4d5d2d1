//! Arbitrary bytes as a batch of DMARC aggregate report files (split at
//! 0xFF; after 0xFE the planner's record) through the whole report path:
//! sniffing, gzip/zip under the decompression cap, XML without DTDs,
//! aggregation, the dmarcrep rules, rendering. The body is shared with the
//! stable test `shared/tests/dmarc_fuzz.rs`.
#![no_main]

#[path = "../../shared/tests/common/dmarc_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
