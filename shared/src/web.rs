//! The HTTP policy every host that serves mailaudit applies: security
//! headers for the site and the API, and CORS for the API. One list, so
//! the Worker, its static assets (`_headers`, written by `cargo xtask
//! build-site`) and `mailaudit serve` cannot drift apart.
//!
//! - The site runs no inline script: `script-src 'self' 'wasm-unsafe-eval'`
//!   (the module loader is a file, `boot.js`). Styles may be inline because
//!   Yew sets `style` attributes.
//! - Nothing may frame the site (`frame-ancestors 'none'`) except the
//!   widget's pages under [`WIDGET_PREFIX`], which exist to be embedded.
//! - The API is open to every origin without credentials (the widget runs
//!   on third-party sites) and to nothing else: no cookies are ever read.

/// The body of `POST /api/v1/audit` (docs/api.md, docs/openapi.json), as
/// every host reads it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    pub domain: String,
    /// DKIM selectors to look up besides the common ones.
    #[serde(default)]
    pub selectors: Vec<String>,
}

/// Most DKIM selectors a request may name (each costs a subrequest).
pub const MAX_REQUEST_SELECTORS: usize = 8;

impl AuditRequest {
    /// Parses a request body; the error is the message for a 400
    /// `bad_request`.
    pub fn parse(body: &[u8]) -> Result<AuditRequest, String> {
        let r: AuditRequest = serde_json::from_slice(body).map_err(|e| {
            format!("expected a JSON body like {{\"domain\": \"example.org\"}}: {e}")
        })?;
        if r.selectors.len() > MAX_REQUEST_SELECTORS {
            return Err(format!(
                "at most {MAX_REQUEST_SELECTORS} DKIM selectors can be given"
            ));
        }
        Ok(r)
    }
}

/// The overall deadline of an audit a public host runs, unless configured
/// (the Worker's `AUDIT_DEADLINE_SECS`, `mailaudit serve --deadline`).
pub const DEFAULT_DEADLINE_SECS: u32 = 20;

/// The streaming answer of `POST /api/v1/audit` (`Accept:
/// application/x-ndjson`): one JSON object per line, `start`, then a
/// `finding` per finding as each check completes, then `report` (or
/// `error`). Both hosts write these lines, so they cannot drift apart; the
/// format is documented in docs/api.md.
pub mod ndjson {
    use crate::report::{Finding, Report};
    use serde_json::json;

    pub const CONTENT_TYPE: &str = "application/x-ndjson; charset=utf-8";

    /// Whether a request's `Accept` header asks for the stream.
    pub fn wanted(accept: Option<&str>) -> bool {
        accept.is_some_and(|a| {
            a.split(',').any(|part| {
                part.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-ndjson"))
            })
        })
    }

    fn line(v: serde_json::Value) -> String {
        let mut s = v.to_string();
        s.push('\n');
        s
    }

    /// The U-label form of an A-label domain, when it is an IDN.
    pub fn unicode_form(ascii: &str) -> Option<String> {
        if !ascii.split('.').any(|l| l.starts_with("xn--")) {
            return None;
        }
        match idna::domain_to_unicode(ascii) {
            (u, Ok(())) if u != ascii => Some(u),
            _ => None,
        }
    }

    /// The first line: the (validated, ASCII) domain, its Unicode form if
    /// it is an IDN, and how many findings each area will have.
    pub fn start(domain: &str) -> String {
        let mut areas = serde_json::Map::new();
        for rule in crate::audit::domain_rules() {
            let key = serde_json::to_value(rule.area)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let n = areas.get(&key).and_then(|v| v.as_u64()).unwrap_or(0);
            areas.insert(key, json!(n + 1));
        }
        let mut v = json!({"type": "start", "target": domain, "areas": areas});
        if let Some(u) = unicode_form(domain) {
            v["unicode"] = json!(u);
        }
        line(v)
    }

    pub fn finding(f: &Finding) -> String {
        line(json!({"type": "finding", "finding": f}))
    }

    pub fn report(r: &Report) -> String {
        line(json!({"type": "report", "report": r}))
    }

    pub fn error(code: &str, message: &str) -> String {
        line(json!({"type": "error", "error": {"code": code, "message": message}}))
    }
}

/// `GET /api/v1/audit/{domain}?selectors=a,b&fresh=1`: the cached read
/// (docs/api.md), as every host reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRead {
    /// As given (percent-decoded); validate with
    /// [`crate::audit::validate_domain`].
    pub domain: String,
    pub selectors: Vec<String>,
    /// `fresh=1`: audit again even when a cached report exists.
    pub fresh: bool,
}

/// How long a cached report is served (10 minutes).
pub const CACHE_TTL_SECS: u32 = 600;

/// The response header that says whether a report came from the cache.
pub const CACHE_HEADER: &str = "x-mailaudit-cache";

impl CachedRead {
    /// Parses the path segment after `/api/v1/audit/` and the query string
    /// (without `?`); the error is the message for a 400 `bad_request`.
    pub fn parse(segment: &str, query: Option<&str>) -> Result<CachedRead, String> {
        let domain = percent_encoding::percent_decode_str(segment)
            .decode_utf8()
            .map_err(|_| "the domain in the path is not UTF-8".to_string())?
            .into_owned();
        let mut r = CachedRead {
            domain,
            selectors: Vec::new(),
            fresh: false,
        };
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match &*k {
                "fresh" => {
                    r.fresh = match &*v {
                        "1" | "true" => true,
                        "0" | "false" | "" => false,
                        _ => return Err(format!("fresh={v:?}: expected 1 or 0")),
                    }
                }
                "selectors" => r.selectors.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                ),
                other => {
                    return Err(format!(
                        "unknown query parameter {other:?} (expected selectors, fresh)"
                    ))
                }
            }
        }
        if r.selectors.len() > MAX_REQUEST_SELECTORS {
            return Err(format!(
                "at most {MAX_REQUEST_SELECTORS} DKIM selectors can be given"
            ));
        }
        Ok(r)
    }
}

/// One structured log line about an API request that asked for an audit,
/// the same on both hosts (the Worker's `console.log`, `serve`'s stderr).
/// It names the audited domain and never the client: `client` is the
/// rate-limit key (a salted hash), and nothing the user pasted is logged.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditLog {
    pub event: &'static str,
    /// `post`, `stream` or `get`.
    pub route: &'static str,
    /// The validated domain (absent when the request was refused before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `ok`, `deadline`, `cached`, `bad_request`, `bad_domain`,
    /// `rate_limited_client`, `rate_limited_target`, `error`.
    pub outcome: &'static str,
    /// `hit` or `miss` on the cached read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<&'static str>,
    pub duration_ms: u64,
    /// Subrequests the audit used (absent when none ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subrequests: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

impl AuditLog {
    pub fn new(route: &'static str) -> AuditLog {
        AuditLog {
            event: "audit",
            route,
            target: None,
            outcome: "error",
            cache: None,
            duration_ms: 0,
            subrequests: None,
            client: None,
        }
    }

    /// Takes the outcome and the subrequests used from a finished report.
    pub fn report(&mut self, r: &crate::report::Report) {
        self.outcome = if r.assumptions.iter().any(|a| a.key == "deadline") {
            "deadline"
        } else {
            "ok"
        };
        self.subrequests = subrequests_used(r);
    }

    /// The JSON line (no newline).
    pub fn line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A request refused before its audit starts: the answer's HTTP status
/// and the `code` and `message` of its JSON error body (docs/api.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl AuditLog {
    /// A refusal, with its code noted as the log's outcome.
    pub fn refuse(&mut self, status: u16, code: &'static str, message: String) -> Refusal {
        self.outcome = code;
        Refusal {
            status,
            code,
            message,
        }
    }

    /// The validated domain, noted as the log's target, or a 400
    /// `bad_domain`.
    fn target(&mut self, domain: &str) -> Result<String, Refusal> {
        let d = crate::audit::validate_domain(domain)
            .map_err(|e| self.refuse(400, "bad_domain", e.to_string()))?;
        self.target = Some(d.clone());
        Ok(d)
    }
}

/// What every host does first with `POST /api/v1/audit`: the body read
/// and its domain validated, or a 400 (`bad_request`, `bad_domain`), both
/// noted in `log`. A bad domain is refused before any streaming starts.
pub fn audit_request(body: &[u8], log: &mut AuditLog) -> Result<(AuditRequest, String), Refusal> {
    let req = AuditRequest::parse(body).map_err(|m| log.refuse(400, "bad_request", m))?;
    let domain = log.target(&req.domain)?;
    Ok((req, domain))
}

/// [`audit_request`] for `GET /api/v1/audit/{domain}`: the path segment
/// and the query string read, the domain validated.
pub fn cached_read(
    segment: &str,
    query: Option<&str>,
    log: &mut AuditLog,
) -> Result<(CachedRead, String), Refusal> {
    let read = CachedRead::parse(segment, query).map_err(|m| log.refuse(400, "bad_request", m))?;
    let domain = log.target(&read.domain)?;
    Ok((read, domain))
}

/// The subrequests an audit used, from its `subrequests` assumption
/// (`38 of 50 used`), which the engine writes.
pub fn subrequests_used(r: &crate::report::Report) -> Option<usize> {
    r.assumptions
        .iter()
        .find(|a| a.key == "subrequests")
        .and_then(|a| a.value.split(' ').next())
        .and_then(|n| n.parse().ok())
}

/// The body of a 429: which limit, and when to come back.
pub fn rate_limited_message(which: &str, w: crate::limits::Window, retry_after: u32) -> String {
    format!(
        "too many audits {which}: at most {} in {}; try again in {retry_after} s",
        w.limit,
        if w.period_secs.is_multiple_of(3600) {
            format!("{} h", w.period_secs / 3600)
        } else if w.period_secs.is_multiple_of(60) {
            format!("{} min", w.period_secs / 60)
        } else {
            format!("{} s", w.period_secs)
        }
    )
}

/// Pages under this path may be framed by any site.
pub const WIDGET_PREFIX: &str = "/widget/";

const CSP_BASE: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; form-action 'self'; object-src 'none'";

/// The widget's page: it may show the embedding site's logo (any https
/// image) and talk to a self-hosted API named by `data-api` (any https
/// origin); it sends nothing but the domain typed into it.
const CSP_WIDGET: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self' https:; \
    base-uri 'none'; form-action 'self'; object-src 'none'";

/// Content-Security-Policy for a path.
pub fn csp(path: &str) -> String {
    if path.starts_with(WIDGET_PREFIX) {
        format!("{CSP_WIDGET}; frame-ancestors *")
    } else {
        format!("{CSP_BASE}; frame-ancestors 'none'")
    }
}

/// Headers for every response (site and API), CSP excluded.
pub const COMMON_HEADERS: &[(&str, &str)] = &[
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

/// Every security header for a response to `path`.
pub fn security_headers(path: &str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = COMMON_HEADERS
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    out.push(("content-security-policy", csp(path)));
    if !path.starts_with(WIDGET_PREFIX) {
        out.push(("x-frame-options", "DENY".into()));
    }
    out
}

/// CORS headers for API responses: any origin, no credentials.
pub const CORS_HEADERS: &[(&str, &str)] = &[
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "GET, POST, OPTIONS"),
    ("access-control-allow-headers", "content-type, accept"),
    ("access-control-max-age", "86400"),
    // Readable by cross-origin callers: whether a report came from the
    // cache, and when to retry after a 429.
    (
        "access-control-expose-headers",
        "x-mailaudit-cache, retry-after",
    ),
];

/// The `_headers` file of Workers static assets (and Cloudflare Pages).
pub fn assets_headers_file() -> String {
    let mut out = String::from("# Written by `cargo xtask build-site` from mailaudit_core::web.\n");
    out.push_str("/*\n");
    for (k, v) in security_headers("/") {
        out.push_str(&format!("  {k}: {v}\n"));
    }
    out.push_str(&format!("{WIDGET_PREFIX}*\n"));
    out.push_str("  ! content-security-policy\n  ! x-frame-options\n");
    out.push_str(&format!(
        "  content-security-policy: {}\n",
        csp(WIDGET_PREFIX)
    ));
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn request_prologue_refuses_and_logs_as_the_hosts_did() {
        let mut log = AuditLog::new("post");
        let r = audit_request(b"{", &mut log).unwrap_err();
        assert_eq!(
            (r.status, r.code, log.outcome),
            (400, "bad_request", "bad_request")
        );
        assert!(
            r.message.starts_with("expected a JSON body"),
            "{}",
            r.message
        );
        assert_eq!(log.target, None);

        let mut log = AuditLog::new("post");
        let r = audit_request(br#"{"domain": "no domain"}"#, &mut log).unwrap_err();
        assert_eq!(
            (r.status, r.code, log.outcome),
            (400, "bad_domain", "bad_domain")
        );
        assert_eq!(log.target, None);

        let mut log = AuditLog::new("post");
        let (req, domain) = audit_request(
            br#"{"domain": "Example.ORG.", "selectors": ["s1"]}"#,
            &mut log,
        )
        .unwrap();
        assert_eq!(
            (req.selectors, log.outcome),
            (vec!["s1".to_string()], "error")
        );
        assert_eq!(log.target.as_deref(), Some(domain.as_str()));
        assert_eq!(
            domain,
            crate::audit::validate_domain("Example.ORG.").unwrap()
        );

        let mut log = AuditLog::new("get");
        let r = cached_read("example.org", Some("fresh=2"), &mut log).unwrap_err();
        assert_eq!(
            (r.status, r.code, log.outcome),
            (400, "bad_request", "bad_request")
        );
        let mut log = AuditLog::new("get");
        let r = cached_read("%20", None, &mut log).unwrap_err();
        assert_eq!((r.status, r.code), (400, "bad_domain"));
        let mut log = AuditLog::new("get");
        let (read, domain) = cached_read("example.org", Some("fresh=1"), &mut log).unwrap();
        assert!(read.fresh);
        assert_eq!(log.target.as_deref(), Some(domain.as_str()));

        let mut log = AuditLog::new("get");
        let r = log.refuse(500, "bad_config", "why".into());
        assert_eq!(
            (r.status, r.code, r.message.as_str(), log.outcome),
            (500, "bad_config", "why", "bad_config")
        );
    }
    use super::*;

    #[test]
    fn audit_requests_are_strict() {
        let r = AuditRequest::parse(br#"{"domain":"example.org","selectors":["a"]}"#).unwrap();
        assert_eq!(r.domain, "example.org");
        assert_eq!(r.selectors, ["a"]);
        assert!(AuditRequest::parse(br#"{"domain":"x.org","extra":1}"#).is_err());
        assert!(AuditRequest::parse(b"not json").is_err());
        let many = format!(
            r#"{{"domain":"x.org","selectors":[{}]}}"#,
            ["\"s\""; 9].join(",")
        );
        assert!(AuditRequest::parse(many.as_bytes()).is_err());
    }

    #[test]
    fn cached_reads_are_strict() {
        let r = CachedRead::parse("b%C3%BCcher.example", Some("selectors=a,%20b&fresh=1")).unwrap();
        assert_eq!(r.domain, "bücher.example");
        assert_eq!(r.selectors, ["a", "b"]);
        assert!(r.fresh);
        let r = CachedRead::parse("example.org", None).unwrap();
        assert!(!r.fresh && r.selectors.is_empty());
        assert!(CachedRead::parse("example.org", Some("fresh=yes")).is_err());
        assert!(CachedRead::parse("example.org", Some("x=1")).is_err());
        assert!(CachedRead::parse("%FF.org", None).is_err());
        let many = format!("selectors={}", ["s"; 9].join(","));
        assert!(CachedRead::parse("example.org", Some(&many)).is_err());
    }

    #[test]
    fn log_lines_name_no_client_address() {
        let mut l = AuditLog::new("get");
        l.target = Some("example.org".into());
        l.client = Some(crate::limits::client_key("192.0.2.7", "s"));
        l.cache = Some("miss");
        let r = crate::report::Report::new(
            "example.org",
            "2026-01-01T00:00:00Z",
            vec![crate::report::Assumption::new(
                "subrequests",
                "38 of 50 used",
            )],
            vec![],
        );
        l.report(&r);
        let v: serde_json::Value = serde_json::from_str(&l.line()).unwrap();
        assert_eq!(v["event"], "audit");
        assert_eq!(v["outcome"], "ok");
        assert_eq!(v["subrequests"], 38);
        assert_eq!(v["cache"], "miss");
        assert!(!l.line().contains("192.0.2.7"));
        assert_eq!(
            rate_limited_message("for this domain", crate::limits::Window::PER_TARGET, 12),
            "too many audits for this domain: at most 10 in 1 h; try again in 12 s"
        );
    }

    #[test]
    fn ndjson_lines() {
        assert!(ndjson::wanted(Some("application/x-ndjson")));
        assert!(ndjson::wanted(Some(
            "text/plain, Application/X-NDJSON; q=0.9"
        )));
        assert!(!ndjson::wanted(Some("application/json")));
        assert!(!ndjson::wanted(None));
        let start: serde_json::Value =
            serde_json::from_str(&ndjson::start("xn--bcher-kva.example")).unwrap();
        assert_eq!(start["type"], "start");
        assert_eq!(start["target"], "xn--bcher-kva.example");
        assert_eq!(start["unicode"], "bücher.example");
        let total: u64 = start["areas"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(total as usize, crate::audit::domain_rules().count());
        assert!(start["areas"]["dns"].as_u64().unwrap() >= 4);
        assert!(start["areas"].get("config").is_none());
        let plain: serde_json::Value = serde_json::from_str(&ndjson::start("example.org")).unwrap();
        assert!(plain.get("unicode").is_none());
        for l in [
            ndjson::start("example.org"),
            ndjson::error("internal", "a\nb"),
        ] {
            assert!(l.ends_with('\n') && !l[..l.len() - 1].contains('\n'));
        }
    }

    #[test]
    fn only_the_widget_may_be_framed() {
        assert!(csp("/").contains("frame-ancestors 'none'"));
        assert!(csp("/widget/frame.html").contains("frame-ancestors *"));
        assert!(csp("/widget/").contains("frame-ancestors *"));
        assert!(csp("/widget.js").contains("frame-ancestors 'none'"));
        assert!(csp("/demo/").contains("frame-ancestors 'none'"));
        // Only the widget may load remote logos or talk to another API.
        assert!(csp("/widget/").contains("connect-src 'self' https:"));
        assert!(csp("/").contains("connect-src 'self';"));
        assert!(csp("/").contains("img-src 'self' data:;"));
        let h = security_headers("/index.html");
        assert!(h
            .iter()
            .any(|(k, v)| *k == "x-frame-options" && v == "DENY"));
        let w = security_headers("/widget/frame.html");
        assert!(!w.iter().any(|(k, _)| *k == "x-frame-options"));
    }

    #[test]
    fn no_inline_script_is_allowed() {
        let c = csp("/");
        let script = c
            .split(';')
            .find(|d| d.trim_start().starts_with("script-src"))
            .unwrap();
        assert!(!script.contains("unsafe-inline"), "{script}");
        assert!(!script.contains('*'));
    }

    #[test]
    fn headers_file_has_both_sections() {
        let f = assets_headers_file();
        assert!(f.contains("/*\n  strict-transport-security"));
        assert!(f.contains("/widget/*\n  ! content-security-policy"));
    }
}
