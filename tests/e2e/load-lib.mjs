// Concurrent audits against a running server (the Worker under workerd or
// `mailaudit serve`): bench/load.mjs and tests/e2e/load.test.mjs. A wave is
// N requests sent at once over the test bed's domains (repeated, so the
// cache is exercised): a quarter POST (JSON), a quarter POST streamed
// (NDJSON), half the cached read (`GET /api/v1/audit/{domain}`). Each
// answer is checked in full: status 200, a complete report (a streamed one
// ends with its report line), its checks not cut short by the deadline,
// and its findings' statuses the same as every other report of that domain
// (nothing lost, nothing false under load).

/** Bed domains an audit can run on without probes (tests/testbed/README.md). */
export const BED_DOMAINS = [
  "example.test", "weak.test", "nomail.test", "bogus.test", "lookups11.example.test",
  "extrua.example.test", "authrua.example.test", "dmarc2.example.test", "weakdkim.example.test",
  "stsmismatch.example.test", "ststesting.example.test", "stsredirect.example.test",
  "badrecords.example.test", "danebad.example.test", "hosted.example.test",
];

const CACHE_HEADER = "x-mailaudit-cache";

/** The default mix of request kinds, cycled over a wave. */
export const MIX = ["post", "stream", "get", "get"];

async function readStream(r) {
  const text = await r.text();
  const lines = text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  const last = lines[lines.length - 1];
  if (!last || last.type !== "report") throw new Error(`stream ended without its report (${lines.length} lines)`);
  const findings = lines.filter((l) => l.type === "finding").length;
  if (findings !== last.report.findings.length) throw new Error(`stream had ${findings} finding lines, report ${last.report.findings.length}`);
  return last.report;
}

async function one(base, kind, domain, timeoutMs) {
  const t0 = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  let r;
  if (kind === "get") {
    r = await fetch(`${base}/api/v1/audit/${domain}`, { signal });
  } else {
    r = await fetch(`${base}/api/v1/audit`, {
      method: "POST",
      signal,
      headers: { "content-type": "application/json", ...(kind === "stream" ? { accept: "application/x-ndjson" } : {}) },
      body: JSON.stringify({ domain }),
    });
  }
  const cache = r.headers.get(CACHE_HEADER) || "";
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${(await r.text()).slice(0, 200)}`);
  const report = kind === "stream" ? await readStream(r) : await r.json();
  return { report, cache, ms: performance.now() - t0 };
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))] : 0;
}

/** The statuses of a report's findings, by id. A check left unknown
 * because the audit's subrequest budget (50) or the blocklists' query budget ran out is `budget`: which
 * checks the budget reaches depends on the order answers arrive in (the
 * bed's lookups11 domain needs more), so it may differ from run to run. */
function statuses(report) {
  return Object.fromEntries(report.findings.map((f) => [f.id,
    f.status === "unknown" && /subrequest budget|query budget/i.test(`${f.detail} ${JSON.stringify(f.evidence || [])}`) ? "budget" : f.status]));
}

/**
 * One wave of `n` requests at once against `base`. `reference` maps a
 * domain to the statuses of its first complete report (filled in here, and
 * shared between waves). Returns the wave's summary; `problems` lists
 * every request that failed or whose report differs.
 */
export async function wave(base, { n, domains = BED_DOMAINS, kinds = MIX, deadlineMs, reference = new Map(), expectedFindings }) {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const domain = domains[i % domains.length];
    // A list as long as the wave is used as is; a shorter one is cycled
    // (shifted each round over the domains, so each domain gets each kind).
    const kind = kinds.length >= n ? kinds[i] : kinds[(Math.floor(i / domains.length) + i) % kinds.length];
    try {
      return { i, domain, kind, ...(await one(base, kind, domain, deadlineMs + 30_000)) };
    } catch (e) {
      return { i, domain, kind, error: String(e?.cause?.code || e?.message || e) };
    }
  }));
  const wallMs = performance.now() - t0;
  const problems = [];
  const ms = [];
  let hits = 0;
  let misses = 0;
  let ok = 0;
  let contradictions = 0;
  for (const r of results) {
    if (r.error) {
      problems.push(`${r.kind} ${r.domain}: ${r.error}`);
      continue;
    }
    ms.push(r.ms);
    if (r.cache === "hit") hits++;
    else misses++;
    const cut = (r.report.assumptions || []).some((a) => a.key === "deadline");
    if (cut) problems.push(`${r.kind} ${r.domain}: cut short by the deadline after ${Math.round(r.ms)} ms`);
    else if (r.ms > deadlineMs) problems.push(`${r.kind} ${r.domain}: answered after ${Math.round(r.ms)} ms, past the ${deadlineMs} ms deadline`);
    if (expectedFindings && r.report.findings.length !== expectedFindings) {
      problems.push(`${r.kind} ${r.domain}: ${r.report.findings.length} findings, expected ${expectedFindings}`);
    }
    if (r.report.target !== undefined && r.report.target !== r.domain) problems.push(`${r.kind} ${r.domain}: report of ${r.report.target}`);
    // A report cut short is already a problem; its unknowns are the
    // deadline's. Any other difference between two reports of a domain
    // is one, and a pass against a fail or warn would be a false verdict.
    if (cut) continue;
    ok++;
    const s = statuses(r.report);
    if (!reference.has(r.domain)) reference.set(r.domain, s);
    const ref = reference.get(r.domain);
    const diff = Object.keys({ ...ref, ...s }).filter((id) => ref[id] !== s[id] && ref[id] !== "budget" && s[id] !== "budget");
    if (diff.length) problems.push(`${r.kind} ${r.domain}: differs from another report of it: ${diff.map((id) => `${id} ${ref[id]}→${s[id]}`).join(", ")}`);
    contradictions += diff.filter((id) => [ref[id], s[id]].includes("pass") && [ref[id], s[id]].some((x) => x === "fail" || x === "warn")).length;
  }
  ms.sort((a, b) => a - b);
  return {
    requests: n,
    ok,
    cut: results.filter((r) => !r.error && (r.report.assumptions || []).some((a) => a.key === "deadline")).length,
    contradictions,
    lost: results.filter((r) => r.error).length,
    problems,
    hits,
    misses,
    byKind: Object.fromEntries(["post", "stream", "get"].map((k) => [k, results.filter((r) => r.kind === k).length])),
    wallMs: Math.round(wallMs),
    p50Ms: Math.round(pct(ms, 0.5)),
    p95Ms: Math.round(pct(ms, 0.95)),
    maxMs: Math.round(ms[ms.length - 1] || 0),
  };
}
