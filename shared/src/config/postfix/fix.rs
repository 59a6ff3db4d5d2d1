//! Fixed configuration files.
//!
//! A rule that knows how to resolve its finding states the change as a
//! [`Remedy`]: a list of [`Edit`]s (set a main.cf parameter, set a master.cf
//! `-o` option, remove a main.cf parameter) plus the words around them. The
//! finding's `remediation` text is rendered from that same remedy
//! ([`Remedy::text`]), so the snippet a reader sees and the diff that
//! [`fix`] prints never disagree.
//!
//! [`fix`] applies the edits of every `fail` and `warn` finding that has one,
//! the way Postfix reads the files:
//!
//! - main.cf: the last definition of a parameter (the one in force) is
//!   replaced in place, its continuation lines with it; a parameter that is
//!   not set is appended at the end of main.cf under
//!   `# added by mailaudit --fix`;
//! - master.cf: the service entry is rewritten as a whole: earlier `-o`
//!   options of the same name (anywhere in the entry, `{ }` groups
//!   included) are dropped and the new `-o name=value` is added as its last
//!   continuation line; a `postconf -P` line (`service/type/name = value`)
//!   is replaced in place.
//!
//! Nothing is guessed: what needs site data (certificate paths, the
//! admin's own networks beyond loopback, a milter, an upgrade) has no edit
//! and is listed as not fixable automatically.

use super::expand::Lookup;
use super::parse::{strip_braces, Config, Service, Source};
use super::{check_with_remedies, Ctx, View};
use crate::config::{
    detect, lines_inclusive, split_parts, ConfigError, ConfigOptions, Input, Part, Software,
};
use crate::report::{Finding, Report, Status};
use std::collections::BTreeMap;

/// The comment above lines that `--fix` appends to main.cf.
pub const ADDED_COMMENT: &str = "# added by mailaudit --fix";

/// One change to the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// `name = value` in main.cf, with an optional comment line above it.
    SetMain {
        name: String,
        value: String,
        comment: Option<String>,
    },
    /// Every definition of `name` in main.cf goes (the built-in default
    /// then applies).
    RemoveMain { name: String },
    /// `-o name=value` on the master.cf service `service`/`kind` (its first
    /// two fields).
    SetServiceOption {
        service: String,
        kind: String,
        name: String,
        value: String,
    },
}

impl Edit {
    /// The parameter and where it is set: edits with the same key conflict
    /// unless they are equal.
    fn key(&self) -> (String, String, String) {
        match self {
            Edit::SetMain { name, .. } | Edit::RemoveMain { name } => {
                (String::new(), String::new(), name.clone())
            }
            Edit::SetServiceOption {
                service,
                kind,
                name,
                ..
            } => (service.clone(), kind.clone(), name.clone()),
        }
    }
}

/// What resolves one finding: the edits and the words around them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remedy {
    pub edits: Vec<Edit>,
    /// Said in parentheses after "In main.cf", e.g. the unit of a limit.
    pub context: Option<String>,
    /// Said after the settings.
    pub note: Option<String>,
}

impl Remedy {
    pub fn new() -> Self {
        Remedy::default()
    }

    pub fn context(mut self, c: impl Into<String>) -> Self {
        self.context = Some(c.into());
        self
    }

    pub fn note(mut self, n: impl Into<String>) -> Self {
        self.note = Some(n.into());
        self
    }

    /// Adds an edit unless an equal one is there already.
    pub fn push(&mut self, e: Edit) {
        if !self.edits.contains(&e) {
            self.edits.push(e);
        }
    }

    pub fn with(mut self, e: Edit) -> Self {
        self.push(e);
        self
    }

    /// The remediation text of the finding.
    pub fn text(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        let main: Vec<&Edit> = self
            .edits
            .iter()
            .filter(|e| matches!(e, Edit::SetMain { .. }))
            .collect();
        if !main.is_empty() {
            out.push(match &self.context {
                Some(c) => format!("In main.cf ({c}):"),
                None => "In main.cf:".into(),
            });
            for e in main {
                if let Edit::SetMain {
                    name,
                    value,
                    comment,
                } = e
                {
                    if let Some(c) = comment {
                        out.push(format!("# {c}"));
                    }
                    out.push(main_line(name, value));
                }
            }
        }
        for e in &self.edits {
            if let Edit::RemoveMain { name } = e {
                out.push(format!(
                    "In main.cf, remove the {name} line (Postfix's built-in value then applies)."
                ));
            }
        }
        let mut services: Vec<(&str, &str)> = Vec::new();
        for e in &self.edits {
            if let Edit::SetServiceOption { service, kind, .. } = e {
                if !services.contains(&(service.as_str(), kind.as_str())) {
                    services.push((service, kind));
                }
            }
        }
        for (svc, kind) in services {
            out.push(format!("In master.cf, for the {svc} service ({kind}):"));
            for e in &self.edits {
                match e {
                    Edit::SetServiceOption {
                        service,
                        kind: k,
                        name,
                        value,
                    } if service == svc && k == kind => {
                        out.push(format!("  {}", master_option(name, value)))
                    }
                    _ => {}
                }
            }
        }
        if let Some(n) = &self.note {
            out.push(n.clone());
        }
        out.join("\n")
    }
}

fn main_line(name: &str, value: &str) -> String {
    if value.is_empty() {
        format!("{name} =")
    } else {
        format!("{name} = {value}")
    }
}

/// `-o name=value` as master.cf needs it: no white space outside `{ }`.
pub fn master_option(name: &str, value: &str) -> String {
    if !value.contains(char::is_whitespace) {
        return format!("-o {name}={value}");
    }
    let compact: Vec<&str> = value.split(',').map(str::trim).collect();
    let compact = compact.join(",");
    if !compact.contains(char::is_whitespace) && !value.contains(['{', '}']) {
        return format!("-o {name}={compact}");
    }
    format!("-o {{ {name} = {value} }}")
}

/// The edit that sets `name` as `service` sees it: the service's own `-o`
/// when it overrides the name there, else main.cf.
pub(crate) fn set_for(service: Option<&Service>, name: &str, value: impl Into<String>) -> Edit {
    match service.filter(|s| s.overrides.iter().any(|p| p.name == name)) {
        Some(s) => Edit::SetServiceOption {
            service: s.name.clone(),
            kind: s.kind.clone(),
            name: name.into(),
            value: value.into(),
        },
        None => Edit::SetMain {
            name: name.into(),
            value: value.into(),
            comment: None,
        },
    }
}

/// [`set_for`] the service of a view.
pub(crate) fn set(view: &View, name: &str, value: impl Into<String>) -> Edit {
    set_for(view.service, name, value)
}

/// The unexpanded value a view sees (override, main.cf or default).
pub(crate) fn raw(view: &View, name: &str) -> String {
    view.lookup(name).map(|(v, _)| v).unwrap_or_default()
}

/// Attaches a remedy to a finding: its text becomes the remediation, and
/// the remedy is kept for [`fix`].
pub(crate) trait WithRemedy {
    fn with_remedy(self, ctx: &Ctx, remedy: Remedy) -> Finding;
}

impl WithRemedy for Finding {
    fn with_remedy(self, ctx: &Ctx, remedy: Remedy) -> Finding {
        let f = self.with_remediation(remedy.text());
        ctx.remedies.borrow_mut().push((f.id.clone(), remedy));
        f
    }
}

/// A finding the fix resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    pub id: String,
    /// Its status before the fix (fail or warn).
    pub status: Status,
    pub remedy: Remedy,
}

/// A fail or warn finding left for the admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manual {
    pub id: String,
    pub status: Status,
    /// Why, and what to do (the finding's remediation, or why its edits
    /// could not be applied).
    pub reason: String,
}

/// One file before and after the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedFile {
    pub name: String,
    pub original: String,
    pub fixed: String,
}

impl FixedFile {
    pub fn changed(&self) -> bool {
        self.original != self.fixed
    }

    /// Unified diff with `a/NAME` and `b/NAME` headers (a leading `/` of an
    /// absolute name is dropped, so `patch -d / -p1` applies it); empty when
    /// nothing changed.
    pub fn diff(&self) -> String {
        if !self.changed() {
            return String::new();
        }
        let name = self.name.trim_start_matches('/');
        // Lines end at \n only, as Postfix and patch(1) read them (a lone
        // \r is part of the line).
        let old: Vec<&str> = self.original.split_inclusive('\n').collect();
        let new: Vec<&str> = self.fixed.split_inclusive('\n').collect();
        similar::TextDiff::configure()
            .newline_terminated(true)
            .diff_slices(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string()
    }
}

/// Everything `--fix` produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixPlan {
    /// The analysis of the configuration as given.
    pub report: Report,
    /// Findings the edits resolve, in report order.
    pub fixed: Vec<Fixed>,
    /// Fail and warn findings without an automatic fix, in report order.
    pub manual: Vec<Manual>,
    /// The inputs as given, patched.
    pub files: Vec<FixedFile>,
    /// The same per `# file:` part (for a paste holding several files).
    pub parts: Vec<FixedFile>,
}

impl FixPlan {
    /// A plan that changes nothing: every fail and warn finding is manual.
    fn unchanged(report: Report, inputs: &[Input]) -> FixPlan {
        let manual = report
            .findings
            .iter()
            .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
            .map(|f| Manual {
                id: f.id.clone(),
                status: f.status,
                reason: if f.remediation.trim().is_empty() {
                    "no automatic fix".into()
                } else {
                    f.remediation.clone()
                },
            })
            .collect();
        let same = |name: &str, text: &str| FixedFile {
            name: name.to_string(),
            original: text.to_string(),
            fixed: text.to_string(),
        };
        FixPlan {
            report,
            fixed: Vec::new(),
            manual,
            files: inputs.iter().map(|i| same(&i.name, &i.text)).collect(),
            parts: crate::config::split_files(inputs)
                .iter()
                .map(|p| same(&p.name, &p.text))
                .collect(),
        }
    }

    /// The unified diff of every changed input.
    pub fn diff(&self) -> String {
        self.files.iter().map(FixedFile::diff).collect()
    }

    /// The unified diff of every changed `# file:` part.
    pub fn parts_diff(&self) -> String {
        self.parts.iter().map(FixedFile::diff).collect()
    }

    /// The patched inputs, to be analysed again.
    pub fn fixed_inputs(&self) -> Vec<Input> {
        self.files
            .iter()
            .map(|f| Input::new(f.name.clone(), f.fixed.clone()))
            .collect()
    }
}

/// Analyses the configuration and computes its fixed version.
///
/// Edits are made only when every part is Postfix: for other softwares, or
/// a paste that mixes them, every fail and warn finding is left to the
/// administrator with its remediation, and the files are returned as given.
///
/// The input is split and recognised once, and when every part is one
/// Postfix file (the usual paste) one parse and one rule pass give both the
/// report and the remedies.
pub fn fix(inputs: &[Input], opts: &ConfigOptions) -> Result<FixPlan, ConfigError> {
    let parts = split_parts(inputs);
    if parts.is_empty() {
        return Err(ConfigError::Empty);
    }
    // What analyze() reads: the parts with `\n` line ends.
    let files: Vec<Input> = parts
        .iter()
        .map(|p| Input::new(p.name, p.normalized()))
        .collect();
    let (mut segments, unknown) = detect::detect_owned(files, opts.software);
    if segments.is_empty() {
        return Err(ConfigError::Unrecognised);
    }
    let all_postfix = segments
        .iter()
        .all(|s| s.detected.software == Software::Postfix);
    if !all_postfix {
        let report = crate::config::report(&mut segments, &unknown, opts, None)?;
        return Ok(FixPlan::unchanged(report, inputs));
    }
    // Every part parsed, under its index, so every source line names its
    // part.
    let cfg = Config::parse_texts(parts.iter().map(|p| (p.name, p.text)));
    let (findings, assumptions, remedies) =
        check_with_remedies(&cfg, opts.assume_version.as_deref());
    // Each part one whole Postfix segment: the analysis above is the one
    // analyze() makes. Otherwise (a part split, or one not recognised)
    // analyze() reads only the Postfix segments: let it.
    let whole = unknown.is_empty() && segments.len() == parts.len();
    let report = crate::config::report(
        &mut segments,
        &unknown,
        opts,
        whole.then_some((findings, assumptions)),
    )?;

    let mut fixed = Vec::new();
    let mut manual = Vec::new();
    // Edits in catalog order, each with the findings it serves.
    let mut edits: Vec<(Edit, Vec<usize>)> = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
    {
        let remedy = remedies
            .iter()
            .find(|(id, r)| *id == f.id && r.text() == f.remediation && !r.edits.is_empty());
        let Some((_, remedy)) = remedy else {
            manual.push(Manual {
                id: f.id.clone(),
                status: f.status,
                reason: if f.remediation.trim().is_empty() {
                    "no automatic fix".into()
                } else {
                    f.remediation.clone()
                },
            });
            continue;
        };
        let conflict = remedy.edits.iter().find_map(|e| {
            edits
                .iter()
                .find(|(x, _)| x.key() == e.key() && x != e)
                .map(|(x, by)| (x.clone(), by.clone()))
        });
        if let Some((other, by)) = conflict {
            let names: Vec<&str> = by.iter().map(|i| fixed_id(&fixed, *i)).collect();
            manual.push(Manual {
                id: f.id.clone(),
                status: f.status,
                reason: format!(
                    "its fix sets {} differently from the fix for {}; apply by hand:\n{}",
                    other.key().2,
                    names.join(", "),
                    f.remediation
                ),
            });
            continue;
        }
        let n = fixed.len();
        for e in &remedy.edits {
            match edits.iter_mut().find(|(x, _)| x == e) {
                Some((_, by)) => by.push(n),
                None => edits.push((e.clone(), vec![n])),
            }
        }
        fixed.push(Fixed {
            id: f.id.clone(),
            status: f.status,
            remedy: remedy.clone(),
        });
    }

    let mut docs: Vec<Doc> = inputs.iter().map(|i| Doc::new(&i.text)).collect();
    let failed = apply(&cfg, &parts, &mut docs, &edits);
    // Findings whose edits could not all be applied are left to the admin.
    let mut dropped = vec![false; fixed.len()];
    for (edit, why) in &failed {
        if let Some((_, by)) = edits.iter().find(|(x, _)| x == edit) {
            for &i in by {
                if !dropped[i] {
                    dropped[i] = true;
                    manual.push(Manual {
                        id: fixed[i].id.clone(),
                        status: fixed[i].status,
                        reason: format!("{why}; apply by hand:\n{}", fixed[i].remedy.text()),
                    });
                }
            }
        }
    }
    let fixed: Vec<Fixed> = fixed
        .into_iter()
        .zip(dropped)
        .filter(|(_, d)| !d)
        .map(|(f, _)| f)
        .collect();
    let order = |id: &str| report.findings.iter().position(|f| f.id == id);
    manual.sort_by_key(|m| order(&m.id));

    // The patched inputs, split into parts again (the texts are moved
    // into the plan afterwards, not copied).
    let patched: Vec<Input> = inputs
        .iter()
        .zip(&docs)
        .map(|(i, d)| Input::new(i.name.clone(), d.text()))
        .collect();
    let parts_out = {
        let fixed_parts = split_parts(&patched);
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let original = p.normalized();
                let fixed = match fixed_parts.get(i).filter(|q| q.input == p.input) {
                    Some(q) if q.text != p.text => q.normalized(),
                    _ => original.clone(),
                };
                FixedFile {
                    name: p.name.to_string(),
                    original,
                    fixed,
                }
            })
            .collect()
    };
    let files: Vec<FixedFile> = inputs
        .iter()
        .zip(patched)
        .map(|(i, f)| FixedFile {
            name: f.name,
            original: i.text.clone(),
            fixed: f.text,
        })
        .collect();
    Ok(FixPlan {
        report,
        fixed,
        manual,
        files,
        parts: parts_out,
    })
}

fn fixed_id(fixed: &[Fixed], i: usize) -> &str {
    fixed.get(i).map(|f| f.id.as_str()).unwrap_or("?")
}

/// An input as lines (each with its own line end), and the changes to it.
struct Doc<'a> {
    /// The input's text, which `lines` cut up.
    text: &'a str,
    lines: Vec<&'a str>,
    newline: &'static str,
    /// (first line, end line exclusive) → replacement lines (no line ends).
    ops: BTreeMap<(usize, usize), Vec<String>>,
}

impl<'a> Doc<'a> {
    fn new(text: &'a str) -> Doc<'a> {
        // Sized first: grown by doubling, the vector was copied over and over.
        let mut lines: Vec<&str> =
            Vec::with_capacity(memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1);
        lines.extend(lines_inclusive(text));
        let newline = if lines.first().is_some_and(|l| l.ends_with("\r\n")) {
            "\r\n"
        } else {
            "\n"
        };
        Doc {
            text,
            lines,
            newline,
            ops: BTreeMap::new(),
        }
    }

    /// The text of line `i` without its line end.
    fn line(&self, i: usize) -> &str {
        self.lines
            .get(i)
            .map(|l| l.trim_end_matches(['\n', '\r']))
            .unwrap_or("")
    }

    /// Schedules a replacement; false when it overlaps another.
    fn replace(&mut self, start: usize, end: usize, with: Vec<String>) -> bool {
        let overlaps = self.ops.keys().any(|&(s, e)| match (start == end, s == e) {
            // Two insertions at one place, or one inside a replacement.
            (true, true) => s == start,
            (true, false) => s < start && start < e,
            (false, true) => start < s && s < end,
            (false, false) => start < e && s < end,
        });
        if overlaps {
            return false;
        }
        self.ops.insert((start, end), with);
        true
    }

    fn text(&self) -> String {
        // Unchanged (most inputs of a paste, and every one without a
        // fix): the text itself, in one copy rather than line by line.
        if self.ops.is_empty() {
            return self.text.to_string();
        }
        let added: usize = self
            .ops
            .values()
            .flatten()
            .map(|l| l.len() + self.newline.len())
            .sum();
        let mut out = String::with_capacity(self.text.len() + added + self.newline.len());
        let mut i = 0;
        for (&(s, e), with) in &self.ops {
            while i < s {
                out.push_str(self.lines[i]);
                i += 1;
            }
            if !with.is_empty() && !out.is_empty() && !out.ends_with('\n') {
                out.push_str(self.newline);
            }
            for l in with {
                out.push_str(l);
                out.push_str(self.newline);
            }
            i = i.max(e);
        }
        while i < self.lines.len() {
            out.push_str(self.lines[i]);
            i += 1;
        }
        out
    }
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// The last line index of the logical line that starts at `start`: the
/// last continuation line before the next line that starts one.
fn logical_end(doc: &Doc, start: usize, end: usize) -> usize {
    let mut last = start;
    for i in start + 1..end {
        let l = doc.line(i);
        if is_blank_or_comment(l) {
            continue;
        }
        if l.starts_with(char::is_whitespace) {
            last = i;
        } else {
            break;
        }
    }
    last
}

/// Where a part's source line is in its input: (input, line index, end of
/// the part there).
fn locate(parts: &[Part], source: &Source) -> Option<(usize, usize, usize)> {
    let p = parts.get(source.part)?;
    let line = usize::try_from(source.line).ok()?.checked_sub(1)?;
    Some((p.input, p.start + line, p.start + p.lines))
}

/// Applies the edits; returns those that could not be applied, and why.
fn apply(
    cfg: &Config,
    parts: &[Part],
    docs: &mut [Doc],
    edits: &[(Edit, Vec<usize>)],
) -> Vec<(Edit, String)> {
    let mut failed = Vec::new();
    // Appends to main.cf, per input: (position, lines).
    let mut appends: BTreeMap<usize, (usize, Vec<String>, Vec<Edit>)> = BTreeMap::new();
    // master.cf entries to rewrite: (service, kind) → edits.
    let mut entries: Vec<((String, String), Vec<Edit>)> = Vec::new();
    let main_part = main_part(cfg, parts);
    for (e, _) in edits {
        match e {
            Edit::SetMain {
                name,
                value,
                comment,
            } => {
                let mut new = Vec::new();
                if let Some(c) = comment {
                    new.push(format!("# {c}"));
                }
                new.push(main_line(name, value));
                match cfg.main(name).and_then(|p| locate(parts, &p.source)) {
                    Some((input, line, end)) => {
                        if !replace_logical(&mut docs[input], line, end, new) {
                            failed.push((e.clone(), format!("{name} overlaps another change")));
                        }
                    }
                    None => match main_part {
                        Some(p) => {
                            let part = &parts[p];
                            let at = append_point(&docs[part.input], part);
                            let slot = appends
                                .entry(part.input)
                                .or_insert_with(|| (at, Vec::new(), Vec::new()));
                            slot.1.extend(new);
                            slot.2.push(e.clone());
                        }
                        None => failed.push((
                            e.clone(),
                            format!("main.cf was not given, so {name} could not be set there"),
                        )),
                    },
                }
            }
            Edit::RemoveMain { name } => {
                for p in cfg.params.iter().filter(|p| &p.name == name) {
                    let Some((input, line, end)) = locate(parts, &p.source) else {
                        continue;
                    };
                    let doc = &mut docs[input];
                    let last = logical_end(doc, line, end);
                    let new: Vec<String> = (line..=last)
                        .map(|i| {
                            let l = doc.line(i);
                            if is_blank_or_comment(l) {
                                l.to_string()
                            } else {
                                format!("# removed by mailaudit --fix: {}", l.trim())
                            }
                        })
                        .collect();
                    if !doc.replace(line, last + 1, new) {
                        failed.push((e.clone(), format!("{name} overlaps another change")));
                    }
                }
            }
            Edit::SetServiceOption {
                service,
                kind,
                name,
                value,
            } => {
                let svc = cfg
                    .services
                    .iter()
                    .rev()
                    .find(|s| &s.name == service && &s.kind == kind && s.source.line > 0);
                let Some(svc) = svc else {
                    failed.push((
                        e.clone(),
                        format!("master.cf with the {service} service was not given"),
                    ));
                    continue;
                };
                // A `postconf -P` line for the name wins over the entry's
                // own options: replace that line.
                let entry = locate(parts, &svc.source);
                let p_line = svc.overrides.iter().rev().find(|p| {
                    &p.name == name
                        && locate(parts, &p.source).is_some_and(|(i, l, _)| {
                            entry.is_none_or(|(ei, el, eend)| {
                                i != ei || l < el || l > logical_end(&docs[ei], el, eend)
                            })
                        })
                });
                if let Some(p) = p_line {
                    if let Some((input, line, end)) = locate(parts, &p.source) {
                        let new = vec![format!("{service}/{kind}/{name} = {value}")];
                        if !replace_logical(&mut docs[input], line, end, new) {
                            failed.push((e.clone(), format!("{name} overlaps another change")));
                        }
                    }
                    continue;
                }
                let key = (service.clone(), kind.clone());
                match entries.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, v)) => v.push(e.clone()),
                    None => entries.push((key, vec![e.clone()])),
                }
            }
        }
    }
    for ((service, kind), es) in entries {
        let svc = cfg
            .services
            .iter()
            .rev()
            .find(|s| s.name == service && s.kind == kind && s.source.line > 0);
        let located = svc.and_then(|s| locate(parts, &s.source));
        let Some((input, line, end)) = located else {
            for e in es {
                failed.push((e, format!("the {service} service could not be found")));
            }
            continue;
        };
        let doc = &mut docs[input];
        let last = logical_end(doc, line, end);
        let sets: Vec<(&str, &str)> = es
            .iter()
            .filter_map(|e| match e {
                Edit::SetServiceOption { name, value, .. } => Some((name.as_str(), value.as_str())),
                _ => None,
            })
            .collect();
        let new = rewrite_entry(doc, line, last, &sets);
        if !doc.replace(line, last + 1, new) {
            for e in es {
                failed.push((e, format!("the {service} service overlaps another change")));
            }
        }
    }
    for (input, (at, mut lines, es)) in appends {
        let doc = &mut docs[input];
        let mut block = Vec::new();
        if at > 0 && !doc.line(at - 1).trim().is_empty() {
            block.push(String::new());
        }
        block.push(ADDED_COMMENT.to_string());
        block.append(&mut lines);
        if !doc.replace(at, at, block) {
            for e in es {
                failed.push((e, "the end of main.cf overlaps another change".into()));
            }
        }
    }
    failed
}

/// Replaces the logical line at `line` (continuations included; comment
/// and blank lines inside it are kept, after the new lines).
fn replace_logical(doc: &mut Doc, line: usize, end: usize, mut new: Vec<String>) -> bool {
    let last = logical_end(doc, line, end);
    for i in line + 1..=last {
        let l = doc.line(i);
        if is_blank_or_comment(l) {
            new.push(l.to_string());
        }
    }
    doc.replace(line, last + 1, new)
}

/// The part that holds main.cf: the one with most main.cf parameters.
fn main_part(cfg: &Config, parts: &[Part]) -> Option<usize> {
    let mut count = vec![0usize; parts.len()];
    for p in &cfg.params {
        if let Some(c) = count.get_mut(p.source.part) {
            *c += 1;
        }
    }
    let best = (0..parts.len()).max_by_key(|&i| (count[i], std::cmp::Reverse(i)))?;
    (count[best] > 0).then_some(best)
}

/// After the last non-blank line of a part.
fn append_point(doc: &Doc, part: &Part) -> usize {
    let end = part.start + part.lines;
    let mut at = end.min(doc.lines.len());
    while at > part.start && doc.line(at - 1).trim().is_empty() {
        at -= 1;
    }
    at
}

/// Splits at white space, keeping `{ ... }` groups whole (as master.cf is
/// read); returns byte ranges.
fn token_ranges(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut level = 0usize;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() && level == 0 {
            if let Some(st) = start.take() {
                out.push((st, i));
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        match c {
            '{' => level += 1,
            '}' => level = level.saturating_sub(1),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
    }
    out
}

/// A master.cf service entry (lines `first..=last`) with the `-o` options
/// named in `sets` removed and set anew at its end.
fn rewrite_entry(doc: &Doc, first: usize, last: usize, sets: &[(&str, &str)]) -> Vec<String> {
    // The entry's logical line, as Postfix joins it, with where each
    // physical line sits in it.
    let mut joined = String::new();
    let mut segs: Vec<(usize, usize, usize)> = Vec::new(); // (line, from, to)
    for i in first..=last {
        let l = doc.line(i);
        if is_blank_or_comment(l) {
            continue;
        }
        let from = joined.len();
        joined.push_str(l);
        segs.push((i, from, joined.len()));
    }
    let toks = token_ranges(&joined);
    let mut remove: Vec<(usize, usize)> = Vec::new();
    let mut k = 8;
    while k < toks.len() {
        let (a, b) = toks[k];
        let t = &joined[a..b];
        let (value, end) = if t == "-o" {
            match toks.get(k + 1) {
                Some(&(va, vb)) => {
                    k += 1;
                    (&joined[va..vb], vb)
                }
                None => break,
            }
        } else if let Some(v) = t.strip_prefix("-o") {
            (v, b)
        } else {
            k += 1;
            continue;
        };
        k += 1;
        let name = strip_braces(value)
            .split_once('=')
            .map(|(n, _)| n.trim())
            .unwrap_or("");
        if sets.iter().any(|(n, _)| *n == name) {
            remove.push((a, end));
        }
    }
    let mut indent = None;
    let mut out = Vec::new();
    for i in first..=last {
        let l = doc.line(i);
        let Some(&(_, from, to)) = segs.iter().find(|s| s.0 == i) else {
            out.push(l.to_string());
            continue;
        };
        if i > first && indent.is_none() {
            indent = Some(l[..l.len() - l.trim_start().len()].to_string());
        }
        let mut kept = String::new();
        let mut pos = from;
        for &(a, b) in &remove {
            let (a, b) = (a.max(from), b.min(to));
            if a >= b || a < pos {
                continue;
            }
            // Drop the white space on one side too, never the indentation
            // that makes a continuation line.
            let before = &joined[pos..a];
            let (cut_a, cut_b) = if joined[from..a].trim().is_empty() {
                let rest = &joined[b..to];
                (a, b + (rest.len() - rest.trim_start().len()))
            } else {
                (pos + before.trim_end().len(), b)
            };
            kept.push_str(&joined[pos..cut_a]);
            pos = cut_b;
        }
        kept.push_str(&joined[pos..to]);
        if i == first || !kept.trim().is_empty() {
            out.push(kept.trim_end().to_string());
        }
    }
    // Comments and blank lines at the end of the entry stay after it.
    let trailing = out
        .iter()
        .rev()
        .take_while(|l| is_blank_or_comment(l))
        .count();
    let tail = out.split_off(out.len() - trailing);
    let indent = indent.unwrap_or_else(|| "  ".into());
    for (n, v) in sets {
        out.push(format!("{indent}{}", master_option(n, v)));
    }
    out.extend(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::split_files;

    fn plan(files: &[(&str, &str)], version: Option<&str>) -> FixPlan {
        let inputs: Vec<Input> = files.iter().map(|(n, t)| Input::new(*n, *t)).collect();
        fix(
            &inputs,
            &ConfigOptions {
                assume_version: version.map(str::to_string),
                now: "2026-01-01T00:00:00Z".into(),
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn parts_match_split_files() {
        for text in [
            "a = b\n",
            "# file: main.cf\na = b\n\n#file:master.cf\nsmtp inet n - y - - smtpd\n",
            "\n\n# file: x\n\n# file: y\na = 1\r\nb = 2\n# file: z\n",
            "a = 1\n# file:\nb = 2",
            "a = 1\r\n# file: m\r\nb = 2\r\r\n\r\n# file: n",
        ] {
            let inputs = [Input::new("in", text), Input::new("two", "c = 3\n")];
            let want = split_files(&inputs);
            let got = split_parts(&inputs);
            assert_eq!(got.len(), want.len(), "{text:?}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!((g.name, g.normalized()), (w.name.as_str(), w.text.clone()));
                let lines: Vec<&str> = inputs[g.input].text.lines().collect();
                assert_eq!(g.text.lines().count(), g.lines);
                assert_eq!(
                    g.text.lines().collect::<Vec<_>>(),
                    lines[g.start..g.start + g.lines]
                );
            }
        }
    }

    #[test]
    fn master_options_need_no_white_space() {
        assert_eq!(master_option("a", "yes"), "-o a=yes");
        assert_eq!(master_option("a", "x, y,z"), "-o a=x,y,z");
        assert_eq!(
            master_option("a", "$myhostname ESMTP"),
            "-o { a = $myhostname ESMTP }"
        );
    }

    #[test]
    fn main_cf_replaced_in_place_with_continuations() {
        let main = "disable_vrfy_command = no\nsmtpd_banner = $myhostname\n  ESMTP $mail_name\n# keep me\n  (Debian)\nbiff = no\n";
        let p = plan(&[("main.cf", main)], None);
        let fixed = &p.files[0].fixed;
        assert!(fixed.starts_with("disable_vrfy_command = yes\nsmtpd_banner = $myhostname ESMTP\n# keep me\nbiff = no\n"), "{fixed}");
        assert!(fixed.contains(ADDED_COMMENT));
        let d = p.diff();
        assert!(d.starts_with("--- a/main.cf\n+++ b/main.cf\n"), "{d}");
        assert!(d.contains("-  ESMTP $mail_name\n"));
    }

    #[test]
    fn last_definition_is_the_one_changed() {
        let main = "disable_vrfy_command = yes\ndisable_vrfy_command = no\n";
        let p = plan(&[("main.cf", main)], None);
        assert!(p.files[0]
            .fixed
            .starts_with("disable_vrfy_command = yes\ndisable_vrfy_command = yes\n"));
    }

    #[test]
    fn master_cf_entry_rewritten() {
        let master = "smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd -o smtpd_tls_security_level=may -o syslog_name=sub\n  -o { smtpd_tls_security_level =\n     may }\n  -o smtpd_sasl_auth_enable=yes\n# after\npickup unix n - y 60 1 pickup\n";
        let p = plan(
            &[
                ("main.cf", "smtpd_tls_auth_only = yes\n"),
                ("master.cf", master),
            ],
            None,
        );
        let fixed = &p.files[1].fixed;
        assert!(
            fixed.contains("submission inet n - y - - smtpd -o syslog_name=sub\n  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_security_level=encrypt\n# after\npickup"),
            "{fixed}"
        );
        assert!(p
            .fixed
            .iter()
            .any(|f| f.id == "postfix.submission_plaintext"));
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        let p = plan(
            &[("main.cf", "biff = no\r\ndisable_vrfy_command = no")],
            None,
        );
        let f = &p.files[0].fixed;
        assert!(
            f.starts_with("biff = no\r\ndisable_vrfy_command = yes\r\n"),
            "{f:?}"
        );
        assert!(f.contains("\r\n# added by mailaudit --fix\r\n"));
    }

    #[test]
    fn master_cf_alone_leaves_main_cf_settings_to_the_admin() {
        let p = plan(&[("master.cf", "smtp inet n - y - - smtpd\n")], None);
        assert!(p.fixed.iter().all(|f| f
            .remedy
            .edits
            .iter()
            .all(|e| matches!(e, Edit::SetServiceOption { .. }))));
        let m = p
            .manual
            .iter()
            .find(|m| m.id == "postfix.vrfy_enabled")
            .unwrap();
        assert!(m.reason.contains("main.cf was not given"), "{}", m.reason);
        assert!(!p.files[0].changed());
    }
}
