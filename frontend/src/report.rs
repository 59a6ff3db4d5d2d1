//! The report view shared by both tabs. All report strings (they come from
//! the server or from the pasted text) are rendered as text nodes.

use mailaudit_core::config::{FixPlan, FixedFile};
use mailaudit_core::report::{Evidence, Finding, Report, Status};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use yew::prelude::*;

/// Icon and word for a status: never colour alone.
fn status_icon(s: Status) -> &'static str {
    match s {
        Status::Fail => "\u{2716}", // heavy multiplication x
        Status::Warn => "!",
        Status::Unknown => "?",
        Status::Info => "i",
        Status::Pass => "\u{2714}", // heavy check mark
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Fail => "Fail",
        Status::Warn => "Warn",
        Status::Unknown => "Unknown",
        Status::Info => "Info",
        Status::Pass => "Pass",
    }
}

#[derive(Properties, PartialEq)]
pub struct BadgeProps {
    pub status: Status,
}

#[function_component(Badge)]
pub fn badge(p: &BadgeProps) -> Html {
    let s = p.status.as_str();
    html! {
        <span class={classes!("badge", format!("s-{s}"))}>
            <span class="badge-icon" aria-hidden="true">{ status_icon(p.status) }</span>
            { status_word(p.status) }
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct ErrorBoxProps {
    pub message: AttrValue,
}

#[function_component(ErrorBox)]
pub fn error_box(p: &ErrorBoxProps) -> Html {
    html! {
        <div class="alert" role="alert">
            <strong>{ "Could not complete the check. " }</strong>
            { p.message.clone() }
        </div>
    }
}

/// Copies to the clipboard when the browser allows it; says so when not.
async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    // `navigator.clipboard` is missing outside secure contexts.
    let clipboard = match js_sys::Reflect::get(&navigator, &"clipboard".into()) {
        Ok(c) if !c.is_undefined() && !c.is_null() => c.unchecked_into::<web_sys::Clipboard>(),
        _ => return false,
    };
    JsFuture::from(clipboard.write_text(text)).await.is_ok()
}

#[derive(Properties, PartialEq)]
pub struct CopyProps {
    pub text: AttrValue,
    pub what: AttrValue,
}

#[function_component(CopyButton)]
pub fn copy_button(p: &CopyProps) -> Html {
    let label = use_state(|| "Copy");
    let onclick = {
        let text = p.text.clone();
        let label = label.clone();
        Callback::from(move |_: MouseEvent| {
            let text = text.clone();
            let label = label.clone();
            spawn_local(async move {
                let copied = copy_text(&text).await;
                label.set(if copied {
                    "Copied"
                } else {
                    "Copy unavailable: select the text"
                });
            });
        })
    };
    html! {
        <button
            type="button"
            class="copy"
            aria-label={format!("{}: {}", *label, p.what)}
            {onclick}
        >
            { *label }
        </button>
    }
}

fn evidence_item(e: &Evidence) -> Html {
    match e {
        Evidence::Config { file, line, text } => {
            let place = match line {
                Some(n) => format!("{file}:{n}"),
                None => format!("{file} (default)"),
            };
            html! {
                <li class="ev ev-config">
                    <span class="ev-where">{ place }</span>
                    <code>{ text.clone() }</code>
                </li>
            }
        }
        Evidence::Dns {
            query,
            rtype,
            rcode,
            answers,
        } => html! {
            <li class="ev ev-dns">
                <span class="ev-where">
                    { "DNS " }<code>{ query.clone() }</code>{ " " }
                    <span class="rtype">{ rtype.clone() }</span>
                    { " → " }<span class="rcode">{ rcode.clone() }</span>
                </span>
                if answers.is_empty() {
                    <span class="no-answers">{ "no records" }</span>
                } else {
                    <ul class="answers">
                        { for answers.iter().map(|a| html! { <li><code>{ a.clone() }</code></li> }) }
                    </ul>
                }
            </li>
        },
        Evidence::Note { text } => html! {
            <li class="ev ev-note">{ text.clone() }</li>
        },
    }
}

fn reference(r: &str) -> Html {
    // Only plain https links become links; anything else stays text.
    let linkable = r.starts_with("https://") && !r.contains(char::is_whitespace);
    if linkable {
        html! { <li><a href={r.to_string()} rel="noopener noreferrer" target="_blank">{ r.to_string() }</a></li> }
    } else {
        html! { <li>{ r.to_string() }</li> }
    }
}

#[derive(Properties, PartialEq)]
pub struct FindingProps {
    pub finding: Rc<Finding>,
}

#[function_component(FindingCard)]
pub fn finding_card(p: &FindingProps) -> Html {
    let f = &p.finding;
    let status = f.status.as_str();
    let problem = matches!(f.status, Status::Fail | Status::Warn);
    let severity = f.severity.as_str();
    html! {
        <article
            class={classes!("finding", format!("s-{status}"))}
            data-testid="finding"
            data-id={f.id.clone()}
            data-status={status}
        >
            <header class="finding-head">
                <Badge status={f.status} />
                if problem {
                    <span class={classes!("severity", format!("sev-{severity}"))}>
                        { "Severity: " }<strong>{ severity }</strong>
                    </span>
                }
                <code class="rule-id">{ f.id.clone() }</code>
            </header>
            <h4 class="finding-title">{ f.title.clone() }</h4>
            <p class="detail">{ f.detail.clone() }</p>
            if !f.evidence.is_empty() {
                <div class="evidence">
                    <h5>{ "Evidence" }</h5>
                    <ul>{ for f.evidence.iter().map(evidence_item) }</ul>
                </div>
            }
            if problem && !f.remediation.trim().is_empty() {
                <div class="fix">
                    <div class="fix-head">
                        <h5>{ "How to fix" }</h5>
                        <CopyButton text={f.remediation.clone()} what={format!("fix for {}", f.id)} />
                    </div>
                    <pre tabindex="0">{ f.remediation.clone() }</pre>
                </div>
            }
            if !f.refs.is_empty() {
                <div class="refs">
                    <h5>{ "References" }</h5>
                    <ul>{ for f.refs.iter().map(|r| reference(r)) }</ul>
                </div>
            }
        </article>
    }
}

#[derive(Properties, PartialEq)]
pub struct ReportProps {
    pub report: Rc<Report>,
    /// Makes element ids unique when both tabs show a report.
    pub scope: AttrValue,
}

#[function_component(ReportView)]
pub fn report_view(p: &ReportProps) -> Html {
    let r = &p.report;
    let title_id = format!("{}-report-title", p.scope);
    // Counted here from the findings (the summary in the JSON should agree).
    let count = |s: Status| r.findings.iter().filter(|f| f.status == s).count();
    let groups = Status::ALL.iter().filter(|&&s| count(s) > 0).map(|&s| {
        let n = count(s);
        let status = s.as_str();
        html! {
            <section class={classes!("group", format!("g-{status}"))} aria-label={format!("{} findings", status_word(s))}>
                <h3 class="group-title">
                    <Badge status={s} />
                    <span class="group-count">{ format!("{n} {}", if n == 1 { "finding" } else { "findings" }) }</span>
                </h3>
                { for r.findings.iter().filter(|f| f.status == s).map(|f| html! {
                    <FindingCard finding={Rc::new(f.clone())} />
                }) }
            </section>
        }
    });
    let summary = Status::ALL.iter().map(|&s| {
        let n = r.summary.count(s);
        let status = s.as_str();
        html! {
            <li class={classes!("tally", format!("s-{status}"), (n == 0).then_some("zero"))} data-status={status}>
                <span class="tally-n">{ n }</span>
                <span class="tally-label">
                    <span class="badge-icon" aria-hidden="true">{ status_icon(s) }</span>
                    { status_word(s) }
                </span>
            </li>
        }
    });
    html! {
        <section class="report" aria-labelledby={title_id.clone()}>
            <header class="report-head">
                <h2 id={title_id}>
                    { "Report for " }<span class="target">{ r.target.clone() }</span>
                </h2>
                <p class="meta">
                    { "Generated " }<time datetime={r.generated_at.clone()}>{ r.generated_at.clone() }</time>
                    { format!(" by {} {}", r.tool.name, r.tool.version) }
                </p>
            </header>
            <ul class="summary" aria-label="Summary">{ for summary }</ul>
            if !r.assumptions.is_empty() {
                <div class="assumptions">
                    <h3>{ "Assumptions" }</h3>
                    <ul>
                        { for r.assumptions.iter().map(|a| html! {
                            <li><span class="a-key">{ a.key.clone() }</span>{ ": " }{ a.value.clone() }</li>
                        }) }
                    </ul>
                </div>
            }
            if r.findings.is_empty() {
                <p class="empty">{ "No findings." }</p>
            }
            { for groups }
        </section>
    }
}

/// A file name safe to offer for download: the last path component, only
/// plain characters; a paste without `# file:` headers is named by what it
/// holds.
fn download_name(f: &FixedFile) -> String {
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

/// A `data:` URL holding the text: the download is made in the page, with
/// no request to anywhere.
fn data_url(text: &str) -> String {
    let encoded: String = js_sys::encode_uri_component(text).into();
    format!("data:text/plain;charset=utf-8,{encoded}")
}

#[derive(Properties, PartialEq)]
pub struct FixProps {
    pub plan: Rc<FixPlan>,
}

/// "Download fixed config": the patched files and the diff, made in the
/// browser from the same edits as the "How to fix" snippets.
#[function_component(FixDownloads)]
pub fn fix_downloads(p: &FixProps) -> Html {
    let plan = &p.plan;
    // Named for download (and in the diff) as they will be saved.
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
    let diff: String = files.iter().map(FixedFile::diff).collect();
    let manual = plan.manual.iter().map(|m| {
        html! { <li><code>{ m.id.clone() }</code>{ format!(" ({})", m.status.as_str()) }</li> }
    });
    html! {
        <section class="card fixed-config" aria-labelledby="fixed-config-title" data-testid="fixed-config">
            <h3 id="fixed-config-title">{ "Fixed configuration" }</h3>
            if files.is_empty() {
                <p class="hint">{ "Nothing in this configuration can be fixed automatically." }</p>
            } else {
                <p>
                    { format!(
                        "Made in your browser from the fixes below: {} finding{} resolved. Review the changes before you install them, then run postfix reload.",
                        plan.fixed.len(),
                        if plan.fixed.len() == 1 { "" } else { "s" },
                    ) }
                </p>
                <ul class="downloads">
                    { for files.iter().map(|f| html! {
                        <li>
                            <a class="secondary download" href={data_url(&f.fixed)} download={f.name.clone()}>
                                { format!("Download fixed {}", f.name) }
                            </a>
                        </li>
                    }) }
                    <li>
                        <a class="secondary download" href={data_url(&diff)} download="mailaudit-fix.diff">
                            { "Download the diff" }
                        </a>
                    </li>
                </ul>
                <details class="diff">
                    <summary>{ "Show the diff" }</summary>
                    <pre tabindex="0">{ diff.clone() }</pre>
                </details>
            }
            if !plan.manual.is_empty() {
                <div class="manual">
                    <h4>{ "Not fixable automatically" }</h4>
                    <p class="hint">{ "These need something only you know (a certificate, your networks, a milter, an upgrade): see How to fix in each finding." }</p>
                    <ul>{ for manual }</ul>
                </div>
            }
        </section>
    }
}
