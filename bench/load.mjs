// Concurrent domain audits against the test bed (BENCHMARKS.md, "The Worker
// as a public service"): N requests at once (default 200, issue 7; the
// issue 5 figure is 50) over the bed's domains, repeated so the cache is
// exercised (tests/e2e/load-lib.mjs: a quarter POST, a quarter POST
// streamed, half the cached GET), twice (the second wave's cached reads
// find the first wave's reports), against
//   1. the Worker under workerd (inside the bed's namespace, rate limits
//      off, blocklist zones under bl.test), run by Miniflare as
//      tests/e2e/workerd-runner.mjs does: without wrangler dev's proxy and
//      inspector, whose per-subrequest messages cost more CPU than the
//      audits (BENCHMARKS.md; WORKER_RUNNER=wrangler runs wrangler dev), and
//   2. the native server `mailaudit serve` (inside the namespace, rate
//      limits off, the bed's addresses allowed), its memory sampled from
//      /proc (VmHWM: peak resident set).
// Every answer is checked: none lost, none cut by the deadline, the same
// statuses for every report of a domain. Exit 1 if any problem.
//
// The Worker's CPU time (every process of the run: workerd, and node that
// started it; from /proc) is printed per wave: one local workerd runs every
// request's JavaScript and wasm on one thread, so that time bounds how fast
// N audits can finish there.
// DEADLINE_SECS (default 20, the deployed value) sets the audit deadline of
// both servers and the bound each answer is checked against.
//
//   BED_ENV=tests/testbed/run/bed.env WORKER_DIR=worker/build MAILAUDIT_BIN=target/release/mailaudit \
//     MAILAUDIT_SITE=target/site [DEADLINE_SECS=20] node bench/load.mjs [N] [worker|serve|both]
import { readFileSync } from "node:fs";
import { bed, freePort, requireEnv, start, startWorker, startWorkerd, waitHttp } from "../tests/e2e/lib.mjs";
import { wave } from "../tests/e2e/load-lib.mjs";
import { cpuSecs, under } from "./procs.mjs";

const n = Number(process.argv[2] || 200);
const which = process.argv[3] || "both";
const DEADLINE_SECS = Number(process.env.DEADLINE_SECS || 20);
const DEADLINE_MS = DEADLINE_SECS * 1000;

const b = bed();
let failed = false;

function show(name, w) {
  console.log(`${name}: ${w.requests} requests (${Object.entries(w.byKind).map(([k, v]) => `${v} ${k}`).join(", ")}): ` +
    `${w.ok} complete, ${w.lost} lost, ${w.cut} cut by the deadline, ${w.contradictions} pass/fail contradictions, ${w.problems.length} problems; cache ${w.hits} hits / ${w.misses} misses; ` +
    `wall ${w.wallMs} ms, latency p50 ${w.p50Ms} ms, p95 ${w.p95Ms} ms, max ${w.maxMs} ms`);
  for (const p of w.problems.slice(0, 20)) console.log(`  ! ${p}`);
  if (w.problems.length || w.lost) failed = true;
}

async function twoWaves(name, base, sample, cpu) {
  const reference = new Map();
  const out = {};
  for (const k of ["wave1", "wave2"]) {
    const cpu0 = cpu ? cpu() : 0;
    const load0 = readFileSync("/proc/loadavg", "latin1").split(" ")[0];
    const w = await wave(base, { n, deadlineMs: DEADLINE_MS, reference });
    show(`${name} ${k}`, w);
    if (cpu) {
      w.cpuSecs = +(cpu() - cpu0).toFixed(2);
      w.load = `${load0} -> ${readFileSync("/proc/loadavg", "latin1").split(" ")[0]}`;
      console.log(`  ${name} ${k}: ${w.cpuSecs} s of CPU in the server's processes (${Math.round((w.cpuSecs * 1000) / n)} ms a request); load average ${w.load}`);
    }
    out[k] = w;
    if (sample) out[`${k}Mem`] = sample();
  }
  return out;
}

const summary = { n, deadlineSecs: DEADLINE_SECS };
if (which === "worker" || which === "both") {
  const wrangler = process.env.WORKER_RUNNER === "wrangler";
  const { proc, base, startMs } = await (wrangler ? startWorker : startWorkerd)(b, {
    RATE_TARGET_LIMIT: "0", RATE_CLIENT_LIMIT: "0", BLOCKLIST_ZONE_SUFFIX: "bl.test",
    AUDIT_DEADLINE_SECS: String(DEADLINE_SECS),
  });
  console.log(`worker: ${wrangler ? "wrangler dev" : "workerd (tests/e2e/workerd-runner.mjs)"} answered after ${startMs} ms`);
  try {
    summary.worker = await twoWaves("worker", base, null, () => cpuSecs((pid, _, all) => under(all, pid, proc.child.pid)));
  } finally {
    proc.stop();
  }
}

if (which === "serve" || which === "both") {
  const addr = `${b.BED_WORKER_ADDR}:${await freePort()}`;
  const proc = start("ip", ["netns", "exec", b.BED_NS, requireEnv("MAILAUDIT_BIN"), "serve",
    "--listen", addr, "--site", requireEnv("MAILAUDIT_SITE"), "--resolver", b.BED_DOH_URL, "--ca-file", b.BED_CA,
    "--allow-net", "198.18.25.0/24", "--target-limit", "0", "--client-limit", "0", "--deadline", String(DEADLINE_SECS)]);
  const base = `http://${addr}`;
  // `ip netns exec` execs the server: the child's pid is the server's.
  const status = () => {
    const s = readFileSync(`/proc/${proc.child.pid}/status`, "utf8");
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m")) || [])[1] || 0);
    return { rssMiB: +(kb("VmRSS") / 1024).toFixed(1), peakMiB: +(kb("VmHWM") / 1024).toFixed(1), threads: Number((s.match(/^Threads:\s+(\d+)/m) || [])[1]) };
  };
  try {
    await waitHttp(`${base}/healthz`, proc, 20_000);
    const idle = status();
    let peakThreads = idle.threads;
    const timer = setInterval(() => { try { peakThreads = Math.max(peakThreads, status().threads); } catch {} }, 50);
    console.log(`serve: idle RSS ${idle.rssMiB} MiB`);
    summary.serve = { idle, ...(await twoWaves("serve", base, status, () => cpuSecs((_, p) => p.cmd.join("\0").includes(`--listen\0${addr}`)))) };
    clearInterval(timer);
    const end = status();
    summary.serve.peakThreads = peakThreads;
    console.log(`serve: peak RSS (VmHWM) ${end.peakMiB} MiB, RSS after ${end.rssMiB} MiB, idle ${idle.rssMiB} MiB, peak threads ${peakThreads}`);
  } finally {
    proc.stop();
  }
}
console.log(JSON.stringify(summary));
setTimeout(() => process.exit(failed ? 1 : 0), 500);
