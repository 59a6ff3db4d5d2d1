//! The network boundary. The engine never owns a socket: every protocol in
//! this crate talks to the world through [`Network`], which each host
//! implements (tokio in the CLI, `fetch()`/`connect()` in the Worker, and
//! [`crate::testing::ScriptedNet`] in tests).
//!
//! Hosts enforce `timeout_ms` and `max_body` of every request; an exceeded
//! limit is an error, never a truncated success.
//!
//! Plain DNS ([`Network::dns_exchange`]) is optional: a host that has none
//! (the Worker, the browser) keeps the default, which refuses with
//! [`crate::dns::DOH_ONLY`], so a `dns://` resolver there makes every DNS
//! check `unknown` with that reason rather than anything silent.

use async_lock::{Semaphore, SemaphoreGuardArc};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whole-exchange deadline the host applies.
    pub timeout_ms: u32,
    /// Largest response body the caller accepts.
    pub max_body: usize,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        HttpRequest {
            method: Method::Get,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: 10_000,
            max_body: 1 << 20,
        }
    }

    pub fn post(url: impl Into<String>, content_type: &str, body: Vec<u8>) -> Self {
        HttpRequest {
            method: Method::Post,
            headers: vec![("content-type".into(), content_type.into())],
            body,
            ..HttpRequest::get(url)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a network operation did not produce an answer. The text is shown to
/// users as the reason a check is `unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NetError {
    #[error("timed out after {0} ms")]
    Timeout(u32),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("TLS failure: {0}")]
    Tls(String),
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    #[error("refused by policy: {0}")]
    Refused(String),
    #[error("{0}")]
    Other(String),
}

/// A connected byte stream (plain TCP; TLS is layered on top by the engine).
#[allow(async_fn_in_trait)]
pub trait Conn {
    /// Reads some bytes; `Ok(0)` means the peer closed the connection.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError>;
    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError>;
    async fn close(&mut self);
    /// Milliseconds since this connection was established, read from the
    /// host's monotonic clock (the engine has none: this is a measurement
    /// the host passes in). `None` where the host keeps no such time; the
    /// SMTP probe then says the greeting delay was not measured.
    fn elapsed_ms(&self) -> Option<u64> {
        None
    }
}

/// What a host provides. Futures need not be `Send`: the Worker's are not.
#[allow(async_fn_in_trait)]
pub trait Network {
    type Conn: Conn;

    /// One HTTP(S) exchange. Redirects are not followed: the caller sees them.
    async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError>;

    /// Opens a TCP connection. `timeout_ms` bounds the connect.
    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<Self::Conn, NetError>;

    /// One plain DNS exchange (RFC 1035 §4.2) with the resolver at
    /// `server` (`IP:PORT`, an IPv6 address in brackets): `query` is the
    /// engine's message (id 0, EDNS payload size set for UDP); the result
    /// is the reply's bytes, which the engine decodes and judges.
    ///
    /// The host only moves bytes, but it does so as a careful stub
    /// resolver must: it sends the query over UDP with a random message id
    /// ([`crate::dns::wire::set_id`]), ignores every datagram that is not
    /// the reply to it ([`crate::dns::wire::reply_matches`]: same id and
    /// question) until `timeout_ms`, and when the reply has the TC bit
    /// ([`crate::dns::wire::truncated`]) asks again over TCP (two-byte
    /// length prefix, RFC 1035 §4.2.2). It hands back the reply with the
    /// query's own id restored. `timeout_ms` bounds the whole exchange.
    ///
    /// The default: this host has no plain DNS.
    async fn dns_exchange(
        &self,
        server: &str,
        query: &[u8],
        timeout_ms: u32,
    ) -> Result<Vec<u8>, NetError> {
        let _ = (server, query, timeout_ms);
        Err(NetError::Refused(crate::dns::DOH_ONLY.into()))
    }
}

/// A shared network is a network: lets wrappers such as [`Budgeted`] take
/// either an owned network or a borrowed one.
impl<T: Network> Network for &T {
    type Conn = T::Conn;

    async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError> {
        T::http(self, req).await
    }

    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<Self::Conn, NetError> {
        T::tcp_connect(self, host, port, timeout_ms).await
    }

    async fn dns_exchange(
        &self,
        server: &str,
        query: &[u8],
        timeout_ms: u32,
    ) -> Result<Vec<u8>, NetError> {
        T::dns_exchange(self, server, query, timeout_ms).await
    }
}

/// Limits of one audit's network use (DESIGN.md principle 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Subrequests in all: DNS queries (DoH or plain), HTTP GETs and TCP
    /// connects together. 50 is a Cloudflare Worker's limit on the free plan.
    pub subrequests: usize,
    /// Exchanges and open connections at once (a Worker holds at most 6).
    pub concurrency: usize,
    /// TCP connections open at once (the live probes), within
    /// `concurrency`. The CLI lets many DoH queries share one HTTP/2
    /// connection but still opens no more than this to a mail server.
    pub connections: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            subrequests: 50,
            concurrency: 6,
            connections: 6,
        }
    }
}

/// A [`Network`] that stays inside a [`Budget`]: every HTTP exchange,
/// plain DNS exchange and TCP connect counts as one subrequest, and once
/// the budget is used up further ones fail at once with
/// [`NetError::Refused`] ("subrequest budget of 50 used up"), which the
/// checks report as `unknown` with that reason.
/// At most `concurrency` exchanges run at once; the others wait for a slot
/// (an async semaphore, so this works on any executor, wasm included).
///
/// An open TCP connection keeps its slot until it is dropped, as a
/// Worker's sockets do: a caller holding `concurrency` connections open
/// must close one before it can make another request.
///
/// Everything inside is `Send + Sync`, so a wrapped network's futures are
/// `Send` exactly when the inner network's are.
pub struct Budgeted<N: Network> {
    inner: N,
    budget: Budget,
    used: AtomicUsize,
    refused: AtomicUsize,
    slots: Arc<Semaphore>,
    sockets: Arc<Semaphore>,
}

impl<N: Network> Budgeted<N> {
    pub fn new(inner: N, budget: Budget) -> Self {
        Budgeted {
            inner,
            budget,
            used: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            // A concurrency of 0 would wait forever: treat it as 1.
            slots: Arc::new(Semaphore::new(budget.concurrency.max(1))),
            sockets: Arc::new(Semaphore::new(budget.connections.max(1))),
        }
    }

    pub fn inner(&self) -> &N {
        &self.inner
    }

    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// Subrequests made so far (refused ones are not counted).
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Subrequests refused because the budget was used up.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    /// Takes one subrequest from the budget, or says why not.
    fn take(&self) -> Result<(), NetError> {
        let limit = self.budget.subrequests;
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            })
            .map(|_| ())
            .map_err(|_| {
                self.refused.fetch_add(1, Ordering::Relaxed);
                NetError::Refused(format!("subrequest budget of {limit} used up"))
            })
    }
}

impl<N: Network> Network for Budgeted<N> {
    type Conn = BudgetedConn<N::Conn>;

    async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError> {
        let _slot = self.slots.acquire_arc().await;
        self.take()?;
        self.inner.http(req).await
    }

    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<Self::Conn, NetError> {
        let socket = self.sockets.acquire_arc().await;
        let slot = self.slots.acquire_arc().await;
        self.take()?;
        let inner = self.inner.tcp_connect(host, port, timeout_ms).await?;
        Ok(BudgetedConn {
            inner,
            _slot: slot,
            _socket: socket,
        })
    }

    /// One subrequest and one slot, like a DoH exchange (the TCP retry of
    /// a truncated answer is part of the same exchange).
    async fn dns_exchange(
        &self,
        server: &str,
        query: &[u8],
        timeout_ms: u32,
    ) -> Result<Vec<u8>, NetError> {
        let _slot = self.slots.acquire_arc().await;
        self.take()?;
        self.inner.dns_exchange(server, query, timeout_ms).await
    }
}

/// A connection made through [`Budgeted`]: holds its concurrency slot
/// until dropped.
pub struct BudgetedConn<C> {
    inner: C,
    _slot: SemaphoreGuardArc,
    _socket: SemaphoreGuardArc,
}

impl<C> BudgetedConn<C> {
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

impl<C: Conn> Conn for BudgetedConn<C> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        self.inner.read(buf).await
    }

    async fn write_all(&mut self, data: &[u8]) -> Result<(), NetError> {
        self.inner.write_all(data).await
    }

    async fn close(&mut self) {
        self.inner.close().await
    }

    fn elapsed_ms(&self) -> Option<u64> {
        self.inner.elapsed_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{RecordType, Resolver};
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;

    #[test]
    fn the_subrequest_budget_holds() {
        let mut zone = ScriptedNet::new();
        for i in 0..60 {
            zone = zone.a(&format!("h{i}.example.org"), "198.51.100.1");
        }
        let net = Budgeted::new(&zone, Budget::default());
        let r = &Resolver::new(&net, "https://doh.test/dns-query");
        let answers = block_on(futures::future::join_all((0..60).map(|i| async move {
            r.query(&format!("h{i}.example.org"), RecordType::A).await
        })));
        let refused: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
        assert_eq!(refused.len(), 10);
        assert!(refused.iter().all(|e| e.to_string()
            == "resolver unreachable: refused by policy: subrequest budget of 50 used up"));
        assert_eq!(zone.requests(), 50);
        assert_eq!(net.used(), 50);
        assert_eq!(net.refused(), 10);
        // GETs and connects count against the same budget.
        let get = block_on(net.http(HttpRequest::get("https://mta-sts.example.org/")));
        assert!(matches!(get, Err(NetError::Refused(_))));
        let conn = block_on(net.tcp_connect("mail.example.org", 25, 1000));
        assert!(matches!(conn, Err(NetError::Refused(_))));
        assert_eq!(zone.requests(), 50);
    }

    /// Plain DNS exchanges count against the same budget, and forward
    /// through the wrapper and a reference.
    #[test]
    fn plain_dns_exchanges_are_budgeted_too() {
        let mut zone = ScriptedNet::new();
        for i in 0..5 {
            zone = zone.a(&format!("h{i}.example.org"), "198.51.100.1");
        }
        let net = Budgeted::new(
            &zone,
            Budget {
                subrequests: 3,
                ..Budget::default()
            },
        );
        let r = &Resolver::new(&net, "dns://198.51.100.53:5353");
        let answers: Vec<_> = (0..5)
            .map(|i| block_on(r.query(&format!("h{i}.example.org"), RecordType::A)))
            .collect();
        assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 3);
        assert_eq!(net.used(), 3);
        assert_eq!(net.refused(), 2);
        assert_eq!(zone.plain_servers(), ["198.51.100.53:5353"; 3]);
    }

    #[test]
    fn at_most_six_exchanges_run_at_once() {
        let mut zone = ScriptedNet::new().slow(5);
        for i in 0..20 {
            zone = zone.a(&format!("h{i}.example.org"), "198.51.100.1");
        }
        let net = Budgeted::new(&zone, Budget::default());
        let r = &Resolver::new(&net, "https://doh.test/dns-query");
        let answers = block_on(futures::future::join_all((0..20).map(|i| async move {
            r.query(&format!("h{i}.example.org"), RecordType::A).await
        })));
        assert!(answers.iter().all(Result::is_ok));
        assert_eq!(zone.max_in_flight(), 6);
        // Without the wrapper all twenty overlap: the cap is the wrapper's.
        let r = &Resolver::new(&zone, "https://doh.test/dns-query");
        block_on(futures::future::join_all((20..40).map(|i| async move {
            r.query(&format!("h{i}.example.org"), RecordType::A).await
        })));
        assert_eq!(zone.max_in_flight(), 20);
    }

    /// Hosts with `Send` futures (the CLI's server) keep them `Send`
    /// through the wrapper and the resolver.
    #[test]
    fn futures_stay_send_through_the_wrapper() {
        use crate::testing::{assert_send, DownNet as SendNet};
        let net = Budgeted::new(SendNet, Budget::default());
        let r = Resolver::new(&net, "https://doh.test/dns-query");
        let answer = block_on(assert_send(r.query("example.org", RecordType::A)));
        assert_eq!(
            answer,
            Err(crate::dns::DnsError::Transport(NetError::Timeout(1)))
        );
        assert!(block_on(assert_send(net.tcp_connect("example.org", 25, 1))).is_err());
        // Tried twice (a timeout is transient), each counted.
        assert_eq!(net.used(), 3);
        // The DNS-core look-ups built on the resolver stay Send too.
        let m = block_on(assert_send(crate::dns::mx::lookup(&r, "example.org")));
        block_on(assert_send(crate::dns::ptr::lookup(&r, &m, 6)));
        block_on(assert_send(crate::dns::dnssec::lookup(
            &r,
            "example.org",
            &m,
        )));
        block_on(assert_send(crate::dns::dane::lookup(&r, &m)));
    }

    #[test]
    fn a_check_beyond_the_budget_is_unknown_with_the_reason() {
        use crate::dns::{mx, ptr};
        use crate::report::Status;
        let zone = ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25")
            .ptr("25.100.51.198.in-addr.arpa", "mail.example.org");
        let net = Budgeted::new(
            &zone,
            Budget {
                subrequests: 3,
                ..Budget::default()
            },
        );
        let r = Resolver::new(&net, "https://doh.test/dns-query");
        let m = block_on(mx::lookup(&r, "example.org"));
        let f = ptr::judge("example.org", &block_on(ptr::lookup(&r, &m, 6)));
        assert_eq!(f.status, Status::Unknown, "{}", f.detail);
        assert!(
            f.detail.contains("subrequest budget of 3 used up"),
            "{}",
            f.detail
        );
        // With the budget it needs, the same check passes.
        let net = Budgeted::new(&zone, Budget::default());
        let r = Resolver::new(&net, "https://doh.test/dns-query");
        let m = block_on(mx::lookup(&r, "example.org"));
        let f = ptr::judge("example.org", &block_on(ptr::lookup(&r, &m, 6)));
        assert_eq!(f.status, Status::Pass, "{}", f.detail);
        assert_eq!(net.used(), 4);
    }

    #[test]
    fn an_open_connection_holds_its_slot() {
        let zone = ScriptedNet::new().tcp_peer("mail.example.org", 25, b"220 hi\r\n");
        let net = Budgeted::new(
            &zone,
            Budget {
                subrequests: 10,
                concurrency: 1,
                connections: 1,
            },
        );
        let conn = block_on(net.tcp_connect("mail.example.org", 25, 1000)).unwrap();
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut get = Box::pin(net.http(HttpRequest::get("https://example.org/")));
        assert!(std::future::Future::poll(get.as_mut(), &mut cx).is_pending());
        drop(conn);
        assert_eq!(block_on(get).unwrap().status, 404);
        assert_eq!(net.used(), 2);
    }

    #[test]
    fn connections_are_capped_apart_from_exchanges() {
        let zone = ScriptedNet::new().tcp_peer("mail.example.org", 25, b"220 hi\r\n");
        let net = Budgeted::new(
            &zone,
            Budget {
                subrequests: 10,
                concurrency: 8,
                connections: 1,
            },
        );
        let conn = block_on(net.tcp_connect("mail.example.org", 25, 1000)).unwrap();
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        // An HTTP exchange still has a slot; a second connection waits.
        assert_eq!(
            block_on(net.http(HttpRequest::get("https://example.org/")))
                .unwrap()
                .status,
            404
        );
        let mut second = Box::pin(net.tcp_connect("mail.example.org", 25, 1000));
        assert!(std::future::Future::poll(second.as_mut(), &mut cx).is_pending());
        drop(conn);
        assert!(block_on(second).is_ok());
    }
}
