//! Talking to the audit API: `POST /api/v1/audit` asking for the NDJSON
//! stream (`Accept: application/x-ndjson`, docs: the streaming format
//! agreed with the Worker and `mailaudit serve`), read line by line as it
//! arrives; a server that answers plain JSON (before streaming existed) is
//! read whole. Which one came is decided by the response's content-type,
//! so both work. A shared link first asks `GET /api/v1/audit/{domain}` for
//! a cached report, and runs the audit when there is none.

use gloo_net::http::{Request, Response};
use mailaudit_core::report::{Finding, Report};
use serde::Deserialize;
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// What the stream tells before the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The domain (ASCII, and Unicode for an IDN) and how many findings to
    /// expect per area key ("dns", "authentication", …).
    Start {
        target: String,
        unicode: Option<String>,
        areas: Vec<(String, usize)>,
    },
    Finding(Box<Finding>),
}

/// One NDJSON line.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Start {
        #[serde(default)]
        target: String,
        #[serde(default)]
        unicode: Option<String>,
        #[serde(default)]
        areas: BTreeMap<String, usize>,
    },
    Finding {
        finding: Box<Finding>,
    },
    Report {
        report: Box<Report>,
    },
    Error {
        error: ApiErrorBody,
    },
    /// A line type this page does not know: skipped.
    #[serde(other)]
    Other,
}

/// `{"error": {"code": ..., "message": ...}}`, the API's error body.
#[derive(Deserialize)]
struct ApiError {
    error: ApiErrorBody,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

fn explain(e: ApiErrorBody) -> String {
    if e.message.is_empty() {
        format!("The server refused the audit ({}).", e.code)
    } else {
        e.message
    }
}

const NETWORK: &str = "Could not reach the mailaudit server (network error). Check your \
    connection and try again; the configuration tab works offline.";

/// A Unicode domain's A-label form, by the browser's URL parser (so the
/// page links no IDNA tables of its own).
pub fn to_ascii(name: &str) -> Option<String> {
    let u = web_sys::Url::new(&format!("http://{name}/")).ok()?;
    let host = u.hostname();
    (!host.is_empty()).then_some(host)
}

/// `base` + `path`: `base` is "" for this site's own API, or the origin of
/// another mailaudit server (the widget's `data-api`).
pub fn endpoint(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

fn content_type(r: &Response) -> String {
    r.headers()
        .get("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A cached report (`GET /api/v1/audit/{domain}`), if the server keeps
/// one. Anything but a JSON report (404, the site's index page from a
/// server without the route) is "none".
pub async fn cached(base: &str, domain: &str) -> Option<Report> {
    let q: String = js_sys::encode_uri_component(domain).into();
    let r = Request::get(&endpoint(base, &format!("/api/v1/audit/{q}")))
        .header("accept", "application/json")
        .send()
        .await
        .ok()?;
    if !r.ok() || !content_type(&r).starts_with("application/json") {
        return None;
    }
    let body = r.text().await.ok()?;
    let report: Report = serde_json::from_str(&body).ok()?;
    (report.target == domain).then_some(report)
}

/// Runs the audit; `on_event` sees the stream's start and each finding as
/// it arrives (never called for a plain JSON answer).
pub async fn audit(base: &str, domain: &str, on_event: impl Fn(Event)) -> Result<Report, String> {
    let request = Request::post(&endpoint(base, "/api/v1/audit"))
        .header("accept", "application/x-ndjson, application/json;q=0.9")
        .json(&serde_json::json!({ "domain": domain }))
        .map_err(|e| format!("Could not prepare the request: {e}"))?;
    let response = request.send().await.map_err(|_| NETWORK.to_string())?;
    let status = response.status();
    if !response.ok() {
        let body = response.text().await.map_err(|_| NETWORK.to_string())?;
        return Err(match serde_json::from_str::<ApiError>(&body) {
            Ok(ApiError { error }) => explain(error),
            Err(_) => format!(
                "The server answered HTTP {status} {} instead of a report.",
                response.status_text()
            ),
        });
    }
    if content_type(&response).contains("ndjson") {
        return read_stream(&response, &on_event).await;
    }
    let body = response.text().await.map_err(|_| NETWORK.to_string())?;
    serde_json::from_str::<Report>(&body)
        .map_err(|e| format!("The server answered with a report this page cannot read ({e})."))
}

/// Handles one complete line; Some(result) ends the stream.
fn line(text: &[u8], on_event: &impl Fn(Event)) -> Option<Result<Report, String>> {
    let text = std::str::from_utf8(text).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    match serde_json::from_str::<Line>(text) {
        Ok(Line::Start {
            target,
            unicode,
            areas,
        }) => {
            on_event(Event::Start {
                target,
                unicode,
                areas: areas.into_iter().collect(),
            });
            None
        }
        Ok(Line::Finding { finding }) => {
            on_event(Event::Finding(finding));
            None
        }
        Ok(Line::Report { report }) => Some(Ok(*report)),
        Ok(Line::Error { error }) => Some(Err(explain(error))),
        Ok(Line::Other) => None,
        Err(e) => Some(Err(format!(
            "The server's progress stream could not be read ({e})."
        ))),
    }
}

/// Longest line accepted (a report with long evidence is well under this).
const MAX_LINE: usize = 16 << 20;

async fn read_stream(response: &Response, on_event: &impl Fn(Event)) -> Result<Report, String> {
    let body = response
        .body()
        .ok_or_else(|| "The server's stream had no body.".to_string())?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| NETWORK.to_string())?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .map(|v| v.is_truthy())
            .unwrap_or(true);
        if let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) {
            if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
                buf.extend(bytes.to_vec());
            }
        }
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let rest = buf.split_off(nl + 1);
            let text = std::mem::replace(&mut buf, rest);
            if let Some(result) = line(&text, on_event) {
                let _ = reader.cancel();
                return result;
            }
        }
        if buf.len() > MAX_LINE {
            let _ = reader.cancel();
            return Err("The server's progress stream sent a line too long to read.".into());
        }
        if done {
            break;
        }
    }
    if let Some(result) = line(&buf, on_event) {
        return result;
    }
    Err("The server's stream ended before the report arrived; try again.".into())
}
