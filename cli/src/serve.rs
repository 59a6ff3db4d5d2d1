//! `mailaudit serve`: the built site plus the same API as the Worker
//! (`POST /api/v1/audit`, `GET /api/v1/rules`, `GET /healthz`), natively.

use crate::net::NativeNet;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mailaudit_core::audit::{audit_domain, AuditOptions};
use mailaudit_core::{render, web};
use std::path::Path;
use std::sync::Arc;
use tower_http::services::{ServeDir, ServeFile};

struct AppState {
    net: NativeNet,
    resolver: String,
    live: Live,
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

async fn audit(State(st): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let req = match web::AuditRequest::parse(&body) {
        Ok(r) => r,
        Err(message) => return error(StatusCode::BAD_REQUEST, "bad_request", message),
    };
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let mut opts = AuditOptions::new(
        st.resolver.clone(),
        now.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    opts.selectors = req.selectors;
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
    // The engine's futures need not be Send (the Worker's are not), so the
    // audit runs to completion on a blocking thread of this runtime.
    let handle = tokio::runtime::Handle::current();
    let domain = req.domain;
    let result =
        tokio::task::spawn_blocking(move || handle.block_on(audit_domain(&st.net, &domain, &opts)))
            .await;
    match result {
        Ok(Ok(r)) => Json(r).into_response(),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, "bad_domain", e.to_string()),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the audit failed: {e}"),
        ),
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
        live,
    });
    let app = Router::new()
        .route("/api/v1/audit", post(audit))
        .route(
            "/api/v1/rules",
            get(|| async { Json(render::rules_json()) }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback_service(ServeDir::new(site).fallback(ServeFile::new(index)))
        .layer(axum::middleware::from_fn(policy_headers))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("mailaudit: serving {site} and the API on http://{addr}/");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
