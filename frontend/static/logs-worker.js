// The mail-log analyser's Web Worker. It loads only the second wasm module,
// the offline analysers (frontend/offline), whose logs_worker() installs the
// message handler and posts {type: 'ready'}. A file, not inline code: the
// Content-Security-Policy allows scripts from 'self' only.
import init, { logs_worker } from './mailaudit_offline.js';

init({ module_or_path: new URL('./mailaudit_offline_bg.wasm', import.meta.url) })
  .then(() => logs_worker())
  .catch((err) => {
    self.postMessage({ type: 'error', message: `the log analyser could not start: ${err}` });
  });
