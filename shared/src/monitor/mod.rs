//! Monitoring of registered domains (the Worker's Cron Trigger): proving
//! control of a domain, checking a webhook URL, the compact snapshot kept
//! of each daily audit, the changes between two snapshots, and the webhook
//! payloads (Slack, Microsoft Teams, generic JSON). Pure and deterministic:
//! hosts pass the random bytes, the time and the DNS answers in.
//!
//! - **Control**: a registration gets a random token; the owner publishes
//!   `TXT "mailaudit-verify=<token>"` at `_mailaudit.<domain>`
//!   ([`txt_name`], [`txt_value`]) and asks for verification. Tokens are
//!   per registration (never derived from the domain), so a stranger's
//!   pending registration is not activated by the owner's record.
//! - **Management**: a registration also gets a random management key,
//!   returned once and stored only as its SHA-256 ([`key_hash`]); reading or
//!   deleting a registration needs it (the TXT token is public in DNS).
//! - **Webhooks** ([`check_webhook_url`], [`check_webhook_addresses`]):
//!   `https` only, no credentials in the URL, a host name (resolved by the
//!   host through its own DoH resolver; every address must be public
//!   unicast, [`crate::addr::AddressPolicy::public_only`]) or a public IP
//!   literal. Slack and Teams webhook URLs are secrets: they are never
//!   logged nor shown back, only their host ([`WebhookCheck::host`]).
//! - **Changes** ([`diff`]): a check whose status changed, a blocklist
//!   finding that lists something new, a certificate expiry that fails or
//!   warns (reported each day while it does), and DNS records added or
//!   removed. A check that could not be decided today (`unknown`) keeps its
//!   last decided state in the snapshot ([`Snapshot::carry_forward`]), so a
//!   resolver hiccup is not reported as a change and the next decided
//!   state is compared with the last one that was known.

use crate::addr::AddressPolicy;
use crate::report::{Evidence, Report, Status, Summary};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The label under which the verification TXT record is published.
pub const TXT_LABEL: &str = "_mailaudit";
/// The prefix of the verification record's value.
pub const TXT_PREFIX: &str = "mailaudit-verify=";
/// Longest webhook URL accepted.
pub const MAX_WEBHOOK_LEN: usize = 2048;
/// Days a pending registration waits for its TXT record.
pub const PENDING_DAYS: u32 = 2;
/// Hours between two audits of one monitored domain.
pub const INTERVAL_HOURS: u32 = 24;
/// Most entries of each list in a webhook message (the rest are counted).
pub const MAX_ITEMS: usize = 20;

/// The name to publish the TXT record at.
pub fn txt_name(domain: &str) -> String {
    format!("{TXT_LABEL}.{domain}")
}

/// The TXT record's value for `token`.
pub fn txt_value(token: &str) -> String {
    format!("{TXT_PREFIX}{token}")
}

/// Hex of random bytes: a token or a management key (hosts pass 16 bytes
/// or more from the platform's cryptographic random source).
pub fn random_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether one of the TXT strings found at [`txt_name`] carries `token`.
pub fn verified(token: &str, txt: &[String]) -> bool {
    let want = txt_value(token);
    !token.is_empty() && txt.iter().any(|t| t.trim() == want)
}

/// The SHA-256 (hex) under which a management key is stored.
pub fn key_hash(key: &str) -> String {
    random_hex(&Sha256::digest(key.trim().as_bytes()))
}

/// Whether `key` is the one stored as `hash` (comparison of hashes, so the
/// time it takes tells nothing about the key).
pub fn key_matches(key: &str, hash: &str) -> bool {
    !key.trim().is_empty() && key_hash(key) == hash
}

/// The message format a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Slack incoming webhook (`text` plus Block Kit `blocks`).
    Slack,
    /// Microsoft Teams workflow webhook (an Adaptive Card message).
    Teams,
    /// The change set as JSON ([`Message::json`]).
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "slack" => Some(Format::Slack),
            "teams" => Some(Format::Teams),
            "json" | "generic" => Some(Format::Json),
            _ => None,
        }
    }
}

/// The body of `POST /api/v1/monitor`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub domain: String,
    pub webhook: String,
    #[serde(default)]
    pub format: Option<String>,
}

impl RegisterRequest {
    /// Parses a request body; the error is the message for a 400.
    pub fn parse(body: &[u8]) -> Result<(RegisterRequest, Format), String> {
        let r: RegisterRequest = serde_json::from_slice(body).map_err(|e| {
            format!(
                "expected a JSON body like {{\"domain\": \"example.org\", \"webhook\": \
                 \"https://hooks.example.net/…\", \"format\": \"json\"}}: {e}"
            )
        })?;
        let format = match r.format.as_deref() {
            None => Format::Json,
            Some(f) => Format::parse(f).ok_or_else(|| {
                format!("unknown format {f:?}: use \"slack\", \"teams\" or \"json\"")
            })?,
        };
        Ok((r, format))
    }
}

/// The body of `POST /api/v1/monitor/verify`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub domain: String,
    pub token: String,
}

impl VerifyRequest {
    pub fn parse(body: &[u8]) -> Result<VerifyRequest, String> {
        let r: VerifyRequest = serde_json::from_slice(body).map_err(|e| {
            format!(
                "expected a JSON body like {{\"domain\": \"example.org\", \"token\": \"…\"}}: {e}"
            )
        })?;
        if r.token.len() != 32 || !r.token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the token is the 32 hex digits the registration returned".into());
        }
        Ok(r)
    }
}

/// What the host must still do to accept a webhook URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookCheck {
    /// The URL, normalised.
    pub url: String,
    /// Its host (what logs and answers may show; the path is a secret).
    pub host: String,
    /// A host name whose addresses must all be checked with
    /// [`check_webhook_addresses`] before each post (`None`: an IP literal
    /// already checked, or the test origin).
    pub resolve: Option<String>,
}

/// Checks a webhook URL. `test_origin` (a test-only setting, e.g.
/// `http://127.0.0.1:8787`) is the one origin allowed without the checks.
pub fn check_webhook_url(raw: &str, test_origin: Option<&str>) -> Result<WebhookCheck, String> {
    let raw = raw.trim();
    if raw.len() > MAX_WEBHOOK_LEN {
        return Err(format!(
            "the webhook URL is longer than {MAX_WEBHOOK_LEN} characters"
        ));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("the webhook is not a URL: {e}"))?;
    let host = url.host_str().unwrap_or_default().to_string();
    if let Some(origin) = test_origin.filter(|o| !o.trim().is_empty()) {
        if url.origin().ascii_serialization() == origin.trim().trim_end_matches('/') {
            return Ok(WebhookCheck {
                url: url.to_string(),
                host,
                resolve: None,
            });
        }
    }
    if url.scheme() != "https" {
        return Err("the webhook URL must use https".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the webhook URL must not carry a user name or password".into());
    }
    let resolve = match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            AddressPolicy::public_only().check(IpAddr::V4(ip))?;
            None
        }
        Some(url::Host::Ipv6(ip)) => {
            AddressPolicy::public_only().check(IpAddr::V6(ip))?;
            None
        }
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if !name.contains('.')
                || name == "localhost"
                || name.ends_with(".localhost")
                || crate::dns::psl::is_public_suffix(&name)
            {
                return Err(format!("the webhook host {name} is not a public host name"));
            }
            Some(name)
        }
        None => return Err("the webhook URL has no host".into()),
    };
    Ok(WebhookCheck {
        url: url.to_string(),
        host,
        resolve,
    })
}

/// Checks the addresses a webhook host name resolved to: at least one, and
/// every one public unicast.
pub fn check_webhook_addresses(host: &str, addrs: &[IpAddr]) -> Result<(), String> {
    if addrs.is_empty() {
        return Err(format!("the webhook host {host} has no address"));
    }
    let policy = AddressPolicy::public_only();
    for ip in addrs {
        policy
            .check(*ip)
            .map_err(|why| format!("the webhook host {host} is refused: {why}"))?;
    }
    Ok(())
}

/// One check's state in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub status: Status,
    pub title: String,
    pub detail: String,
}

/// What a monitoring run keeps of a report: each check's state and each
/// DNS question's answers (TTLs taken out), keyed for comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub generated_at: String,
    pub summary: Summary,
    /// By rule id (one finding per rule in a domain audit).
    pub checks: BTreeMap<String, Item>,
    /// `"<name> <type>"` → the answers (`<name> <type> <data>`), sorted;
    /// NXDOMAIN and an empty NOERROR are both an empty list.
    pub dns: BTreeMap<String, Vec<String>>,
}

/// Answer strings `name TTL TYPE data` without the TTL.
fn without_ttl(answer: &str) -> String {
    let mut parts = answer.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(name), Some(ttl), Some(rest)) if ttl.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{name} {rest}")
        }
        _ => answer.to_string(),
    }
}

impl Snapshot {
    /// The snapshot of a domain audit. Blocklist questions are left out of
    /// `dns` (their answers are judged by the blocklist checks).
    pub fn of(report: &Report) -> Snapshot {
        let mut checks = BTreeMap::new();
        let mut dns = BTreeMap::new();
        for f in &report.findings {
            checks.entry(f.id.clone()).or_insert_with(|| Item {
                status: f.status,
                title: f.title.clone(),
                detail: f.detail.clone(),
            });
            if f.id.starts_with("blocklist.") {
                continue;
            }
            for e in &f.evidence {
                if let Evidence::Dns {
                    query,
                    rtype,
                    rcode,
                    answers,
                } = e
                {
                    // Only definite answers say what the records are.
                    if rcode != "NOERROR" && rcode != "NXDOMAIN" {
                        continue;
                    }
                    let mut set: Vec<String> = answers.iter().map(|a| without_ttl(a)).collect();
                    set.sort();
                    set.dedup();
                    dns.entry(format!("{query} {rtype}")).or_insert(set);
                }
            }
        }
        Snapshot {
            generated_at: report.generated_at.clone(),
            summary: report.summary.clone(),
            checks,
            dns,
        }
    }

    /// Keeps from `previous` the state of every check that is `unknown`
    /// now and was decided then, and the answers of every question not
    /// answered definitely now.
    pub fn carry_forward(&mut self, previous: &Snapshot) {
        for (id, old) in &previous.checks {
            let undecided = self
                .checks
                .get(id)
                .is_none_or(|now| now.status == Status::Unknown);
            if undecided && old.status != Status::Unknown {
                self.checks.insert(id.clone(), old.clone());
            }
        }
        for (q, old) in &previous.dns {
            self.dns.entry(q.clone()).or_insert_with(|| old.clone());
        }
    }
}

/// Why a check is in a change set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Its status changed.
    Status,
    /// A blocklist check lists something it did not list before.
    NewListing,
    /// A certificate expires soon or has expired (reported daily).
    Certificate,
}

/// One check in a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub id: String,
    pub kind: ChangeKind,
    pub title: String,
    /// The previous status (absent for a check new in this audit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Status>,
    pub after: Status,
    pub detail: String,
}

/// DNS records of one question that appeared or went away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsChange {
    /// `"<name> <type>"`.
    pub question: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// The changes between two snapshots of one domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub checks: Vec<Change>,
    pub dns: Vec<DnsChange>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.dns.is_empty()
    }
}

fn bad(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Warn)
}

/// The changes from `before` to `after` (both already carried forward).
pub fn diff(before: &Snapshot, after: &Snapshot) -> Diff {
    let mut out = Diff::default();
    for (id, now) in &after.checks {
        let old = before.checks.get(id);
        let kind = match old {
            Some(o) if o.status != now.status => Some(ChangeKind::Status),
            None if now.status != Status::Unknown => Some(ChangeKind::Status),
            Some(o)
                if id.starts_with("blocklist.")
                    && id != "blocklist.inconclusive"
                    && bad(now.status)
                    && o.detail != now.detail =>
            {
                Some(ChangeKind::NewListing)
            }
            Some(_) if id.ends_with("cert_expiry") && bad(now.status) => {
                Some(ChangeKind::Certificate)
            }
            _ => None,
        };
        if let Some(kind) = kind {
            out.checks.push(Change {
                id: id.clone(),
                kind,
                title: now.title.clone(),
                before: old.map(|o| o.status),
                after: now.status,
                detail: now.detail.clone(),
            });
        }
    }
    // Worst first, then by id.
    out.checks
        .sort_by(|a, b| a.after.cmp(&b.after).then(a.id.cmp(&b.id)));
    let questions: BTreeSet<&String> = before.dns.keys().chain(after.dns.keys()).collect();
    for q in questions {
        let empty = Vec::new();
        let old = before.dns.get(q).unwrap_or(&empty);
        let new = after.dns.get(q).unwrap_or(&empty);
        let added: Vec<String> = new.iter().filter(|a| !old.contains(a)).cloned().collect();
        let removed: Vec<String> = old.iter().filter(|a| !new.contains(a)).cloned().collect();
        if !added.is_empty() || !removed.is_empty() {
            out.dns.push(DnsChange {
                question: q.clone(),
                added,
                removed,
            });
        }
    }
    out
}

/// One webhook message: the first audit of a newly monitored domain (the
/// baseline, `diff` empty) or a change set.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    pub domain: &'a str,
    pub checked_at: &'a str,
    pub summary: &'a Summary,
    /// `None` for the baseline.
    pub diff: Option<&'a Diff>,
    /// Where a person reads the full report (the shareable link).
    pub report_url: &'a str,
}

fn status_word(s: Option<Status>) -> &'static str {
    s.map_or("new", Status::as_str)
}

/// Cuts a detail to one short paragraph for chat messages.
fn short(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or_default();
    if first.chars().count() <= max {
        first.to_string()
    } else {
        let cut: String = first.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Slack's mrkdwn escapes (`&`, `<`, `>`).
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Message<'_> {
    fn headline(&self) -> String {
        match self.diff {
            None => format!(
                "mailaudit now monitors {}: {} fail, {} warn",
                self.domain, self.summary.fail, self.summary.warn
            ),
            Some(d) => format!(
                "mailaudit: {} changed ({} check{}, {} DNS question{})",
                self.domain,
                d.checks.len(),
                if d.checks.len() == 1 { "" } else { "s" },
                d.dns.len(),
                if d.dns.len() == 1 { "" } else { "s" }
            ),
        }
    }

    /// Plain-text lines of the change set (capped at [`MAX_ITEMS`] each).
    fn lines(&self) -> Vec<String> {
        let Some(d) = self.diff else {
            return Vec::new();
        };
        let mut lines: Vec<String> = d
            .checks
            .iter()
            .take(MAX_ITEMS)
            .map(|c| {
                format!(
                    "{} {} → {}: {}",
                    c.id,
                    status_word(c.before),
                    c.after.as_str(),
                    short(&c.detail, 200)
                )
            })
            .collect();
        if d.checks.len() > MAX_ITEMS {
            lines.push(format!("… and {} more checks", d.checks.len() - MAX_ITEMS));
        }
        for c in d.dns.iter().take(MAX_ITEMS) {
            let mut parts = Vec::new();
            if !c.added.is_empty() {
                parts.push(format!("+ {}", c.added.join(", ")));
            }
            if !c.removed.is_empty() {
                parts.push(format!("− {}", c.removed.join(", ")));
            }
            lines.push(format!(
                "DNS {}: {}",
                c.question,
                short(&parts.join("; "), 300)
            ));
        }
        if d.dns.len() > MAX_ITEMS {
            lines.push(format!(
                "… and {} more DNS questions",
                d.dns.len() - MAX_ITEMS
            ));
        }
        lines
    }

    /// The generic JSON body.
    pub fn json(&self) -> serde_json::Value {
        let empty = Diff::default();
        let d = self.diff.unwrap_or(&empty);
        json!({
            "event": if self.diff.is_some() { "mailaudit.monitor.changed" } else { "mailaudit.monitor.baseline" },
            "domain": self.domain,
            "checked_at": self.checked_at,
            "summary": self.summary,
            "changes": d.checks,
            "dns_changes": d.dns,
            "report_url": self.report_url,
        })
    }

    /// A Slack incoming-webhook body: `text` (notifications) and blocks.
    pub fn slack(&self) -> serde_json::Value {
        let head = self.headline();
        let mut blocks = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": short(&head, 150)},
        })];
        let body: Vec<String> = self
            .lines()
            .iter()
            .map(|l| format!("• {}", slack_escape(l)))
            .collect();
        // A section's text is limited to 3000 characters.
        for chunk in body.chunks(8) {
            blocks.push(json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": short_block(&chunk.join("\n"))},
            }));
        }
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!(
                "Checked {} · <{}|full report>", slack_escape(self.checked_at), self.report_url)}],
        }));
        json!({"text": slack_escape(&head), "blocks": blocks})
    }

    /// A Microsoft Teams workflow body: a message with one Adaptive Card.
    pub fn teams(&self) -> serde_json::Value {
        let mut body = vec![json!({
            "type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
            "text": self.headline(),
        })];
        for l in self.lines() {
            body.push(json!({"type": "TextBlock", "wrap": true, "text": l}));
        }
        body.push(json!({
            "type": "TextBlock", "isSubtle": true, "wrap": true,
            "text": format!("Checked {}", self.checked_at),
        }));
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                    "actions": [{"type": "Action.OpenUrl", "title": "Full report", "url": self.report_url}],
                },
            }],
        })
    }

    /// The body in `format`.
    pub fn body(&self, format: Format) -> String {
        match format {
            Format::Slack => self.slack(),
            Format::Teams => self.teams(),
            Format::Json => self.json(),
        }
        .to_string()
    }
}

fn short_block(text: &str) -> String {
    if text.chars().count() <= 2900 {
        text.to_string()
    } else {
        let cut: String = text.chars().take(2900).collect();
        format!("{cut}…")
    }
}

/// A monitoring registration as stored (KV value, JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub domain: String,
    pub webhook: String,
    pub format: Format,
    /// The TXT token (public once published).
    pub token: String,
    /// SHA-256 of the management key ([`key_hash`]).
    pub key_hash: String,
    pub created_at: String,
    /// The origin of the deployment it was registered on (the messages
    /// link to `<site>/?domain=<domain>`, the page's shareable link).
    #[serde(default)]
    pub site: String,
    /// When the TXT record was found (absent while pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    /// The last audit's snapshot (absent before the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Snapshot>,
    /// When the last webhook post failed, and why (cleared on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Webhook posts that failed in a row: the change set is kept and
    /// retried hourly, [`MAX_FAILURES`] times, then dropped.
    #[serde(default)]
    pub failures: u32,
}

/// Failed posts of one change set before it is given up.
pub const MAX_FAILURES: u32 = 5;

impl Registration {
    /// The page's shareable link of this domain's report.
    pub fn report_url(&self) -> String {
        format!(
            "{}/?domain={}",
            self.site.trim_end_matches('/'),
            self.domain
        )
    }
}

/// What the owner may read back (no webhook URL, no token hash).
pub fn public_view(r: &Registration) -> serde_json::Value {
    let host = url::Url::parse(&r.webhook)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    json!({
        "domain": r.domain,
        "state": if r.verified_at.is_some() { "active" } else { "pending" },
        "format": r.format,
        "webhook_host": host,
        "created_at": r.created_at,
        "verified_at": r.verified_at,
        "last_checked_at": r.last.as_ref().map(|s| s.generated_at.clone()),
        "last_summary": r.last.as_ref().map(|s| s.summary.clone()),
        "last_error": r.last_error,
    })
}

/// Seconds since the epoch of an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SSZ`
/// (what hosts pass as `now`); `None` for anything else.
pub fn epoch_secs(t: &str) -> Option<u64> {
    let b = t.as_bytes();
    if b.len() < 20 || b.get(19) != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = t.get(r)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from civil (H. Hinnant's algorithm), years from 1970 on.
    let (y, m) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y / 400;
    let yoe = y % 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

#[cfg(test)]
mod tests;
