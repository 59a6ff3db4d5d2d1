//! The policy planner: from the domain's current DMARC policy and the
//! reports, the next step of `none` → `quarantine` → `reject`, whether it
//! is safe, which sources it would hurt, and the record to publish.
//!
//! The current policy is the record given (read with the DMARC record
//! parser of [`crate::dns::dmarc`]), else the `policy_published` of the
//! latest report. The step after `p=none` is `p=quarantine`; after
//! `quarantine`, `reject`; a `pct` below 100 is first raised to 100; a
//! DMARCbis testing flag (`t=y`) is first removed.
//!
//! *Blocking* mail is related-but-unaligned mail without an exempting
//! override (forwarders and lists the receiver knows, its local policy):
//! the next step would quarantine or reject it. The verdict:
//! - no blocking mail: **ready** — publish the next step at 100%;
//! - blocking mail at most [`RAMP_MAX_SHARE`] of the batch: **ramp** —
//!   publish the next step with `pct=25` (or the next `pct` stage, 25 →
//!   50 → 100) while the listed sources are fixed, so a mistake touches a
//!   quarter of that mail;
//! - more: **not ready** — fix the listed sources first, publish nothing.
//!
//! `pct` is RFC 7489; DMARCbis drops it, and receivers that implement
//! DMARCbis apply the policy to all failing mail, so a ramp is advice for
//! today's receivers only (said in the notes).

use super::aggregate::{sorted_sources, DomainAgg};
use super::xml::Published;
use crate::dns::dmarc::{self, Disposition, Usability};
use serde::{Deserialize, Serialize};

/// Largest share of the batch that may be blocked for a `pct` ramp to be
/// proposed instead of "fix first".
pub const RAMP_MAX_SHARE: f64 = 0.02;
/// The `pct` a ramp starts at, and its stages.
pub const RAMP_STAGES: [u8; 3] = [25, 50, 100];
/// How many blocking sources are listed.
pub const MAX_LISTED: usize = 20;

/// A policy: `p`, `pct`, and the DMARCbis testing flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    pub p: &'static str,
    pub pct: u8,
    pub testing: bool,
}

/// A [`Step`] read back (the page's first module gets the analysis as JSON
/// from the module that parsed the reports): `p` must be one of the three
/// policies.
#[derive(Deserialize)]
struct StepRead {
    p: String,
    pct: u8,
    testing: bool,
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Step, D::Error> {
        let s = StepRead::deserialize(d)?;
        [
            Disposition::None,
            Disposition::Quarantine,
            Disposition::Reject,
        ]
        .into_iter()
        .find(|d| d.as_str() == s.p)
        .map(|d| Step::new(d, s.pct, s.testing))
        .ok_or_else(|| serde::de::Error::custom(format!("not a DMARC policy: {}", s.p)))
    }
}

impl Step {
    fn new(p: Disposition, pct: u8, testing: bool) -> Step {
        Step {
            p: p.as_str(),
            pct,
            testing,
        }
    }

    fn disposition(&self) -> Disposition {
        Disposition::parse(self.p).unwrap_or(Disposition::None)
    }

    /// `p=quarantine; pct=25` style, for messages.
    pub fn describe(&self) -> String {
        let mut s = format!("p={}", self.p);
        if self.pct < 100 {
            s.push_str(&format!("; pct={}", self.pct));
        }
        if self.testing {
            s.push_str("; t=y");
        }
        s
    }
}

/// The planner's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The next step blocks no related mail.
    Ready,
    /// A small share would be blocked: take the step with a `pct` ramp.
    Ramp,
    /// Too much related mail would be blocked: fix the sources first.
    NotReady,
    /// `p=reject` applies to all mail: there is no further step.
    Done,
    /// The batch holds no mail for the domain.
    Unknown,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::Ramp => "ready with a pct ramp",
            Verdict::NotReady => "not ready",
            Verdict::Done => "at the strongest policy",
            Verdict::Unknown => "no data",
        }
    }
}

/// A source the next step would block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockingSource {
    pub ip: String,
    /// Blocking messages from it.
    pub messages: u64,
    pub share: f64,
    pub spf_domains: Vec<String>,
    pub dkim_domains: Vec<String>,
}

/// Where the current policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CurrentFrom {
    /// The record the user gave.
    Record,
    /// The latest report's `policy_published`.
    Reports,
    /// Nothing said: `p=none` assumed.
    Assumed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub domain: Option<String>,
    pub current: Step,
    pub current_from: CurrentFrom,
    /// The current record's text (given, or rebuilt from the reports).
    pub current_record: Option<String>,
    pub next: Option<Step>,
    pub verdict: Verdict,
    /// The next step blocks no related mail.
    pub ready: bool,
    pub total: u64,
    pub aligned_share: f64,
    pub blocking_share: f64,
    pub unrelated_share: f64,
    pub blocking_sources: Vec<BlockingSource>,
    /// How many sources would be blocked (all, not only those listed).
    pub blocking_source_count: usize,
    /// The record to publish next, when there is a step to take.
    pub record: Option<String>,
    /// False when the record was rebuilt from reports, which do not show
    /// `rua`/`ruf`: copy those from the current record.
    pub record_complete: bool,
    pub notes: Vec<String>,
}

/// What the planner is given.
pub struct Input<'a> {
    pub domain: Option<&'a str>,
    /// The record given by the user, if any.
    pub record: Option<&'a str>,
    /// `policy_published` of the latest report, with who reported it.
    pub published: Option<(&'a Published, String)>,
    pub agg: Option<&'a DomainAgg>,
}

fn pct_of(s: Option<&str>) -> Option<u8> {
    s.and_then(|v| v.trim().parse::<u8>().ok())
        .filter(|n| *n <= 100)
}

/// The tags of a record, first occurrence of each, without `v`.
fn tags_of(r: &dmarc::Record) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, v) in &r.tags {
        if n != "v" && !out.iter().any(|(m, _)| m == n) {
            out.push((n.clone(), v.clone()));
        }
    }
    out
}

/// Tags a report's `policy_published` implies, defaults left out (`sp` only
/// when it differs from `p`: reporters echo the default sp=p).
fn tags_of_published(p: &Published) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let policy = p.p.clone().unwrap_or_else(|| "none".into());
    out.push(("p".into(), policy.clone()));
    if let Some(sp) = p.sp.as_ref().filter(|sp| **sp != policy) {
        out.push(("sp".into(), sp.clone()));
    }
    if let Some(np) = &p.np {
        out.push(("np".into(), np.clone()));
    }
    if let Some(pct) = p
        .pct
        .as_ref()
        .filter(|v| pct_of(Some(v)).is_some_and(|n| n < 100))
    {
        out.push(("pct".into(), pct.clone()));
    }
    for (name, value) in [("adkim", &p.adkim), ("aspf", &p.aspf)] {
        if let Some(v) = value.as_ref().filter(|v| *v == "s") {
            out.push((name.into(), v.clone()));
        }
    }
    if let Some(fo) = p.fo.as_ref().filter(|f| *f != "0") {
        out.push(("fo".into(), fo.clone()));
    }
    if p.testing.as_deref() == Some("y") {
        out.push(("t".into(), "y".into()));
    }
    out
}

/// The record text for a step: the current tags in their order, with `p`
/// replaced, `pct` set (after `p`) or dropped at 100, `t` dropped when
/// testing ends.
fn render(tags: &[(String, String)], step: &Step) -> String {
    let mut policy = vec![format!("p={}", step.p)];
    if step.pct < 100 {
        policy.push(format!("pct={}", step.pct));
    }
    if step.testing {
        policy.push("t=y".into());
    }
    let mut parts = vec!["v=DMARC1".to_string()];
    if !tags.iter().any(|(n, _)| n == "p") {
        parts.extend(policy.iter().cloned());
    }
    for (n, v) in tags {
        match n.as_str() {
            "p" => parts.extend(policy.iter().cloned()),
            "pct" | "t" => {}
            _ => parts.push(format!("{n}={v}")),
        }
    }
    parts.join("; ")
}

/// The step after `cur`, at full strength.
fn next_of(cur: &Step) -> Option<Step> {
    let p = cur.disposition();
    if cur.testing && p != Disposition::None {
        return Some(Step::new(p, cur.pct, false));
    }
    match p {
        Disposition::None => Some(Step::new(Disposition::Quarantine, 100, false)),
        _ if cur.pct < 100 => Some(Step::new(p, 100, false)),
        Disposition::Quarantine => Some(Step::new(Disposition::Reject, 100, false)),
        Disposition::Reject => None,
    }
}

fn pct_text(share: f64) -> String {
    super::rules::percent(share)
}

/// Plans the next step.
pub fn plan(input: &Input<'_>) -> Plan {
    let mut notes = Vec::new();
    let totals = input.agg.map(|a| a.totals).unwrap_or_default();

    // The current policy.
    let (current, current_from, current_record, base_tags, complete) = match input.record {
        Some(text) => {
            let r = dmarc::parse(text);
            for p in &r.problems {
                notes.push(format!("The record given: {}.", p.text));
            }
            let (p, pct, testing) = match r.usability() {
                Usability::Applies => (
                    r.p.unwrap_or(Disposition::None),
                    r.pct.unwrap_or(100),
                    r.testing,
                ),
                Usability::AsNone => {
                    notes.push(
                        "Receivers treat the record given as p=none (its p= or sp= is invalid)."
                            .into(),
                    );
                    (Disposition::None, 100, false)
                }
                Usability::Ignored => {
                    notes.push(
                        "Receivers ignore the record given (no valid p= and no valid rua=): \
                         the domain has no DMARC policy in force."
                            .into(),
                    );
                    (Disposition::None, 100, false)
                }
            };
            if let Some((published, _)) = &input.published {
                if let Some(seen) = published.p.as_deref() {
                    if seen != p.as_str() {
                        notes.push(format!(
                            "The reports show p={seen} but the record given has p={}: reports \
                             from before a change, or the record is not the one published.",
                            p.as_str()
                        ));
                    }
                }
            }
            (
                Step::new(p, pct, testing),
                CurrentFrom::Record,
                Some(text.trim().to_string()),
                tags_of(&r),
                true,
            )
        }
        None => match &input.published {
            Some((published, who)) => {
                let p = published
                    .p
                    .as_deref()
                    .and_then(Disposition::parse)
                    .unwrap_or(Disposition::None);
                let pct = pct_of(published.pct.as_deref()).unwrap_or(100);
                let testing = published.testing.as_deref() == Some("y");
                let tags = tags_of_published(published);
                let text = render(&tags, &Step::new(p, pct, testing));
                notes.push(format!(
                    "The current policy is the one the latest report shows ({who}); aggregate \
                     reports do not show rua=/ruf=, so copy those from your record, or give the \
                     record to plan from it exactly."
                ));
                (
                    Step::new(p, pct, testing),
                    CurrentFrom::Reports,
                    Some(text),
                    tags,
                    false,
                )
            }
            None => {
                notes.push("No policy known: p=none assumed.".into());
                (
                    Step::new(Disposition::None, 100, false),
                    CurrentFrom::Assumed,
                    None,
                    vec![("p".into(), "none".into())],
                    false,
                )
            }
        },
    };

    let mut plan = Plan {
        domain: input.domain.map(str::to_string),
        current,
        current_from,
        current_record,
        next: None,
        verdict: Verdict::Unknown,
        ready: false,
        total: totals.total,
        aligned_share: totals.share(totals.aligned),
        blocking_share: totals.share(totals.blocking()),
        unrelated_share: totals.share(totals.unrelated),
        blocking_sources: Vec::new(),
        blocking_source_count: 0,
        record: None,
        record_complete: complete,
        notes,
    };

    let Some(full) = next_of(&current) else {
        plan.verdict = Verdict::Done;
        plan.ready = true;
        return plan;
    };
    let Some(agg) = input.agg.filter(|a| a.totals.total > 0) else {
        plan.next = Some(full);
        return plan;
    };

    let blocking: Vec<_> = sorted_sources(agg)
        .into_iter()
        .filter(|(_, s)| s.volume.blocking() > 0)
        .collect();
    let mut listed: Vec<BlockingSource> = blocking
        .iter()
        .map(|(ip, s)| BlockingSource {
            ip: ip.to_string(),
            messages: s.volume.blocking(),
            share: totals.share(s.volume.blocking()),
            spf_domains: s.spf_domains().into_iter().map(|c| c.name).collect(),
            dkim_domains: s.dkim_domains().into_iter().map(|c| c.name).collect(),
        })
        .collect();
    listed.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.ip.cmp(&b.ip)));
    listed.truncate(MAX_LISTED);
    plan.blocking_source_count = blocking.len();
    plan.blocking_sources = listed;

    let share = plan.blocking_share;
    let next = if totals.blocking() == 0 {
        plan.verdict = Verdict::Ready;
        plan.ready = true;
        full
    } else if share <= RAMP_MAX_SHARE {
        plan.verdict = Verdict::Ramp;
        // A new p starts the ramp; the same p moves to the next stage.
        let start = if full.p != current.p { 0 } else { current.pct };
        let pct = RAMP_STAGES
            .iter()
            .copied()
            .find(|s| *s > start)
            .unwrap_or(100);
        Step { pct, ..full }
    } else {
        plan.verdict = Verdict::NotReady;
        full
    };
    plan.next = Some(next);
    if plan.verdict != Verdict::NotReady {
        plan.record = Some(render(&base_tags, &next));
    }
    if plan.verdict == Verdict::Ramp && next.pct < 100 {
        plan.notes.push(format!(
            "pct={} applies {} to {}% of the mail that fails DMARC (RFC 7489 §6.3); receivers \
             that follow DMARCbis ignore pct and apply it to all. Raise pct to {} and then 100 as \
             the sources listed are fixed.",
            next.pct,
            next.p,
            next.pct,
            RAMP_STAGES
                .iter()
                .find(|s| **s > next.pct)
                .copied()
                .unwrap_or(100)
        ));
    }
    // A subdomain policy weaker than the new p is left as it is: say so.
    if let Some(sp) = base_tags
        .iter()
        .find(|(n, _)| n == "sp")
        .and_then(|(_, v)| Disposition::parse(v))
    {
        if sp < next.disposition() && plan.record.is_some() {
            plan.notes.push(format!(
                "sp={} keeps subdomains at {}; raise it separately once their mail aligns.",
                sp.as_str(),
                sp.as_str()
            ));
        }
    }
    if totals.unrelated > 0 {
        plan.notes.push(format!(
            "{} of the mail is unrelated to you (spoofing or misconfigured senders): only an \
             enforcing policy stops receivers from delivering it.",
            pct_text(plan.unrelated_share)
        ));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<(String, String)> {
        tags_of(&dmarc::parse(s))
    }

    #[test]
    fn renders_the_next_record_in_place() {
        let t = tags("v=DMARC1; p=none; sp=none; rua=mailto:d@example.com; fo=1");
        assert_eq!(
            render(&t, &Step::new(Disposition::Quarantine, 25, false)),
            "v=DMARC1; p=quarantine; pct=25; sp=none; rua=mailto:d@example.com; fo=1"
        );
        let t = tags("v=DMARC1; rua=mailto:d@example.com; pct=50; p=quarantine; t=y");
        assert_eq!(
            render(&t, &Step::new(Disposition::Reject, 100, false)),
            "v=DMARC1; rua=mailto:d@example.com; p=reject"
        );
        // No p= at all: p goes first.
        let t = tags("v=DMARC1; rua=mailto:d@example.com");
        assert_eq!(
            render(&t, &Step::new(Disposition::Quarantine, 100, false)),
            "v=DMARC1; p=quarantine; rua=mailto:d@example.com"
        );
    }

    #[test]
    fn steps() {
        let s = |p, pct, t| Step::new(p, pct, t);
        use Disposition::*;
        assert_eq!(
            next_of(&s(None, 100, false)),
            Some(s(Quarantine, 100, false))
        );
        assert_eq!(
            next_of(&s(Quarantine, 25, false)),
            Some(s(Quarantine, 100, false))
        );
        assert_eq!(
            next_of(&s(Quarantine, 100, true)),
            Some(s(Quarantine, 100, false))
        );
        assert_eq!(
            next_of(&s(Quarantine, 100, false)),
            Some(s(Reject, 100, false))
        );
        assert_eq!(next_of(&s(Reject, 50, false)), Some(s(Reject, 100, false)));
        assert_eq!(next_of(&s(Reject, 100, false)), Option::None);
    }

    #[test]
    fn published_defaults_are_left_out() {
        let p = Published {
            domain: "example.com".into(),
            p: Some("none".into()),
            sp: Some("none".into()),
            pct: Some("100".into()),
            adkim: Some("r".into()),
            aspf: Some("s".into()),
            fo: Some("0".into()),
            ..Default::default()
        };
        assert_eq!(
            render(
                &tags_of_published(&p),
                &Step::new(Disposition::Quarantine, 25, false)
            ),
            "v=DMARC1; p=quarantine; pct=25; aspf=s"
        );
    }
}
