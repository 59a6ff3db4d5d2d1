//! "Audit a domain": asks the backend (`POST /api/v1/audit`, same origin)
//! and shows per-area progress while the NDJSON stream comes in
//! ([`crate::stream`]). The input takes a domain or an email address (its
//! domain part), and shows an IDN in both forms. `/?domain=example.org`
//! (or `#/audit/example.org`) opens with that audit: a cached report when
//! the server has one, else a new audit; a finished audit puts its domain
//! in the address bar, so the page's URL is the shareable link.

use crate::report::{status_icon, ErrorBox, ReportView};
use crate::stream::{self, Event};
use mailaudit_core::report::{Finding, Report, Status};
use mailaudit_core::view::{self, DomainInput};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// What the stream said so far.
#[derive(Clone, PartialEq, Default)]
pub struct Progress {
    pub target: String,
    pub unicode: Option<String>,
    /// (area key, expected, received), in the report's order of areas.
    pub areas: Vec<(String, usize, usize)>,
    pub findings: Vec<Rc<Finding>>,
    /// The server streams (else one JSON answer is awaited).
    pub streaming: bool,
}

impl Progress {
    pub fn apply(&mut self, e: Event) {
        match e {
            Event::Start {
                target,
                unicode,
                areas,
            } => {
                self.streaming = true;
                self.target = target;
                self.unicode = unicode;
                self.areas = areas.into_iter().map(|(k, n)| (k, n, 0)).collect();
                // In the report's order (DNS first); areas this page does not know last.
                self.areas.sort_by_key(|(k, _, _)| {
                    (view::area_by_key(k).is_none(), view::area_by_key(k))
                });
            }
            Event::Finding(f) => {
                self.streaming = true;
                let key = view::area_key(view::area_of(&f.id));
                match self.areas.iter_mut().find(|(k, _, _)| *k == key) {
                    Some(a) => a.2 += 1,
                    None => self.areas.push((key, 0, 1)),
                }
                self.findings.push(Rc::new(*f));
            }
        }
    }

    pub fn done(&self) -> usize {
        self.findings.len()
    }

    pub fn expected(&self) -> usize {
        self.areas.iter().map(|a| a.1.max(a.2)).sum()
    }
}

#[derive(Clone, PartialEq)]
pub enum Phase {
    Idle,
    Busy(Progress),
    Done(Rc<Report>),
    Failed(String),
}

/// The audit's state; `ticket` ties answers to the request that asked
/// (only the latest one is shown).
#[derive(Clone, PartialEq)]
pub struct AuditState {
    pub ticket: u64,
    pub phase: Phase,
}

pub enum Action {
    Begin(u64, DomainInput),
    /// The input is not a domain: no request.
    Invalid(u64, String),
    Event(u64, Event),
    Done(u64, Report),
    Failed(u64, String),
}

impl Reducible for AuditState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Begin(t, d) => {
                next.ticket = t;
                next.phase = Phase::Busy(Progress {
                    target: d.ascii,
                    unicode: d.unicode,
                    ..Progress::default()
                });
            }
            Action::Invalid(t, m) => {
                next.ticket = t;
                next.phase = Phase::Failed(m);
            }
            Action::Event(t, e) if t == self.ticket => {
                if let Phase::Busy(p) = &mut next.phase {
                    p.apply(e);
                }
            }
            Action::Done(t, r) if t == self.ticket => next.phase = Phase::Done(Rc::new(r)),
            Action::Failed(t, m) if t == self.ticket => next.phase = Phase::Failed(m),
            _ => return self,
        }
        Rc::new(next)
    }
}

impl Default for AuditState {
    fn default() -> Self {
        AuditState {
            ticket: 0,
            phase: Phase::Idle,
        }
    }
}

thread_local! {
    static TICKETS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A new request number (every audit panel and widget shares the count).
pub fn next_ticket() -> u64 {
    TICKETS.with(|t| {
        t.set(t.get() + 1);
        t.get()
    })
}

/// Starts an audit of `d` against `api` ("" = this site), reporting into
/// `state`. With `use_cache`, a cached report is taken when there is one.
pub fn run_audit(
    state: UseReducerHandle<AuditState>,
    api: String,
    d: DomainInput,
    use_cache: bool,
    on_done: Option<Callback<String>>,
) {
    let ticket = next_ticket();
    state.dispatch(Action::Begin(ticket, d.clone()));
    spawn_local(async move {
        if use_cache {
            if let Some(r) = stream::cached(&api, &d.ascii).await {
                state.dispatch(Action::Done(ticket, r));
                return;
            }
        }
        let events = state.clone();
        let outcome = stream::audit(&api, &d.ascii, move |e| {
            events.dispatch(Action::Event(ticket, e));
        })
        .await;
        match outcome {
            Ok(r) => {
                if let Some(cb) = &on_done {
                    cb.emit(r.target.clone());
                }
                state.dispatch(Action::Done(ticket, r));
            }
            Err(m) => state.dispatch(Action::Failed(ticket, m)),
        }
    });
}

/// The domain of a shared link: `?domain=…` or `#/audit/…`.
fn shared_domain() -> Option<String> {
    let loc = web_sys::window()?.location();
    if let Ok(search) = loc.search() {
        if let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) {
            if let Some(d) = params.get("domain").filter(|d| !d.trim().is_empty()) {
                return Some(d);
            }
        }
    }
    let hash = loc.hash().ok()?;
    let d = hash.strip_prefix("#/audit/")?;
    let d: String = js_sys::decode_uri_component(d).ok()?.into();
    (!d.trim().is_empty()).then_some(d)
}

/// Puts `?domain=` in the address bar (no reload, no history entry).
fn remember(domain: &str) {
    let Some(w) = web_sys::window() else { return };
    let q: String = js_sys::encode_uri_component(domain).into();
    let url = format!("{}?domain={q}", w.location().pathname().unwrap_or_default());
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The progress of a streaming audit, per area.
pub fn progress_view(p: &Progress) -> Html {
    let done = p.done();
    let expected = p.expected();
    let name = p.unicode.clone().unwrap_or_else(|| p.target.clone());
    let status = if p.streaming && expected > 0 {
        format!("Auditing … {done} of {expected} checks done")
    } else {
        "Auditing …".to_string()
    };
    let areas = p.areas.iter().map(|(key, expected, got)| {
        let title = view::area_by_key(key).map_or(key.clone(), |a| a.title().to_string());
        let max = (*expected).max(*got).max(1);
        let of: Vec<&Rc<Finding>> = p
            .findings
            .iter()
            .filter(|f| view::area_key(view::area_of(&f.id)) == *key)
            .collect();
        let problems = of
            .iter()
            .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
            .count();
        let label_id = format!("progress-{key}");
        html! {
            <li class="area-progress" data-area={key.clone()} data-done={got.to_string()} data-expected={expected.to_string()}>
                <span class="ap-title" id={label_id.clone()}>{ title }</span>
                <progress max={max.to_string()} value={got.to_string()} aria-labelledby={label_id}></progress>
                <span class="ap-count">
                    { format!("{got} of {expected}") }
                    if problems > 0 { { format!(" · {problems} to fix") } }
                </span>
                <ul class="ap-findings">
                    { for of.iter().filter(|f| f.status != Status::Pass && f.status != Status::Info).map(|f| html! {
                        <li class={classes!(format!("s-{}", f.status.as_str()))}>
                            <span class="badge-icon" aria-hidden="true">{ status_icon(f.status) }</span>
                            <span class="visually-hidden">{ format!("{}: ", crate::report::status_word(f.status)) }</span>
                            { f.title.clone() }
                        </li>
                    }) }
                </ul>
            </li>
        }
    });
    html! {
        <div class="progress" data-testid="progress" data-streaming={p.streaming.to_string()}>
            <p class="busy">
                <span class="spinner" aria-hidden="true"></span>
                <span class="busy-text">{ status }</span>
                if !name.is_empty() {
                    <span class="busy-target">{ format!(" ({name})") }</span>
                }
            </p>
            if !p.areas.is_empty() {
                <ul class="area-progress-list" aria-label="Progress by area">{ for areas }</ul>
            }
        </div>
    }
}

#[function_component(AuditPanel)]
pub fn audit_panel() -> Html {
    let state = use_reducer(AuditState::default);
    let input = use_node_ref();
    let typed = use_state(|| None::<DomainInput>);

    let start = {
        let state = state.clone();
        let input = input.clone();
        move |raw: String, use_cache: bool| match view::domain_input(&raw, stream::to_ascii) {
            Ok(d) => run_audit(
                state.clone(),
                String::new(),
                d,
                use_cache,
                Some(Callback::from(|t: String| remember(&t))),
            ),
            Err(m) => {
                state.dispatch(Action::Invalid(next_ticket(), m));
                if let Some(el) = input.cast::<web_sys::HtmlInputElement>() {
                    let _ = el.focus();
                }
            }
        }
    };

    // A shared link: run (or read) its audit once, on first render.
    {
        let start = start.clone();
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(d) = shared_domain() {
                if let Some(el) = input.cast::<web_sys::HtmlInputElement>() {
                    el.set_value(&d);
                }
                start(d, true);
            }
        });
    }

    let onsubmit = {
        let input = input.clone();
        let start = start.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(el) = input.cast::<web_sys::HtmlInputElement>() else {
                return;
            };
            start(el.value(), false);
        })
    };

    let oninput = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| {
            let Some(el) = e.target_dyn_into::<web_sys::HtmlInputElement>() else {
                return;
            };
            typed.set(view::domain_input(&el.value(), stream::to_ascii).ok());
        })
    };

    let busy = matches!(state.phase, Phase::Busy(_));
    let results = match &state.phase {
        Phase::Idle => html! {},
        Phase::Busy(p) => progress_view(p),
        Phase::Done(report) => html! { <ReportView report={report.clone()} scope="audit" /> },
        Phase::Failed(message) => html! { <ErrorBox message={message.clone()} /> },
    };
    let idn = (*typed)
        .clone()
        .and_then(|d| d.unicode.map(|u| (u, d.ascii)));

    html! {
        <>
            <form class="card form" {onsubmit} novalidate=true>
                <label for="domain">{ "Domain or email address" }</label>
                <p class="hint" id="domain-hint">
                    { "For example example.org or postmaster@example.org. The audit runs on \
                       the mailaudit server, which looks up the domain's public records." }
                </p>
                <div class="row">
                    <input
                        id="domain"
                        name="domain"
                        type="text"
                        ref={input}
                        inputmode="email"
                        autocomplete="off"
                        autocapitalize="none"
                        spellcheck="false"
                        placeholder="example.org"
                        aria-describedby="domain-hint domain-idn"
                        required=true
                        {oninput}
                    />
                    <button type="submit" class="primary" disabled={busy}>{ "Audit" }</button>
                </div>
                <p class="idn" id="domain-idn" aria-live="polite">
                    if let Some((u, a)) = idn {
                        { "Internationalised name: " }<strong>{ u }</strong>{ " is audited as " }<code>{ a }</code>
                    }
                </p>
            </form>
            <div
                class="results"
                id="audit-results"
                aria-live="polite"
                aria-busy={if busy { "true" } else { "false" }}
            >
                { results }
            </div>
        </>
    }
}
