// The Worker's entry module: instantiate the Rust/wasm module once per
// isolate and hand every request to it. Built by `cargo xtask build-worker`.
import { initSync, fetch as wasmFetch } from "./build/index.js";
import wasmModule from "./build/index_bg.wasm";

initSync({ module: wasmModule });

export default {
  fetch(request, env, ctx) {
    return wasmFetch(request, env, ctx);
  },
};
