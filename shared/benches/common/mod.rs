//! What every bench here shares: its arguments and the statistics it
//! prints. Included by each bench with `#[path = "common/mod.rs"] mod
//! common;` (a directory without `main.rs` is not a bench target itself).
#![allow(dead_code)] // each bench uses a part

use std::str::FromStr;

/// The bench's own arguments: `cargo bench` passes `--bench` first.
pub fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect()
}

/// Argument `i` parsed, or `default` when absent or not a `T`.
pub fn arg_or<T: FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// The median (the upper one of an even count); 0 for no runs.
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The fastest run; 0 for no runs.
pub fn min(v: &[f64]) -> f64 {
    v.iter().copied().reduce(f64::min).unwrap_or(0.0)
}

/// The slowest run; 0 for no runs.
pub fn max(v: &[f64]) -> f64 {
    v.iter().copied().reduce(f64::max).unwrap_or(0.0)
}

/// CPU time of this process so far (ms), from /proc/self/schedstat (Linux);
/// 0 elsewhere. On a busy machine wall time says little; CPU time does.
pub fn cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e6)
}
