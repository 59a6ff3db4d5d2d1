// `mailaudit serve` as a public service: the cached read, the rate limits
// per target and per client (in memory, the same logic as the Worker's
// Durable Object), and one JSON log line per audit request on stderr. No
// DNS is needed: the resolver cannot be reached, so audits end at once with
// unknowns.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { completeLines, requireEnv, start, waitHttp, waitServeUrl } from "./lib.mjs";

let proc;
let base;

before(async () => {
  proc = start(requireEnv("MAILAUDIT_BIN"), [
    "serve", "--listen", "127.0.0.1:0", "--site", requireEnv("MAILAUDIT_SITE"),
    "--resolver", "https://127.0.0.1:9/dns-query",
    "--target-limit", "3", "--client-limit", "8", "--client-ip-header", "x-test-client",
  ]);
  base = await waitServeUrl(proc);
  await waitHttp(`${base}/healthz`, proc, 20_000);
});

after(() => proc && proc.stop());

async function get(path, client = "192.0.2.10") {
  const r = await fetch(`${base}${path}`, { headers: { "x-test-client": client } });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

async function post(domain, client = "192.0.2.10") {
  const r = await fetch(`${base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-test-client": client },
    body: JSON.stringify({ domain }),
  });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("serve: the cached read, fresh=1, and POST refreshing it", async () => {
  const first = await get("/api/v1/audit/example.org");
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("x-mailaudit-cache"), "miss");
  const hit = await get("/api/v1/audit/Example.ORG");
  assert.equal(hit.headers.get("x-mailaudit-cache"), "hit");
  assert.deepEqual(hit.body, first.body);
  await sleep(1100);
  const fresh = await get("/api/v1/audit/example.org?fresh=1");
  assert.equal(fresh.headers.get("x-mailaudit-cache"), "miss");
  assert.notEqual(fresh.body.generated_at, first.body.generated_at);
  assert.equal((await get("/api/v1/audit/example.org")).body.generated_at, fresh.body.generated_at);
  assert.equal((await get("/api/v1/audit/example.org?selectors=s1")).headers.get("x-mailaudit-cache"), "miss");
  assert.equal((await get("/api/v1/audit/example.org?selectors=S1,s1")).headers.get("x-mailaudit-cache"), "hit");
  assert.equal((await get("/api/v1/audit/localhost")).body.error.code, "bad_domain");
  assert.equal((await get("/api/v1/audit/example.org?x=1")).body.error.code, "bad_request");
  assert.equal((await get("/api/v1/nope")).status, 404);
});

test("serve: per-target and per-client limits answer 429 with Retry-After", async () => {
  // example.org has had 3 audits above: its limit is reached; cached reads still answer.
  const refused = await post("example.org", "192.0.2.20");
  assert.equal(refused.status, 429);
  assert.match(refused.body.error.message, /of this domain: at most 3 in 1 h/);
  const retry = Number(refused.headers.get("retry-after"));
  assert.ok(retry > 3500 && retry <= 3600, `retry-after ${retry}`);
  assert.equal((await get("/api/v1/audit/example.org", "192.0.2.20")).headers.get("x-mailaudit-cache"), "hit");
  // Client 192.0.2.30: 8 audits of different domains, then 429.
  for (let i = 0; i < 8; i++) assert.equal((await post(`d${i}.example.net`, "192.0.2.30")).status, 200, `audit ${i}`);
  const limited = await post("other.example.net", "192.0.2.30");
  assert.equal(limited.status, 429);
  assert.match(limited.body.error.message, /from your address: at most 8 in 10 min/);
  // Another client is not affected.
  assert.equal((await post("other.example.net", "192.0.2.31")).status, 200);
});

test("serve: one JSON log line per audit request on stderr, without client addresses", async () => {
  const lines = completeLines(proc.output()).filter((l) => l.startsWith('{"event":"audit"')).map((l) => JSON.parse(l));
  assert.ok(lines.length >= 15, `${lines.length} lines`);
  for (const outcome of ["ok", "cached", "rate_limited_target", "rate_limited_client", "bad_domain", "bad_request"]) {
    assert.ok(lines.some((l) => l.outcome === outcome), `no ${outcome} line`);
  }
  const ok = lines.find((l) => l.outcome === "ok");
  assert.equal(typeof ok.duration_ms, "number");
  assert.ok(ok.subrequests > 0);
  assert.match(ok.client, /^client:[0-9a-f]{16}$/);
  assert.doesNotMatch(proc.output(), /192\.0\.2\.(10|20|30|31)/);
});
