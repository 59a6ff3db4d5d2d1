//! The `dmarcrep.*` rules: judgements over the batch's aggregates, with
//! evidence naming the reports and rows (reporter, report id, file, line).

use super::aggregate::{
    sorted_sources, within, DomainAgg, FileRow, FileStatus, ReportMeta, RowRef, SourceAgg,
    SourceName,
};
use super::plan::{CurrentFrom, Plan, Verdict};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::rules::{Area, Rule};
use std::collections::HashMap;
use std::net::IpAddr;

pub static DMARCREP_UNALIGNED_SOURCES: Rule = Rule {
    id: "dmarcrep.unaligned_sources",
    area: Area::Authentication,
    title: "Senders that authenticate but do not align",
    severity: Severity::Medium,
    description: "In the DMARC aggregate reports, a source sends mail as the domain that passes \
        SPF or DKIM for some other domain but is not DMARC-aligned: a legitimate service not yet \
        set up for alignment. Each source is listed with its volume and what to fix (SPF for the \
        domain, a custom MAIL FROM, DKIM signing with d= the domain). Warn when all of that mail \
        is forwarded or mailing-list mail the receivers exempt.",
    refs: &[
        "RFC 7489 §3.1 (identifier alignment)",
        "RFC 7489 §7.2 (aggregate reports)",
    ],
};

pub static DMARCREP_POLICY_READINESS: Rule = Rule {
    id: "dmarcrep.policy_readiness",
    area: Area::Authentication,
    title: "DMARC policy readiness",
    severity: Severity::Medium,
    description: "The next DMARC policy step (none → quarantine → reject; a pct below 100 or \
        t=y first) would quarantine or reject related mail seen in the aggregate reports (warn, \
        with a pct ramp when that mail is at most 2% of the batch); pass when the next step is \
        safe, with the exact record to publish. Evidence: current, next, ready, aligned_share, \
        blocking_sources.",
    refs: &[
        "RFC 7489 §6.3 (p, sp, pct)",
        "RFC 7489 §6.6.4",
        "NIST SP 800-177r1 §4.6",
    ],
};

pub static DMARCREP_SPOOFING: Rule = Rule {
    id: "dmarcrep.spoofing",
    area: Area::Authentication,
    title: "Spoofed mail in DMARC reports",
    severity: Severity::High,
    description: "Mail using the domain that passes neither SPF nor DKIM for any domain is above \
        1% of the reported volume (fail), or present at or below 1% (warn): someone is sending \
        as you.",
    refs: &["RFC 7489 §2.1", "RFC 7489 §7.2 (aggregate reports)"],
};

pub static DMARCREP_INPUT: Rule = Rule {
    id: "dmarcrep.input",
    area: Area::Authentication,
    title: "DMARC report files",
    severity: Severity::Info,
    description: "A report file was rejected and contributes nothing (status unknown, with which \
        file and why): damaged or truncated gzip/zip, over the 64 MiB decompression cap, a \
        DOCTYPE or entity, malformed XML, not an aggregate report, or a report for another \
        domain than the batch's. Reports with the same reporter and report id are counted once.",
    refs: &[
        "RFC 7489 Appendix C",
        "draft-ietf-dmarc-aggregate-reporting (Security Considerations: report contents as an attack)",
    ],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[
    &DMARCREP_UNALIGNED_SOURCES,
    &DMARCREP_POLICY_READINESS,
    &DMARCREP_SPOOFING,
    &DMARCREP_INPUT,
];

/// Unrelated mail above this share of the batch fails `dmarcrep.spoofing`.
pub const SPOOFING_FAIL_SHARE: f64 = 0.01;
/// Sources listed in a finding's evidence.
const MAX_EVIDENCE_SOURCES: usize = 20;
/// Files listed in `dmarcrep.input`.
const MAX_EVIDENCE_FILES: usize = 50;

/// A share as a percentage: two decimals below 1%, one above.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 {
        "0%".into()
    } else if p < 0.01 {
        "<0.01%".into()
    } else if p < 1.0 {
        format!("{p:.2}%")
    } else if p >= 99.95 && share < 1.0 {
        ">99.9%".into()
    } else if share >= 1.0 {
        "100%".into()
    } else {
        format!("{p:.1}%")
    }
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn sources(n: usize) -> String {
    format!(
        "{} source{}",
        count(n as u64),
        if n == 1 { "" } else { "s" }
    )
}

fn messages(n: u64) -> String {
    format!("{} message{}", count(n), if n == 1 { "" } else { "s" })
}

/// What the rules look at.
pub struct Ctx<'a> {
    pub domain: Option<&'a str>,
    pub agg: Option<&'a DomainAgg>,
    pub reports: &'a [ReportMeta],
    pub files: &'a [FileRow],
    pub names: &'a HashMap<IpAddr, SourceName>,
    pub plan: &'a Plan,
}

impl Ctx<'_> {
    fn row_note(&self, r: &RowRef) -> Evidence {
        let file = self
            .reports
            .get(r.report)
            .and_then(|m| self.files.get(m.file))
            .map(|f| f.name.as_str())
            .unwrap_or("?");
        Evidence::Note {
            text: format!("{file}, record {}: {}", r.record, r.text),
        }
    }

    fn source_label(&self, ip: &IpAddr) -> String {
        match self.names.get(ip) {
            Some(SourceName {
                ptr: Some(p),
                org: Some(o),
            }) => format!("{ip} ({p}, {o})"),
            Some(SourceName { ptr: Some(p), .. }) => format!("{ip} ({p})"),
            Some(SourceName { org: Some(o), .. }) => format!("{ip} ({o})"),
            _ => ip.to_string(),
        }
    }

    fn no_data(&self, rule: &'static Rule) -> Finding {
        let why = match self.domain {
            None => "no usable report was given".to_string(),
            Some(d) => format!("the reports hold no mail for {d}"),
        };
        rule.finding(
            Status::Unknown,
            format!("Cannot be decided: {why}. See dmarcrep.input for the files."),
        )
    }
}

fn names(list: &[super::aggregate::Count]) -> String {
    list.iter()
        .take(4)
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What to change for one related-but-unaligned source.
fn fixes(domain: &str, ip: &IpAddr, s: &SourceAgg) -> Vec<String> {
    let mut out = Vec::new();
    if s.forwarder() {
        out.push(
            "receivers marked all of it as forwarded or list mail: nothing to change at your \
             side (ARC-aware receivers accept it)"
                .into(),
        );
        return out;
    }
    let spf_other: Vec<String> = s
        .spf_domains()
        .into_iter()
        .filter(|c| !within(&c.name, domain) && c.name != "(others)")
        .map(|c| c.name)
        .collect();
    let spf_own: Vec<String> = s
        .spf_domains()
        .into_iter()
        .filter(|c| within(&c.name, domain) && c.name != domain)
        .map(|c| c.name)
        .collect();
    let dkim_other: Vec<String> = s
        .dkim_domains()
        .into_iter()
        .filter(|c| !within(&c.name, domain) && c.name != "(others)")
        .map(|c| c.name)
        .collect();
    let dkim_own: Vec<String> = s
        .dkim_domains()
        .into_iter()
        .filter(|c| within(&c.name, domain) && c.name != domain)
        .map(|c| c.name)
        .collect();
    if !dkim_other.is_empty() {
        out.push(format!(
            "DKIM passes for {} but not for {domain}: have the service sign with d={domain} \
             (publish the key it gives you at <selector>._domainkey.{domain})",
            dkim_other.join(", ")
        ));
    }
    if !spf_other.is_empty() {
        out.push(format!(
            "SPF passes for {} (the service's own MAIL FROM): set a custom MAIL FROM / \
             return-path under {domain} in the service, so SPF aligns",
            spf_other.join(", ")
        ));
    }
    if !spf_own.is_empty() || !dkim_own.is_empty() {
        out.push(format!(
            "it authenticates as a subdomain ({}) but the policy asks for strict alignment \
             (adkim=s or aspf=s): use {domain} itself, or relax alignment",
            spf_own
                .iter()
                .chain(&dkim_own)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if s.spf_fail_own > 0 {
        let mech = if ip.is_ipv4() { "ip4" } else { "ip6" };
        out.push(format!(
            "SPF fails for {domain} from this address: add {mech}:{ip} (or the service's \
             include:) to the SPF record of {domain}"
        ));
    }
    if s.dkim_fail_own > 0 {
        out.push(format!(
            "a DKIM signature by {domain} fails: check the selector's key, and whether the \
             message is modified in transit"
        ));
    }
    out
}

/// `dmarcrep.unaligned_sources`.
pub fn unaligned_sources(ctx: &Ctx<'_>) -> Finding {
    let rule = &DMARCREP_UNALIGNED_SOURCES;
    let (Some(agg), Some(domain)) = (ctx.agg.filter(|a| a.totals.total > 0), ctx.domain) else {
        return ctx.no_data(rule);
    };
    let mut list: Vec<(&IpAddr, &SourceAgg)> = sorted_sources(agg)
        .into_iter()
        .filter(|(_, s)| s.volume.related_unaligned > 0)
        .collect();
    list.sort_by(|a, b| {
        b.1.volume
            .related_unaligned
            .cmp(&a.1.volume.related_unaligned)
            .then(a.0.cmp(b.0))
    });
    let total = agg.totals.total;
    if list.is_empty() {
        return rule.finding(
            Status::Pass,
            format!(
                "Every source that authenticates as {domain} aligns: no related-but-unaligned \
                 mail among {} reported.",
                messages(total)
            ),
        );
    }
    let volume: u64 = list.iter().map(|(_, s)| s.volume.related_unaligned).sum();
    let own = list.iter().filter(|(_, s)| !s.forwarder()).count();
    let status = if own > 0 { Status::Fail } else { Status::Warn };
    let detail = if own > 0 {
        format!(
            "{} source{} sent {} ({} of the mail reported for {domain}) that pass SPF or DKIM \
             for some domain but do not align with {domain}: services sending for you that are \
             not set up for DMARC yet. An enforcing policy would quarantine or reject this mail.",
            list.len(),
            if list.len() == 1 { "" } else { "s" },
            messages(volume),
            percent(agg.totals.share(volume)),
        )
    } else {
        format!(
            "{} source{} sent {} that authenticates but does not align, all of it marked by \
             the receivers as forwarded or mailing-list mail, which they exempt: nothing to set up.",
            list.len(),
            if list.len() == 1 { "" } else { "s" },
            messages(volume),
        )
    };
    let mut evidence = Vec::new();
    let mut remediation = Vec::new();
    let mut spf_adds = Vec::new();
    for (ip, s) in list.iter().take(MAX_EVIDENCE_SOURCES) {
        let v = &s.volume;
        let mut text = format!(
            "{}: {} related but unaligned ({} of all mail){}",
            ctx.source_label(ip),
            messages(v.related_unaligned),
            percent(agg.totals.share(v.related_unaligned)),
            if s.forwarder() {
                ", marked forwarded/mailing list"
            } else {
                ""
            }
        );
        let spf = s.spf_domains();
        if !spf.is_empty() {
            text.push_str(&format!("; SPF pass for {}", names(&spf)));
        }
        let dkim = s.dkim_domains();
        if !dkim.is_empty() {
            text.push_str(&format!("; DKIM pass for {}", names(&dkim)));
        }
        let f = fixes(domain, ip, s);
        if !f.is_empty() {
            text.push_str(&format!(". Fix: {}", f.join("; ")));
        }
        evidence.push(Evidence::Note { text });
        if let Some(r) = &s.example_unaligned {
            evidence.push(ctx.row_note(r));
        }
        if s.spf_fail_own > 0 && !s.forwarder() {
            spf_adds.push(format!("{}:{ip}", if ip.is_ipv4() { "ip4" } else { "ip6" }));
        }
        if !s.forwarder() {
            remediation.push(format!("; {}: {}", ip, f.join("; ")));
        }
    }
    if list.len() > MAX_EVIDENCE_SOURCES {
        evidence.push(Evidence::Note {
            text: format!(
                "… and {} more sources (the tables list them all)",
                list.len() - MAX_EVIDENCE_SOURCES
            ),
        });
    }
    let mut fix = format!(
        "; For each service that sends as {domain}, align DKIM (preferred) or SPF:\n\
         ; DKIM: sign with d={domain} and publish the key the service gives you\n\
         <selector>._domainkey.{domain}. TXT \"v=DKIM1; k=rsa; p=<public key from the service>\"\n\
         ; SPF: a MAIL FROM under {domain} (custom return-path), authorised by SPF\n"
    );
    if !spf_adds.is_empty() {
        fix.push_str(&format!(
            "{domain}. TXT \"v=spf1 {} <your current mechanisms> -all\"\n",
            spf_adds.join(" ")
        ));
    }
    fix.push_str(&remediation.join("\n"));
    rule.finding(status, detail)
        .with_evidences(evidence)
        .with_remediation(fix)
}

/// `dmarcrep.policy_readiness`.
pub fn policy_readiness(ctx: &Ctx<'_>) -> Finding {
    let rule = &DMARCREP_POLICY_READINESS;
    let plan = ctx.plan;
    let domain = ctx.domain.unwrap_or("the domain");
    let from = match plan.current_from {
        CurrentFrom::Record => "from the record given",
        CurrentFrom::Reports => "from the latest report's policy_published",
        CurrentFrom::Assumed => "assumed: no record given and no report shows one",
    };
    let mut evidence = vec![Evidence::Note {
        text: format!("current: {} ({from})", plan.current.describe()),
    }];
    if let Some(r) = &plan.current_record {
        evidence.push(Evidence::Note {
            text: format!("current record: {r}"),
        });
    }
    if plan.verdict == Verdict::Done {
        return rule
            .finding(
                Status::Pass,
                format!(
                    "{domain} is at p=reject for all mail: there is no further policy step. \
                     Keep watching the reports for new unaligned sources."
                ),
            )
            .with_evidences(evidence);
    }
    if plan.verdict == Verdict::Unknown {
        let mut f = ctx.no_data(rule);
        f.evidence = evidence;
        return f;
    }
    let next = plan.next.map(|s| s.describe()).unwrap_or_default();
    evidence.push(Evidence::Note {
        text: format!("next: {next}"),
    });
    evidence.push(Evidence::Note {
        text: format!("ready: {}", plan.ready),
    });
    evidence.push(Evidence::Note {
        text: format!(
            "aligned_share: {} of {}",
            percent(plan.aligned_share),
            messages(plan.total)
        ),
    });
    let blocking: Vec<String> = plan
        .blocking_sources
        .iter()
        .map(|b| format!("{} ({})", b.ip, messages(b.messages)))
        .collect();
    evidence.push(Evidence::Note {
        text: format!(
            "blocking_sources: {}{}",
            if blocking.is_empty() {
                "none".to_string()
            } else {
                blocking.join(", ")
            },
            if plan.blocking_source_count > plan.blocking_sources.len() {
                format!(
                    " and {} more",
                    plan.blocking_source_count - plan.blocking_sources.len()
                )
            } else {
                String::new()
            }
        ),
    });
    if let Some(r) = &plan.record {
        evidence.push(Evidence::Note {
            text: format!("record: {r}"),
        });
    }
    for n in &plan.notes {
        evidence.push(Evidence::Note { text: n.clone() });
    }
    let publish = plan.record.as_ref().map(|r| {
        let mut s = format!("_dmarc.{domain}. TXT \"{r}\"");
        if !plan.record_complete {
            s.push_str(
                "\n; add your rua= (and ruf=) tags from the current record: reports do not show them",
            );
        }
        s
    });
    let blocking_share = percent(plan.blocking_share);
    let (status, detail) =
        match plan.verdict {
            Verdict::Ready => (
                Status::Pass,
                format!(
                "The next step, {next}, is safe: {} of the mail reported for {domain} aligns and \
                 no related source would be blocked. Publish: {}",
                percent(plan.aligned_share),
                plan.record.as_deref().unwrap_or("")
            ),
            ),
            Verdict::Ramp => (
                Status::Warn,
                format!(
                "The next step would quarantine or reject related mail: {} ({blocking_share} of \
                 the batch) from {} that authenticate{} but do{} not align. The share is \
                 small, so take the step with a ramp ({next}) while fixing {} \
                 (dmarcrep.unaligned_sources).",
                messages(plan.blocking_sources.iter().map(|b| b.messages).sum()),
                sources(plan.blocking_source_count),
                if plan.blocking_source_count == 1 { "s" } else { "" },
                if plan.blocking_source_count == 1 { "es" } else { "" },
                if plan.blocking_source_count == 1 { "it" } else { "them" },
            ),
            ),
            _ => (
                Status::Warn,
                format!(
                "Not ready for {next}: it would quarantine or reject {blocking_share} of the mail \
                 reported for {domain}, from {} that do{} not align. Fix {} first \
                 (dmarcrep.unaligned_sources), then check again with new reports.",
                sources(plan.blocking_source_count).replace("source", "related source"),
                if plan.blocking_source_count == 1 { "es" } else { "" },
                if plan.blocking_source_count == 1 { "it" } else { "them" },
            ),
            ),
        };
    let mut f = rule.finding(status, detail).with_evidences(evidence);
    if let Some(p) = publish {
        f = f.with_remediation(p);
    } else {
        f = f.with_remediation(format!(
            "; keep the current policy ({}) until the sources in dmarcrep.unaligned_sources align",
            plan.current.describe()
        ));
    }
    f
}

/// `dmarcrep.spoofing`.
pub fn spoofing(ctx: &Ctx<'_>) -> Finding {
    let rule = &DMARCREP_SPOOFING;
    let (Some(agg), Some(domain)) = (ctx.agg.filter(|a| a.totals.total > 0), ctx.domain) else {
        return ctx.no_data(rule);
    };
    let t = &agg.totals;
    if t.unrelated == 0 {
        return rule.finding(
            Status::Pass,
            format!(
                "No unrelated mail: every one of the {} reported for {domain} passed SPF or DKIM \
                 for some domain.",
                messages(t.total)
            ),
        );
    }
    let share = t.share(t.unrelated);
    let mut list: Vec<(&IpAddr, &SourceAgg)> = agg
        .sources
        .iter()
        .filter(|(_, s)| s.volume.unrelated > 0)
        .collect();
    list.sort_by(|a, b| {
        b.1.volume
            .unrelated
            .cmp(&a.1.volume.unrelated)
            .then(a.0.cmp(b.0))
    });
    let status = if share > SPOOFING_FAIL_SHARE {
        Status::Fail
    } else {
        Status::Warn
    };
    let enforced = t.quarantine.saturating_add(t.reject);
    let detail = format!(
        "{} ({}) of the mail reported for {domain} passed neither SPF nor DKIM for any domain, \
         from {} source{}: someone is sending as {domain}. {}",
        messages(t.unrelated),
        percent(share),
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        if enforced == 0 {
            "Receivers delivered it: the policy asked for no action.".to_string()
        } else {
            format!(
                "Receivers quarantined or rejected {} of all reported mail.",
                messages(enforced)
            )
        }
    );
    let mut evidence = Vec::new();
    for (ip, s) in list.iter().take(MAX_EVIDENCE_SOURCES) {
        evidence.push(Evidence::Note {
            text: format!(
                "{}: {} unrelated, reported by {}",
                ctx.source_label(ip),
                messages(s.volume.unrelated),
                s.row(ip, None).reporters.join(", ")
            ),
        });
        if let Some(r) = &s.example_unrelated {
            evidence.push(ctx.row_note(r));
        }
    }
    if list.len() > MAX_EVIDENCE_SOURCES {
        evidence.push(Evidence::Note {
            text: format!(
                "… and {} more sources (the tables list them all)",
                list.len() - MAX_EVIDENCE_SOURCES
            ),
        });
    }
    let mut fix = "; Receivers stop spoofed mail only under an enforcing policy: move to \
                   p=quarantine, then p=reject (dmarcrep.policy_readiness says when it is safe)"
        .to_string();
    if let Some(next) = &ctx.plan.record {
        fix.push_str(&format!("\n_dmarc.{domain}. TXT \"{next}\""));
        if !ctx.plan.record_complete {
            fix.push_str("\n; add your rua= (and ruf=) tags from the current record");
        }
    }
    rule.finding(status, detail)
        .with_evidences(evidence)
        .with_remediation(fix)
}

/// `dmarcrep.input`.
pub fn input(ctx: &Ctx<'_>) -> Finding {
    let rule = &DMARCREP_INPUT;
    let domain = ctx.domain.unwrap_or("(none)");
    let mut rejected = 0usize;
    let mut other = 0usize;
    let mut duplicates = 0usize;
    let mut used = 0usize;
    let mut evidence = Vec::new();
    for f in ctx.files {
        let line = match &f.status {
            FileStatus::Used => {
                used += 1;
                continue;
            }
            FileStatus::Duplicate { .. } => {
                duplicates += 1;
                continue;
            }
            FileStatus::Rejected { reason } => {
                rejected += 1;
                format!("{}: rejected: {reason}", f.name)
            }
            FileStatus::OtherDomain => {
                other += 1;
                format!(
                    "{}: {} report {} is for {}, not {domain}: left out",
                    f.name,
                    f.org.as_deref().unwrap_or("?"),
                    f.report_id.as_deref().unwrap_or("?"),
                    f.domain.as_deref().unwrap_or("?")
                )
            }
        };
        if evidence.len() < MAX_EVIDENCE_FILES {
            evidence.push(Evidence::Note { text: line });
        }
    }
    if rejected + other > MAX_EVIDENCE_FILES {
        evidence.push(Evidence::Note {
            text: format!("… and {} more", rejected + other - MAX_EVIDENCE_FILES),
        });
    }
    let dup = if duplicates == 0 {
        String::new()
    } else {
        format!(
            " {duplicates} duplicate report{} (same reporter and report id) counted once.",
            if duplicates == 1 { "" } else { "s" }
        )
    };
    if rejected + other == 0 {
        return rule.finding(
            Status::Pass,
            format!(
                "All {} file{} read: {used} report{} for {domain}.{dup}",
                ctx.files.len(),
                if ctx.files.len() == 1 { "" } else { "s" },
                if used == 1 { "" } else { "s" },
            ),
        );
    }
    let mut parts = Vec::new();
    if rejected > 0 {
        parts.push(format!(
            "{rejected} file{} could not be trusted and contribute{} nothing",
            if rejected == 1 { "" } else { "s" },
            if rejected == 1 { "s" } else { "" }
        ));
    }
    if other > 0 {
        parts.push(format!(
            "{other} report{} for another domain than {domain} {} left out",
            if other == 1 { "" } else { "s" },
            if other == 1 { "is" } else { "are" }
        ));
    }
    rule.finding(
        Status::Unknown,
        format!(
            "{}; {used} report{} used.{dup} The figures cover only the reports used.",
            capitalise(&parts.join("; ")),
            if used == 1 { "" } else { "s" },
        ),
    )
    .with_evidences(evidence)
    .with_remediation(
        "Re-export the rejected files from the mailbox the reports arrive in (an attachment cut \
         short by a mail client is the usual cause), or give --domain for the domain you meant.",
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// All four findings.
pub fn judge(ctx: &Ctx<'_>) -> Vec<Finding> {
    vec![
        unaligned_sources(ctx),
        policy_readiness(ctx),
        spoofing(ctx),
        input(ctx),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.00001), "<0.01%");
        assert_eq!(percent(0.0042), "0.42%");
        assert_eq!(percent(0.023), "2.3%");
        assert_eq!(percent(0.99999), ">99.9%");
        assert_eq!(percent(1.0), "100%");
    }
}
