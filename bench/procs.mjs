import { readdirSync, readFileSync } from "node:fs";
// The processes of this machine as /proc shows them, for the benchmarks
// that count CPU time per process (bench/load.mjs, bench/worker_cpu.mjs).

/** Every process now: {pid: {ppid, ticks, cmd}}, where `ticks` is its user
 * + system CPU time (clock ticks, 100 a second) and `cmd` its argv. */
export function processes() {
  const all = {};
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, "latin1");
      const f = text.slice(text.lastIndexOf(") ") + 2).split(" ");
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0");
      all[pid] = { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), cmd };
    } catch {}
  }
  return all;
}

/** Whether process `pid` of `all` ({@link processes}) is `root` or runs
 * under it. */
export function under(all, pid, root) {
  for (let p = Number(pid); p > 1 && all[p]; p = all[p].ppid) if (p === root) return true;
  return false;
}

/** CPU seconds used so far by the processes `keep(pid, process, all)` selects. */
export function cpuSecs(keep) {
  const all = processes();
  let ticks = 0;
  for (const [pid, p] of Object.entries(all)) if (keep(pid, p, all)) ticks += p.ticks;
  return ticks / 100;
}
