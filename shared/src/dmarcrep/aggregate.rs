//! Folding reports into volumes: per source IP, per reporter, per day, and
//! for the whole batch, kept apart per policy domain until the batch's
//! domain is chosen (`--domain`, or the domain of most reports).
//!
//! A report is folded in as soon as it is read, and its rows are dropped:
//! memory grows with the number of distinct sources, not rows. Each source
//! keeps one example row of each non-aligned class, for evidence.
//!
//! Classes (rules.md, "DMARC aggregate reports"): a row is *aligned* when
//! the reporter's `policy_evaluated` has DKIM or SPF `pass`; otherwise it
//! is *related but unaligned* when `auth_results` show an SPF or DKIM pass
//! for any domain, and *unrelated* when they show none.

use super::input::{self, Rejection};
use super::xml::{self, AuthResult, Disposition, Feedback, Published, Row};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// How many distinct names a source keeps per list (SPF/DKIM domains,
/// From domains, override reasons); the rest are counted as `(others)`.
const MAX_NAMES: usize = 16;
/// How many reporters a source lists.
const MAX_REPORTERS: usize = 32;
/// How many sources the tables list (the rest are counted).
pub const MAX_SOURCES_LISTED: usize = 1000;
/// Examples of disagreement between `policy_evaluated` and `auth_results`.
const MAX_DISAGREEMENTS: usize = 10;

/// The three kinds of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    Aligned,
    RelatedUnaligned,
    Unrelated,
}

impl Class {
    pub fn of(row: &Row) -> Class {
        if row.aligned() {
            Class::Aligned
        } else if row.authenticated() {
            Class::RelatedUnaligned
        } else {
            Class::Unrelated
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Class::Aligned => "aligned",
            Class::RelatedUnaligned => "related but unaligned",
            Class::Unrelated => "unrelated",
        }
    }
}

/// Override reasons that say the receiver delivers the mail whatever the
/// policy (it knows the forwarder or list, or its local policy exempts it):
/// a stricter policy would not block these rows either.
pub fn is_exempting(reason: &str) -> bool {
    matches!(
        reason,
        "forwarded" | "trusted_forwarder" | "mailing_list" | "local_policy"
    )
}

/// Message counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub total: u64,
    pub aligned: u64,
    pub related_unaligned: u64,
    pub unrelated: u64,
    /// `policy_evaluated/dkim` = pass.
    pub dkim_aligned: u64,
    /// `policy_evaluated/spf` = pass.
    pub spf_aligned: u64,
    /// Some DKIM signature passed (any domain).
    pub dkim_pass: u64,
    /// SPF passed (any domain).
    pub spf_pass: u64,
    /// Dispositions applied by the receivers.
    pub none: u64,
    pub quarantine: u64,
    pub reject: u64,
    /// Rows with an override reason.
    pub overridden: u64,
    /// Related-but-unaligned rows with an exempting override
    /// ([`is_exempting`]).
    pub exempted: u64,
}

impl Volume {
    fn add_row(&mut self, row: &Row, class: Class) {
        let n = row.count;
        self.total = self.total.saturating_add(n);
        let slot = match class {
            Class::Aligned => &mut self.aligned,
            Class::RelatedUnaligned => &mut self.related_unaligned,
            Class::Unrelated => &mut self.unrelated,
        };
        *slot = slot.saturating_add(n);
        let add = |cond: bool, slot: &mut u64| {
            if cond {
                *slot = slot.saturating_add(n);
            }
        };
        add(row.dkim_aligned, &mut self.dkim_aligned);
        add(row.spf_aligned, &mut self.spf_aligned);
        add(
            row.dkim.iter().any(|a| a.result == AuthResult::Pass),
            &mut self.dkim_pass,
        );
        add(
            row.spf.iter().any(|a| a.result == AuthResult::Pass),
            &mut self.spf_pass,
        );
        match row.disposition {
            Disposition::None | Disposition::Pass => add(true, &mut self.none),
            Disposition::Quarantine => add(true, &mut self.quarantine),
            Disposition::Reject => add(true, &mut self.reject),
        }
        add(!row.reasons.is_empty(), &mut self.overridden);
        add(
            class == Class::RelatedUnaligned && row.reasons.iter().any(|r| is_exempting(&r.kind)),
            &mut self.exempted,
        );
    }

    pub fn add(&mut self, o: &Volume) {
        let pairs = [
            (&mut self.total, o.total),
            (&mut self.aligned, o.aligned),
            (&mut self.related_unaligned, o.related_unaligned),
            (&mut self.unrelated, o.unrelated),
            (&mut self.dkim_aligned, o.dkim_aligned),
            (&mut self.spf_aligned, o.spf_aligned),
            (&mut self.dkim_pass, o.dkim_pass),
            (&mut self.spf_pass, o.spf_pass),
            (&mut self.none, o.none),
            (&mut self.quarantine, o.quarantine),
            (&mut self.reject, o.reject),
            (&mut self.overridden, o.overridden),
            (&mut self.exempted, o.exempted),
        ];
        for (slot, n) in pairs {
            *slot = slot.saturating_add(n);
        }
    }

    /// Related-but-unaligned mail a stricter policy would act on.
    pub fn blocking(&self) -> u64 {
        self.related_unaligned.saturating_sub(self.exempted)
    }

    pub fn share(&self, n: u64) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            n as f64 / self.total as f64
        }
    }
}

/// A name with a message count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

/// A small bounded counter (linear scan: a handful of names per source).
#[derive(Debug, Clone, Default)]
struct Counter(Vec<(Box<str>, u64)>);

impl Counter {
    fn bump(&mut self, name: &str, n: u64) {
        if let Some(slot) = self.0.iter_mut().find(|(k, _)| &**k == name) {
            slot.1 = slot.1.saturating_add(n);
            return;
        }
        if self.0.len() < MAX_NAMES {
            self.0.push((name.into(), n));
        } else if let Some(slot) = self.0.iter_mut().find(|(k, _)| &**k == "(others)") {
            slot.1 = slot.1.saturating_add(n);
        } else if let Some(last) = self.0.last_mut() {
            // Fold the smallest-so-far into "(others)".
            last.0 = "(others)".into();
            last.1 = last.1.saturating_add(n);
        }
    }

    fn sorted(&self) -> Vec<Count> {
        let mut v: Vec<Count> = self
            .0
            .iter()
            .map(|(k, n)| Count {
                name: k.to_string(),
                count: *n,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
        v
    }
}

/// Where a row came from, for evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRef {
    /// Index into the batch's reports.
    pub report: usize,
    /// 1-based position among the report's records.
    pub record: usize,
    pub line: u32,
    /// What the row said, in one line.
    pub text: String,
}

/// Everything known about one source IP.
#[derive(Debug, Clone, Default)]
pub struct SourceAgg {
    pub volume: Volume,
    spf_domains: Counter,
    dkim_domains: Counter,
    header_from: Counter,
    reasons: Counter,
    reporters: BTreeSet<String>,
    first_day: i64,
    last_day: i64,
    /// One example row of each non-aligned class.
    pub example_unaligned: Option<RowRef>,
    pub example_unrelated: Option<RowRef>,
    /// SPF failed (or softfailed) for a MAIL FROM in the policy domain.
    pub spf_fail_own: u64,
    /// A DKIM signature by the policy domain failed.
    pub dkim_fail_own: u64,
}

/// One report, as the batch remembers it.
#[derive(Debug, Clone)]
pub struct ReportMeta {
    /// Index into the batch's files.
    pub file: usize,
    pub org: String,
    pub email: Option<String>,
    pub report_id: String,
    pub namespace: Option<String>,
    pub begin: u64,
    pub end: u64,
    pub published: Published,
    pub errors: Vec<String>,
    pub rows: usize,
    pub volume: Volume,
}

/// The aggregates of one policy domain.
#[derive(Debug, Clone, Default)]
pub struct DomainAgg {
    pub reports: Vec<usize>,
    pub totals: Volume,
    pub sources: HashMap<IpAddr, SourceAgg>,
    /// Key: org name in lower case.
    pub reporters: BTreeMap<String, ReporterAgg>,
    /// Key: days since the epoch.
    pub days: BTreeMap<i64, Volume>,
    pub disagreements: u64,
    pub disagreement_examples: Vec<RowRef>,
    pub begin: u64,
    pub end: u64,
}

#[derive(Debug, Clone, Default)]
pub struct ReporterAgg {
    pub org: String,
    pub email: Option<String>,
    pub reports: usize,
    pub volume: Volume,
}

/// What happened to one file (or one report inside an archive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum FileStatus {
    /// Its rows are in the aggregates.
    Used,
    /// Same reporter and report id as an earlier file: counted once.
    Duplicate { of: String },
    /// A report for another domain than the batch's: left out.
    OtherDomain,
    /// Cannot be trusted whole: contributes nothing.
    Rejected { reason: String },
}

/// One line of the files table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRow {
    pub name: String,
    #[serde(flatten)]
    pub status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub rows: usize,
    pub messages: u64,
}

/// A file read and parsed, not yet folded in (parsing is independent per
/// file, so hosts may parse on several threads and fold in order).
#[derive(Debug, Clone)]
pub struct Parsed {
    pub name: String,
    /// The reports the file holds (name of each document, report), or why
    /// the file is rejected.
    pub result: Result<Vec<(String, Feedback)>, Rejection>,
}

/// Opens and parses one file. An archive with one bad document is
/// rejected whole.
pub fn parse_file(name: &str, bytes: &[u8]) -> Parsed {
    let result = input::open(name, bytes).and_then(|docs| {
        let several = docs.len() > 1;
        docs.into_iter()
            .map(|d| match xml::parse(&d.bytes) {
                Ok(f) => Ok((d.name, f)),
                Err(e) if several || d.name != name => Err(Rejection::InEntry {
                    entry: d.name,
                    inner: Box::new(e),
                }),
                Err(e) => Err(e),
            })
            .collect()
    });
    Parsed {
        name: name.to_string(),
        result,
    }
}

/// Reverse name and organisation of a source, when a host knows them (the
/// offline analysis makes no PTR look-ups; see [`Batch::name_source`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceName {
    pub ptr: Option<String>,
    pub org: Option<String>,
}

/// Reports read so far.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub(crate) files: Vec<FileRow>,
    /// The policy domain of each file row (`None` for rejected files).
    pub(crate) file_domains: Vec<Option<String>>,
    seen: HashMap<(String, String), usize>,
    pub(crate) reports: Vec<ReportMeta>,
    pub(crate) domains: HashMap<String, DomainAgg>,
    pub(crate) names: HashMap<IpAddr, SourceName>,
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD` of a day number.
pub fn date(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 UTC time of a Unix time.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let s = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date(days),
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// The day a report's rows are counted on: the UTC day of the middle of
/// its date range (a report for 2026-11-01 00:00 to 23:59:59 counts on
/// the 1st, also when a reporter ends it at 00:00 the next day).
pub fn report_day(begin: u64, end: u64) -> i64 {
    ((begin / 2 + end / 2 + (begin % 2 + end % 2) / 2) / 86_400) as i64
}

fn describe_row(f: &Feedback, row: &Row) -> String {
    let auth = |list: &[xml::Auth], what: &str| -> String {
        if list.is_empty() {
            return format!("{what} none reported");
        }
        list.iter()
            .take(4)
            .map(|a| {
                let d = if a.domain.is_empty() {
                    "(no domain)"
                } else {
                    &a.domain
                };
                format!("{what} {} for {d}", a.result.as_str())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let reasons = if row.reasons.is_empty() {
        String::new()
    } else {
        format!(
            "; override {}",
            row.reasons
                .iter()
                .map(|r| r.kind.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "{} report {}, record at line {}: {} sent {} message{} as {}; policy_evaluated dkim={} spf={}, disposition {}; {}; {}{}",
        f.org_name,
        f.report_id,
        row.line,
        row.source_ip,
        row.count,
        if row.count == 1 { "" } else { "s" },
        row.header_from.as_deref().unwrap_or("(no header_from)"),
        if row.dkim_aligned { "pass" } else { "fail" },
        if row.spf_aligned { "pass" } else { "fail" },
        row.disposition.as_str(),
        auth(&row.dkim, "DKIM"),
        auth(&row.spf, "SPF"),
        reasons
    )
}

/// Where `policy_evaluated` and `auth_results` disagree, what they say.
fn disagreement(row: &Row) -> Option<String> {
    let from = row.header_from.as_deref().unwrap_or("");
    let pass_for = |list: &[xml::Auth], own: bool| {
        list.iter().any(|a| {
            a.result == AuthResult::Pass
                && (!own || (!from.is_empty() && a.domain == from))
                && a.selector_or_scope.as_deref() != Some("helo")
        })
    };
    if row.dkim_aligned && !pass_for(&row.dkim, false) {
        return Some("policy_evaluated says DKIM pass, auth_results show no DKIM pass".into());
    }
    if row.spf_aligned && !pass_for(&row.spf, false) {
        return Some("policy_evaluated says SPF pass, auth_results show no SPF pass".into());
    }
    if !row.dkim_aligned && pass_for(&row.dkim, true) {
        return Some(format!(
            "policy_evaluated says DKIM fail, auth_results show a DKIM pass for {from} itself"
        ));
    }
    if !row.spf_aligned && pass_for(&row.spf, true) {
        return Some(format!(
            "policy_evaluated says SPF fail, auth_results show an SPF pass for {from} itself"
        ));
    }
    None
}

/// Whether `d` is `domain` or one of its subdomains.
pub(crate) fn within(d: &str, domain: &str) -> bool {
    d == domain
        || (d.len() > domain.len()
            && d.ends_with(domain)
            && d.as_bytes().get(d.len() - domain.len() - 1) == Some(&b'.'))
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Reads one file (any format) and folds its reports in.
    pub fn add(&mut self, name: &str, bytes: &[u8]) {
        self.add_parsed(parse_file(name, bytes));
    }

    /// Folds in a file parsed with [`parse_file`].
    pub fn add_parsed(&mut self, parsed: Parsed) {
        match parsed.result {
            Err(e) => {
                self.push_file(
                    FileRow {
                        name: parsed.name,
                        status: FileStatus::Rejected {
                            reason: e.to_string(),
                        },
                        org: None,
                        report_id: None,
                        domain: None,
                        rows: 0,
                        messages: 0,
                    },
                    None,
                );
            }
            Ok(reports) => {
                for (name, f) in reports {
                    self.add_report(name, f);
                }
            }
        }
    }

    fn push_file(&mut self, row: FileRow, domain: Option<String>) -> usize {
        self.files.push(row);
        self.file_domains.push(domain);
        self.files.len() - 1
    }

    fn add_report(&mut self, name: String, f: Feedback) {
        let key = (f.org_name.to_ascii_lowercase(), f.report_id.clone());
        let domain = f.published.domain.clone();
        let mut row = FileRow {
            name,
            status: FileStatus::Used,
            org: Some(f.org_name.clone()),
            report_id: Some(f.report_id.clone()),
            domain: Some(domain.clone()),
            rows: f.rows.len(),
            messages: f.rows.iter().fold(0u64, |a, r| a.saturating_add(r.count)),
        };
        if let Some(&first) = self.seen.get(&key) {
            row.status = FileStatus::Duplicate {
                of: self
                    .files
                    .get(first)
                    .map(|f| f.name.clone())
                    .unwrap_or_default(),
            };
            self.push_file(row, Some(domain));
            return;
        }
        let file = self.push_file(row, Some(domain.clone()));
        self.seen.insert(key, file);
        let report = self.reports.len();
        let day = report_day(f.begin, f.end);
        let agg = self.domains.entry(domain.clone()).or_default();
        let mut volume = Volume::default();
        let reporter_key = f.org_name.to_ascii_lowercase();
        for (i, r) in f.rows.iter().enumerate() {
            let class = Class::of(r);
            volume.add_row(r, class);
            let src = agg.sources.entry(r.source_ip).or_insert_with(|| SourceAgg {
                first_day: day,
                last_day: day,
                ..Default::default()
            });
            src.volume.add_row(r, class);
            src.first_day = src.first_day.min(day);
            src.last_day = src.last_day.max(day);
            for a in &r.spf {
                if a.result == AuthResult::Pass && !a.domain.is_empty() {
                    src.spf_domains.bump(&a.domain, r.count);
                }
                if matches!(a.result, AuthResult::Fail | AuthResult::Softfail)
                    && within(&a.domain, &domain)
                {
                    src.spf_fail_own = src.spf_fail_own.saturating_add(r.count);
                }
            }
            for a in &r.dkim {
                if a.result == AuthResult::Pass && !a.domain.is_empty() {
                    src.dkim_domains.bump(&a.domain, r.count);
                }
                if a.result == AuthResult::Fail && within(&a.domain, &domain) {
                    src.dkim_fail_own = src.dkim_fail_own.saturating_add(r.count);
                }
            }
            if let Some(h) = &r.header_from {
                src.header_from.bump(h, r.count);
            }
            for reason in &r.reasons {
                src.reasons.bump(&reason.kind, r.count);
            }
            if src.reporters.len() < MAX_REPORTERS && !src.reporters.contains(&f.org_name) {
                src.reporters.insert(f.org_name.clone());
            }
            let example = match class {
                Class::Aligned => None,
                Class::RelatedUnaligned => Some(&mut src.example_unaligned),
                Class::Unrelated => Some(&mut src.example_unrelated),
            };
            if let Some(slot @ None) = example {
                *slot = Some(RowRef {
                    report,
                    record: i + 1,
                    line: r.line,
                    text: describe_row(&f, r),
                });
            }
            if let Some(what) = disagreement(r) {
                agg.disagreements = agg.disagreements.saturating_add(1);
                if agg.disagreement_examples.len() < MAX_DISAGREEMENTS {
                    agg.disagreement_examples.push(RowRef {
                        report,
                        record: i + 1,
                        line: r.line,
                        text: format!("{}: {what}", describe_row(&f, r)),
                    });
                }
            }
        }
        agg.totals.add(&volume);
        agg.days.entry(day).or_default().add(&volume);
        let rep = agg
            .reporters
            .entry(reporter_key)
            .or_insert_with(|| ReporterAgg {
                org: f.org_name.clone(),
                email: f.email.clone(),
                ..Default::default()
            });
        rep.reports += 1;
        rep.volume.add(&volume);
        if agg.reports.is_empty() {
            agg.begin = f.begin;
            agg.end = f.end;
        } else {
            agg.begin = agg.begin.min(f.begin);
            agg.end = agg.end.max(f.end);
        }
        agg.reports.push(report);
        self.reports.push(ReportMeta {
            file,
            rows: f.rows.len(),
            org: f.org_name,
            email: f.email,
            report_id: f.report_id,
            namespace: f.namespace,
            begin: f.begin,
            end: f.end,
            published: f.published,
            errors: f.errors,
            volume,
        });
    }

    /// Gives a source a reverse name and organisation (for a host that
    /// can look them up; the offline analysis shows what the reports say).
    pub fn name_source(&mut self, ip: IpAddr, name: SourceName) {
        self.names.insert(ip, name);
    }

    /// Source addresses by volume, largest first (for a host that looks
    /// up reverse names before [`super::finish`]).
    pub fn top_sources(&self, limit: usize) -> Vec<IpAddr> {
        let mut all: Vec<(IpAddr, u64)> = self
            .domains
            .values()
            .flat_map(|d| d.sources.iter().map(|(ip, s)| (*ip, s.volume.total)))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        all.into_iter().take(limit).map(|(ip, _)| ip).collect()
    }

    /// Files (or reports inside archives) read so far.
    pub fn files(&self) -> &[FileRow] {
        &self.files
    }

    /// The batch's domain: the one given, else the one most reports are
    /// for (ties: more messages, then alphabetical).
    pub fn choose_domain(&self, given: Option<&str>) -> Option<String> {
        if let Some(d) = given {
            let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
            return (!d.is_empty()).then_some(d);
        }
        self.domains
            .iter()
            .max_by(|a, b| {
                a.1.reports
                    .len()
                    .cmp(&b.1.reports.len())
                    .then(a.1.totals.total.cmp(&b.1.totals.total))
                    .then(b.0.cmp(a.0))
            })
            .map(|(d, _)| d.clone())
    }
}

/// One line of the sources table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    pub ip: String,
    /// Reverse name, when a host looked it up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ptr: Option<String>,
    /// Owner, when a host knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The class of most of its mail.
    pub class: Class,
    pub volume: Volume,
    /// Domains SPF passed for, by messages.
    pub spf_domains: Vec<Count>,
    /// Domains whose DKIM signatures passed, by messages.
    pub dkim_domains: Vec<Count>,
    pub header_from: Vec<Count>,
    pub reasons: Vec<Count>,
    pub reporters: Vec<String>,
    pub first_day: String,
    pub last_day: String,
    /// All its unaligned mail carries an exempting override (forwarder,
    /// mailing list, trusted by the receiver).
    pub forwarder: bool,
}

impl SourceAgg {
    pub fn class(&self) -> Class {
        let v = &self.volume;
        if v.aligned >= v.related_unaligned && v.aligned >= v.unrelated {
            Class::Aligned
        } else if v.related_unaligned >= v.unrelated {
            Class::RelatedUnaligned
        } else {
            Class::Unrelated
        }
    }

    pub fn forwarder(&self) -> bool {
        self.volume.related_unaligned > 0 && self.volume.exempted == self.volume.related_unaligned
    }

    pub fn spf_domains(&self) -> Vec<Count> {
        self.spf_domains.sorted()
    }

    pub fn dkim_domains(&self) -> Vec<Count> {
        self.dkim_domains.sorted()
    }

    pub fn reasons(&self) -> Vec<Count> {
        self.reasons.sorted()
    }

    pub fn row(&self, ip: &IpAddr, name: Option<&SourceName>) -> SourceRow {
        SourceRow {
            ip: ip.to_string(),
            ptr: name.and_then(|n| n.ptr.clone()),
            org: name.and_then(|n| n.org.clone()),
            class: self.class(),
            volume: self.volume,
            spf_domains: self.spf_domains.sorted(),
            dkim_domains: self.dkim_domains.sorted(),
            header_from: self.header_from.sorted(),
            reasons: self.reasons.sorted(),
            reporters: self.reporters.iter().cloned().collect(),
            first_day: date(self.first_day),
            last_day: date(self.last_day),
            forwarder: self.forwarder(),
        }
    }
}

/// Sources of a domain, largest first (ties by address).
pub fn sorted_sources(agg: &DomainAgg) -> Vec<(&IpAddr, &SourceAgg)> {
    let mut v: Vec<(&IpAddr, &SourceAgg)> = agg.sources.iter().collect();
    v.sort_by(|a, b| b.1.volume.total.cmp(&a.1.volume.total).then(a.0.cmp(b.0)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(19_722), "2023-12-31");
        assert_eq!(date(20_513), "2026-03-01");
        assert_eq!(rfc3339(1_700_006_400), "2023-11-15T00:00:00Z");
        assert_eq!(rfc3339(1_700_092_799), "2023-11-15T23:59:59Z");
        // A day's report counts on that day, whether it ends at 23:59:59 or 00:00.
        assert_eq!(date(report_day(1_700_006_400, 1_700_092_799)), "2023-11-15");
        assert_eq!(date(report_day(1_700_006_400, 1_700_092_800)), "2023-11-15");
        assert_eq!(
            report_day(u64::MAX - 1, u64::MAX),
            (u64::MAX / 86_400) as i64
        );
    }

    #[test]
    fn within_domain() {
        assert!(within("example.com", "example.com"));
        assert!(within("mail.example.com", "example.com"));
        assert!(!within("badexample.com", "example.com"));
        assert!(!within("com", "example.com"));
    }

    #[test]
    fn counter_is_bounded() {
        let mut c = Counter::default();
        for i in 0..100 {
            c.bump(&format!("d{i}.example"), 1);
        }
        let s = c.sorted();
        assert_eq!(s.len(), MAX_NAMES);
        assert_eq!(s.iter().map(|c| c.count).sum::<u64>(), 100);
        assert_eq!(s[0].name, "(others)");
    }
}
