//! The body of the `smtp_reply` fuzz target, shared by the cargo-fuzz
//! target (`fuzz/fuzz_targets/smtp_reply.rs`) and the stable test
//! `shared/tests/protocol_fuzz.rs`.
//!
//! Input: what an SMTP server sends, in the pieces it arrives in (cut at
//! 0xFF). Two paths: the reply parser fed piece by piece must give the
//! same replies as the whole stream parsed at once (splitting never
//! changes a reply), and a client session (greeting, EHLO with the HELO
//! fallback, STARTTLS, QUIT) runs over a peer that sends those bytes, with
//! the EHLO capabilities parsed and the transcript rendered. Asserts: no
//! panic, chunking is invisible, the transcript stays within its caps.

#[path = "peer.rs"]
mod peer;

use mailaudit_core::probe::reply::{parse_all, printable, ReplyParser};
use mailaudit_core::probe::smtp::{Capabilities, SmtpClient, StartTls};
use peer::{block_on, Peer};

pub fn run(data: &[u8]) {
    // Piece by piece vs all at once.
    let whole: Vec<u8> = data.iter().copied().filter(|&b| b != 0xff).collect();
    let mut p = ReplyParser::new();
    let mut pieces = Vec::new();
    let mut failed = false;
    'feed: for chunk in data.split(|&b| b == 0xff) {
        p.feed(chunk);
        loop {
            match p.next_reply() {
                Ok(Some(r)) => pieces.push(r),
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break 'feed;
                }
            }
        }
    }
    match parse_all(&whole) {
        Ok(all) => {
            assert!(!failed, "pieces failed where the whole parsed");
            assert_eq!(all, pieces, "chunking changed the replies");
        }
        Err(e) => assert!(failed, "the pieces parsed where the whole failed ({e})"),
    }
    for r in &pieces {
        let _ = (r.to_string(), r.text(), r.first(), r.wire_lines());
        let _ = (r.is_positive(), r.is_transient(), r.is_permanent());
        let caps = Capabilities::parse(&r.lines);
        assert!(caps.lines.len() < r.lines.len().max(1));
        if let Some(auth) = &caps.auth {
            assert!(auth.len() <= 32);
        }
    }
    let _ = printable(&whole);

    // A session over a server that sends these bytes.
    block_on(async {
        let mut c = SmtpClient::new(Peer::new(data));
        if c.read_reply().await.is_err() {
            let t = c.close().await;
            let _ = t.excerpt(4096);
            return;
        }
        if let Ok(h) = c.ehlo("probe.example.org").await {
            let _ = h.name();
            if h.esmtp {
                assert_eq!(h.caps, Capabilities::parse(&h.reply.lines));
            }
        }
        match c.starttls().await {
            Ok(StartTls::Ready { transcript, .. }) => {
                let _ = transcript.excerpt(4096);
            }
            Ok(StartTls::Refused { client, .. }) => {
                let t = client.quit().await;
                let _ = t.excerpt(4096);
                let _ = t.client_lines().count();
            }
            Err((_, t)) => {
                let _ = t.excerpt(4096);
            }
        }
    });
}
