//! mailaudit's website, second WebAssembly module: the offline analysers.
//!
//! The landing page, the domain audit and the widget run the first module
//! (`mailaudit-frontend`), which holds no analyser: the config analysers,
//! the mail-log analyser and the fixed-file diff (`similar`) are half the
//! engine's size and only the paste and logs tabs use them. The page loads
//! this module when the paste tab is first opened (`static/boot.js`,
//! `mailauditOffline()`), and the logs tab's Web Worker
//! (`static/logs-worker.js`) loads only this one.
//!
//! The page and this module exchange JSON ([`wire`]); nothing here makes a
//! request: the pasted text and the log files never leave the browser.

pub mod samples;
pub mod wire;

use mailaudit_core::config::{
    fix, ConfigError, ConfigOptions, FixPlan, FixedFile, Input, Software,
};
use mailaudit_core::logs::{LogAnalyzer, LogOptions};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wire::{Download, LogOutcome, Manual, PasteOutcome};

/// Bytes of a log file read at a time.
pub const CHUNK: f64 = 4.0 * 1024.0 * 1024.0;

fn explain(e: &ConfigError) -> String {
    match e {
        ConfigError::Empty => {
            "Nothing to analyse: paste a configuration into the box first.".into()
        }
        ConfigError::Unrecognised => format!(
            "The text was not recognised as a supported configuration. Supported: {}. \
             If it is one of those, choose its software under Software to force it.",
            wire::formats_list()
        ),
        other => other.to_string(),
    }
}

/// A file name safe to offer for download: the last path component, only
/// plain characters; a paste without `# file:` headers is named by what it
/// holds.
pub fn download_name(f: &FixedFile) -> String {
    let base = f.name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let clean = clean.trim_start_matches('.');
    if !clean.is_empty() && clean != "pasted" && clean != "stdin" {
        return clean.to_string();
    }
    // master.cf lines have eight fields with a service type second.
    let is_master = f.original.lines().any(|l| {
        let fields: Vec<&str> = l.split_whitespace().collect();
        !l.starts_with(char::is_whitespace)
            && fields.len() >= 8
            && ["inet", "unix", "fifo", "pass", "unix-dgram"].contains(&fields[1])
    });
    if is_master { "master.cf" } else { "main.cf" }.to_string()
}

/// The page's view of a fix plan: changed files named for download (a
/// name given twice gets a `fixed-` prefix) and their diff.
pub fn outcome(plan: FixPlan) -> PasteOutcome {
    let mut used: Vec<String> = Vec::new();
    let files: Vec<FixedFile> = plan
        .parts
        .iter()
        .filter(|f| f.changed())
        .map(|f| {
            let mut name = download_name(f);
            while used.contains(&name) {
                name = format!("fixed-{name}");
            }
            used.push(name.clone());
            FixedFile { name, ..f.clone() }
        })
        .collect();
    PasteOutcome {
        fixed: plan.fixed.len(),
        diff: files.iter().map(FixedFile::diff).collect(),
        files: files
            .into_iter()
            .map(|f| Download {
                name: f.name,
                text: f.fixed,
            })
            .collect(),
        manual: plan
            .manual
            .into_iter()
            .map(|m| Manual {
                id: m.id,
                status: m.status,
            })
            .collect(),
        report: plan.report,
    }
}

/// Analyses a pasted text (`software`: a [`Software`] name, or anything
/// else to detect it; `version`: empty for none; `now`: RFC 3339) and
/// returns `{"Ok": PasteOutcome}` or `{"Err": message}` as JSON.
#[wasm_bindgen]
pub fn analyse_config(text: &str, software: &str, version: &str, now: &str) -> String {
    let opts = ConfigOptions {
        software: Software::parse(software),
        assume_version: Some(version.trim().to_string()).filter(|v| !v.is_empty()),
        now: now.to_string(),
        ..Default::default()
    };
    let result: Result<PasteOutcome, String> = fix(&[Input::new("pasted", text)], &opts)
        .map(outcome)
        .map_err(|e| explain(&e));
    serde_json::to_string(&result)
        .unwrap_or_else(|e| format!("{{\"Err\":\"the analysis could not be encoded: {e}\"}}"))
}

/// The text of a sample (`which`: `weak` or `hardened`) for the paste tab;
/// empty for a software without one.
#[wasm_bindgen]
pub fn sample(software: &str, which: &str) -> String {
    Software::parse(software)
        .and_then(|s| samples::sample(s, which == "hardened"))
        .unwrap_or_default()
        .to_string()
}

// ------------------------------------------------------------ DMARC reports

/// A batch of DMARC aggregate report files for the "DMARC reports" tab: the
/// page feeds the files one by one (so its progress bar moves) and gets the
/// [`mailaudit_core::dmarcrep::Analysis`] as JSON. The parser (XML, gzip,
/// zip) lives here, not in the page's first module.
#[wasm_bindgen]
pub struct DmarcBatch(Option<mailaudit_core::dmarcrep::Batch>);

#[wasm_bindgen]
impl DmarcBatch {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> DmarcBatch {
        DmarcBatch(Some(mailaudit_core::dmarcrep::Batch::new()))
    }

    /// One file's bytes, as read (`.xml`, `.xml.gz`, `.zip`).
    pub fn add(&mut self, name: &str, bytes: &[u8]) {
        if let Some(b) = self.0.as_mut() {
            b.add(name, bytes);
        }
    }

    /// Judges the batch (`domain`, `record`: empty for none; `now`: RFC
    /// 3339) and returns the analysis as JSON; the batch is then empty.
    pub fn finish(&mut self, domain: &str, record: &str, now: &str) -> String {
        let opts = mailaudit_core::dmarcrep::Options {
            domain: Some(domain.trim().to_string()).filter(|d| !d.is_empty()),
            record: Some(record.trim().to_string()).filter(|r| !r.is_empty()),
            now: now.to_string(),
        };
        let analysis = self.0.take().unwrap_or_default().finish(&opts);
        serde_json::to_string(&analysis).unwrap_or_default()
    }
}

// ------------------------------------------------------------ logs worker

fn set(obj: &js_sys::Object, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), value);
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn message(kind: &str) -> js_sys::Object {
    let o = js_sys::Object::new();
    set(&o, "type", &JsValue::from_str(kind));
    o
}

/// Runs in the logs tab's Web Worker (`static/logs-worker.js`): answers
/// `{files, now}` messages with `progress` messages and then `done` (the
/// [`LogOutcome`] as JSON) or `error`. Posts `ready` once listening.
///
/// Each `File` is read with `Blob.slice` in [`CHUNK`] pieces
/// (`FileReaderSync`) and fed to `mailaudit_core::logs::LogAnalyzer`, so a
/// 200 MB log never sits in memory whole.
#[wasm_bindgen]
pub fn logs_worker() {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Err(why) = run_job(&reply, &e.data()) {
                let m = message("error");
                set(&m, "message", &JsValue::from_str(&why));
                let _ = reply.post_message(&m);
            }
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let _ = scope.post_message(&message("ready"));
}

fn run_job(scope: &web_sys::DedicatedWorkerGlobalScope, data: &JsValue) -> Result<(), String> {
    let files: js_sys::Array = get(data, "files")
        .dyn_into()
        .map_err(|_| "no files were given".to_string())?;
    let now = get(data, "now").as_string().unwrap_or_default();
    let files: Vec<web_sys::File> = files
        .iter()
        .filter_map(|f| f.dyn_into::<web_sys::File>().ok())
        .collect();
    if files.is_empty() {
        return Err("no files were given".into());
    }
    let clock = scope.performance();
    let started = clock.as_ref().map(|p| p.now()).unwrap_or(0.0);
    let total: f64 = files.iter().map(|f| f.size()).sum();
    let reader = web_sys::FileReaderSync::new().map_err(|_| "FileReaderSync is not available")?;
    let mut analyzer = LogAnalyzer::new(LogOptions {
        now,
        ..Default::default()
    });
    let mut done = 0.0;
    for f in &files {
        analyzer.begin_file(&f.name());
        let size = f.size();
        let mut offset = 0.0;
        while offset < size {
            let end = (offset + CHUNK).min(size);
            let blob = f
                .slice_with_f64_and_f64(offset, end)
                .map_err(|_| format!("cannot read {}", f.name()))?;
            let buf = reader
                .read_as_array_buffer(&blob)
                .map_err(|_| format!("cannot read {}", f.name()))?;
            analyzer.feed(&js_sys::Uint8Array::new(&buf).to_vec());
            done += end - offset;
            offset = end;
            let m = message("progress");
            set(&m, "done", &JsValue::from_f64(done));
            set(&m, "total", &JsValue::from_f64(total));
            set(&m, "lines", &JsValue::from_f64(analyzer.lines() as f64));
            let _ = scope.post_message(&m);
        }
    }
    let names = files
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ");
    let (report, stats) = analyzer.finish_report(&names);
    let json = serde_json::to_string(&LogOutcome { report, stats }).map_err(|e| e.to_string())?;
    let m = message("done");
    set(&m, "json", &JsValue::from_str(&json));
    let took = clock.map(|p| p.now()).unwrap_or(0.0) - started;
    set(&m, "ms", &JsValue::from_f64(took));
    scope
        .post_message(&m)
        .map_err(|_| "cannot post the result".to_string())
}
