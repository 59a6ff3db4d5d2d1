// `mailaudit serve`'s NDJSON stream against the test bed (serve runs inside
// the bed's namespace, probing the bed's mail servers, which --allow-net
// permits): the same lines as the Worker's, and the same report as its own
// JSON route. The overall deadline is tested without the bed: a resolver
// that accepts connections and never answers.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { bed, checkStream, freePort, normalised, postStream, requireEnv, start, waitHttp, waitServeUrl } from "./lib.mjs";

const procs = [];
const servers = [];
after(() => {
  procs.forEach((p) => p.stop());
  servers.forEach((s) => s.close());
});

async function serveIn(b, extra) {
  const port = await freePort();
  const proc = start("ip", [
    "netns", "exec", b.BED_NS, requireEnv("MAILAUDIT_BIN"), "serve",
    "--listen", `${b.BED_WORKER_ADDR}:${port}`, "--site", requireEnv("MAILAUDIT_SITE"),
    "--resolver", b.BED_DOH_URL, "--ca-file", b.BED_CA, ...extra,
  ]);
  procs.push(proc);
  const base = `http://${b.BED_WORKER_ADDR}:${port}`;
  await waitHttp(`${base}/healthz`, proc, 20_000);
  return base;
}

test("serve: the NDJSON stream: start, findings as they complete, the JSON route's report last", async () => {
  const b = bed();
  const base = await serveIn(b, ["--probe", "--allow-net", "198.18.25.0/24"]);
  const s = await postStream(base, { domain: "example.test", selectors: ["sel1"] });
  const report = checkStream(assert, s, "example.test");
  // The live checks ran (the bed's hardened server) and were streamed.
  const streamed = s.lines.filter((l) => l.obj.type === "finding").map((l) => l.obj.finding);
  assert.equal(streamed.find((f) => f.id === "smtp.starttls").status, "pass");
  const r = await fetch(`${base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ domain: "example.test", selectors: ["sel1"] }),
  });
  assert.equal(r.status, 200);
  assert.deepEqual(normalised(report), normalised(await r.json()));
  const bad = await postStream(base, { domain: "localhost" });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, "bad_domain");
});

/** A TCP server that accepts and never says a word. */
async function blackHole() {
  const server = net.createServer(() => {});
  servers.push(server);
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return server.address().port;
}

test("serve: checks not finished by the deadline are unknown: deadline", async () => {
  const port = await blackHole();
  const proc = start(requireEnv("MAILAUDIT_BIN"), [
    "serve", "--listen", "127.0.0.1:0", "--site", requireEnv("MAILAUDIT_SITE"),
    "--resolver", `https://127.0.0.1:${port}/dns-query`, "--deadline", "2",
  ]);
  procs.push(proc);
  const base = await waitServeUrl(proc);
  const t0 = Date.now();
  const s = await postStream(base, { domain: "example.org" });
  const took = Date.now() - t0;
  const report = s.lines.at(-1).obj.report;
  assert.ok(took >= 1900 && took < 8000, `answered after ${took} ms`);
  const live = (id) => id.startsWith("smtp.") || id.startsWith("tls.");
  for (const f of report.findings.filter((f) => !live(f.id))) {
    assert.equal(f.status, "unknown", f.id);
    assert.match(f.detail, /^Not decided: deadline\. .*\(2 s\)/, f.id);
  }
  const a = report.assumptions.find((a) => a.key === "deadline");
  assert.match(a.value, /^reached after 2 s: \d+ checks/);
  // The probes were not run at all (no --probe): decided at once, so streamed before the deadline.
  const notRun = s.lines.filter((l) => l.obj.type === "finding" && live(l.obj.finding.id));
  assert.ok(notRun.length > 0 && notRun.every((l) => l.chunk < s.lines.at(-1).chunk));
});
