//! "Analyse mail logs": log files chosen with a file input are read and
//! analysed in a Web Worker, so a 200 MB log never freezes the page.
//!
//! The worker (`static/logs-worker.js`) loads the second wasm module, the
//! offline analysers (`frontend/offline`, `logs_worker`), not this one. The
//! page posts the `File` objects; the worker reads them in pieces, posts
//! progress after every piece, and finally the report and the
//! [`mailaudit_core::logs::LogStats`] as JSON ([`crate::wire::LogOutcome`]). Nothing
//! leaves the browser: the files are read locally, no request is made.

use crate::charts::{SenderLines, TimeBars, TopBars};
use crate::clock::now_rfc3339;
use crate::report::{ErrorBox, ReportView};
use crate::wire::LogOutcome as Outcome;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

fn set(obj: &js_sys::Object, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), value);
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

// ------------------------------------------------------------------ page

#[derive(Clone, PartialEq)]
enum State {
    Idle,
    Running { done: f64, total: f64, lines: f64 },
    Done(Rc<Outcome>, f64),
    Failed(String),
}

fn mb(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1_000_000.0)
}

/// A running worker and the handlers that must live as long as it.
struct Running {
    worker: web_sys::Worker,
    _onmessage: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

fn start(files: web_sys::FileList, state: UseStateSetter<State>) -> Result<Running, String> {
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options("./logs-worker.js", &opts)
        .map_err(|_| "this browser cannot start the background worker".to_string())?;
    let list = js_sys::Array::new();
    let mut total = 0.0;
    for i in 0..files.length() {
        if let Some(f) = files.get(i) {
            total += f.size();
            list.push(&f);
        }
    }
    state.set(State::Running {
        done: 0.0,
        total,
        lines: 0.0,
    });
    let w = worker.clone();
    let st = state.clone();
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let data = e.data();
            match get(&data, "type").as_string().as_deref() {
                Some("ready") => {
                    let job = js_sys::Object::new();
                    set(&job, "files", &list);
                    set(&job, "now", &JsValue::from_str(&now_rfc3339()));
                    if w.post_message(&job).is_err() {
                        st.set(State::Failed(
                            "could not hand the files to the worker".into(),
                        ));
                    }
                }
                Some("progress") => st.set(State::Running {
                    done: get(&data, "done").as_f64().unwrap_or(0.0),
                    total: get(&data, "total").as_f64().unwrap_or(0.0),
                    lines: get(&data, "lines").as_f64().unwrap_or(0.0),
                }),
                Some("done") => {
                    let json = get(&data, "json").as_string().unwrap_or_default();
                    let ms = get(&data, "ms").as_f64().unwrap_or(0.0);
                    st.set(match serde_json::from_str::<Outcome>(&json) {
                        Ok(o) => State::Done(Rc::new(o), ms),
                        Err(e) => State::Failed(format!("unreadable result from the worker: {e}")),
                    });
                    w.terminate();
                }
                Some("error") => {
                    st.set(State::Failed(
                        get(&data, "message")
                            .as_string()
                            .unwrap_or_else(|| "the analysis failed".into()),
                    ));
                    w.terminate();
                }
                _ => {}
            }
        });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    let st = state.clone();
    let onerror = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
        st.set(State::Failed(format!(
            "the background analysis stopped: {}",
            e.message()
        )));
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    Ok(Running {
        worker,
        _onmessage: onmessage,
        _onerror: onerror,
    })
}

#[function_component(LogsPanel)]
pub fn logs_panel() -> Html {
    let state = use_state(|| State::Idle);
    let input = use_node_ref();
    let running: Rc<RefCell<Option<Running>>> = use_mut_ref(|| None);

    let onchange = {
        let state = state.clone();
        let input = input.clone();
        let running = running.clone();
        Callback::from(move |_: Event| {
            let Some(files) = input
                .cast::<web_sys::HtmlInputElement>()
                .and_then(|i| i.files())
                .filter(|f| f.length() > 0)
            else {
                return;
            };
            // A new choice replaces any analysis in progress.
            running.borrow_mut().take();
            match start(files, state.setter()) {
                Ok(r) => *running.borrow_mut() = Some(r),
                Err(e) => state.set(State::Failed(e)),
            }
        })
    };

    let body = match &*state {
        State::Idle => html! {},
        State::Running { done, total, lines } => {
            let pct = if *total > 0.0 {
                done / total * 100.0
            } else {
                0.0
            };
            html! {
                <div class="log-progress" role="status">
                    <label for="log-progress-bar">{ "Analysing in a background worker…" }</label>
                    <progress id="log-progress-bar" max="100" value={format!("{pct:.1}")}>{ format!("{pct:.0}%") }</progress>
                    <p class="timing">{ format!("{} of {} read, {} lines", mb(*done), mb(*total), *lines as u64) }</p>
                </div>
            }
        }
        State::Done(o, ms) => html! { <LogResults outcome={o.clone()} ms={*ms} /> },
        State::Failed(m) => html! { <ErrorBox message={m.clone()} /> },
    };

    html! {
        <>
            <div class="card form">
                <label for="logfile">{ "Mail log files" }</label>
                <p class="hint" id="logfile-hint">
                    { "Postfix, Exim or Sendmail logs (/var/log/mail.log, Exim's mainlog), or Exchange \
                       SMTP protocol and message tracking logs. Large files are fine: they are read in \
                       pieces by a background worker." }
                </p>
                <input type="file" id="logfile" name="logfile" multiple=true ref={input} {onchange}
                       aria-describedby="logfile-hint logs-privacy" />
                <p class="privacy" id="logs-privacy">
                    { "Analysed in your browser: the files are never uploaded." }
                </p>
            </div>
            <div class="results" id="logs-results" aria-live="polite">{ body }</div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ResultsProps {
    outcome: Rc<Outcome>,
    ms: f64,
}

fn when(t: &Option<String>) -> String {
    t.as_deref()
        .unwrap_or("")
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

#[function_component(LogResults)]
fn log_results(p: &ResultsProps) -> Html {
    let s = &p.outcome.stats;
    let report = Rc::new(p.outcome.report.clone());
    let top: Vec<(String, u64, bool)> = s
        .ips
        .iter()
        .filter(|r| r.failures > 0)
        .take(10)
        .map(|r| (r.ip.clone(), r.failures, r.bruteforce))
        .collect();
    let secs = p.ms / 1000.0;
    html! {
        <div class="logs-done" data-analysis-ms={format!("{:.1}", p.ms)} data-lines={s.lines.to_string()}>
            <p class="timing">
                { format!("Analysed {} lines ({}) in your browser in {secs:.2} s ({:.0} lines/s), in a background worker.",
                    s.lines, mb(s.bytes as f64), s.lines as f64 / secs.max(0.001)) }
            </p>
            <section class="log-charts" aria-label="Charts">
                <h3>{ format!("Failed logins over time ({})", s.auth_failures) }</h3>
                <TimeBars series={s.auth_series.clone()} what="failed logins" class="chart-auth" />
                <h3>{ "Top offending addresses" }</h3>
                if top.is_empty() {
                    <p class="empty">{ "No failed logins." }</p>
                } else {
                    <TopBars rows={top} what="failed logins" class="chart-ips" />
                }
                <h3>{ "Recipients per hour per authenticated sender" }</h3>
                if s.outbound.senders.is_empty() {
                    <p class="empty">{ "No authenticated submissions in the log." }</p>
                } else {
                    <SenderLines outbound={s.outbound.clone()} class="chart-senders" />
                }
            </section>
            <section class="log-tables">
                <h3>{ "Client addresses" }</h3>
                <div class="table-wrap">
                <table class="ip-table">
                    <thead><tr>
                        <th scope="col">{ "Address" }</th><th scope="col">{ "Failed logins" }</th>
                        <th scope="col">{ "Busiest 10 min" }</th><th scope="col">{ "User names" }</th>
                        <th scope="col">{ "Relay attempts" }</th><th scope="col">{ "First seen" }</th>
                        <th scope="col">{ "Last seen" }</th>
                    </tr></thead>
                    <tbody>
                        { for s.ips.iter().map(|r| html! {
                            <tr class={classes!(r.bruteforce.then_some("hot"))}>
                                <td><code>{ r.ip.clone() }</code></td><td>{ r.failures }</td>
                                <td>{ r.peak_10min }</td><td>{ r.users }</td><td>{ r.relay_attempts }</td>
                                <td>{ when(&r.first) }</td><td>{ when(&r.last) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
                </div>
                <h3>{ "User names with failed logins" }</h3>
                if s.users.is_empty() {
                    <p class="empty">{ "The log names no user in its failed logins." }</p>
                } else {
                    <div class="table-wrap">
                    <table class="user-table">
                        <thead><tr>
                            <th scope="col">{ "User" }</th><th scope="col">{ "Failed logins" }</th>
                            <th scope="col">{ "Addresses" }</th><th scope="col">{ "First seen" }</th>
                            <th scope="col">{ "Last seen" }</th>
                        </tr></thead>
                        <tbody>
                            { for s.users.iter().map(|u| html! {
                                <tr>
                                    <td><code>{ u.user.clone() }</code></td><td>{ u.failures }</td>
                                    <td>{ u.ips }</td><td>{ when(&u.first) }</td><td>{ when(&u.last) }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                    </div>
                }
            </section>
            <ReportView report={report} scope="logs" />
        </div>
    }
}
