//! `mailaudit serve`: the built site plus the same API as the Worker
//! (`POST /api/v1/audit` as JSON or an NDJSON stream, the cached read
//! `GET /api/v1/audit/{domain}`, `GET /api/v1/rules`, `GET /healthz`),
//! natively, with the same limits: an overall deadline per audit, rate
//! limits per client address and per target domain
//! ([`mailaudit_core::limits`], kept in memory here), a report cache, and
//! one JSON log line per audit request on stderr.

use crate::net::NativeNet;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path as UrlPath, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::channel::mpsc;
use futures::StreamExt;
use mailaudit_core::audit::{audit_domain_streaming, AuditError, AuditOptions};
use mailaudit_core::limits::{self, Decision, Limiter, Window};
use mailaudit_core::{render, web, Report};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tower_http::services::{ServeDir, ServeFile};

struct AppState {
    net: NativeNet,
    resolver: String,
    live: Live,
    limits: Limits,
    per_client: Mutex<Limiter>,
    per_target: Mutex<Limiter>,
    cache: Mutex<HashMap<String, Cached>>,
    /// Salts the client key hashes (new for every process).
    salt: String,
}

/// A report in the cache: its JSON, and when it was stored.
struct Cached {
    json: Arc<String>,
    stored: Instant,
}

/// Most reports and rate-limit keys kept in memory.
const MAX_ENTRIES: usize = 10_000;

/// The limits of this public service.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Overall deadline of one audit.
    pub deadline_secs: u32,
    /// Audits per target domain (`limit` 0: no limit).
    pub per_target: Window,
    /// Audits per client address (`limit` 0: no limit).
    pub per_client: Window,
    /// How long a report is served from the cache (0: no cache).
    pub cache_ttl_secs: u32,
    /// Take the client address from this request header (the proxy in
    /// front sets it) instead of the connection's peer.
    pub client_ip_header: Option<String>,
}

/// Whether visitors' audits probe the mail servers, and how.
#[derive(Clone)]
pub struct Live {
    pub probe: bool,
    /// Extra trust anchors (DER) for the certificate checks.
    pub extra_roots: Vec<Vec<u8>>,
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

fn audit_options(st: &AppState, selectors: Vec<String>) -> AuditOptions {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let mut opts = AuditOptions::new(
        st.resolver.clone(),
        now.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    opts.selectors = selectors;
    opts.probe = st.live.probe;
    opts.no_probe_reason = "Not run: this server runs DNS checks only (its operator can allow \
        live probes with `mailaudit serve --probe`); `mailaudit audit` runs them from your own \
        machine."
        .into();
    opts.live.extra_roots = st.live.extra_roots.clone();
    // As the CLI: DoH queries share one HTTP/2 connection, so many may be
    // in flight; connections to mail servers stay at 6.
    opts.budget.concurrency = crate::NATIVE_CONCURRENCY;
    opts.budget.connections = 6;
    opts.deadline_secs = Some(st.limits.deadline_secs);
    opts
}

/// Runs an audit on a blocking thread of this runtime (the engine's
/// futures need not be Send; the Worker's are not), calling `on_finding`
/// there as findings are made.
async fn run_audit(
    st: Arc<AppState>,
    domain: String,
    opts: AuditOptions,
    on_finding: impl FnMut(&mailaudit_core::Finding) + Send + 'static,
) -> Result<Result<mailaudit_core::Report, AuditError>, String> {
    let handle = tokio::runtime::Handle::current();
    let secs = st.limits.deadline_secs;
    tokio::task::spawn_blocking(move || {
        // block_on enters the runtime: the timer works on this thread.
        let deadline = tokio::time::sleep(Duration::from_secs(secs.into()));
        handle.block_on(audit_domain_streaming(
            &st.net, &domain, &opts, deadline, on_finding,
        ))
    })
    .await
    .map_err(|e| format!("the audit failed: {e}"))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The client's rate-limit key: a salted hash of its address.
fn client_key(st: &AppState, peer: SocketAddr, headers: &HeaderMap) -> String {
    let forwarded = st.limits.client_ip_header.as_deref().and_then(|h| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    });
    let addr = forwarded.unwrap_or_else(|| peer.ip().to_string());
    limits::client_key(&addr, &st.salt)
}

/// One audit asks to go ahead: the client's limit first, then the
/// target's. `Some` 429 response when either is used up (a request refused
/// by the target's limit still counts against the client), `None` to go on.
fn admit(st: &AppState, client: &str, domain: &str, log: &mut web::AuditLog) -> Option<Response> {
    let now = now_ms();
    let checks: [(&Mutex<Limiter>, String, &str, &'static str); 2] = [
        (
            &st.per_client,
            client.to_string(),
            "from your address",
            "rate_limited_client",
        ),
        (
            &st.per_target,
            limits::target_key(domain),
            "of this domain",
            "rate_limited_target",
        ),
    ];
    for (limiter, key, which, outcome) in checks {
        let mut l = limiter.lock().unwrap_or_else(|e| e.into_inner());
        let w = l.window();
        if w.limit == 0 {
            continue;
        }
        if let Decision::Limited { retry_after_secs } = l.hit(&key, now) {
            log.outcome = outcome;
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                web::rate_limited_message(which, w, retry_after_secs),
            );
            if let Ok(v) = HeaderValue::try_from(retry_after_secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Some(resp);
        }
    }
    None
}

fn cache_get(st: &AppState, key: &str) -> Option<Arc<String>> {
    let ttl = Duration::from_secs(st.limits.cache_ttl_secs.into());
    let cache = st.cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .get(key)
        .filter(|c| c.stored.elapsed() < ttl)
        .map(|c| c.json.clone())
}

fn cache_put(st: &AppState, key: String, report: &Report) -> Arc<String> {
    let json = Arc::new(serde_json::to_string(report).unwrap_or_default());
    if st.limits.cache_ttl_secs == 0 {
        return json;
    }
    let ttl = Duration::from_secs(st.limits.cache_ttl_secs.into());
    let mut cache = st.cache.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= MAX_ENTRIES {
        cache.retain(|_, c| c.stored.elapsed() < ttl);
        if cache.len() >= MAX_ENTRIES {
            if let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, c)| c.stored)
                .map(|(k, _)| k.clone())
            {
                cache.remove(&oldest);
            }
        }
    }
    cache.insert(
        key,
        Cached {
            json: json.clone(),
            stored: Instant::now(),
        },
    );
    json
}

fn json_report(json: Arc<String>, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (HeaderName::from_static(web::CACHE_HEADER), cache),
        ],
        json.as_str().to_string(),
    )
        .into_response()
}

fn finish_log(mut log: web::AuditLog, started: Instant) {
    log.duration_ms = started.elapsed().as_millis() as u64;
    eprintln!("{}", log.line());
}

/// The answer to a request refused before its audit, logged.
fn refused(log: web::AuditLog, started: Instant, r: web::Refusal) -> Response {
    finish_log(log, started);
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error(status, r.code, r.message)
}

async fn audit(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let started = Instant::now();
    let stream = web::ndjson::wanted(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let mut log = web::AuditLog::new(if stream { "stream" } else { "post" });
    let client = client_key(&st, peer, &headers);
    log.client = Some(client.clone());
    let (req, domain) = match web::audit_request(&body, &mut log) {
        Ok(r) => r,
        Err(r) => return refused(log, started, r),
    };
    if let Some(resp) = admit(&st, &client, &domain, &mut log) {
        finish_log(log, started);
        return resp;
    }
    let key = limits::cache_key(&domain, &req.selectors);
    let opts = audit_options(&st, req.selectors);
    if !stream {
        return match run_audit(st.clone(), domain, opts, |_| {}).await {
            Ok(Ok(r)) => {
                log.report(&r);
                finish_log(log, started);
                // Every audit refreshes the cache the GET route reads.
                let json = cache_put(&st, key, &r);
                json_report(json, "miss")
            }
            Ok(Err(e)) => error(StatusCode::BAD_REQUEST, "bad_domain", e.to_string()),
            Err(e) => {
                finish_log(log, started);
                error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e)
            }
        };
    }
    // The stream: the start line, a line per finding as the audit calls
    // back (from its thread), the report last.
    let (tx, rx) = mpsc::unbounded::<String>();
    let _ = tx.unbounded_send(web::ndjson::start(&domain));
    let each = tx.clone();
    tokio::spawn(async move {
        let result = run_audit(st.clone(), domain, opts, move |f| {
            let _ = each.unbounded_send(web::ndjson::finding(f));
        })
        .await;
        let _ = tx.unbounded_send(match result {
            Ok(Ok(r)) => {
                log.report(&r);
                cache_put(&st, key, &r);
                web::ndjson::report(&r)
            }
            Ok(Err(e)) => web::ndjson::error("bad_domain", &e.to_string()),
            Err(e) => web::ndjson::error("internal", &e),
        });
        finish_log(log, started);
    });
    (
        [
            (header::CONTENT_TYPE, web::ndjson::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
            (HeaderName::from_static(web::CACHE_HEADER), "miss"),
        ],
        Body::from_stream(rx.map(Ok::<String, Infallible>)),
    )
        .into_response()
}

/// `GET /api/v1/audit/{domain}`: the cached report when there is one (and
/// `fresh=1` was not asked), else an audit like the POST route's.
async fn cached_audit(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    UrlPath(segment): UrlPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let mut log = web::AuditLog::new("get");
    let client = client_key(&st, peer, &headers);
    log.client = Some(client.clone());
    let (read, domain) = match web::cached_read(&segment, query.as_deref(), &mut log) {
        Ok(r) => r,
        Err(r) => return refused(log, started, r),
    };
    let key = limits::cache_key(&domain, &read.selectors);
    if !read.fresh {
        if let Some(json) = cache_get(&st, &key) {
            // Cached reads cost nothing: no limit counts them.
            log.outcome = "cached";
            log.cache = Some("hit");
            finish_log(log, started);
            return json_report(json, "hit");
        }
    }
    log.cache = Some("miss");
    if let Some(resp) = admit(&st, &client, &domain, &mut log) {
        finish_log(log, started);
        return resp;
    }
    let opts = audit_options(&st, read.selectors);
    match run_audit(st.clone(), domain, opts, |_| {}).await {
        Ok(Ok(r)) => {
            log.report(&r);
            finish_log(log, started);
            json_report(cache_put(&st, key, &r), "miss")
        }
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, "bad_domain", e.to_string()),
        Err(e) => {
            finish_log(log, started);
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e)
        }
    }
}

/// The security headers of mailaudit_core::web on every response, CORS on
/// the API (and its preflight answered here).
async fn policy_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_string();
    let api = path.starts_with("/api/");
    let mut resp = if api && req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let headers = resp.headers_mut();
    let mut set = |k: &str, v: &str| {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            headers.insert(k, v);
        }
    };
    for (k, v) in web::security_headers(&path) {
        set(k, &v);
    }
    if api {
        for (k, v) in web::CORS_HEADERS {
            set(k, v);
        }
    }
    resp
}

pub async fn serve(
    listen: &str,
    site: &str,
    resolver: String,
    net: NativeNet,
    live: Live,
    limits: Limits,
) -> Result<(), String> {
    let index = Path::new(site).join("index.html");
    if !index.is_file() {
        return Err(format!(
            "no built site at {site} (missing index.html): build it with `cargo xtask site`, \
             or pass --site DIR"
        ));
    }
    let state = Arc::new(AppState {
        net,
        resolver,
        per_client: Mutex::new(Limiter::new(limits.per_client, MAX_ENTRIES)),
        per_target: Mutex::new(Limiter::new(limits.per_target, MAX_ENTRIES)),
        cache: Mutex::new(HashMap::new()),
        salt: crate::random_local_part(),
        live,
        limits,
    });
    let app = Router::new()
        .route("/api/v1/audit", post(audit))
        .route("/api/v1/audit/{domain}", get(cached_audit))
        .route(
            "/api/v1/rules",
            get(|| async { Json(render::rules_json()) }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/api/{*rest}",
            axum::routing::any(|| async {
                error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no such API route".into(),
                )
            }),
        )
        .fallback_service(ServeDir::new(site).fallback(ServeFile::new(index)))
        .layer(axum::middleware::from_fn(policy_headers))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("mailaudit: serving {site} and the API on http://{addr}/");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| e.to_string())
}
