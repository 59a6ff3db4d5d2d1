// Runs the Worker under workerd without wrangler dev's proxy and
// inspector: Miniflare (the library wrangler dev itself drives) with the
// Worker options wrangler reads from wrangler.toml
// (`unstable_getMiniflareWorkerOptions`: the same bindings, Durable
// Object, KV namespace, static assets and compatibility date), one workerd
// process, and no DevTools session on it. Started by tests/e2e/lib.mjs
// (`startWorkerd`) inside the test bed's namespace.
//
// Why (BENCHMARKS.md, "The Worker as a public service", 2026-11-30):
// `wrangler dev` connects an inspector to the Worker's isolate and enables
// its Network domain, so workerd reports every subrequest (each DoH query)
// to wrangler's InspectorProxyWorker, which forwards every such message to
// wrangler's node process as an HTTP request and keeps it in a buffer that
// no DevTools ever drains. That costs more CPU than the audit itself and
// grows without bound under load. This runner is what a deployed Worker
// has: the same code under workerd, no debugger.
//
//   node tests/e2e/workerd-runner.mjs IP PORT PERSIST_DIR [NAME=VALUE ...]
//
// Prints `ready http://IP:PORT` once it answers; stops on SIGINT/SIGTERM.
import { Miniflare } from "miniflare";
import wrangler from "wrangler";
import { join, resolve } from "node:path";

const [ip, port, persist, ...pairs] = process.argv.slice(2);
if (!ip || !port || !persist) {
  console.error("usage: workerd-runner.mjs IP PORT PERSIST_DIR [NAME=VALUE ...]");
  process.exit(2);
}
const vars = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
const root = new URL("../../", import.meta.url).pathname;
const { workerOptions, main } = wrangler.unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"));

const mf = new Miniflare({
  host: ip,
  port: Number(port),
  // No request.cf from the network (the bed has no route out anyway).
  cf: false,
  defaultPersistRoot: persist,
  workers: [{
    name: "mailaudit",
    ...workerOptions,
    modules: true,
    // wrangler bundles the modules; unbundled, the wasm-bindgen glue
    // (worker/build/index.js) is an ES module like worker/entry.mjs.
    modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }, ...workerOptions.modulesRules],
    scriptPath: resolve(root, main),
    bindings: { ...(workerOptions.bindings || {}), ...vars },
  }],
});
const url = await mf.ready;
console.log(`ready ${url.href.replace(/\/$/, "")}`);
const stop = async () => {
  try {
    await mf.dispose();
  } finally {
    process.exit(0);
  }
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
