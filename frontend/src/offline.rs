//! The second WebAssembly module, the offline analysers
//! (`frontend/offline`, crate `mailaudit-offline`): loaded by `boot.js`'s
//! `mailauditOffline()` the first time a tab that needs it is opened, so the
//! landing page, the domain audit and the widget load only this module.
//! The two exchange strings (JSON of [`crate::wire`]).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// The loaded module's exports (loaded once; later calls answer at once).
pub async fn module() -> Result<JsValue, String> {
    let load = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("mailauditOffline"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or("the analysers' loader is missing (boot.js)")?;
    let promise = load
        .call0(&JsValue::NULL)
        .ok()
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
        .ok_or("the analysers' loader failed")?;
    JsFuture::from(promise).await.map_err(|e| {
        format!(
            "the analysers could not be loaded ({}); check the connection and try again",
            describe(&e)
        )
    })
}

/// Starts loading the module without waiting for it (a tab that needs it
/// was opened).
pub fn preload() {
    wasm_bindgen_futures::spawn_local(async {
        let _ = module().await;
    });
}

/// Calls the module's function `name` with string arguments; its answer is
/// a string.
pub fn call(module: &JsValue, name: &str, args: &[&str]) -> Result<String, String> {
    let args: Vec<JsValue> = args.iter().map(|a| JsValue::from_str(a)).collect();
    method(module, name, &args)?
        .as_string()
        .ok_or_else(|| format!("{name} gave no answer"))
}

/// `new module[class]()`: an instance of a class the module exports.
pub fn construct(module: &JsValue, class: &str) -> Result<JsValue, String> {
    let ctor = js_sys::Reflect::get(module, &JsValue::from_str(class))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(|| format!("the analysers have no {class}"))?;
    js_sys::Reflect::construct(&ctor, &js_sys::Array::new()).map_err(|e| describe(&e))
}

/// Calls `object.name(args…)` (an instance from [`construct`], or the
/// module itself).
pub fn method(object: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f = js_sys::Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(|| format!("the analysers have no {name}"))?;
    let list: js_sys::Array = args.iter().collect();
    f.apply(object, &list).map_err(|e| describe(&e))
}
