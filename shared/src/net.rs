//! The network boundary. The engine never owns a socket: every protocol in
//! this crate talks to the world through [`Network`], which each host
//! implements (tokio in the CLI, `fetch()`/`connect()` in the Worker, and
//! [`crate::testing::ScriptedNet`] in tests).
//!
//! Hosts enforce `timeout_ms` and `max_body` of every request; an exceeded
//! limit is an error, never a truncated success.

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
}
