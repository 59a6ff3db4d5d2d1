// `wrangler deploy --dry-run`: the built Worker bundles with its bindings
// (the RateLimiter Durable Object and its migration, the MONITOR KV
// namespace, the variables, the
// static assets) exactly as a real deployment would upload it — offline, no
// account needed — and stays under the free plan's 3 MB (gzip) limit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireEnv } from "./lib.mjs";

test("wrangler deploy --dry-run succeeds with every binding", () => {
  requireEnv("WORKER_DIR");
  const root = new URL("../../", import.meta.url).pathname;
  const out = mkdtempSync(join(tmpdir(), "mailaudit-dry-run-"));
  const r = spawnSync(`${root}node_modules/.bin/wrangler`, ["deploy", "--dry-run", "--outdir", out], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      CI: "true",
    },
  });
  const output = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, output);
  assert.match(output, /env\.RATE_LIMITER \(RateLimiter\)\s+Durable Object/);
  // Monitoring: the KV namespace (provisioned on the first real deploy).
  assert.match(output, /env\.MONITOR\s+KV Namespace/);
  for (const v of ["DOH_URL", "AUDIT_DEADLINE_SECS", "RATE_TARGET_LIMIT", "RATE_CLIENT_LIMIT", "CACHE_TTL_SECS"]) {
    assert.match(output, new RegExp(`env\\.${v} `), v);
  }
  assert.match(output, /Read \d+ files from the assets directory/);
  const m = /Total Upload: [\d.]+ KiB \/ gzip: ([\d.]+) KiB/.exec(output);
  assert.ok(m, output);
  assert.ok(Number(m[1]) < 3 * 1024, `gzip ${m[1]} KiB`);
  assert.ok(existsSync(join(out, "entry.js")), readdirSync(out).join(", "));
  // The Durable Object class is exported by the bundle the runtime loads.
  const bundle = readFileSync(join(out, "entry.js"), "utf8");
  const exports = bundle.slice(bundle.lastIndexOf("export {"));
  assert.match(exports, /\bas RateLimiter\b|\bRateLimiter\b/, exports);
});
