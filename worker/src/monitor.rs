//! Monitoring of registered domains: the `/api/v1/monitor` routes and the
//! Cron Trigger's handler. The judgement (tokens, webhook guard, snapshot,
//! change set, payloads) is in [`mailaudit_core::monitor`]; this module
//! moves bytes between KV, DoH and the webhook.
//!
//! Storage: the KV namespace bound as `MONITOR`.
//! - `pending:<domain>:<token>` — a registration waiting for its TXT record
//!   (expires after [`monitor::PENDING_DAYS`] days);
//! - `domain:<domain>` — the active registration, its last snapshot in the
//!   value and, as the key's metadata, `{"next": <epoch secs>}`: when it is
//!   due, so the scheduler finds due domains from one `list` call without
//!   reading every value.
//!
//! Budget: each invocation of the trigger may make `MONITOR_SUBREQUESTS`
//! subrequests (default 50, the Workers Free plan's limit per invocation;
//! paid plans allow 1000 or more). A domain costs one audit (at most
//! `MONITOR_SUBREQUESTS − 3` subrequests, 50 at most) and three more (the
//! webhook host's A and AAAA look-ups and the post), so an invocation audits
//! `max(1, MONITOR_SUBREQUESTS / 53)` due domains — 1 on the free plan, 18
//! with 1000. KV calls are not subrequests (KV allows 1000 operations per
//! invocation; a run makes one `list` and a `get` and a `put` per domain). The trigger fires every 10 minutes and picks the domains due
//! longest first, so the free plan monitors up to 144 domains a day daily.
//! No cursor is needed: the due time in the metadata is the queue.

use super::{
    client_key, deadline, env_text, json_error, limit_hit, now, now_ms, window, WorkerNet,
};
use mailaudit_core::audit::{audit_domain_streaming, validate_domain};
use mailaudit_core::dns::{normalize_name, RecordType, Resolver, RrData};
use mailaudit_core::limits::{Decision, Window};
use mailaudit_core::monitor::{
    self, Message, RegisterRequest, Registration, Snapshot, VerifyRequest,
};
use mailaudit_core::net::{HttpRequest, Network};
use mailaudit_core::web;
use serde_json::json;
use std::net::IpAddr;
use worker::*;

/// The KV binding (wrangler.toml).
const BINDING: &str = "MONITOR";

/// Hours before a failed post is tried again.
const RETRY_SECS: u64 = 3600;

fn store(env: &Env) -> Result<kv::KvStore> {
    env.kv(BINDING)
}

/// `n` bytes from the platform's cryptographic random source, as hex.
fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| Error::RustError(format!("random: {e}")))?;
    Ok(monitor::random_hex(&buf))
}

fn resolver_url(env: &Env) -> String {
    env_text(env, "DOH_URL").unwrap_or_else(|| mailaudit_core::dns::DEFAULT_RESOLVER.into())
}

/// The test-only origin a webhook may use without the guard
/// (`MONITOR_TEST_WEBHOOK_ORIGIN`; never set in a deployment).
fn test_origin(env: &Env) -> Option<String> {
    env_text(env, "MONITOR_TEST_WEBHOOK_ORIGIN")
}

/// One structured log line about the monitoring API or a scheduled run.
/// It never holds a webhook URL (a secret), a token or a key.
fn log(mut line: serde_json::Value, started: u64) {
    line["duration_ms"] = json!(now_ms().saturating_sub(started));
    console_log!("{line}");
}

/// Checks a webhook URL and, for a host name, every address it resolves
/// to through our resolver. `Err` is the message shown to the user.
async fn guard_webhook(env: &Env, url: &str) -> std::result::Result<String, String> {
    let check = monitor::check_webhook_url(url, test_origin(env).as_deref())?;
    if let Some(host) = &check.resolve {
        let name = normalize_name(host).map_err(|e| format!("the webhook host: {e}"))?;
        let resolver = Resolver::new(&WorkerNet, resolver_url(env));
        let mut addrs: Vec<IpAddr> = Vec::new();
        for rtype in [RecordType::A, RecordType::AAAA] {
            let answer = resolver
                .query(&name, rtype)
                .await
                .map_err(|e| format!("the webhook host {host} could not be resolved: {e}"))?;
            if !answer.is_definite() {
                return Err(format!(
                    "the webhook host {host} could not be resolved: {}",
                    answer.rcode_text()
                ));
            }
            addrs.extend(answer.of_type().filter_map(|d| match d {
                RrData::A(a) => Some(IpAddr::V4(*a)),
                RrData::Aaaa(a) => Some(IpAddr::V6(*a)),
                _ => None,
            }));
        }
        monitor::check_webhook_addresses(host, &addrs)?;
    }
    Ok(check.url)
}

/// Registrations and verifications share one window per client
/// (`MONITOR_CLIENT_LIMIT` per `MONITOR_CLIENT_PERIOD_SECS`, default 10 an
/// hour): each costs look-ups and, for a registration, storage.
async fn admit(env: &Env, client: &str) -> Result<Option<Response>> {
    let w = window(
        env,
        "MONITOR_CLIENT_LIMIT",
        "MONITOR_CLIENT_PERIOD_SECS",
        Window {
            limit: 10,
            period_secs: 3600,
        },
    );
    if let Decision::Limited { retry_after_secs } =
        limit_hit(env, &format!("monitor:{client}"), w).await
    {
        let resp = json_error(
            429,
            "rate_limited",
            web::rate_limited_message("from your address", w, retry_after_secs)
                .replace("too many audits", "too many monitoring requests"),
        )?;
        resp.headers()
            .set("retry-after", &retry_after_secs.to_string())?;
        return Ok(Some(resp));
    }
    Ok(None)
}

/// A monitoring request past its common checks: the parsed body, its
/// validated domain, the log line so far and when it started.
struct Admitted<T> {
    body: T,
    domain: String,
    line: serde_json::Value,
    started: u64,
}

/// Reads and parses a request body (`parse`), validates its domain and asks
/// the client's window; `Err` is the answer (400 or 429), already logged.
async fn admitted<T>(
    req: &mut Request,
    env: &Env,
    route: &str,
    parse: fn(&[u8]) -> std::result::Result<T, String>,
    domain_of: fn(&T) -> String,
) -> Result<std::result::Result<Admitted<T>, Response>> {
    let started = now_ms();
    let client = client_key(req, env);
    let mut line = json!({"event": "monitor_api", "route": route, "client": client});
    let bytes = req.bytes().await.unwrap_or_default();
    let refused = |mut line: serde_json::Value, status: u16, code: &str, message: String| {
        line["outcome"] = json!(code);
        log(line, started);
        json_error(status, code, message).map(Err)
    };
    let body = match parse(&bytes) {
        Ok(b) => b,
        Err(m) => return refused(line, 400, "bad_request", m),
    };
    let domain = match validate_domain(&domain_of(&body)) {
        Ok(d) => d,
        Err(e) => return refused(line, 400, "bad_domain", e.to_string()),
    };
    line["target"] = json!(domain);
    if let Some(resp) = admit(env, &client).await? {
        line["outcome"] = json!("rate_limited");
        log(line, started);
        return Ok(Err(resp));
    }
    Ok(Ok(Admitted {
        body,
        domain,
        line,
        started,
    }))
}

/// `POST /api/v1/monitor` `{domain, webhook, format?}` → 202 with the TXT
/// record to publish, the token and the management key (shown only here).
pub async fn register(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let env = &ctx.env;
    let a = match admitted(&mut req, env, "register", RegisterRequest::parse, |r| {
        r.0.domain.clone()
    })
    .await?
    {
        Ok(a) => a,
        Err(resp) => return Ok(resp),
    };
    let ((parsed, format), domain, mut line, started) = (a.body, a.domain, a.line, a.started);
    let webhook = match guard_webhook(env, &parsed.webhook).await {
        Ok(u) => u,
        Err(m) => {
            line["outcome"] = json!("bad_webhook");
            log(line, started);
            return json_error(400, "bad_webhook", m);
        }
    };
    let token = random_hex(16)?;
    let key = random_hex(32)?;
    let reg = Registration {
        domain: domain.clone(),
        webhook,
        format,
        token: token.clone(),
        key_hash: monitor::key_hash(&key),
        created_at: now(),
        site: req.url()?.origin().ascii_serialization(),
        verified_at: None,
        last: None,
        last_error: None,
        failures: 0,
    };
    store(env)?
        .put(
            &format!("pending:{domain}:{token}"),
            serde_json::to_string(&reg)?,
        )?
        .expiration_ttl(u64::from(monitor::PENDING_DAYS) * 86_400)
        .execute()
        .await?;
    line["outcome"] = json!("pending");
    log(line, started);
    Ok(Response::from_json(&json!({
        "domain": domain,
        "state": "pending",
        "token": token,
        "management_key": key,
        "txt": {"name": monitor::txt_name(&domain), "value": monitor::txt_value(&token)},
        "next": format!(
            "Publish the TXT record, then POST /api/v1/monitor/verify {{\"domain\", \"token\"}} \
             within {} days. Keep the management key: reading or deleting the registration \
             needs it (Authorization: Bearer <key>).",
            monitor::PENDING_DAYS
        ),
    }))?
    .with_status(202))
}

/// The TXT strings published at `_mailaudit.<domain>`.
async fn txt_at(env: &Env, domain: &str) -> std::result::Result<Vec<String>, String> {
    let resolver = Resolver::new(&WorkerNet, resolver_url(env));
    let answer = resolver
        .query(&monitor::txt_name(domain), RecordType::TXT)
        .await
        .map_err(|e| e.to_string())?;
    if !answer.is_definite() {
        return Err(format!("the resolver answered {}", answer.rcode_text()));
    }
    Ok(answer.of_type().filter_map(RrData::txt_joined).collect())
}

/// `POST /api/v1/monitor/verify` `{domain, token}`: activates a pending
/// registration once its TXT record is published.
pub async fn verify(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let env = &ctx.env;
    let a = match admitted(&mut req, env, "verify", VerifyRequest::parse, |r| {
        r.domain.clone()
    })
    .await?
    {
        Ok(a) => a,
        Err(resp) => return Ok(resp),
    };
    let (parsed, domain, mut line, started) = (a.body, a.domain, a.line, a.started);
    let kv = store(env)?;
    let pending_key = format!("pending:{domain}:{}", parsed.token.to_ascii_lowercase());
    let Some(mut reg) = kv.get(&pending_key).json::<Registration>().await? else {
        line["outcome"] = json!("not_found");
        log(line, started);
        return json_error(
            404,
            "not_found",
            format!(
                "no pending registration of {domain} with this token (they expire after {} days)",
                monitor::PENDING_DAYS
            ),
        );
    };
    let txt = match txt_at(env, &domain).await {
        Ok(t) => t,
        Err(e) => {
            line["outcome"] = json!("lookup_failed");
            log(line, started);
            return json_error(
                503,
                "lookup_failed",
                format!("the TXT record could not be looked up ({e}); try again"),
            );
        }
    };
    if !monitor::verified(&reg.token, &txt) {
        line["outcome"] = json!("not_verified");
        log(line, started);
        return json_error(
            403,
            "not_verified",
            format!(
                "{} has no TXT record \"{}\" ({} TXT record{} found there); publish it and try \
                 again",
                monitor::txt_name(&domain),
                monitor::txt_value(&reg.token),
                txt.len(),
                if txt.len() == 1 { "" } else { "s" }
            ),
        );
    }
    reg.verified_at = Some(now());
    // Whoever proves control now owns the domain's registration.
    kv.put(&format!("domain:{domain}"), serde_json::to_string(&reg)?)?
        .metadata(json!({"next": 0}))?
        .execute()
        .await?;
    kv.delete(&pending_key).await?;
    line["outcome"] = json!("active");
    log(line, started);
    Response::from_json(&monitor::public_view(&reg))
}

/// The active registration of the route's domain when the request's
/// bearer key is its management key; else the 404 to answer (the same
/// whether or not the domain is registered).
async fn owned(
    req: &Request,
    ctx: &RouteContext<()>,
) -> Result<std::result::Result<(String, Registration), Response>> {
    let segment = ctx.param("domain").cloned().unwrap_or_default();
    let Ok(domain) = validate_domain(&segment) else {
        return Ok(Err(json_error(
            400,
            "bad_domain",
            format!("{segment:?} is not a domain"),
        )?));
    };
    let key = req
        .headers()
        .get("authorization")?
        .and_then(|h| h.strip_prefix("Bearer ").map(str::to_string))
        .unwrap_or_default();
    let reg = store(&ctx.env)?
        .get(&format!("domain:{domain}"))
        .json::<Registration>()
        .await?;
    match reg {
        Some(r) if monitor::key_matches(&key, &r.key_hash) => Ok(Ok((domain, r))),
        _ => Ok(Err(json_error(
            404,
            "not_found",
            format!("no registration of {domain} with this management key"),
        )?)),
    }
}

/// `GET /api/v1/monitor/{domain}` (bearer management key): the state.
pub async fn read(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let started = now_ms();
    let outcome = owned(&req, &ctx).await?;
    let ok = outcome.is_ok();
    log(
        json!({"event": "monitor_api", "route": "read", "outcome": if ok { "ok" } else { "refused" }}),
        started,
    );
    match outcome {
        Ok((_, reg)) => Response::from_json(&monitor::public_view(&reg)),
        Err(resp) => Ok(resp),
    }
}

/// `DELETE /api/v1/monitor/{domain}` (bearer management key).
pub async fn delete(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let started = now_ms();
    match owned(&req, &ctx).await? {
        Ok((domain, _)) => {
            store(&ctx.env)?.delete(&format!("domain:{domain}")).await?;
            log(
                json!({"event": "monitor_api", "route": "delete", "target": domain, "outcome": "deleted"}),
                started,
            );
            Response::from_json(&json!({"domain": domain, "state": "deleted"}))
        }
        Err(resp) => {
            log(
                json!({"event": "monitor_api", "route": "delete", "outcome": "refused"}),
                started,
            );
            Ok(resp)
        }
    }
}

/// The subrequests one invocation may make (`MONITOR_SUBREQUESTS`).
fn invocation_budget(env: &Env) -> usize {
    env_text(env, "MONITOR_SUBREQUESTS")
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &usize| *n >= 10)
        .unwrap_or(50)
}

/// Seconds between two audits of a domain (`MONITOR_INTERVAL_SECS`, a
/// day by default; tests set 0 to make every run audit again).
fn interval_secs(env: &Env) -> u64 {
    env_text(env, "MONITOR_INTERVAL_SECS")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(u64::from(monitor::INTERVAL_HOURS) * 3600)
}

/// Subrequests a domain costs besides its audit: A, AAAA, the post.
const WEBHOOK_COST: usize = 3;

#[derive(serde::Deserialize)]
struct Meta {
    next: u64,
}

/// Active registrations due at `now_secs`, longest overdue first.
async fn due_keys(kv: &kv::KvStore, now_secs: u64) -> Result<Vec<(u64, String)>> {
    let mut due = Vec::new();
    let mut cursor: Option<String> = None;
    // At most 10 pages (10,000 registrations) per invocation.
    for _ in 0..10 {
        let mut list = kv.list().prefix("domain:".into());
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let page = list.execute().await?;
        for k in page.keys {
            let next = k
                .metadata
                .and_then(|m| serde_json::from_value::<Meta>(m).ok())
                .map_or(0, |m| m.next);
            if next <= now_secs {
                due.push((next, k.name));
            }
        }
        if page.list_complete || page.cursor.is_none() {
            break;
        }
        cursor = page.cursor;
    }
    due.sort();
    Ok(due)
}

/// Posts a message to a registration's webhook (guarded again: the host's
/// addresses may have changed since it was registered).
async fn post(env: &Env, reg: &Registration, body: String) -> std::result::Result<(), String> {
    let url = guard_webhook(env, &reg.webhook).await?;
    let mut req = HttpRequest::post(url, "application/json", body.into_bytes())
        .header("user-agent", "mailaudit-monitor/1");
    req.timeout_ms = 10_000;
    req.max_body = 64 * 1024;
    match WorkerNet.http(req).await {
        Ok(r) if (200..300).contains(&r.status) => Ok(()),
        Ok(r) => Err(format!("the webhook answered HTTP {}", r.status)),
        // The runtime's message might quote the URL, whose path is a secret.
        Err(e) => Err(format!(
            "the webhook could not be reached: {}",
            e.to_string().replace(&reg.webhook, "<webhook>")
        )),
    }
}

/// Re-audits one registration, posts what changed, stores the result.
async fn check(env: &Env, kv: &kv::KvStore, key: &str, audit_budget: usize) -> Result<()> {
    let started = now_ms();
    let Some(mut reg) = kv.get(key).json::<Registration>().await? else {
        return Ok(());
    };
    let at = now();
    let now_secs = monitor::epoch_secs(&at).unwrap_or(0);
    let mut opts = super::audit_options(env, Vec::new(), &reg.domain);
    opts.budget.subrequests = audit_budget;
    let secs = super::deadline_secs(env);
    let report = match audit_domain_streaming(
        &WorkerNet,
        &reg.domain,
        &opts,
        deadline(secs),
        |_| {},
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            // Not retried at once: a domain that cannot be audited must
            // not hold up the queue.
            reg.last_error = Some(format!("{at}: the audit failed: {e}"));
            kv.put(key, serde_json::to_string(&reg)?)?
                .metadata(json!({ "next": now_secs + interval_secs(env) }))?
                .execute()
                .await?;
            log(
                json!({"event": "monitor", "target": reg.domain, "outcome": "error", "error": e.to_string()}),
                started,
            );
            return Ok(());
        }
    };
    let mut snap = Snapshot::of(&report);
    let diff = reg.last.as_ref().map(|prev| {
        snap.carry_forward(prev);
        monitor::diff(prev, &snap)
    });
    let report_url = reg.report_url();
    let host = Url::parse(&reg.webhook)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let mut line = json!({
        "event": "monitor", "target": reg.domain, "webhook_host": host,
        "subrequests": web::subrequests_used(&report),
    });
    let message = match &diff {
        None => Some(Message {
            domain: &reg.domain,
            checked_at: &at,
            summary: &snap.summary,
            diff: None,
            report_url: &report_url,
        }),
        Some(d) if !d.is_empty() => Some(Message {
            domain: &reg.domain,
            checked_at: &at,
            summary: &snap.summary,
            diff: Some(d),
            report_url: &report_url,
        }),
        Some(_) => None,
    };
    line["changes"] = json!(diff.as_ref().map_or(0, |d| d.checks.len() + d.dns.len()));
    let mut next = now_secs + interval_secs(env);
    match message.map(|m| m.body(reg.format)) {
        None => {
            line["outcome"] = json!("unchanged");
            reg.last = Some(snap);
        }
        Some(body) => match post(env, &reg, body).await {
            Ok(()) => {
                line["outcome"] = json!(if diff.is_some() {
                    "changed"
                } else {
                    "baseline"
                });
                reg.last = Some(snap);
                reg.failures = 0;
                reg.last_error = None;
            }
            Err(why) => {
                line["outcome"] = json!("webhook_failed");
                line["error"] = json!(why);
                reg.failures += 1;
                reg.last_error = Some(format!("{at}: {why}"));
                if reg.failures >= monitor::MAX_FAILURES {
                    // Given up: this change set is dropped.
                    reg.last = Some(snap);
                    reg.failures = 0;
                } else {
                    // Kept: the next try compares with the same snapshot.
                    next = now_secs + RETRY_SECS;
                }
            }
        },
    }
    kv.put(key, serde_json::to_string(&reg)?)?
        .metadata(json!({ "next": next }))?
        .execute()
        .await?;
    log(line, started);
    Ok(())
}

/// The Cron Trigger: audits the due domains this invocation can afford.
pub async fn run(env: &Env) {
    let started = now_ms();
    let result = async {
        let kv = store(env)?;
        let now_secs = monitor::epoch_secs(&now()).unwrap_or(0);
        let due = due_keys(&kv, now_secs).await?;
        let total = invocation_budget(env);
        let audit_budget = (total - WEBHOOK_COST).min(50);
        let per_run = (total / (audit_budget + WEBHOOK_COST)).max(1);
        let mut done = 0;
        for (_, key) in due.iter().take(per_run) {
            if let Err(e) = check(env, &kv, key, audit_budget).await {
                console_error!(
                    "{}",
                    json!({"event": "monitor", "outcome": "error", "error": e.to_string()})
                );
            }
            done += 1;
        }
        Ok::<_, Error>((due.len(), done))
    }
    .await;
    match result {
        Ok((due, done)) => log(
            json!({"event": "monitor_run", "due": due, "checked": done}),
            started,
        ),
        Err(e) => console_error!(
            "{}",
            json!({"event": "monitor_run", "outcome": "error", "error": e.to_string()})
        ),
    }
}
