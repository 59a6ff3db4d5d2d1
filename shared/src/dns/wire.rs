//! The few header facts a host needs to carry plain DNS (RFC 1035 §4.2)
//! without understanding it: set a query's message id, tell whether a
//! datagram is the reply to that query, and whether the reply was
//! truncated. Everything else in a reply is read by
//! [`decode_answer`](super::decode_answer) (hickory-proto).
//!
//! Hand-written on purpose: these are fixed offsets of the 12-byte header
//! and a byte comparison of the question section, done for every datagram
//! that arrives on a host's socket, including spoofed and garbled ones,
//! before anything is decoded. A full parse would accept more than needed
//! (a compressed question, say) and cost more per stray datagram. Nothing
//! here indexes past the input: every read is a `get`. Covered by the
//! `dns_wire` fuzz target (`shared/tests/common/dns_wire_harness.rs`).

/// Length of the DNS header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// Most labels a name can have (255 octets in all).
const MAX_NAME_LEN: usize = 255;

/// The message id (bytes 0-1), or `None` for a message shorter than that.
pub fn id(msg: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.first()?, *msg.get(1)?]))
}

/// Sets the message id of `msg` (a no-op on a message too short to have one).
pub fn set_id(msg: &mut [u8], id: u16) {
    if let Some(head) = msg.get_mut(..2) {
        head.copy_from_slice(&id.to_be_bytes());
    }
}

/// The TC bit of a reply: it did not fit the transport (RFC 1035 §4.1.1;
/// a client then asks again over TCP, RFC 7766 §5).
pub fn truncated(msg: &[u8]) -> bool {
    msg.get(2).is_some_and(|b| b & 0x02 != 0)
}

/// The question section of `msg` (name, type and class of its first
/// question), when the header counts exactly one question and the name is
/// written out label by label (a question has nothing earlier to point to,
/// so a compression pointer there is malformed).
fn question(msg: &[u8]) -> Option<&[u8]> {
    let qdcount = u16::from_be_bytes([*msg.get(4)?, *msg.get(5)?]);
    if qdcount != 1 {
        return None;
    }
    let mut at = HEADER_LEN;
    loop {
        let len = usize::from(*msg.get(at)?);
        if len == 0 {
            break;
        }
        // 0b11xxxxxx is a pointer, 0b01/0b10 are not label lengths.
        if len > 63 || at - HEADER_LEN + len + 1 >= MAX_NAME_LEN {
            return None;
        }
        at += len + 1;
    }
    // The root label, then type and class.
    msg.get(HEADER_LEN..at + 5)
}

/// Whether `reply` answers `query`: it is a response (QR bit), carries the
/// query's message id, and repeats its question (names compared without
/// regard to ASCII case). A host waiting on a socket ignores any datagram
/// for which this is false (a late answer to an earlier try, or a spoofed
/// one) and keeps waiting until its timeout.
pub fn reply_matches(query: &[u8], reply: &[u8]) -> bool {
    let is_response = reply.get(2).is_some_and(|b| b & 0x80 != 0);
    let same_id = id(query).is_some() && id(query) == id(reply);
    is_response
        && same_id
        && match (question(query), question(reply)) {
            (Some(q), Some(r)) => q.eq_ignore_ascii_case(r),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{encode_query, RecordType};

    /// The query as the engine sends it, and a reply built from it by
    /// setting the QR bit (hickory would re-encode; bytes are what a
    /// resolver echoes).
    fn query_and_reply() -> (Vec<u8>, Vec<u8>) {
        let q = encode_query("Mail.Example.org", RecordType::MX).unwrap();
        let mut r = q.clone();
        r[2] |= 0x80;
        (q, r)
    }

    #[test]
    fn a_reply_to_the_query_matches() {
        let (mut q, mut r) = query_and_reply();
        assert!(reply_matches(&q, &r));
        set_id(&mut q, 0xbeef);
        assert_eq!(id(&q), Some(0xbeef));
        assert!(!reply_matches(&q, &r), "another id");
        set_id(&mut r, 0xbeef);
        assert!(reply_matches(&q, &r));
        // Resolvers may change the case of the name (0x20 randomisation).
        let lower: Vec<u8> = r.iter().map(u8::to_ascii_lowercase).collect();
        let mut lower = lower;
        lower[..4].copy_from_slice(&r[..4]);
        assert!(reply_matches(&q, &lower));
    }

    #[test]
    fn a_reply_to_another_question_or_a_query_does_not_match() {
        let (q, r) = query_and_reply();
        let other = {
            let mut o = encode_query("mail.example.org", RecordType::A).unwrap();
            o[2] |= 0x80;
            o
        };
        assert!(!reply_matches(&q, &other));
        assert!(!reply_matches(&q, &q), "not a response");
        let mut two = r.clone();
        two[5] = 2;
        assert!(!reply_matches(&q, &two), "two questions");
        // A pointer in place of the name.
        let mut ptr = r[..HEADER_LEN].to_vec();
        ptr.extend_from_slice(&[0xc0, 0x0c, 0, 15, 0, 1]);
        assert!(!reply_matches(&q, &ptr));
    }

    #[test]
    fn short_and_garbled_input_never_matches_nor_panics() {
        let (q, r) = query_and_reply();
        // The question ends before the EDNS OPT record (11 octets); a
        // reply cut after it still answers the question (the decoder then
        // judges the rest).
        let question_end = r.len() - 11;
        for n in 0..r.len() {
            assert_eq!(reply_matches(&q, &r[..n]), n >= question_end, "{n} bytes");
            let _ = truncated(&r[..n]);
        }
        assert!(!reply_matches(&[], &[]));
        assert!(!reply_matches(&[0xff; 12], &[0xff; 12]));
        let mut long = vec![0u8; HEADER_LEN];
        long[5] = 1;
        long[2] = 0x80;
        long.extend(std::iter::repeat_n([63u8; 64], 10).flatten());
        assert!(!reply_matches(&long, &long), "a name over 255 octets");
        set_id(&mut [0u8; 1], 7);
    }

    #[test]
    fn the_tc_bit_is_read() {
        let (_, mut r) = query_and_reply();
        assert!(!truncated(&r));
        r[2] |= 0x02;
        assert!(truncated(&r));
        assert!(!truncated(&[]));
    }
}
