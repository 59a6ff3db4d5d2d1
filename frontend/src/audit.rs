//! "Audit a domain": asks the backend (`POST /api/v1/audit`, same origin).

use crate::report::{ErrorBox, ReportView};
use gloo_net::http::Request;
use mailaudit_core::report::Report;
use serde::Deserialize;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

const API: &str = "/api/v1/audit";

#[derive(Clone, PartialEq)]
enum State {
    Idle,
    Busy,
    Done(Rc<Report>),
    Failed(String),
}

/// `{"error": {"code": ..., "message": ...}}`, the API's error body.
#[derive(Deserialize)]
struct ApiError {
    error: ApiErrorBody,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    #[serde(default)]
    code: String,
    message: String,
}

/// What the user typed, as the domain to audit: an email address gives the
/// part after the `@`.
pub fn domain_of(input: &str) -> String {
    let s = input.trim();
    let s = s.rsplit_once('@').map_or(s, |(_, domain)| domain);
    s.trim().to_string()
}

async fn request_audit(domain: &str) -> Result<Report, String> {
    let request = Request::post(API)
        .json(&serde_json::json!({ "domain": domain }))
        .map_err(|e| format!("Could not prepare the request: {e}"))?;
    let network = |_| {
        "Could not reach the mailaudit server (network error). Check your connection \
         and try again; the configuration tab works offline."
            .to_string()
    };
    let response = request.send().await.map_err(network)?;
    let status = response.status();
    let body = response.text().await.map_err(network)?;
    if response.ok() {
        return serde_json::from_str::<Report>(&body).map_err(|e| {
            format!("The server answered with a report this page cannot read ({e}).")
        });
    }
    match serde_json::from_str::<ApiError>(&body) {
        Ok(ApiError { error }) if !error.message.is_empty() => Err(error.message),
        Ok(ApiError { error }) => Err(format!("The server refused the audit ({}).", error.code)),
        Err(_) => Err(format!(
            "The server answered HTTP {status} {} instead of a report.",
            response.status_text()
        )),
    }
}

#[function_component(AuditPanel)]
pub fn audit_panel() -> Html {
    let state = use_state(|| State::Idle);
    let input = use_node_ref();
    // Only the answer to the latest request is shown.
    let generation = use_mut_ref(|| 0u64);

    let onsubmit = {
        let state = state.clone();
        let input = input.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(el) = input.cast::<web_sys::HtmlInputElement>() else {
                return;
            };
            let domain = domain_of(&el.value());
            if domain.is_empty() {
                state.set(State::Failed(
                    "Enter a domain (example.org) or an email address (you@example.org).".into(),
                ));
                let _ = el.focus();
                return;
            }
            let ticket = {
                let mut g = generation.borrow_mut();
                *g += 1;
                *g
            };
            state.set(State::Busy);
            let state = state.clone();
            let generation = generation.clone();
            spawn_local(async move {
                let outcome = request_audit(&domain).await;
                if *generation.borrow() != ticket {
                    return;
                }
                state.set(match outcome {
                    Ok(report) => State::Done(Rc::new(report)),
                    Err(message) => State::Failed(message),
                });
            });
        })
    };

    let busy = matches!(*state, State::Busy);
    let results = match &*state {
        State::Idle => html! {},
        State::Busy => html! {
            <p class="busy">
                <span class="spinner" aria-hidden="true"></span>
                { "Auditing …" }
            </p>
        },
        State::Done(report) => html! { <ReportView report={report.clone()} scope="audit" /> },
        State::Failed(message) => html! { <ErrorBox message={message.clone()} /> },
    };

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
                        aria-describedby="domain-hint"
                        required=true
                    />
                    <button type="submit" class="primary" disabled={busy}>{ "Audit" }</button>
                </div>
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
