//! The critical path of an audit: its longest chain of dependent network
//! exchanges, counted in round trips, without a clock.
//!
//! The engine cannot see causality from inside one exchange (the
//! [`Resolver`](crate::dns::Resolver) does not know which answer made a
//! caller ask the next question), and timestamps would only say what
//! overlapped, not what waited for what. So this is measured by *replay*:
//!
//! 1. The host runs the audit for real through [`Recording`], which keeps
//!    every HTTP exchange's and plain DNS exchange's request and outcome.
//! 2. [`replay`] runs the same audit again on its own single-threaded
//!    executor against a network that answers from the recording. Every
//!    exchange stays pending until the simulator completes it, and it
//!    completes them **one at a time**, shallowest first, polling the audit
//!    until it can make no more progress after each. An exchange that the
//!    audit starts in that window could not start before that completion:
//!    the completed exchange is its *cause* and its depth is the cause's
//!    depth + 1 (exchanges started before any completion have depth 1).
//!    Completing in depth order makes the cause the deepest of the
//!    exchange's prerequisites, so the depth is the exchange's true
//!    dependency depth and following causes gives a real chain.
//!
//! The critical path is the deepest exchange's depth: the least number of
//! sequential round trips any scheduler needs, i.e. the wall time of an
//! ideal audit with unlimited concurrency is `depth × RTT` (plus local
//! work). It describes the engine's dependency structure, not the host's
//! concurrency limits; comparing it with measured wall time shows what the
//! host adds.
//!
//! What the bound does not count: setting up connections. Every exchange
//! is one round trip, as it is over a connection that is already open
//! (the self-hosted server's and the Worker's connection to the resolver).
//! A cold process must first open its connection to the DoH resolver (a
//! TCP handshake and a TLS 1.3 handshake: two more round trips on a real
//! network before the first question can leave; 1.5 through the benchmark's
//! delaying proxy, see BENCHMARKS.md), and an HTTPS fetch of an MTA-STS
//! policy from a new host costs its own name look-up and handshakes. Those
//! round trips are unavoidable but they are the transport's, not the
//! audit's dependency structure, so they are left out here and the
//! benchmark states a second, "cold-client" bound with the connection
//! set-up added instead of hiding it in this one.
//!
//! With a plain DNS resolver (`dns://`) there is no connection to set up
//! before the first question: a UDP exchange is the one round trip this
//! bound counts (an answer truncated over UDP and asked again over TCP
//! costs more, and shows as a wall time above the bound).
//!
//! Limits: only HTTP exchanges (DoH and HTTPS fetches) and plain DNS
//! exchanges are modelled. A TCP
//! connection (live SMTP probes) is refused in the replay, so measure with
//! probes off. A request that is not in the recording fails in the replay
//! and is counted ([`CriticalPath::unrecorded`]), and the replay's report
//! is compared with the real one ([`CriticalPath::report_matches`] is set
//! by the caller), so a diverging replay shows.

use crate::net::{Conn, HttpRequest, HttpResponse, Method, NetError, Network};
use hickory_proto::op::Message;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// How an exchange went: an HTTP GET or POST, or plain DNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Via {
    Get,
    Post,
    Dns,
}

impl Via {
    fn name(self) -> &'static str {
        match self {
            Via::Get => "GET",
            Via::Post => "POST",
            Via::Dns => "DNS",
        }
    }
}

/// An exchange as the recording keys it: how, where (a URL, or
/// `dns://IP:PORT`) and what was sent.
type RequestKey = (Via, String, Vec<u8>);
/// A plain DNS reply is kept as a response with status 200 and the reply
/// as its body (never shown: [`Network::dns_exchange`] returns the body).
type Outcome = Result<HttpResponse, NetError>;

fn key(req: &HttpRequest) -> RequestKey {
    let via = if req.method == Method::Post {
        Via::Post
    } else {
        Via::Get
    };
    (via, req.url.clone(), req.body.clone())
}

fn dns_key(server: &str, query: &[u8]) -> RequestKey {
    (Via::Dns, format!("dns://{server}"), query.to_vec())
}

fn dns_outcome(reply: &Result<Vec<u8>, NetError>) -> Outcome {
    reply.clone().map(|body| HttpResponse {
        status: 200,
        headers: Vec::new(),
        body,
    })
}

/// A short name for an exchange: `MX example.test` for a DNS question
/// (DoH or plain), `GET <url>` otherwise.
pub fn label(req: &HttpRequest) -> String {
    let is_dns = req
        .headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v == "application/dns-message");
    key_label(&key(req), is_dns)
}

fn key_label((via, url, body): &RequestKey, is_dns: bool) -> String {
    if is_dns || *via == Via::Dns {
        if let Ok(msg) = Message::from_vec(body) {
            if let Some(q) = msg.queries.first() {
                let name = crate::dns::lower_name(q.name());
                let cd = if msg.metadata.checking_disabled {
                    " (CD)"
                } else {
                    ""
                };
                return format!("{} {name}{cd}", q.query_type());
            }
        }
    }
    format!("{} {url}", via.name())
}

/// A network that passes everything to `inner` and keeps each HTTP and
/// plain DNS exchange's request and outcome, in completion order.
pub struct Recording<N> {
    inner: N,
    log: Mutex<Vec<(RequestKey, Outcome)>>,
    tcp: Mutex<usize>,
}

impl<N: Network> Recording<N> {
    pub fn new(inner: N) -> Self {
        Recording {
            inner,
            log: Mutex::new(Vec::new()),
            tcp: Mutex::new(0),
        }
    }

    /// HTTP and plain DNS exchanges recorded so far.
    pub fn exchanges(&self) -> usize {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// TCP connections attempted (not replayable).
    pub fn tcp_connects(&self) -> usize {
        *self.tcp.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<N: Network> Network for Recording<N> {
    type Conn = N::Conn;

    async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError> {
        let k = key(&req);
        let out = self.inner.http(req).await;
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((k, out.clone()));
        out
    }

    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<Self::Conn, NetError> {
        *self.tcp.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.inner.tcp_connect(host, port, timeout_ms).await
    }

    async fn dns_exchange(
        &self,
        server: &str,
        query: &[u8],
        timeout_ms: u32,
    ) -> Result<Vec<u8>, NetError> {
        let k = dns_key(server, query);
        let out = self.inner.dns_exchange(server, query, timeout_ms).await;
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((k, dns_outcome(&out)));
        out
    }
}

/// The recording as JSON, to replay later without the network (the
/// `audit_cpu` bench's fixtures, written by `mailaudit audit --record`):
/// `[{method, url, body, outcome}]` in completion order, bodies in base64,
/// an outcome either `{status, headers, body}` or `{error, text, value}`.
/// A plain DNS exchange has method `DNS`, url `dns://IP:PORT`, the query
/// as its body and an outcome `{body}` (the reply) or the error.
impl<N> Recording<N> {
    pub fn to_json(&self) -> serde_json::Value {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        serde_json::Value::Array(log.iter().map(|(k, out)| exchange_json(k, out)).collect())
    }
}

fn exchange_json((via, url, body): &RequestKey, out: &Outcome) -> serde_json::Value {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let outcome = match out {
        Ok(r) if *via == Via::Dns => serde_json::json!({"body": b64(&r.body)}),
        Ok(r) => {
            serde_json::json!({"status": r.status, "headers": r.headers, "body": b64(&r.body)})
        }
        Err(e) => {
            let (kind, text, value) = match e {
                NetError::Timeout(ms) => ("timeout", String::new(), *ms as u64),
                NetError::Connect(t) => ("connect", t.clone(), 0),
                NetError::Tls(t) => ("tls", t.clone(), 0),
                NetError::TooLarge(n) => ("too_large", String::new(), *n as u64),
                NetError::Refused(t) => ("refused", t.clone(), 0),
                NetError::Other(t) => ("other", t.clone(), 0),
            };
            serde_json::json!({"error": kind, "text": text, "value": value})
        }
    };
    serde_json::json!({
        "method": via.name(),
        "url": url,
        "body": b64(body),
        "outcome": outcome,
    })
}

fn exchange_from_json(v: &serde_json::Value) -> Result<(RequestKey, Outcome), String> {
    use base64::Engine;
    let text = |v: &serde_json::Value, k: &str| -> Result<String, String> {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("exchange without {k:?}"))
    };
    let bytes = |v: &serde_json::Value, k: &str| -> Result<Vec<u8>, String> {
        base64::engine::general_purpose::STANDARD
            .decode(text(v, k)?)
            .map_err(|e| format!("{k}: {e}"))
    };
    let via = match text(v, "method")?.as_str() {
        "POST" => Via::Post,
        "DNS" => Via::Dns,
        _ => Via::Get,
    };
    let key = (via, text(v, "url")?, bytes(v, "body")?);
    let o = v.get("outcome").ok_or("exchange without \"outcome\"")?;
    let out = if let Some(kind) = o.get("error").and_then(|k| k.as_str()) {
        let t = text(o, "text").unwrap_or_default();
        let n = o.get("value").and_then(|n| n.as_u64()).unwrap_or(0);
        Err(match kind {
            "timeout" => NetError::Timeout(u32::try_from(n).unwrap_or(u32::MAX)),
            "connect" => NetError::Connect(t),
            "tls" => NetError::Tls(t),
            "too_large" => NetError::TooLarge(usize::try_from(n).unwrap_or(usize::MAX)),
            "refused" => NetError::Refused(t),
            _ => NetError::Other(t),
        })
    } else if via == Via::Dns {
        Ok(HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: bytes(o, "body")?,
        })
    } else {
        let status = o
            .get("status")
            .and_then(|s| s.as_u64())
            .and_then(|s| u16::try_from(s).ok())
            .ok_or("outcome without status")?;
        let headers = o
            .get("headers")
            .and_then(|h| h.as_array())
            .map(|h| {
                h.iter()
                    .filter_map(|p| {
                        Some((
                            p.get(0)?.as_str()?.to_string(),
                            p.get(1)?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(HttpResponse {
            status,
            headers,
            body: bytes(o, "body")?,
        })
    };
    Ok((key, out))
}

/// A network answering at once from a recording (see
/// [`Recording::to_json`]): no simulator, no waiting, so an audit run on it
/// spends its time in the engine only (the `audit_cpu` bench). Identical
/// requests get the recorded outcomes in order, the last one repeated;
/// [`Answers::rewind`] starts over for the next run.
pub struct Answers {
    answers: HashMap<RequestKey, (Vec<Outcome>, usize)>,
    cursor: Mutex<HashMap<RequestKey, usize>>,
    unrecorded: AtomicUsize,
}

impl Answers {
    pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        let mut answers: HashMap<RequestKey, (Vec<Outcome>, usize)> = HashMap::new();
        for x in v.as_array().ok_or("a recording is a JSON array")? {
            let (k, out) = exchange_from_json(x)?;
            answers.entry(k).or_default().0.push(out);
        }
        Ok(Answers {
            answers,
            cursor: Mutex::new(HashMap::new()),
            unrecorded: AtomicUsize::new(0),
        })
    }

    /// Recorded exchanges (distinct requests).
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// Requests asked for since the last rewind that were not recorded.
    pub fn unrecorded(&self) -> usize {
        self.unrecorded.load(Ordering::Relaxed)
    }

    /// Serve the recorded outcomes from the first again.
    pub fn rewind(&self) {
        self.cursor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.unrecorded.store(0, Ordering::Relaxed);
    }
}

impl Answers {
    fn answer(&self, k: RequestKey) -> Outcome {
        let Some((outs, _)) = self.answers.get(&k) else {
            self.unrecorded.fetch_add(1, Ordering::Relaxed);
            return Err(NetError::Other("not in the recording".into()));
        };
        let mut cursor = self.cursor.lock().unwrap_or_else(|e| e.into_inner());
        let i = cursor.entry(k).or_insert(0);
        let out = outs.get(*i).or(outs.last()).cloned();
        *i += 1;
        out.unwrap_or_else(|| Err(NetError::Other("not in the recording".into())))
    }
}

impl Network for Answers {
    type Conn = NoConn;

    async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError> {
        self.answer(key(&req))
    }

    async fn tcp_connect(&self, _h: &str, _p: u16, _t: u32) -> Result<NoConn, NetError> {
        Err(NetError::Refused("TCP is not replayed".into()))
    }

    async fn dns_exchange(&self, server: &str, query: &[u8], _t: u32) -> Result<Vec<u8>, NetError> {
        self.answer(dns_key(server, query)).map(|r| r.body)
    }
}

/// One exchange of the replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub label: String,
    /// 1 for exchanges started before any answer arrived.
    pub depth: usize,
    /// The exchange whose completion let this one start (index into
    /// [`CriticalPath::steps`]).
    pub cause: Option<usize>,
}

/// What [`replay`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalPath {
    /// Every exchange of the replay, in the order they started.
    pub steps: Vec<Step>,
    /// Requests the recording had no answer for (0 for a faithful replay).
    pub unrecorded: usize,
    /// The replay stalled with nothing left to complete (should not happen).
    pub stalled: bool,
}

impl CriticalPath {
    /// Sequential round trips on the longest dependent chain.
    pub fn depth(&self) -> usize {
        self.steps.iter().map(|s| s.depth).max().unwrap_or(0)
    }

    /// The longest chain, first exchange first.
    pub fn chain(&self) -> Vec<&Step> {
        let Some(mut i) =
            (0..self.steps.len()).max_by_key(|&i| (self.steps[i].depth, usize::MAX - i))
        else {
            return Vec::new();
        };
        let mut chain = vec![&self.steps[i]];
        while let Some(c) = self.steps[i].cause {
            chain.push(&self.steps[c]);
            i = c;
        }
        chain.reverse();
        chain
    }

    /// Exchanges per depth, depth 1 first.
    pub fn width(&self) -> Vec<usize> {
        let mut w = vec![0; self.depth()];
        for s in &self.steps {
            w[s.depth - 1] += 1;
        }
        w
    }
}

#[derive(Default)]
struct SimState {
    steps: Vec<Step>,
    done: Vec<bool>,
    wakers: Vec<Option<Waker>>,
    /// The exchange just completed, whose consequences are being polled.
    current: Option<usize>,
    unrecorded: usize,
}

/// The replay network: answers from a recording, when the simulator says.
pub struct ReplayNet {
    answers: Mutex<HashMap<RequestKey, VecDeque<Outcome>>>,
    state: Mutex<SimState>,
}

/// A connection that is never made.
pub struct NoConn;

impl Conn for NoConn {
    async fn read(&mut self, _buf: &mut [u8]) -> Result<usize, NetError> {
        Ok(0)
    }
    async fn write_all(&mut self, _data: &[u8]) -> Result<(), NetError> {
        Err(NetError::Refused("replay".into()))
    }
    async fn close(&mut self) {}
}

struct Pending<'a> {
    net: &'a ReplayNet,
    id: usize,
}

impl Future for Pending<'_> {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.net.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.done[self.id] {
            Poll::Ready(())
        } else {
            st.wakers[self.id] = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl ReplayNet {
    /// One exchange: started now, completed when the simulator says.
    async fn exchange(&self, k: RequestKey, label: String) -> Outcome {
        let id = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let cause = st.current;
            let depth = cause.map_or(1, |c| st.steps[c].depth + 1);
            st.steps.push(Step {
                label,
                depth,
                cause,
            });
            st.done.push(false);
            st.wakers.push(None);
            st.steps.len() - 1
        };
        Pending { net: self, id }.await;
        let answer = {
            let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
            match answers.get_mut(&k) {
                // The last outcome is kept for any further identical request.
                Some(q) if q.len() > 1 => q.pop_front(),
                Some(q) => q.front().cloned(),
                None => None,
            }
        };
        answer.unwrap_or_else(|| {
            self.state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .unrecorded += 1;
            Err(NetError::Other("not in the recording".into()))
        })
    }
}

impl Network for ReplayNet {
    type Conn = NoConn;

    async fn http(&self, req: HttpRequest) -> Result<HttpResponse, NetError> {
        self.exchange(key(&req), label(&req)).await
    }

    async fn tcp_connect(&self, _h: &str, _p: u16, _t: u32) -> Result<NoConn, NetError> {
        Err(NetError::Refused("TCP is not replayed".into()))
    }

    async fn dns_exchange(&self, server: &str, query: &[u8], _t: u32) -> Result<Vec<u8>, NetError> {
        let k = dns_key(server, query);
        let label = key_label(&k, true);
        self.exchange(k, label).await.map(|r| r.body)
    }
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A replay of a [`Recording`]: hand [`Replay::net`] to the same audit and
/// drive it with [`Replay::run`].
pub struct Replay {
    net: ReplayNet,
}

impl Replay {
    pub fn from_recording<N>(recording: &Recording<N>) -> Self {
        let mut answers: HashMap<RequestKey, VecDeque<Outcome>> = HashMap::new();
        for (k, out) in recording
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            answers.entry(k.clone()).or_default().push_back(out.clone());
        }
        Replay {
            net: ReplayNet {
                answers: Mutex::new(answers),
                state: Mutex::new(SimState::default()),
            },
        }
    }

    /// The network the replayed audit must use.
    pub fn net(&self) -> &ReplayNet {
        &self.net
    }

    /// Drives `fut` (an audit on [`Replay::net`]) to completion on this
    /// thread, completing exchanges one at a time, shallowest first. `None`
    /// if it stalled: waiting for something that is not an exchange.
    pub fn run<F: Future>(&self, fut: F) -> (Option<F::Output>, CriticalPath) {
        let flag = Arc::new(Flag(AtomicBool::new(true)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        let out = loop {
            // Poll until the audit can make no more progress on its own.
            let mut ready = None;
            while flag.0.swap(false, Ordering::SeqCst) {
                if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                    ready = Some(out);
                    break;
                }
            }
            if ready.is_some() {
                break ready;
            }
            // Complete the shallowest outstanding exchange (the oldest
            // among equals); its consequences are polled next.
            let mut st = self.net.state.lock().unwrap_or_else(|e| e.into_inner());
            let next = (0..st.steps.len())
                .filter(|&i| !st.done[i])
                .min_by_key(|&i| (st.steps[i].depth, i));
            let Some(i) = next else { break None };
            st.done[i] = true;
            st.current = Some(i);
            let w = st.wakers[i].take();
            drop(st);
            match w {
                Some(w) => w.wake(),
                // Never polled after it started: poll the audit anyway.
                None => flag.0.store(true, Ordering::SeqCst),
            }
        };
        let st = self.net.state.lock().unwrap_or_else(|e| e.into_inner());
        let path = CriticalPath {
            steps: st.steps.clone(),
            unrecorded: st.unrecorded,
            stalled: out.is_none(),
        };
        (out, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{RecordType, Resolver};
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;

    /// MX, then A of the exchange, then PTR of the address: 3 deep; the
    /// DMARC question beside them is depth 1.
    async fn chain<N: Network>(net: &N) -> usize {
        chain_via(net, "https://dns.example/dns-query").await
    }

    async fn chain_via<N: Network>(net: &N, resolver: &str) -> usize {
        let r = Resolver::new(net, resolver);
        let dependent = async {
            let mx = r.query("example.org", RecordType::MX).await.unwrap();
            let host = match mx.of_type().next() {
                Some(crate::dns::RrData::Mx { exchange, .. }) => exchange.clone(),
                _ => panic!("no MX"),
            };
            let a = r.query(&host, RecordType::A).await.unwrap();
            let ip = a.of_type().next().unwrap().to_string();
            let rev: Vec<&str> = ip.split('.').rev().collect();
            let ptr = format!("{}.in-addr.arpa", rev.join("."));
            // Asked twice concurrently: one exchange (the resolver's memo).
            let (p1, p2) = futures::join!(
                r.query(&ptr, RecordType::PTR),
                r.query(&ptr, RecordType::PTR)
            );
            assert_eq!(p1, p2);
        };
        let independent = r.query("_dmarc.example.org", RecordType::TXT);
        let (_, d) = futures::join!(dependent, independent);
        assert!(d.is_ok());
        r.exchanges()
    }

    fn zone() -> ScriptedNet {
        ScriptedNet::new()
            .mx("example.org", 10, "mail.example.org")
            .a("mail.example.org", "198.51.100.25")
            .ptr("25.100.51.198.in-addr.arpa", "mail.example.org")
            .txt("_dmarc.example.org", "v=DMARC1; p=reject")
            .slow(3)
    }

    #[test]
    fn counts_dependent_exchanges_not_concurrent_ones() {
        let rec = Recording::new(zone());
        let real = block_on(chain(&rec));
        assert_eq!(real, 4);
        assert_eq!(rec.exchanges(), 4);
        let replay = Replay::from_recording(&rec);
        let (out, path) = replay.run(chain(replay.net()));
        assert_eq!(out, Some(4));
        assert_eq!(path.unrecorded, 0);
        assert!(!path.stalled);
        assert_eq!(path.depth(), 3);
        assert_eq!(path.width(), vec![2, 1, 1]);
        let labels: Vec<&str> = path.chain().iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "MX example.org",
                "A mail.example.org",
                "PTR 25.100.51.198.in-addr.arpa"
            ]
        );
    }

    #[test]
    fn a_recording_survives_json_and_answers_at_once() {
        let rec = Recording::new(zone().error(
            "broken.example.org",
            RecordType::TXT,
            NetError::Timeout(1500),
        ));
        let real = block_on(chain(&rec));
        let r = Resolver::new(&rec, "https://dns.example/dns-query");
        let broken = block_on(r.query("broken.example.org", RecordType::TXT));
        let json = serde_json::to_string(&rec.to_json()).unwrap();
        let answers = Answers::from_json(&serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(answers.len(), 5);
        for _ in 0..2 {
            answers.rewind();
            assert_eq!(block_on(chain(&answers)), real);
            let r = Resolver::new(&answers, "https://dns.example/dns-query");
            assert_eq!(
                block_on(r.query("broken.example.org", RecordType::TXT)),
                broken
            );
            assert_eq!(answers.unrecorded(), 0);
        }
        let r = Resolver::new(&answers, "https://dns.example/dns-query");
        assert!(block_on(r.query("other.example.org", RecordType::TXT)).is_err());
        assert!(answers.unrecorded() > 0);
        assert!(Answers::from_json(&serde_json::json!({"not": "an array"})).is_err());
    }

    /// Over plain DNS the same audit has the same dependencies: recorded,
    /// replayed (critical path) and answered from JSON alike.
    #[test]
    fn plain_dns_exchanges_are_recorded_and_replayed() {
        const PLAIN: &str = "dns://198.51.100.53";
        let rec = Recording::new(zone());
        let real = block_on(chain_via(&rec, PLAIN));
        assert_eq!((real, rec.exchanges()), (4, 4));
        let replay = Replay::from_recording(&rec);
        let (out, path) = replay.run(chain_via(replay.net(), PLAIN));
        assert_eq!(out, Some(4));
        assert_eq!((path.unrecorded, path.depth()), (0, 3));
        let labels: Vec<&str> = path.chain().iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "MX example.org",
                "A mail.example.org",
                "PTR 25.100.51.198.in-addr.arpa"
            ]
        );
        let json = rec.to_json();
        let first = &json[0];
        assert_eq!(first["method"], "DNS");
        assert_eq!(first["url"], "dns://198.51.100.53:53");
        assert!(first["outcome"]["body"].is_string() && first["outcome"]["status"].is_null());
        let text = serde_json::to_string(&json).unwrap();
        let answers = Answers::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(block_on(chain_via(&answers, PLAIN)), real);
        assert_eq!(answers.unrecorded(), 0);
        // The DoH questions of the same audit are other exchanges.
        answers.rewind();
        let r = Resolver::new(&answers, "https://dns.example/dns-query");
        assert!(block_on(r.query("example.org", RecordType::MX)).is_err());
        assert!(answers.unrecorded() > 0);
    }

    #[test]
    fn an_unrecorded_request_is_counted() {
        let rec = Recording::new(zone());
        let replay = Replay::from_recording(&rec);
        let r = Resolver::new(replay.net(), "https://dns.example/dns-query");
        let (out, path) = replay.run(r.query("example.org", RecordType::MX));
        assert!(out.unwrap().is_err());
        // The resolver tries a failed exchange once more: 2, one after the other.
        assert_eq!(path.unrecorded, 2);
        assert_eq!(path.depth(), 2);
    }
}
