// Where the Worker's CPU goes per audit under workerd (BENCHMARKS.md, "The
// Worker as a public service", 2026-11-30): the CPU seconds (user +
// system, /proc/PID/stat) of every process the run involves — each workerd
// process, node (wrangler dev or tests/e2e/workerd-runner.mjs), the bed's
// DoH/1.1 front, Unbound — and the front's connections and queries (its
// log: a "conn" line per accepted connection, one line per request), per
// audit, for SEQ audits one after another, then CONC at once (POST, the
// bed's domains in turn, rate limits off).
//
//   BED_ENV=tests/testbed/run/bed.env WORKER_DIR=worker/build \
//     node bench/worker_cpu.mjs wrangler|workerd [SEQ=20] [CONC=20]
//
// It first times 200 `GET /healthz` one after another: the cost of a
// request that makes no subrequest.
//
// wrangler: `wrangler dev` as tests/e2e/lib.mjs startWorker runs it;
// workerd: tests/e2e/workerd-runner.mjs (Miniflare, no proxy, no inspector).
// DOH_URL and FRONT_LOG point at another front (default: the bed's, and
// its log run/doh11.log); CACHE_TTL_SECS=0 turns the cache put off.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { bed, startWorker, startWorkerd } from "../tests/e2e/lib.mjs";
import { BED_DOMAINS, wave } from "../tests/e2e/load-lib.mjs";
import { processes, under } from "./procs.mjs";

const mode = process.argv[2] || "workerd";
const SEQ = Number(process.argv[3] ?? 20);
const CONC = Number(process.argv[4] ?? 20);
const b = bed();
const frontLog = process.env.FRONT_LOG || join(dirname(process.env.BED_ENV), "doh11.log");
const vars = { RATE_TARGET_LIMIT: "0", RATE_CLIENT_LIMIT: "0", BLOCKLIST_ZONE_SUFFIX: "bl.test" };
if (process.env.DOH_URL) vars.DOH_URL = process.env.DOH_URL;
if (process.env.CACHE_TTL_SECS) vars.CACHE_TTL_SECS = process.env.CACHE_TTL_SECS;

/** Every process of interest: {pid: {label, ticks, rssKiB}}. */
function snapshot(rootPid) {
  const out = {};
  const all = processes();
  for (const [pid, p] of Object.entries(all)) {
    const line = p.cmd.join(" ");
    let label = null;
    if (under(all, pid, rootPid)) {
      if (/workerd/.test(p.cmd[0]) || / serve /.test(line) && /workerd/.test(line)) {
        const socks = p.cmd.filter((a) => a.startsWith("--socket-addr=")).map((a) => a.slice(14)).join(",");
        label = `workerd ${socks}`;
      } else if (/esbuild/.test(line)) label = "esbuild";
      else if (/node/.test(p.cmd[0]) || /wrangler|workerd-runner/.test(line)) label = `node ${/workerd-runner/.test(line) ? "workerd-runner" : "wrangler"}`;
      else if (/^ip$|\/ip$/.test(p.cmd[0])) continue;
      else label = p.cmd[0];
    } else if (/doh11_server/.test(line)) label = `front ${p.cmd.slice(-4).join(" ")}`;
    else if (/^unbound$|\/unbound$/.test(p.cmd[0])) label = "unbound";
    if (!label) continue;
    let rssKiB = 0;
    try {
      rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "latin1"))[1]);
    } catch {}
    out[pid] = { label, ticks: p.ticks, rssKiB };
  }
  return out;
}

function frontCounts() {
  let conns = 0;
  let queries = 0;
  try {
    for (const l of readFileSync(frontLog, "latin1").split("\n")) {
      if (/^doh11 conn /.test(l)) conns++;
      else if (/"(POST|GET) \/dns-query/.test(l)) queries++;
    }
  } catch {}
  return { conns, queries };
}

/** TCP connections accepted in the bed's namespace so far (every server in
 * it: the front, and with wrangler dev its proxy and node too). */
function passiveOpens() {
  const r = spawnSync("ip", ["netns", "exec", b.BED_NS, "nstat", "-az", "TcpPassiveOpens"], { encoding: "utf8" });
  return Number((/TcpPassiveOpens\s+(\d+)/.exec(r.stdout) || [])[1] || 0);
}

function diff(a, b, n, label) {
  const rows = [];
  let total = 0;
  for (const [pid, p] of Object.entries(b)) {
    const t = (p.ticks - (a[pid]?.ticks ?? p.ticks)) / 100;
    total += t;
    rows.push(`    ${p.label.padEnd(60)} pid ${pid}: ${t.toFixed(2)} s CPU, ${((t * 1000) / n).toFixed(1)} ms a request, RSS ${(p.rssKiB / 1024).toFixed(0)} MiB`);
  }
  console.log(`  ${label}:`);
  for (const r of rows) console.log(r);
  console.log(`    all: ${total.toFixed(2)} s, ${((total * 1000) / n).toFixed(1)} ms a request`);
}

const starter = mode === "wrangler" ? startWorker : startWorkerd;
const { proc, base, startMs } = await starter(b, vars);
const rootPid = proc.child.pid;
console.log(`${mode}: answered after ${startMs} ms at ${base}; vars ${JSON.stringify(vars)}; front log ${frontLog}`);

async function post(domain) {
  const r = await fetch(`${base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ domain }),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${text.slice(0, 200)}`);
  const report = JSON.parse(text);
  return (report.assumptions || []).some((a) => a.key === "deadline") ? "cut" : "ok";
}

async function phase(name, n, run) {
  const s0 = snapshot(rootPid);
  const f0 = frontCounts();
  const t0Opens = passiveOpens();
  const l0 = readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(" ");
  const t0 = performance.now();
  const res = await run();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 300));
  const s1 = snapshot(rootPid);
  const f1 = frontCounts();
  const opens = passiveOpens() - t0Opens;
  const l1 = readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(" ");
  console.log(`${mode} ${name}: ${n} requests, ${res}, wall ${(ms / 1000).toFixed(1)} s, load ${l0} -> ${l1}; ` +
    `front: ${f1.queries - f0.queries} queries (${((f1.queries - f0.queries) / n).toFixed(1)} a request), ` +
    `${f1.conns - f0.conns} connections (${((f1.conns - f0.conns) / n).toFixed(1)} a request); ` +
    `${opens} TCP connections accepted in the namespace (${(opens / n).toFixed(1)} a request)`);
  diff(s0, s1, n, "CPU by process");
}

try {
  await post("example.test"); // warm-up: compile, first connections
  // The Worker's fixed cost per request, without any subrequest.
  await phase("GET /healthz, one after another", 200, async () => {
    for (let i = 0; i < 200; i++) {
      const r = await fetch(`${base}/healthz`);
      await r.text();
    }
    return "200 answered";
  });
  if (SEQ > 0) await phase("sequential", SEQ, async () => {
    const c = { ok: 0, cut: 0, failed: 0 };
    for (let i = 0; i < SEQ; i++) {
      try {
        c[await post(BED_DOMAINS[i % BED_DOMAINS.length])]++;
      } catch (e) {
        c.failed++;
        console.log(`  ! ${e.message}`);
      }
    }
    return JSON.stringify(c);
  });
  if (CONC > 0) {
    await phase("concurrent", CONC, async () => {
      const w = await wave(base, { n: CONC, kinds: ["post"], deadlineMs: 20_000 });
      return `${w.ok} complete, ${w.cut} cut, ${w.lost} lost, p50 ${w.p50Ms} ms, max ${w.maxMs} ms`;
    });
  }
} finally {
  proc.stop();
  setTimeout(() => process.exit(0), 3500);
}
