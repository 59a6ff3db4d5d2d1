// Shared helpers for the end-to-end tests (node --test). The harness
// (`cargo xtask test`) sets MAILAUDIT_BIN, MAILAUDIT_SITE, BED_ENV, TEST_OUT
// and WORKER_DIR; a missing one is a failure, never a skip.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Node's fetch keeps connections alive; when a server closes an idle one
// just as the next request reuses it, that request fails with "fetch
// failed" (a socket error, nothing the server did wrong). Browsers retry a
// request on a reused connection that closes before any answer; so do the
// tests, once, and say so on stderr. Seen in CI: worker.test's second audit,
// after the first test had left the connection idle for seconds.
const fetchOnce = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  try {
    return await fetchOnce(input, init);
  } catch (e) {
    const code = e?.cause?.code;
    const resendable = init?.body === undefined || typeof init.body === "string";
    if (!["UND_ERR_SOCKET", "ECONNRESET"].includes(code) || !resendable) throw e;
    process.stderr.write(`# fetch ${String(input)}: ${code} on a kept-alive connection, retried once\n`);
    return fetchOnce(input, init);
  }
};

export function requireEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with \`cargo xtask test\``);
  return v;
}

/** Reads the test bed's bed.env and checks that its addresses are reached
 * through the bed's veth, so no test traffic can ever leave the machine. */
export function bed() {
  const path = requireEnv("BED_ENV");
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`test bed is not up (${path}: ${e.message}): run tests/testbed/bin/bed-up.sh`);
  }
  const env = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^([A-Z0-9_]+)=(.*)$/);
    if (m) env[m[1]] = m[2].replace(/^"|"$/g, "");
  }
  const route = spawnSync("ip", ["route", "get", env.BED_RESOLVER], { encoding: "utf8" });
  if (!route.stdout.includes(`dev ${env.BED_HOST_IFACE || "mb-host"}`)) {
    throw new Error(`refusing to run: ${env.BED_RESOLVER} is not routed through the test bed's veth (${route.stdout.trim()})`);
  }
  return env;
}

/** Runs the CLI; returns {code, stdout, stderr}. */
export function cli(args, input) {
  const r = spawnSync(requireEnv("MAILAUDIT_BIN"), args, {
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function findingsById(report) {
  return Object.fromEntries(report.findings.map((f) => [f.id, f]));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The lines of a process's output that are complete (end in a newline):
 * output arrives in chunks, and the last line may still be half written. */
export function completeLines(output) {
  return output.split("\n").slice(0, -1);
}

/** The base URL (no trailing slash) that `mailaudit serve` prints once it
 * listens, or null. The line must be complete: output arrives in chunks, and
 * a chunk cut inside the URL once gave "http://127" (a CI failure). */
export function serveUrl(output) {
  const m = /and the API on (http:\/\/\S+?)\/?\r?\n/.exec(output);
  return m ? m[1] : null;
}

/** Waits (up to `ms`) for `mailaudit serve` started by `start` to print its URL. */
export async function waitServeUrl(proc, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const base = serveUrl(proc.output());
    if (base) return base;
    if (Date.now() >= end) throw new Error(`mailaudit serve printed no URL within ${ms} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a long-running process in its own process group; `stop()` ends the group. */
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  return {
    child,
    output: () => output,
    stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, "SIGINT");
        } catch {}
        setTimeout(() => {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {}
        }, 3000).unref();
      }
    },
  };
}

/** Polls `url` until it answers (bounded). */
export async function waitHttp(url, proc, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc && proc.child.exitCode !== null) {
      throw new Error(`process exited early (${proc.child.exitCode}):\n${proc.output()}`);
    }
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${proc ? proc.output() : ""}`);
}

/** The security headers every response must carry (mailaudit_core::web),
 * and CORS on the API. `path` is the request path. */
export function assertPolicyHeaders(assert, resp, path) {
  const h = (n) => resp.headers.get(n) || "";
  assert.match(h("content-security-policy"), /script-src 'self' 'wasm-unsafe-eval'/, `${path}: CSP`);
  assert.doesNotMatch(h("content-security-policy"), /script-src[^;]*unsafe-inline/, `${path}: inline script allowed`);
  if (path.startsWith("/widget/")) {
    assert.match(h("content-security-policy"), /frame-ancestors \*/, `${path}: widget must be frameable`);
  } else {
    assert.match(h("content-security-policy"), /frame-ancestors 'none'/, `${path}: frame-ancestors`);
    assert.equal(h("x-frame-options"), "DENY", `${path}: x-frame-options`);
  }
  assert.match(h("strict-transport-security"), /max-age=\d+/, `${path}: HSTS`);
  assert.equal(h("x-content-type-options"), "nosniff", `${path}: nosniff`);
  assert.equal(h("referrer-policy"), "no-referrer", `${path}: referrer-policy`);
  if (path.startsWith("/api/")) {
    assert.equal(h("access-control-allow-origin"), "*", `${path}: CORS`);
    assert.equal(h("access-control-allow-credentials"), "", `${path}: no credentials`);
  } else {
    assert.equal(h("access-control-allow-origin"), "", `${path}: CORS only on the API`);
  }
}

/** Checks a server's routes for the policy headers and the API's CORS preflight. */
export async function checkPolicy(assert, base) {
  for (const path of ["/", "/api/v1/rules", "/healthz"]) {
    const r = await fetch(`${base}${path}`);
    assert.equal(r.status, 200, path);
    assertPolicyHeaders(assert, r, path);
  }
  const pre = await fetch(`${base}/api/v1/audit`, {
    method: "OPTIONS",
    headers: { origin: "https://consultancy.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  assert.equal(pre.status, 204);
  assert.match(pre.headers.get("access-control-allow-methods") || "", /POST/);
  assert.match(pre.headers.get("access-control-allow-headers") || "", /content-type/);
}

/** Runs the CLI inside the test bed's namespace: host names (mta-sts.*)
 * resolve through the bed's resolver there, and nothing can leave the
 * machine. Returns {code, stdout, stderr}. */
export function cliInBed(b, args, input) {
  const r = spawnSync("ip", ["netns", "exec", b.BED_NS, requireEnv("MAILAUDIT_BIN"), ...args], {
    input,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `mailaudit audit DOMAIN` inside the bed, against its resolver (or
 * `resolver`), with blocklist zones under `suffix` (the bed's `bl.test` by
 * default). Returns the report. */
export function auditInBed(b, domain, { resolver = b.BED_DOH_URL, suffix = "bl.test", extra = [] } = {}) {
  const r = cliInBed(b, [
    "audit", domain, "--resolver", resolver, "--ca-file", b.BED_CA,
    "--blocklist-zone-suffix", suffix, "--format", "json", ...extra,
  ]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`audit ${domain}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Starts the Worker under workerd (wrangler dev) inside the bed's
 * namespace: fetch() resolves bed names (mta-sts.*) through the bed's
 * resolver, and nothing the Worker does can leave the machine. Returns
 * {proc, base}. */
export async function startWorker(b, vars = {}) {
  return runWrangler({
    prefix: ["ip", "netns", "exec", b.BED_NS],
    ip: b.BED_WORKER_ADDR,
    vars: { DOH_URL: b.BED_DOH11_URL, ...vars },
    env: { NODE_EXTRA_CA_CERTS: b.BED_CA },
  });
}

/** Starts the Worker under workerd in the test bed's namespace without
 * wrangler dev's proxy and inspector (tests/e2e/workerd-runner.mjs: one
 * workerd process, run by Miniflare with the options wrangler reads from
 * wrangler.toml), as startWorker does otherwise. Used where the Worker's
 * own cost is measured or loaded (bench/load.mjs, load.test.mjs): under
 * wrangler dev, its inspector proxy costs more CPU per audit than the
 * Worker (BENCHMARKS.md). Returns {proc, base, startMs}. */
export async function startWorkerd(b, vars = {}) {
  requireEnv("WORKER_DIR");
  const port = await freePort();
  const persist = mkdtempSync(join(tmpdir(), "mailaudit-workerd-"));
  const root = new URL("../../", import.meta.url).pathname;
  const pairs = Object.entries({ DOH_URL: b.BED_DOH11_URL, ...vars }).map(([k, v]) => `${k}=${v}`);
  const t0 = Date.now();
  const proc = start("ip", ["netns", "exec", b.BED_NS, process.execPath, `${root}tests/e2e/workerd-runner.mjs`,
    b.BED_WORKER_ADDR, String(port), persist, ...pairs], {
    cwd: root,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: b.BED_CA, CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  return answering(proc, `http://${b.BED_WORKER_ADDR}:${port}`, t0);
}

/** Starts the Worker under workerd (wrangler dev) on the loopback, outside
 * the test bed, for tests that need no DNS: its resolver (DOH_URL, unless
 * `vars` sets one) is a closed port, so every audit ends at once with
 * unknowns. `args` are more wrangler dev flags (`--test-scheduled`).
 * Returns {proc, base, startMs} (startMs: spawn to first answer of
 * /healthz). */
export async function startWorkerLocal(vars = {}, args = []) {
  return runWrangler({ prefix: [], ip: "127.0.0.1", vars: { DOH_URL: "https://127.0.0.1:9/dns-query", ...vars }, env: {}, args });
}

async function runWrangler({ prefix, ip, vars, env, args = [] }) {
  requireEnv("WORKER_DIR");
  const port = await freePort();
  // Durable Object and cache state of this run only (wrangler would keep
  // it in .wrangler/state between runs: rate limits would carry over).
  const persist = mkdtempSync(join(tmpdir(), "mailaudit-wrangler-"));
  const root = new URL("../../", import.meta.url).pathname;
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const argv = [...prefix, `${root}node_modules/.bin/wrangler`,
    "dev", "--ip", ip, "--port", String(port), "--inspector-port", String(await freePort()),
    "--persist-to", persist, ...varArgs, ...args];
  const t0 = Date.now();
  const proc = start(argv[0], argv.slice(1), {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      CI: "true",
    },
  });
  return answering(proc, `http://${ip}:${port}`, t0);
}

/** Waits until a Worker started at `t0` answers `base`/healthz; returns
 * {proc, base, startMs} (startMs: spawn to first answer). */
async function answering(proc, base, t0) {
  try {
    await waitHttp(`${base}/healthz`, proc, 90_000);
  } catch (e) {
    // The caller never gets `proc` to stop: stop it here, or a workerd
    // that never answered outlives the test run.
    proc.stop();
    throw e;
  }
  return { proc, base, startMs: Date.now() - t0 };
}

/** POSTs an audit asking for the NDJSON stream; returns {status, headers,
 * lines: [{obj, chunk}]} where `chunk` is the index of the network read the
 * line was completed in (so a test can tell lines that arrived early). */
export async function postStream(base, body) {
  const r = await fetch(`${base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify(body),
  });
  if (!(r.headers.get("content-type") || "").startsWith("application/x-ndjson")) {
    return { status: r.status, headers: r.headers, json: await r.json(), lines: [] };
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  const lines = [];
  let pending = "";
  for (let chunk = 0; ; chunk++) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      lines.push({ obj: JSON.parse(text), chunk });
    }
  }
  if (pending.trim() !== "") throw new Error(`stream ended inside a line: ${pending}`);
  return { status: r.status, headers: r.headers, lines };
}

/** Checks an NDJSON audit stream against the format (docs/api.md): start
 * first (target, per-area counts), one finding line per finding of the
 * report, the report last, and at least one finding read before the report
 * (it was streamed, not written at the end). Returns the report. */
export function checkStream(assert, s, target) {
  assert.equal(s.status, 200);
  assert.match(s.headers.get("content-type"), /^application\/x-ndjson; charset=utf-8/);
  const { lines } = s;
  assert.ok(lines.length > 2, `only ${lines.length} lines`);
  const start = lines[0].obj;
  assert.equal(start.type, "start");
  assert.equal(start.target, target);
  const last = lines[lines.length - 1];
  assert.equal(last.obj.type, "report", JSON.stringify(last.obj).slice(0, 300));
  const report = last.obj.report;
  const findings = lines.slice(1, -1).map((l) => l.obj);
  assert.ok(findings.every((l) => l.type === "finding"), "only findings between start and report");
  const key = (f) => JSON.stringify(f);
  assert.deepEqual(findings.map((l) => key(l.finding)).sort(), report.findings.map(key).sort());
  const total = Object.values(start.areas).reduce((a, b) => a + b, 0);
  assert.equal(total, report.findings.length, "start announced every finding");
  const firstFinding = lines[1].chunk;
  assert.ok(firstFinding < last.chunk, `first finding read with the report (read ${firstFinding} of ${last.chunk})`);
  return report;
}

/** A report with its time and the resolver's counting-down TTLs taken out. */
export function normalised(report) {
  const copy = structuredClone(report);
  delete copy.generated_at;
  for (const f of copy.findings) {
    for (const e of f.evidence || []) {
      if (e.answers) e.answers = e.answers.map((a) => a.replace(/^(\S+) \d+ /, "$1 TTL "));
    }
  }
  return copy;
}
