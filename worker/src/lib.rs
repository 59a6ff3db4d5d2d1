//! mailaudit's Cloudflare Worker. It serves the API (`POST /api/v1/audit`
//! as JSON or an NDJSON stream, the cached read `GET /api/v1/audit/{domain}`
//! (Cache API), `GET /api/v1/rules`, `GET /healthz`) with rate limits per
//! client and per target (the [`RateLimiter`] Durable Object), an overall
//! deadline per audit and one JSON log line per audit request, and the
//! monitoring of registered domains (`/api/v1/monitor`, the Cron Trigger:
//! see [`monitor`]); the
//! website's static files are
//! served by Workers static assets (see wrangler.toml). The Worker only
//! moves bytes: `fetch()` for DNS-over-HTTPS, `connect()` for TCP; every
//! judgement is made by mailaudit-core.

mod agent;
mod monitor;

use futures::channel::mpsc;
use futures::future::{select, Either};
use futures::{FutureExt, StreamExt};
use mailaudit_core::audit::{audit_domain_streaming, AuditOptions};
use mailaudit_core::dns::{ResolverUrl, DEFAULT_RESOLVER};
use mailaudit_core::limits::{self, Decision, SlidingLog, Window};
use mailaudit_core::net::{self, Conn, HttpRequest, HttpResponse, NetError, Network};
use mailaudit_core::{render, web};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use worker::*;

struct WorkerNet;

async fn with_timeout<T>(
    ms: u32,
    fut: impl std::future::Future<Output = std::result::Result<T, NetError>>,
) -> std::result::Result<T, NetError> {
    let delay = Delay::from(Duration::from_millis(ms.into()));
    match select(Box::pin(fut), delay).await {
        Either::Left((r, _)) => r,
        Either::Right(_) => Err(NetError::Timeout(ms)),
    }
}

fn js_err(e: worker::Error) -> NetError {
    let text = e.to_string();
    if text.contains("certificate") || text.contains("TLS") {
        NetError::Tls(text)
    } else {
        NetError::Connect(text)
    }
}

impl Network for WorkerNet {
    type Conn = WorkerConn;

    async fn http(&self, req: HttpRequest) -> std::result::Result<HttpResponse, NetError> {
        let max = req.max_body;
        let exchange = async move {
            let headers = Headers::new();
            for (k, v) in &req.headers {
                headers.set(k, v).map_err(js_err)?;
            }
            let mut init = RequestInit::new();
            init.with_headers(headers)
                .with_redirect(RequestRedirect::Manual);
            match req.method {
                net::Method::Get => {
                    init.with_method(Method::Get);
                }
                net::Method::Post => {
                    let body = js_sys::Uint8Array::from(req.body.as_slice());
                    init.with_method(Method::Post).with_body(Some(body.into()));
                }
            }
            let request = Request::new_with_init(&req.url, &init).map_err(js_err)?;
            let mut resp = Fetch::Request(request).send().await.map_err(js_err)?;
            let status = resp.status_code();
            let headers: Vec<(String, String)> = resp.headers().entries().collect();
            let mut body = Vec::new();
            if let Ok(mut stream) = resp.stream() {
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(js_err)?;
                    if body.len() + chunk.len() > max {
                        return Err(NetError::TooLarge(max));
                    }
                    body.extend_from_slice(&chunk);
                }
            }
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        };
        with_timeout(req.timeout_ms, exchange).await
    }

    async fn tcp_connect(
        &self,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> std::result::Result<WorkerConn, NetError> {
        let host = host.to_string();
        with_timeout(timeout_ms, async move {
            let socket = Socket::builder().connect(host, port).map_err(js_err)?;
            socket.opened().await.map_err(js_err)?;
            Ok(WorkerConn { socket })
        })
        .await
    }
}

struct WorkerConn {
    socket: Socket,
}

impl Conn for WorkerConn {
    async fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, NetError> {
        self.socket
            .read(buf)
            .await
            .map_err(|e| NetError::Other(e.to_string()))
    }

    async fn write_all(&mut self, data: &[u8]) -> std::result::Result<(), NetError> {
        self.socket
            .write_all(data)
            .await
            .map_err(|e| NetError::Other(e.to_string()))
    }

    async fn close(&mut self) {
        let _ = self.socket.close().await;
    }
}

/// A configured variable or secret, if set and not empty.
fn env_text(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|v| v.to_string()))
        .ok()
        .filter(|v| !v.trim().is_empty())
}

fn json_error(status: u16, code: &str, message: String) -> Result<Response> {
    Ok(
        Response::from_json(&serde_json::json!({"error": {"code": code, "message": message}}))?
            .with_status(status),
    )
}

/// The answer to a request refused before its audit, logged.
fn refused(log: web::AuditLog, started: u64, r: web::Refusal) -> Result<Response> {
    finish_log(log, started);
    json_error(r.status, r.code, r.message)
}

/// RFC 3339 UTC time without fractions, from the platform clock.
fn now() -> String {
    let iso: String = js_sys::Date::new_0().to_iso_string().into();
    match iso.split_once('.') {
        Some((secs, _)) => format!("{secs}Z"),
        None => iso,
    }
}

/// The overall deadline of one audit (var `AUDIT_DEADLINE_SECS`).
fn deadline_secs(env: &Env) -> u32 {
    env_text(env, "AUDIT_DEADLINE_SECS")
        .and_then(|v| v.trim().parse().ok())
        .filter(|s| *s > 0)
        .unwrap_or(web::DEFAULT_DEADLINE_SECS)
}

/// How this deployment audits `domain` (as the user typed it).
/// [`audit_options`], or a 500 `bad_config` (noted in `log`): a Worker
/// sends DNS only over HTTPS, so a plain resolver (`dns://`) in DOH_URL is
/// the operator's mistake, said once rather than as every check's
/// `unknown`.
fn doh_audit_options(
    env: &Env,
    selectors: Vec<String>,
    typed: &str,
    log: &mut web::AuditLog,
) -> std::result::Result<AuditOptions, web::Refusal> {
    let opts = audit_options(env, selectors, typed);
    match ResolverUrl::require_doh(&opts.resolver) {
        Ok(()) => Ok(opts),
        Err(why) => Err(log.refuse(500, "bad_config", why)),
    }
}

fn audit_options(env: &Env, selectors: Vec<String>, typed: &str) -> AuditOptions {
    let resolver = env
        .var("DOH_URL")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| DEFAULT_RESOLVER.to_string());
    let mut opts = AuditOptions::new(resolver, now());
    opts.selectors = selectors;
    // Workers cannot open port 25; the probe agent (PROBE_AGENT_URL) is
    // not part of this version.
    opts.probe = false;
    opts.no_probe_reason = format!(
        "Not run from this deployment: Cloudflare Workers cannot connect to port 25. Run \
         `mailaudit audit {}` from a host that can reach the mail servers.",
        typed.trim()
    );
    // Spamhaus answers public resolvers with error codes; a DQS key
    // (secret SPAMHAUS_DQS_KEY) makes its lists usable from the Worker.
    opts.blocklists.dqs_key = env_text(env, "SPAMHAUS_DQS_KEY");
    // Test bed only: list zones under a private suffix.
    opts.blocklists.zone_suffix = env_text(env, "BLOCKLIST_ZONE_SUFFIX");
    // With PROBE_AGENT_URL and PROBE_AGENT_SECRET, a probe agent runs them.
    agent::configure(env, &mut opts);
    opts.deadline_secs = Some(deadline_secs(env));
    opts
}

fn deadline(secs: u32) -> Delay {
    Delay::from(Duration::from_secs(secs.into()))
}

/// A rate-limit window from two variables, or the default.
fn window(env: &Env, limit: &str, period: &str, default: Window) -> Window {
    let num = |name: &str| env_text(env, name).and_then(|v| v.trim().parse::<u32>().ok());
    Window {
        limit: num(limit).unwrap_or(default.limit),
        period_secs: num(period)
            .filter(|p| *p > 0)
            .unwrap_or(default.period_secs),
    }
}

/// Milliseconds since the epoch, from the platform clock.
fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// Asks the Durable Object that keeps `key`'s log whether one more audit
/// may go ahead. Fails open (allowed) when the binding is missing or the
/// object cannot be reached, and says so in the log.
async fn limit_hit(env: &Env, key: &str, w: Window) -> Decision {
    if w.limit == 0 {
        return Decision::Allowed { remaining: 0 };
    }
    let ask = async {
        let stub = env
            .durable_object(RATE_LIMITER_BINDING)?
            .id_from_name(key)?
            .get_stub()?;
        let url = format!(
            "https://rate-limiter/hit?limit={}&period={}",
            w.limit, w.period_secs
        );
        stub.fetch_with_str(&url).await?.json::<Decision>().await
    };
    match ask.await {
        Ok(d) => d,
        Err(e) => {
            console_error!(
                "{}",
                serde_json::json!({"event": "rate_limiter_unavailable", "error": e.to_string()})
            );
            Decision::Allowed { remaining: 0 }
        }
    }
}

/// The Durable Object binding of the rate limiter (wrangler.toml).
const RATE_LIMITER_BINDING: &str = "RATE_LIMITER";

/// One audit asks to go ahead: the client's limit first, then the
/// target's. A 429 when either is used up (a request refused by the
/// target's limit still counts against the client).
async fn admit(
    env: &Env,
    client: &str,
    domain: &str,
    log: &mut web::AuditLog,
) -> Result<Option<Response>> {
    let checks = [
        (
            client.to_string(),
            window(
                env,
                "RATE_CLIENT_LIMIT",
                "RATE_CLIENT_PERIOD_SECS",
                Window::PER_CLIENT,
            ),
            "from your address",
            "rate_limited_client",
        ),
        (
            limits::target_key(domain),
            window(
                env,
                "RATE_TARGET_LIMIT",
                "RATE_TARGET_PERIOD_SECS",
                Window::PER_TARGET,
            ),
            "of this domain",
            "rate_limited_target",
        ),
    ];
    for (key, w, which, outcome) in checks {
        if let Decision::Limited { retry_after_secs } = limit_hit(env, &key, w).await {
            log.outcome = outcome;
            let resp = json_error(
                429,
                "rate_limited",
                web::rate_limited_message(which, w, retry_after_secs),
            )?;
            resp.headers()
                .set("retry-after", &retry_after_secs.to_string())?;
            return Ok(Some(resp));
        }
    }
    Ok(None)
}

/// The client's rate-limit key: a salted hash of its address (secret
/// `RATE_KEY_SALT`), never the address itself.
fn client_key(req: &Request, env: &Env) -> String {
    let addr = req
        .headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into());
    limits::client_key(&addr, &env_text(env, "RATE_KEY_SALT").unwrap_or_default())
}

/// The Cache API key of a report: a URL on this deployment's own origin
/// (the cache is per zone), by normalised domain and selectors.
fn cache_url(req: &Request, key: &str) -> Result<String> {
    let url = req.url()?;
    Ok(format!(
        "{}/__cache/v1/audit/{}",
        url.origin().ascii_serialization(),
        key
    ))
}

fn cache_ttl(env: &Env) -> u32 {
    env_text(env, "CACHE_TTL_SECS")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(web::CACHE_TTL_SECS)
}

/// Stores a report for the cached read (a no-op with `CACHE_TTL_SECS=0`).
async fn cache_put(env: &Env, url: &str, json: &str) {
    let ttl = cache_ttl(env);
    if ttl == 0 {
        return;
    }
    let put = async {
        let resp = Response::ok(json)?;
        resp.headers().set("content-type", "application/json")?;
        resp.headers()
            .set("cache-control", &format!("public, max-age={ttl}"))?;
        Cache::default().put(url, resp).await
    };
    if let Err(e) = put.await {
        console_error!(
            "{}",
            serde_json::json!({"event": "cache_put_failed", "error": e.to_string()})
        );
    }
}

fn json_report(json: String, cache: &str) -> Result<Response> {
    let resp = Response::ok(json)?;
    resp.headers().set("content-type", "application/json")?;
    resp.headers().set(web::CACHE_HEADER, cache)?;
    Ok(resp)
}

fn finish_log(mut log: web::AuditLog, started: u64) {
    log.duration_ms = now_ms().saturating_sub(started);
    console_log!("{}", log.line());
}

async fn audit(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let started = now_ms();
    let env = &ctx.env;
    let stream = web::ndjson::wanted(req.headers().get("accept")?.as_deref());
    let mut log = web::AuditLog::new(if stream { "stream" } else { "post" });
    let client = client_key(&req, env);
    log.client = Some(client.clone());
    let body = req.bytes().await.unwrap_or_default();
    let (parsed, domain) = match web::audit_request(&body, &mut log) {
        Ok(r) => r,
        Err(r) => return refused(log, started, r),
    };
    if let Some(resp) = admit(env, &client, &domain, &mut log).await? {
        finish_log(log, started);
        return Ok(resp);
    }
    let key_url = cache_url(&req, &limits::cache_key(&domain, &parsed.selectors))?;
    let opts = match doh_audit_options(env, parsed.selectors, &parsed.domain, &mut log) {
        Ok(o) => o,
        Err(r) => return refused(log, started, r),
    };
    let secs = deadline_secs(env);
    if !stream {
        let report = audit_domain_streaming(&WorkerNet, &domain, &opts, deadline(secs), |_| {})
            .await
            .map_err(|e| Error::RustError(e.to_string()))?;
        log.report(&report);
        finish_log(log, started);
        let json = serde_json::to_string(&report)?;
        // Every audit refreshes the cache the GET route reads.
        cache_put(env, &key_url, &json).await;
        return json_report(json, "miss");
    }
    // The stream: the start line, a line per finding as the audit calls
    // back, the report last. Reading the body drives the audit (no task is
    // spawned): the audit future is polled beside the channel it fills.
    let (tx, rx) = mpsc::unbounded::<String>();
    let _ = tx.unbounded_send(web::ndjson::start(&domain));
    let env = ctx.env.clone();
    let run = async move {
        let each = tx.clone();
        let result = audit_domain_streaming(&WorkerNet, &domain, &opts, deadline(secs), |f| {
            let _ = each.unbounded_send(web::ndjson::finding(f));
        })
        .await;
        match result {
            Ok(report) => {
                log.report(&report);
                let json = serde_json::to_string(&report).unwrap_or_default();
                cache_put(&env, &key_url, &json).await;
                let _ = tx.unbounded_send(web::ndjson::report(&report));
            }
            Err(e) => {
                let _ = tx.unbounded_send(web::ndjson::error("bad_domain", &e.to_string()));
            }
        }
        finish_log(log, started);
    };
    let driver = run
        .into_stream()
        .filter_map(|()| futures::future::ready(None::<String>));
    let lines = futures::stream::select(rx, driver).map(|l| Ok::<Vec<u8>, Error>(l.into_bytes()));
    let resp = Response::from_stream(lines)?;
    resp.headers()
        .set("content-type", web::ndjson::CONTENT_TYPE)?;
    resp.headers().set("cache-control", "no-store")?;
    resp.headers().set(web::CACHE_HEADER, "miss")?;
    Ok(resp)
}

/// `GET /api/v1/audit/{domain}`: the cached report when there is one (and
/// `fresh=1` was not asked), else an audit like the POST route's.
async fn cached_audit(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let started = now_ms();
    let env = &ctx.env;
    let mut log = web::AuditLog::new("get");
    let client = client_key(&req, env);
    log.client = Some(client.clone());
    let segment = ctx.param("domain").cloned().unwrap_or_default();
    let url = req.url()?;
    let (read, domain) = match web::cached_read(&segment, url.query(), &mut log) {
        Ok(r) => r,
        Err(r) => return refused(log, started, r),
    };
    let key_url = cache_url(&req, &limits::cache_key(&domain, &read.selectors))?;
    if !read.fresh && cache_ttl(env) > 0 {
        if let Some(mut hit) = Cache::default().get(key_url.as_str(), false).await? {
            // Cached reads cost nothing: no limit counts them.
            log.outcome = "cached";
            log.cache = Some("hit");
            finish_log(log, started);
            return json_report(hit.text().await?, "hit");
        }
    }
    log.cache = Some("miss");
    if let Some(resp) = admit(env, &client, &domain, &mut log).await? {
        finish_log(log, started);
        return Ok(resp);
    }
    let opts = match doh_audit_options(env, read.selectors, &read.domain, &mut log) {
        Ok(o) => o,
        Err(r) => return refused(log, started, r),
    };
    let report = audit_domain_streaming(
        &WorkerNet,
        &domain,
        &opts,
        deadline(deadline_secs(env)),
        |_| {},
    )
    .await
    .map_err(|e| Error::RustError(e.to_string()))?;
    log.report(&report);
    finish_log(log, started);
    let json = serde_json::to_string(&report)?;
    cache_put(env, &key_url, &json).await;
    json_report(json, "miss")
}

/// The security headers of mailaudit_core::web, and CORS on the API.
fn with_policy(mut resp: Response, path: &str) -> Result<Response> {
    let headers = resp.headers_mut();
    for (k, v) in web::security_headers(path) {
        headers.set(k, &v)?;
    }
    if path.starts_with("/api/") {
        for (k, v) in web::CORS_HEADERS {
            headers.set(k, v)?;
        }
    }
    Ok(resp)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    if req.method() == Method::Options && path.starts_with("/api/") {
        return with_policy(Response::empty()?.with_status(204), &path);
    }
    let resp = route(req, env).await?;
    with_policy(resp, &path)
}

/// The Cron Trigger (wrangler.toml `[triggers]`): monitoring.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    monitor::run(&env).await;
}

async fn route(req: Request, env: Env) -> Result<Response> {
    Router::new()
        .post_async("/api/v1/audit", audit)
        .get_async("/api/v1/audit/:domain", cached_audit)
        .post_async("/api/v1/monitor", monitor::register)
        .post_async("/api/v1/monitor/verify", monitor::verify)
        .get_async("/api/v1/monitor/:domain", monitor::read)
        .delete_async("/api/v1/monitor/:domain", monitor::delete)
        .get("/api/v1/rules", |_, _| {
            Response::from_json(&render::rules_json())
        })
        .get("/healthz", |_, _| Response::ok("ok\n"))
        .or_else_any_method("/api/*path", |_, _| {
            json_error(404, "not_found", "no such API route".into())
        })
        .run(req, env)
        .await
}

/// The rate limiter: one object per key (a client hash or a target
/// domain), holding that key's sliding log ([`mailaudit_core::limits`]).
/// Storage keeps the log across evictions; an alarm deletes it once its
/// window is over, so idle keys leave nothing behind.
#[durable_object(alarm)]
pub struct RateLimiter {
    state: State,
    log: std::cell::RefCell<Option<SlidingLog>>,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        RateLimiter {
            state,
            log: std::cell::RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let url = req.url()?;
        let mut limit = None;
        let mut period = None;
        for (k, v) in url.query_pairs() {
            match &*k {
                "limit" => limit = v.parse::<u32>().ok(),
                "period" => period = v.parse::<u32>().ok(),
                _ => {}
            }
        }
        let (Some(limit), Some(period)) = (limit, period.filter(|p| *p > 0)) else {
            return Response::error("limit and period are required", 400);
        };
        let w = Window {
            limit,
            period_secs: period,
        };
        let storage = self.state.storage();
        let cached = self.log.borrow().clone();
        let mut log = match cached {
            Some(l) => l,
            None => storage.get::<SlidingLog>("log").await?.unwrap_or_default(),
        };
        let decision = log.hit(now_ms(), w);
        if decision.allowed() {
            storage.put("log", &log).await?;
            if let Some(at) = log.idle_at(w) {
                storage.set_alarm(at as i64).await?;
            }
        }
        *self.log.borrow_mut() = Some(log);
        Response::from_json(&decision)
    }

    async fn alarm(&self) -> Result<Response> {
        self.state.storage().delete_all().await?;
        *self.log.borrow_mut() = None;
        Response::ok("")
    }
}
