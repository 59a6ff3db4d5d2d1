//! "Paste a configuration": the engine runs here, in WebAssembly, in the
//! second module (the offline analysers, [`crate::offline`]), loaded when
//! this tab is first opened. No request is made with the paste: the text
//! never leaves the page, and the fixed files it offers for download are
//! made here too.

use crate::clock::{now_ms, now_rfc3339};
use crate::offline;
use crate::report::{ErrorBox, FixDownloads, ReportView};
use crate::wire::{formats_list, PasteOutcome, SAMPLES};
use mailaudit_core::config::Software;
use mailaudit_core::report::Report;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// The most text the box analyses, in UTF-16 code units (the browser's
/// `textLength`; about as many bytes for configuration text). The analysis
/// runs on the page's thread: about 50 ms per 400 KB of configuration
/// (BENCHMARKS.md), so this keeps the page answering within a few hundred
/// ms. Bigger pastes are refused before the text is ever copied into the
/// engine: at that rate 50 MB would hold the page's thread for several
/// seconds (an extrapolation, not measured), and the box would hold it all;
/// the message says what to do instead.
pub const MAX_PASTE: u32 = 2_000_000;

/// Why a paste of `len` code units is not analysed, and what to do instead.
fn too_large(len: u32) -> String {
    format!(
        "The text is {:.1} MB: this box analyses up to {} MB in your browser, which is more than \
         any configuration needs. For a mail log, use the \u{201c}Analyse mail logs\u{201d} tab: it reads \
         files of any size in a background worker. For a configuration, paste only the files that \
         matter (e.g. main.cf and master.cf), or run `mailaudit config FILE…` on the server.",
        f64::from(len) / 1_000_000.0,
        MAX_PASTE / 1_000_000
    )
}

/// The length of a paste event's text, without copying it into wasm.
fn pasted_len(e: &Event) -> Option<u32> {
    use wasm_bindgen::JsCast;
    let data = e.dyn_ref::<web_sys::ClipboardEvent>()?.clipboard_data()?;
    let get = js_sys::Reflect::get(&data, &"getData".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let text = get.call1(&data, &"text/plain".into()).ok()?;
    Some(text.dyn_ref::<js_sys::JsString>()?.length())
}

#[derive(Clone, PartialEq)]
enum State {
    Idle,
    Working,
    /// The outcome, how long the analysis took (ms, from
    /// `performance.now()`, the module already loaded), and which sample
    /// was analysed (`exim-hardened`), or `pasted`.
    Done(Rc<PasteOutcome>, Took, String),
    Failed(String),
}

/// How long an analysis took in the page (ms, `performance.now()`): `all`
/// (`data-analysis-ms`) is `engine`, the offline module's call (the text
/// copied in, split, detection, the analysers, the fix plan, the answer as
/// JSON and that string copied out), plus `decode`, the answer read back
/// by this module. Rendering is after both, outside.
#[derive(Clone, Copy, PartialEq)]
struct Took {
    all: f64,
    engine: f64,
    decode: f64,
}

/// The report of an outcome, for the report view.
fn report_of(o: &PasteOutcome) -> Rc<Report> {
    Rc::new(o.report.clone())
}

/// The form's fields.
#[derive(Clone)]
struct Form {
    text: NodeRef,
    software: NodeRef,
    version: NodeRef,
}

impl Form {
    fn value(node: &NodeRef) -> String {
        if let Some(t) = node.cast::<web_sys::HtmlTextAreaElement>() {
            return t.value();
        }
        if let Some(s) = node.cast::<web_sys::HtmlSelectElement>() {
            return s.value();
        }
        node.cast::<web_sys::HtmlInputElement>()
            .map(|i| i.value())
            .unwrap_or_default()
    }
}

/// Loads the analysers if needed, fills in a sample when one was asked
/// for, and analyses the box's text.
async fn analyse(form: Form, sample: Option<(Software, &'static str)>) -> State {
    let module = match offline::module().await {
        Ok(m) => m,
        Err(e) => return State::Failed(e),
    };
    if let Some((software, which)) = sample {
        match offline::call(&module, "sample", &[software.name(), which]) {
            Ok(text) => {
                if let Some(t) = form.text.cast::<web_sys::HtmlTextAreaElement>() {
                    t.set_value(&text);
                }
                if let Some(s) = form.software.cast::<web_sys::HtmlSelectElement>() {
                    s.set_value("auto");
                }
            }
            Err(e) => return State::Failed(e),
        }
    }
    // Measured before the text is read: reading it copies it into wasm.
    let len = form
        .text
        .cast::<web_sys::HtmlTextAreaElement>()
        .map_or(0, |t| t.text_length());
    if len > MAX_PASTE {
        return State::Failed(too_large(len));
    }
    let text = Form::value(&form.text);
    let software = Form::value(&form.software);
    let version = Form::value(&form.version);
    let started = now_ms();
    let mut called = started;
    let answer = offline::call(
        &module,
        "analyse_config",
        &[&text, &software, &version, &now_rfc3339()],
    )
    .and_then(|json| {
        called = now_ms();
        serde_json::from_str::<Result<PasteOutcome, String>>(&json)
            .map_err(|e| format!("unreadable answer from the analysers: {e}"))
    });
    let ended = now_ms();
    let took = Took {
        all: ended - started,
        engine: called - started,
        decode: ended - called,
    };
    let source = sample.map_or("pasted".to_string(), |(software, which)| {
        format!("{}-{which}", software.name())
    });
    match answer {
        Ok(Ok(outcome)) => State::Done(Rc::new(outcome), took, source),
        Ok(Err(message)) | Err(message) => State::Failed(message),
    }
}

#[function_component(PastePanel)]
pub fn paste_panel() -> Html {
    let state = use_state(|| State::Idle);
    let form = Form {
        text: use_node_ref(),
        software: use_node_ref(),
        version: use_node_ref(),
    };

    let start = {
        let state = state.clone();
        let form = form.clone();
        move |sample: Option<(Software, &'static str)>| {
            let state = state.clone();
            let form = form.clone();
            state.set(State::Working);
            spawn_local(async move { state.set(analyse(form, sample).await) });
        }
    };

    // A paste too large for the box is refused before the browser puts it
    // in the box (laying out 50 MB of text in a textarea alone stalls the
    // page); the message says where such input goes.
    let onpaste = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            if let Some(len) = pasted_len(&e).filter(|l| *l > MAX_PASTE) {
                e.prevent_default();
                state.set(State::Failed(too_large(len)));
            }
        })
    };

    let onanalyse = {
        let start = start.clone();
        Callback::from(move |_: MouseEvent| start(None))
    };

    // One click to see what the tool finds: fill in a sample and analyse it.
    let samples = SAMPLES.iter().map(|&software| {
        let button = |which: &'static str| {
            let start = start.clone();
            let onclick = Callback::from(move |_: MouseEvent| start(Some((software, which))));
            html! {
                <button type="button" class="secondary small" {onclick}
                        aria-label={format!("Load the {which} {} example", software.title())}>
                    { which }
                </button>
            }
        };
        html! {
            <li>
                <span class="sample-name">{ software.title() }</span>
                { button("weak") }
                { button("hardened") }
            </li>
        }
    });

    let results = match &*state {
        State::Idle => html! {},
        State::Working => html! { <p class="timing" role="status">{ "Analysing…" }</p> },
        State::Done(outcome, took, source) => html! {
            <div class="paste-done" data-analysis-ms={format!("{:.1}", took.all)}
                data-engine-ms={format!("{:.1}", took.engine)} data-decode-ms={format!("{:.1}", took.decode)}
                data-source={source.clone()}>
                <p class="timing">{ format!("Analysed in your browser in {:.0} ms.", took.all) }</p>
                <FixDownloads plan={outcome.clone()} />
                <ReportView report={report_of(outcome)} scope="paste" />
            </div>
        },
        State::Failed(message) => html! { <ErrorBox message={message.clone()} /> },
    };

    html! {
        <>
            <div class="card form">
                <label for="config">{ "Configuration" }</label>
                <p class="hint" id="config-hint">
                    { format!("Paste any of: {}. Several files can be pasted together, one after \
                       another or each starting with a line # file: NAME; each part is recognised \
                       and analysed on its own.", formats_list()) }
                </p>
                <textarea
                    id="config"
                    name="config"
                    ref={form.text.clone()}
                    rows="14"
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="none"
                    aria-describedby="config-hint privacy-note"
                    placeholder="mynetworks = 127.0.0.0/8 …"
                    {onpaste}
                />
                <div class="row controls">
                    <div class="field-inline">
                        <label for="software">{ "Software" }</label>
                        <select id="software" name="software" ref={form.software.clone()}>
                            <option value="auto" selected=true>{ "Auto-detect" }</option>
                            { for Software::ALL.iter().map(|s| html! {
                                <option value={s.name()}>{ s.title() }</option>
                            }) }
                        </select>
                        <label for="version">{ "Version" }</label>
                        <input
                            id="version"
                            name="version"
                            ref={form.version.clone()}
                            type="text"
                            size="9"
                            spellcheck="false"
                            autocomplete="off"
                            placeholder="e.g. 3.7.11"
                            aria-describedby="version-hint"
                        />
                        <span class="visually-hidden" id="version-hint">
                            { "The release whose defaults apply (postconf mail_version); empty: mail_version in the paste, else the current stable release." }
                        </span>
                    </div>
                    <button type="button" class="primary" onclick={onanalyse}>{ "Analyse" }</button>
                </div>
                <div class="samples">
                    <span class="samples-title" id="samples-title">{ "Examples, analysed at once:" }</span>
                    <ul class="sample-list" aria-labelledby="samples-title">{ for samples }</ul>
                </div>
                <p class="privacy" id="privacy-note">
                    { "Analysed in your browser: nothing you paste leaves this page." }
                </p>
            </div>
            <div class="results" id="paste-results" aria-live="polite">
                { results }
            </div>
        </>
    }
}
