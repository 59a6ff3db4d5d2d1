// Worker start-up and concurrent audits under workerd (wrangler dev on the
// loopback, resolver unreachable, limits off). Run after `cargo xtask
// build-worker`: WORKER_DIR=worker/build node bench/worker_local.mjs
// (BENCHMARKS.md, "The Worker as a public service").
import { startWorkerLocal } from "../tests/e2e/lib.mjs";
const { proc, base, startMs } = await startWorkerLocal({ RATE_TARGET_LIMIT: "0", RATE_CLIENT_LIMIT: "0" });
const t = async (f) => { const t0 = performance.now(); await f(); return performance.now() - t0; };
const first = await t(() => fetch(`${base}/api/v1/rules`).then((r) => r.text()));
const second = await t(() => fetch(`${base}/api/v1/rules`).then((r) => r.text()));
const audits = [];
for (let i = 0; i < 5; i++) audits.push(await t(() => fetch(`${base}/api/v1/audit`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ domain: `a${i}.example.org` }) }).then((r) => r.json())));
const t0 = performance.now();
const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${base}/api/v1/audit`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ domain: `c${i}.example.org` }) }).then((r) => r.status)));
const par = performance.now() - t0;
console.log(JSON.stringify({ startMs, firstRulesMs: first, secondRulesMs: second, auditsMs: audits, par50Ms: par, statuses: [...new Set(rs)], failed: rs.filter((s) => s !== 200).length }));
proc.stop();
setTimeout(() => process.exit(0), 500);
