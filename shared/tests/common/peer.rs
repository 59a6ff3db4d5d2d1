//! A peer for the protocol fuzz harnesses: serves fixed bytes in pieces cut
//! at 0xFF (the separator is dropped), accepts every write, and a
//! `block_on` for the engine's futures, which never wait on a peer like
//! this one (no executor crate needed in the fuzz build).

use mailaudit_core::net::{Conn, NetError};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub struct Peer {
    chunks: Vec<Vec<u8>>,
    next: usize,
    /// Bytes of the current chunk not yet read.
    pending: Vec<u8>,
    pub written: usize,
}

impl Peer {
    /// Pieces are cut at 0xFF; an empty piece is a read of what is left of
    /// the previous one (so pieces can also arrive split by the reader's
    /// buffer size).
    pub fn new(data: &[u8]) -> Peer {
        Peer {
            chunks: data.split(|&b| b == 0xff).map(<[u8]>::to_vec).collect(),
            next: 0,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl Conn for Peer {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        while self.pending.is_empty() {
            let Some(c) = self.chunks.get(self.next) else {
                return Ok(0);
            };
            self.pending = c.clone();
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }

    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        self.written += data.len();
        Ok(())
    }

    async fn close(&mut self) {}
}

/// Polls `f` to completion; panics if it ever waits (nothing here should).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("a future over a scripted peer never completed");
}
