// The audit_cpu bench (shared/benches/audit_cpu.rs) built for
// wasm32-unknown-unknown and run in node: the engine as the edge runs it
// (wasm, V8), on the same recorded test-bed answers, timed with
// performance.now() around each audit. Prints the bench's JSON summary.
//
//   CARGO_TARGET_DIR=… cargo build -p mailaudit-core --bench audit_cpu --release --target wasm32-unknown-unknown
//   node bench/audit_cpu_wasm.mjs [RUNS] [WASM] [FIXTURE_DIR]
//
// WASM defaults to the newest $CARGO_TARGET_DIR/wasm32-unknown-unknown/release/deps/audit_cpu-*.wasm.
// The module is instantiated without wasm-bindgen: its only import used is
// env.now_ms; the bindgen placeholders some dependencies import (getrandom's
// JS backend) are stubs that throw, and an audit never calls them.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const runs = Number(process.argv[2] || 50);
const root = new URL("../", import.meta.url).pathname;
let wasmPath = process.argv[3];
if (!wasmPath) {
  const deps = path.join(process.env.CARGO_TARGET_DIR || path.join(root, "target"), "wasm32-unknown-unknown/release/deps");
  const found = readdirSync(deps).filter((f) => /^audit_cpu-.*\.wasm$/.test(f)).map((f) => path.join(deps, f));
  found.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!found.length) throw new Error(`no audit_cpu-*.wasm in ${deps}: build it first (see the header)`);
  wasmPath = found[0];
}
const fixtureDir = process.argv[4] || path.join(root, "tests/fixtures/audit_cpu");

const module = new WebAssembly.Module(readFileSync(wasmPath));
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) {
  imports[imp.module] ??= {};
  if (imp.module === "env" && imp.name === "now_ms") imports.env.now_ms = () => performance.now();
  else if (imp.kind === "function") imports[imp.module][imp.name] = () => { throw new Error(`${imp.module}.${imp.name} called`); };
}
const { exports } = new WebAssembly.Instance(module, imports);
const result = () => new TextDecoder().decode(new Uint8Array(exports.memory.buffer, exports.bench_result_ptr(), exports.bench_result_len()));

const files = readdirSync(fixtureDir).filter((f) => f.endsWith(".json")).sort();
for (const f of files) {
  const bytes = readFileSync(path.join(fixtureDir, f));
  const ptr = exports.bench_alloc(bytes.length);
  new Uint8Array(exports.memory.buffer, ptr, bytes.length).set(bytes);
  if (exports.bench_add() !== 0) throw new Error(`${f}: ${result()}`);
}
if (exports.bench_run(runs) !== 0) throw new Error(result());
const summary = result();
console.log(`wasm (${path.basename(wasmPath)}, node ${process.version}): ${summary}`);
// The same two figures as the native bench, for `cargo xtask bench`.
const s = JSON.parse(summary);
const how = `wasm, V8 (node ${process.version}), performance.now()`;
for (const [figure, ms] of [
  [`engine CPU per Worker audit (${how}), mean over ${s.domains} recorded test-bed domains, median of 5 windows of ${s.audits_per_window} audits`, s.mean_ms_per_audit],
  [`same, slowest domain (${how})`, s.slowest_domain_ms_per_audit],
]) {
  console.log(`BENCH_RESULT ${JSON.stringify({ figure, ours: ms, unit: "ms", target: "under 10 ms", met: ms < 10 })}`);
}
