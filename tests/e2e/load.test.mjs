// Concurrent audits against the Worker under workerd in the test bed's
// namespace, CI-sized: 100 requests in two waves, each sent at once
// (tests/e2e/load-lib.mjs): 30 POST audits (each bed domain twice), then
// 30 streamed POST audits beside 40 cached GETs. None may be lost, none cut
// short by the deadline, every report of a domain must have the same
// statuses, and the second wave's cached reads must hit the cache the
// first wave filled. bench/load.mjs is the full-size run (200 at once, and
// the native server's memory).
//
// The Worker runs under workerd as tests/e2e/workerd-runner.mjs runs it
// (Miniflare with wrangler.toml's options, one workerd process), not under
// `wrangler dev`: wrangler's inspector proxy forwards every subrequest's
// DevTools events to its node process, which with its proxy workerd cost 3
// to 8 times the Worker's own CPU per audit and grew the proxy's memory
// without bound (1.4 GiB after 200 audits); under it, this test had to stay
// at 15 audits at once, with occasional HTTP 503 "worker restarted"
// answers, and 200 at once never finished (BENCHMARKS.md, "The Worker as a
// public service", 2026-11-30). worker.test.mjs and
// the other Worker tests still run `wrangler dev`.
// Needs BED_ENV and WORKER_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { bed, startWorkerd } from "./lib.mjs";
import { wave } from "./load-lib.mjs";

const DEADLINE_MS = 20_000;
let workerd;
let base;

before(async () => {
  ({ proc: workerd, base } = await startWorkerd(bed(), {
    RATE_TARGET_LIMIT: "0",
    RATE_CLIENT_LIMIT: "0",
    BLOCKLIST_ZONE_SUFFIX: "bl.test",
  }));
});

after(() => workerd && workerd.stop());

test("worker under load: 100 requests in two waves at once, none lost, all within the deadline, cache hits", { timeout: 150_000 }, async () => {
  const reference = new Map();
  const first = await wave(base, { n: 30, kinds: ["post"], deadlineMs: DEADLINE_MS, reference });
  const kinds = [...Array(30).fill("stream"), ...Array(40).fill("get")];
  const second = await wave(base, { n: 70, kinds, deadlineMs: DEADLINE_MS, reference });
  for (const [name, w] of [["first", first], ["second", second]]) {
    console.log(`# ${name} wave: ${JSON.stringify({ ...w, problems: w.problems.length })}`);
    assert.deepEqual(w.problems, [], `${name} wave`);
    assert.equal(w.lost, 0);
    assert.equal(w.ok, w.requests);
  }
  // Every cached read of the second wave finds a report the first made.
  assert.equal(second.hits, second.byKind.get, `second wave: ${second.hits} hits of ${second.byKind.get} cached reads`);
  assert.ok(second.hits > 0);
  assert.equal(reference.size, 15, "every bed domain was audited");
});
