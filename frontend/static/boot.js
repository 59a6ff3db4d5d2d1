// Starts the WebAssembly app. A separate file (not an inline script) because
// the Content-Security-Policy is script-src 'self' 'wasm-unsafe-eval'.
import init from './mailaudit_frontend.js';

// The wasm file's URL is given explicitly: wasm-bindgen run as a library
// (xtask) omits the default path from the generated init().
const wasmUrl = new URL('./mailaudit_frontend_bg.wasm', import.meta.url);

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
