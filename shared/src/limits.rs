//! Rate limits and cache keys of the public service (the Worker and
//! `mailaudit serve`). Pure: the host passes the time in (milliseconds since
//! the Unix epoch) and keeps the state where it can — a Durable Object per
//! key in the Worker, a map in `serve`. Both run this logic, so the limits
//! mean the same on both.
//!
//! A limit is "at most `limit` audits in any `period`": a sliding log of the
//! times of the allowed audits within the period, at most `limit` long, so
//! a key never holds more than `limit` numbers. A refused audit is not
//! logged; it is told when the oldest logged audit leaves the window
//! (`Retry-After`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// At most `limit` audits in any `period_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub limit: u32,
    pub period_secs: u32,
}

/// The largest limit a window may have (it bounds a log's length).
pub const MAX_LIMIT: u32 = 10_000;

impl Window {
    /// Audits of one target domain: 10 an hour.
    pub const PER_TARGET: Window = Window {
        limit: 10,
        period_secs: 3600,
    };
    /// Audits one client asks for: 30 in 10 minutes.
    pub const PER_CLIENT: Window = Window {
        limit: 30,
        period_secs: 600,
    };

    fn period_ms(self) -> u64 {
        u64::from(self.period_secs) * 1000
    }

    fn limit(self) -> usize {
        self.limit.min(MAX_LIMIT) as usize
    }
}

/// The answer to one audit asking to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "lowercase")]
pub enum Decision {
    /// Logged; `remaining` more fit in the window now.
    Allowed { remaining: u32 },
    /// Not logged; the oldest logged audit leaves the window in
    /// `retry_after_secs` (at least 1).
    Limited { retry_after_secs: u32 },
}

impl Decision {
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }
}

/// The times (ms) of the audits allowed within the window, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlidingLog {
    hits: Vec<u64>,
}

impl SlidingLog {
    /// Forgets the audits that left the window at `now_ms`.
    fn prune(&mut self, now_ms: u64, w: Window) {
        let period = w.period_ms();
        self.hits.retain(|&t| t.saturating_add(period) > now_ms);
        // A window made smaller since the log was written keeps the newest.
        let keep = w.limit();
        if self.hits.len() > keep {
            self.hits.drain(..self.hits.len() - keep);
        }
    }

    /// One audit asks to go ahead at `now_ms`: logged and allowed if the
    /// window has room, refused (not logged) otherwise.
    pub fn hit(&mut self, now_ms: u64, w: Window) -> Decision {
        self.prune(now_ms, w);
        let limit = w.limit();
        if self.hits.len() < limit {
            // A clock that went back never reorders the log.
            let t = self.hits.last().map_or(now_ms, |&last| last.max(now_ms));
            self.hits.push(t);
            return Decision::Allowed {
                remaining: (limit - self.hits.len()) as u32,
            };
        }
        let oldest = self.hits.first().copied().unwrap_or(now_ms);
        let free_at = oldest.saturating_add(w.period_ms());
        let wait_ms = free_at.saturating_sub(now_ms);
        Decision::Limited {
            retry_after_secs: u32::try_from(wait_ms.div_ceil(1000))
                .unwrap_or(u32::MAX)
                .max(1),
        }
    }

    /// When the newest logged audit leaves the window (the log is then
    /// empty and may be dropped); `None` when it is empty already.
    pub fn idle_at(&self, w: Window) -> Option<u64> {
        self.hits.last().map(|t| t.saturating_add(w.period_ms()))
    }

    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }
}

/// Many keys under one window, in memory (`mailaudit serve`). At most
/// `max_keys` logs are kept: past that, logs whose window is over are
/// dropped first, then the ones that went idle earliest.
#[derive(Debug, Clone)]
pub struct Limiter {
    window: Window,
    max_keys: usize,
    logs: HashMap<String, SlidingLog>,
}

impl Limiter {
    pub fn new(window: Window, max_keys: usize) -> Limiter {
        Limiter {
            window,
            max_keys: max_keys.max(1),
            logs: HashMap::new(),
        }
    }

    pub fn window(&self) -> Window {
        self.window
    }

    pub fn hit(&mut self, key: &str, now_ms: u64) -> Decision {
        if !self.logs.contains_key(key) && self.logs.len() >= self.max_keys {
            self.evict(now_ms);
        }
        let w = self.window;
        self.logs.entry(key.to_string()).or_default().hit(now_ms, w)
    }

    fn evict(&mut self, now_ms: u64) {
        let w = self.window;
        self.logs
            .retain(|_, log| log.idle_at(w).is_some_and(|t| t > now_ms));
        while self.logs.len() >= self.max_keys {
            let Some(key) = self
                .logs
                .iter()
                .min_by_key(|(_, log)| log.idle_at(w))
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.logs.remove(&key);
        }
    }

    pub fn keys(&self) -> usize {
        self.logs.len()
    }
}

/// The rate-limit key of a client address: a hash, so no address is kept
/// or logged. `salt` (a deployment secret) keeps the hash from being
/// reversed by trying every IPv4 address.
pub fn client_key(address: &str, salt: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(address.trim().to_ascii_lowercase().as_bytes());
    let digest = h.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("client:{hex}")
}

/// The rate-limit key of an audited domain (already validated).
pub fn target_key(domain: &str) -> String {
    format!("target:{domain}")
}

/// The cache key of an audit: the validated domain and the DKIM selectors
/// asked for, normalised, sorted and without repeats — so `["B","a"]` and
/// `["a","b"]` share a cached report.
pub fn cache_key(domain: &str, selectors: &[String]) -> String {
    let mut sel: Vec<String> = selectors
        .iter()
        .map(|s| {
            crate::dns::dkim::normalize_selector(s)
                .unwrap_or_else(|_| s.trim().to_ascii_lowercase())
        })
        .collect();
    sel.sort();
    sel.dedup();
    if sel.is_empty() {
        domain.to_string()
    } else {
        format!("{domain}?selectors={}", sel.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Window = Window {
        limit: 3,
        period_secs: 60,
    };

    #[test]
    fn a_window_allows_its_limit_then_says_when_to_retry() {
        let mut log = SlidingLog::default();
        assert_eq!(log.hit(1_000, W), Decision::Allowed { remaining: 2 });
        assert_eq!(log.hit(11_000, W), Decision::Allowed { remaining: 1 });
        assert_eq!(log.hit(21_000, W), Decision::Allowed { remaining: 0 });
        // The first audit leaves the window at 61 s.
        assert_eq!(
            log.hit(30_500, W),
            Decision::Limited {
                retry_after_secs: 31
            }
        );
        // Refusals are not logged: nothing moves the retry time.
        assert_eq!(
            log.hit(60_999, W),
            Decision::Limited {
                retry_after_secs: 1
            }
        );
        assert!(log.hit(61_000, W).allowed());
        assert!(!log.hit(61_001, W).allowed());
        // Much later, the window is empty again.
        assert_eq!(log.hit(500_000, W), Decision::Allowed { remaining: 2 });
        assert_eq!(log.idle_at(W), Some(560_000));
    }

    #[test]
    fn a_log_never_grows_past_its_limit() {
        let mut log = SlidingLog::default();
        for t in 0..1000 {
            log.hit(t, W);
        }
        assert_eq!(log.hits.len(), 3);
        // A window made smaller keeps the newest audits only.
        let small = Window {
            limit: 1,
            period_secs: 60,
        };
        assert!(!log.hit(1000, small).allowed());
        assert_eq!(log.hits.len(), 1);
        // Absurd limits are capped.
        let huge = Window {
            limit: u32::MAX,
            period_secs: u32::MAX,
        };
        let mut log = SlidingLog::default();
        assert_eq!(
            log.hit(u64::MAX, huge),
            Decision::Allowed {
                remaining: MAX_LIMIT - 1
            }
        );
    }

    #[test]
    fn a_clock_that_goes_back_is_harmless() {
        let mut log = SlidingLog::default();
        log.hit(100_000, W);
        log.hit(50_000, W);
        log.hit(0, W);
        assert_eq!(log.hits, [100_000, 100_000, 100_000]);
        assert_eq!(
            log.hit(0, W),
            Decision::Limited {
                retry_after_secs: 160
            }
        );
    }

    #[test]
    fn the_limiter_keeps_keys_apart_and_bounded() {
        let mut l = Limiter::new(W, 2);
        for _ in 0..3 {
            assert!(l.hit("a", 0).allowed());
        }
        assert!(!l.hit("a", 0).allowed());
        assert!(l.hit("b", 0).allowed());
        // A third key evicts the log that goes idle first ("b" at 60 s
        // ties "a"; either way only two logs are kept).
        assert!(l.hit("c", 1).allowed());
        assert_eq!(l.keys(), 2);
        // Logs whose window is over are dropped before live ones.
        let mut l = Limiter::new(W, 2);
        l.hit("old", 0);
        l.hit("live", 100_000);
        l.hit("new", 100_001);
        assert_eq!(l.keys(), 2);
        assert!(l.logs.contains_key("live") && l.logs.contains_key("new"));
    }

    #[test]
    fn keys() {
        let k = client_key("192.0.2.1", "salt");
        assert!(k.starts_with("client:") && k.len() == "client:".len() + 16);
        assert!(!k.contains("192"));
        assert_eq!(k, client_key(" 192.0.2.1 ", "salt"));
        assert_ne!(k, client_key("192.0.2.1", "other"));
        assert_ne!(k, client_key("192.0.2.2", "salt"));
        assert_eq!(target_key("example.org"), "target:example.org");
        assert_eq!(cache_key("example.org", &[]), "example.org");
        assert_eq!(
            cache_key(
                "example.org",
                &["S2".into(), "s1._domainkey.example.org".into(), "s2".into()]
            ),
            "example.org?selectors=s1,s2"
        );
    }
}
