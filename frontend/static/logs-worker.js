// The mail-log analyser's Web Worker. It loads the page's own wasm module:
// in a worker there is no window, so the module's main() installs the
// message handler (frontend/src/logs.rs, worker_main) instead of drawing the
// page, and posts {type: 'ready'}. A file, not inline code: the
// Content-Security-Policy allows scripts from 'self' only.
import init from './mailaudit_frontend.js';

init({ module_or_path: new URL('./mailaudit_frontend_bg.wasm', import.meta.url) }).catch((err) => {
  self.postMessage({ type: 'error', message: `the log analyser could not start: ${err}` });
});
