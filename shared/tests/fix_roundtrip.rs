//! `--fix` round trip: for weak configurations, the unified diff that
//! `config::fix` prints is applied to the files as given (by the small
//! patch reader below, which checks every context and removed line), the
//! result is analysed again, and every finding the fix claimed to resolve
//! must be gone, with nothing failing or warning that did not before.

use mailaudit_core::config::{analyze, fix, ConfigOptions, FixPlan, Input};
use mailaudit_core::report::{Report, Status};
use std::collections::HashMap;

mod common;
use common::Rng;

fn fixture(path: &str) -> String {
    let p = format!(
        "{}/../tests/fixtures/postfix/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn opts(version: Option<&str>) -> ConfigOptions {
    ConfigOptions {
        assume_version: version.map(str::to_string),
        now: "2026-01-01T00:00:00Z".into(),
        ..Default::default()
    }
}

/// Applies a unified diff (`--- a/NAME` / `+++ b/NAME`, hunks) to the
/// files; panics when a context or removed line does not match.
fn apply_diff(files: &[Input], diff: &str) -> Vec<Input> {
    let mut out: Vec<Input> = files.to_vec();
    let lines: Vec<&str> = diff.split_inclusive('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let old = lines[i]
            .strip_prefix("--- a/")
            .unwrap_or_else(|| panic!("expected a file header, got {:?}", lines[i]))
            .trim_end();
        let new = lines[i + 1]
            .strip_prefix("+++ b/")
            .expect("+++ header")
            .trim_end();
        assert_eq!(old, new);
        i += 2;
        let file = out
            .iter_mut()
            .find(|f| f.name.trim_start_matches('/') == old)
            .unwrap_or_else(|| panic!("diff for unknown file {old}"));
        let orig: Vec<String> = file.text.split_inclusive('\n').map(String::from).collect();
        let mut result: Vec<String> = Vec::new();
        let mut pos = 0; // next original line to copy
        while i < lines.len() && lines[i].starts_with("@@ ") {
            // @@ -l,s +l,s @@
            let spec = lines[i].trim_end().trim_start_matches("@@ -");
            let old_start: usize = spec
                .split([',', ' '])
                .next()
                .and_then(|n| n.parse().ok())
                .expect("hunk start");
            let old_len: usize = spec
                .split_once(',')
                .and_then(|(_, r)| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            i += 1;
            let mut hunk: Vec<(char, String)> = Vec::new();
            while i < lines.len() && !lines[i].starts_with("@@ ") && !lines[i].starts_with("--- a/")
            {
                let l = lines[i];
                if l.starts_with('\\') {
                    let last = hunk.last_mut().expect("marker after a line");
                    assert!(last.1.ends_with('\n'));
                    last.1.pop();
                } else {
                    let (tag, rest) = l.split_at(1);
                    hunk.push((tag.chars().next().unwrap(), rest.to_string()));
                }
                i += 1;
            }
            let start = if old_len == 0 {
                old_start
            } else {
                old_start - 1
            };
            assert!(start >= pos, "hunks out of order");
            result.extend(orig[pos..start].iter().cloned());
            pos = start;
            for (tag, text) in hunk {
                match tag {
                    ' ' | '-' => {
                        assert_eq!(
                            orig.get(pos),
                            Some(&text),
                            "{old}: line {} differs",
                            pos + 1
                        );
                        if tag == ' ' {
                            result.push(text);
                        }
                        pos += 1;
                    }
                    '+' => result.push(text),
                    t => panic!("bad hunk line tag {t:?}"),
                }
            }
        }
        result.extend(orig[pos..].iter().cloned());
        file.text = result.concat();
    }
    out
}

fn statuses(r: &Report) -> HashMap<String, Status> {
    r.findings
        .iter()
        .map(|f| (f.id.clone(), f.status))
        .collect()
}

fn problem(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Warn)
}

/// Fixes, applies the diff, analyses again; returns the plan.
fn round_trip(name: &str, files: &[(&str, String)], version: Option<&str>) -> FixPlan {
    let inputs: Vec<Input> = files
        .iter()
        .map(|(n, t)| Input::new(*n, t.clone()))
        .collect();
    let o = opts(version);
    let plan = fix(&inputs, &o).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!plan.fixed.is_empty(), "{name}: nothing was fixed");
    let diff = plan.diff();
    let patched = apply_diff(&inputs, &diff);
    for (p, f) in patched.iter().zip(&plan.files) {
        assert_eq!(
            p.text, f.fixed,
            "{name}: the diff does not give the fixed {}",
            f.name
        );
    }
    let before = statuses(&plan.report);
    let after_report = analyze(&patched, &o).unwrap();
    let after = statuses(&after_report);
    for f in &plan.fixed {
        let got = after[&f.id];
        assert!(
            !problem(got),
            "{name}: {} was claimed fixed but is {got:?} after the fix:\n{}\n--- diff:\n{diff}",
            f.id,
            after_report
                .findings
                .iter()
                .find(|x| x.id == f.id)
                .unwrap()
                .detail
        );
    }
    for (id, s) in &after {
        if problem(*s) {
            assert!(
                problem(before[id]),
                "{name}: {id} is {s:?} after the fix but was {:?} before\n--- diff:\n{diff}",
                before[id]
            );
        }
    }
    for m in &plan.manual {
        assert!(
            problem(before[&m.id]),
            "{name}: {} listed but not a problem",
            m.id
        );
        assert!(!m.reason.trim().is_empty());
    }
    // Everything fixable was fixed at once: a second run changes nothing.
    let again = fix(&patched, &o).unwrap();
    assert_eq!(
        again.diff(),
        "",
        "{name}: a second --fix still changes things"
    );
    assert!(again.fixed.is_empty(), "{name}");
    plan
}

fn fixed_ids(p: &FixPlan) -> Vec<&str> {
    p.fixed.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn debian12_stock_config() {
    let files = [
        ("main.cf", fixture("debian12/main.cf")),
        ("master.cf", fixture("debian12/master.cf")),
    ];
    let p = round_trip("debian12 3.7.11", &files, Some("3.7.11"));
    let ids = fixed_ids(&p);
    for id in [
        "postfix.smuggling",
        "postfix.tls_protocols",
        "postfix.vrfy_enabled",
        "postfix.rate_limits",
        "postfix.banner_disclosure",
        "postfix.tls_outbound_off",
    ] {
        assert!(ids.contains(&id), "{id} not fixed: {ids:?}");
    }
    // Needs a certificate: left to the admin, and master.cf is untouched.
    assert!(p.manual.iter().any(|m| m.id == "postfix.tls_inbound_off"));
    assert!(!p.files[1].changed());
    let d = p.diff();
    assert!(d.starts_with("--- a/main.cf\n+++ b/main.cf\n"), "{d}");
    assert!(d.contains("-smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)\n+smtpd_banner = $myhostname ESMTP\n"));
    assert!(d.contains("+smtpd_forbid_bare_newline = normalize\n"));
    // Current release: no smuggling finding to fix, the rest the same.
    let p = round_trip("debian12 3.10", &files, None);
    assert!(!fixed_ids(&p).contains(&"postfix.smuggling"));
}

#[test]
fn weak_fixture_open_relay() {
    let p = round_trip(
        "weak-main.cf",
        &[("weak-main.cf", fixture("weak-main.cf"))],
        None,
    );
    let ids = fixed_ids(&p);
    for id in [
        "postfix.open_relay",
        "postfix.mynetworks_broad",
        "postfix.auth_plaintext",
    ] {
        assert!(ids.contains(&id), "{id} not fixed: {ids:?}");
    }
    let d = p.diff();
    // mynetworks: loopback only, in place, and the admin is told to add theirs.
    assert!(d.contains("-mynetworks = 0.0.0.0/0\n"), "{d}");
    assert!(d.contains(
        "+# mailaudit --fix: only this host is trusted now; add your own networks (other servers \
         that relay through this one) to mynetworks\n+mynetworks = 127.0.0.0/8 [::1]/128\n"
    ));
    // The relay restrictions were right; only mynetworks made them open.
    assert!(!d.contains("+smtpd_relay_restrictions"), "{d}");
}

#[test]
fn master_cf_overrides_are_fixed_where_they_are() {
    let main = "compatibility_level = 3.6\nsmtpd_banner = $myhostname ESMTP\ndisable_vrfy_command = yes\nsmtpd_tls_security_level = may\nsmtpd_tls_chain_files = /etc/ssl/mail.pem\n";
    let master = "\
smtp      inet  n       -       y       -       -       smtpd
  -o disable_vrfy_command=no
  -o { smtpd_banner = $myhostname $mail_name }
  -o smtpd_tls_protocols=TLSv1,TLSv1.1,TLSv1.2
submission inet n       -       y       -       -       smtpd -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=may -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=no
#  -o smtpd_tls_security_level=encrypt
smtps     inet  n       -       y       -       -       smtpd
  -o syslog_name=postfix/smtps
relay     unix  -       -       y       -       -       smtp
  -o smtp_tls_security_level=none
  -o smtp_tls_ciphers=export
pickup    unix  n       -       y       60      1       pickup
";
    let p = round_trip(
        "overrides",
        &[("main.cf", main.into()), ("master.cf", master.into())],
        Some("3.8.4"),
    );
    let ids = fixed_ids(&p);
    for id in [
        "postfix.vrfy_enabled",
        "postfix.banner_disclosure",
        "postfix.submission_plaintext",
        "postfix.auth_plaintext",
        "postfix.tls_outbound_off",
        "postfix.tls_ciphers",
        "postfix.tls_protocols",
    ] {
        assert!(ids.contains(&id), "{id} not fixed: {ids:?}");
    }
    let fixed = &p.files[1].fixed;
    let smtp: String = fixed.lines().take(4).map(|l| format!("{l}\n")).collect();
    assert!(smtp.starts_with("smtp      inet  n       -       y       -       -       smtpd\n"));
    for o in [
        "  -o disable_vrfy_command=yes\n",
        "  -o { smtpd_banner = $myhostname ESMTP }\n",
        "  -o smtpd_tls_protocols=>=TLSv1.2\n",
    ] {
        assert!(smtp.contains(o), "{o} not in\n{fixed}");
    }
    assert!(fixed.contains("  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_auth_only=yes\n  -o smtpd_tls_security_level=encrypt\n#  -o smtpd_tls_security_level=encrypt\nsmtps"), "{fixed}");
    assert!(
        fixed.contains("  -o syslog_name=postfix/smtps\n  -o smtpd_tls_wrappermode=yes\nrelay"),
        "{fixed}"
    );
    // main.cf's own disable_vrfy_command = yes was already right.
    assert!(!p.diff().contains("-disable_vrfy_command = yes"));
}

#[test]
fn postconf_n_output_and_old_releases() {
    // `postconf -n` prints main.cf syntax, sorted.
    let postconf = "\
compatibility_level = 3.6
message_size_limit = 0
mynetworks = 127.0.0.0/8 192.0.2.0/24
smtpd_forbid_bare_newline = normalize
smtpd_forbid_bare_newline_exclusions = 0.0.0.0/0
smtpd_relay_restrictions = permit
smtpd_sasl_auth_enable = yes
smtpd_sasl_security_options = noplaintext
smtpd_tls_auth_only = yes
smtpd_tls_ciphers = low
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_protocols = >=TLSv1.2, <=TLSv1.2
tls_medium_cipherlist = aNULL:RC4:HIGH
smtp_tls_mandatory_ciphers = medium
";
    let p = round_trip(
        "postconf -n",
        &[("postconf-n.txt", postconf.into())],
        Some("3.9.1"),
    );
    let ids = fixed_ids(&p);
    for id in [
        "postfix.open_relay",
        "postfix.smuggling_exclusions",
        "postfix.sasl_anonymous",
        "postfix.tls_ciphers",
        "postfix.tls13_disabled",
        "postfix.size_limit",
    ] {
        assert!(ids.contains(&id), "{id} not fixed: {ids:?}");
    }
    let d = p.diff();
    assert!(
        d.contains("+smtpd_sasl_security_options = noplaintext, noanonymous\n"),
        "{d}"
    );
    assert!(d.contains("+# removed by mailaudit --fix: tls_medium_cipherlist = aNULL:RC4:HIGH\n"));
    // Below the default mailbox_size_limit (51200000), which local(8) needs.
    assert!(d.contains("+message_size_limit = 51200000\n"), "{d}");

    // 3.5: no >= syntax, and no smtpd_forbid_bare_newline to set.
    let old = "compatibility_level = 2\nsmtpd_tls_protocols = >=TLSv1.2\nsmtp_tls_security_level = may\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\nmynetworks = 127.0.0.0/8\n";
    let p = round_trip("3.5", &[("main.cf", old.into())], Some("3.5.9"));
    assert!(p
        .diff()
        .contains("+smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1\n"));
    let smuggling = p
        .manual
        .iter()
        .find(|m| m.id == "postfix.smuggling")
        .unwrap();
    assert!(smuggling.reason.contains("Upgrade Postfix"));
}

#[test]
fn one_paste_with_file_headers_crlf_and_continuations() {
    let paste = "# file: main.cf\r\nmynetworks = 127.0.0.0/8\r\n  10.0.0.0/8\r\n  0.0.0.0/0\r\n# trailing comment\r\ndisable_vrfy_command = no\r\n\r\n# file: master.cf\r\nsmtp inet n - y - - smtpd\r\nsubmission inet n - y - - smtpd\r\n  -o smtpd_tls_security_level=may\r\n";
    let p = round_trip("paste", &[("pasted", paste.into())], None);
    let main = &p.parts[0];
    assert_eq!(main.name, "main.cf");
    assert!(
        main.fixed.contains(
            "mynetworks = 127.0.0.0/8 [::1]/128\n# trailing comment\ndisable_vrfy_command = yes\n"
        ),
        "{}",
        main.fixed
    );
    assert!(p.parts[1]
        .fixed
        .contains("  -o smtpd_tls_security_level=encrypt\n"));
    let whole = &p.files[0].fixed;
    assert!(whole.contains("\r\n# file: master.cf\r\n"));
    assert!(
        !whole.replace("\r\n", "").contains('\n'),
        "CRLF kept: {whole:?}"
    );
    // Per part, the diff names the parts.
    let d = p.parts_diff();
    assert!(
        d.contains("--- a/main.cf\n") && d.contains("--- a/master.cf\n"),
        "{d}"
    );
}

#[test]
fn fix_never_panics_on_odd_input() {
    let seeds = [
        fixture("weak-main.cf"),
        "# file: master.cf\nsubmission inet n - y - - smtpd\n  -o { smtpd_sasl_auth_enable = yes }\n  -o smtpd_tls_security_level=may -o\n  -o {x\n# file: main.cf\nmynetworks = 0.0.0.0/0\n".into(),
        "submission/inet/smtpd_tls_security_level = may\nsubmission inet n - y - - smtpd\n\u{f1}disable_vrfy_command = no".into(),
    ];
    let mut rng = Rng(7);
    for i in 0..1_500 {
        let mut s: Vec<char> = seeds[i % seeds.len()].chars().collect();
        for _ in 0..=rng.below(6) {
            let at = rng.below(s.len() + 1);
            match rng.below(4) {
                0 if at < s.len() => {
                    s.remove(at);
                }
                1 => s.insert(
                    at,
                    ['\n', ' ', '{', '}', '=', '#', '\r', '\u{e9}'][rng.below(8)],
                ),
                2 if at < s.len() => s.truncate(at),
                _ => {
                    let chunk: Vec<char> = s[..at].iter().rev().take(20).copied().collect();
                    s.splice(at..at, chunk);
                }
            }
        }
        let text: String = s.into_iter().collect();
        let inputs = [Input::new("main.cf", text)];
        if let Ok(p) = fix(&inputs, &opts(None)) {
            // Whatever it made, its diff applies.
            let patched = apply_diff(&inputs, &p.diff());
            assert_eq!(patched[0].text, p.files[0].fixed);
        }
    }
}
