//! `mailaudit probe-agent`: runs the live SMTP/TLS checks of one MX host
//! for a Worker, which cannot open port 25 itself. The protocol (signed
//! requests and answers, replay window) is mailaudit_core::probe::agent;
//! docs/api.md describes it.
//!
//! The agent is as careful as `mailaudit serve --probe`: it connects only
//! to public unicast addresses (plus `--allow-net` blocks), through a
//! budgeted network (at most 3 connections to the target at once, 50
//! connects per request), runs one probe per target address at a time and
//! reuses a result for `--cache-secs`, and runs at most `--max-probes`
//! probes at once (more are answered 429). The probe never sends DATA.

use crate::net::NativeNet;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use mailaudit_core::addr::AddressPolicy;
use mailaudit_core::net::{Budget, Budgeted};
use mailaudit_core::probe::agent::{self, ProbeRequest, SignatureHeaders, Verifier};
use mailaudit_core::probe::plan::LiveOptions;
use mailaudit_core::probe::ProbeOptions;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct AgentOptions {
    pub listen: String,
    pub secret: String,
    pub policy: AddressPolicy,
    pub extra_ca: Option<Vec<u8>>,
    pub extra_roots: Vec<Vec<u8>>,
    pub max_probes: usize,
    pub cache_secs: u64,
}

struct AgentState {
    net: NativeNet,
    policy: AddressPolicy,
    verifier: Mutex<Verifier>,
    extra_roots: Vec<Vec<u8>>,
    probes: Arc<tokio::sync::Semaphore>,
    /// One probe per target address at a time.
    targets: Mutex<HashMap<IpAddr, Arc<tokio::sync::Mutex<()>>>>,
    /// Answers by request body (host, address, PTR, MTA-STS mode).
    cache: Mutex<HashMap<String, (Instant, Vec<u8>)>>,
    cache_for: Duration,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"error": {"code": code, "message": message}}))
        .unwrap_or_default()
}

fn respond(status: StatusCode, body: Vec<u8>, signature: Option<String>) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert("content-type", "application/json".parse().expect("static"));
    h.insert("cache-control", "no-store".parse().expect("static"));
    if let Some(sig) = signature.and_then(|s| s.parse().ok()) {
        h.insert(agent::HDR_SIGNATURE, sig);
    }
    r
}

impl AgentState {
    /// An answer signed for the request with `nonce`.
    fn signed(&self, status: StatusCode, nonce: &str, body: Vec<u8>) -> Response {
        let sig = self
            .verifier
            .lock()
            .map(|v| v.sign_response(status.as_u16(), nonce, &body))
            .ok();
        respond(status, body, sig)
    }

    fn cached(&self, key: &str) -> Option<Vec<u8>> {
        let mut cache = self.cache.lock().ok()?;
        cache.retain(|_, (at, _)| at.elapsed() < self.cache_for);
        cache.get(key).map(|(_, b)| b.clone())
    }

    fn target_lock(&self, ip: IpAddr) -> Arc<tokio::sync::Mutex<()>> {
        let mut t = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        // Forget addresses nobody is probing.
        t.retain(|_, m| Arc::strong_count(m) > 1);
        t.entry(ip).or_default().clone()
    }
}

async fn probe(
    State(st): State<Arc<AgentState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let h = SignatureHeaders {
        timestamp: header(agent::HDR_TIMESTAMP),
        nonce: header(agent::HDR_NONCE),
        signature: header(agent::HDR_SIGNATURE),
    };
    let verified = match st.verifier.lock() {
        Ok(mut v) => v
            .verify("POST", uri.path(), h, &body, unix_now())
            .map(str::to_string),
        Err(_) => return respond(StatusCode::INTERNAL_SERVER_ERROR, Vec::new(), None),
    };
    let nonce = match verified {
        Ok(n) => n,
        Err(e) => {
            eprintln!("mailaudit probe-agent: refused an unsigned or bad request: {e}");
            // Not signed: the caller has not shown it knows the secret.
            return respond(
                StatusCode::UNAUTHORIZED,
                error_body("unauthorized", &e.to_string()),
                None,
            );
        }
    };
    let req = match ProbeRequest::parse(&body) {
        Ok(r) => r,
        Err(m) => {
            return st.signed(
                StatusCode::BAD_REQUEST,
                &nonce,
                error_body("bad_request", &m),
            )
        }
    };
    if let Err(why) = st.policy.check(req.ip) {
        eprintln!(
            "mailaudit probe-agent: refused {} ({}): {why}",
            req.host, req.ip
        );
        return st.signed(
            StatusCode::FORBIDDEN,
            &nonce,
            error_body("refused", &format!("this agent does not probe {why}")),
        );
    }
    let key = String::from_utf8_lossy(&serde_json::to_vec(&req).unwrap_or_default()).into_owned();
    if let Some(b) = st.cached(&key) {
        return st.signed(StatusCode::OK, &nonce, b);
    }
    let Ok(_permit) = st.probes.clone().try_acquire_owned() else {
        return st.signed(
            StatusCode::TOO_MANY_REQUESTS,
            &nonce,
            error_body("busy", "the agent is running as many probes as it may"),
        );
    };
    let lock = st.target_lock(req.ip);
    let _one = lock.lock().await;
    // Another request may have probed the same target while we waited.
    if let Some(b) = st.cached(&key) {
        return st.signed(StatusCode::OK, &nonce, b);
    }
    let started = Instant::now();
    let live = LiveOptions {
        probe: ProbeOptions::with_random(crate::random_local_part()),
        extra_roots: st.extra_roots.clone(),
        port_scan: true,
        agent: None,
        // Never the full smuggling test: it needs the owner's consent.
        smuggling: None,
    };
    let now = unix_now();
    let net = st.net.clone();
    let r = req.clone();
    // The engine's futures need not be Send: run on a blocking thread, as
    // `serve` does.
    let handle = tokio::runtime::Handle::current();
    let answer = tokio::task::spawn_blocking(move || {
        handle.block_on(async {
            let budgeted = Budgeted::new(
                &net,
                Budget {
                    subrequests: 50,
                    concurrency: 6,
                    connections: 3,
                },
            );
            agent::serve_probe(&budgeted, &r, now, &live).await
        })
    })
    .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            return st.signed(
                StatusCode::INTERNAL_SERVER_ERROR,
                &nonce,
                error_body("internal", &format!("the probe failed: {e}")),
            )
        }
    };
    eprintln!(
        "mailaudit probe-agent: probed {} ({}) in {} ms",
        req.host,
        req.ip,
        started.elapsed().as_millis()
    );
    let body = serde_json::to_vec(&answer).unwrap_or_default();
    if let Ok(mut c) = st.cache.lock() {
        c.insert(key, (Instant::now(), body.clone()));
    }
    st.signed(StatusCode::OK, &nonce, body)
}

pub async fn run(opts: AgentOptions) -> Result<(), String> {
    let verifier = Verifier::new(&opts.secret)?;
    // No DoH resolver: the agent connects by address only (refuse_tcp
    // refuses names), so the resolver URL below is never asked.
    let net = NativeNet::guarded(
        opts.extra_ca.as_deref(),
        opts.policy.clone(),
        "https://resolver.invalid/dns-query",
    )?;
    let state = Arc::new(AgentState {
        net,
        policy: opts.policy,
        verifier: Mutex::new(verifier),
        extra_roots: opts.extra_roots,
        probes: Arc::new(tokio::sync::Semaphore::new(opts.max_probes.max(1))),
        targets: Mutex::new(HashMap::new()),
        cache: Mutex::new(HashMap::new()),
        cache_for: Duration::from_secs(opts.cache_secs),
    });
    let app = Router::new()
        .route(agent::PATH, post(probe))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(agent::MAX_REQUEST_BODY))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!(
        "mailaudit: probe agent on http://{addr}{} (signed requests only)",
        agent::PATH
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
