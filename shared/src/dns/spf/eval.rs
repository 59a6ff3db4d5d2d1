//! RFC 7208 `check_host()` (§4–§7, §11 limits) over the DoH [`Resolver`],
//! recording a look-up tree of every evaluated term.
//!
//! Queries go through a small per-evaluator cache so identical questions
//! are asked once per audit. Names are sent label by label as raw bytes:
//! macro expansion may produce names (`foo:bar/baz.example.com`, labels with
//! `%` or spaces) that a host-name parser would refuse but DNS carries.

use super::parse::{self, MacroPart, MacroString, Mechanism, Qualifier, SyntaxError};
use crate::dns::{rcode_text, DnsAnswer, DnsError, RecordType, Resolver, RrData};
use crate::net::Network;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// RFC 7208 §4.6.4: at most 10 DNS-querying terms.
pub const MAX_DNS_TERMS: u32 = 10;
/// RFC 7208 §4.6.4: at most 2 void look-ups.
pub const MAX_VOID_LOOKUPS: u32 = 2;
/// RFC 7208 §4.6.4: names per `mx` and per `ptr` / `%{p}`.
pub const MAX_NAMES: usize = 10;

/// The result of `check_host()` (§2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError,
    PermError,
}

impl SpfResult {
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }

    fn of(q: Qualifier) -> SpfResult {
        match q {
            Qualifier::Pass => SpfResult::Pass,
            Qualifier::Fail => SpfResult::Fail,
            Qualifier::SoftFail => SpfResult::SoftFail,
            Qualifier::Neutral => SpfResult::Neutral,
        }
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One node of the look-up tree: a record (children: its terms) or a term
/// (children: the record an include/redirect reached).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupNode {
    /// `example.org: "v=spf1 …"` for a record, the term text otherwise.
    pub text: String,
    /// DNS-querying terms this node itself counts (0 or 1, §4.6.4).
    pub cost: u32,
    /// The node's look-up returned no records (NXDOMAIN or empty).
    pub void: bool,
    /// What happened (e.g. "match", "no record", "permerror: …").
    pub note: String,
    pub children: Vec<LookupNode>,
}

impl LookupNode {
    /// Total DNS-querying terms in this subtree.
    pub fn total_cost(&self) -> u32 {
        self.cost + self.children.iter().map(|c| c.total_cost()).sum::<u32>()
    }

    /// The tree as indented lines with a running count of look-ups.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut running = 0;
        self.walk_lines(0, &mut running, &mut out);
        out
    }

    fn walk_lines(&self, depth: usize, running: &mut u32, out: &mut Vec<String>) {
        *running += self.cost;
        let mut line = format!("{}{}", "  ".repeat(depth), self.text);
        if self.cost > 0 {
            line.push_str(&format!("  [look-up {running}]"));
        }
        if self.void {
            line.push_str("  (void)");
        }
        if !self.note.is_empty() {
            line.push_str(&format!("  — {}", self.note));
        }
        out.push(line);
        for c in &self.children {
            c.walk_lines(depth + 1, running, out);
        }
    }
}

/// A problem found in a record reached during evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordProblem {
    pub domain: String,
    pub record: String,
    pub error: SyntaxError,
}

/// What `check_host()` produced, with everything the rules show.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: SpfResult,
    /// The `exp=` explanation when the result is fail (None: default).
    pub explanation: Option<String>,
    /// Why the result is what it is, in plain language.
    pub reason: String,
    pub tree: LookupNode,
    /// DNS-querying terms counted (§4.6.4).
    pub lookups: u32,
    pub void_lookups: u32,
    /// Syntax errors of the records reached (the first one ends evaluation).
    pub syntax_errors: Vec<RecordProblem>,
    /// Terms using `ptr` (mechanism) seen, as `domain: term`.
    pub ptr_terms: Vec<String>,
    /// Other permerror causes met (an include or redirect without a
    /// record); the audit walk notes them and goes on.
    pub problems: Vec<String>,
    /// Look-ups that failed (temperror causes).
    pub temp_errors: Vec<String>,
    /// The TXT answers of the records reached, in order.
    pub answers: Vec<DnsAnswer>,
}

/// The identity `check_host()` evaluates (§4.1).
#[derive(Debug, Clone)]
pub struct Identity {
    pub ip: IpAddr,
    /// `MAIL FROM` (may be empty: the HELO identity is then used).
    pub sender: String,
    pub helo: String,
}

#[derive(Debug, Clone)]
struct Ctx {
    ip: IpAddr,
    sender: String,
    local: String,
    sender_domain: String,
    helo: String,
}

struct State {
    lookups: u32,
    voids: u32,
    /// Audit walk: no IP-dependent term matches and client-dependent
    /// look-ups are skipped, so every reachable term is counted.
    walk: bool,
    syntax_errors: Vec<RecordProblem>,
    ptr_terms: Vec<String>,
    problems: Vec<String>,
    temp_errors: Vec<String>,
    answers: Vec<DnsAnswer>,
    validated: Option<(String, String)>,
}

/// One record being evaluated (a stack frame of `evaluate`).
struct Frame {
    domain: String,
    want_exp: bool,
    node: LookupNode,
    record: parse::Record,
    /// Indices of the record's mechanisms in `record.terms`.
    mechs: Vec<usize>,
    idx: usize,
    redirected: bool,
    /// The include: (with its qualifier) or redirect= (None) waiting for
    /// a nested evaluation: its tree node and target.
    pending: Option<(Option<Qualifier>, LookupNode, String)>,
}

enum Step {
    /// Evaluate this domain (want the explanation?) and come back.
    Call(String, bool),
    Done(Eval),
}

fn finish(result: SpfResult, reason: String, mut node: LookupNode) -> Eval {
    if node.note.is_empty() {
        node.note = format!("{result}: {reason}");
    }
    Eval {
        result,
        exp: None,
        reason,
        node,
    }
}

struct Eval {
    result: SpfResult,
    exp: Option<String>,
    reason: String,
    node: LookupNode,
}

/// Answers another look-up fetched, keyed by (lower-case name, type).
pub type Seeds = Arc<Vec<((String, RecordType), Result<DnsAnswer, DnsError>)>>;

/// The prefetch of an evaluator that has none.
pub type NoPrefetch = std::future::Ready<Seeds>;

type Cache = HashMap<(String, RecordType), Result<DnsAnswer, DnsError>>;

/// The SPF evaluator: a resolver, a per-audit cache and, optionally, a
/// look-up already under way whose answers it reuses (`P`, a cloneable
/// future such as a [`futures::future::Shared`]).
///
/// No `Rc`, `RefCell` or boxed future inside: the evaluation's future is
/// `Send` whenever the host's network futures are (the CLI's server needs
/// that; the Worker's are not and need not be).
pub struct Evaluator<'a, 'n, N: Network, P = NoPrefetch> {
    resolver: &'a Resolver<'n, N>,
    cache: Mutex<Cache>,
    prefetch: Option<P>,
    sent: AtomicU32,
}

impl<'a, 'n, N: Network> Evaluator<'a, 'n, N, NoPrefetch> {
    pub fn new(resolver: &'a Resolver<'n, N>) -> Self {
        Evaluator {
            resolver,
            cache: Mutex::new(HashMap::new()),
            prefetch: None,
            sent: AtomicU32::new(0),
        }
    }
}

impl<'a, 'n, N: Network, P: Future<Output = Seeds> + Clone> Evaluator<'a, 'n, N, P> {
    /// An evaluator whose MX, A and AAAA questions first wait for
    /// `prefetch` (answers another look-up is fetching) and use its
    /// answers instead of asking again.
    pub fn with_prefetch(resolver: &'a Resolver<'n, N>, prefetch: P) -> Self {
        Evaluator {
            resolver,
            cache: Mutex::new(HashMap::new()),
            prefetch: Some(prefetch),
            sent: AtomicU32::new(0),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while the lock is held cannot leave the map inconsistent.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cached(&self, key: &(String, RecordType)) -> Option<Result<DnsAnswer, DnsError>> {
        self.cache().get(key).cloned()
    }

    /// Answers already known (e.g. the audit's own look-ups).
    pub fn seed(&self, name: &str, rtype: RecordType, answer: Result<DnsAnswer, DnsError>) {
        self.cache()
            .insert((name.to_ascii_lowercase(), rtype), answer);
    }

    /// Queries this evaluator sent to the network (cache misses).
    pub fn queries_sent(&self) -> u32 {
        self.sent.load(Ordering::Relaxed)
    }

    /// One DNS question, through the cache.
    pub async fn query(&self, name: &str, rtype: RecordType) -> Result<DnsAnswer, DnsError> {
        let key = (name.to_ascii_lowercase(), rtype);
        if let Some(a) = self.cached(&key) {
            return a;
        }
        if matches!(rtype, RecordType::MX | RecordType::A | RecordType::AAAA) {
            if let Some(p) = &self.prefetch {
                let seeds = p.clone().await;
                {
                    let mut cache = self.cache();
                    for (k, v) in seeds.iter() {
                        cache.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                if let Some(a) = self.cached(&key) {
                    return a;
                }
            }
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        let r = self.resolver.query(&key.0, rtype).await;
        self.cache().insert(key, r.clone());
        r
    }

    /// RFC 7208 `check_host(<ip>, <domain>, <sender>)`; `helo` feeds `%{h}`
    /// and replaces an empty sender (§2.4).
    pub async fn check_host(&self, id: &Identity, domain: &str) -> Outcome {
        self.run(id, domain, None, false).await
    }

    /// The audit walk of `domain` (or of `record`, published at `domain`):
    /// evaluated for a client no term matches, so every term a forged
    /// message reaches is counted; look-ups that depend on the client are
    /// skipped.
    pub async fn walk(&self, domain: &str, record: Option<&str>) -> Outcome {
        let id = Identity {
            ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            sender: format!("postmaster@{domain}"),
            helo: domain.to_string(),
        };
        self.run(&id, domain, record, true).await
    }

    async fn run(&self, id: &Identity, domain: &str, record: Option<&str>, walk: bool) -> Outcome {
        let ip = match id.ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        let sender = if id.sender.is_empty() {
            format!("postmaster@{}", id.helo)
        } else {
            id.sender.clone()
        };
        let (local, sender_domain) = match sender.rsplit_once('@') {
            Some((l, d)) => (
                if l.is_empty() { "postmaster" } else { l }.to_string(),
                d.to_string(),
            ),
            None => ("postmaster".to_string(), sender.clone()),
        };
        let ctx = Ctx {
            ip,
            sender: format!("{local}@{sender_domain}"),
            local,
            sender_domain,
            helo: id.helo.clone(),
        };
        let mut st = State {
            lookups: 0,
            voids: 0,
            walk,
            syntax_errors: Vec::new(),
            ptr_terms: Vec::new(),
            problems: Vec::new(),
            temp_errors: Vec::new(),
            answers: Vec::new(),
            validated: None,
        };
        let domain = domain.strip_suffix('.').unwrap_or(domain).to_string();
        let e = if !valid_initial_domain(&domain) {
            Eval {
                result: SpfResult::None,
                exp: None,
                reason: format!("{domain:?} is not a valid domain name (RFC 7208 §4.3)"),
                node: LookupNode {
                    text: domain.clone(),
                    note: "not a valid domain name".into(),
                    ..LookupNode::default()
                },
            }
        } else {
            self.evaluate(&mut st, &ctx, domain, !walk, record.map(str::to_string))
                .await
        };
        Outcome {
            result: e.result,
            explanation: e.exp,
            reason: e.reason,
            tree: e.node,
            lookups: st.lookups,
            void_lookups: st.voids,
            syntax_errors: st.syntax_errors,
            ptr_terms: st.ptr_terms,
            problems: st.problems,
            temp_errors: st.temp_errors,
            answers: st.answers,
        }
    }

    /// check_host() on `domain` (`given` replaces its TXT look-up), with
    /// include: and redirect= evaluated on an explicit stack of frames: no
    /// recursive `async fn`, so no boxed future, and the evaluation stays
    /// `Send` whenever the host's network is.
    async fn evaluate(
        &self,
        st: &mut State,
        ctx: &Ctx,
        domain: String,
        want_exp: bool,
        given: Option<String>,
    ) -> Eval {
        let mut stack: Vec<Frame> = Vec::new();
        let mut start = Some((domain, want_exp, given));
        let mut incoming: Option<Eval> = None;
        loop {
            if let Some((domain, want_exp, given)) = start.take() {
                match self.open(st, domain, want_exp, given).await {
                    Ok(frame) => stack.push(frame),
                    Err(e) => incoming = Some(e),
                }
            }
            let Some(frame) = stack.last_mut() else {
                // The top-level record could not be read or parsed.
                return incoming.unwrap_or_else(|| {
                    finish(
                        SpfResult::PermError,
                        "nothing to evaluate".into(),
                        LookupNode::default(),
                    )
                });
            };
            match self.step(st, ctx, frame, incoming.take()).await {
                Step::Call(target, want_exp) => start = Some((target, want_exp, None)),
                Step::Done(e) => {
                    stack.pop();
                    if stack.is_empty() {
                        return e;
                    }
                    incoming = Some(e);
                }
            }
        }
    }

    /// Reads and parses the record of a domain; Err is that domain's result.
    async fn open(
        &self,
        st: &mut State,
        domain: String,
        want_exp: bool,
        given: Option<String>,
    ) -> Result<Frame, Eval> {
        let mut node = LookupNode {
            text: domain.clone(),
            ..LookupNode::default()
        };
        let text = match given {
            Some(t) => t,
            None => match self.record_of(st, &domain).await {
                Ok(t) => t,
                Err((result, reason)) => return Err(finish(result, reason, node)),
            },
        };
        node.text = format!("{domain}: \"{}\"", text.escape_debug());
        let record = match parse::parse_record(&text) {
            Ok(r) => r,
            Err(e) => {
                let reason = format!("syntax error in the record of {domain} {e}");
                st.syntax_errors.push(RecordProblem {
                    domain: domain.clone(),
                    record: text.clone(),
                    error: e,
                });
                return Err(finish(SpfResult::PermError, reason, node));
            }
        };
        let mechs = record
            .terms
            .iter()
            .enumerate()
            .filter(|(_, t)| matches!(t.kind, parse::TermKind::Mechanism { .. }))
            .map(|(i, _)| i)
            .collect();
        Ok(Frame {
            domain,
            want_exp,
            node,
            record,
            mechs,
            idx: 0,
            redirected: false,
            pending: None,
        })
    }

    /// Runs a frame until it finishes or needs a nested evaluation;
    /// `incoming` is the result of the nested evaluation it asked for.
    async fn step(&self, st: &mut State, ctx: &Ctx, f: &mut Frame, incoming: Option<Eval>) -> Step {
        let domain = f.domain.clone();
        if let Some(inner) = incoming {
            let Some((qualifier, mut tnode, target)) = f.pending.take() else {
                return Step::Done(inner);
            };
            tnode.children.push(inner.node);
            let Some(qualifier) = qualifier else {
                // redirect=: its result is the result (§6.1).
                f.node.children.push(tnode);
                let (result, reason) = if inner.result == SpfResult::None {
                    let reason = format!("redirect={target}: {target} has no SPF record");
                    note_once(&mut st.problems, &reason);
                    (SpfResult::PermError, reason)
                } else {
                    (inner.result, inner.reason)
                };
                return Step::Done(Eval {
                    result,
                    exp: inner.exp,
                    reason,
                    node: std::mem::take(&mut f.node),
                });
            };
            // include: (§5.2).
            let m = match inner.result {
                SpfResult::Pass => Ok(true),
                SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => Ok(false),
                SpfResult::TempError => Err((SpfResult::TempError, inner.reason)),
                SpfResult::PermError => Err((SpfResult::PermError, inner.reason)),
                SpfResult::None => {
                    let reason = format!("include:{target}: {target} has no SPF record");
                    note_once(&mut st.problems, &reason);
                    Err((SpfResult::PermError, reason))
                }
            };
            let text = tnode.text.clone();
            if let Some(stop) = judge_term(st, &mut f.node, tnode, qualifier, &text, &domain, m) {
                return Step::Done(self.stop(st, ctx, f, stop).await);
            }
        }
        while f.idx < f.mechs.len() {
            let term = &f.record.terms[f.mechs[f.idx]];
            f.idx += 1;
            let parse::TermKind::Mechanism {
                qualifier,
                mechanism: mech,
            } = &term.kind
            else {
                continue;
            };
            let qualifier = *qualifier;
            let mut tnode = LookupNode {
                text: term.text.clone(),
                ..LookupNode::default()
            };
            if matches!(mech, Mechanism::Ptr(_)) {
                st.ptr_terms.push(format!("{domain}: {}", term.text));
            }
            if mech.queries_dns() {
                tnode.cost = 1;
                st.lookups += 1;
                if st.lookups > MAX_DNS_TERMS && st.walk {
                    tnode.note = "over the limit of 10: not resolved".into();
                    f.node.children.push(tnode);
                    continue;
                }
                if st.lookups > MAX_DNS_TERMS {
                    tnode.note = "permerror: look-up limit exceeded".into();
                    f.node.children.push(tnode);
                    let reason = limit_reason(&term.text, &domain);
                    return Step::Done(finish(
                        SpfResult::PermError,
                        reason,
                        std::mem::take(&mut f.node),
                    ));
                }
            }
            let m = if let Mechanism::Include(spec) = mech {
                let target = self.target(st, ctx, &domain, spec).await;
                match target.filter(|t| valid_initial_domain(t)) {
                    Some(target) => {
                        f.pending = Some((Some(qualifier), tnode, target.clone()));
                        return Step::Call(target, false);
                    }
                    None => Err((
                        SpfResult::PermError,
                        format!("{} expands to an invalid domain", term.text),
                    )),
                }
            } else {
                self.matches(st, ctx, &domain, mech, &mut tnode).await
            };
            let text = term.text.clone();
            if let Some(stop) = judge_term(st, &mut f.node, tnode, qualifier, &text, &domain, m) {
                return Step::Done(self.stop(st, ctx, f, stop).await);
            }
        }
        let redirect = if f.redirected {
            None
        } else {
            f.record.redirect()
        };
        let Some((term, spec)) = redirect else {
            return Step::Done(finish(
                SpfResult::Neutral,
                format!("no term of the record of {domain} matched and there is no redirect"),
                std::mem::take(&mut f.node),
            ));
        };
        let mut tnode = LookupNode {
            text: term.text.clone(),
            cost: 1,
            ..LookupNode::default()
        };
        st.lookups += 1;
        if st.lookups > MAX_DNS_TERMS {
            tnode.note = if st.walk {
                "over the limit of 10: not resolved".into()
            } else {
                "permerror: look-up limit exceeded".into()
            };
            let reason = limit_reason(&term.text, &domain);
            f.node.children.push(tnode);
            return Step::Done(finish(
                SpfResult::PermError,
                reason,
                std::mem::take(&mut f.node),
            ));
        }
        let target = self.target(st, ctx, &domain, spec).await;
        let Some(target) = target.filter(|t| valid_initial_domain(t)) else {
            tnode.note = "permerror: invalid target".into();
            let reason = format!("{} expands to an invalid domain", term.text);
            f.node.children.push(tnode);
            return Step::Done(finish(
                SpfResult::PermError,
                reason,
                std::mem::take(&mut f.node),
            ));
        };
        f.redirected = true;
        f.pending = Some((None, tnode, target.clone()));
        Step::Call(target, f.want_exp)
    }

    /// A frame ends at a matching (or failing) term; a fail gets the
    /// record's explanation when one is wanted (§6.2).
    async fn stop(
        &self,
        st: &mut State,
        ctx: &Ctx,
        f: &mut Frame,
        (result, reason): (SpfResult, String),
    ) -> Eval {
        let exp = match f.record.exp() {
            Some(spec) if result == SpfResult::Fail && f.want_exp => {
                self.explanation(st, ctx, &f.domain, spec).await
            }
            _ => None,
        };
        let mut e = finish(result, reason, std::mem::take(&mut f.node));
        e.exp = exp;
        e
    }

    /// The one SPF record published at `domain` (§4.5).
    async fn record_of(&self, st: &mut State, domain: &str) -> Result<String, (SpfResult, String)> {
        let answer = match self.query(domain, RecordType::TXT).await {
            Ok(a) => a,
            Err(e) => {
                let reason = format!("the TXT look-up of {domain} failed ({e})");
                note_once(&mut st.temp_errors, &reason);
                return Err((SpfResult::TempError, reason));
            }
        };
        if !answer.is_definite() {
            let reason = format!(
                "the TXT look-up of {domain} answered {}",
                answer.rcode_text()
            );
            note_once(&mut st.temp_errors, &reason);
            st.answers.push(answer);
            return Err((SpfResult::TempError, reason));
        }
        let recs = super::spf_records(&answer);
        st.answers.push(answer);
        match recs.len() {
            0 => Err((SpfResult::None, format!("{domain} publishes no SPF record"))),
            1 => Ok(recs.into_iter().next().unwrap_or_default()),
            n => Err((
                SpfResult::PermError,
                format!("{domain} publishes {n} SPF records"),
            )),
        }
    }

    /// Whether a mechanism matches; `Err` ends evaluation with that result.
    async fn matches(
        &self,
        st: &mut State,
        ctx: &Ctx,
        domain: &str,
        mech: &Mechanism,
        node: &mut LookupNode,
    ) -> Result<bool, (SpfResult, String)> {
        let ip = ctx.ip;
        match mech {
            Mechanism::All => Ok(true),
            Mechanism::Ip4(net, len) => Ok(!st.walk && in_net4(ip, *net, *len)),
            Mechanism::Ip6(net, len) => Ok(!st.walk && in_net6(ip, *net, *len)),
            // Evaluated by `step`, which opens a frame for the target.
            Mechanism::Include(_) => Ok(false),
            Mechanism::A {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                let Some(target) = self.mech_target(st, ctx, domain, spec.as_ref(), node).await
                else {
                    return Ok(false);
                };
                let addrs = self.addresses(st, &target, ip, node).await?;
                Ok(!st.walk && addrs.iter().any(|a| in_cidr(ip, *a, *cidr4, *cidr6)))
            }
            Mechanism::Mx {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                let Some(target) = self.mech_target(st, ctx, domain, spec.as_ref(), node).await
                else {
                    return Ok(false);
                };
                let answer = self.checked(&target, RecordType::MX).await?;
                // Sorted by preference (an RRset holds no duplicates).
                let hosts = crate::dns::mx::mx_set(&answer);
                if hosts.is_empty() {
                    self.void(st, node)?;
                    return Ok(false);
                }
                if hosts.len() > MAX_NAMES {
                    return Err((
                        SpfResult::PermError,
                        format!(
                            "{target} has {} MX records; the mx mechanism may look at {MAX_NAMES}",
                            hosts.len()
                        ),
                    ));
                }
                if st.walk {
                    return Ok(false);
                }
                for (_, host) in hosts {
                    if !valid_name(&host) {
                        continue;
                    }
                    let rtype = addr_type(ip);
                    let a = self.checked(&host, rtype).await?;
                    if addrs_of(&a)
                        .into_iter()
                        .any(|x| in_cidr(ip, x, *cidr4, *cidr6))
                    {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Mechanism::Ptr(spec) => {
                if st.walk {
                    node.note = "depends on the client; not resolved in the audit walk".into();
                    return Ok(false);
                }
                let target = match spec {
                    Some(s) => self.target(st, ctx, domain, s).await,
                    None => Some(domain.to_string()),
                };
                let Some(target) = target else {
                    return Ok(false);
                };
                let names = self.validated_names(st, ip, Some(node)).await?;
                let t = target.to_ascii_lowercase();
                Ok(names.iter().any(|n| {
                    let n = n.to_ascii_lowercase();
                    n == t || n.ends_with(&format!(".{t}"))
                }))
            }
            Mechanism::Exists(spec) => {
                if st.walk && spec.is_client_dependent() {
                    node.note = "depends on the client; not resolved in the audit walk".into();
                    return Ok(false);
                }
                let Some(target) = self
                    .target(st, ctx, domain, spec)
                    .await
                    .filter(|t| valid_name(t))
                else {
                    node.note = "invalid target name: no match".into();
                    return Ok(false);
                };
                let a = self.checked(&target, RecordType::A).await?;
                if addrs_of(&a).is_empty() {
                    self.void(st, node)?;
                    return Ok(false);
                }
                Ok(!st.walk)
            }
        }
    }

    /// A query whose failure is a temperror.
    async fn checked(
        &self,
        name: &str,
        rtype: RecordType,
    ) -> Result<DnsAnswer, (SpfResult, String)> {
        match self.query(name, rtype).await {
            Ok(a) if a.is_definite() => Ok(a),
            Ok(a) => Err((
                SpfResult::TempError,
                format!(
                    "the {rtype} look-up of {name} answered {}",
                    rcode_text(a.rcode)
                ),
            )),
            Err(e) => Err((
                SpfResult::TempError,
                format!("the {rtype} look-up of {name} failed ({e})"),
            )),
        }
    }

    fn void(&self, st: &mut State, node: &mut LookupNode) -> Result<(), (SpfResult, String)> {
        st.voids += 1;
        node.void = true;
        if st.voids > MAX_VOID_LOOKUPS && !st.walk {
            node.note = "permerror: void look-up limit exceeded".into();
            return Err((
                SpfResult::PermError,
                format!(
                    "more than {MAX_VOID_LOOKUPS} look-ups returned no records (void look-ups, \
                     RFC 7208 §4.6.4) at {}",
                    node.text
                ),
            ));
        }
        Ok(())
    }

    /// Addresses of `target` for the client's family (both in the walk).
    async fn addresses(
        &self,
        st: &mut State,
        target: &str,
        ip: IpAddr,
        node: &mut LookupNode,
    ) -> Result<Vec<IpAddr>, (SpfResult, String)> {
        let mut addrs = addrs_of(&self.checked(target, addr_type(ip)).await?);
        if st.walk && addrs.is_empty() {
            addrs = addrs_of(&self.checked(target, RecordType::AAAA).await?);
        }
        if addrs.is_empty() {
            self.void(st, node)?;
        }
        Ok(addrs)
    }

    /// Names of the client's PTR records that resolve back to it (§5.5),
    /// at most [`MAX_NAMES`] looked at.
    async fn validated_names(
        &self,
        st: &mut State,
        ip: IpAddr,
        node: Option<&mut LookupNode>,
    ) -> Result<Vec<String>, (SpfResult, String)> {
        let rev = reverse_name(ip);
        let names: Vec<String> = match self.query(&rev, RecordType::PTR).await {
            Ok(a) if a.is_definite() => a
                .of_type()
                .filter_map(|d| match d {
                    RrData::Ptr(n) => Some(n.clone()),
                    _ => None,
                })
                .collect(),
            _ => return Ok(Vec::new()),
        };
        if names.is_empty() {
            if let Some(node) = node {
                self.void(st, node)?;
            }
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for n in names.into_iter().take(MAX_NAMES) {
            if !valid_name(&n) {
                continue;
            }
            if let Ok(a) = self.query(&n, addr_type(ip)).await {
                if addrs_of(&a).contains(&ip) {
                    out.push(n);
                }
            }
        }
        Ok(out)
    }

    /// The name an `a` or `mx` mechanism queries (its domain-spec, else the
    /// current domain), or None — with the reason in `node` — when the audit
    /// walk cannot know it or it is no valid name (no match).
    async fn mech_target(
        &self,
        st: &mut State,
        ctx: &Ctx,
        domain: &str,
        spec: Option<&MacroString>,
        node: &mut LookupNode,
    ) -> Option<String> {
        if st.walk && spec.is_some_and(|s| s.is_client_dependent()) {
            node.note = "depends on the client; not resolved in the audit walk".into();
            return None;
        }
        let target = match spec {
            Some(s) => self.target(st, ctx, domain, s).await,
            None => Some(domain.to_string()),
        };
        let target = target.filter(|t| valid_name(t));
        if target.is_none() {
            node.note = "invalid target name: no match".into();
        }
        target
    }

    /// Expands a domain-spec into a name to query (§7.3 truncation, one
    /// trailing dot removed); None when it cannot be a name.
    async fn target(
        &self,
        st: &mut State,
        ctx: &Ctx,
        domain: &str,
        spec: &MacroString,
    ) -> Option<String> {
        let s = self.expand(st, ctx, domain, spec).await;
        let mut s = s.strip_suffix('.').unwrap_or(&s).to_string();
        while s.len() > 253 {
            let i = s.find('.')?;
            s = s[i + 1..].to_string();
        }
        Some(s)
    }

    async fn expand(&self, st: &mut State, ctx: &Ctx, domain: &str, ms: &MacroString) -> String {
        let mut out = String::new();
        for part in &ms.parts {
            match part {
                MacroPart::Literal(l) => out.push_str(l),
                MacroPart::Escape(e) => out.push_str(e),
                MacroPart::Macro {
                    letter,
                    url_escape,
                    digits,
                    reverse,
                    delimiters,
                } => {
                    let value = match letter {
                        's' => ctx.sender.clone(),
                        'l' => ctx.local.clone(),
                        'o' => ctx.sender_domain.clone(),
                        'd' => domain.to_string(),
                        'i' => dotted_ip(ctx.ip),
                        'p' => self.validated(st, ctx, domain).await,
                        'v' => if ctx.ip.is_ipv4() { "in-addr" } else { "ip6" }.to_string(),
                        'h' => ctx.helo.clone(),
                        'c' => ctx.ip.to_string(),
                        // The receiving host is not known to an audit (§7.3
                        // allows "unknown"), and the engine reads no clock.
                        'r' => "unknown".to_string(),
                        't' => "0".to_string(),
                        _ => String::new(),
                    };
                    let delims: &str = if delimiters.is_empty() {
                        "."
                    } else {
                        delimiters
                    };
                    let mut parts: Vec<&str> = value.split(|c| delims.contains(c)).collect();
                    if *reverse {
                        parts.reverse();
                    }
                    if let Some(n) = digits {
                        let n = (*n as usize).min(parts.len());
                        parts = parts.split_off(parts.len() - n);
                    }
                    let joined = parts.join(".");
                    if *url_escape {
                        out.push_str(&url_escape_str(&joined));
                    } else {
                        out.push_str(&joined);
                    }
                }
            }
        }
        out
    }

    /// `%{p}` (§7.3): a validated name of the client, preferring the
    /// current domain and its subdomains.
    async fn validated(&self, st: &mut State, ctx: &Ctx, domain: &str) -> String {
        if st.walk {
            return "unknown".into();
        }
        if let Some(v) = &st.validated {
            if v.1 == domain {
                return v.0.clone();
            }
        }
        let names = self
            .validated_names(st, ctx.ip, None)
            .await
            .unwrap_or_default();
        let d = domain.to_ascii_lowercase();
        let pick = names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&d))
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.to_ascii_lowercase().ends_with(&format!(".{d}")))
            })
            .or_else(|| names.first())
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        st.validated = Some((pick.clone(), domain.to_string()));
        pick
    }

    /// The `exp=` explanation (§6.2); None means the default one.
    async fn explanation(
        &self,
        st: &mut State,
        ctx: &Ctx,
        domain: &str,
        spec: &MacroString,
    ) -> Option<String> {
        let target = self.target(st, ctx, domain, spec).await?;
        if !valid_name(&target) {
            return None;
        }
        let a = self.query(&target, RecordType::TXT).await.ok()?;
        let txts: Vec<&RrData> = a.of_type().collect();
        if txts.len() != 1 {
            return None;
        }
        let RrData::Txt(parts) = txts[0] else {
            return None;
        };
        let text = String::from_utf8(parts.concat()).ok()?;
        if !text.is_ascii() {
            return None;
        }
        let ms = parse::macro_string(&text, true).ok()?;
        Some(self.expand(st, ctx, domain, &ms).await)
    }
}

/// A name that can be queried: labels 1..=63 bytes, at most 253 in all.
fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.len() <= 253 && n.split('.').all(|l| !l.is_empty() && l.len() <= 63)
}

/// §4.3: the domain check_host() starts from must be a fully qualified
/// name (two labels or more, a proper top label), else the result is none.
fn valid_initial_domain(n: &str) -> bool {
    valid_name(n) && n.contains('.') && n.rsplit('.').next().is_some_and(parse::is_toplabel)
}

fn addr_type(ip: IpAddr) -> RecordType {
    if ip.is_ipv4() {
        RecordType::A
    } else {
        RecordType::AAAA
    }
}

fn addrs_of(a: &DnsAnswer) -> Vec<IpAddr> {
    a.of_type()
        .filter_map(|d| match d {
            RrData::A(ip) => Some(IpAddr::V4(*ip)),
            RrData::Aaaa(ip) => Some(IpAddr::V6(*ip)),
            _ => None,
        })
        .collect()
}

fn in_net4(ip: IpAddr, net: Ipv4Addr, len: u8) -> bool {
    let IpAddr::V4(ip) = ip else { return false };
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    };
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_net6(ip: IpAddr, net: Ipv6Addr, len: u8) -> bool {
    let IpAddr::V6(ip) = ip else { return false };
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    };
    u128::from(ip) & mask == u128::from(net) & mask
}

fn in_cidr(ip: IpAddr, addr: IpAddr, c4: u8, c6: u8) -> bool {
    match addr {
        IpAddr::V4(a) => in_net4(ip, a, c4),
        IpAddr::V6(a) => in_net6(ip, a, c6),
    }
}

/// `%{i}`: dotted quad, or dot-separated nibbles for IPv6 (§7.3).
fn dotted_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => v6
            .octets()
            .iter()
            .flat_map(|b| [b >> 4, b & 0xf])
            .map(|n| format!("{n:X}"))
            .collect::<Vec<_>>()
            .join("."),
    }
}

fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(_) => {
            let mut n: Vec<String> = dotted_ip(ip).split('.').map(|s| s.to_string()).collect();
            n.reverse();
            format!("{}.ip6.arpa", n.join("."))
        }
    }
}

/// §7.3: upper-case macro letters URL-escape all but unreserved characters.
fn url_escape_str(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `check_host(<ip>, <domain>, <sender>)` with a fresh evaluator (no
/// cache shared with other look-ups).
pub async fn check_host<N: Network>(
    resolver: &Resolver<'_, N>,
    ip: IpAddr,
    domain: &str,
    sender: &str,
    helo: &str,
) -> Outcome {
    let ev = Evaluator::new(resolver);
    let id = Identity {
        ip,
        sender: sender.to_string(),
        helo: helo.to_string(),
    };
    ev.check_host(&id, domain).await
}

fn note_once(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|i| i == item) {
        list.push(item.to_string());
    }
}

fn limit_reason(term: &str, domain: &str) -> String {
    format!(
        "more than {MAX_DNS_TERMS} DNS-querying terms (the limit was passed at {term} in the \
         record of {domain})"
    )
}

/// Records a term's outcome in the tree; Some when evaluation stops there.
fn judge_term(
    st: &mut State,
    node: &mut LookupNode,
    mut tnode: LookupNode,
    qualifier: Qualifier,
    text: &str,
    domain: &str,
    m: Result<bool, (SpfResult, String)>,
) -> Option<(SpfResult, String)> {
    match m {
        Ok(true) => {
            let result = SpfResult::of(qualifier);
            tnode.note = format!("match → {result}");
            node.children.push(tnode);
            Some((result, format!("{text} in the record of {domain} matched")))
        }
        Ok(false) => {
            if tnode.note.is_empty() {
                tnode.note = "no match".into();
            }
            node.children.push(tnode);
            None
        }
        Err((result, reason)) => {
            if tnode.note.is_empty() {
                tnode.note = format!("{result}: {reason}");
            }
            node.children.push(tnode);
            if result == SpfResult::TempError {
                note_once(&mut st.temp_errors, &reason);
            }
            // The audit walk notes the problem and goes on counting.
            (!st.walk).then_some((result, reason))
        }
    }
}
