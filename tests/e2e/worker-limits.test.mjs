// The Worker as a public service under workerd (wrangler dev on the
// loopback; no test bed needed: its resolver is a closed port, so audits end
// at once with unknowns): the cached read (Cache API), the rate limits per
// target and per client (the RateLimiter Durable Object), the structured
// logs, and the overall deadline. Limits are lowered by variables so a few
// audits reach them; each wrangler run keeps its state in a fresh directory.
// Needs WORKER_DIR (`cargo xtask build-worker`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { completeLines, postStream, startWorkerLocal } from "./lib.mjs";

let wrangler;
let base;

// Target: 5 audits per domain an hour; client: 16 per 10 minutes.
before(async () => {
  ({ proc: wrangler, base } = await startWorkerLocal({
    RATE_TARGET_LIMIT: "5",
    RATE_CLIENT_LIMIT: "16",
    RATE_KEY_SALT: "test-salt",
  }));
});

after(() => wrangler && wrangler.stop());

async function get(path) {
  const r = await fetch(`${base}${path}`, { headers: { "cf-connecting-ip": CLIENT } });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

async function post(domain) {
  const r = await fetch(`${base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": CLIENT },
    body: JSON.stringify({ domain }),
  });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

// The address workerd sees as the client's (wrangler dev passes the header on).
const CLIENT = "203.0.113.77";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Client hits used here: 5 (target example.test: 4).
test("worker: GET /api/v1/audit/{domain} is cached for 10 minutes, fresh=1 audits again", async () => {
  const first = await get("/api/v1/audit/example.test");
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("x-mailaudit-cache"), "miss");
  assert.equal(first.body.target, "example.test");
  assert.match(first.headers.get("access-control-expose-headers"), /x-mailaudit-cache/);
  const again = await get("/api/v1/audit/EXAMPLE.test.");
  assert.equal(again.headers.get("x-mailaudit-cache"), "hit");
  assert.deepEqual(again.body, first.body);
  await sleep(1100); // a new generated_at second
  const fresh = await get("/api/v1/audit/example.test?fresh=1");
  assert.equal(fresh.headers.get("x-mailaudit-cache"), "miss");
  assert.notEqual(fresh.body.generated_at, first.body.generated_at);
  const after = await get("/api/v1/audit/example.test");
  assert.equal(after.headers.get("x-mailaudit-cache"), "hit");
  assert.equal(after.body.generated_at, fresh.body.generated_at);
  // Selectors are part of the key, normalised.
  const sel = await get("/api/v1/audit/example.test?selectors=sel1");
  assert.equal(sel.headers.get("x-mailaudit-cache"), "miss");
  assert.equal((await get("/api/v1/audit/example.test?selectors=SEL1,sel1")).headers.get("x-mailaudit-cache"), "hit");
  // A POST audits (never cached) and refreshes what GET reads.
  await sleep(1100);
  const p = await post("example.test");
  assert.equal(p.headers.get("x-mailaudit-cache"), "miss");
  const shared = await get("/api/v1/audit/example.test");
  assert.equal(shared.headers.get("x-mailaudit-cache"), "hit");
  assert.equal(shared.body.generated_at, p.body.generated_at);
  // Bad input: JSON errors, nothing audited.
  assert.equal((await get("/api/v1/audit/192.0.2.1")).body.error.code, "bad_domain");
  assert.equal((await get("/api/v1/audit/example.test?fresh=maybe")).body.error.code, "bad_request");
  // An IDN in the path, percent-encoded.
  const idn = await get(`/api/v1/audit/${encodeURIComponent("bücher.test")}`);
  assert.equal(idn.status, 200);
  assert.equal(idn.body.target, "xn--bcher-kva.test");
});

// Client hits used here: 8 (the refused ones count too). Total: 13.
test("worker: at most 5 audits of one domain, then 429 with Retry-After; cached reads still answer", async () => {
  for (let i = 0; i < 5; i++) {
    const r = await post("weak.test");
    assert.equal(r.status, 200, `audit ${i + 1}: ${JSON.stringify(r.body).slice(0, 200)}`);
  }
  const refused = await post("weak.test");
  assert.equal(refused.status, 429);
  assert.equal(refused.body.error.code, "rate_limited");
  assert.match(refused.body.error.message, /of this domain: at most 5 in 1 h/);
  const retry = Number(refused.headers.get("retry-after"));
  assert.ok(retry > 3500 && retry <= 3600, `retry-after ${retry}`);
  // The stream is refused the same way, before it starts.
  const s = await postStream(base, { domain: "weak.test" });
  assert.equal(s.status, 429);
  // The cached report of the limited domain is still served, uncounted.
  const cached = await get("/api/v1/audit/weak.test");
  assert.equal(cached.status, 200);
  assert.equal(cached.headers.get("x-mailaudit-cache"), "hit");
  assert.equal((await get("/api/v1/audit/weak.test?fresh=1")).status, 429);
});

test("worker: at most 16 audits per client, then 429 for any domain", async () => {
  let n = 0;
  let last;
  for (; n < 20; n++) {
    last = await post(`sub${n}.nomail.test`);
    if (last.status !== 200) break;
  }
  assert.equal(last.status, 429, JSON.stringify(last.body));
  assert.match(last.body.error.message, /from your address: at most 16 in 10 min/);
  const retry = Number(last.headers.get("retry-after"));
  assert.ok(retry > 500 && retry <= 600, `retry-after ${retry}`);
  assert.ok(n >= 1 && n < 16, `${n} audits before the client limit`);
});

test("worker: one JSON log line per audit request, naming no client address", async () => {
  // workerd's console output reaches wrangler's stdout a moment later.
  for (let i = 0; i < 50 && !wrangler.output().includes('"outcome":"rate_limited_client"'); i++) await sleep(100);
  const lines = completeLines(wrangler.output())
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{"event":"audit"'))
    .map((l) => JSON.parse(l));
  assert.ok(lines.length >= 20, `${lines.length} log lines`);
  const ok = lines.find((l) => l.outcome === "ok" && l.route === "post");
  assert.equal(ok.target, "example.test");
  assert.ok(ok.subrequests > 0 && ok.subrequests <= 50, JSON.stringify(ok));
  assert.ok(ok.duration_ms >= 0);
  assert.match(ok.client, /^client:[0-9a-f]{16}$/);
  for (const outcome of ["cached", "rate_limited_target", "rate_limited_client", "bad_domain", "bad_request"]) {
    assert.ok(lines.some((l) => l.outcome === outcome), `no ${outcome} line`);
  }
  assert.ok(lines.some((l) => l.route === "stream"));
  assert.doesNotMatch(wrangler.output(), /203\.0\.113\.77/);
});

/** A TCP server on the bed's host side that accepts and never says a word. */
async function blackHole() {
  const server = net.createServer(() => {});
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return server;
}

test("worker: checks not finished by the deadline are unknown: deadline", async () => {
  wrangler.stop();
  await sleep(1500);
  const hole = await blackHole();
  try {
    ({ proc: wrangler, base } = await startWorkerLocal({
      DOH_URL: `https://127.0.0.1:${hole.address().port}/dns-query`,
      AUDIT_DEADLINE_SECS: "2",
    }));
    const t0 = Date.now();
    const s = await postStream(base, { domain: "example.test" });
    const took = Date.now() - t0;
    assert.ok(took >= 1900 && took < 10_000, `answered after ${took} ms`);
    const report = s.lines.at(-1).obj.report;
    const live = (id) => id.startsWith("smtp.") || id.startsWith("tls.");
    for (const f of report.findings.filter((f) => !live(f.id))) {
      assert.equal(f.status, "unknown", f.id);
      assert.match(f.detail, /^Not decided: deadline\. .*\(2 s\)/, f.id);
    }
    assert.match(report.assumptions.find((a) => a.key === "deadline").value, /^reached after 2 s/);
  } finally {
    hole.close();
  }
});

test("worker: a plain-DNS DOH_URL is refused once, as 500 bad_config on both audit routes, and logged", async () => {
  wrangler.stop();
  await sleep(1500);
  ({ proc: wrangler, base } = await startWorkerLocal({ DOH_URL: "dns://127.0.0.1:53" }));
  const p = await post("example.test");
  assert.equal(p.status, 500);
  assert.equal(p.body.error.code, "bad_config");
  assert.match(p.body.error.message, /dns:\/\//);
  const g = await get("/api/v1/audit/example.test?fresh=1");
  assert.equal(g.status, 500);
  assert.equal(g.body.error.code, "bad_config");
  // A bad request is still a 400 before the configuration is looked at.
  assert.equal((await post("not a domain")).status, 400);
  for (let i = 0; i < 50 && (wrangler.output().match(/"outcome":"bad_config"/g) || []).length < 2; i++) await sleep(100);
  const outcomes = completeLines(wrangler.output())
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{"event":"audit"'))
    .map((l) => JSON.parse(l));
  const bad = outcomes.filter((l) => l.outcome === "bad_config");
  assert.deepEqual(bad.map((l) => l.route).sort(), ["get", "post"]);
  assert.ok(bad.every((l) => l.target === "example.test"), JSON.stringify(bad));
});
