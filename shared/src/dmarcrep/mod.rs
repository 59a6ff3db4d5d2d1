//! DMARC aggregate reports (RFC 7489 §7.2 and Appendix C; DMARCbis
//! draft-ietf-dmarc-aggregate-reporting), analysed offline: who sends mail
//! as the domain, what aligns, what would break at the next policy step,
//! and the record to publish. Rules: `dmarcrep.unaligned_sources`,
//! `dmarcrep.policy_readiness`, `dmarcrep.spoofing`, `dmarcrep.input`.
//!
//! API: [`analyze`] takes (file name, bytes) pairs and [`Options`] and
//! returns an [`Analysis`]: the [`Report`] every host renders, the
//! [`Tables`] a UI draws (per source, per reporter, per day), and the
//! [`Plan`]. For large batches, feed a [`Batch`] file by file
//! ([`Batch::add`], or [`parse_file`] on several threads then
//! [`Batch::add_parsed`] in order) and call [`Batch::finish`].
//!
//! - [`input`]: what a file is (by its first bytes), gzip and zip with a
//!   decompression cap;
//! - [`xml`]: the report document, with no DTD or entity processing;
//! - [`aggregate`]: de-duplication and the volumes;
//! - [`plan`]: the policy planner (reuses [`crate::dns::dmarc::parse`]);
//! - [`rules`]: the findings.
//!
//! **Definitions** (../shared/spec/rules.md): reports are de-duplicated by
//! (reporter org, report id); the batch's domain is [`Options::domain`] or
//! else the domain of most reports, and reports for other domains are left
//! out and flagged; alignment is the reporter's `policy_evaluated` result
//! (disagreement with `auth_results` is kept as evidence); a row is
//! *unrelated* when it has no SPF and no DKIM pass for any domain, and
//! *related but unaligned* when it authenticates for some other domain but
//! does not align. Shares are of the whole de-duplicated batch. A file that
//! cannot be trusted whole contributes no rows.
//!
//! Note on the definition of *related*: a sender that passes SPF for a
//! throw-away domain of its own while forging the From: domain counts as
//! related. The per-source evidence shows the domains it authenticates as,
//! so a reader can tell a known service from such a sender.
//!
//! Reverse names: the offline analysis makes no PTR look-ups (it has no
//! network); a host that can may call [`Batch::name_source`] before
//! [`Batch::finish`], and the names appear in the tables and evidence.

pub mod aggregate;
pub mod input;
pub mod plan;
pub mod rules;
pub mod xml;

pub use aggregate::{
    parse_file, Batch, Class, Count, FileRow, FileStatus, Parsed, SourceName, SourceRow, Volume,
};
pub use input::{looks_like_report, Rejection, MAX_DECOMPRESSED};
pub use plan::{Plan, Step, Verdict};
pub use rules::RULES;

use crate::report::{Assumption, Report};
use aggregate::{date, rfc3339, sorted_sources, DomainAgg, MAX_SOURCES_LISTED};
use serde::{Deserialize, Serialize};
use xml::Published;

/// What the analysis is told.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The domain the reports should be about; else the domain of most
    /// reports.
    pub domain: Option<String>,
    /// The domain's current DMARC record (TXT text), for the planner; else
    /// the policy the latest report shows.
    pub record: Option<String>,
    /// RFC 3339 time of the analysis, given by the host.
    pub now: String,
}

/// Files by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Files and reports inside archives.
    pub files: usize,
    /// Reports whose rows are in the aggregates.
    pub reports: usize,
    pub duplicates: usize,
    pub other_domain: usize,
    pub rejected: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReporterRow {
    pub org: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub reports: usize,
    pub volume: Volume,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRow {
    /// `YYYY-MM-DD` (UTC): the middle of each report's date range.
    pub date: String,
    pub volume: Volume,
}

/// The latest `policy_published` in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedSeen {
    pub org: String,
    pub report_id: String,
    /// End of that report's range (RFC 3339).
    pub end: String,
    pub policy: Published,
}

/// The aggregates, for a UI or `--tables`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tables {
    pub domain: Option<String>,
    /// The domain was given rather than taken from the reports.
    pub domain_given: bool,
    /// Earliest begin and latest end of the reports used (RFC 3339).
    pub begin: Option<String>,
    pub end: Option<String>,
    pub counts: Counts,
    pub totals: Volume,
    /// Largest first, at most [`aggregate::MAX_SOURCES_LISTED`].
    pub sources: Vec<SourceRow>,
    /// How many sources there are in all.
    pub sources_total: usize,
    /// Largest first.
    pub reporters: Vec<ReporterRow>,
    /// In date order; days without reports inside the range are listed
    /// with zero volume (ranges up to 400 days).
    pub days: Vec<DayRow>,
    pub published: Option<PublishedSeen>,
    /// Rows where `policy_evaluated` and `auth_results` disagree.
    pub disagreements: u64,
    pub files: Vec<FileRow>,
}

/// Everything one analysis produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub report: Report,
    pub tables: Tables,
    pub plan: Plan,
}

/// Analyses a batch of files in one call.
pub fn analyze<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    opts: &Options,
) -> Analysis {
    let mut b = Batch::new();
    for (name, bytes) in files {
        b.add(name, bytes);
    }
    b.finish(opts)
}

fn latest_published(batch: &Batch, agg: &DomainAgg) -> Option<usize> {
    agg.reports
        .iter()
        .copied()
        .filter(|&r| {
            batch
                .reports
                .get(r)
                .is_some_and(|m| m.published.p.is_some())
        })
        // Ties (two reports ending together) go by reporter and report id,
        // not by the order the files came in: the same files, the same plan.
        .max_by_key(|&r| {
            batch
                .reports
                .get(r)
                .map(|m| (m.end, m.org.as_str(), m.report_id.as_str()))
        })
}

impl Batch {
    /// Chooses the batch's domain, marks reports for other domains, and
    /// judges.
    pub fn finish(mut self, opts: &Options) -> Analysis {
        let domain = self.choose_domain(opts.domain.as_deref());
        for (row, d) in self.files.iter_mut().zip(&self.file_domains) {
            if row.status == FileStatus::Used && d.as_ref() != domain.as_ref() {
                row.status = FileStatus::OtherDomain;
            }
        }
        let empty = DomainAgg::default();
        let agg = domain
            .as_ref()
            .and_then(|d| self.domains.get(d))
            .unwrap_or(&empty);
        let latest = latest_published(&self, agg);
        let published = latest.and_then(|r| self.reports.get(r)).map(|m| {
            (
                &m.published,
                format!("{} report {} ending {}", m.org, m.report_id, rfc3339(m.end)),
            )
        });
        let plan = plan::plan(&plan::Input {
            domain: domain.as_deref(),
            record: opts.record.as_deref().filter(|r| !r.trim().is_empty()),
            published,
            agg: Some(agg),
        });

        let mut counts = Counts {
            files: self.files.len(),
            ..Default::default()
        };
        for f in &self.files {
            match f.status {
                FileStatus::Used => counts.reports += 1,
                FileStatus::Duplicate { .. } => counts.duplicates += 1,
                FileStatus::OtherDomain => counts.other_domain += 1,
                FileStatus::Rejected { .. } => counts.rejected += 1,
            }
        }
        let sources = sorted_sources(agg);
        let mut reporters: Vec<ReporterRow> = agg
            .reporters
            .values()
            .map(|r| ReporterRow {
                org: r.org.clone(),
                email: r.email.clone(),
                reports: r.reports,
                volume: r.volume,
            })
            .collect();
        reporters.sort_by(|a, b| b.volume.total.cmp(&a.volume.total).then(a.org.cmp(&b.org)));
        let mut days: Vec<DayRow> = Vec::new();
        let first = agg.days.keys().next().copied();
        let last = agg.days.keys().next_back().copied();
        match (first, last) {
            (Some(a), Some(b)) if b - a <= 400 => {
                for d in a..=b {
                    days.push(DayRow {
                        date: date(d),
                        volume: agg.days.get(&d).copied().unwrap_or_default(),
                    });
                }
            }
            _ => days.extend(agg.days.iter().map(|(d, v)| DayRow {
                date: date(*d),
                volume: *v,
            })),
        }
        let has_reports = !agg.reports.is_empty();
        let tables = Tables {
            domain: domain.clone(),
            domain_given: opts.domain.is_some(),
            begin: has_reports.then(|| rfc3339(agg.begin)),
            end: has_reports.then(|| rfc3339(agg.end)),
            counts: counts.clone(),
            totals: agg.totals,
            sources: sources
                .iter()
                .take(MAX_SOURCES_LISTED)
                .map(|(ip, s)| s.row(ip, self.names.get(ip)))
                .collect(),
            sources_total: sources.len(),
            reporters,
            days,
            published: latest
                .and_then(|r| self.reports.get(r))
                .map(|m| PublishedSeen {
                    org: m.org.clone(),
                    report_id: m.report_id.clone(),
                    end: rfc3339(m.end),
                    policy: m.published.clone(),
                }),
            disagreements: agg.disagreements,
            files: self.files.clone(),
        };

        let ctx = rules::Ctx {
            domain: domain.as_deref(),
            agg: Some(agg).filter(|a| !a.reports.is_empty()),
            reports: &self.reports,
            files: &self.files,
            names: &self.names,
            plan: &plan,
        };
        let mut findings = rules::judge(&ctx);
        if agg.disagreements > 0 {
            // Shown with the readiness finding: the reporter's evaluation is
            // what the policy acts on, but a reader should see the conflict.
            if let Some(f) = findings
                .iter_mut()
                .find(|f| f.id == rules::DMARCREP_POLICY_READINESS.id)
            {
                f.evidence.push(crate::report::Evidence::Note {
                    text: format!(
                        "{} row{} where policy_evaluated and auth_results disagree (alignment \
                         follows policy_evaluated), e.g.:",
                        agg.disagreements,
                        if agg.disagreements == 1 { "" } else { "s" }
                    ),
                });
                for r in agg.disagreement_examples.iter().take(3) {
                    let file = self
                        .reports
                        .get(r.report)
                        .and_then(|m| self.files.get(m.file))
                        .map_or("?", |f| f.name.as_str());
                    f.evidence.push(crate::report::Evidence::Note {
                        text: format!("{file}, record {}: {}", r.record, r.text),
                    });
                }
            }
        }

        let mut assumptions = vec![Assumption::new(
            "input",
            format!(
                "{} file{}: {} report{} used, {} duplicate{}, {} for another domain, {} rejected",
                counts.files,
                if counts.files == 1 { "" } else { "s" },
                counts.reports,
                if counts.reports == 1 { "" } else { "s" },
                counts.duplicates,
                if counts.duplicates == 1 { "" } else { "s" },
                counts.other_domain,
                counts.rejected
            ),
        )];
        if let Some(d) = &domain {
            assumptions.push(Assumption::new(
                "domain",
                if opts.domain.is_some() {
                    format!("{d} (given)")
                } else {
                    format!("{d} (the domain of most reports)")
                },
            ));
        }
        if has_reports {
            assumptions.push(Assumption::new(
                "period",
                format!("{} to {}", rfc3339(agg.begin), rfc3339(agg.end)),
            ));
        }
        assumptions.push(Assumption::new(
            "alignment",
            "as each reporter evaluated it (policy_evaluated); rows that authenticate for another \
             domain are related, rows with no SPF or DKIM pass are unrelated",
        ));
        assumptions.push(Assumption::new(
            "sources",
            if self.names.is_empty() {
                "reverse names not looked up (offline analysis); the domains each source \
                 authenticates as are shown"
                    .to_string()
            } else {
                format!("reverse names given for {} sources", self.names.len())
            },
        ));
        let target = match &domain {
            Some(d) => format!("DMARC aggregate reports for {d}"),
            None => "DMARC aggregate reports".to_string(),
        };
        let report = Report::new(target, opts.now.clone(), assumptions, findings);
        Analysis {
            report,
            tables,
            plan,
        }
    }
}
