//! [`LogStats`]: the tables and time series a host draws (the browser's
//! charts, the CLI's `--stats` JSON). Serialisable both ways, so the
//! browser's Web Worker can hand it to the page as JSON.

use serde::{Deserialize, Serialize};

/// A name and a count (formats, reasons, categories).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

/// Counts in equal time steps from `start`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// Unix seconds of the first step.
    pub start: i64,
    /// The same time, RFC 3339.
    pub start_time: String,
    pub step_secs: i64,
    pub values: Vec<u64>,
}

/// One client address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpRow {
    pub ip: String,
    pub failures: u64,
    /// Most failures within any 10 minutes (capped at [`super::PEAK_CAP`]).
    pub peak_10min: u32,
    /// Distinct user names it failed with (capped at [`super::SET_CAP`]).
    pub users: u32,
    pub relay_attempts: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Reached the brute-force threshold (5 failures in 10 minutes).
    pub bruteforce: bool,
    /// File and line of its first failed login (or relay attempt).
    pub file: String,
    pub line: u64,
}

/// One user name that failed to log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub user: String,
    pub failures: u64,
    /// Distinct client addresses (capped at [`super::SET_CAP`]).
    pub ips: u32,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// One authenticated sender's recipients per hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SenderRow {
    pub sender: String,
    pub total: u64,
    /// Median of the hours of the log window (hours without mail count as 0).
    pub median: f64,
    pub peak: u64,
    pub peak_hour: Option<String>,
    /// An hour above 5x the median and at least 50.
    pub spike: bool,
    /// Recipients per step of [`Outbound::step_hours`] hours.
    pub series: Vec<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbound {
    pub start: i64,
    pub start_time: String,
    pub step_hours: i64,
    /// Hours in the log window.
    pub hours: i64,
    pub senders: Vec<SenderRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deliveries {
    pub sent: u64,
    pub deferred: u64,
    pub bounced: u64,
    /// Deferred plus bounced over time.
    pub trouble: Series,
    /// Deferred and bounced deliveries by kind of reason.
    pub categories: Vec<Count>,
    /// The most frequent reasons (addresses and numbers masked).
    pub reasons: Vec<Count>,
}

/// TLS handshake failures with one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRow {
    pub peer: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub count: u64,
}

/// Everything measured, for tables and charts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogStats {
    pub lines: u64,
    pub bytes: u64,
    /// Lines recognised as mail log lines.
    pub recognised: u64,
    pub formats: Vec<Count>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub auth_failures: u64,
    pub auth_series: Series,
    /// Top client addresses by failed logins (then relay attempts).
    pub ips: Vec<IpRow>,
    pub users: Vec<UserRow>,
    pub outbound: Outbound,
    pub deliveries: Deliveries,
    pub relay_attempts: u64,
    /// Relay refusals of private or loopback clients (not counted as probes).
    pub relay_internal: u64,
    pub tls_failures: Vec<PeerRow>,
    pub tls_failures_total: u64,
    /// A memory cap was reached: counts are exact for what is shown, but
    /// the least active addresses or users were dropped.
    pub truncated: bool,
    pub notes: Vec<String>,
}
