//! `mailaudit`: the native face of the engine. Parses arguments, reads
//! files, moves bytes, prints reports. Exit codes: 0 nothing at or above
//! `--fail-on`; 1 findings at or above it; 2 usage or input error.
//! `config --fix` prints a unified diff instead of the report and keeps
//! these exit codes: they judge the files as given. `dmarc-reports` (and
//! `config` given report files) exits 2 when no file is a usable report.

mod agent;
mod maillog;
mod net;
mod serve;

use clap::{Parser, Subcommand, ValueEnum};
use mailaudit_core::audit::{audit_domain, AuditOptions};
use mailaudit_core::config::{analyze, fix, ConfigOptions, FixPlan, Input, Software};
use mailaudit_core::dmarcrep;
use mailaudit_core::dns::{ResolverUrl, DEFAULT_RESOLVER};
use mailaudit_core::limits::Window;
use mailaudit_core::probe::smuggling;
use mailaudit_core::{render, Report, Severity};
use std::io::Read;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mailaudit",
    version,
    about = "Audit the security of a mail server and its domain"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesFormat {
    Json,
    Markdown,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse configuration files or mail logs offline (Postfix, fail2ban, mail logs; logs are streamed).
    Config {
        /// Files to read; `-` or nothing reads standard input.
        files: Vec<String>,
        /// postfix, exim, sendmail, exchange, fail2ban or logs (default: detect).
        #[arg(long, value_parser = parse_software)]
        software: Option<Software>,
        /// Judge defaults as of this software version.
        #[arg(long, value_name = "V")]
        assume_version: Option<String>,
        /// Time of the analysis (RFC 3339); default: now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Exit 1 when a fail or warn finding has at least this severity.
        #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = parse_severity)]
        fail_on: Severity,
        /// Print a unified diff that fixes what can be fixed safely (apply
        /// with `patch -p1`); what cannot is listed on standard error.
        #[arg(long, conflicts_with = "format")]
        fix: bool,
        /// Mail logs: also write the tables and time series (per-address and
        /// per-user counts, failed logins over time, recipients per hour per
        /// sender) as JSON to this file.
        #[arg(long, value_name = "FILE")]
        stats: Option<String>,
    },
    /// Analyse DMARC aggregate reports offline (.xml, .xml.gz, .zip, told
    /// apart by content) and plan the next DMARC policy step.
    DmarcReports {
        /// Report files, or directories of them; `-` reads one from standard input.
        #[arg(required = true)]
        files: Vec<String>,
        /// The domain the reports are for (default: the domain of most reports;
        /// reports for other domains are left out and flagged).
        #[arg(long, value_name = "D")]
        domain: Option<String>,
        /// The domain's current DMARC record, for the planner (default: the
        /// policy the latest report shows).
        #[arg(long, value_name = "RECORD")]
        record: Option<String>,
        /// Time of the analysis (RFC 3339); default: now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Print the aggregate tables (per source, reporter, day, file) and
        /// the plan as JSON instead of the report.
        #[arg(long, conflicts_with = "format")]
        tables: bool,
        /// Exit 1 when a fail or warn finding has at least this severity.
        #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = parse_severity)]
        fail_on: Severity,
    },
    /// Audit a domain's mail security (DNS over HTTPS by default, or plain
    /// DNS to a resolver you name).
    Audit {
        domain: String,
        /// The resolver: a DNS-over-HTTPS URL (RFC 8484), or plain DNS as
        /// dns://IP[:PORT] (UDP, TCP for truncated answers; port 53 by
        /// default; an IPv6 address in brackets), e.g. dns://127.0.0.53 for
        /// the local stub resolver. Plain DNS spares a fresh process the
        /// TLS handshake but is neither encrypted nor authenticated: name
        /// a resolver on a path you trust (the report's assumptions say so).
        #[arg(long, value_name = "URL", default_value = DEFAULT_RESOLVER)]
        resolver: String,
        /// Extra CA certificates (PEM) to trust, e.g. for a private resolver.
        #[arg(long, value_name = "PEM")]
        ca_file: Option<String>,
        /// DKIM selector to look up (repeatable).
        #[arg(long = "selector", value_name = "S")]
        selectors: Vec<String>,
        /// A mail server or DKIM signer configuration (OpenDKIM, rspamd,
        /// Exim …) whose DKIM selectors should be looked up too (repeatable).
        #[arg(long = "selectors-from", value_name = "FILE")]
        selectors_from: Vec<String>,
        /// Spamhaus Data Query Service key: Spamhaus lists are then asked
        /// through DQS, which works from any resolver (else from env
        /// MAILAUDIT_DQS_KEY).
        #[arg(
            long,
            value_name = "KEY",
            env = "MAILAUDIT_DQS_KEY",
            hide_env_values = true
        )]
        dqs_key: Option<String>,
        /// Blocklists to query, by id (repeatable; see docs/blocklists.md);
        /// default: Spamhaus ZEN, Barracuda, SpamCop, Mailspike, PSBL,
        /// Spamhaus DBL, SURBL.
        #[arg(long = "blocklist", value_name = "ID")]
        blocklists: Vec<String>,
        /// Testing only: append this suffix to every blocklist zone (the test
        /// bed serves real list definitions under a private zone).
        #[arg(long, value_name = "SUFFIX", hide = true)]
        blocklist_zone_suffix: Option<String>,
        /// Most DNS/HTTP/TCP subrequests the audit may make (the Worker's
        /// limit is 50; the live probes need about 25 more).
        #[arg(long, value_name = "N", default_value_t = 150)]
        budget: usize,
        /// Make no connection to the domain's mail servers.
        #[arg(long)]
        no_probe: bool,
        /// Also run the full SMTP smuggling test, which sends DATA: seven
        /// short test messages to --smuggling-rcpt. Only for a server you
        /// own or may test.
        #[arg(long)]
        i_own_this_server: bool,
        /// Run the full smuggling test if `_mailaudit.<domain>` TXT reads
        /// `mailaudit-verify=<TOKEN>` (the owner's published consent).
        #[arg(long, value_name = "TOKEN", conflicts_with = "i_own_this_server")]
        ownership_token: Option<String>,
        /// Recipient of the full smuggling test's messages
        /// (default postmaster@<domain>).
        #[arg(long, value_name = "ADDR")]
        smuggling_rcpt: Option<String>,
        /// Print the audit's wall time and its critical path (the longest
        /// chain of dependent DNS/HTTP exchanges, found by replaying the
        /// recorded exchanges; see `mailaudit_core::critical_path`) on stderr.
        #[arg(long)]
        timing: bool,
        /// Write every DNS/HTTP exchange of the audit (requests and
        /// answers) with the options and the findings' statuses to FILE as
        /// JSON, for replaying it without the network (the `audit_cpu`
        /// bench's fixtures, bench/record_audit_cpu.sh).
        #[arg(long, value_name = "FILE")]
        record: Option<String>,
        /// DNS/HTTP exchanges in flight at once. DoH queries share one
        /// HTTP/2 connection; connections to mail servers stay at most 6
        /// (or N if lower). The Worker is held to 6 for both.
        #[arg(long, value_name = "N", default_value_t = NATIVE_CONCURRENCY)]
        concurrency: usize,
        /// Overall time limit of the audit: checks not finished by then
        /// (a tarpitting mail server, a resolver that never answers) are
        /// `unknown` (deadline) and the report is printed.
        #[arg(long, value_name = "SECS", default_value_t = AUDIT_DEADLINE_SECS)]
        deadline: u32,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = parse_severity)]
        fail_on: Severity,
    },
    /// List every rule.
    Rules {
        #[arg(long, value_enum, default_value = "markdown")]
        format: RulesFormat,
    },
    /// Serve the website and its API locally.
    Serve {
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Directory of the built site (index.html, wasm).
        #[arg(
            long,
            value_name = "DIR",
            env = "MAILAUDIT_SITE",
            default_value = "site"
        )]
        site: String,
        /// The resolver all audits use: a DNS-over-HTTPS URL, or plain DNS
        /// as dns://IP[:PORT] (see `mailaudit audit --help`). Visitors
        /// cannot choose it.
        #[arg(long, value_name = "URL", default_value = DEFAULT_RESOLVER)]
        resolver: String,
        #[arg(long, value_name = "PEM")]
        ca_file: Option<String>,
        /// Let visitors' audits also run the live SMTP/TLS probes (off by
        /// default: a public server would otherwise connect wherever a
        /// visitor's domain points). Only public addresses are ever probed.
        #[arg(long)]
        probe: bool,
        /// Also allow connections to this address block (repeatable) — for
        /// a private deployment or a test bed; by default this server
        /// connects only to public unicast addresses.
        #[arg(long = "allow-net", value_name = "CIDR")]
        allow_net: Vec<String>,
        /// Overall deadline of one audit: checks not finished by then are
        /// `unknown` (deadline).
        #[arg(long, value_name = "SECS", default_value_t = mailaudit_core::web::DEFAULT_DEADLINE_SECS)]
        deadline: u32,
        /// Audits of one domain allowed per --target-period (0: no limit).
        #[arg(long, value_name = "N", default_value_t = Window::PER_TARGET.limit)]
        target_limit: u32,
        #[arg(long, value_name = "SECS", default_value_t = Window::PER_TARGET.period_secs)]
        target_period: u32,
        /// Audits one client address may ask for per --client-period (0: no limit).
        #[arg(long, value_name = "N", default_value_t = Window::PER_CLIENT.limit)]
        client_limit: u32,
        #[arg(long, value_name = "SECS", default_value_t = Window::PER_CLIENT.period_secs)]
        client_period: u32,
        /// How long `GET /api/v1/audit/{domain}` serves a report from the
        /// cache (0: never).
        #[arg(long, value_name = "SECS", default_value_t = mailaudit_core::web::CACHE_TTL_SECS)]
        cache_ttl: u32,
        /// Take the client address for the rate limit from this header
        /// (first address in it), set by a reverse proxy in front, e.g.
        /// x-forwarded-for. Without it, the connection's peer address.
        #[arg(long, value_name = "NAME")]
        client_ip_header: Option<String>,
    },
    /// Run the live SMTP/TLS probes for a Worker that cannot reach port 25
    /// (signed requests only; see docs/api.md).
    ProbeAgent {
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8025")]
        listen: String,
        /// File holding the secret shared with the Worker
        /// (PROBE_AGENT_SECRET), at least 32 characters.
        #[arg(long, value_name = "FILE")]
        secret_file: String,
        #[arg(long, value_name = "PEM")]
        ca_file: Option<String>,
        /// Also allow probes of this address block (repeatable), as for
        /// `serve`; by default only public unicast addresses are probed.
        #[arg(long = "allow-net", value_name = "CIDR")]
        allow_net: Vec<String>,
        /// Probes running at once; more requests are answered 429.
        #[arg(long, value_name = "N", default_value_t = 4)]
        max_probes: usize,
        /// Seconds a target's result is reused (0: never).
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        cache_secs: u64,
    },
}

/// DNS/HTTP exchanges in flight at once natively (`audit`, `serve`): the
/// DoH queries share one HTTP/2 connection, so this costs no sockets.
pub const NATIVE_CONCURRENCY: usize = 32;

/// `mailaudit audit`'s overall deadline unless `--deadline` says otherwise.
/// Without one, a mail server that sends one byte a second (each read
/// succeeds, so no read timeout fires) held the audit for as long as it
/// liked: 256 KB per session at 1 byte/s is three days (tests/faults).
/// A healthy audit with every probe takes seconds.
pub const AUDIT_DEADLINE_SECS: u32 = 120;

fn parse_software(s: &str) -> Result<Software, String> {
    Software::parse(s)
        .ok_or_else(|| "expected one of postfix, exim, sendmail, exchange, fail2ban, logs".into())
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| "expected one of info, low, medium, high, critical".into())
}

/// The audit, cut short after `secs` seconds (see `--deadline`).
async fn audit_within<N: mailaudit_core::net::Network>(
    net: &N,
    domain: &str,
    opts: &AuditOptions,
    secs: u32,
) -> Result<Report, mailaudit_core::audit::AuditError> {
    let deadline = tokio::time::sleep(std::time::Duration::from_secs(secs.into()));
    mailaudit_core::audit::audit_domain_streaming(net, domain, opts, deadline, |_| {}).await
}

/// An error the user can act on; exit 2.
struct UsageError(String);

/// `--timing`: wall time and critical path on stderr, one `key: value` a
/// line (the benchmark script reads them).
fn print_timing<N: mailaudit_core::net::Network>(
    rec: &mailaudit_core::critical_path::Recording<N>,
    wall: std::time::Duration,
    domain: &str,
    opts: &AuditOptions,
    report: &mailaudit_core::report::Report,
) {
    use mailaudit_core::critical_path::Replay;
    // Twice: with the audit's own concurrency limit, and with none, which
    // leaves only the dependencies between exchanges.
    let replay = Replay::from_recording(rec);
    let (out, capped) = replay.run(audit_domain(replay.net(), domain, opts));
    let mut unlimited_opts = opts.clone();
    unlimited_opts.budget.concurrency = 1_000;
    let replay = Replay::from_recording(rec);
    let (out_unlimited, path) = replay.run(audit_domain(replay.net(), domain, &unlimited_opts));
    let matches = matches!(&out, Some(Ok(r)) if r == report)
        && matches!(&out_unlimited, Some(Ok(r)) if r == report);
    let chain: Vec<&str> = path.chain().iter().map(|s| s.label.as_str()).collect();
    eprintln!("timing.wall_ms: {:.1}", wall.as_secs_f64() * 1000.0);
    eprintln!("timing.exchanges: {}", rec.exchanges());
    eprintln!("timing.critical_path: {}", path.depth());
    eprintln!(
        "timing.critical_path_at_concurrency_{}: {}",
        opts.budget.concurrency,
        capped.depth()
    );
    eprintln!("timing.critical_chain: {}", chain.join(" -> "));
    eprintln!(
        "timing.width: {}",
        path.width()
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    eprintln!(
        "timing.replay: {} (unrecorded {}, tcp connects not replayed {}, stalled {})",
        if matches && path.unrecorded == 0 && rec.tcp_connects() == 0 {
            "faithful"
        } else {
            "DIVERGED"
        },
        path.unrecorded + capped.unrecorded,
        rec.tcp_connects(),
        path.stalled || capped.stalled
    );
}

/// `--record FILE`: the audit's exchanges, what it was asked and what it
/// found, to replay without the network (`shared/benches/audit_cpu.rs`).
fn write_recording<N: mailaudit_core::net::Network>(
    path: &str,
    rec: &mailaudit_core::critical_path::Recording<N>,
    domain: &str,
    opts: &AuditOptions,
    report: &mailaudit_core::report::Report,
) -> Result<(), UsageError> {
    if rec.tcp_connects() > 0 {
        return Err(UsageError(
            "--record replays DNS and HTTPS only: add --no-probe".into(),
        ));
    }
    let statuses: serde_json::Map<String, serde_json::Value> = report
        .findings
        .iter()
        .map(|f| (f.id.to_string(), serde_json::json!(f.status.as_str())))
        .collect();
    let doc = serde_json::json!({
        "domain": domain,
        "resolver": opts.resolver,
        "now": opts.now,
        "selectors": opts.selectors,
        "blocklist_zone_suffix": opts.blocklists.zone_suffix,
        "statuses": statuses,
        "exchanges": rec.to_json(),
    });
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    std::fs::write(path, text + "\n").map_err(|e| UsageError(format!("cannot write {path}: {e}")))
}

fn now_rfc3339(given: Option<&str>) -> Result<String, UsageError> {
    use time::format_description::well_known::Rfc3339;
    let t = match given {
        Some(s) => time::OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
            UsageError(format!(
                "--now {s:?} is not an RFC 3339 time ({e}), e.g. 2026-11-29T12:00:00Z"
            ))
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339).map_err(|e| UsageError(e.to_string()))
}

/// The files as bytes, with the names to show (`-` is standard input).
fn read_files(files: &[String]) -> Result<Vec<(String, Vec<u8>)>, UsageError> {
    let names: Vec<String> = if files.is_empty() {
        vec!["-".into()]
    } else {
        files.to_vec()
    };
    let mut out = Vec::new();
    for name in names {
        if name == "-" {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .map_err(|e| UsageError(format!("cannot read standard input: {e}")))?;
            out.push(("stdin".to_string(), b));
        } else {
            let b =
                std::fs::read(&name).map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
            out.push((name, b));
        }
    }
    Ok(out)
}

fn read_inputs(files: Vec<(String, Vec<u8>)>) -> Vec<Input> {
    files
        .into_iter()
        .map(|(name, bytes)| {
            // Valid UTF-8 (the usual case) is taken as it is, without a copy.
            let text = String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            Input::new(name, text)
        })
        .collect()
}

/// Report file names: directories are expanded to their files (sorted,
/// not recursive).
fn report_paths(files: &[String]) -> Result<Vec<String>, UsageError> {
    let mut out = Vec::new();
    for f in files {
        let path = std::path::Path::new(f);
        if f != "-" && path.is_dir() {
            let mut inner: Vec<String> = std::fs::read_dir(path)
                .map_err(|e| UsageError(format!("cannot read directory {f}: {e}")))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .map(|p| p.display().to_string())
                .collect();
            inner.sort();
            out.extend(inner);
        } else {
            out.push(f.clone());
        }
    }
    if out.is_empty() {
        return Err(UsageError("no report files given".into()));
    }
    Ok(out)
}

/// Reads and parses report files on all cores and folds them, in the order
/// given, on this thread while the workers go on. Workers stay at most
/// `WINDOW` files ahead of the fold, so memory stays bounded.
fn read_reports(paths: &[String]) -> Result<dmarcrep::Batch, UsageError> {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    const WINDOW: usize = 256;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let next = AtomicUsize::new(0);
    let folded = AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut batch = dmarcrep::Batch::new();
    std::thread::scope(|s| -> Result<(), UsageError> {
        let (tx, rx) = mpsc::channel::<(usize, Result<dmarcrep::Parsed, UsageError>)>();
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, folded, stop) = (&next, &folded, &stop);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(name) = paths.get(i) else { break };
                while i > folded.load(Ordering::Acquire) + WINDOW && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let parsed = read_files(std::slice::from_ref(name)).map(|mut f| {
                    let (shown, bytes) = f.pop().unwrap_or_default();
                    dmarcrep::parse_file(&shown, &bytes)
                });
                if tx.send((i, parsed)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<usize, dmarcrep::Parsed> = BTreeMap::new();
        let mut want = 0;
        while want < paths.len() {
            if let Some(p) = pending.remove(&want) {
                batch.add_parsed(p);
                want += 1;
                folded.store(want, Ordering::Release);
                continue;
            }
            match rx.recv() {
                Ok((i, Ok(p))) => {
                    pending.insert(i, p);
                }
                Ok((_, Err(e))) => {
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                Err(_) => return Err(UsageError("a worker thread failed".into())),
            }
        }
        Ok(())
    })?;
    Ok(batch)
}

/// The analysis of report files, or exit 2 when none is usable.
fn dmarc_analysis(
    batch: dmarcrep::Batch,
    opts: &dmarcrep::Options,
) -> Result<dmarcrep::Analysis, UsageError> {
    let analysis = batch.finish(opts);
    if analysis.tables.counts.reports == 0 {
        let mut why: Vec<String> = analysis
            .tables
            .files
            .iter()
            .take(5)
            .map(|f| match &f.status {
                dmarcrep::FileStatus::Rejected { reason } => {
                    format!("{}: {}", printable(&f.name), printable(reason))
                }
                dmarcrep::FileStatus::OtherDomain => format!(
                    "{}: a report for {}",
                    printable(&f.name),
                    printable(f.domain.as_deref().unwrap_or("?"))
                ),
                dmarcrep::FileStatus::Duplicate { of } => {
                    format!("{}: a duplicate of {}", printable(&f.name), printable(of))
                }
                dmarcrep::FileStatus::Used => String::new(),
            })
            .collect();
        if analysis.tables.files.len() > 5 {
            why.push(format!("… and {} more", analysis.tables.files.len() - 5));
        }
        let domain = match &analysis.tables.domain {
            Some(d) if opts.domain.is_some() => format!(" for {d}"),
            _ => String::new(),
        };
        return Err(UsageError(format!(
            "no usable DMARC aggregate report{domain}:\n  {}",
            why.join("\n  ")
        )));
    }
    Ok(analysis)
}

fn print_dmarc(a: &dmarcrep::Analysis, format: Format, tables: bool) {
    if tables {
        let v = serde_json::json!({ "tables": a.tables, "plan": a.plan });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print_report(&a.report, format);
    }
}

fn read_ca(path: &Option<String>) -> Result<Option<Vec<u8>>, UsageError> {
    path.as_ref()
        .map(|p| std::fs::read(p).map_err(|e| UsageError(format!("cannot read CA file {p}: {e}"))))
        .transpose()
}

/// The DER certificates of a PEM file (anything else in it is skipped).
fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .map(|c| c.to_vec())
        .collect()
}

/// A local part no mail server has, new for every run, so VRFY/EXPN
/// answers for it can be told from those for postmaster.
fn random_local_part() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    format!("mailaudit-{:012x}", h.finish() & 0xffff_ffff_ffff)
}

fn print_report(r: &Report, format: Format) {
    let out = match format {
        Format::Text => render::text(r),
        Format::Json => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
        Format::Markdown => render::markdown(r),
        Format::Sarif => serde_json::to_string_pretty(&render::sarif(r)).unwrap_or_default() + "\n",
    };
    print!("{out}");
}

fn run(cli: Cli) -> Result<ExitCode, UsageError> {
    match cli.command {
        Command::Config {
            files,
            software: sw,
            assume_version,
            now,
            format,
            fail_on,
            fix: want_fix,
            stats,
        } => {
            let now = now_rfc3339(now.as_deref())?;
            // Mail logs are recognised from their head and streamed, not read whole.
            let opened = maillog::open(&files).map_err(UsageError)?;
            if !want_fix && maillog::all_logs(&opened, sw) {
                let (report, log_stats) = maillog::analyse(opened, &now).map_err(UsageError)?;
                if let Some(path) = stats {
                    let json = serde_json::to_string_pretty(&log_stats).unwrap_or_default();
                    std::fs::write(&path, json + "\n")
                        .map_err(|e| UsageError(format!("cannot write {path}: {e}")))?;
                }
                print_report(&report, format);
                return Ok(exit_for(&report, fail_on));
            }
            if stats.is_some() {
                return Err(UsageError(
                    "--stats is for mail logs; the input was not recognised as one".into(),
                ));
            }
            let raw = maillog::read_all(opened).map_err(UsageError)?;
            // DMARC aggregate reports are recognised by content.
            let reports = raw
                .iter()
                .filter(|(_, b)| dmarcrep::looks_like_report(b))
                .count();
            if sw.is_none() && reports > 0 {
                if reports < raw.len() {
                    return Err(UsageError(
                        "some files are DMARC aggregate reports and some are not: analyse the \
                         reports with `mailaudit dmarc-reports`"
                            .into(),
                    ));
                }
                if want_fix {
                    return Err(UsageError(
                        "--fix applies to configuration files, not DMARC reports".into(),
                    ));
                }
                let mut batch = dmarcrep::Batch::new();
                for (name, bytes) in &raw {
                    batch.add(name, bytes);
                }
                let opts = dmarcrep::Options {
                    now,
                    ..Default::default()
                };
                let a = dmarc_analysis(batch, &opts)?;
                print_report(&a.report, format);
                return Ok(exit_for(&a.report, fail_on));
            }
            let opts = ConfigOptions {
                software: sw,
                assume_version,
                now,
                ..Default::default()
            };
            let inputs = read_inputs(raw);
            if want_fix {
                let plan = fix(&inputs, &opts).map_err(|e| UsageError(e.to_string()))?;
                print!("{}", plan.diff());
                eprint!("{}", fix_summary(&plan));
                return Ok(exit_for(&plan.report, fail_on));
            }
            let report = analyze(&inputs, &opts).map_err(|e| UsageError(e.to_string()))?;
            print_report(&report, format);
            Ok(exit_for(&report, fail_on))
        }
        Command::DmarcReports {
            files,
            domain,
            record,
            now,
            format,
            tables,
            fail_on,
        } => {
            let opts = dmarcrep::Options {
                domain: domain.filter(|d| !d.trim().is_empty()),
                record,
                now: now_rfc3339(now.as_deref())?,
            };
            let batch = read_reports(&report_paths(&files)?)?;
            let a = dmarc_analysis(batch, &opts)?;
            print_dmarc(&a, format, tables);
            Ok(exit_for(&a.report, fail_on))
        }
        Command::Audit {
            domain,
            resolver,
            ca_file,
            selectors,
            selectors_from,
            dqs_key,
            blocklists,
            blocklist_zone_suffix,
            budget,
            no_probe,
            i_own_this_server,
            ownership_token,
            smuggling_rcpt,
            timing,
            record,
            concurrency,
            deadline,
            format,
            fail_on,
        } => {
            if deadline == 0 {
                return Err(UsageError("--deadline must be at least 1".into()));
            }
            ResolverUrl::parse(&resolver).map_err(UsageError)?;
            let ca = read_ca(&ca_file)?;
            let net = net::NativeNet::new(ca.as_deref())
                .and_then(|n| n.with_resolver(&resolver, ca.as_deref()))
                .map_err(UsageError)?;
            let mut config_selectors = Vec::new();
            for path in &selectors_from {
                let text = std::fs::read(path)
                    .map_err(|e| UsageError(format!("cannot read {path}: {e}")))?;
                config_selectors.extend(mailaudit_core::dns::dkim::selectors_from_config(
                    &String::from_utf8_lossy(&text),
                ));
            }
            if budget == 0 {
                return Err(UsageError("--budget must be at least 1".into()));
            }
            let mut opts = AuditOptions {
                selectors,
                config_selectors,
                probe: !no_probe,
                ..AuditOptions::new(resolver, now_rfc3339(None)?)
            };
            // The private CA that may sign a resolver may sign mail servers too.
            opts.live.extra_roots = pem_certificates(&read_ca(&ca_file)?.unwrap_or_default());
            opts.live.probe.random_local_part = random_local_part();
            opts.budget.subrequests = budget;
            opts.deadline_secs = Some(deadline);
            if concurrency == 0 {
                return Err(UsageError("--concurrency must be at least 1".into()));
            }
            opts.budget.concurrency = concurrency;
            opts.budget.connections = concurrency.min(6);
            opts.blocklists.dqs_key = dqs_key.filter(|k| !k.trim().is_empty());
            opts.blocklists.zone_suffix = blocklist_zone_suffix;
            if !blocklists.is_empty() {
                for id in &blocklists {
                    if mailaudit_core::dns::blocklist::lists::by_id(id).is_none() {
                        let known: Vec<&str> = mailaudit_core::dns::blocklist::lists::LISTS
                            .iter()
                            .map(|l| l.id)
                            .collect();
                        return Err(UsageError(format!(
                            "unknown blocklist {id:?}; known: {}",
                            known.join(", ")
                        )));
                    }
                }
                opts.blocklists.lists = Some(blocklists);
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| UsageError(format!("cannot start the runtime: {e}")))?;
            if (i_own_this_server || ownership_token.is_some()) && no_probe {
                return Err(UsageError(
                    "the full smuggling test is a probe: drop --no-probe".into(),
                ));
            }
            let consent = match (&ownership_token, i_own_this_server) {
                (Some(token), _) => {
                    let name = mailaudit_core::audit::validate_domain(&domain)
                        .map_err(|e| UsageError(e.to_string()))?;
                    let r = mailaudit_core::dns::Resolver::new(&net, opts.resolver.clone());
                    let proof = rt.block_on(smuggling::prove_ownership(&r, &name, token));
                    Some(proof.map_err(|e| UsageError(format!("no ownership proof: {e}")))?)
                }
                (None, true) => Some(smuggling::Consent::declared_by_owner()),
                (None, false) => None,
            };
            if let Some(consent) = consent {
                let name = mailaudit_core::audit::validate_domain(&domain)
                    .map_err(|e| UsageError(e.to_string()))?;
                let mut full = smuggling::FullTestOptions::for_domain(&name);
                if let Some(rcpt) = smuggling_rcpt {
                    full.recipient = rcpt;
                }
                eprintln!(
                    "mailaudit: full SMTP smuggling test enabled ({}): 7 test messages to {}",
                    consent.how(),
                    full.recipient
                );
                opts.live.smuggling = Some((consent, full));
            }
            let report = if timing || record.is_some() {
                let rec = mailaudit_core::critical_path::Recording::new(&net);
                let started = std::time::Instant::now();
                let report = rt
                    .block_on(audit_within(&rec, &domain, &opts, deadline))
                    .map_err(|e| UsageError(e.to_string()))?;
                let wall = started.elapsed();
                if timing {
                    print_timing(&rec, wall, &domain, &opts, &report);
                }
                if let Some(path) = &record {
                    write_recording(path, &rec, &domain, &opts, &report)?;
                }
                report
            } else {
                rt.block_on(audit_within(&net, &domain, &opts, deadline))
                    .map_err(|e| UsageError(e.to_string()))?
            };
            print_report(&report, format);
            // The process ends right after this: shutting the runtime down
            // (joining its threads, dropping the open connection to the
            // resolver) only adds a few ms to the audit's wall time; the
            // kernel closes the sockets when the process exits.
            std::mem::forget(rt);
            Ok(exit_for(&report, fail_on))
        }
        Command::Rules { format } => {
            match format {
                RulesFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&render::rules_json()).unwrap_or_default()
                ),
                RulesFormat::Markdown => print!("{}", render::rules_markdown()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            listen,
            site,
            resolver,
            ca_file,
            probe,
            allow_net,
            deadline,
            target_limit,
            target_period,
            client_limit,
            client_period,
            cache_ttl,
            client_ip_header,
        } => {
            if deadline == 0 {
                return Err(UsageError("--deadline must be at least 1".into()));
            }
            let policy = address_policy(&allow_net)?;
            ResolverUrl::parse(&resolver).map_err(UsageError)?;
            let ca = read_ca(&ca_file)?;
            let net =
                net::NativeNet::guarded(ca.as_deref(), policy, &resolver).map_err(UsageError)?;
            let live = serve::Live {
                probe,
                extra_roots: pem_certificates(&ca.unwrap_or_default()),
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| UsageError(format!("cannot start the runtime: {e}")))?;
            if target_period == 0 || client_period == 0 {
                return Err(UsageError("rate-limit periods must be at least 1 s".into()));
            }
            let limits = serve::Limits {
                deadline_secs: deadline,
                per_target: Window {
                    limit: target_limit,
                    period_secs: target_period,
                },
                per_client: Window {
                    limit: client_limit,
                    period_secs: client_period,
                },
                cache_ttl_secs: cache_ttl,
                client_ip_header,
            };
            rt.block_on(serve::serve(&listen, &site, resolver, net, live, limits))
                .map_err(UsageError)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ProbeAgent {
            listen,
            secret_file,
            ca_file,
            allow_net,
            max_probes,
            cache_secs,
        } => {
            let secret = std::fs::read_to_string(&secret_file)
                .map_err(|e| UsageError(format!("cannot read {secret_file}: {e}")))?;
            let ca = read_ca(&ca_file)?;
            let opts = agent::AgentOptions {
                listen,
                secret,
                policy: address_policy(&allow_net)?,
                extra_roots: pem_certificates(ca.as_deref().unwrap_or_default()),
                extra_ca: ca,
                max_probes,
                cache_secs,
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| UsageError(format!("cannot start the runtime: {e}")))?;
            rt.block_on(agent::run(opts)).map_err(UsageError)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Public unicast addresses only, plus the `--allow-net` blocks.
fn address_policy(allow_net: &[String]) -> Result<mailaudit_core::addr::AddressPolicy, UsageError> {
    let mut policy = mailaudit_core::addr::AddressPolicy::public_only();
    for cidr in allow_net {
        policy.allow.push(
            mailaudit_core::addr::Net::parse(cidr).ok_or_else(|| {
                UsageError(format!("--allow-net {cidr:?} is not an address block"))
            })?,
        );
    }
    Ok(policy)
}

/// No escape sequences from the input reach the terminal.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// What `--fix` did, for standard error.
fn fix_summary(plan: &FixPlan) -> String {
    let mut out = String::new();
    if plan.fixed.is_empty() {
        out.push_str("mailaudit: nothing to fix automatically\n");
    } else {
        out.push_str(&format!(
            "mailaudit: the diff fixes {} finding{}:\n",
            plan.fixed.len(),
            if plan.fixed.len() == 1 { "" } else { "s" }
        ));
        for f in &plan.fixed {
            out.push_str(&format!("  {} ({})\n", f.id, f.status.as_str()));
        }
    }
    if !plan.manual.is_empty() {
        out.push_str("mailaudit: not fixable automatically:\n");
        for m in &plan.manual {
            out.push_str(&format!("  {} ({})\n", m.id, m.status.as_str()));
            for line in m.reason.lines() {
                out.push_str(&format!("      {}\n", printable(line)));
            }
        }
    }
    out
}

fn exit_for(r: &Report, fail_on: Severity) -> ExitCode {
    if r.has_problem_at_or_above(fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            eprintln!("mailaudit: {msg}");
            ExitCode::from(2)
        }
    }
}
