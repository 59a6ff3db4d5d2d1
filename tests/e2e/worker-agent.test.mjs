// The Worker under workerd (wrangler dev) with a probe agent, both inside
// the test bed's namespace: PROBE_AGENT_URL points at `mailaudit
// probe-agent` on the bed's Worker address, so the streamed audit of a bed
// domain carries real SMTP/TLS results for its MX (the bed's Postfix), made
// by the agent and signed with PROBE_AGENT_SECRET. agent.test.mjs covers
// the agent's HTTP contract alone (signatures, replay, address policy); this
// is the Worker's side of it. Needs MAILAUDIT_BIN, BED_ENV, WORKER_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditInBed, bed, checkStream, findingsById, freePort, postStream, requireEnv, start, startWorker, waitHttp } from "./lib.mjs";

const SECRET = randomBytes(32).toString("hex");
let b;
let dir;
let agent;
let agentUrl;
let wrangler;
let base;

const live = (id) => id.startsWith("smtp.") || id.startsWith("tls.");

before(async () => {
  b = bed();
  dir = mkdtempSync(join(tmpdir(), "mailaudit-worker-agent-"));
  const secretFile = join(dir, "secret");
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  // The bed's addresses are not public: --allow-net lets the agent probe them.
  agentUrl = `http://${b.BED_WORKER_ADDR}:${await freePort()}`;
  agent = start("ip", ["netns", "exec", b.BED_NS, requireEnv("MAILAUDIT_BIN"), "probe-agent",
    "--listen", agentUrl.slice("http://".length), "--secret-file", secretFile,
    "--allow-net", `${b.BED_MX_HARD.replace(/\.\d+$/, ".0")}/24`, "--ca-file", b.BED_CA]);
  await waitHttp(`${agentUrl}/healthz`, agent, 20_000);
  ({ proc: wrangler, base } = await startWorker(b, {
    BLOCKLIST_ZONE_SUFFIX: "bl.test",
    PROBE_AGENT_URL: agentUrl,
    PROBE_AGENT_SECRET: SECRET,
  }));
});

after(() => {
  wrangler && wrangler.stop();
  agent && agent.stop();
  dir && rmSync(dir, { recursive: true, force: true });
});

test("worker + agent: example.test's streamed audit carries the agent's live results for its MX", async () => {
  const s = await postStream(base, { domain: "example.test", selectors: ["sel1"] });
  const report = checkStream(assert, s, "example.test");
  const f = findingsById(report);
  const liveIds = report.findings.map((x) => x.id).filter(live);
  assert.ok(liveIds.length >= 15, `live findings: ${liveIds}`);
  for (const id of liveIds) {
    assert.doesNotMatch(f[id].detail, /Not run|cannot connect to port 25/, `${id}: ${f[id].detail}`);
  }
  // The hardened Postfix at 198.18.25.25, as the agent saw it.
  assert.equal(f["smtp.reachable"].status, "pass", f["smtp.reachable"].detail);
  assert.match(f["smtp.reachable"].detail, /mail\.example\.test \[198\.18\.25\.25\]:25/);
  for (const id of ["smtp.starttls", "smtp.open_relay", "smtp.vrfy_expn", "smtp.smuggling", "smtp.auth_plaintext",
    "tls.versions", "tls.cert_expiry", "tls.cert_name", "tls.cert_chain", "tls.cert_key"]) {
    assert.equal(f[id].status, "pass", `${id}: ${f[id].detail}`);
  }
  // The chain the agent was served goes back to the Worker for the DANE match.
  assert.equal(f["dane.tlsa"].status, "pass", f["dane.tlsa"].detail);
  assert.match(f["dane.tlsa"].detail, /match/i, f["dane.tlsa"].detail);

  // The same verdicts as the CLI probing from inside the bed itself.
  const c = findingsById(auditInBed(b, "example.test", { resolver: b.BED_DOH11_URL, extra: ["--selector", "sel1"] }));
  for (const id of [...liveIds, "dane.tlsa"]) {
    assert.equal(f[id].status, c[id].status, `${id}: worker+agent "${f[id].detail}" / CLI "${c[id].detail}"`);
  }
});

test("worker + agent: weak.test's MX is an open relay without STARTTLS, found through the agent", async () => {
  const report = checkStream(assert, await postStream(base, { domain: "weak.test" }), "weak.test");
  const f = findingsById(report);
  assert.match(f["smtp.reachable"].detail, /\[198\.18\.25\.26\]:25/);
  for (const id of ["smtp.open_relay", "smtp.starttls", "smtp.vrfy_expn", "smtp.banner"]) {
    assert.equal(f[id].status, "fail", `${id}: ${f[id].detail}`);
  }
  assert.equal(f["smtp.smuggling"].status, "warn", f["smtp.smuggling"].detail);
  assert.equal(f["tls.versions"].status, "unknown", f["tls.versions"].detail);
  assert.match(f["tls.versions"].detail, /did not offer STARTTLS/);
});

test("worker + agent: a Worker with the wrong secret does not take the agent's answer", async () => {
  const { proc, base: other } = await startWorker(b, {
    PROBE_AGENT_URL: agentUrl,
    PROBE_AGENT_SECRET: "0".repeat(64),
  });
  try {
    const report = checkStream(assert, await postStream(other, { domain: "example.test" }), "example.test");
    const f = findingsById(report);
    for (const id of report.findings.map((x) => x.id).filter(live)) {
      assert.equal(f[id].status, "unknown", id);
      assert.match(f[id].detail, /probe agent at .* was not signed with the shared secret/, `${id}: ${f[id].detail}`);
    }
  } finally {
    proc.stop();
  }
});
