//! The embeddable widget: what `/widget/` shows inside the iframe that
//! `widget.js` puts on a third-party page. A domain input, then the grade,
//! the top problems and a link to the full report on this site; optional
//! call to action (text + URL) and logo; colours and font from the embedding
//! page. Its wasm is the site's (same module, started by `boot.js`).
//!
//! Settings arrive in the iframe's query string (`widget.js` copies them
//! from the script tag's `data-*` attributes and the page's `--mailaudit-*`
//! custom properties). They come from another site, so each is checked
//! before use: colours and fonts against a strict pattern (they end up in
//! a `style` attribute), URLs must be http(s); anything else is ignored.

use crate::audit::{progress_view, run_audit, AuditState, Phase};
use crate::grade::verdict;
use crate::report::{grade_class, Badge, ErrorBox};
use crate::stream;
use mailaudit_core::{score, view};
use wasm_bindgen::JsValue;
use yew::prelude::*;

/// Problems listed in the compact result.
const TOP: usize = 3;

/// The widget's settings, validated.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct Settings {
    /// Origin of the mailaudit API ("" = this site's).
    pub api: String,
    pub title: String,
    pub accent: Option<String>,
    pub background: Option<String>,
    pub text: Option<String>,
    pub font: Option<String>,
    pub radius: Option<String>,
    pub logo: Option<String>,
    pub cta_text: Option<String>,
    pub cta_url: Option<String>,
    pub domain: Option<String>,
}

/// A CSS colour: `#rgb`/`#rrggbb`(`aa`), `rgb()/rgba()/hsl()/hsla()` with
/// numbers only, or a named colour.
pub fn safe_color(v: &str) -> Option<String> {
    let v = v.trim();
    if v.len() > 40 || v.is_empty() {
        return None;
    }
    let ok = if let Some(hex) = v.strip_prefix('#') {
        matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    } else if let Some(args) = ["rgb(", "rgba(", "hsl(", "hsla("]
        .iter()
        .find_map(|f| v.strip_prefix(f))
    {
        args.strip_suffix(')').is_some_and(|a| {
            a.bytes()
                .all(|b| b.is_ascii_digit() || b" .,%/deg".contains(&b))
        })
    } else {
        v.bytes().all(|b| b.is_ascii_alphabetic())
    };
    ok.then(|| v.to_string())
}

/// A font-family list: letters, digits, spaces, commas, hyphens, quotes.
pub fn safe_font(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()
        && v.len() <= 120
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" ,-_'\"".contains(&b)))
    .then(|| v.to_string())
}

/// A length such as `8px`, `0.5rem`, `0`.
pub fn safe_length(v: &str) -> Option<String> {
    let v = v.trim();
    let num = v.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%');
    let unit = &v[num.len()..];
    (!num.is_empty()
        && num.len() <= 6
        && num.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && ["", "px", "rem", "em", "%"].contains(&unit))
    .then(|| v.to_string())
}

/// An absolute http(s) URL (no credentials).
pub fn safe_url(v: &str) -> Option<String> {
    let v = v.trim();
    let u = web_sys::Url::new(v).ok()?;
    let scheme_ok = matches!(u.protocol().as_str(), "https:" | "http:");
    (scheme_ok && u.username().is_empty() && u.password().is_empty() && v.len() <= 2000)
        .then(|| u.href())
}

/// Short plain text (titles, the call to action).
fn safe_text(v: &str, max: usize) -> Option<String> {
    let t: String = v
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    (!t.is_empty()).then_some(t)
}

impl Settings {
    pub fn from_query(search: &str) -> Settings {
        let Ok(p) = web_sys::UrlSearchParams::new_with_str(search) else {
            return Settings::default();
        };
        let get = |k: &str| p.get(k).filter(|v| !v.trim().is_empty());
        Settings {
            api: get("api")
                .and_then(|v| safe_url(&v))
                .and_then(|u| web_sys::Url::new(&u).ok().map(|u| u.origin()))
                .unwrap_or_default(),
            title: get("title")
                .and_then(|v| safe_text(&v, 80))
                .unwrap_or_else(|| "How secure is your mail?".into()),
            accent: get("accent").and_then(|v| safe_color(&v)),
            background: get("bg").and_then(|v| safe_color(&v)),
            text: get("fg").and_then(|v| safe_color(&v)),
            font: get("font").and_then(|v| safe_font(&v)),
            radius: get("radius").and_then(|v| safe_length(&v)),
            logo: get("logo").and_then(|v| safe_url(&v)),
            cta_text: get("cta_text").and_then(|v| safe_text(&v, 60)),
            cta_url: get("cta_url").and_then(|v| safe_url(&v)),
            domain: get("domain").and_then(|v| safe_text(&v, 260)),
        }
    }

    /// The custom properties the widget's style sheet reads.
    pub fn style(&self) -> String {
        let mut s = String::new();
        for (k, v) in [
            ("--w-accent", &self.accent),
            ("--w-bg", &self.background),
            ("--w-text", &self.text),
            ("--w-font", &self.font),
            ("--w-radius", &self.radius),
        ] {
            if let Some(v) = v {
                s.push_str(&format!("{k}: {v}; "));
            }
        }
        s
    }
}

/// Tells the embedding page how tall the widget is (`widget.js` resizes
/// the iframe). Only a number is sent.
fn post_height() {
    let Some(w) = web_sys::window() else { return };
    let Some(h) = w
        .document()
        .and_then(|d| d.document_element())
        .map(|e| e.scroll_height())
    else {
        return;
    };
    let Ok(Some(parent)) = w.parent() else { return };
    let msg = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&msg, &"type".into(), &"mailaudit:height".into());
    let _ = js_sys::Reflect::set(&msg, &"height".into(), &JsValue::from(h));
    let _ = parent.post_message(&msg, "*");
}

#[function_component(WidgetApp)]
pub fn widget_app() -> Html {
    let settings = use_memo((), |_| {
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        Settings::from_query(&search)
    });
    let state = use_reducer(AuditState::default);
    let input = use_node_ref();
    let error = use_state(|| None::<String>);

    // After every render: the new height to the embedding page.
    use_effect(|| {
        post_height();
    });

    let start = {
        let state = state.clone();
        let settings = settings.clone();
        let error = error.clone();
        move |raw: String| match view::domain_input(&raw, stream::to_ascii) {
            Ok(d) => {
                error.set(None);
                run_audit(state.clone(), settings.api.clone(), d, false, None);
            }
            Err(m) => error.set(Some(m)),
        }
    };
    {
        let start = start.clone();
        let input = input.clone();
        let preset = settings.domain.clone();
        use_effect_with((), move |_| {
            if let Some(d) = preset {
                if let Some(el) = input.cast::<web_sys::HtmlInputElement>() {
                    el.set_value(&d);
                }
                start(d);
            }
        });
    }
    let onsubmit = {
        let input = input.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(el) = input.cast::<web_sys::HtmlInputElement>() {
                start(el.value());
            }
        })
    };

    let busy = matches!(state.phase, Phase::Busy(_));
    let result = match (&*error, &state.phase) {
        (Some(m), _) => html! { <ErrorBox message={m.clone()} /> },
        (None, Phase::Idle) => html! {},
        (None, Phase::Busy(p)) => progress_view(p),
        (None, Phase::Failed(m)) => html! { <ErrorBox message={m.clone()} /> },
        (None, Phase::Done(r)) => {
            let s = score::score(r);
            let top = score::fix_first(r, TOP);
            let grade = s.grade.map(|g| g.as_str()).unwrap_or("–");
            let class = s.grade.map(grade_class).unwrap_or("none");
            let name = view::unicode_of(&r.target).unwrap_or_else(|| r.target.clone());
            let origin = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default();
            let q: String = js_sys::encode_uri_component(&r.target).into();
            let full = format!("{origin}/?domain={q}");
            html! {
                <div class={classes!("w-result", format!("g-{class}"))} data-testid="widget-result" data-grade={grade}>
                    <div class="w-grade">
                        <span class="grade-letter" aria-hidden="true">{ grade }</span>
                        <div>
                            <h2 class="w-target">{ name }</h2>
                            <p class="w-score">
                                { match (s.grade, s.score) {
                                    (Some(g), Some(n)) => format!("Grade {g}, score {n} of 100"),
                                    _ => "Not graded".into(),
                                } }
                            </p>
                            <p class="verdict">{ verdict(s.grade) }</p>
                        </div>
                    </div>
                    if !top.is_empty() {
                        <h3 class="w-top-title">{ "Top issues" }</h3>
                        <ol class="w-top">
                            { for top.iter().map(|f| html! {
                                <li data-id={f.id.clone()}><Badge status={f.status} />{ " " }{ f.title.clone() }</li>
                            }) }
                        </ol>
                    }
                    <p class="w-links">
                        <a class="w-full" href={full} target="_blank" rel="noopener noreferrer">
                            { "Full report" }<span class="visually-hidden">{ " (opens in a new tab)" }</span>
                        </a>
                    </p>
                </div>
            }
        }
    };

    html! {
        <div class="widget" style={settings.style()} data-testid="widget">
            <header class="w-head">
                if let Some(logo) = &settings.logo {
                    <img class="w-logo" src={logo.clone()} alt="" referrerpolicy="no-referrer" />
                }
                <h1 class="w-title">{ settings.title.clone() }</h1>
            </header>
            <form class="w-form" {onsubmit} novalidate=true>
                <label for="w-domain">{ "Domain or email address" }</label>
                <div class="row">
                    <input
                        id="w-domain"
                        type="text"
                        ref={input}
                        inputmode="email"
                        autocomplete="off"
                        autocapitalize="none"
                        spellcheck="false"
                        placeholder="example.org"
                    />
                    <button type="submit" class="primary" disabled={busy}>{ "Check" }</button>
                </div>
            </form>
            <div class="w-results" aria-live="polite" aria-busy={if busy { "true" } else { "false" }}>
                { result }
            </div>
            if let (Some(text), Some(url)) = (&settings.cta_text, &settings.cta_url) {
                <p class="w-cta-row">
                    <a class="w-cta" href={url.clone()} target="_blank" rel="noopener noreferrer">{ text.clone() }</a>
                </p>
            }
            <p class="w-footer">{ "Checks by mailaudit" }</p>
        </div>
    }
}
