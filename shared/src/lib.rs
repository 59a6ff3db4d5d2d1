//! # mailaudit-core
//!
//! The rule engine behind every face of mailaudit (website, Worker, CLI).
//! It parses what it is given — pasted configuration files, DNS answers —
//! judges it against the rules in [`rules`], and returns a [`report::Report`].
//!
//! Invariants (see ARCHITECTURE.md):
//! - no I/O: all network access goes through the host's [`net::Network`];
//! - no clock: hosts pass the time in;
//! - parsers never fail on untrusted input: they return a model plus
//!   diagnostics, or an error value, and never panic;
//! - one constructor per rule id: findings are made by [`rules::Rule::finding`].

pub mod addr;
pub mod audit;
pub mod config;
pub mod critical_path;
pub mod dmarcrep;
pub mod dns;
pub mod limits;
pub mod logs;
pub mod monitor;
pub mod net;
pub mod probe;
pub mod render;
pub mod report;
pub mod rules;
pub mod score;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tls;
pub mod view;
pub mod web;

pub use report::{Evidence, Finding, Report, Severity, Status};
