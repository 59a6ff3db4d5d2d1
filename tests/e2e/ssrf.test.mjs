// `mailaudit serve` as a public service: it connects only to public
// addresses. Domains whose MX hosts (and MTA-STS policy host) sit at
// loopback, private, link-local/metadata, IPv6 loopback, IPv4-mapped and
// 0.0.0.0 addresses get `unknown: ... not public`, and nothing connects. The
// allowance for the bed's own range is off unless given (--allow-net).
// serve runs inside the bed's namespace so it resolves bed names.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { bed, findingsById, freePort, requireEnv, start, waitHttp } from "./lib.mjs";

const procs = [];
after(() => procs.forEach((p) => p.stop()));

async function serve(b, extra) {
  const port = await freePort();
  const proc = start("ip", [
    "netns", "exec", b.BED_NS, requireEnv("MAILAUDIT_BIN"), "serve",
    "--listen", `${b.BED_WORKER_ADDR}:${port}`, "--site", requireEnv("MAILAUDIT_SITE"),
    "--resolver", b.BED_DOH_URL, "--ca-file", b.BED_CA, "--probe", ...extra,
  ]);
  procs.push(proc);
  const base = `http://${b.BED_WORKER_ADDR}:${port}`;
  await waitHttp(`${base}/healthz`, proc, 20_000);
  return base;
}

async function audit(base, domain) {
  const r = await fetch(`${base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ domain }),
  });
  assert.equal(r.status, 200);
  return findingsById(await r.json());
}

test("serve: MX hosts at non-public addresses are never probed", async () => {
  const b = bed();
  const base = await serve(b, []);
  for (const [domain, why] of [
    ["ssrf-loop.example.test", /127\.0\.0\.1 is not public: loopback/],
    ["ssrf-private.example.test", /10\.0\.0\.1 is not public: private/],
    ["ssrf-metadata.example.test", /169\.254\.169\.254 is not public: link-local/],
    ["ssrf-v6loop.example.test", /::1 is not public: loopback/],
    ["ssrf-mapped.example.test", /::ffff:10\.0\.0\.1 is not public: IPv4-mapped/],
    ["ssrf-zero.example.test", /0\.0\.0\.0 is not public/],
  ]) {
    const f = await audit(base, domain);
    assert.equal(f["smtp.reachable"].status, "unknown", domain);
    assert.match(f["smtp.reachable"].detail, why, domain);
    assert.notEqual(f["smtp.open_relay"].status, "pass", domain);
  }
  // The MTA-STS policy host resolves to 127.0.0.1: not fetched.
  const f = await audit(base, "ssrf-loop.example.test");
  assert.equal(f["mtasts.policy"].status, "unknown");
  assert.match(f["mtasts.policy"].detail, /not public/);
});

test("serve: the bed's own range is refused by default, reachable only with --allow-net", async () => {
  const b = bed();
  const closed = await serve(b, []);
  const f = await audit(closed, "example.test");
  assert.equal(f["smtp.reachable"].status, "unknown");
  assert.match(f["smtp.reachable"].detail, /198\.18\.25\.25 is not public: benchmarking/);
  const open = await serve(b, ["--allow-net", "198.18.25.0/24"]);
  const g = await audit(open, "example.test");
  assert.equal(g["smtp.reachable"].status, "pass");
  assert.equal(g["mtasts.policy"].status, "pass");
});
