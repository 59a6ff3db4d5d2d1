//! mailaudit's website: audit a domain through the API (`POST /api/v1/audit`),
//! or analyse a pasted configuration or DMARC aggregate reports entirely in
//! the browser, with the same engine (`mailaudit-core`) compiled to
//! WebAssembly.
//!
//! Every string that comes from the server or from the paste box is rendered
//! as a text node: nothing here ever builds HTML from data.

mod audit;
mod charts;
mod clock;
mod dmarc;
mod exports;
mod grade;
mod logs;
mod offline;
mod paste;
mod pictures;
mod report;
mod stream;
mod widget;
#[path = "../offline/src/wire.rs"]
mod wire;

use yew::prelude::*;

/// Which tab is shown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tab {
    Audit,
    Paste,
    Logs,
    Dmarc,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Audit, Tab::Paste, Tab::Logs, Tab::Dmarc];

    fn label(self) -> &'static str {
        match self {
            Tab::Audit => "Audit a domain",
            Tab::Paste => "Paste a configuration",
            Tab::Logs => "Analyse mail logs",
            Tab::Dmarc => "DMARC reports",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Tab::Audit => "audit",
            Tab::Paste => "paste",
            Tab::Logs => "logs",
            Tab::Dmarc => "dmarc",
        }
    }
}

#[function_component(App)]
fn app() -> Html {
    let tab = use_state(|| Tab::Audit);
    // One ref per tab: the length is tied to `Tab::ALL`, so a new tab cannot be left out.
    let tab_refs: [NodeRef; Tab::ALL.len()] = [
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    ];

    let select = {
        let tab = tab.clone();
        let tab_refs = tab_refs.clone();
        move |next: Tab, focus: bool| {
            // The paste and DMARC tabs run the second wasm module: fetch it
            // now, so it is ready by the time something is analysed. (The
            // logs tab's worker loads it itself; the page does not need it there.)
            if matches!(next, Tab::Paste | Tab::Dmarc) {
                offline::preload();
            }
            tab.set(next);
            if focus {
                let index = Tab::ALL.iter().position(|t| *t == next).unwrap_or(0);
                if let Some(el) = tab_refs[index].cast::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
    };

    // Arrow keys move between tabs (WAI-ARIA tabs pattern, automatic activation).
    let onkeydown = {
        let select = select.clone();
        let current = *tab;
        Callback::from(move |e: KeyboardEvent| {
            let i = Tab::ALL.iter().position(|t| *t == current).unwrap_or(0);
            let n = Tab::ALL.len();
            let next = match e.key().as_str() {
                "ArrowRight" => Tab::ALL[(i + 1) % n],
                "ArrowLeft" => Tab::ALL[(i + n - 1) % n],
                "Home" => Tab::ALL[0],
                "End" => Tab::ALL[n - 1],
                _ => return,
            };
            e.prevent_default();
            select(next, true);
        })
    };

    let tabs = Tab::ALL.iter().zip(tab_refs.iter()).map(|(&t, node)| {
        let selected = *tab == t;
        let onclick = {
            let select = select.clone();
            Callback::from(move |_: MouseEvent| select(t, false))
        };
        html! {
            <button
                type="button"
                role="tab"
                ref={node.clone()}
                id={format!("tab-{}", t.key())}
                class="tab"
                aria-selected={if selected { "true" } else { "false" }}
                aria-controls={format!("panel-{}", t.key())}
                tabindex={if selected { "0" } else { "-1" }}
                {onclick}
            >
                { t.label() }
            </button>
        }
    });

    html! {
        <>
            <header class="site-header">
                <div class="wrap">
                    <h1 class="brand">
                        <span class="brand-mark" aria-hidden="true">{ "@" }</span>
                        { "mailaudit" }
                    </h1>
                    <p class="tagline">
                        { "Checks a mail domain (DNS, SPF, DKIM, DMARC, TLS, the mail server, \
                           blocklists) or a pasted Postfix, Exim, Sendmail or Exchange \
                           configuration, mail logs or DMARC aggregate reports, for security problems, and says how \
                           to fix them." }
                    </p>
                </div>
            </header>
            <main class="wrap">
                <div class="tabs" role="tablist" aria-label="What to check" {onkeydown}>
                    { for tabs }
                </div>
                <section
                    id="panel-audit"
                    class="panel"
                    role="tabpanel"
                    aria-labelledby="tab-audit"
                    hidden={*tab != Tab::Audit}
                >
                    <audit::AuditPanel />
                </section>
                <section
                    id="panel-paste"
                    class="panel"
                    role="tabpanel"
                    aria-labelledby="tab-paste"
                    hidden={*tab != Tab::Paste}
                >
                    <paste::PastePanel />
                </section>
                <section
                    id="panel-logs"
                    class="panel"
                    role="tabpanel"
                    aria-labelledby="tab-logs"
                    hidden={*tab != Tab::Logs}
                >
                    <logs::LogsPanel />
                </section>
                <section
                    id="panel-dmarc"
                    class="panel"
                    role="tabpanel"
                    aria-labelledby="tab-dmarc"
                    hidden={*tab != Tab::Dmarc}
                >
                    <dmarc::DmarcPanel />
                </section>
            </main>
            <footer class="site-footer">
                <div class="wrap">
                    { "mailaudit " }{ env!("CARGO_PKG_VERSION") }
                    { " · Findings are advice from automated checks: review them before changing a production server." }
                </div>
            </footer>
        </>
    }
}

/// On a panic: log it and replace the page with a short message (the
/// release build aborts right after this hook).
fn panic_hook(info: &std::panic::PanicHookInfo<'_>) {
    web_sys::console::error_1(&format!("mailaudit: {info}").into());
    let Some(app) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"))
    else {
        return;
    };
    app.set_text_content(None);
    if let Some(doc) = app.owner_document() {
        if let Ok(p) = doc.create_element("p") {
            p.set_class_name("alert fatal wrap");
            let _ = p.set_attribute("role", "alert");
            p.set_text_content(Some(
                "Something went wrong inside this page. Reload it to try again; \
                 the browser console has the details.",
            ));
            let _ = app.append_child(&p);
        }
    }
}

fn main() {
    yew::set_custom_panic_hook(Box::new(panic_hook));
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"));
    match root {
        // The embeddable widget's page (/widget/) runs the same module.
        Some(root) if root.get_attribute("data-mode").as_deref() == Some("widget") => {
            yew::Renderer::<widget::WidgetApp>::with_root(root).render();
        }
        Some(root) => {
            yew::Renderer::<App>::with_root(root).render();
        }
        None => {
            yew::Renderer::<App>::new().render();
        }
    };
}
