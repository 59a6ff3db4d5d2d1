//! DMARC aggregate reports (RFC 7489 §7.2 and Appendix C; DMARCbis
//! draft-ietf-dmarc-aggregate-reporting): read the files receivers send,
//! offline.
//!
//! - [`input`]: what a file is (by its first bytes), gzip and zip with a
//!   decompression cap;
//! - [`xml`]: the report document, with no DTD or entity processing.
pub mod input;
pub mod xml;
