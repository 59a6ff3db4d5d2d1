// The Worker's entry module: instantiate the Rust/wasm module once per
// isolate and hand every request to it. Built by `cargo xtask build-worker`.
import { initSync, fetch as wasmFetch, scheduled as wasmScheduled, RateLimiter as WasmRateLimiter } from "./build/index.js";
import wasmModule from "./build/index_bg.wasm";

initSync({ module: wasmModule });

export default {
  fetch(request, env, ctx) {
    return wasmFetch(request, env, ctx);
  },
  // The Cron Trigger (monitoring of registered domains).
  scheduled(event, env, ctx) {
    return wasmScheduled(event, env, ctx);
  },
};

// The rate limiter Durable Object (worker/src/lib.rs, `RateLimiter`): the
// runtime constructs the exported class per object and calls its handlers.
export class RateLimiter {
  constructor(state, env) {
    this.inner = new WasmRateLimiter(state, env);
  }
  fetch(request) {
    return this.inner.fetch(request);
  }
  alarm() {
    return this.inner.alarm();
  }
}
