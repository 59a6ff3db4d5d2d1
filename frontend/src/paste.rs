//! "Paste a configuration": the engine runs here, in WebAssembly. No request
//! is made: the pasted text never leaves the page, and the fixed files it
//! offers for download are made here too.

use crate::report::{ErrorBox, FixDownloads, ReportView};
use mailaudit_core::config::{fix, ConfigError, ConfigOptions, FixPlan, Input, Software};
use mailaudit_core::report::Report;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
enum State {
    Idle,
    /// The report, the fix computed with it, and how long the engine took
    /// (ms, from `performance.now()`).
    Done(Rc<FixPlan>, f64),
    Failed(String),
}

/// Milliseconds from the page's clock (`performance.now()`).
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// The current time as RFC 3339 without fractional seconds
/// (`2026-11-29T07:00:00Z`): the engine never reads a clock.
fn now_rfc3339() -> String {
    let iso: String = js_sys::Date::new_0().to_iso_string().into();
    match iso.find('.') {
        Some(dot) if iso.ends_with('Z') => format!("{}Z", &iso[..dot]),
        _ => iso,
    }
}

fn explain(e: &ConfigError) -> String {
    match e {
        ConfigError::Empty => {
            "Nothing to analyse: paste a configuration into the box first.".into()
        }
        ConfigError::Unrecognised => format!(
            "The text was not recognised as a supported configuration. Supported: {}. \
             If it is one of those, choose its software under Software to force it.",
            supported_list()
        ),
        other => other.to_string(),
    }
}

/// The supported formats, for the hint.
fn supported_list() -> String {
    mailaudit_core::config::supported()
        .map(Software::formats)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs the engine: the report and the fixed files in one call.
pub fn run_analysis(
    text: &str,
    software: Option<Software>,
    version: Option<String>,
) -> Result<FixPlan, String> {
    let opts = ConfigOptions {
        software,
        assume_version: version,
        now: now_rfc3339(),
        ..Default::default()
    };
    fix(&[Input::new("pasted", text)], &opts).map_err(|e| explain(&e))
}

/// The report of a plan, for the report view.
fn report_of(plan: &FixPlan) -> Rc<Report> {
    Rc::new(plan.report.clone())
}

#[function_component(PastePanel)]
pub fn paste_panel() -> Html {
    let state = use_state(|| State::Idle);
    let textarea = use_node_ref();
    let software = use_node_ref();
    let version = use_node_ref();

    // Reads the form and runs the engine, synchronously, in this page.
    let analyse = {
        let state = state.clone();
        let textarea = textarea.clone();
        let software = software.clone();
        let version = version.clone();
        Rc::new(move || {
            let text = textarea
                .cast::<web_sys::HtmlTextAreaElement>()
                .map(|t| t.value())
                .unwrap_or_default();
            let forced = software
                .cast::<web_sys::HtmlSelectElement>()
                .and_then(|s| Software::parse(&s.value()));
            let stated = version
                .cast::<web_sys::HtmlInputElement>()
                .map(|v| v.value().trim().to_string())
                .filter(|v| !v.is_empty());
            let started = now_ms();
            let result = run_analysis(&text, forced, stated);
            let took = now_ms() - started;
            state.set(match result {
                Ok(plan) => State::Done(Rc::new(plan), took),
                Err(message) => State::Failed(message),
            });
        })
    };

    let onanalyse = {
        let analyse = analyse.clone();
        Callback::from(move |_: MouseEvent| analyse())
    };

    // One click to see what the tool finds: fill in an example and analyse it.
    let example = |text: &'static str| {
        let textarea = textarea.clone();
        let analyse = analyse.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(t) = textarea.cast::<web_sys::HtmlTextAreaElement>() {
                t.set_value(text);
            }
            analyse();
        })
    };
    let onweak = example(crate::examples::WEAK);
    let onhardened = example(crate::examples::HARDENED);

    let results = match &*state {
        State::Idle => html! {},
        State::Done(plan, took) => html! {
            <div class="paste-done" data-analysis-ms={format!("{took:.1}")}>
                <p class="timing">{ format!("Analysed in your browser in {took:.0} ms.") }</p>
                <FixDownloads plan={plan.clone()} />
                <ReportView report={report_of(plan)} scope="paste" />
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
                       and analysed on its own.", supported_list()) }
                </p>
                <textarea
                    id="config"
                    name="config"
                    ref={textarea}
                    rows="14"
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="none"
                    aria-describedby="config-hint privacy-note"
                    placeholder="mynetworks = 127.0.0.0/8 …"
                />
                <div class="row controls">
                    <div class="field-inline">
                        <label for="software">{ "Software" }</label>
                        <select id="software" name="software" ref={software}>
                            <option value="auto" selected=true>{ "Auto-detect" }</option>
                            { for mailaudit_core::config::supported().map(|s| html! {
                                <option value={s.name()}>{ s.title() }</option>
                            }) }
                        </select>
                        <label for="version">{ "Version" }</label>
                        <input
                            id="version"
                            name="version"
                            ref={version}
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
                    <button type="button" class="secondary" onclick={onweak}>{ "Load weak example" }</button>
                    <button type="button" class="secondary" onclick={onhardened}>{ "Load hardened example" }</button>
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
