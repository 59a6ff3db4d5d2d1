//! The page's clocks, read in one place (the engine never reads a clock:
//! the time is passed in).

/// Milliseconds from the page's clock (`performance.now()`).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// The current time as RFC 3339 without fractional seconds
/// (`2026-11-29T07:00:00Z`).
pub fn now_rfc3339() -> String {
    let iso: String = js_sys::Date::new_0().to_iso_string().into();
    match iso.find('.') {
        Some(dot) if iso.ends_with('Z') => format!("{}Z", &iso[..dot]),
        _ => iso,
    }
}
