// Concurrent audits against the Worker under workerd (wrangler dev in the
// test bed's namespace), CI-sized: 50 requests in two waves, each sent at
// once (tests/e2e/load-lib.mjs): 15 POST audits (one per bed domain), then
// 15 streamed POST audits beside 20 cached GETs. At most 15 audits run at
// once: one local workerd process runs every audit on 2 shared cores, and
// the bed's HTTP/1.1 DoH front for workerd (tests/testbed/doh11) timed out
// beyond that on a loaded machine when it was a Python server
// (BENCHMARKS.md), which would make checks unknown. None may be lost, none cut short by the deadline, every
// report of a domain must have the same statuses, and the second wave's
// cached reads must hit the cache the first wave filled. bench/load.mjs is
// the full-size run (200 at once, and the native server's memory).
// Needs BED_ENV and WORKER_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { bed, startWorker } from "./lib.mjs";
import { wave } from "./load-lib.mjs";

const DEADLINE_MS = 20_000;
let wrangler;
let base;

before(async () => {
  ({ proc: wrangler, base } = await startWorker(bed(), {
    RATE_TARGET_LIMIT: "0",
    RATE_CLIENT_LIMIT: "0",
    BLOCKLIST_ZONE_SUFFIX: "bl.test",
  }));
});

after(() => wrangler && wrangler.stop());

test("worker under load: 50 audits at once in two waves, none lost, all within the deadline, cache hits", { timeout: 150_000 }, async () => {
  const reference = new Map();
  const first = await wave(base, { n: 15, kinds: ["post"], deadlineMs: DEADLINE_MS, reference });
  const kinds = [...Array(15).fill("stream"), ...Array(20).fill("get")];
  const second = await wave(base, { n: 35, kinds, deadlineMs: DEADLINE_MS, reference });
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
