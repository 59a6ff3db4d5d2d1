//! SMTP TLS Reporting (RFC 8460) and the rule `tlsrpt.record`.
//!
//! API: [`lookup`] asks `_smtp._tls.<domain>` TXT (one query); [`judge`]
//! decides the rule (pure); [`parse`] reads one record (pure, any input).
//! TXT strings that do not begin with `v=TLSRPTv1` are discarded, as
//! senders do; several records make senders send no reports (§3).

use crate::dns::{DnsAnswer, DnsError, RecordType, Resolver};
use crate::net::Network;
use crate::report::{Finding, Severity, Status};
use crate::rules::{Area, Rule};

pub static TLSRPT_RECORD: Rule = Rule {
    id: "tlsrpt.record",
    area: Area::Transport,
    title: "TLS-RPT record",
    severity: Severity::Info,
    description: "No _smtp._tls TXT record (info: senders cannot report TLS failures, such as a \
        broken MTA-STS or DANE setup, to you); a malformed record or several records (low).",
    refs: &["RFC 8460 §3"],
};

/// The rules this module decides, in catalog order.
pub static RULES: &[&Rule] = &[&TLSRPT_RECORD];

#[derive(Debug, Clone)]
pub struct Lookup {
    pub domain: String,
    /// `_smtp._tls.<domain>` TXT.
    pub txt: Result<DnsAnswer, DnsError>,
}

pub async fn lookup<N: Network>(resolver: &Resolver<'_, N>, domain: &str) -> Lookup {
    Lookup {
        domain: domain.to_string(),
        txt: resolver
            .query(&format!("_smtp._tls.{domain}"), RecordType::TXT)
            .await,
    }
}

/// TXT strings senders keep: those beginning with `v=TLSRPTv1`.
pub fn tlsrpt_records(a: &DnsAnswer) -> Vec<String> {
    a.of_type()
        .filter_map(|d| d.txt_joined())
        .filter(|t| t.starts_with("v=TLSRPTv1"))
        .collect()
}

fn wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_host_name(h: &str) -> bool {
    h.len() <= 253
        && h.contains('.')
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A report URI: `mailto:` with an address, or an `https:` URL with a
/// host name.
pub fn check_uri(uri: &str) -> Result<(), String> {
    let (scheme, rest) = uri.split_once(':').unwrap_or(("", uri));
    match scheme.to_ascii_lowercase().as_str() {
        "mailto" => {
            let addr = rest.split('?').next().unwrap_or("");
            match addr.rsplit_once('@') {
                Some((local, host)) if !local.is_empty() && is_host_name(host) => Ok(()),
                _ => Err(format!("`{uri}` is not a usable mailto: address")),
            }
        }
        "https" => match url::Url::parse(uri) {
            Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
            _ => Err(format!("`{uri}` is not a valid https: URL")),
        },
        _ => Err(format!(
            "`{uri}` is neither a mailto: nor an https: URI (the only two report channels)"
        )),
    }
}

/// Reads a record (RFC 8460 §3): `v=TLSRPTv1`, then exactly one `rua=`
/// with comma-separated `mailto:`/`https:` URIs; extensions allowed.
/// Returns the report URIs.
pub fn parse(text: &str) -> Result<Vec<String>, Vec<String>> {
    let mut errors = Vec::new();
    let mut parts = text.split(';');
    let first = parts.next().unwrap_or("");
    if first.trim_end_matches(wsp) != "v=TLSRPTv1" {
        errors.push(format!(
            "it must begin with exactly v=TLSRPTv1 followed by `;`, not `{}`",
            first.trim()
        ));
    }
    let fields: Vec<&str> = parts.map(|p| p.trim_matches(wsp)).collect();
    let mut rua: Option<Vec<String>> = None;
    for (i, f) in fields.iter().enumerate() {
        if f.is_empty() {
            if i + 1 != fields.len() {
                errors.push("it has an empty field (`;;`)".into());
            }
            continue;
        }
        let Some((name, value)) = f.split_once('=') else {
            errors.push(format!("`{f}` is not a name=value field"));
            continue;
        };
        if name == "rua" {
            if rua.is_some() {
                errors.push("rua= appears more than once".into());
                continue;
            }
            let mut uris = Vec::new();
            for u in value.split(',') {
                let u = u.trim_matches(wsp);
                match check_uri(u) {
                    Ok(()) => uris.push(u.to_string()),
                    Err(e) => errors.push(e),
                }
            }
            rua = Some(uris);
        } else {
            let name_ok = !name.is_empty()
                && name.len() <= 32
                && name.as_bytes()[0].is_ascii_alphanumeric()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            let value_ok = !value.is_empty()
                && value
                    .bytes()
                    .all(|b| (0x21..=0x7e).contains(&b) && b != b';' && b != b'=');
            if !name_ok || !value_ok {
                errors.push(format!("`{f}` is not a valid field"));
            }
        }
    }
    if rua.is_none() {
        errors.push("it has no rua= field".into());
    }
    match rua {
        Some(uris) if errors.is_empty() => Ok(uris),
        _ => Err(errors),
    }
}

/// `tlsrpt.record`.
pub fn judge(domain: &str, l: &Lookup) -> Vec<Finding> {
    let qname = format!("_smtp._tls.{domain}");
    let example = format!("{qname}. TXT \"v=TLSRPTv1; rua=mailto:tls-reports@{domain}\"");
    let a = match &l.txt {
        Err(e) => {
            return vec![TLSRPT_RECORD.finding(
                Status::Unknown,
                format!("{qname} could not be looked up ({e}). Run the audit again or query it from another resolver."),
            )]
        }
        Ok(a) if !a.is_definite() => {
            return vec![TLSRPT_RECORD
                .finding(
                    Status::Unknown,
                    format!("The resolver answered {} for {qname}.", a.rcode_text()),
                )
                .with_evidence(a.evidence())]
        }
        Ok(a) => a,
    };
    let ev = a.evidence();
    let records = tlsrpt_records(a);
    let finding = match records.as_slice() {
        [] => TLSRPT_RECORD
            .finding(
                Status::Info,
                format!(
                    "{domain} publishes no TLS-RPT record, so senders cannot tell you when TLS \
                     to your MX hosts fails (for example a broken MTA-STS policy or an expired \
                     certificate)."
                ),
            )
            .with_remediation(format!("Publish a reporting address:\n{example}")),
        [one] => match parse(one) {
            Ok(uris) => TLSRPT_RECORD.finding(
                Status::Pass,
                format!(
                    "TLS failure reports for {domain} go to {}.",
                    uris.join(", ")
                ),
            ),
            Err(errors) => TLSRPT_RECORD
                .finding(
                    Status::Fail,
                    format!(
                        "The TLS-RPT record \"{one}\" is malformed: {}. Senders send no reports.",
                        errors.join("; ")
                    ),
                )
                .with_severity(Severity::Low)
                .with_remediation(format!("Publish a well-formed record:\n{example}")),
        },
        several => TLSRPT_RECORD
            .finding(
                Status::Fail,
                format!(
                    "{qname} has {} TLS-RPT records; senders then send no reports (RFC 8460 §3).",
                    several.len()
                ),
            )
            .with_severity(Severity::Low)
            .with_remediation(format!(
                "Keep one record, listing every address in its rua=:\n{example}"
            )),
    };
    vec![finding.with_evidence(ev)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::NetError;
    use crate::testing::ScriptedNet;
    use futures::executor::block_on;
    use hickory_proto::op::ResponseCode;

    fn run(net: &ScriptedNet) -> Finding {
        let r = Resolver::new(net, "https://doh.test/dns-query");
        let l = block_on(lookup(&r, "example.org"));
        let mut fs = judge("example.org", &l);
        assert_eq!(fs.len(), 1);
        fs.remove(0)
    }

    fn with(rec: &str) -> Finding {
        run(&ScriptedNet::new().txt("_smtp._tls.example.org", rec))
    }

    #[test]
    fn valid_records_pass() {
        for rec in [
            "v=TLSRPTv1; rua=mailto:tls@example.org",
            "v=TLSRPTv1;rua=mailto:tls@example.org, https://reports.example.net/tlsrpt;",
            "v=TLSRPTv1; rua=mailto:a@example.org; ext=1",
        ] {
            let f = with(rec);
            assert_eq!(f.status, Status::Pass, "{rec}: {}", f.detail);
            assert!(f.detail.contains("mailto:"));
        }
    }

    #[test]
    fn malformed_records_fail_low() {
        for (rec, needle) in [
            ("v=TLSRPTv1", "no rua"),
            ("v=TLSRPTv1; rua=tls@example.org", "neither"),
            ("v=TLSRPTv1; rua=http://example.org/r", "neither"),
            ("v=TLSRPTv1; rua=https://", "https"),
            ("v=TLSRPTv1; rua=mailto:example.org", "mailto"),
            ("v=TLSRPTv1; rua=mailto", "neither"),
            (
                "v=TLSRPTv1; rua=mailto:a@b.example; rua=mailto:c@b.example",
                "more than once",
            ),
            ("v=TLSRPTv1 rua=mailto:a@b.example", "begin"),
            ("v=TLSRPTv1; rua=mailto:a@b.example;; x=y", "empty"),
            ("v=TLSRPTv1; rua=mailto:a@b.example; x", "not a name=value"),
        ] {
            let f = with(rec);
            assert_eq!(
                (f.status, f.severity),
                (Status::Fail, Severity::Low),
                "{rec}"
            );
            assert!(f.detail.contains(needle), "{rec}: {}", f.detail);
            assert!(f.remediation.contains("v=TLSRPTv1; rua=mailto:"));
        }
    }

    #[test]
    fn missing_several_and_failures() {
        let f = run(&ScriptedNet::new().a("example.org", "192.0.2.1"));
        assert_eq!(f.status, Status::Info);
        assert_eq!(f.evidence.len(), 1);
        // Unrelated strings are discarded; versions are case-sensitive.
        assert_eq!(
            with("v=tlsrptv1; rua=mailto:a@b.example").status,
            Status::Info
        );
        let f = run(&ScriptedNet::new()
            .txt(
                "_smtp._tls.example.org",
                "v=TLSRPTv1; rua=mailto:a@b.example",
            )
            .txt(
                "_smtp._tls.example.org",
                "v=TLSRPTv1; rua=mailto:c@b.example",
            ));
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("2 TLS-RPT records"));
        let f = run(&ScriptedNet::new().rcode(
            "_smtp._tls.example.org",
            RecordType::TXT,
            ResponseCode::ServFail,
        ));
        assert_eq!(f.status, Status::Unknown);
        let f = run(&ScriptedNet::new().error(
            "_smtp._tls.example.org",
            RecordType::TXT,
            NetError::Timeout(5000),
        ));
        assert_eq!(f.status, Status::Unknown);
        assert!(f.detail.contains("timed out"));
    }
}
