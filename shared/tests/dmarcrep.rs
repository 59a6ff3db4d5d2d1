//! DMARC aggregate reports end to end: the real-shaped fixtures in
//! tests/fixtures/dmarc (Google zip, Microsoft and Yahoo gzip, a DMARCbis
//! report; hostile files in bad/), and for every `dmarcrep.*` rule a
//! failing and a passing batch.

use mailaudit_core::dmarcrep::{
    analyze, Analysis, Batch, FileStatus, Options, Verdict, MAX_DECOMPRESSED,
};
use mailaudit_core::report::{Evidence, Finding, Status};
use std::io::Write;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/dmarc"
    ))
}

/// The files of a fixture directory, sorted by name.
fn files_in(sub: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir().join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e != "py"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn opts() -> Options {
    Options {
        now: "2026-11-29T12:00:00Z".into(),
        ..Default::default()
    }
}

fn run(files: &[(String, Vec<u8>)], o: &Options) -> Analysis {
    analyze(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), o)
}

fn finding<'a>(a: &'a Analysis, id: &str) -> &'a Finding {
    let all: Vec<&Finding> = a.report.findings.iter().filter(|f| f.id == id).collect();
    assert_eq!(all.len(), 1, "one {id} finding");
    all[0]
}

fn notes(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|e| match e {
            Evidence::Note { text } => text.clone(),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ------------------------------------------------------------ a generator

struct R<'a> {
    ip: &'a str,
    count: u64,
    dkim_aligned: bool,
    spf_aligned: bool,
    /// (domain, result)
    dkim: &'a [(&'a str, &'a str)],
    spf: &'a [(&'a str, &'a str)],
    reasons: &'a [&'a str],
}

fn aligned(ip: &str, count: u64) -> R<'_> {
    R {
        ip,
        count,
        dkim_aligned: true,
        spf_aligned: true,
        dkim: &[("example.com", "pass")],
        spf: &[("example.com", "pass")],
        reasons: &[],
    }
}

fn unaligned(ip: &str, count: u64) -> R<'_> {
    R {
        ip,
        count,
        dkim_aligned: false,
        spf_aligned: false,
        dkim: &[("esp.example.net", "pass")],
        spf: &[("bounce.esp.example.net", "pass")],
        reasons: &[],
    }
}

fn unrelated(ip: &str, count: u64) -> R<'_> {
    R {
        ip,
        count,
        dkim_aligned: false,
        spf_aligned: false,
        dkim: &[],
        spf: &[("example.com", "fail")],
        reasons: &[],
    }
}

fn xml(org: &str, id: &str, domain: &str, p: &str, rows: &[R<'_>]) -> Vec<u8> {
    let mut s = format!(
        "<?xml version=\"1.0\"?>\n<feedback>\n<report_metadata><org_name>{org}</org_name>\
         <email>dmarc@{org}</email><report_id>{id}</report_id>\
         <date_range><begin>1795132800</begin><end>1795219199</end></date_range>\
         </report_metadata>\n<policy_published><domain>{domain}</domain><p>{p}</p>\
         <sp>{p}</sp><pct>100</pct></policy_published>\n"
    );
    for r in rows {
        s.push_str(&format!(
            "<record><row><source_ip>{}</source_ip><count>{}</count><policy_evaluated>\
             <disposition>none</disposition><dkim>{}</dkim><spf>{}</spf>",
            r.ip,
            r.count,
            if r.dkim_aligned { "pass" } else { "fail" },
            if r.spf_aligned { "pass" } else { "fail" }
        ));
        for reason in r.reasons {
            s.push_str(&format!("<reason><type>{reason}</type></reason>"));
        }
        s.push_str("</policy_evaluated></row><identifiers><header_from>");
        s.push_str(domain);
        s.push_str("</header_from></identifiers><auth_results>");
        for (d, res) in r.dkim {
            s.push_str(&format!(
                "<dkim><domain>{d}</domain><selector>s</selector><result>{res}</result></dkim>"
            ));
        }
        for (d, res) in r.spf {
            s.push_str(&format!(
                "<spf><domain>{d}</domain><result>{res}</result></spf>"
            ));
        }
        s.push_str("</auth_results></record>\n");
    }
    s.push_str("</feedback>\n");
    s.into_bytes()
}

fn batch(rows: &[R<'_>]) -> Vec<(String, Vec<u8>)> {
    vec![(
        "r.xml".to_string(),
        xml("reporter.example", "1", "example.com", "none", rows),
    )]
}

// ------------------------------------------------------------- fixtures

#[test]
fn real_shaped_reports_from_four_reporters() {
    let files = files_in("");
    assert_eq!(files.len(), 4);
    let a = run(&files, &opts());
    let t = &a.tables;
    assert_eq!(t.domain.as_deref(), Some("example.com"));
    assert_eq!(t.counts.reports, 4);
    assert_eq!(t.counts.rejected, 0);
    // 1200+300+40+3 (Google) 800+12+5 (Microsoft) 400+2 (Yahoo) 150 (DMARCbis)
    assert_eq!(t.totals.total, 2912);
    assert_eq!(t.totals.aligned, 2850);
    assert_eq!(t.totals.related_unaligned, 57);
    assert_eq!(t.totals.unrelated, 5);
    assert_eq!(t.totals.exempted, 5);
    let orgs: Vec<&str> = t.reporters.iter().map(|r| r.org.as_str()).collect();
    assert_eq!(
        orgs,
        [
            "google.com",
            "Enterprise Outlook",
            "Yahoo",
            "mail.receiver.example"
        ]
    );
    let days: Vec<(&str, u64)> = t
        .days
        .iter()
        .map(|d| (d.date.as_str(), d.volume.total))
        .collect();
    assert_eq!(days, [("2026-11-20", 2360), ("2026-11-21", 552)]);
    assert_eq!(t.sources[0].ip, "192.0.2.10");
    assert_eq!(t.sources[0].volume.total, 2550);
    let forwarder = t.sources.iter().find(|s| s.ip == "203.0.113.50").unwrap();
    assert!(forwarder.forwarder);
    assert_eq!(t.begin.as_deref(), Some("2026-11-20T00:00:00Z"));
    assert_eq!(t.end.as_deref(), Some("2026-11-21T23:59:59Z"));
    assert_eq!(t.disagreements, 0);

    let un = finding(&a, "dmarcrep.unaligned_sources");
    assert_eq!(un.status, Status::Fail);
    let ev = notes(un);
    assert!(
        ev.contains("198.51.100.23: 52 messages related but unaligned"),
        "{ev}"
    );
    assert!(ev.contains("DKIM pass for mailer.example.net"), "{ev}");
    assert!(
        ev.contains("have the service sign with d=example.com"),
        "{ev}"
    );
    // The example row names the file, the report and the line.
    assert!(
        ev.contains("enterprise.protection.outlook.com!example.com!1795132800!1795219200.xml, record 2: Enterprise Outlook report 0f6b2a1c9d7e4c52a8e3b1f07d6c5e94, record at line 49: 198.51.100.23 sent 12 messages"),
        "{ev}"
    );
    assert!(
        ev.contains(
            "203.0.113.50: 5 messages related but unaligned (0.17% of all mail), marked forwarded"
        ),
        "{ev}"
    );

    let ready = finding(&a, "dmarcrep.policy_readiness");
    assert_eq!(ready.status, Status::Warn);
    assert_eq!(a.plan.verdict, Verdict::Ramp);
    // 52 blocking of 2912 = 1.79%: a ramp.
    let ev = notes(ready);
    assert!(ev.contains("current: p=none"), "{ev}");
    assert!(ev.contains("next: p=quarantine; pct=25"), "{ev}");
    assert!(ev.contains("ready: false"), "{ev}");
    assert!(
        ev.contains("aligned_share: 97.9% of 2,912 messages"),
        "{ev}"
    );
    assert!(
        ev.contains("blocking_sources: 198.51.100.23 (52 messages)"),
        "{ev}"
    );
    assert!(ready
        .remediation
        .starts_with("_dmarc.example.com. TXT \"v=DMARC1; p=quarantine; pct=25"));
    assert!(ready.remediation.contains("add your rua="));

    let spoof = finding(&a, "dmarcrep.spoofing");
    assert_eq!(spoof.status, Status::Warn, "5 of 2912 is under 1%");
    assert!(
        notes(spoof).contains("203.0.113.200: 5 messages unrelated, reported by Yahoo, google.com")
    );

    assert_eq!(finding(&a, "dmarcrep.input").status, Status::Pass);
}

#[test]
fn hostile_and_broken_files_are_flagged_and_contribute_nothing() {
    let good = files_in("");
    let mut all = good.clone();
    all.extend(files_in("bad"));
    let base = run(&good, &opts());
    let a = run(&all, &opts());
    // Nothing from the bad files reached the aggregates.
    assert_eq!(a.tables.totals, base.tables.totals);
    assert_eq!(a.tables.counts.duplicates, 1);
    assert_eq!(a.tables.counts.other_domain, 1);
    assert_eq!(a.tables.counts.rejected, 5);
    let status = |name: &str| {
        a.tables
            .files
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.status.clone())
            .unwrap_or_else(|| panic!("no file {name}"))
    };
    assert!(
        matches!(status("google-resent.xml"), FileStatus::Duplicate { of } if of.starts_with("google.com!"))
    );
    assert_eq!(status("other-domain.xml"), FileStatus::OtherDomain);
    let reason = |name: &str| match status(name) {
        FileStatus::Rejected { reason } => reason,
        other => panic!("{name}: {other:?}"),
    };
    assert!(reason("truncated.xml.gz").contains("gzip data is damaged or truncated"));
    assert!(reason("billion-laughs.xml").contains("DOCTYPE"));
    assert!(reason("xxe.xml").contains("DOCTYPE"));
    assert!(reason("not-a-report.xml").contains("root element is <rss>"));
    assert!(reason("invoice.pdf.zip").contains("in invoice.pdf: not a DMARC aggregate report"));

    let input = finding(&a, "dmarcrep.input");
    assert_eq!(input.status, Status::Unknown);
    assert!(input.detail.starts_with("5 files could not be trusted and contribute nothing; 1 report for another domain than example.com is left out; 4 reports used. 1 duplicate report"), "{}", input.detail);
    let ev = notes(input);
    assert!(ev.contains("other-domain.xml: google.com report 99999 is for example.net, not example.com: left out"), "{ev}");
    assert!(
        ev.contains("xxe.xml: rejected: it has a DOCTYPE declaration"),
        "{ev}"
    );
}

#[test]
fn zip_bomb_is_rejected() {
    let mut w = mailaudit_core_zip(&[("bomb.xml", 70 << 20)]);
    let bomb = std::mem::take(&mut w);
    assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
    let a = run(&[("bomb.zip".to_string(), bomb)], &opts());
    match &a.tables.files[0].status {
        FileStatus::Rejected { reason } => assert!(
            reason.contains(&format!("more than {} MiB", MAX_DECOMPRESSED >> 20)),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    // No data: every judgement is unknown, none passes.
    for f in &a.report.findings {
        assert_eq!(f.status, Status::Unknown, "{}", f.id);
    }
}

/// A zip of entries that are `<feedback>` followed by that many spaces.
fn mailaudit_core_zip(entries: &[(&str, usize)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let chunk = vec![b' '; 1 << 20];
    for (name, size) in entries {
        w.start_file(*name, o).unwrap();
        w.write_all(b"<feedback>").unwrap();
        let mut left = *size;
        while left > 0 {
            let n = left.min(chunk.len());
            w.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn the_domain_can_be_given() {
    let files = files_in("");
    let a = run(
        &files,
        &Options {
            domain: Some("Example.NET.".into()),
            ..opts()
        },
    );
    assert_eq!(a.tables.domain.as_deref(), Some("example.net"));
    assert_eq!(a.tables.counts.other_domain, 4);
    assert_eq!(a.tables.totals.total, 0);
    let input = finding(&a, "dmarcrep.input");
    assert_eq!(input.status, Status::Unknown);
    assert!(input
        .detail
        .contains("4 reports for another domain than example.net are left out"));
    assert_eq!(finding(&a, "dmarcrep.spoofing").status, Status::Unknown);
    assert!(finding(&a, "dmarcrep.spoofing")
        .detail
        .contains("the reports hold no mail for example.net"));
}

#[test]
fn majority_domain_wins_and_duplicates_count_once() {
    let mut files = batch(&[aligned("192.0.2.1", 10)]);
    files.push((
        "copy.xml".into(),
        xml(
            "reporter.example",
            "1",
            "example.com",
            "none",
            &[aligned("192.0.2.1", 10)],
        ),
    ));
    files.push((
        "b.xml".into(),
        xml(
            "Reporter.Example",
            "2",
            "example.com",
            "none",
            &[aligned("192.0.2.1", 5)],
        ),
    ));
    files.push((
        "c.xml".into(),
        xml(
            "reporter.example",
            "3",
            "example.org",
            "none",
            &[unrelated("192.0.2.9", 500)],
        ),
    ));
    let a = run(&files, &opts());
    assert_eq!(a.tables.domain.as_deref(), Some("example.com"));
    assert_eq!(a.tables.totals.total, 15);
    assert_eq!(a.tables.counts.duplicates, 1);
    assert_eq!(a.tables.counts.other_domain, 1);
    assert_eq!(
        a.tables.reporters.len(),
        1,
        "org names compare case-insensitively"
    );
}

// ------------------------------------------------------ rule by rule

#[test]
fn unaligned_sources_fail_warn_pass() {
    let fail = run(
        &batch(&[aligned("192.0.2.1", 900), unaligned("198.51.100.7", 100)]),
        &opts(),
    );
    let f = finding(&fail, "dmarcrep.unaligned_sources");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.detail
            .contains("1 source sent 100 messages (10.0% of the mail reported for example.com)"),
        "{}",
        f.detail
    );
    assert!(f.remediation.contains("<selector>._domainkey.example.com."));

    let fwd = [R {
        reasons: &["forwarded"],
        ..unaligned("198.51.100.8", 5)
    }];
    let mut rows = vec![aligned("192.0.2.1", 900)];
    rows.extend(fwd);
    let warn = run(&batch(&rows), &opts());
    assert_eq!(
        finding(&warn, "dmarcrep.unaligned_sources").status,
        Status::Warn
    );

    let pass = run(
        &batch(&[aligned("192.0.2.1", 900), unrelated("203.0.113.9", 1)]),
        &opts(),
    );
    assert_eq!(
        finding(&pass, "dmarcrep.unaligned_sources").status,
        Status::Pass
    );
}

#[test]
fn spf_failing_for_the_domain_gets_an_ip4_fix() {
    let row = R {
        dkim: &[("esp.example.net", "pass")],
        spf: &[("example.com", "softfail")],
        ..unaligned("198.51.100.7", 10)
    };
    let a = run(&batch(&[aligned("192.0.2.1", 90), row]), &opts());
    let f = finding(&a, "dmarcrep.unaligned_sources");
    assert!(
        f.remediation
            .contains("example.com. TXT \"v=spf1 ip4:198.51.100.7"),
        "{}",
        f.remediation
    );
}

#[test]
fn policy_readiness_pass_ramp_not_ready_done() {
    let record = "v=DMARC1; p=none; rua=mailto:dmarc@example.com; fo=1";
    let with_record = Options {
        record: Some(record.into()),
        ..opts()
    };
    // All related mail aligns: ready, with the exact record.
    let pass = run(
        &batch(&[aligned("192.0.2.1", 1000), unrelated("203.0.113.9", 3)]),
        &with_record,
    );
    let f = finding(&pass, "dmarcrep.policy_readiness");
    assert_eq!(f.status, Status::Pass);
    assert_eq!(pass.plan.verdict, Verdict::Ready);
    assert_eq!(
        pass.plan.record.as_deref(),
        Some("v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; fo=1")
    );
    assert!(f
        .detail
        .contains("Publish: v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; fo=1"));
    assert!(pass.plan.record_complete);

    // 1% blocking: ramp with pct=25.
    let ramp = run(
        &batch(&[aligned("192.0.2.1", 990), unaligned("198.51.100.7", 10)]),
        &with_record,
    );
    assert_eq!(
        finding(&ramp, "dmarcrep.policy_readiness").status,
        Status::Warn
    );
    assert_eq!(ramp.plan.verdict, Verdict::Ramp);
    assert_eq!(
        ramp.plan.record.as_deref(),
        Some("v=DMARC1; p=quarantine; pct=25; rua=mailto:dmarc@example.com; fo=1")
    );

    // The ramp continues from where the record is.
    let at25 = Options {
        record: Some("v=DMARC1; p=quarantine; pct=25; rua=mailto:dmarc@example.com".into()),
        ..opts()
    };
    let next = run(
        &batch(&[aligned("192.0.2.1", 990), unaligned("198.51.100.7", 10)]),
        &at25,
    );
    assert_eq!(
        next.plan.record.as_deref(),
        Some("v=DMARC1; p=quarantine; pct=50; rua=mailto:dmarc@example.com")
    );

    // 10% blocking: not ready, nothing to publish.
    let no = run(
        &batch(&[aligned("192.0.2.1", 900), unaligned("198.51.100.7", 100)]),
        &with_record,
    );
    let f = finding(&no, "dmarcrep.policy_readiness");
    assert_eq!(f.status, Status::Warn);
    assert_eq!(no.plan.verdict, Verdict::NotReady);
    assert_eq!(no.plan.record, None);
    assert!(
        f.detail.starts_with("Not ready for p=quarantine"),
        "{}",
        f.detail
    );
    assert!(notes(f).contains("blocking_sources: 198.51.100.7 (100 messages)"));

    // Quarantine -> reject when ready.
    let q = Options {
        record: Some("v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com".into()),
        ..opts()
    };
    let a = run(&batch(&[aligned("192.0.2.1", 1000)]), &q);
    assert_eq!(
        a.plan.record.as_deref(),
        Some("v=DMARC1; p=reject; rua=mailto:dmarc@example.com")
    );

    // Already at reject.
    let r = Options {
        record: Some("v=DMARC1; p=reject; rua=mailto:dmarc@example.com".into()),
        ..opts()
    };
    let done = run(
        &batch(&[aligned("192.0.2.1", 1000), unaligned("198.51.100.7", 100)]),
        &r,
    );
    assert_eq!(done.plan.verdict, Verdict::Done);
    assert_eq!(
        finding(&done, "dmarcrep.policy_readiness").status,
        Status::Pass
    );
}

#[test]
fn policy_readiness_from_the_reports_and_disagreement() {
    // No record given: the policy the reports show; rua must be copied.
    let a = run(&batch(&[aligned("192.0.2.1", 1000)]), &opts());
    assert_eq!(a.plan.record.as_deref(), Some("v=DMARC1; p=quarantine"));
    assert!(!a.plan.record_complete);
    // A record that disagrees with the reports is noted.
    let o = Options {
        record: Some("v=DMARC1; p=quarantine".into()),
        ..opts()
    };
    let b = run(&batch(&[aligned("192.0.2.1", 1000)]), &o);
    assert!(notes(finding(&b, "dmarcrep.policy_readiness"))
        .contains("The reports show p=none but the record given has p=quarantine"));
    // policy_evaluated pass without any pass in auth_results is shown.
    let odd = R {
        dkim: &[],
        spf: &[("example.com", "fail")],
        ..aligned("192.0.2.1", 7)
    };
    let c = run(&batch(&[odd]), &opts());
    assert_eq!(c.tables.disagreements, 1);
    assert!(notes(finding(&c, "dmarcrep.policy_readiness"))
        .contains("policy_evaluated says DKIM pass, auth_results show no DKIM pass"));
}

#[test]
fn spoofing_fail_warn_pass() {
    let fail = run(
        &batch(&[aligned("192.0.2.1", 95), unrelated("203.0.113.9", 5)]),
        &opts(),
    );
    let f = finding(&fail, "dmarcrep.spoofing");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.detail.starts_with(
            "5 messages (5.0%) of the mail reported for example.com passed neither SPF nor DKIM"
        ),
        "{}",
        f.detail
    );
    assert!(notes(f).contains("r.xml, record 2: reporter.example report 1, record at line 6: 203.0.113.9 sent 5 messages"), "{}", notes(f));

    let warn = run(
        &batch(&[aligned("192.0.2.1", 1000), unrelated("203.0.113.9", 10)]),
        &opts(),
    );
    assert_eq!(
        finding(&warn, "dmarcrep.spoofing").status,
        Status::Warn,
        "10/1010 < 1%"
    );

    let pass = run(
        &batch(&[aligned("192.0.2.1", 1000), unaligned("198.51.100.7", 10)]),
        &opts(),
    );
    assert_eq!(finding(&pass, "dmarcrep.spoofing").status, Status::Pass);
}

#[test]
fn input_pass_and_unknown() {
    let pass = run(&batch(&[aligned("192.0.2.1", 1)]), &opts());
    let f = finding(&pass, "dmarcrep.input");
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.detail, "All 1 file read: 1 report for example.com.");
    let mut files = batch(&[aligned("192.0.2.1", 1)]);
    files.push(("notes.txt".into(), b"hello".to_vec()));
    let bad = run(&files, &opts());
    let f = finding(&bad, "dmarcrep.input");
    assert_eq!(f.status, Status::Unknown);
    assert!(notes(f).contains("notes.txt: rejected: not a DMARC aggregate report"));
}

#[test]
fn batch_is_incremental_and_order_independent_for_figures() {
    let files = files_in("");
    let one = run(&files, &opts());
    let mut b = Batch::new();
    for (n, bytes) in files.iter().rev() {
        b.add_parsed(mailaudit_core::dmarcrep::parse_file(n, bytes));
    }
    let two = b.finish(&opts());
    assert_eq!(one.tables.totals, two.tables.totals);
    assert_eq!(one.tables.days, two.tables.days);
    let statuses = |a: &Analysis| {
        a.report
            .findings
            .iter()
            .map(|f| (f.id.clone(), f.status))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&one), statuses(&two));
}

#[test]
fn tables_serialise() {
    let a = run(&files_in(""), &opts());
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["report"]["schema"], "mailaudit/report/v1");
    assert_eq!(v["tables"]["totals"]["total"], 2912);
    assert_eq!(v["tables"]["sources"][0]["class"], "aligned");
    assert_eq!(v["tables"]["files"][0]["status"], "used");
    assert_eq!(v["plan"]["verdict"], "ramp");
    assert_eq!(v["plan"]["next"]["p"], "quarantine");
}

/// Two reports end at the same second (Yahoo's and a DMARCbis receiver's,
/// one with `np`): the plan's record is the same whatever the file order
/// (the browser test pastes the batch in reverse order).
#[test]
fn plan_does_not_depend_on_file_order() {
    let forward = files_in("");
    let mut reverse = forward.clone();
    reverse.reverse();
    let (a, b) = (run(&forward, &opts()), run(&reverse, &opts()));
    assert_eq!(a.plan.record, b.plan.record);
    assert_eq!(a.tables.published, b.tables.published);
    assert_eq!(a.tables.totals, b.tables.totals);
}

/// The same files in any order give the same plan and the same findings
/// (the page reads dropped files in the order the browser lists them).
#[test]
fn file_order_does_not_change_the_result() {
    let files = files_in("");
    let forward = run(&files, &opts());
    let mut reversed = files.clone();
    reversed.reverse();
    let backward = run(&reversed, &opts());
    assert_eq!(forward.plan.record, backward.plan.record);
    let statuses = |a: &Analysis| {
        a.report
            .findings
            .iter()
            .map(|f| (f.id.clone(), f.status, f.detail.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&forward), statuses(&backward));
}

/// The page's first module reads the analysis back from JSON (the parser
/// runs in the second module): what it reads is what was judged.
#[test]
fn the_analysis_reads_back_from_json() {
    let mut files = files_in("");
    files.extend(files_in("bad"));
    for o in [
        opts(),
        Options {
            record: Some("v=DMARC1; p=none; rua=mailto:dmarc@example.com".into()),
            ..opts()
        },
    ] {
        let a = run(&files, &o);
        let json = serde_json::to_string(&a).unwrap();
        let back: Analysis = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
    }
}
