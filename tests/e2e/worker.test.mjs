// The Worker under the real Workers runtime (workerd, via `wrangler dev`),
// doing its DNS-over-HTTPS look-ups against the test bed. workerd trusts the
// bed's CA through NODE_EXTRA_CA_CERTS (wrangler passes it to workerd), and
// reaches the bed's HTTP/1.1 DoH front (workerd's fetch() speaks HTTP/1.1;
// Unbound's DoH is HTTP/2-only).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { bed, checkPolicy, cli, findingsById, freePort, requireEnv, start, waitHttp } from "./lib.mjs";

let wrangler;
let base;
let b;

before(async () => {
  b = bed();
  requireEnv("WORKER_DIR");
  const port = await freePort();
  const root = new URL("../../", import.meta.url).pathname;
  // wrangler (and workerd) run inside the bed's namespace: fetch() resolves
  // names like mta-sts.example.test through the bed's resolver there, and
  // nothing the Worker does can leave the machine (the namespace has no
  // route off it). The tests reach it through the veth.
  wrangler = start(
    "ip",
    ["netns", "exec", b.BED_NS, `${root}node_modules/.bin/wrangler`,
      "dev", "--ip", b.BED_WORKER_ADDR, "--port", String(port), "--inspector-port", String(await freePort()), "--var", `DOH_URL:${b.BED_DOH11_URL}`],
    {
      cwd: root,
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: b.BED_CA,
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_SEND_ERROR_REPORTS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        CI: "true",
      },
    },
  );
  base = `http://${b.BED_WORKER_ADDR}:${port}`;
  await waitHttp(`${base}/healthz`, wrangler, 90_000);
});

after(() => wrangler && wrangler.stop());

async function post(domain) {
  const r = await fetch(`${base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ domain }),
  });
  return { status: r.status, body: await r.json() };
}

// Reports of two runs differ only in their time and in the TTLs the
// resolver's cache counts down.
function withoutTime(report) {
  const copy = structuredClone(report);
  delete copy.generated_at;
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
  const c = cli(["audit", "weak.test", "--resolver", b.BED_DOH11_URL, "--ca-file", b.BED_CA, "--format", "json"]);
  assert.deepEqual(withoutTime(body), withoutTime(JSON.parse(c.stdout)));
});

test("worker: example.test passes its DNS checks", async () => {
  const { status, body } = await post("example.test");
  assert.equal(status, 200);
  assert.equal(body.summary.fail, 0, JSON.stringify(body.findings.filter((f) => f.status !== "pass")));
  // 6 record-level checks + the 7 SPF evaluation rules (spf.syntax … spf.mx_not_authorized).
  assert.equal(body.summary.pass, 13);
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
