// `mailaudit serve` (the self-hosted site and API): the same security
// headers and CORS policy as the Worker. No DNS look-ups are made here; the
// resolver is one that cannot be reached.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { checkPolicy, requireEnv, start, waitHttp, waitServeUrl } from "./lib.mjs";

let proc;
let base;

before(async () => {
  const bin = requireEnv("MAILAUDIT_BIN");
  const site = requireEnv("MAILAUDIT_SITE");
  proc = start(bin, ["serve", "--listen", "127.0.0.1:0", "--site", site, "--resolver", "https://127.0.0.1:9/dns-query"]);
  base = await waitServeUrl(proc);
  await waitHttp(`${base}/healthz`, proc, 20_000);
});

after(() => proc && proc.stop());

test("serve: security headers on the site and the API, CORS only on the API", async () => {
  await checkPolicy(assert, base);
});

test("serve: every route in docs/openapi.json answers as documented", async () => {
  const spec = JSON.parse(readFileSync(new URL("../../docs/openapi.json", import.meta.url), "utf8"));
  // Operations marked as served by other hosts only (the Worker's monitoring) are not serve's.
  const ops = Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, op]) => !op["x-mailaudit-hosts"] || op["x-mailaudit-hosts"].includes("serve"))
      .map(([m]) => [path, m]));
  assert.deepEqual(ops.map(([p, m]) => `${m} ${p}`).sort(), [
    "get /api/v1/audit/{domain}", "get /api/v1/rules", "get /healthz", "options /api/v1/audit", "post /api/v1/audit",
  ]);
  const report = spec.components.schemas.Report;
  const r = await fetch(`${base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ domain: "example.org", selectors: ["s1"] }),
  });
  assert.equal(r.status, 200);
  const body = await r.json();
  for (const k of report.required) assert.ok(k in body, `report lacks ${k}`);
  assert.equal(body.schema, report.properties.schema.const);
  const statuses = spec.components.schemas.Finding.properties.status.enum;
  for (const f of body.findings) {
    assert.ok(statuses.includes(f.status), f.id);
    // The resolver cannot be reached here: nothing may pass.
    assert.notEqual(f.status, "pass", f.id);
  }
  // The cached read: the same report shape, with the cache header.
  const g = await fetch(`${base}/api/v1/audit/example.org?selectors=s1`);
  assert.equal(g.status, 200);
  const cacheHeader = spec.paths["/api/v1/audit/{domain}"].get.responses["200"].headers["x-mailaudit-cache"];
  assert.ok(cacheHeader.schema.enum.includes(g.headers.get("x-mailaudit-cache")));
  const cached = await g.json();
  for (const k of report.required) assert.ok(k in cached, `cached report lacks ${k}`);
  const codes = spec.components.schemas.Error.properties.error.properties.code.enum;
  for (const [payload, code] of [
    [{ domain: "192.0.2.1" }, "bad_domain"],
    [{ domain: "example.org", extra: 1 }, "bad_request"],
    [{ domain: "example.org", selectors: Array(9).fill("s") }, "bad_request"],
  ]) {
    const e = await fetch(`${base}/api/v1/audit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    assert.equal(e.status, 400, JSON.stringify(payload));
    const err = (await e.json()).error;
    assert.equal(err.code, code, JSON.stringify(payload));
    assert.ok(codes.includes(err.code));
  }
});
