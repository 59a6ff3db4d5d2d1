// The Worker under the real Workers runtime (workerd, via `wrangler dev`),
// doing its DNS-over-HTTPS look-ups against the test bed. workerd trusts the
// bed's CA through NODE_EXTRA_CA_CERTS (wrangler passes it to workerd), and
// reaches the bed's HTTP/1.1 DoH front (workerd's fetch() speaks HTTP/1.1;
// Unbound's DoH is HTTP/2-only).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { auditInBed, bed, checkPolicy, checkStream, cli, findingsById, normalised, postStream, startWorker } from "./lib.mjs";

let wrangler;
let base;
let b;

before(async () => {
  b = bed();
  ({ proc: wrangler, base } = await startWorker(b, { BLOCKLIST_ZONE_SUFFIX: "bl.test" }));
});

after(() => wrangler && wrangler.stop());

async function post(domain, selectors = []) {
  const r = await fetch(`${base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ domain, selectors }),
  });
  return { status: r.status, body: await r.json() };
}

// Reports of two runs differ only in their time and in the TTLs the
// resolver's cache counts down.
function withoutTime(report) {
  const copy = structuredClone(report);
  delete copy.generated_at;
  // The Worker cannot reach port 25: its live checks are "not run", the
  // CLI's ran. Everything DNS can tell must be the same.
  const live = (id) => id.startsWith("smtp.") || id.startsWith("tls.");
  copy.findings = copy.findings.filter((f) => !live(f.id));
  copy.assumptions = copy.assumptions.filter((a) => a.key !== "probes" && a.key !== "subrequests");
  delete copy.summary;
  for (const f of copy.findings) {
    for (const e of f.evidence) {
      if (e.answers) e.answers = e.answers.map((a) => a.replace(/^(\S+) \d+ /, "$1 TTL "));
    }
  }
  return copy;
}

test("worker: weak.test report equals the CLI's for the same domain and resolver", async () => {
  const { status, body } = await post("weak.test");
  assert.equal(status, 200);
  const f = findingsById(body);
  assert.equal(f["spf.multiple"].status, "fail");
  assert.equal(f["dmarc.policy"].status, "fail");
  const c = auditInBed(b, "weak.test", { resolver: b.BED_DOH11_URL });
  assert.deepEqual(withoutTime(body), withoutTime(c));
});

test("worker: example.test passes its DNS checks", async () => {
  const { status, body } = await post("example.test", ["sel1"]);
  assert.equal(status, 200);
  const live = (id) => id.startsWith("smtp.") || id.startsWith("tls.");
  const notPass = body.findings.filter((f) => f.status !== "pass" && !live(f.id));
  // BIMI is informational; everything else about the hardened domain passes.
  assert.deepEqual(notPass.map((f) => f.id), ["bimi.record"], JSON.stringify(notPass));
  // Port 25 is out of a Worker's reach: the live checks say so, and how to run them.
  for (const f of body.findings.filter((f) => live(f.id))) {
    assert.equal(f.status, "unknown", f.id);
    assert.match(f.detail, /cannot connect to port 25.*mailaudit audit example\.test/, f.id);
  }
});

test("worker: bad input is a 400 with a JSON error", async () => {
  for (const domain of ["192.0.2.1", "localhost", ""]) {
    const { status, body } = await post(domain);
    assert.equal(status, 400, domain);
    assert.equal(body.error.code, "bad_domain");
    assert.ok(body.error.message.length > 10);
  }
  const r = await fetch(`${base}/api/v1/audit`, { method: "POST", body: "not json" });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.code, "bad_request");
  const missing = await fetch(`${base}/api/v1/nope`);
  assert.equal(missing.status, 404);
});

test("worker: rules and the static site", async () => {
  const rules = await (await fetch(`${base}/api/v1/rules`)).json();
  assert.deepEqual(rules, JSON.parse(cli(["rules", "--format", "json"]).stdout));
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /mailaudit/);
});

test("worker: security headers on the site (static assets) and the API, CORS only on the API", async () => {
  await checkPolicy(assert, base);
});

test("worker: the NDJSON stream: start, findings as they complete, the JSON route's report last", async () => {
  const s = await postStream(base, { domain: "example.test", selectors: ["sel1"] });
  const report = checkStream(assert, s, "example.test");
  const { body } = await post("example.test", ["sel1"]);
  assert.deepEqual(normalised(report), normalised(body));
  // A bad domain is an ordinary JSON error before any streaming.
  const bad = await postStream(base, { domain: "192.0.2.1" });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, "bad_domain");
  // An IDN is announced in both forms.
  const idn = await postStream(base, { domain: "bücher.test" });
  assert.equal(idn.lines[0].obj.target, "xn--bcher-kva.test");
  assert.equal(idn.lines[0].obj.unicode, "bücher.test");
  assert.equal(idn.lines.at(-1).obj.type, "report");
});
