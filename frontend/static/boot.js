// Starts the WebAssembly app. A separate file (not an inline script) because
// the Content-Security-Policy is script-src 'self' 'wasm-unsafe-eval'.
import init from './mailaudit_frontend.js';

// The wasm file's URL is given explicitly: wasm-bindgen run as a library
// (xtask) omits the default path from the generated init().
const wasmUrl = new URL('./mailaudit_frontend_bg.wasm', import.meta.url);

// The second module, the offline analysers (pasted configurations, mail
// logs), is fetched only when a tab that needs it is opened: the landing
// page, the domain audit and the widget run without it. The app calls this
// (frontend/src/offline.rs); every call answers the same loaded module.
let offline;
globalThis.mailauditOffline = () => {
  offline ??= import('./mailaudit_offline.js').then(async (m) => {
    await m.default({ module_or_path: new URL('./mailaudit_offline_bg.wasm', import.meta.url) });
    // Warm-up: the browser compiles a wasm function the first time it runs,
    // and the analysers are built for speed (large code), so the first paste
    // would pay that compile. Analysing each software's small built-in
    // sample now, while the user is still copying a file, does it in advance.
    for (const software of ['postfix', 'exim', 'sendmail', 'exchange', 'fail2ban']) {
      try {
        m.analyse_config(m.sample(software, 'weak'), software, '', '2026-01-01T00:00:00Z');
      } catch (err) {
        console.warn('mailaudit: analyser warm-up failed', software, err);
      }
    }
    document.documentElement.dataset.analysers = 'ready'; // for the browser tests
    return m;
  });
  offline.catch(() => { offline = undefined; }); // a failed load is tried again next time
  return offline;
};

init({ module_or_path: wasmUrl }).catch((err) => {
  console.error('mailaudit: could not start', err);
  const app = document.getElementById('app');
  if (!app) return;
  const p = document.createElement('p');
  p.className = 'alert wrap';
  p.setAttribute('role', 'alert');
  p.textContent = 'mailaudit could not start in this browser (it needs WebAssembly). '
    + 'Reload the page, or use the mailaudit command line tool.';
  app.replaceChildren(p);
});
