//! Exports of a report, all made in the page (`data:` URLs, no request):
//! JSON (the report contract), Markdown (`mailaudit_core::render::markdown`,
//! the CLI's renderer), print / PDF through the browser's print dialog and
//! the print stylesheet, `.ics` certificate reminders
//! (`mailaudit_core::tls::ics::expiry_ics` through `view::reminders`), and
//! for domain audits a shareable link (`/?domain=…`). A pasted
//! configuration's report is exported the same way and never uploaded.

use crate::report::CopyButton;
use mailaudit_core::report::Report;
use mailaudit_core::{render, view};
use std::rc::Rc;
use yew::prelude::*;

/// A `data:` URL holding `text` as `mime`.
pub fn data_url(mime: &str, text: &str) -> String {
    let encoded: String = js_sys::encode_uri_component(text).into();
    format!("data:{mime};charset=utf-8,{encoded}")
}

/// A file name part from a report target: letters, digits, dots, hyphens.
pub fn file_stem(target: &str) -> String {
    let s: String = target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(['-', '.']).to_string();
    let mut s: String = s.chars().take(60).collect();
    if s.is_empty() {
        s = "report".into();
    }
    s
}

/// The shareable link of a domain audit on this site.
pub fn share_link(domain: &str) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let q: String = js_sys::encode_uri_component(domain).into();
    format!("{origin}/?domain={q}")
}

#[derive(Properties, PartialEq)]
pub struct ExportProps {
    pub report: Rc<Report>,
    /// "audit" (a domain: the share link is offered) or "paste".
    pub scope: AttrValue,
}

#[function_component(Exports)]
pub fn exports(p: &ExportProps) -> Html {
    let r = &p.report;
    let is_audit = p.scope.as_str() == "audit";
    // A mail-log analysis is not named a configuration (the logs tab, or
    // a log pasted in the paste tab).
    let subject = view::offline_subject(r);
    let stem = match subject {
        Some(s) if !is_audit => s.to_string(),
        _ => file_stem(&r.target),
    };
    let what = if subject == Some("mail-logs") {
        "the log files are never uploaded, and log reports"
    } else {
        "the configuration is never uploaded, and pasted reports"
    };
    let json = serde_json::to_string_pretty(&**r).unwrap_or_default();
    let markdown = render::markdown(r);
    let reminders = view::reminders(r);
    let title_id = format!("{}-export-title", p.scope);
    let share_id = format!("{}-share", p.scope);
    let onprint = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    });
    let link = share_link(&r.target);
    html! {
        <section class="exports" aria-labelledby={title_id.clone()} data-testid="exports">
            <h3 id={title_id}>{ "Export" }</h3>
            <ul class="export-list">
                <li>
                    <a class="secondary download" href={data_url("application/json", &json)} download={format!("mailaudit-{stem}.json")}>
                        { "JSON" }
                    </a>
                </li>
                <li>
                    <a class="secondary download" href={data_url("text/markdown", &markdown)} download={format!("mailaudit-{stem}.md")}>
                        { "Markdown" }
                    </a>
                </li>
                <li>
                    <button type="button" class="secondary" onclick={onprint}>{ "Print or save as PDF" }</button>
                </li>
                { for reminders.iter().map(|rem| html! {
                    <li>
                        <a class="secondary download" href={data_url("text/calendar", &rem.ics)} download={rem.file_name.clone()}>
                            { format!("Calendar reminder: certificate of {} ({})",
                                rem.host,
                                mailaudit_core::tls::ics::rfc3339(rem.not_after).get(..10).unwrap_or("")) }
                        </a>
                    </li>
                }) }
            </ul>
            if is_audit {
                <div class="share">
                    <label for={share_id.clone()}>{ "Shareable link (runs this audit again when opened)" }</label>
                    <div class="row">
                        <input id={share_id} type="text" readonly=true value={link.clone()} />
                        <CopyButton text={link} what="shareable link" />
                    </div>
                </div>
            } else {
                <p class="hint">{ format!("Exports are made in your browser: {what} have no shareable link.") }</p>
            }
        </section>
    }
}
