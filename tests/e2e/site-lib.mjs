// Helpers for the website's browser tests (site.test.mjs): the built site
// served by `mailaudit serve`, headless Chromium through playwright-core,
// reports of the test bed's domains made by the CLI, and a small proxy in
// front of `mailaudit serve` that answers POST /api/v1/audit with the NDJSON
// stream (docs: the streaming format) from such a report, slowly, so the
// page's progress can be watched. Environment as for browser.test.mjs:
// MAILAUDIT_BIN, MAILAUDIT_SITE, BED_ENV (reports only), TEST_OUT; or, for
// a run without the bed, SITE_REPORTS: a directory of reports of the bed's
// domains saved earlier (weak.test.json, example.test.json, from
// `mailaudit audit` in the bed).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { auditInBed, bed, serveUrl, start } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const OUT = process.env.TEST_OUT || path.join(tmpdir(), 'mailaudit-e2e-out');
mkdirSync(OUT, { recursive: true });

export function requireSite() {
  const problems = [];
  const bin = process.env.MAILAUDIT_BIN;
  const site = process.env.MAILAUDIT_SITE;
  if (!bin) problems.push('MAILAUDIT_BIN is not set (path to the built `mailaudit` binary)');
  else if (!existsSync(bin)) problems.push(`MAILAUDIT_BIN=${bin} does not exist`);
  if (!site) problems.push('MAILAUDIT_SITE is not set (directory of the built site)');
  else if (!existsSync(path.join(site, 'index.html'))) {
    problems.push(`MAILAUDIT_SITE=${site} has no index.html (build it with \`cargo xtask build-site\`)`);
  }
  if (problems.length) {
    assert.fail(`browser tests cannot run: ${problems.join('; ')}. Run them through \`cargo xtask test\`.`);
  }
  return { bin, site };
}

// ------------------------------------------------------------------ server

let serverPromise = null;
let serverProc = null;
const serveProcs = new Set();

/** `mailaudit serve` of the built site on a free port of 127.0.0.1, with
 * more `args` (resolver, --probe, limits); resolves to {base, proc, stop}
 * once it prints its URL ("http://127.0.0.1:PORT/"). `stop()` waits for it
 * to exit (bounded). */
export function startServe(args) {
  const { bin, site } = requireSite();
  const proc = start(bin, ['serve', '--listen', '127.0.0.1:0', '--site', site, ...args]);
  serveProcs.add(proc);
  const stop = async () => {
    const { child } = proc;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    proc.stop();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
  };
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mailaudit serve printed no URL within 20 s:\n${proc.output()}`)), 20_000);
    const onData = () => {
      const base = serveUrl(proc.output());
      if (base) {
        clearTimeout(timer);
        resolve({ base: `${base}/`, proc, stop });
      }
    };
    proc.child.stderr.on('data', onData);
    proc.child.stdout.on('data', onData);
    proc.child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`mailaudit serve exited (code ${code}, signal ${signal}):\n${proc.output()}`));
    });
  });
  started.catch(() => {});
  return started;
}

/** `mailaudit serve` (port 0), started once; resolves to its base URL
 * ("http://127.0.0.1:PORT/"). It makes no DNS look-ups: every audit the
 * page runs here is answered by the proxy below or by page.route. */
export function server() {
  if (serverPromise) return serverPromise;
  const started = startServe(['--resolver', 'https://127.0.0.1:9/dns-query']);
  serverPromise = started.then((s) => {
    serverProc = s;
    return s.base;
  });
  serverPromise.catch(() => {});
  return serverPromise;
}

export async function stopServer() {
  if (serverProc) await serverProc.stop();
}

process.on('exit', () => {
  for (const proc of serveProcs) {
    try {
      if (proc.child.exitCode === null) process.kill(-proc.child.pid, 'SIGKILL');
    } catch {}
  }
});

// ------------------------------------------------------------ bed reports

const reports = new Map();

/** The CLI's report of a test-bed domain (probes on, the bed's blocklist
 * zone), made once per run. */
export function bedReport(domain, extra = []) {
  if (!reports.has(domain) && process.env.SITE_REPORTS) {
    // Reports of the bed's domains saved earlier (DOMAIN.json), for a run
    // of the page's side without the bed.
    reports.set(domain, JSON.parse(readFileSync(path.join(process.env.SITE_REPORTS, `${domain}.json`), 'utf8')));
  }
  if (!reports.has(domain)) {
    if (!process.env.BED_ENV) {
      assert.fail('BED_ENV is not set: this test needs reports of the test bed\'s domains '
        + '(bash tests/testbed/bin/bed-up.sh, then BED_ENV=tests/testbed/run/bed.env)');
    }
    reports.set(domain, auditInBed(bed(), domain, { extra }));
  }
  return structuredClone(reports.get(domain));
}

// ------------------------------------------------------- streaming proxy

/** A proxy in front of `upstream` (mailaudit serve) on 127.0.0.1: POST
 * /api/v1/audit for a domain in `byDomain` is answered from that report —
 * as NDJSON when the request accepts it (start line, one line per
 * finding with `delayMs` between them and a pause of `holdMs` halfway,
 * then the report), else as plain JSON; the cached read
 * `GET /api/v1/audit/{domain}` of such a domain is answered from it too
 * (recorded as {domain, method: 'GET'}); every other request goes to
 * `upstream`. Resolves to {base, requests, close}. */
export async function streamingProxy(upstream, byDomain, { delayMs = 15, holdMs = 1_200 } = {}) {
  const rules = await (await fetch(new URL('api/v1/rules', upstream))).json();
  const areaOf = Object.fromEntries(rules.rules.map((r) => [r.id, r.area]));
  const requests = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      // The cached read a shared link asks first: answered from the same
      // reports (a cache hit), so no real audit runs behind the proxy.
      const cachedRead = req.method === 'GET' && /^\/api\/v1\/audit\/([^/?]+)/.exec(req.url || '');
      if (cachedRead && byDomain[decodeURIComponent(cachedRead[1])]) {
        const domain = decodeURIComponent(cachedRead[1]);
        requests.push({ domain, method: 'GET' });
        res.writeHead(200, { 'content-type': 'application/json', 'x-mailaudit-cache': 'hit' });
        res.end(JSON.stringify(byDomain[domain]));
        return;
      }
      if (req.method === 'POST' && req.url === '/api/v1/audit') {
        let domain = '';
        try {
          domain = JSON.parse(body.toString('utf8')).domain;
        } catch {}
        const accept = req.headers.accept || '';
        requests.push({ domain, accept });
        const report = byDomain[domain];
        if (report) {
          if (!accept.includes('application/x-ndjson')) {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(report));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
          const areas = {};
          for (const f of report.findings) {
            const a = areaOf[f.id] || 'config';
            areas[a] = (areas[a] || 0) + 1;
          }
          res.write(`${JSON.stringify({ type: 'start', target: report.target, areas })}\n`);
          const half = Math.floor(report.findings.length / 2);
          for (const [i, finding] of report.findings.entries()) {
            res.write(`${JSON.stringify({ type: 'finding', finding })}\n`);
            await new Promise((r) => setTimeout(r, i === half ? holdMs : delayMs));
          }
          res.end(`${JSON.stringify({ type: 'report', report })}\n`);
          return;
        }
      }
      const up = http.request(new URL(req.url, upstream), { method: req.method, headers: req.headers }, (u) => {
        res.writeHead(u.statusCode, u.headers);
        u.pipe(res);
      });
      up.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      up.end(body);
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  return {
    base: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((r) => srv.close(r)),
  };
}

// ----------------------------------------------------------------- browser

/** A browser with a fresh profile; `fn` gets (context, page, pageErrors). */
export async function withBrowser(fn, { viewport = { width: 1280, height: 900 }, permissions = [] } = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), 'mailaudit-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport,
      serviceWorkers: 'block',
      acceptDownloads: true,
      permissions,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await fn(context, page, pageErrors);
  } finally {
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Opens `url` and waits for the wasm app's tabs (`timeout` ms). If they
 * do not come, says what the page showed instead and saves a screenshot
 * (`failShot`, in OUT). */
export async function openApp(page, url, pageErrors = [], { timeout = 20_000, failShot = null } = {}) {
  await page.goto(url);
  try {
    await page.locator('[role="tablist"] [role="tab"]').first().waitFor({ state: 'visible', timeout });
  } catch (e) {
    if (failShot) await page.screenshot({ path: path.join(OUT, failShot), fullPage: true }).catch(() => {});
    const shown = await page.locator('body').innerText().catch(() => '(no body)');
    throw new Error(`the app did not start at ${url}: ${e.message}\npage text: ${shown.slice(0, 500)}\n`
      + `page errors: ${JSON.stringify(pageErrors)}`);
  }
}

/**
 * Opens the paste tab and waits for the second wasm module (the offline
 * analysers, fetched when the paste tab is first opened), so a test
 * can cut the network before it pastes anything; back to the audit tab.
 */
export async function loadAnalysers(page) {
  await page.getByRole('tab', { name: 'Paste a configuration' }).click();
  await page.locator('html[data-analysers="ready"]').waitFor({ state: 'attached', timeout: 60_000 });
  await page.getByRole('tab', { name: 'Audit a domain' }).click();
}

// A full-page screenshot of a long report took over playwright's default
// 30 s twice in seven runs at load 11-13: the picture is an artefact, not
// an assertion, so it gets longer.
export const shot = (page, name) => page.screenshot({ path: path.join(OUT, name), fullPage: true, timeout: 120_000 });

/** Saves a screenshot of the page at 360 px and 1280 px wide. */
export async function shots(page, name) {
  const size = page.viewportSize();
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(50);
    // Nothing may stick out sideways at either width.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${name} at ${width} px: the page is ${overflow} px wider than the window`);
    await shot(page, `${name}-${width}.png`);
  }
  await page.setViewportSize(size);
}

/** axe-core (node_modules/axe-core) in the page: returns its serious and
 * critical violations ([] is a pass). Evaluated through the driver, so the
 * page's CSP (no inline script) is untouched. */
export async function axe(page, frame = page) {
  const src = new URL('../../node_modules/axe-core/axe.min.js', import.meta.url).pathname;
  const { readFileSync } = await import('node:fs');
  await frame.evaluate(readFileSync(src, 'utf8'));
  const result = await frame.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The page's own basic checks: every form control has a label, every
 * button and link a name, headings never skip a level. */
export async function basicA11y(frame) {
  return frame.evaluate(() => {
    const problems = [];
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    const name = (el) => (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join('').trim()
      || (el.textContent || '').trim() || (el.getAttribute('title') || '').trim();
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (el.type === 'hidden' || !visible(el)) continue;
      const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label')
        || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!labelled) problems.push(`unlabelled ${el.tagName.toLowerCase()}#${el.id}`);
    }
    for (const el of document.querySelectorAll('button, a[href], [role="tab"]')) {
      if (visible(el) && !name(el)) problems.push(`nameless ${el.tagName.toLowerCase()} ${el.outerHTML.slice(0, 80)}`);
    }
    let last = 0;
    for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
      if (!visible(h)) continue;
      const level = Number(h.tagName[1]);
      if (last && level > last + 1) problems.push(`heading h${level} "${h.textContent.trim().slice(0, 40)}" after h${last}`);
      last = level;
    }
    return problems;
  });
}

/** A page of "another site": served on 127.0.0.1 at a port of its own and
 * opened as http://localhost:PORT/ (another origin than the site's; a real
 * loopback server, since Chromium refuses loopback subresources to pages
 * that a test fulfils from nowhere). Resolves to {url, close}. */
export async function thirdPartyPage(html) {
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://localhost:${srv.address().port}/`, close: () => new Promise((r) => srv.close(r)) };
}

// ------------------------------------------------------------ page timings

/**
 * Runs of a timing in the page: the first run(s) of a page warm up the
 * wasm engine's code (48-64 ms where later runs take 10-30), and five runs
 * left the median of two 10,000-line pastes 10 ms apart between two CI runs
 * of the same code, so one warm-up run is made and left out, and fifteen
 * are timed.
 */
export const WARMUP_RUNS = 1;
export const TIMED_RUNS = 15;

/** The median of `values` (the upper one of an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Calls `once(i)` (an async function answering a time in ms) `warmup`
 * times, then `runs` times; answers the record the tests write to
 * perf*.json and xtask's `browser_rows` reads: `median_ms` and `runs_ms` of
 * the timed runs only, `warmup_ms` the runs left out (`first_ms` the very
 * first), `runs` how many were timed, and `min_ms`/`max_ms`.
 */
export async function timedRuns(once, { warmup = WARMUP_RUNS, runs = TIMED_RUNS } = {}) {
  const warm = [];
  const timed = [];
  // Named parts of each timed run, when `once` answers `{ ms, parts }`.
  const parts = {};
  for (let i = 0; i < warmup + runs; i++) {
    const answer = await once(i);
    const ms = typeof answer === 'number' ? answer : answer.ms;
    assert.ok(Number.isFinite(ms) && ms > 0, `run ${i}: time ${ms}`);
    (i < warmup ? warm : timed).push(ms);
    if (i >= warmup && typeof answer === 'object') {
      for (const [k, v] of Object.entries(answer.parts)) (parts[k] ??= []).push(v);
    }
  }
  const record = {
    first_ms: warm[0] ?? timed[0],
    warmup_ms: warm,
    median_ms: median(timed),
    min_ms: Math.min(...timed),
    max_ms: Math.max(...timed),
    runs: timed.length,
    runs_ms: timed,
  };
  if (Object.keys(parts).length) {
    record.parts_median_ms = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, median(v)]));
  }
  return record;
}

/** One line for the test's log: first, median of N, min-max. */
export function describeRuns(r) {
  const f = (x) => (Math.round(x * 10) / 10).toString();
  const parts = Object.entries(r.parts_median_ms ?? {}).map(([k, v]) => `; median ${k} ${f(v)} ms`).join('');
  return `first ${f(r.first_ms)} ms (warm-up, left out), median of ${r.runs} ${f(r.median_ms)} ms `
    + `(min ${f(r.min_ms)}, max ${f(r.max_ms)}${parts}; ${r.runs_ms.map(f).join(', ')})`;
}

/**
 * Pastes `text` into the paste tab (already open), analyses it and answers
 * the time the page measured, `{ ms, parts }`: `data-analysis-ms`
 * (performance.now() around the engine call, paste.rs) and its two parts,
 * the offline module's call (`engine_ms`) and the answer's JSON read back
 * by the page's module (`decode_ms`). The previous result is cleared first (an
 * empty paste) so that each run renders a new one; the box's value is set
 * directly, since 300 KB through locator.fill() (one input event per
 * chunk) takes longer than the test on a loaded machine.
 */
export async function timePaste(page, text, { timeout = 60_000 } = {}) {
  const paste = (v) => page.locator('#config').evaluate((el, t) => { el.value = t; }, v);
  const button = page.getByRole('button', { name: 'Analyse', exact: true });
  const done = page.locator('#panel-paste .paste-done');
  if (await done.count()) {
    await paste('');
    await button.click();
    await done.waitFor({ state: 'detached', timeout: 20_000 });
  }
  await paste(text);
  await button.click();
  // Attached, not visible: a report view may fold passed checks.
  await done.waitFor({ state: 'attached', timeout });
  const [ms, engine, decode] = await done.evaluate((el) =>
    ['data-analysis-ms', 'data-engine-ms', 'data-decode-ms'].map((a) => Number(el.getAttribute(a))));
  return { ms, parts: { engine_ms: engine, decode_ms: decode } };
}
