//! Postfix must be read the way Postfix reads it: a differential test
//! against the real `postconf`.
//!
//! For every configuration in `tests/postconf/corpus/<name>/` (committed)
//! and the hostile ones generated below (too large or too binary to commit),
//! and for every parameter the rules read ([`READ_PARAMS`], plus the
//! restriction classes and every name those values referred to), the value
//! we compute must equal `postconf -c DIR -x -h NAME`; each service's
//! master.cf `-o` overrides must equal `postconf -c DIR -P`, and their
//! expanded values `postconf -c DIR -P -x`.
//!
//! What is normalised, and why (nothing else is):
//! - White space inside a value: postconf prints every value through
//!   `pcf_print_line`, which splits it at `" \t\r\n"` and joins the words
//!   with one space (folding long lines at 80 columns unless `-h`). So runs
//!   of those four characters, and leading/trailing ones, cannot be observed
//!   through postconf; both sides are compared split at them and joined with
//!   one space. Other bytes (`\v`, `\f`, U+00A0, NUL…) are compared as is.
//! - Bytes that are not UTF-8: we read input as the CLI does
//!   (`String::from_utf8_lossy`); postconf's output is decoded the same way.
//!
//! Host-dependent defaults (`myhostname`, `mydomain`, `mynetworks`: from
//! `gethostname()` and the interfaces of the machine running postconf) have
//! no release default here; a value whose expansion reached one of them
//! while the configuration does not set it is not compared (counted, and
//! most corpus files set all three).
//!
//! Where postconf stops with a fatal error, we must not: the parse keeps a
//! diagnostic, or the value carries an expansion error (asserted). Where our
//! output cap cuts a value postconf expands in full, our text must be a
//! prefix of postconf's and carry the error.
//!
//! Without `postconf` the test fails when `CI` is set (tests/setup.sh
//! installs postfix) and otherwise skips with a loud message.

use mailaudit_core::config::postfix::params::{
    effective, EffectiveValue, HOST_DEPENDENT, READ_PARAMS,
};
use mailaudit_core::config::postfix::{Config, Service, Version};
use mailaudit_core::config::Input;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// postconf prints words separated by one space (see the module comment).
fn norm(s: &str) -> String {
    s.split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

struct Postconf {
    bin: PathBuf,
}

#[derive(Debug)]
enum Answer {
    Value(String),
    /// postconf exits non-zero (a fatal error): the stderr text.
    Fatal(String),
    /// postconf does not know the name (prints nothing, warns).
    Unknown,
}

impl Postconf {
    /// `POSTCONF` when set (and only it), else the usual places.
    fn find() -> Option<Postconf> {
        let candidates: Vec<PathBuf> = match std::env::var_os("POSTCONF") {
            Some(p) => vec![PathBuf::from(p)],
            None => ["/usr/sbin/postconf", "/usr/bin/postconf", "/sbin/postconf"]
                .map(PathBuf::from)
                .to_vec(),
        };
        candidates
            .into_iter()
            .find(|b| b.is_file())
            .map(|bin| Postconf { bin })
    }

    /// `postconf -c DIR ARGS`, in a clean environment (no MAIL_CONFIG).
    fn run(&self, dir: &Path, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(&self.bin)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C")
            .arg("-c")
            .arg(dir)
            .args(args)
            .output()
            .expect("run postconf");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn version(&self, dir: &Path) -> String {
        let (ok, out, err) = self.run(dir, &["-d", "-h", "mail_version"]);
        assert!(ok, "postconf -d mail_version: {err}");
        out.trim().to_string()
    }

    /// `-x -h` for each name: one call for all, or one per name when the
    /// batch fails (a fatal error) or prints fewer lines (unknown names).
    fn values(&self, dir: &Path, names: &[String]) -> Vec<Answer> {
        let mut args = vec!["-x", "-h"];
        args.extend(names.iter().map(String::as_str));
        let (ok, out, _) = self.run(dir, &args);
        let lines: Vec<&str> = out.lines().collect();
        if ok && lines.len() == names.len() && out.ends_with('\n') {
            return lines.iter().map(|l| Answer::Value(l.to_string())).collect();
        }
        names
            .iter()
            .map(|n| match self.run(dir, &["-x", "-h", n]) {
                (true, out, _) if out.is_empty() => Answer::Unknown,
                (true, out, _) => Answer::Value(out.trim_end_matches('\n').to_string()),
                (false, _, err) => Answer::Fatal(err),
            })
            .collect()
    }

    /// `-P` (or `-P -x`): (service, type, name) → value; Err on a fatal
    /// error.
    fn service_params(
        &self,
        dir: &Path,
        expand: bool,
    ) -> Result<BTreeMap<(String, String, String), String>, String> {
        let args: &[&str] = if expand { &["-P", "-x"] } else { &["-P"] };
        let (ok, out, err) = self.run(dir, args);
        if !ok {
            return Err(err);
        }
        let mut map = BTreeMap::new();
        for line in out.lines() {
            let (key, value) = line.split_once(" =").expect("postconf -P line");
            let mut it = key.rsplitn(3, '/');
            let name = it.next().unwrap().to_string();
            let kind = it.next().expect("type").to_string();
            let svc = it.next().expect("service").to_string();
            map.insert((svc, kind, name), value.trim_start_matches(' ').to_string());
        }
        Ok(map)
    }
}

struct Case {
    name: String,
    dir: PathBuf,
    main: Vec<u8>,
    master: Vec<u8>,
    /// Whether postconf must stop on this main.cf (a line it refuses).
    expect_fatal: bool,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus() -> Vec<Case> {
    let root = workspace().join("tests/postconf/corpus");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/postconf/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| Case {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            main: std::fs::read(dir.join("main.cf")).expect("main.cf"),
            master: std::fs::read(dir.join("master.cf")).expect("master.cf"),
            expect_fatal: dir.join("FATAL").exists(),
            dir,
        })
        .collect()
}

/// Pinned host-dependent settings for generated files.
const HOST: &str = "myhostname = mail.example.org\nmydomain = example.org\n\
                    mynetworks = 127.0.0.0/8 [::1]/128\ncompatibility_level = 3.6\n";

/// Hostile configurations, generated at run time.
fn hostile(tmp: &Path) -> Vec<Case> {
    let mut out: Vec<(String, Vec<u8>, Vec<u8>, bool)> = Vec::new();
    let stock_master = b"smtp inet n - y - - smtpd\n".to_vec();
    // CRLF line ends throughout, continuation lines included.
    out.push((
        "gen-crlf".into(),
        format!(
            "{HOST}smtpd_banner = $myhostname\r\n  ESMTP\r\nsmtpd_relay_restrictions = \
             permit_mynetworks,\r\n\treject_unauth_destination\r\n# c\r\n\r\n\
             smtpd_tls_security_level = may\r\n"
        )
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n")
        .into_bytes(),
        b"smtp inet n - y - - smtpd\r\n  -o smtpd_tls_security_level=encrypt\r\n\
          submission inet n - y - - smtpd -o { smtpd_banner = a b }\r\n"
            .to_vec(),
        false,
    ));
    // Lone CRs are not line ends.
    out.push((
        "gen-lone-cr".into(),
        format!("{HOST}smtpd_banner = one\rmail_name = two\nmail_name = x\r\r\n").into_bytes(),
        stock_master.clone(),
        false,
    ));
    // NUL bytes inside values and continuations: Postfix reads each logical
    // line as a C string.
    let mut nul = HOST.as_bytes().to_vec();
    nul.extend_from_slice(b"smtpd_banner = a\0b c\n  continued\nmail_name = x\n  y\0z\n  w\n");
    nul.extend_from_slice(b"smtpd_helo_restrictions = \0\n");
    out.push(("gen-nul-value".into(), nul, stock_master.clone(), false));
    let mut nul = HOST.as_bytes().to_vec();
    nul.extend_from_slice(b"\0smtpd_banner = 1\n");
    out.push(("gen-nul-line-start".into(), nul, stock_master.clone(), true));
    let mut nul = HOST.as_bytes().to_vec();
    nul.extend_from_slice(b"smtpd_ban\0ner = 1\n");
    out.push(("gen-nul-in-name".into(), nul, stock_master.clone(), true));
    // Bytes that are not UTF-8, and white space Postfix does not treat as
    // such (U+00A0) next to some it does (\v, \f).
    let mut odd = HOST.as_bytes().to_vec();
    odd.extend_from_slice(b"smtpd_banner = caf\xe9 \xff\xfe\n");
    odd.extend_from_slice("mail_name = \u{a0}x\u{a0}\n".as_bytes());
    odd.extend_from_slice("\u{a0}smtpd_helo_required = yes\n".as_bytes());
    odd.extend_from_slice(b"smtpd_tls_loglevel = \x0b1\x0c\n");
    odd.extend_from_slice(b"smtpd_sender_restrictions = a\n\x0bb\n\x0c\n");
    out.push(("gen-odd-bytes".into(), odd, stock_master.clone(), false));
    // A 1 MB line.
    let mut big = HOST.to_string();
    big.push_str("smtpd_client_restrictions = ");
    while big.len() < 1 << 20 {
        big.push_str("check_client_access cidr:/etc/postfix/c, ");
    }
    big.push_str("permit\nsmtpd_banner = $smtpd_client_restrictions\n");
    out.push((
        "gen-1mb-line".into(),
        big.into_bytes(),
        stock_master.clone(),
        false,
    ));
    // A huge file: 100,000 definitions, most of them repeated.
    let mut huge = HOST.to_string();
    for i in 0..100_000 {
        let _ = writeln!(
            huge,
            "smtpd_banner = banner {i}\n# comment {i}\n  continued {i}"
        );
        if i % 1000 == 0 {
            let _ = writeln!(huge, "message_size_limit = {i}");
        }
    }
    out.push((
        "gen-huge-file".into(),
        huge.into_bytes(),
        stock_master.clone(),
        false,
    ));
    // Deep references: postconf accepts a chain of 100 references
    // (smtpd_banner → deep98 → … → deep0) and stops at 101.
    for (n, fatal) in [(99, false), (100, true), (150, true)] {
        let mut deep = HOST.to_string();
        for i in 1..=n {
            let _ = writeln!(deep, "deep{i} = $deep{}", i - 1);
        }
        let _ = writeln!(
            deep,
            "deep0 = bottom\nsmtpd_banner = $deep{n}\nmail_name = $deep40"
        );
        out.push((
            format!("gen-deep-chain-{n}"),
            deep.into_bytes(),
            stock_master.clone(),
            fatal,
        ));
    }
    // Exponential growth: postconf expands 2^17 copies (1 MiB), we stop at
    // our cap.
    let mut grow = HOST.to_string();
    grow.push_str("g0 = xxxxxxxx\n");
    for i in 1..=17 {
        let _ = writeln!(grow, "g{i} = $g{0}$g{0}", i - 1);
    }
    grow.push_str("smtpd_banner = $g17\nmail_name = $g3\n");
    out.push((
        "gen-growth".into(),
        grow.into_bytes(),
        stock_master.clone(),
        false,
    ));
    // Deeply nested conditionals: fine at 40 levels, fatal at 500.
    for (n, fatal) in [(40, false), (500, true)] {
        let mut nest = HOST.to_string();
        let _ = writeln!(
            nest,
            "smtpd_banner = {}x{}",
            "${mail_version?".repeat(n),
            "}".repeat(n)
        );
        out.push((
            format!("gen-deep-braces-{n}"),
            nest.into_bytes(),
            stock_master.clone(),
            fatal,
        ));
    }
    // Many services, many overrides, long -o values.
    let mut master = String::new();
    for i in 0..300 {
        let _ = writeln!(
            master,
            "127.0.0.{}:{} inet n - y - - smtpd\n  -o smtpd_banner=s{i}\n  -o {{ smtpd_client_restrictions = {} }}",
            i % 250 + 1,
            10000 + i,
            "permit_mynetworks, ".repeat(50)
        );
    }
    out.push((
        "gen-many-services".into(),
        HOST.as_bytes().to_vec(),
        master.into_bytes(),
        false,
    ));
    out.into_iter()
        .map(|(name, main, master, expect_fatal)| {
            let dir = tmp.join(&name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("main.cf"), &main).unwrap();
            std::fs::write(dir.join("master.cf"), &master).unwrap();
            Case {
                name,
                dir,
                main,
                master,
                expect_fatal,
            }
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    compared: usize,
    host_skipped: usize,
    fatal_agreed: usize,
    capped: usize,
    services: usize,
    overrides: usize,
    /// READ_PARAMS names compared at least once.
    seen: BTreeSet<String>,
    mismatches: Vec<String>,
}

fn short(s: &str) -> String {
    if s.len() <= 200 {
        format!("{s:?}")
    } else {
        let mut cut = 200;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{:?}… ({} bytes)", &s[..cut], s.len())
    }
}

/// Whether the value reached a host-dependent default the view does not set.
fn host_dependent(cfg: &Config, service: Option<&Service>, v: &EffectiveValue) -> bool {
    let unset = |n: &str| {
        cfg.main(n).is_none() && !service.is_some_and(|s| s.overrides.iter().any(|p| p.name == n))
    };
    HOST_DEPENDENT
        .iter()
        .any(|h| unset(h) && (v.name == *h || v.refs.iter().any(|r| r == h)))
}

fn judge(
    t: &mut Tally,
    what: &str,
    cfg: &Config,
    service: Option<&Service>,
    ours: &EffectiveValue,
    theirs: &Answer,
) {
    match theirs {
        Answer::Fatal(err) => {
            if ours.error.is_some() {
                t.fatal_agreed += 1;
            } else {
                t.mismatches.push(format!(
                    "{what}: postconf stops ({}), we have no error (value {})",
                    short(err.trim()),
                    short(&ours.text)
                ));
            }
        }
        Answer::Unknown => {
            if !ours.text.is_empty() {
                t.mismatches.push(format!(
                    "{what}: postconf does not know it, we have {}",
                    short(&ours.text)
                ));
            }
        }
        Answer::Value(v) => {
            if host_dependent(cfg, service, ours) {
                t.host_skipped += 1;
                return;
            }
            let (a, b) = (norm(&ours.text), norm(v));
            match &ours.error {
                Some(e) if e.contains("grows by more than") => {
                    if b.len() > a.len() && b.starts_with(a.trim_end()) {
                        t.capped += 1;
                    } else {
                        t.mismatches.push(format!(
                            "{what}: capped ({e}) but not a prefix: ours {} postconf {}",
                            short(&a),
                            short(&b)
                        ));
                    }
                }
                Some(e) => t.mismatches.push(format!(
                    "{what}: postconf expands it to {}, we stop: {e}",
                    short(&b)
                )),
                None if a == b => t.compared += 1,
                None => {
                    t.mismatches
                        .push(format!("{what}: ours {} postconf {}", short(&a), short(&b)))
                }
            }
        }
    }
}

fn check_case(pc: &Postconf, version: &Version, case: &Case, t: &mut Tally) {
    let main = String::from_utf8_lossy(&case.main).into_owned();
    let master = String::from_utf8_lossy(&case.master).into_owned();
    let cfg = Config::parse(&[Input::new("main.cf", main), Input::new("master.cf", master)]);
    let (ok, _, err) = pc.run(&case.dir, &["-h", "mail_version"]);
    if !ok {
        // postconf refuses the whole file (a line it cannot read, or a
        // macro syntax error in any value); we keep going, with a parse
        // diagnostic or an expansion error on the value.
        assert!(
            case.expect_fatal,
            "{}: postconf stops: {}",
            case.name,
            short(&err)
        );
        let names: Vec<&str> = cfg.params.iter().map(|p| p.name.as_str()).collect();
        let errors = effective(&cfg, None, version, names)
            .into_iter()
            .filter(|v| v.error.is_some())
            .count();
        if cfg.diagnostics.is_empty() && errors == 0 {
            t.mismatches.push(format!(
                "{}: postconf stops ({}) and we note nothing",
                case.name,
                short(err.trim())
            ));
        } else {
            t.fatal_agreed += 1;
        }
        return;
    }
    assert!(!case.expect_fatal, "{}: postconf accepts it", case.name);

    // main.cf: READ_PARAMS, the classes, then every name they referred to.
    let mut names: Vec<String> = READ_PARAMS.iter().map(|s| s.to_string()).collect();
    names.extend([
        "compatibility_level".to_string(),
        "mail_version".to_string(),
    ]);
    let classes = effective(&cfg, None, version, ["smtpd_restriction_classes"]);
    names.extend(
        classes[0]
            .text
            .split([' ', '\t', '\r', '\n', ','])
            .filter(|w| !w.is_empty())
            .map(str::to_string),
    );
    let mut ours = effective(&cfg, None, version, names.iter().map(String::as_str));
    let known: BTreeSet<String> = names.iter().cloned().collect();
    let extra: BTreeSet<String> = ours
        .iter()
        .flat_map(|v| v.refs.iter().cloned())
        .filter(|r| !known.contains(r))
        .collect();
    names.extend(extra.iter().cloned());
    ours.extend(effective(
        &cfg,
        None,
        version,
        extra.iter().map(String::as_str),
    ));
    let theirs = pc.values(&case.dir, &names);
    for (o, a) in ours.iter().zip(&theirs) {
        let before = t.compared;
        judge(
            t,
            &format!("{}: main.cf {}", case.name, o.name),
            &cfg,
            None,
            o,
            a,
        );
        if t.compared > before && READ_PARAMS.contains(&o.name.as_str()) {
            t.seen.insert(o.name.clone());
        }
    }

    // master.cf: raw -o overrides (last of a name wins), then expanded.
    let raw = match pc.service_params(&case.dir, false) {
        Ok(m) => m,
        Err(e) => {
            t.mismatches.push(format!(
                "{}: postconf -P stops: {}",
                case.name,
                short(e.trim())
            ));
            return;
        }
    };
    let mut mine = BTreeMap::new();
    for s in &cfg.services {
        t.services += 1;
        for p in &s.overrides {
            mine.insert(
                (s.name.clone(), s.kind.clone(), p.name.to_string()),
                p.value.to_string(),
            );
        }
    }
    let keys: BTreeSet<_> = raw.keys().chain(mine.keys()).cloned().collect();
    for k in &keys {
        let what = format!("{}: -P {}/{}/{}", case.name, k.0, k.1, k.2);
        match (mine.get(k), raw.get(k)) {
            (Some(a), Some(b)) if norm(a) == norm(b) => t.overrides += 1,
            (a, b) => t.mismatches.push(format!(
                "{what}: ours {} postconf {}",
                a.map_or("(none)".into(), |a| short(a)),
                b.map_or("(none)".into(), |b| short(b)),
            )),
        }
    }
    let expanded = pc.service_params(&case.dir, true);
    for s in &cfg.services {
        let names: BTreeSet<&str> = s.overrides.iter().map(|p| p.name.as_str()).collect();
        let values = effective(&cfg, Some(s), version, names.iter().copied());
        for v in values {
            let key = (s.name.clone(), s.kind.clone(), v.name.clone());
            let answer = match &expanded {
                Ok(m) => match m.get(&key) {
                    Some(x) => Answer::Value(x.clone()),
                    None => Answer::Unknown,
                },
                Err(_) => {
                    let q = format!("{}/{}/{}", key.0, key.1, key.2);
                    match pc.run(&case.dir, &["-P", "-x", &q]) {
                        (true, out, _) => Answer::Value(
                            out.trim_end_matches('\n')
                                .split_once(" =")
                                .map(|x| x.1.trim_start_matches(' ').to_string())
                                .unwrap_or_default(),
                        ),
                        (false, _, err) => Answer::Fatal(err),
                    }
                }
            };
            let what = format!("{}: -Px {}/{}/{}", case.name, key.0, key.1, key.2);
            judge(t, &what, &cfg, Some(s), &v, &answer);
        }
    }
}

#[test]
fn values_match_postconf() {
    let Some(pc) = Postconf::find() else {
        if std::env::var_os("CI").is_some() {
            panic!("postconf is not installed, and CI is set: tests/setup.sh installs postfix");
        }
        eprintln!(
            "\n\n*** SKIPPED postconf_diff: no postconf binary (apt-get install postfix, \
             or set POSTCONF=/path/to/postconf). This test FAILS when CI is set. ***\n"
        );
        return;
    };
    let tmp = std::env::temp_dir().join(format!("mailaudit-postconf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let mut cases = corpus();
    let committed = cases.len();
    assert!(committed >= 30, "corpus has {committed} configurations");
    cases.extend(hostile(&tmp));
    let version_text = pc.version(&tmp.join(&cases[committed].name));
    let version = Version::parse(&version_text).expect("postconf mail_version");
    eprintln!(
        "postconf_diff: {} ({}), {} committed + {} generated configurations",
        pc.bin.display(),
        version_text,
        committed,
        cases.len() - committed
    );
    // Cases run side by side: postconf sleeps a second before it exits on a
    // fatal error.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let mut t = Tally::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(case) = cases.get(i) else { break t };
                        let start = std::time::Instant::now();
                        check_case(&pc, &version, case, &mut t);
                        let took = start.elapsed();
                        if took.as_secs_f64() > 3.0 {
                            eprintln!("postconf_diff: {} took {took:.1?}", case.name);
                        }
                    }
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut t = Tally::default();
    for x in tallies {
        t.compared += x.compared;
        t.host_skipped += x.host_skipped;
        t.fatal_agreed += x.fatal_agreed;
        t.capped += x.capped;
        t.services += x.services;
        t.overrides += x.overrides;
        t.seen.extend(x.seen);
        t.mismatches.extend(x.mismatches);
    }
    t.mismatches.sort();
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "postconf_diff: {} values equal, {} fatal errors agreed, {} capped, {} skipped \
         (host-dependent), {} services, {} -o overrides equal, {} mismatches",
        t.compared,
        t.fatal_agreed,
        t.capped,
        t.host_skipped,
        t.services,
        t.overrides,
        t.mismatches.len()
    );
    let unseen: Vec<&&str> = READ_PARAMS
        .iter()
        .filter(|n| !t.seen.contains(**n))
        .collect();
    assert!(unseen.is_empty(), "never compared: {unseen:?}");
    assert!(
        t.mismatches.is_empty(),
        "{} mismatches with postconf {version_text}:\n{}",
        t.mismatches.len(),
        t.mismatches.join("\n")
    );
}
