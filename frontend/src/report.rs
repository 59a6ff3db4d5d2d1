//! The report view shared by both tabs and the widget. All report strings
//! (they come from the server or from the pasted text) are rendered as text
//! nodes: nothing here builds HTML from data.
//!
//! Layout, top to bottom: the grade and "what to fix first"
//! ([`crate::grade`]), the exports ([`crate::exports`]), the tallies, then
//! one section per area (DNS, sender authentication, transport security,
//! server behaviour, blocklists, pasted configuration) with its own summary,
//! its picture ([`crate::pictures`]) and its finding cards; passed checks
//! are folded away under each area.

use crate::wire::PasteOutcome;
use mailaudit_core::report::{Evidence, Finding, Report, Status};
use mailaudit_core::rules::Area;
use mailaudit_core::{score, view};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use yew::prelude::*;

/// Icon and word for a status: never colour alone.
pub fn status_icon(s: Status) -> &'static str {
    match s {
        Status::Fail => "\u{2716}", // heavy multiplication x
        Status::Warn => "!",
        Status::Unknown => "?",
        Status::Info => "i",
        Status::Pass => "\u{2714}", // heavy check mark
    }
}

pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Fail => "Fail",
        Status::Warn => "Warn",
        Status::Unknown => "Unknown",
        Status::Info => "Info",
        Status::Pass => "Pass",
    }
}

/// The element id of a finding's card (the "what to fix first" links).
pub fn card_id(scope: &str, id: &str) -> String {
    format!("{scope}-f-{id}")
}

/// The element id of an area's section.
pub fn area_id(scope: &str, area: Area) -> String {
    format!("{scope}-area-{}", view::area_key(area))
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

/// Copies with `document.execCommand("copy")` from a temporary text area:
/// for browsers without `navigator.clipboard` (plain-http pages, old ones).
fn copy_fallback(text: &str) -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let Some(body) = doc.body() else {
        return false;
    };
    let Ok(area) = doc.create_element("textarea") else {
        return false;
    };
    let Ok(area) = area.dyn_into::<web_sys::HtmlTextAreaElement>() else {
        return false;
    };
    area.set_value(text);
    let _ = area.set_attribute("readonly", "");
    let _ = area.set_attribute("aria-hidden", "true");
    let _ = area.set_attribute("style", "position:fixed;top:0;left:0;opacity:0;");
    if body.append_child(&area).is_err() {
        return false;
    }
    let active = doc.active_element();
    area.select();
    let copied = doc
        .dyn_ref::<web_sys::HtmlDocument>()
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false);
    area.remove();
    if let Some(el) = active.and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
    copied
}

/// Copies to the clipboard: `navigator.clipboard` where the browser has it
/// (secure contexts), else the `execCommand` fallback.
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    // `navigator.clipboard` is missing outside secure contexts.
    match js_sys::Reflect::get(&navigator, &"clipboard".into()) {
        Ok(c) if !c.is_undefined() && !c.is_null() => {
            let clipboard = c.unchecked_into::<web_sys::Clipboard>();
            if JsFuture::from(clipboard.write_text(text)).await.is_ok() {
                return true;
            }
            copy_fallback(text)
        }
        _ => copy_fallback(text),
    }
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

/// A certificate note as a small table of its fields.
fn cert_fields(c: &view::CertLine) -> Html {
    let cert = &c.cert;
    let sans: Vec<String> = cert
        .dns_names
        .iter()
        .chain(&cert.ip_names)
        .cloned()
        .collect();
    let day = |t: i64| mailaudit_core::tls::ics::rfc3339(t);
    let rows: Vec<(&str, String)> = vec![
        ("Subject", cert.subject.clone()),
        ("Issuer", cert.issuer.clone()),
        (
            "Names (SAN)",
            if sans.is_empty() {
                "(none)".into()
            } else {
                sans.join(", ")
            },
        ),
        ("Valid from", day(cert.not_before)),
        ("Valid until", day(cert.not_after)),
        (
            "Key",
            format!("{} {}", cert.key_type, cert.key_bits)
                .trim()
                .to_string(),
        ),
        ("Signature", cert.signature_algorithm.clone()),
        ("SHA-256", cert.sha256.clone()),
    ];
    html! {
        <li class="ev ev-cert">
            <span class="ev-where">{ format!("Certificate: {}", c.role) }</span>
            <dl class="cert-fields">
                { for rows.into_iter().map(|(k, v)| html! {
                    <>
                        <dt>{ k }</dt>
                        <dd><code>{ v }</code></dd>
                    </>
                }) }
            </dl>
        </li>
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
                    if let Some(n) = line {
                        <span class="visually-hidden">{ format!(" line {n}: ") }</span>
                    }
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
        Evidence::Note { text } => {
            if let Some(c) = view::parse_cert_note(text) {
                return cert_fields(&c);
            }
            // A transcript or any multi-line excerpt: first line as its
            // caption, the rest as sent.
            match text.split_once('\n') {
                Some((head, rest)) => html! {
                    <li class="ev ev-transcript">
                        <span class="ev-where">{ head.to_string() }</span>
                        <pre tabindex="0">{ rest.to_string() }</pre>
                    </li>
                },
                None => html! { <li class="ev ev-note">{ text.clone() }</li> },
            }
        }
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
    /// Makes the card's element id unique when several reports are shown.
    #[prop_or(AttrValue::Static("r"))]
    pub scope: AttrValue,
}

#[function_component(FindingCard)]
pub fn finding_card(p: &FindingProps) -> Html {
    let f = &p.finding;
    let status = f.status.as_str();
    let problem = matches!(f.status, Status::Fail | Status::Warn);
    let severity = f.severity.as_str();
    let id = card_id(&p.scope, &f.id);
    let title_id = format!("{id}-title");
    html! {
        <article
            class={classes!("finding", format!("s-{status}"))}
            id={id.clone()}
            tabindex="-1"
            aria-labelledby={title_id.clone()}
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
            <h4 class="finding-title" id={title_id}>{ f.title.clone() }</h4>
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
                    <pre tabindex="0" aria-label={format!("Fix for {}", f.id)}>{ f.remediation.clone() }</pre>
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

/// "2 fail · 1 warn · 5 pass" with icons, for an area or a report.
pub fn counts_line<'a>(findings: impl IntoIterator<Item = &'a Finding> + Clone) -> Html {
    let parts = Status::ALL.iter().filter_map(|&s| {
        let n = findings
            .clone()
            .into_iter()
            .filter(|f| f.status == s)
            .count();
        (n > 0).then(|| {
            html! {
                <li class={classes!("count", format!("s-{}", s.as_str()))}>
                    <span class="badge-icon" aria-hidden="true">{ status_icon(s) }</span>
                    { format!("{n} {}", status_word(s).to_lowercase()) }
                </li>
            }
        })
    });
    html! { <ul class="counts">{ for parts }</ul> }
}

#[derive(Properties, PartialEq)]
struct AreaProps {
    report: Rc<Report>,
    area: Area,
    scope: AttrValue,
}

/// One area: its summary, its picture, its problems, and its passed checks
/// folded away.
#[function_component(AreaSection)]
fn area_section(p: &AreaProps) -> Html {
    let r = &p.report;
    let findings: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| view::area_of(&f.id) == p.area)
        .collect();
    let id = area_id(&p.scope, p.area);
    let title_id = format!("{id}-title");
    let s = score::score_findings(findings.iter().copied());
    let (open, folded): (Vec<&Finding>, Vec<&Finding>) = findings
        .iter()
        .partition(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Unknown));
    let card = |f: &&Finding| {
        html! {
            <FindingCard finding={Rc::new((*f).clone())} scope={p.scope.clone()} />
        }
    };
    let picture = match p.area {
        Area::Authentication => {
            html! { <crate::pictures::SpfTreeView report={r.clone()} scope={p.scope.clone()} /> }
        }
        Area::Blocklists => {
            html! { <crate::pictures::BlocklistGridView report={r.clone()} scope={p.scope.clone()} /> }
        }
        Area::Transport => {
            html! { <crate::pictures::CertTimeline report={r.clone()} scope={p.scope.clone()} /> }
        }
        _ => html! {},
    };
    html! {
        <section class="area" id={id.clone()} aria-labelledby={title_id.clone()} data-area={view::area_key(p.area)}>
            <header class="area-head">
                <h3 id={title_id}>{ view::area_title(p.area, findings.iter().copied()) }</h3>
                if let (Some(n), Some(g)) = (s.score, s.grade) {
                    <span class={classes!("area-score", format!("g-{}", grade_class(g)))}>
                        { format!("{g} · {n}/100") }
                    </span>
                }
                { counts_line(findings.iter().copied()) }
            </header>
            { picture }
            { for open.iter().map(card) }
            if !folded.is_empty() {
                <details class="passed">
                    <summary>
                        { format!("{} passed or informational check{}", folded.len(), if folded.len() == 1 { "" } else { "s" }) }
                    </summary>
                    { for folded.iter().map(card) }
                </details>
            }
        </section>
    }
}

/// CSS class suffix of a grade ("a-plus", "a", … "f").
pub fn grade_class(g: score::Grade) -> &'static str {
    match g {
        score::Grade::APlus => "a-plus",
        score::Grade::A => "a",
        score::Grade::B => "b",
        score::Grade::C => "c",
        score::Grade::D => "d",
        score::Grade::F => "f",
    }
}

#[derive(Properties, PartialEq)]
pub struct ReportProps {
    pub report: Rc<Report>,
    /// Makes element ids unique when both tabs show a report ("audit",
    /// "paste"); an audit report also gets a shareable link.
    pub scope: AttrValue,
}

#[function_component(ReportView)]
pub fn report_view(p: &ReportProps) -> Html {
    let r = &p.report;
    let title_id = format!("{}-report-title", p.scope);
    let unicode = view::unicode_of(&r.target);
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
    let areas: Vec<Area> = view::by_area(r).into_iter().map(|(a, _)| a).collect();
    html! {
        <section class="report" aria-labelledby={title_id.clone()} data-testid="report">
            <header class="report-head">
                <h2 id={title_id}>
                    { "Report for " }
                    if let Some(u) = &unicode {
                        <span class="target" data-ascii={r.target.clone()}>{ u.clone() }</span>
                        <span class="target-ascii">{ format!(" ({})", r.target) }</span>
                    } else {
                        <span class="target">{ r.target.clone() }</span>
                    }
                </h2>
                <p class="meta">
                    { "Generated " }<time datetime={r.generated_at.clone()}>{ r.generated_at.clone() }</time>
                    { format!(" by {} {}", r.tool.name, r.tool.version) }
                </p>
            </header>
            <crate::grade::ScoreCard report={r.clone()} scope={p.scope.clone()} />
            <crate::exports::Exports report={r.clone()} scope={p.scope.clone()} />
            <ul class="summary" aria-label="Findings by status">{ for summary }</ul>
            if areas.len() > 1 {
                <nav class="area-nav" aria-label="Areas of this report">
                    <ul>
                        { for areas.iter().map(|&a| {
                            let fs: Vec<&Finding> = r.findings.iter().filter(|f| view::area_of(&f.id) == a).collect();
                            let problems = fs.iter().filter(|f| matches!(f.status, Status::Fail | Status::Warn)).count();
                            html! {
                                <li>
                                    <a href={format!("#{}", area_id(&p.scope, a))}>{ view::area_title(a, fs.iter().copied()) }</a>
                                    <span class="area-nav-n">
                                        { if problems == 0 { "no problems".to_string() } else { format!("{problems} to fix") } }
                                    </span>
                                </li>
                            }
                        }) }
                    </ul>
                </nav>
            }
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
            { for areas.iter().map(|&a| html! {
                <AreaSection report={r.clone()} area={a} scope={p.scope.clone()} />
            }) }
        </section>
    }
}

/// A `data:` URL holding the text: the download is made in the page, with
/// no request to anywhere.
fn data_url(text: &str) -> String {
    let encoded: String = js_sys::encode_uri_component(text).into();
    format!("data:text/plain;charset=utf-8,{encoded}")
}

#[derive(Properties, PartialEq)]
pub struct FixProps {
    pub plan: Rc<PasteOutcome>,
}

/// "Download fixed config": the patched files and the diff, made in the
/// browser from the same edits as the "How to fix" snippets.
#[function_component(FixDownloads)]
pub fn fix_downloads(p: &FixProps) -> Html {
    let plan = &p.plan;
    let files = &plan.files;
    let diff = plan.diff.clone();
    let manual = plan.manual.iter().map(|m| {
        html! { <li><code>{ m.id.clone() }</code>{ format!(" ({})", m.status.as_str()) }</li> }
    });
    html! {
        <section class="card fixed-config" aria-labelledby="fixed-config-title" data-testid="fixed-config">
            <h2 id="fixed-config-title">{ "Fixed configuration" }</h2>
            if files.is_empty() {
                <p class="hint">{ "Nothing in this configuration can be fixed automatically." }</p>
            } else {
                <p>
                    { format!(
                        "Made in your browser from the fixes below: {} finding{} resolved. Review the changes before you install them, then run postfix reload.",
                        plan.fixed,
                        if plan.fixed == 1 { "" } else { "s" },
                    ) }
                </p>
                <ul class="downloads">
                    { for files.iter().map(|f| html! {
                        <li>
                            <a class="secondary download" href={data_url(&f.text)} download={f.name.clone()}>
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
                    <h3>{ "Not fixable automatically" }</h3>
                    <p class="hint">{ "These need something only you know (a certificate, your networks, a milter, an upgrade): see How to fix in each finding." }</p>
                    <ul>{ for manual }</ul>
                </div>
            }
        </section>
    }
}
