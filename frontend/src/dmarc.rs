//! "DMARC reports": aggregate reports dropped, pasted or chosen here are read by the
//! browser (`Blob.arrayBuffer()`) and analysed by the engine in this page
//! (the parser is in the second wasm module, [`crate::offline`]'s
//! `DmarcBatch`, which answers the analysis as JSON): nothing is uploaded. Large batches are read in slices, yielding to the
//! event loop between them so the progress bar moves and the page stays
//! responsive. The chart is an SVG drawn here from the engine's day table.
//! Every string from a report is rendered as a text node (or an attribute
//! value), never as markup.

use crate::clock::{now_ms, now_rfc3339};
use crate::offline;
use crate::report::{CopyButton, ErrorBox, ReportView};
use mailaudit_core::dmarcrep::{self, Analysis, Class, SourceRow, Verdict};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use yew::prelude::*;

/// Yield to the event loop at least this often while reading (ms).
const SLICE_MS: f64 = 40.0;
/// Files read at once (and the next slice read ahead).
const READ_AHEAD: usize = 32;
/// Sources and reporters shown in the tables.
const TOP: usize = 25;

#[derive(Clone, PartialEq)]
enum State {
    Idle,
    Reading { done: usize, total: usize },
    Done(Rc<Analysis>, f64),
    Failed(String),
}

/// Lets the browser paint and handle events (a `setTimeout(0)` turn).
async fn yield_now() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Starts reading files: a promise of their `ArrayBuffer`s, in order.
fn read_all(files: &[web_sys::File]) -> js_sys::Promise {
    let promises: js_sys::Array = files.iter().map(|f| f.array_buffer()).collect();
    js_sys::Promise::all(&promises)
}

fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

fn fmt_count(n: u64) -> String {
    dmarcrep::rules::count(n)
}

fn fmt_share(part: u64, total: u64) -> String {
    if total == 0 {
        return "–".into();
    }
    dmarcrep::rules::percent(part as f64 / total as f64)
}

#[function_component(DmarcPanel)]
pub fn dmarc_panel() -> Html {
    let state = use_state(|| State::Idle);
    let files = use_mut_ref(Vec::<web_sys::File>::new);
    let generation = use_mut_ref(|| Rc::new(Cell::new(0u64)));
    let domain = use_node_ref();
    let record = use_node_ref();
    let file_input = use_node_ref();
    let dragging = use_state(|| false);

    // Reads the chosen files in slices and analyses them.
    let analyse = {
        let state = state.clone();
        let files = files.clone();
        let generation = generation.clone();
        let domain = domain.clone();
        let record = record.clone();
        Rc::new(move || {
            let list: Vec<web_sys::File> = files.borrow().clone();
            if list.is_empty() {
                state.set(State::Failed(
                    "Choose or drop DMARC aggregate report files (.xml, .xml.gz, .zip) first."
                        .into(),
                ));
                return;
            }
            let value = |r: &NodeRef| {
                r.cast::<web_sys::HtmlInputElement>()
                    .map(|e| e.value().trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            let domain_given = value(&domain).unwrap_or_default();
            let record_given = value(&record).unwrap_or_default();
            let gen = generation.borrow().clone();
            let ticket = gen.get() + 1;
            gen.set(ticket);
            let state = state.clone();
            let total = list.len();
            state.set(State::Reading { done: 0, total });
            spawn_local(async move {
                yield_now().await;
                let started = now_ms();
                let mut slice_start = now_ms();
                let batch = match offline::module()
                    .await
                    .and_then(|m| offline::construct(&m, "DmarcBatch"))
                {
                    Ok(b) => b,
                    Err(e) => {
                        if gen.get() == ticket {
                            state.set(State::Failed(e));
                        }
                        return;
                    }
                };
                let mut done = 0;
                // The browser reads the next slice of files while this one
                // is analysed.
                let mut chunks = list.chunks(READ_AHEAD);
                let mut pending = chunks.next().map(|c| (c, read_all(c)));
                while let Some((chunk, promise)) = pending.take() {
                    let buffers = match JsFuture::from(promise).await {
                        Ok(b) => js_sys::Array::from(&b),
                        Err(_) => {
                            if gen.get() == ticket {
                                state.set(State::Failed(
                                    "The browser could not read one of the files.".into(),
                                ));
                            }
                            return;
                        }
                    };
                    pending = chunks.next().map(|c| (c, read_all(c)));
                    for (file, buffer) in chunk.iter().zip(buffers.iter()) {
                        let bytes = js_sys::Uint8Array::new(&buffer);
                        if let Err(e) = offline::method(
                            &batch,
                            "add",
                            &[JsValue::from_str(&file.name()), bytes.into()],
                        ) {
                            if gen.get() == ticket {
                                state.set(State::Failed(e));
                            }
                            return;
                        }
                        done += 1;
                        if now_ms() - slice_start > SLICE_MS {
                            if gen.get() != ticket {
                                return;
                            }
                            state.set(State::Reading { done, total });
                            yield_now().await;
                            slice_start = now_ms();
                        }
                    }
                }
                if gen.get() != ticket {
                    return;
                }
                let answer = offline::method(
                    &batch,
                    "finish",
                    &[
                        JsValue::from_str(&domain_given),
                        JsValue::from_str(&record_given),
                        JsValue::from_str(&now_rfc3339()),
                    ],
                )
                .and_then(|v| {
                    v.as_string()
                        .ok_or_else(|| "the analysis gave no answer".to_string())
                })
                .and_then(|json| {
                    serde_json::from_str::<Analysis>(&json)
                        .map_err(|e| format!("the analysis could not be read: {e}"))
                });
                let analysis = match answer {
                    Ok(a) => a,
                    Err(e) => {
                        state.set(State::Failed(e));
                        return;
                    }
                };
                let took = now_ms() - started;
                state.set(if analysis.tables.counts.reports == 0 {
                    State::Failed(no_report_message(&analysis))
                } else {
                    State::Done(Rc::new(analysis), took)
                });
            });
        })
    };

    let onchange = {
        let files = files.clone();
        let analyse = analyse.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() else {
                return;
            };
            *files.borrow_mut() = files_of(input.files());
            analyse();
        })
    };
    let ondrop = {
        let files = files.clone();
        let analyse = analyse.clone();
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            let dropped = files_of(e.data_transfer().and_then(|d| d.files()));
            if dropped.is_empty() {
                return;
            }
            *files.borrow_mut() = dropped;
            analyse();
        })
    };
    // Files pasted anywhere in the panel (copied in a file manager); a
    // paste of text goes on to the field it was meant for.
    let onpaste = {
        let files = files.clone();
        let analyse = analyse.clone();
        Callback::from(move |e: Event| {
            let pasted = files_of(
                e.dyn_ref::<web_sys::ClipboardEvent>()
                    .and_then(|c| c.clipboard_data())
                    .and_then(|d| d.files()),
            );
            if pasted.is_empty() {
                return;
            }
            e.prevent_default();
            *files.borrow_mut() = pasted;
            analyse();
        })
    };
    let ondragover = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            if !*dragging {
                dragging.set(true);
            }
        })
    };
    let ondragleave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let onagain = {
        let analyse = analyse.clone();
        Callback::from(move |_: MouseEvent| analyse())
    };
    let onbrowse = {
        let file_input = file_input.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(i) = file_input.cast::<web_sys::HtmlElement>() {
                i.click();
            }
        })
    };

    let busy = matches!(*state, State::Reading { .. });
    let results = match &*state {
        State::Idle => html! {},
        State::Reading { done, total } => html! {
            <div class="dmarc-progress" data-testid="dmarc-progress">
                <label for="dmarc-progress-bar">
                    { format!("Reading report {} of {} in your browser …", fmt_count(*done as u64), fmt_count(*total as u64)) }
                </label>
                <progress id="dmarc-progress-bar" max={total.to_string()} value={done.to_string()} />
            </div>
        },
        State::Done(a, took) => html! { <Results analysis={a.clone()} took={*took} /> },
        State::Failed(message) => html! { <ErrorBox message={message.clone()} /> },
    };

    html! {
        <div class="dmarc-panel" {onpaste}>
            <div class="card form">
                <div
                    class={classes!("dropzone", (*dragging).then_some("dragging"))}
                    data-testid="dmarc-dropzone"
                    role="group"
                    tabindex="0"
                    aria-label="DMARC report files: drop or paste them here"
                    {ondrop}
                    {ondragover}
                    {ondragleave}
                >
                    <label for="dmarc-files">{ "DMARC aggregate reports" }</label>
                    <p class="hint" id="dmarc-hint">
                        { "Drop the report files here (.xml, .xml.gz or .zip, as Google, Microsoft, Yahoo and others send them), paste them (Ctrl+V), or choose them. Many at once is fine." }
                    </p>
                    <input
                        id="dmarc-files"
                        ref={file_input}
                        type="file"
                        multiple=true
                        accept=".xml,.gz,.zip,application/xml,text/xml,application/gzip,application/zip"
                        aria-describedby="dmarc-hint dmarc-privacy"
                        class="visually-hidden"
                        {onchange}
                    />
                    <button type="button" class="secondary" onclick={onbrowse} disabled={busy}>{ "Choose files…" }</button>
                </div>
                <div class="row controls">
                    <div class="field-inline dmarc-fields">
                        <label for="dmarc-domain">{ "Domain" }</label>
                        <input id="dmarc-domain" ref={domain} type="text" size="18" spellcheck="false"
                            autocomplete="off" autocapitalize="none" placeholder="from the reports" />
                        <label for="dmarc-record">{ "Current DMARC record" }</label>
                        <input id="dmarc-record" ref={record} type="text" spellcheck="false"
                            autocomplete="off" autocapitalize="none" placeholder="v=DMARC1; p=none; rua=mailto:…" />
                    </div>
                    <button type="button" class="primary" onclick={onagain} disabled={busy}>{ "Analyse reports" }</button>
                </div>
                <p class="privacy" id="dmarc-privacy">
                    { "Read and analysed in your browser: the reports never leave this page." }
                </p>
            </div>
            <div class="results" id="dmarc-results" aria-live="polite" aria-busy={if busy { "true" } else { "false" }}>
                { results }
            </div>
        </div>
    }
}

fn no_report_message(a: &Analysis) -> String {
    let mut reasons: Vec<String> = a
        .tables
        .files
        .iter()
        .take(3)
        .map(|f| match &f.status {
            dmarcrep::FileStatus::Rejected { reason } => format!("{}: {reason}", f.name),
            dmarcrep::FileStatus::OtherDomain => format!(
                "{}: a report for {}",
                f.name,
                f.domain.as_deref().unwrap_or("?")
            ),
            dmarcrep::FileStatus::Duplicate { of } => format!("{}: a duplicate of {of}", f.name),
            dmarcrep::FileStatus::Used => String::new(),
        })
        .collect();
    if a.tables.files.len() > 3 {
        reasons.push(format!("and {} more", a.tables.files.len() - 3));
    }
    format!(
        "None of the files is a usable DMARC aggregate report ({}).",
        reasons.join("; ")
    )
}

#[derive(Properties, PartialEq)]
struct ResultsProps {
    analysis: Rc<Analysis>,
    took: f64,
}

#[function_component(Results)]
fn results(p: &ResultsProps) -> Html {
    let a = &p.analysis;
    let t = &a.tables;
    let report = Rc::new(a.report.clone());
    let period = match (&t.begin, &t.end) {
        (Some(b), Some(e)) => format!(
            "{} to {}",
            b.get(..10).unwrap_or(b),
            e.get(..10).unwrap_or(e)
        ),
        _ => String::new(),
    };
    html! {
        <div class="dmarc-done" data-analysis-ms={format!("{:.1}", p.took)} data-files={t.counts.files.to_string()}>
            <p class="timing">
                { format!(
                    "Analysed {} file{} ({} report{}, {} message{}) in your browser in {:.0} ms.",
                    fmt_count(t.counts.files as u64),
                    if t.counts.files == 1 { "" } else { "s" },
                    fmt_count(t.counts.reports as u64),
                    if t.counts.reports == 1 { "" } else { "s" },
                    fmt_count(t.totals.total),
                    if t.totals.total == 1 { "" } else { "s" },
                    p.took
                ) }
            </p>
            <section class="card dmarc-overview" aria-labelledby="dmarc-overview-title">
                <h2 id="dmarc-overview-title">
                    { "DMARC reports for " }
                    <span class="target">{ t.domain.clone().unwrap_or_default() }</span>
                </h2>
                <p class="meta">{ period }</p>
                <ul class="dmarc-totals">
                    <li class="s-pass"><span class="tally-n">{ fmt_share(t.totals.aligned, t.totals.total) }</span>{ " aligned" }</li>
                    <li class="s-warn"><span class="tally-n">{ fmt_share(t.totals.related_unaligned, t.totals.total) }</span>{ " authenticated, not aligned" }</li>
                    <li class="s-fail"><span class="tally-n">{ fmt_share(t.totals.unrelated, t.totals.total) }</span>{ " unrelated (spoofing)" }</li>
                </ul>
            </section>
            <PlanCard plan={Rc::new(a.plan.clone())} domain={t.domain.clone().unwrap_or_default()} />
            <Chart days={Rc::new(t.days.clone())} />
            <Sources sources={Rc::new(t.sources.iter().take(TOP).cloned().collect::<Vec<_>>())} total={t.sources_total} all={t.totals.total} />
            <Reporters rows={Rc::new(t.reporters.iter().take(TOP).cloned().collect::<Vec<_>>())} />
            <ReportView report={report} scope="dmarc" />
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct VerdictProps {
    plan: Rc<dmarcrep::Plan>,
    domain: AttrValue,
}

#[function_component(PlanCard)]
fn verdict(p: &VerdictProps) -> Html {
    let plan = &p.plan;
    let (status, headline) = match plan.verdict {
        Verdict::Ready => (
            "pass",
            format!(
                "Ready: the next step, {}, blocks no related mail.",
                plan.next.map(|s| s.describe()).unwrap_or_default()
            ),
        ),
        Verdict::Ramp => (
            "warn",
            format!(
                "Ready with a ramp: {} while the sources below are fixed.",
                plan.next.map(|s| s.describe()).unwrap_or_default()
            ),
        ),
        Verdict::NotReady => (
            "warn",
            format!(
                "Not ready for {}: fix the sources below first.",
                plan.next.map(|s| s.describe()).unwrap_or_default()
            ),
        ),
        Verdict::Done => (
            "pass",
            "At p=reject for all mail: there is no further step.".to_string(),
        ),
        Verdict::Unknown => (
            "unknown",
            "No mail in the reports to plan from.".to_string(),
        ),
    };
    let verdict = serde_json::to_value(plan.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let record = plan
        .record
        .clone()
        .map(|r| format!("_dmarc.{}. TXT \"{r}\"", p.domain));
    html! {
        <section class={classes!("card", "dmarc-verdict", format!("s-{status}"))} data-testid="dmarc-verdict" data-verdict={verdict} aria-labelledby="dmarc-verdict-title">
            <h3 id="dmarc-verdict-title">{ "Policy plan" }</h3>
            <p class="verdict-line"><strong>{ headline }</strong></p>
            <p class="meta">
                { format!(
                    "Current policy {} · {} of the mail aligns · {} would be blocked",
                    plan.current.describe(),
                    dmarcrep::rules::percent(plan.aligned_share),
                    dmarcrep::rules::percent(plan.blocking_share),
                ) }
            </p>
            if let Some(record) = record {
                <div class="fix">
                    <div class="fix-head">
                        <h4>{ "Record to publish next" }</h4>
                        <CopyButton text={record.clone()} what="record to publish" />
                    </div>
                    <pre tabindex="0" data-testid="dmarc-record">{ record }</pre>
                    if !plan.record_complete {
                        <p class="hint">{ "Built from the policy the reports show: add your rua= (and ruf=) tags from your current record, or enter the record above and analyse again." }</p>
                    }
                </div>
            }
            if !plan.blocking_sources.is_empty() {
                <p>
                    { "Would be blocked: " }
                    { for plan.blocking_sources.iter().take(5).enumerate().map(|(i, b)| html! {
                        <>
                            if i > 0 { { ", " } }
                            <code>{ b.ip.clone() }</code>
                            { format!(" ({})", fmt_count(b.messages)) }
                        </>
                    }) }
                </p>
            }
            if !plan.notes.is_empty() {
                <ul class="notes">
                    { for plan.notes.iter().map(|n| html! { <li>{ n.clone() }</li> }) }
                </ul>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ChartProps {
    days: Rc<Vec<dmarcrep::DayRow>>,
}

/// A round number at or above `n` for the axis (1, 2, 5 × 10^k).
fn nice_max(n: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1u64, 2, 5] {
            let v = step.saturating_mul(m);
            if v >= n || v == u64::MAX {
                return v.max(1);
            }
        }
        step = step.saturating_mul(10);
    }
}

/// Aligned against unaligned volume per day: stacked bars, drawn here.
#[function_component(Chart)]
fn chart(p: &ChartProps) -> Html {
    const W: f64 = 720.0;
    const H: f64 = 240.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 8.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 34.0;
    let days = &p.days;
    if days.is_empty() {
        return html! {};
    }
    let max = nice_max(days.iter().map(|d| d.volume.total).max().unwrap_or(0));
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / days.len() as f64;
    let bar = (slot * 0.7).max(1.0);
    let y = |v: u64| TOP + plot_h - (v as f64 / max as f64) * plot_h;
    let every = days.len().div_ceil(10).max(1);
    let bars = days.iter().enumerate().map(|(i, d)| {
        let v = &d.volume;
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let segments = [
            ("bar-aligned", v.aligned),
            ("bar-unaligned", v.related_unaligned),
            ("bar-unrelated", v.unrelated),
        ];
        let mut base = 0u64;
        let rects = segments.iter().filter(|(_, n)| *n > 0).map(|(class, n)| {
            let top = y(base + n);
            let bottom = y(base);
            base += n;
            html! {
                <rect class={*class} x={format!("{x:.1}")} y={format!("{top:.1}")}
                    width={format!("{bar:.1}")} height={format!("{:.1}", (bottom - top).max(0.5))} />
            }
        }).collect::<Html>();
        let label = (i % every == 0).then(|| html! {
            <text class="axis" x={format!("{:.1}", x + bar / 2.0)} y={format!("{:.1}", H - BOTTOM + 16.0)} text-anchor="middle">
                { d.date.get(5..).unwrap_or(&d.date).to_string() }
            </text>
        });
        html! {
            <g class="day">
                <title>{ format!(
                    "{}: {} messages, {} aligned, {} authenticated but not aligned, {} unrelated",
                    d.date, fmt_count(v.total), fmt_count(v.aligned), fmt_count(v.related_unaligned), fmt_count(v.unrelated)
                ) }</title>
                { rects }
                { for label }
            </g>
        }
    }).collect::<Html>();
    let ticks = [0, max / 2, max].into_iter().map(|v| {
        html! {
            <g class="tick">
                <line class="grid" x1={format!("{LEFT}")} x2={format!("{}", W - RIGHT)} y1={format!("{:.1}", y(v))} y2={format!("{:.1}", y(v))} />
                <text class="axis" x={format!("{}", LEFT - 6.0)} y={format!("{:.1}", y(v) + 4.0)} text-anchor="end">{ fmt_count(v) }</text>
            </g>
        }
    }).collect::<Html>();
    let first = days.first().map(|d| d.date.clone()).unwrap_or_default();
    let last = days.last().map(|d| d.date.clone()).unwrap_or_default();
    html! {
        <figure class="card dmarc-chart">
            <figcaption>
                <h3>{ "Messages per day" }</h3>
                <ul class="legend">
                    <li><span class="swatch bar-aligned" aria-hidden="true"></span>{ "Aligned" }</li>
                    <li><span class="swatch bar-unaligned" aria-hidden="true"></span>{ "Authenticated, not aligned" }</li>
                    <li><span class="swatch bar-unrelated" aria-hidden="true"></span>{ "Unrelated" }</li>
                </ul>
            </figcaption>
            <svg data-testid="dmarc-chart" viewBox={format!("0 0 {W} {H}")} role="img"
                aria-label={format!("Aligned and unaligned messages per day, {first} to {last}")}
                preserveAspectRatio="xMidYMid meet">
                { ticks }
                { bars }
            </svg>
        </figure>
    }
}

#[derive(Properties, PartialEq)]
struct SourcesProps {
    sources: Rc<Vec<SourceRow>>,
    total: usize,
    all: u64,
}

fn class_badge(c: Class) -> Html {
    let (status, word) = match c {
        Class::Aligned => ("pass", "aligned"),
        Class::RelatedUnaligned => ("warn", "not aligned"),
        Class::Unrelated => ("fail", "unrelated"),
    };
    html! { <span class={classes!("badge", format!("s-{status}"))}>{ word }</span> }
}

#[function_component(Sources)]
fn sources(p: &SourcesProps) -> Html {
    let rows = p.sources.iter().map(|s| {
        let auth: Vec<String> = s
            .dkim_domains
            .iter()
            .map(|c| format!("DKIM {}", c.name))
            .chain(s.spf_domains.iter().map(|c| format!("SPF {}", c.name)))
            .take(4)
            .collect();
        let name = match (&s.ptr, &s.org) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(o)) => Some(o.clone()),
            _ => None,
        };
        html! {
            <tr>
                <td><code>{ s.ip.clone() }</code>
                    if let Some(n) = name { <div class="sub">{ n }</div> }
                    if s.forwarder { <div class="sub">{ "forwarder / list" }</div> }
                </td>
                <td>{ class_badge(s.class) }</td>
                <td class="num">{ fmt_count(s.volume.total) }</td>
                <td class="num">{ fmt_share(s.volume.total, p.all) }</td>
                <td class="num">{ fmt_share(s.volume.aligned, s.volume.total) }</td>
                <td class="wrap-cell">{ auth.join(", ") }</td>
                <td class="wrap-cell">{ s.reporters.join(", ") }</td>
            </tr>
        }
    });
    html! {
        <section class="card dmarc-table" aria-labelledby="dmarc-sources-title">
            <h3 id="dmarc-sources-title">{ format!("Top sources ({} of {})", p.sources.len(), fmt_count(p.total as u64)) }</h3>
            <div class="table-scroll" tabindex="0">
                <table data-testid="dmarc-sources">
                    <thead><tr>
                        <th scope="col">{ "Source" }</th>
                        <th scope="col">{ "Mostly" }</th>
                        <th scope="col" class="num">{ "Messages" }</th>
                        <th scope="col" class="num">{ "Share" }</th>
                        <th scope="col" class="num">{ "Aligned" }</th>
                        <th scope="col">{ "Passes as" }</th>
                        <th scope="col">{ "Reported by" }</th>
                    </tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ReportersProps {
    rows: Rc<Vec<dmarcrep::ReporterRow>>,
}

#[function_component(Reporters)]
fn reporters(p: &ReportersProps) -> Html {
    let rows = p.rows.iter().map(|r| {
        let v = &r.volume;
        html! {
            <tr>
                <td>{ r.org.clone() }
                    if let Some(e) = &r.email { <div class="sub">{ e.clone() }</div> }
                </td>
                <td class="num">{ r.reports }</td>
                <td class="num">{ fmt_count(v.total) }</td>
                <td class="num">{ fmt_share(v.aligned, v.total) }</td>
                <td class="num">{ fmt_count(v.related_unaligned) }</td>
                <td class="num">{ fmt_count(v.unrelated) }</td>
                <td class="num">{ fmt_count(v.quarantine + v.reject) }</td>
            </tr>
        }
    });
    html! {
        <section class="card dmarc-table" aria-labelledby="dmarc-reporters-title">
            <h3 id="dmarc-reporters-title">{ "Per reporter" }</h3>
            <div class="table-scroll" tabindex="0">
                <table data-testid="dmarc-reporters">
                    <thead><tr>
                        <th scope="col">{ "Reporter" }</th>
                        <th scope="col" class="num">{ "Reports" }</th>
                        <th scope="col" class="num">{ "Messages" }</th>
                        <th scope="col" class="num">{ "Aligned" }</th>
                        <th scope="col" class="num">{ "Not aligned" }</th>
                        <th scope="col" class="num">{ "Unrelated" }</th>
                        <th scope="col" class="num">{ "Quarantined/rejected" }</th>
                    </tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
        </section>
    }
}
