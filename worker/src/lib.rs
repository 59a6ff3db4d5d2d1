//! mailaudit's Cloudflare Worker. It serves the API (`POST /api/v1/audit`,
//! `GET /api/v1/rules`, `GET /healthz`); the website's static files are
//! served by Workers static assets (see wrangler.toml). The Worker only
//! moves bytes: `fetch()` for DNS-over-HTTPS, `connect()` for TCP; every
//! judgement is made by mailaudit-core.

mod agent;

use futures::future::{select, Either};
use futures::StreamExt;
use mailaudit_core::audit::{audit_domain, AuditOptions};
use mailaudit_core::dns::DEFAULT_RESOLVER;
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

/// RFC 3339 UTC time without fractions, from the platform clock.
fn now() -> String {
    let iso: String = js_sys::Date::new_0().to_iso_string().into();
    match iso.split_once('.') {
        Some((secs, _)) => format!("{secs}Z"),
        None => iso,
    }
}

async fn audit(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let body = req.bytes().await.unwrap_or_default();
    let parsed = match web::AuditRequest::parse(&body) {
        Ok(r) => r,
        Err(message) => return json_error(400, "bad_request", message),
    };
    let resolver = ctx
        .env
        .var("DOH_URL")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| DEFAULT_RESOLVER.to_string());
    let mut opts = AuditOptions::new(resolver, now());
    opts.selectors = parsed.selectors;
    // Workers cannot open port 25; the probe agent (PROBE_AGENT_URL) is
    // not part of this version.
    opts.probe = false;
    opts.no_probe_reason = format!(
        "Not run from this deployment: Cloudflare Workers cannot connect to port 25. Run \
         `mailaudit audit {}` from a host that can reach the mail servers.",
        parsed.domain.trim()
    );
    // Spamhaus answers public resolvers with error codes; a DQS key
    // (secret SPAMHAUS_DQS_KEY) makes its lists usable from the Worker.
    opts.blocklists.dqs_key = env_text(&ctx.env, "SPAMHAUS_DQS_KEY");
    // Test bed only: list zones under a private suffix.
    opts.blocklists.zone_suffix = env_text(&ctx.env, "BLOCKLIST_ZONE_SUFFIX");
    // With PROBE_AGENT_URL and PROBE_AGENT_SECRET, a probe agent runs them.
    agent::configure(&ctx.env, &mut opts);
    match audit_domain(&WorkerNet, &parsed.domain, &opts).await {
        Ok(report) => Response::from_json(&report),
        Err(e) => json_error(400, "bad_domain", e.to_string()),
    }
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

async fn route(req: Request, env: Env) -> Result<Response> {
    Router::new()
        .post_async("/api/v1/audit", audit)
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
