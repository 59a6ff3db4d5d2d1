// Monitoring under workerd (wrangler dev on the loopback, no test bed):
// registration with a TXT proof of control, the webhook guard, the Cron
// Trigger (`--test-scheduled`, GET /__scheduled) posting changes to a
// webhook in the chosen format, management by key, the rate limit and the
// logs. The Worker's resolver is a DNS-over-HTTPS stub in this process
// (RFC 8484 wire format, answers from a zone the test edits); the webhook
// is a receiver in this process, allowed by the test-only variable
// MONITOR_TEST_WEBHOOK_ORIGIN. Needs WORKER_DIR (`cargo xtask build-worker`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import { completeLines, startWorkerLocal } from "./lib.mjs";
import { dohStub } from "./doh-stub.mjs";

// ---- the DoH stub (doh-stub.mjs) ---------------------------------------

/** name → {A: [...], AAAA: [...], MX: [[pref, host]], TXT: [...]}; a name
 * not in the zone is NXDOMAIN, a type not at a name is an empty NOERROR. */
const zone = new Map();
/** Names answered 127.0.0.2 (blocklist entries), besides every list's
 * documented test entry 127.0.0.2 (`2.0.0.127.<zone>`). */
const listed = new Set();

// ---- a webhook receiver -------------------------------------------------

const posts = [];

function webhookServer() {
  return http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      posts.push({ path: req.url, type: req.headers["content-type"], body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(200);
      res.end("ok");
    });
  });
}

async function listen(server) {
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return server.address().port;
}

// ---- the Worker ---------------------------------------------------------

let wrangler;
let base;
let doh;
let hook;
let hookOrigin;
const SECRET = "T000/B000/SECRETwebhookpath42";
const OWNER = "198.51.100.10";

before(async () => {
  doh = await dohStub(zone, { listed });
  hook = webhookServer();
  hookOrigin = `http://127.0.0.1:${await listen(hook)}`;
  ({ proc: wrangler, base } = await startWorkerLocal(
    {
      DOH_URL: doh.url,
      MONITOR_TEST_WEBHOOK_ORIGIN: hookOrigin,
      // Every run audits every domain again, three domains per run.
      MONITOR_INTERVAL_SECS: "0",
      MONITOR_SUBREQUESTS: "200",
      MONITOR_CLIENT_LIMIT: "20",
      RATE_KEY_SALT: "test-salt",
    },
    ["--test-scheduled"],
  ));
});

after(() => {
  wrangler && wrangler.stop();
  doh && doh.close();
  hook && hook.close();
});

async function call(method, path, body, { client = OWNER, key } = {}) {
  const headers = { "content-type": "application/json", "cf-connecting-ip": client };
  if (key) headers.authorization = `Bearer ${key}`;
  const r = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs the Cron Trigger once; returns the posts it made. */
async function cron() {
  const before = posts.length;
  const r = await fetch(`${base}/__scheduled?cron=${encodeURIComponent("*/10 * * * *")}`);
  assert.equal(r.status, 200, await r.text());
  // The handler has finished when the endpoint answers; a moment for the
  // receiver's request handler.
  await sleep(300);
  return posts.slice(before);
}

/** A mail domain in the stub's zone: MX on a public address, SPF, DMARC. */
function publish(domain, mxHost = `mx1.${domain}`) {
  zone.set(domain, { MX: [[10, mxHost]], TXT: ["v=spf1 mx -all"] });
  zone.set(mxHost, { A: ["45.77.10.25"] });
  zone.set(`_dmarc.${domain}`, { TXT: ["v=DMARC1; p=reject; rua=mailto:d@" + domain] });
}

const slackDomain = "watched.test";
const teamsDomain = "teams-watched.test";
let slackKey;

test("monitor: webhooks that could reach private or plain-text targets are refused", async () => {
  zone.set("hooks.internal.test", { A: ["10.1.2.3"] });
  zone.set("hooks.mixed.test", { A: ["8.8.8.8"], AAAA: ["::1"] });
  zone.set("hooks.public.test", { A: ["8.8.4.4"] });
  for (const [webhook, why] of [
    ["https://127.0.0.1/hook", /not public/],
    ["http://hooks.public.test/hook", /must use https/],
    ["https://10.0.0.1/hook", /not public/],
    ["https://[::ffff:10.0.0.1]/hook", /not public/],
    ["https://169.254.169.254/latest/meta-data", /not public/],
    ["https://hooks.internal.test/hook", /hooks\.internal\.test is refused: address 10\.1\.2\.3 is not public/],
    ["https://hooks.mixed.test/hook", /address ::1 is not public/],
    ["https://hooks.nowhere.test/hook", /could not be resolved|no address/],
    ["https://user:pw@hooks.public.test/hook", /user name/],
    [hookOrigin.replace("http:", "https:") + "/hook", /not public/],
  ]) {
    const r = await call("POST", "/api/v1/monitor", { domain: slackDomain, webhook, format: "slack" });
    assert.equal(r.status, 400, `${webhook}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, "bad_webhook", webhook);
    assert.match(r.body.error.message, why, webhook);
  }
  // A public host passes the guard (and stays pending: nobody proves it).
  const ok = await call("POST", "/api/v1/monitor", { domain: "other.test", webhook: "https://hooks.public.test/x" });
  assert.equal(ok.status, 202, JSON.stringify(ok.body));
  // Bad requests.
  assert.equal((await call("POST", "/api/v1/monitor", { domain: "192.0.2.1", webhook: hookOrigin })).body.error.code, "bad_domain");
  assert.equal((await call("POST", "/api/v1/monitor", { domain: slackDomain, webhook: hookOrigin, format: "irc" })).body.error.code, "bad_request");
});

test("monitor: registration is refused until the TXT token is published, then active", async () => {
  publish(slackDomain);
  const reg = await call("POST", "/api/v1/monitor", { domain: slackDomain, webhook: `${hookOrigin}/hook/${SECRET}`, format: "slack" });
  assert.equal(reg.status, 202, JSON.stringify(reg.body));
  assert.equal(reg.body.state, "pending");
  assert.equal(reg.body.txt.name, `_mailaudit.${slackDomain}`);
  assert.equal(reg.body.txt.value, `mailaudit-verify=${reg.body.token}`);
  assert.match(reg.body.token, /^[0-9a-f]{32}$/);
  assert.match(reg.body.management_key, /^[0-9a-f]{64}$/);
  slackKey = reg.body.management_key;
  // No TXT record yet.
  const early = await call("POST", "/api/v1/monitor/verify", { domain: slackDomain, token: reg.body.token });
  assert.equal(early.status, 403, JSON.stringify(early.body));
  assert.equal(early.body.error.code, "not_verified");
  assert.match(early.body.error.message, /_mailaudit\.watched\.test has no TXT record/);
  // A stranger's pending registration of the same domain.
  const stranger = await call(
    "POST", "/api/v1/monitor",
    { domain: slackDomain, webhook: `${hookOrigin}/stranger`, format: "json" },
    { client: "192.0.2.66" },
  );
  assert.equal(stranger.status, 202);
  // The owner publishes the record: their registration activates...
  zone.set(`_mailaudit.${slackDomain}`, { TXT: ["unrelated text", reg.body.txt.value] });
  const ok = await call("POST", "/api/v1/monitor/verify", { domain: slackDomain, token: reg.body.token });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.state, "active");
  assert.equal(ok.body.webhook_host, "127.0.0.1");
  assert.doesNotMatch(JSON.stringify(ok.body), /SECRET/);
  // ...the stranger's does not (its token is not the published one).
  const theirs = await call("POST", "/api/v1/monitor/verify", { domain: slackDomain, token: stranger.body.token }, { client: "192.0.2.66" });
  assert.equal(theirs.status, 403);
  // An unknown token, and a pending registration cannot be verified twice.
  assert.equal((await call("POST", "/api/v1/monitor/verify", { domain: slackDomain, token: "0".repeat(32) })).status, 404);
  assert.equal((await call("POST", "/api/v1/monitor/verify", { domain: slackDomain, token: reg.body.token })).status, 404);
  // The owner reads the state with the key; without it, nothing.
  const view = await call("GET", `/api/v1/monitor/${slackDomain}`, undefined, { key: slackKey });
  assert.equal(view.status, 200);
  assert.equal(view.body.state, "active");
  assert.equal(view.body.last_checked_at, null);
  assert.equal((await call("GET", `/api/v1/monitor/${slackDomain}`)).status, 404);
  assert.equal((await call("GET", `/api/v1/monitor/${slackDomain}`, undefined, { key: "f".repeat(64) })).status, 404);

  // A second domain, Teams format.
  publish(teamsDomain);
  const t = await call("POST", "/api/v1/monitor", { domain: teamsDomain, webhook: `${hookOrigin}/teams`, format: "teams" });
  zone.set(`_mailaudit.${teamsDomain}`, { TXT: [t.body.txt.value] });
  assert.equal((await call("POST", "/api/v1/monitor/verify", { domain: teamsDomain, token: t.body.token })).status, 200);
});

test("monitor: the cron run posts a baseline, nothing when nothing changed, then the changes", async () => {
  const first = await cron();
  assert.equal(first.length, 2, JSON.stringify(first));
  const slack = first.find((p) => p.path === `/hook/${SECRET}`);
  assert.equal(slack.type, "application/json");
  assert.match(slack.body.text, /^mailaudit now monitors watched\.test: \d+ fail, \d+ warn$/);
  assert.equal(slack.body.blocks[0].type, "header");
  const teams = first.find((p) => p.path === "/teams");
  assert.equal(teams.body.type, "message");
  assert.equal(teams.body.attachments[0].contentType, "application/vnd.microsoft.card.adaptive");
  assert.match(teams.body.attachments[0].content.body[0].text, /now monitors teams-watched\.test/);
  assert.equal(teams.body.attachments[0].content.actions[0].url, `${base}/?domain=${teamsDomain}`);

  // Same DNS, same answers: no post.
  assert.deepEqual(await cron(), []);

  // The MX address gets listed on Spamhaus ZEN and the MX record changes.
  listed.add("25.10.77.45.zen.spamhaus.org");
  zone.set(slackDomain, { ...zone.get(slackDomain), MX: [[20, `mx2.${slackDomain}`]] });
  zone.set(`mx2.${slackDomain}`, { A: ["45.77.10.25"] });
  const changed = await cron();
  const post = changed.find((p) => p.path === `/hook/${SECRET}`);
  assert.ok(post, JSON.stringify(changed));
  assert.match(post.body.text, /^mailaudit: watched\.test changed/);
  const text = post.body.blocks.map((b) => (b.text && b.text.text) || "").join("\n");
  assert.match(text, /blocklist\.ip pass → fail: .*45\.77\.10\.25/);
  assert.match(text, /DNS watched\.test MX: \+ watched\.test MX 20 mx2\.watched\.test\.?; − watched\.test MX 10 mx1\.watched\.test/);
  // The Teams domain sees the new listing too (same MX address)? No: its
  // MX host is mx1.teams-watched.test on the same address — it is listed.
  const t = changed.find((p) => p.path === "/teams");
  assert.ok(t, "the Teams domain's MX address is listed too");
  assert.match(JSON.stringify(t.body), /blocklist\.ip pass → fail/);

  // The owner sees when it was checked.
  const view = await call("GET", `/api/v1/monitor/${slackDomain}`, undefined, { key: slackKey });
  assert.match(view.body.last_checked_at, /^\d{4}-\d\d-\d\dT/);
  assert.ok(view.body.last_summary.fail >= 1);
});

test("monitor: deleting needs the management key; a deleted domain is not audited", async () => {
  assert.equal((await call("DELETE", `/api/v1/monitor/${slackDomain}`, undefined, { key: "0".repeat(64) })).status, 404);
  const del = await call("DELETE", `/api/v1/monitor/${slackDomain}`, undefined, { key: slackKey });
  assert.equal(del.status, 200);
  assert.equal(del.body.state, "deleted");
  listed.delete("25.10.77.45.zen.spamhaus.org");
  const after = await cron();
  assert.deepEqual(after.map((p) => p.path), ["/teams"], "only the Teams domain is still monitored");
});

test("monitor: registrations are rate limited per client", async () => {
  let r;
  let n = 0;
  for (; n < 25; n++) {
    r = await call("POST", "/api/v1/monitor", { domain: `d${n}.test`, webhook: `${hookOrigin}/x` }, { client: "192.0.2.99" });
    if (r.status !== 202) break;
  }
  assert.equal(n, 20, JSON.stringify(r.body));
  assert.equal(r.status, 429);
  assert.match(r.body.error.message, /too many monitoring requests from your address: at most 20 in 1 h/);
  assert.ok(Number(r.headers.get("retry-after")) > 0);
});

test("monitor: JSON logs, with no webhook path, token or key", async () => {
  await sleep(500);
  const out = wrangler.output();
  assert.doesNotMatch(out, /SECRETwebhookpath/);
  assert.ok(!out.includes(slackKey), "management key in the logs");
  const lines = completeLines(out).map((l) => l.trim()).filter((l) => l.startsWith('{"'));
  const events = lines.map((l) => JSON.parse(l));
  const runs = events.filter((e) => e.event === "monitor");
  for (const outcome of ["baseline", "unchanged", "changed"]) {
    assert.ok(runs.some((e) => e.outcome === outcome), `no ${outcome} line`);
  }
  const changed = runs.find((e) => e.outcome === "changed");
  assert.equal(changed.webhook_host, "127.0.0.1");
  assert.ok(changed.subrequests > 0 && changed.subrequests <= 50, JSON.stringify(changed));
  const api = events.filter((e) => e.event === "monitor_api");
  for (const outcome of ["pending", "not_verified", "active", "bad_webhook", "rate_limited"]) {
    assert.ok(api.some((e) => e.outcome === outcome), `no ${outcome} API line`);
  }
  assert.ok(api.every((e) => !("webhook" in e) && !("token" in e)));
  assert.doesNotMatch(out, /198\.51\.100\.10|192\.0\.2\.99/, "client addresses");
});

test("monitor: docs/openapi.json documents these routes as the Worker's", () => {
  const spec = JSON.parse(readFileSync(new URL("../../docs/openapi.json", import.meta.url), "utf8"));
  const workerOnly = Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item).filter(([, op]) => (op["x-mailaudit-hosts"] || []).join() === "worker").map(([m]) => `${m} ${path}`));
  assert.deepEqual(workerOnly.sort(), [
    "delete /api/v1/monitor/{domain}", "get /api/v1/monitor/{domain}", "post /api/v1/monitor", "post /api/v1/monitor/verify",
  ]);
  const codes = spec.components.schemas.Error.properties.error.properties.code.enum;
  for (const c of ["bad_webhook", "not_verified", "lookup_failed", "rate_limited", "not_found"]) assert.ok(codes.includes(c), c);
});
