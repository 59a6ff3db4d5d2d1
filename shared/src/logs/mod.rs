//! Mail logs, streamed: Postfix, Exim and Sendmail syslog lines, Exim's
//! mainlog, Exchange SMTP protocol and message-tracking logs.
//!
//! [`LogAnalyzer`] takes the log a chunk at a time ([`LogAnalyzer::feed`],
//! any split of the bytes, or [`LogAnalyzer::feed_line`]) and keeps bounded
//! state: per client address and per user name counters (at most
//! [`LogOptions::max_ips`] / [`LogOptions::max_users`]; past the cap the
//! least active quarter is dropped and [`LogStats::truncated`] says so),
//! per-hour counts per authenticated sender, time series in buckets that
//! coarsen rather than grow, and a line longer than [`MAX_LINE`] is cut.
//! A 200 MB log therefore takes a few megabytes, in the CLI and in the
//! browser's Web Worker alike. [`LogAnalyzer::finish`] gives the findings
//! of the `logs.*` rules ([`rules`]) and the [`LogStats`] tables and series
//! a host draws.
//!
//! The same analyser runs for logs pasted with configuration
//! ([`analyse`], wired as `Software::Logs` in [`crate::config`]).
//!
//! Time comes from the lines; `now` (RFC 3339, from the host) only gives
//! BSD syslog timestamps their year.

pub mod parse;
pub mod rules;
pub mod stats;
pub mod time;

use crate::config::{ConfigOptions, Input};
use crate::report::{Assumption, Evidence, Finding, Report};
use parse::{Context, Dir, Event, Format, Status};
pub use stats::LogStats;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;

pub use rules::RULES;

/// Longest line kept (bytes); the rest of a longer line is skipped.
pub const MAX_LINE: usize = 16 * 1024;
/// Failures kept per address to measure the busiest 10 minutes.
pub const PEAK_CAP: usize = 64;
/// User names kept per address and addresses per user name.
pub const SET_CAP: usize = 32;
/// Queue ids of authenticated submissions waiting for their recipient count.
const MAX_QUEUE: usize = 200_000;
/// Authenticated senders tracked, and hours per sender.
const MAX_SENDERS: usize = 2_000;
const MAX_SENDER_HOURS: usize = 2_000;
/// Distinct deferral reasons and TLS peers kept.
const MAX_REASONS: usize = 1_000;
const MAX_TLS_PEERS: usize = 5_000;
/// Buckets of a time series before it coarsens.
const MAX_BUCKETS: usize = 20_000;
/// Evidence text kept per line.
const EVIDENCE_TEXT: usize = 300;

/// What the host sets.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// RFC 3339 time of the analysis (gives BSD syslog lines their year).
    pub now: String,
    /// Client addresses tracked at most.
    pub max_ips: usize,
    /// User names tracked at most.
    pub max_users: usize,
    /// Rows of each table in [`LogStats`].
    pub top: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            now: String::new(),
            max_ips: 20_000,
            max_users: 20_000,
            top: 50,
        }
    }
}

/// A line kept as evidence.
#[derive(Debug, Clone)]
pub(crate) struct LineRef {
    file: u32,
    line: u64,
    text: Box<str>,
}

#[derive(Debug, Clone)]
pub(crate) struct IpStat {
    failures: u64,
    first: i64,
    last: i64,
    /// Failure times within the last 10 minutes (at most PEAK_CAP).
    window: VecDeque<i64>,
    peak: u32,
    users: Vec<Box<str>>,
    relay: u64,
    first_line: Option<LineRef>,
    /// The line at which it reached the brute-force threshold.
    flag_line: Option<LineRef>,
}

impl IpStat {
    fn new(t: i64) -> IpStat {
        IpStat {
            failures: 0,
            first: t,
            last: t,
            window: VecDeque::new(),
            peak: 0,
            users: Vec::new(),
            relay: 0,
            first_line: None,
            flag_line: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct UserStat {
    failures: u64,
    first: i64,
    last: i64,
    ips: Vec<IpAddr>,
    first_line: Option<LineRef>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Sender {
    hours: BTreeMap<i64, u64>,
    total: u64,
    cur_hour: i64,
    cur_first: Option<LineRef>,
    /// Hours that reached the spike floor, with their first line.
    big: Vec<(i64, LineRef)>,
}

/// Counts in time buckets that double in width instead of growing.
#[derive(Debug, Clone)]
pub(crate) struct Buckets {
    step: i64,
    map: BTreeMap<i64, u64>,
}

impl Buckets {
    fn new(step: i64) -> Buckets {
        Buckets {
            step,
            map: BTreeMap::new(),
        }
    }

    fn add(&mut self, t: i64, n: u64) {
        *self.map.entry(t.div_euclid(self.step)).or_insert(0) += n;
        if self.map.len() > MAX_BUCKETS {
            self.step *= 4;
            let old = std::mem::take(&mut self.map);
            for (k, v) in old {
                *self.map.entry(k.div_euclid(4)).or_insert(0) += v;
            }
        }
    }

    /// Sum of the buckets starting in `[from, to)`.
    fn sum(&self, from: i64, to: i64) -> u64 {
        let a = from.div_euclid(self.step);
        let b = to.div_euclid(self.step);
        self.map.range(a..b.max(a)).map(|(_, v)| v).sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    Blocklist,
    Tls,
    Connection,
    Dns,
    RateLimit,
    Greylist,
    UnknownUser,
    MailboxFull,
    Other,
}

impl Category {
    const ALL: [Category; 9] = [
        Category::Blocklist,
        Category::Tls,
        Category::Connection,
        Category::Dns,
        Category::RateLimit,
        Category::Greylist,
        Category::UnknownUser,
        Category::MailboxFull,
        Category::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Blocklist => "blocklisting (the receiving server refuses our IP)",
            Category::Tls => "TLS failure",
            Category::Connection => "connection refused or timed out",
            Category::Dns => "DNS lookup failure",
            Category::RateLimit => "rate limiting by the receiver",
            Category::Greylist => "greylisting",
            Category::UnknownUser => "unknown recipient",
            Category::MailboxFull => "mailbox full or over quota",
            Category::Other => "other",
        }
    }

    fn of(reason: &str) -> Category {
        let r = reason.to_ascii_lowercase();
        let has = |w: &[&str]| w.iter().any(|x| r.contains(x));
        if has(&[
            "blocklist",
            "blacklist",
            "spamhaus",
            "spamcop",
            "barracuda",
            "block list",
            "blocked using",
            "listed at",
            "listed on",
            " rbl",
            "dnsbl",
            "5.7.606",
            "5.7.511",
            "poor reputation",
            "bad reputation",
            "s3150",
            "reputation",
        ]) {
            Category::Blocklist
        } else if has(&["tls", "ssl", "handshake", "certificate", "starttls"]) {
            Category::Tls
        } else if has(&["greylist", "graylist", "try again later", "4.7.1 please"]) {
            Category::Greylist
        } else if has(&[
            "rate limit",
            "too many",
            "ratelimit",
            "throttl",
            "4.7.28",
            "exceeded",
        ]) {
            Category::RateLimit
        } else if has(&[
            "host not found",
            "name service error",
            "domain not found",
            "no mx",
            "dns",
            "nxdomain",
            "host or domain name not found",
        ]) {
            Category::Dns
        } else if has(&[
            "timed out",
            "connection refused",
            "network is unreachable",
            "no route to host",
            "connection reset",
            "lost connection",
            "connection dropped",
            "responded with",
        ]) {
            Category::Connection
        } else if has(&[
            "user unknown",
            "unknown user",
            "5.1.1",
            "no such user",
            "does not exist",
            "recipient address rejected",
            "mailbox unavailable",
        ]) {
            Category::UnknownUser
        } else if has(&["quota", "mailbox full", "5.2.2", "insufficient storage"]) {
            Category::MailboxFull
        } else {
            Category::Other
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Reason {
    count: u64,
    first: LineRef,
}

#[derive(Debug, Clone)]
pub(crate) struct TlsPeer {
    count: u64,
    first: LineRef,
}

/// The streaming analyser.
pub struct LogAnalyzer {
    opts: LogOptions,
    now: i64,
    now_given: bool,
    ctx: Context,
    files: Vec<String>,
    line_no: u64,
    pub(crate) total_lines: u64,
    bytes: u64,
    recognised: u64,
    partial: Vec<u8>,
    skipping: bool,
    formats: [u64; 6],
    first: Option<i64>,
    last: Option<i64>,
    pub(crate) ips: HashMap<IpAddr, IpStat>,
    pub(crate) users: HashMap<Box<str>, UserStat>,
    auth_total: u64,
    auth_series: Buckets,
    queue: HashMap<Box<str>, Box<str>>,
    senders: HashMap<Box<str>, Sender>,
    submissions: u64,
    deliveries: [u64; 3],
    trouble: Buckets,
    reasons: HashMap<Box<str>, Reason>,
    categories: [u64; 9],
    relay_total: u64,
    relay_internal: u64,
    tls: HashMap<(bool, Box<str>), TlsPeer>,
    tls_total: u64,
    notes: Vec<String>,
    truncated: bool,
}

fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A deferral reason with addresses, numbers and hosts masked, so the same
/// reason from different peers counts once.
fn normalise_reason(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len().min(160));
    let mut last_hash = false;
    for c in cut(reason, 160).chars() {
        if c.is_ascii_digit() {
            if !last_hash {
                out.push('#');
                last_hash = true;
            }
            continue;
        }
        if last_hash && (c == '.' || c == ':') {
            // keep "4.7.1"-style codes and IPs as one mask
            continue;
        }
        last_hash = false;
        out.push(c);
    }
    out
}

impl LogAnalyzer {
    pub fn new(opts: LogOptions) -> LogAnalyzer {
        let parsed_now = time::parse_now(&opts.now);
        LogAnalyzer {
            now: parsed_now.unwrap_or(0),
            now_given: parsed_now.is_some(),
            opts,
            ctx: Context::default(),
            files: vec!["log".into()],
            line_no: 0,
            total_lines: 0,
            bytes: 0,
            recognised: 0,
            partial: Vec::new(),
            skipping: false,
            formats: [0; 6],
            first: None,
            last: None,
            ips: HashMap::new(),
            users: HashMap::new(),
            auth_total: 0,
            auth_series: Buckets::new(60),
            queue: HashMap::new(),
            senders: HashMap::new(),
            submissions: 0,
            deliveries: [0; 3],
            trouble: Buckets::new(60),
            reasons: HashMap::new(),
            categories: [0; 9],
            relay_total: 0,
            relay_internal: 0,
            tls: HashMap::new(),
            tls_total: 0,
            notes: Vec::new(),
            truncated: false,
        }
    }

    /// Starts a new file: line numbers restart, evidence names it.
    pub fn begin_file(&mut self, name: &str) {
        self.flush_partial();
        if self.total_lines == 0 && self.files.len() == 1 {
            self.files[0] = name.to_string();
        } else if self.files.len() < u32::MAX as usize {
            self.files.push(name.to_string());
        }
        self.line_no = 0;
        self.ctx = Context::default();
    }

    /// Lines seen so far.
    pub fn lines(&self) -> u64 {
        self.total_lines
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Feeds a chunk of the log: any split of its bytes (a line may span
    /// chunks). Invalid UTF-8 is replaced, line by line.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        let mut rest = chunk;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            let (head, tail) = rest.split_at(nl);
            rest = &tail[1..];
            if self.partial.is_empty() && !self.skipping {
                self.line_bytes(head);
            } else {
                self.push_partial(head);
                let line = std::mem::take(&mut self.partial);
                self.skipping = false;
                self.line_bytes(&line);
            }
        }
        self.push_partial(rest);
    }

    fn push_partial(&mut self, bytes: &[u8]) {
        if self.skipping {
            return;
        }
        let room = MAX_LINE.saturating_sub(self.partial.len());
        if bytes.len() > room {
            self.partial.extend_from_slice(&bytes[..room]);
            self.skipping = true;
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    fn flush_partial(&mut self) {
        if !self.partial.is_empty() || self.skipping {
            let line = std::mem::take(&mut self.partial);
            self.skipping = false;
            self.line_bytes(&line);
        }
    }

    fn line_bytes(&mut self, bytes: &[u8]) {
        let bytes = &bytes[..bytes.len().min(MAX_LINE)];
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        match std::str::from_utf8(bytes) {
            Ok(s) => self.line(s),
            Err(e) => {
                // A multi-byte character cut by MAX_LINE is not corruption.
                if e.error_len().is_none() {
                    let valid = &bytes[..e.valid_up_to()];
                    self.line(std::str::from_utf8(valid).unwrap_or(""));
                } else {
                    let s = String::from_utf8_lossy(bytes);
                    self.line(&s);
                }
            }
        }
    }

    /// Feeds one line (without its newline).
    pub fn feed_line(&mut self, line: &str) {
        self.flush_partial();
        self.bytes += line.len() as u64 + 1;
        self.line(cut(line, MAX_LINE));
    }

    /// Feeds a whole text (pasted logs).
    pub fn feed_text(&mut self, text: &str) {
        self.flush_partial();
        self.bytes += text.len() as u64;
        for l in text.lines() {
            self.line(cut(l, MAX_LINE));
        }
    }

    fn line_ref(&self, text: &str) -> LineRef {
        LineRef {
            file: (self.files.len() - 1) as u32,
            line: self.line_no,
            text: cut(text.trim_end(), EVIDENCE_TEXT).into(),
        }
    }

    pub(crate) fn evidence(&self, r: &LineRef) -> Evidence {
        Evidence::Config {
            file: self.files.get(r.file as usize).cloned().unwrap_or_default(),
            line: Some(u32::try_from(r.line).unwrap_or(u32::MAX)),
            text: r.text.to_string(),
        }
    }

    fn line(&mut self, text: &str) {
        self.line_no += 1;
        self.total_lines += 1;
        let l = parse::line(text, self.now, &mut self.ctx);
        let Some(format) = l.format else {
            return;
        };
        self.recognised += 1;
        if let Some(i) = Format::ALL.iter().position(|f| *f == format) {
            self.formats[i] += 1;
        }
        let t = l.time.or(self.last).unwrap_or(0);
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |f| f.max(t)));
        match l.event {
            Event::None => {}
            Event::AuthFail { ip, user } => self.auth_fail(t, ip, user, text),
            Event::AuthOk { id, user } => {
                self.submissions += 1;
                if self.queue.len() >= MAX_QUEUE {
                    self.queue.clear();
                    self.note_truncated("queue ids of authenticated submissions");
                }
                self.queue.insert(id.into(), user.into());
            }
            Event::Queued { id, rcpts } => {
                if let Some(user) = self.queue.remove(id) {
                    self.sent_by(&user, t, u64::from(rcpts), text);
                }
            }
            Event::Submitted { user, rcpts } => {
                self.submissions += 1;
                self.sent_by(user, t, u64::from(rcpts), text);
            }
            Event::Delivery {
                id,
                status,
                reason,
                peer,
                per_rcpt,
            } => self.delivery(t, id, status, reason, peer, per_rcpt, text),
            Event::Relay { ip } => {
                if crate::addr::Net::host(ip).is_private() {
                    self.relay_internal += 1;
                } else {
                    self.relay_total += 1;
                    let r = self.line_ref(text);
                    if let Some(s) = self.ip_entry(ip, t) {
                        s.relay += 1;
                        if s.first_line.is_none() {
                            s.first_line = Some(r);
                        }
                    }
                }
            }
            Event::Tls { dir, peer } => self.tls_failure(dir, peer, text),
            Event::Done { id } => {
                self.queue.remove(id);
            }
        }
    }

    fn note_truncated(&mut self, what: &str) {
        self.truncated = true;
        let n = format!("memory cap reached for {what}: the least active were dropped");
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }

    /// The address's entry (made room for if the table is full).
    fn ip_entry(&mut self, ip: IpAddr, t: i64) -> Option<&mut IpStat> {
        if !self.ips.contains_key(&ip) && self.ips.len() >= self.opts.max_ips.max(4) {
            // Drop the least active quarter (brute-forcing addresses have
            // the most failures and stay).
            let mut v: Vec<(IpAddr, u64)> = self
                .ips
                .iter()
                .map(|(k, s)| {
                    (
                        *k,
                        s.failures * 4 + s.relay + u64::from(s.flag_line.is_some()) * 1_000_000,
                    )
                })
                .collect();
            // Ties by key: which entries go must not depend on hash order.
            v.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            for (k, _) in v.iter().take(v.len() / 4) {
                self.ips.remove(k);
            }
            self.note_truncated("client addresses");
        }
        let s = self.ips.entry(ip).or_insert_with(|| IpStat::new(t));
        s.first = s.first.min(t);
        s.last = s.last.max(t);
        Some(s)
    }

    fn auth_fail(&mut self, t: i64, ip: IpAddr, user: Option<&str>, text: &str) {
        self.auth_total += 1;
        self.auth_series.add(t, 1);
        let r = self.line_ref(text);
        let Some(s) = self.ip_entry(ip, t) else {
            return;
        };
        s.failures += 1;
        while s
            .window
            .front()
            .is_some_and(|&f| f <= t - rules::BRUTE_WINDOW)
        {
            s.window.pop_front();
        }
        if s.window.len() >= PEAK_CAP {
            s.window.pop_front();
        }
        s.window.push_back(t);
        s.peak = s.peak.max(s.window.len() as u32);
        if s.first_line.is_none() {
            s.first_line = Some(r.clone());
        }
        if s.flag_line.is_none() && s.window.len() >= rules::BRUTE_COUNT {
            s.flag_line = Some(r.clone());
        }
        if let Some(u) = user {
            if s.users.len() < SET_CAP && !s.users.iter().any(|x| &**x == u) {
                s.users.push(u.into());
            }
            if !self.users.contains_key(u) && self.users.len() >= self.opts.max_users.max(4) {
                let mut v: Vec<(Box<str>, u64)> = self
                    .users
                    .iter()
                    .map(|(k, s)| (k.clone(), s.failures + s.ips.len() as u64 * 1000))
                    .collect();
                // Ties by key: which entries go must not depend on hash order.
                v.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
                for (k, _) in v.iter().take(v.len() / 4) {
                    self.users.remove(k);
                }
                self.note_truncated("user names");
            }
            let us = self.users.entry(u.into()).or_insert_with(|| UserStat {
                failures: 0,
                first: t,
                last: t,
                ips: Vec::new(),
                first_line: Some(r),
            });
            us.failures += 1;
            us.first = us.first.min(t);
            us.last = us.last.max(t);
            if us.ips.len() < SET_CAP && !us.ips.contains(&ip) {
                us.ips.push(ip);
            }
        }
    }

    fn sent_by(&mut self, user: &str, t: i64, n: u64, text: &str) {
        if !self.senders.contains_key(user) && self.senders.len() >= MAX_SENDERS {
            self.note_truncated("authenticated senders");
            return;
        }
        let r = self.line_ref(text);
        let s = self.senders.entry(user.into()).or_default();
        let hour = t.div_euclid(3600);
        if !s.hours.contains_key(&hour) && s.hours.len() >= MAX_SENDER_HOURS {
            self.truncated = true;
            return;
        }
        let c = s.hours.entry(hour).or_insert(0);
        *c += n;
        let count = *c;
        s.total += n;
        if s.cur_first.is_none() || s.cur_hour != hour {
            s.cur_hour = hour;
            s.cur_first = Some(r);
        }
        if count >= rules::SPIKE_MIN && !s.big.iter().any(|(h, _)| *h == hour) && s.big.len() < 256
        {
            if let Some(first) = s.cur_first.clone() {
                s.big.push((hour, first));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn delivery(
        &mut self,
        t: i64,
        id: Option<&str>,
        status: Status,
        reason: &str,
        peer: Option<&str>,
        per_rcpt: bool,
        text: &str,
    ) {
        let i = match status {
            Status::Sent => 0,
            Status::Deferred => 1,
            Status::Bounced => 2,
        };
        self.deliveries[i] += 1;
        if per_rcpt && status != Status::Deferred {
            if let Some(user) = id.and_then(|id| self.queue.get(id)).cloned() {
                self.sent_by(&user, t, 1, text);
            }
        }
        if status == Status::Sent {
            return;
        }
        self.trouble.add(t, 1);
        let cat = Category::of(reason);
        if let Some(k) = Category::ALL.iter().position(|c| *c == cat) {
            self.categories[k] += 1;
        }
        if cat == Category::Tls {
            if let Some(p) = peer {
                self.tls_failure(Dir::Out, p, text);
            }
        }
        let key = normalise_reason(reason);
        if let Some(r) = self.reasons.get_mut(key.as_str()) {
            r.count += 1;
        } else if self.reasons.len() < MAX_REASONS {
            let first = self.line_ref(text);
            self.reasons.insert(key.into(), Reason { count: 1, first });
        } else {
            self.truncated = true;
        }
    }

    fn tls_failure(&mut self, dir: Dir, peer: &str, text: &str) {
        self.tls_total += 1;
        let key = (dir == Dir::Out, Box::<str>::from(cut(peer, 200)));
        if let Some(p) = self.tls.get_mut(&key) {
            p.count += 1;
        } else if self.tls.len() < MAX_TLS_PEERS {
            let first = self.line_ref(text);
            self.tls.insert(key, TlsPeer { count: 1, first });
        } else {
            self.note_truncated("TLS peers");
        }
    }

    /// The findings of the six `logs.*` rules and the tables and series.
    pub fn finish(mut self) -> (Vec<Finding>, LogStats) {
        self.flush_partial();
        let stats = self.stats();
        let findings = rules::judge(&self, &stats);
        (findings, stats)
    }

    /// [`finish`](Self::finish), as a report (`target`: what was analysed)
    /// with the assumptions [`assumptions`] states.
    pub fn finish_report(self, target: &str) -> (Report, LogStats) {
        let now = self.opts.now.clone();
        let given = self.now_given;
        let (findings, stats) = self.finish();
        let mut a = vec![Assumption::new(
            "input",
            format!("{target}: {}", describe_formats(&stats)),
        )];
        a.extend(assumptions(&stats, given));
        (Report::new(target, now, a, findings), stats)
    }

    fn stats(&self) -> LogStats {
        let top = self.opts.top.max(1);
        let ts = |t: i64| Some(time::rfc3339(t));
        let mut ips: Vec<(&IpAddr, &IpStat)> = self.ips.iter().collect();
        ips.sort_by(|a, b| {
            b.1.failures
                .cmp(&a.1.failures)
                .then(b.1.relay.cmp(&a.1.relay))
                .then(a.0.cmp(b.0))
        });
        let ip_rows = ips
            .iter()
            .take(top)
            .map(|(ip, s)| {
                let r = s.first_line.as_ref();
                stats::IpRow {
                    ip: ip.to_string(),
                    failures: s.failures,
                    peak_10min: s.peak,
                    users: s.users.len() as u32,
                    relay_attempts: s.relay,
                    first: ts(s.first),
                    last: ts(s.last),
                    bruteforce: s.flag_line.is_some(),
                    file: r
                        .and_then(|r| self.files.get(r.file as usize))
                        .cloned()
                        .unwrap_or_default(),
                    line: r.map(|r| r.line).unwrap_or(0),
                }
            })
            .collect();
        let mut users: Vec<(&Box<str>, &UserStat)> = self.users.iter().collect();
        users.sort_by(|a, b| b.1.failures.cmp(&a.1.failures).then(a.0.cmp(b.0)));
        let user_rows = users
            .iter()
            .take(top)
            .map(|(u, s)| stats::UserRow {
                user: u.to_string(),
                failures: s.failures,
                ips: s.ips.len() as u32,
                first: ts(s.first),
                last: ts(s.last),
            })
            .collect();
        let mut tls: Vec<(&(bool, Box<str>), &TlsPeer)> = self.tls.iter().collect();
        tls.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        let tls_rows = tls
            .iter()
            .take(top)
            .map(|((out, peer), p)| stats::PeerRow {
                peer: peer.to_string(),
                direction: if *out { "outbound" } else { "inbound" }.into(),
                count: p.count,
            })
            .collect();
        let mut reasons: Vec<(&Box<str>, &Reason)> = self.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        let mut formats = Vec::new();
        for (i, f) in Format::ALL.iter().enumerate() {
            if self.formats[i] > 0 {
                formats.push(stats::Count {
                    name: f.name().into(),
                    count: self.formats[i],
                });
            }
        }
        let mut categories: Vec<stats::Count> = Category::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| self.categories[*i] > 0)
            .map(|(i, c)| stats::Count {
                name: c.name().into(),
                count: self.categories[i],
            })
            .collect();
        categories.sort_by_key(|c| std::cmp::Reverse(c.count));
        LogStats {
            lines: self.total_lines,
            bytes: self.bytes,
            recognised: self.recognised,
            formats,
            first: self.first.and_then(ts),
            last: self.last.and_then(ts),
            auth_failures: self.auth_total,
            auth_series: self.series(&self.auth_series),
            ips: ip_rows,
            users: user_rows,
            outbound: self.outbound(),
            deliveries: stats::Deliveries {
                sent: self.deliveries[0],
                deferred: self.deliveries[1],
                bounced: self.deliveries[2],
                trouble: self.series(&self.trouble),
                categories,
                reasons: reasons
                    .iter()
                    .take(10)
                    .map(|(k, r)| stats::Count {
                        name: k.to_string(),
                        count: r.count,
                    })
                    .collect(),
            },
            relay_attempts: self.relay_total,
            relay_internal: self.relay_internal,
            tls_failures: tls_rows,
            tls_failures_total: self.tls_total,
            truncated: self.truncated,
            notes: self.notes.clone(),
        }
    }

    /// A series over the log window in at most ~240 nice steps.
    fn series(&self, b: &Buckets) -> stats::Series {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return stats::Series::default();
        };
        let span = (last - first).max(1);
        const NICE: [i64; 12] = [
            60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 604_800,
        ];
        let want = (span / 240).max(b.step);
        let step = NICE
            .iter()
            .copied()
            .find(|s| *s >= want && s % b.step == 0)
            .unwrap_or_else(|| {
                let w = 604_800.max(b.step);
                (want + w - 1) / w * w
            });
        let start = first.div_euclid(step) * step;
        let n = ((last - start) / step + 1).clamp(1, 10_000) as usize;
        let mut values = vec![0u64; n];
        for (k, v) in &b.map {
            let t = k * b.step;
            let i = (t - start).div_euclid(step);
            if let Some(slot) = usize::try_from(i).ok().and_then(|i| values.get_mut(i)) {
                *slot += v;
            }
        }
        stats::Series {
            start,
            start_time: time::rfc3339(start),
            step_secs: step,
            values,
        }
    }

    /// Hour index range of the log window.
    pub(crate) fn hours(&self) -> Option<(i64, i64)> {
        Some((self.first?.div_euclid(3600), self.last?.div_euclid(3600)))
    }

    /// The median of a sender's hours over the window (hours without mail
    /// count as 0), without materialising the zeros.
    pub(crate) fn median(&self, s: &Sender) -> f64 {
        let Some((h0, h1)) = self.hours() else {
            return 0.0;
        };
        let n = usize::try_from(h1 - h0 + 1)
            .unwrap_or(1)
            .max(s.hours.len())
            .max(1);
        let mut v: Vec<u64> = s.hours.values().copied().collect();
        v.sort_unstable();
        let zeros = n - v.len();
        let at = |i: usize| if i < zeros { 0 } else { v[i - zeros] };
        if n % 2 == 1 {
            at(n / 2) as f64
        } else {
            (at(n / 2 - 1) + at(n / 2)) as f64 / 2.0
        }
    }

    fn outbound(&self) -> stats::Outbound {
        let Some((h0, h1)) = self.hours() else {
            return stats::Outbound::default();
        };
        let hours = h1 - h0 + 1;
        let step_hours = ((hours + 999) / 1000).max(1);
        let n = ((hours + step_hours - 1) / step_hours).clamp(1, 1000) as usize;
        let mut senders: Vec<(&Box<str>, &Sender)> = self.senders.iter().collect();
        senders.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.cmp(b.0)));
        let rows = senders
            .iter()
            .take(self.opts.top.clamp(1, 20))
            .map(|(name, s)| {
                let mut series = vec![0u64; n];
                for (h, c) in &s.hours {
                    let i = (h - h0).div_euclid(step_hours);
                    if let Some(slot) = usize::try_from(i).ok().and_then(|i| series.get_mut(i)) {
                        *slot += c;
                    }
                }
                let median = self.median(s);
                let (peak_hour, peak) = s
                    .hours
                    .iter()
                    .max_by_key(|(h, c)| (**c, -**h))
                    .map(|(h, c)| (Some(time::rfc3339(h * 3600)), *c))
                    .unwrap_or((None, 0));
                stats::SenderRow {
                    sender: name.to_string(),
                    total: s.total,
                    median,
                    peak,
                    peak_hour,
                    spike: rules::is_spike(peak, median),
                    series,
                }
            })
            .collect();
        stats::Outbound {
            start: h0 * 3600,
            start_time: time::rfc3339(h0 * 3600),
            step_hours,
            hours,
            senders: rows,
        }
    }
}

/// `Postfix syslog: 12,345 lines; Exim mainlog: 10 lines`.
pub fn describe_formats(stats: &LogStats) -> String {
    if stats.formats.is_empty() {
        return format!("{} lines, none recognised as a mail log", stats.lines);
    }
    stats
        .formats
        .iter()
        .map(|c| format!("{} ({} lines)", c.name, c.count))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the analysis assumed or could not see.
pub fn assumptions(stats: &LogStats, now_given: bool) -> Vec<Assumption> {
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (&stats.first, &stats.last) {
        out.push(Assumption::new(
            "logs.window",
            format!(
                "{a} – {b}, {} of {} lines recognised{}",
                stats.recognised,
                stats.lines,
                if stats.formats.iter().any(|f| f.name.contains("syslog")) {
                    if now_given {
                        "; syslog lines carry no year: the year was taken from the analysis time"
                    } else {
                        "; syslog lines carry no year and no analysis time was given"
                    }
                } else {
                    ""
                }
            ),
        ));
    }
    if stats.truncated {
        out.push(Assumption::new("logs.truncated", stats.notes.join("; ")));
    }
    out
}

/// The analyser [`crate::config::analyze`] calls for pasted log parts.
pub fn analyse(parts: &[Input], opts: &ConfigOptions) -> (Vec<Finding>, Vec<Assumption>) {
    let mut a = LogAnalyzer::new(LogOptions {
        now: opts.now.clone(),
        ..Default::default()
    });
    for p in parts {
        a.begin_file(&p.name);
        a.feed_text(&p.text);
    }
    let given = a.now_given;
    let (findings, stats) = a.finish();
    (findings, assumptions(&stats, given))
}

#[cfg(test)]
mod tests;
