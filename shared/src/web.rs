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
