// The "DMARC reports" view in headless Chromium, served by `mailaudit
// serve` (no test bed needed), and the `dmarc-reports` CLI. Run with
// `node --test tests/e2e/dmarc.test.mjs`.
//
//   MAILAUDIT_BIN   the built `mailaudit` CLI                        (required)
//   MAILAUDIT_SITE  the built site directory                         (required)
//   TEST_OUT        where screenshots and dmarc-perf.json go (default: a temp dir)
//
// The reports are read by the page and analysed there: every test here
// blocks all requests once the page has loaded, and checks none was made.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli, findingsById } from './lib.mjs';
import { OUT, requireSite, server, shot, stopServer, withBrowser } from './site-lib.mjs';

const TIMEOUT = 120_000;
const FIXTURES = new URL('../fixtures/dmarc/', import.meta.url).pathname;
const GOOD = readdirSync(FIXTURES)
  .filter((f) => /\.(xml|gz|zip)$/.test(f))
  .sort()
  .map((f) => path.join(FIXTURES, f));
const BAD = (name) => path.join(FIXTURES, 'bad', name);

after(stopServer);

/** A fresh browser; the page is opened on the DMARC tab and then cut off
 * from the network. `fn` gets (context, page, pageErrors, requests). */
async function withDmarcPage(fn) {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    await page.goto(base);
    await page.getByRole('tab', { name: 'DMARC reports' }).waitFor({ timeout: 20_000 });
    // Opening the tab fetches the second wasm module (the report parser);
    // from then on the network is cut and watched.
    await page.getByRole('tab', { name: 'DMARC reports' }).click();
    await page.locator('html[data-analysers="ready"]').waitFor({ state: 'attached', timeout: 60_000 });
    const requests = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    await context.route('**/*', (route) => route.abort());
    await fn(context, page, pageErrors, requests);
  }, { viewport: { width: 1100, height: 900 } });
}

const card = (page, id) => page.locator(`#panel-dmarc [data-testid="finding"][data-id="${id}"]`);
const statusOf = (page, id) => card(page, id).getAttribute('data-status');

const settled = (page) =>
  page.locator('#panel-dmarc .dmarc-done, #panel-dmarc [role="alert"]').first().waitFor({ timeout: 60_000 });

/** Chosen with the file input. */
async function drop(page, files) {
  await page.locator('#dmarc-files').setInputFiles(files);
  await settled(page);
}

/** Dropped on the drop zone (`how` = 'drop': dragover + drop events) or
 * pasted into the panel ('paste': a paste event), as the browser delivers
 * them: a DataTransfer holding File objects with the files' bytes. */
async function deliver(page, files, how) {
  const payload = files.map((f) => ({ name: path.basename(f), b64: readFileSync(f).toString('base64') }));
  await page.evaluate(({ payload, how }) => {
    const dt = new DataTransfer();
    for (const { name, b64 } of payload) {
      const bin = atob(b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], name));
    }
    const zone = document.querySelector('[data-testid="dmarc-dropzone"]');
    const init = { bubbles: true, cancelable: true };
    if (how === 'drop') {
      zone.dispatchEvent(new DragEvent('dragenter', { ...init, dataTransfer: dt }));
      zone.dispatchEvent(new DragEvent('dragover', { ...init, dataTransfer: dt }));
      zone.dispatchEvent(new DragEvent('drop', { ...init, dataTransfer: dt }));
    } else {
      zone.focus();
      zone.dispatchEvent(new ClipboardEvent('paste', { ...init, clipboardData: dt }));
    }
  }, { payload, how });
  await settled(page);
}

// ------------------------------------------------------------------- tests

test('a dropped mixed batch (xml, gz, zip) gives the plan, the chart and the findings, offline', { timeout: TIMEOUT }, async () => {
  const kinds = GOOD.map((f) => f.replace(/.*?\.(xml|xml\.gz|zip)$/, '$1')).sort();
  assert.deepEqual(kinds, ['xml', 'xml.gz', 'xml.gz', 'zip']);
  await withDmarcPage(async (context, page, pageErrors, requests) => {
    await deliver(page, GOOD, 'drop');
    assert.equal(await page.locator('#panel-dmarc .dmarc-done').getAttribute('data-files'), '4');
    const verdict = page.locator('[data-testid="dmarc-verdict"]');
    assert.equal(await verdict.getAttribute('data-verdict'), 'ramp');
    assert.match(await verdict.innerText(), /Ready with a ramp: p=quarantine; pct=25/);
    assert.equal(
      await page.locator('[data-testid="dmarc-record"]').innerText(),
      '_dmarc.example.com. TXT "v=DMARC1; p=quarantine; pct=25; np=none"',
    );
    assert.match(await verdict.innerText(), /198\.51\.100\.23 \(52\)/);

    // The chart: one bar group per day, aligned and unaligned segments.
    const chart = page.locator('[data-testid="dmarc-chart"]');
    assert.equal(await chart.locator('g.day').count(), 2);
    assert.ok(await chart.locator('rect.bar-aligned').count() === 2);
    assert.ok(await chart.locator('rect.bar-unaligned').count() >= 1);
    assert.match(await chart.locator('g.day title').first().textContent(), /2026-11-20: 2,360 messages, 2,300 aligned, 57 authenticated but not aligned, 3 unrelated/);

    // Tables.
    const sources = page.locator('[data-testid="dmarc-sources"] tbody tr');
    assert.equal(await sources.count(), 5);
    assert.match(await sources.first().innerText(), /192\.0\.2\.10/);
    const reporters = await page.locator('[data-testid="dmarc-reporters"] tbody tr').allInnerTexts();
    assert.deepEqual(reporters.map((r) => r.split('\t')[0].split('\n')[0]),
      ['google.com', 'Enterprise Outlook', 'Yahoo', 'mail.receiver.example']);

    // Findings through the shared report view.
    assert.equal(await statusOf(page, 'dmarcrep.unaligned_sources'), 'fail');
    assert.equal(await statusOf(page, 'dmarcrep.policy_readiness'), 'warn');
    assert.equal(await statusOf(page, 'dmarcrep.spoofing'), 'warn');
    assert.equal(await statusOf(page, 'dmarcrep.input'), 'pass');
    await shot(page, 'dmarc-reports.png');

    // With the current record, the exact record to publish.
    await page.locator('#dmarc-record').fill('v=DMARC1; p=none; rua=mailto:dmarc@example.com');
    await page.getByRole('button', { name: 'Analyse reports' }).click();
    await page.locator('[data-testid="dmarc-record"]', { hasText: 'rua=mailto:dmarc@example.com' }).waitFor({ timeout: 30_000 });
    assert.equal(
      await page.locator('[data-testid="dmarc-record"]').innerText(),
      '_dmarc.example.com. TXT "v=DMARC1; p=quarantine; pct=25; rua=mailto:dmarc@example.com"',
    );

    assert.deepEqual(requests, [], 'the page made requests while analysing reports');
    assert.deepEqual(pageErrors, []);
  });
});

test('a pasted mixed batch is analysed the same way', { timeout: TIMEOUT }, async () => {
  await withDmarcPage(async (context, page, pageErrors, requests) => {
    // Reverse order: the result does not depend on it.
    await deliver(page, [...GOOD].reverse(), 'paste');
    assert.equal(await page.locator('#panel-dmarc .dmarc-done').getAttribute('data-files'), '4');
    assert.equal(await page.locator('[data-testid="dmarc-verdict"]').getAttribute('data-verdict'), 'ramp');
    assert.equal(
      await page.locator('[data-testid="dmarc-record"]').innerText(),
      '_dmarc.example.com. TXT "v=DMARC1; p=quarantine; pct=25; np=none"',
    );
    assert.equal(await page.locator('[data-testid="dmarc-chart"] g.day').count(), 2);
    // A paste of text into a field stays a paste of text.
    await page.locator('#dmarc-domain').focus();
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.setData('text/plain', 'example.com');
      document.querySelector('#dmarc-domain')
        .dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt }));
    });
    await page.waitForTimeout(200);
    assert.equal(await page.locator('[data-testid="dmarc-verdict"]').getAttribute('data-verdict'), 'ramp');
    assert.deepEqual(requests, []);
    assert.deepEqual(pageErrors, []);
  });
});

test('hostile files are listed, not used; report strings stay text', { timeout: TIMEOUT }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailaudit-dmarc-xss-'));
  try {
    // A report whose names carry markup.
    const zipName = GOOD.find((f) => f.endsWith('.zip'));
    const xml = readFileSync(BAD('google-resent.xml'), 'utf8')
      .replace('<org_name>google.com</org_name>', '<org_name>&lt;img src=x onerror=alert(1)&gt;</org_name>')
      .replace('13378152749213826912', 'xss-1')
      .replace('<header_from>example.com</header_from>', '<header_from>&lt;svg onload=alert(2)&gt;</header_from>');
    const evil = path.join(dir, '<b onclick=alert(3)>evil.xml');
    writeFileSync(evil, xml);
    const dialogs = [];
    await withDmarcPage(async (context, page, pageErrors, requests) => {
      page.on('dialog', async (d) => {
        dialogs.push(d.message());
        await d.dismiss();
      });
      await drop(page, [zipName, evil, BAD('truncated.xml.gz'), BAD('billion-laughs.xml'), BAD('xxe.xml'),
        BAD('other-domain.xml'), BAD('google-resent.xml'), BAD('not-a-report.xml')]);
      assert.equal(await statusOf(page, 'dmarcrep.input'), 'unknown');
      const input = await card(page, 'dmarcrep.input').innerText();
      assert.match(input, /truncated\.xml\.gz: rejected: the gzip data is damaged or truncated/);
      assert.match(input, /billion-laughs\.xml: rejected: it has a DOCTYPE declaration/);
      assert.match(input, /other-domain\.xml: google\.com report 99999 is for example\.net, not example\.com: left out/);
      await page.waitForTimeout(300);
      assert.deepEqual(dialogs, []);
      assert.equal(await page.locator('#panel-dmarc img').count(), 0);
      assert.equal(await page.locator('#panel-dmarc b').count(), 0);
      assert.equal(await page.locator('#panel-dmarc svg').count(), 1, 'only the chart');
      const text = await page.locator('#dmarc-results').innerText();
      assert.ok(text.includes('<img src=x onerror=alert(1)>'), 'the reporter name is shown literally');
      await shot(page, 'dmarc-hostile.png');
      assert.deepEqual(requests, []);
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A benchmark as much as a test: 1,000 generated report files (a third
// zip, a third gzip, a third XML, 100 rows each: bench/gen_dmarc_reports.py)
// read and analysed in the page, with the progress bar. The page's own
// figure (performance.now() from the first read to the analysis) and the
// wall time go to $TEST_OUT/dmarc-perf.json and BENCHMARKS.md.
test('1,000 report files in the page: progress, time', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailaudit-dmarc-1000-'));
  try {
    const gen = new URL('../../bench/gen_dmarc_reports.py', import.meta.url).pathname;
    execFileSync('python3', [gen, dir, '1000', '100'], { stdio: 'ignore' });
    const files = readdirSync(dir).sort().map((f) => path.join(dir, f));
    assert.equal(files.length, 1000);
    await withDmarcPage(async (context, page, pageErrors, requests) => {
      const started = Date.now();
      const progress = page.locator('[data-testid="dmarc-progress"] progress');
      await page.locator('#dmarc-files').setInputFiles(files);
      await progress.waitFor({ timeout: 30_000 });
      // The bar moves while the page reads (it yields between slices).
      let seen = 0;
      for (let i = 0; i < 200 && seen === 0; i++) {
        seen = Number((await progress.getAttribute('value').catch(() => '0')) || 0);
        if (seen === 0) await page.waitForTimeout(20);
      }
      const done = page.locator('#panel-dmarc .dmarc-done');
      await done.waitFor({ timeout: 240_000 });
      const wall = Date.now() - started;
      const ms = Number(await done.getAttribute('data-analysis-ms'));
      assert.equal(await done.getAttribute('data-files'), '1000');
      assert.ok(Number.isFinite(ms) && ms > 0);
      assert.ok(seen > 0 && seen < 1000, `the progress bar showed ${seen} of 1000 at some point`);
      assert.equal(await page.locator('[data-testid="dmarc-chart"] g.day').count(), 30);
      await page.screenshot({ path: path.join(OUT, 'dmarc-1000.png'), timeout: 60_000 });
      console.log(`1,000 DMARC report files (100,000 rows) in the page: ${ms.toFixed(0)} ms (wall ${wall} ms)`);
      const file = path.join(OUT, 'dmarc-perf.json');
      writeFileSync(file, JSON.stringify({
        test: 'browser: 1,000 DMARC aggregate report files (bench/gen_dmarc_reports.py DIR 1000 100), read + analysed in the page',
        files: 1000,
        rows: 100_000,
        analysis_ms: ms,
        wall_ms: wall,
        chromium: context.browser()?.version() ?? null,
        measured_at: new Date().toISOString(),
      }, null, 2) + '\n');
      assert.deepEqual(requests, []);
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: dmarc-reports and config on report files', { timeout: TIMEOUT }, () => {
  requireSite();
  const json = cli(['dmarc-reports', ...GOOD, '--format', 'json', '--now', '2026-11-29T12:00:00Z']);
  assert.equal(json.code, 1, json.stderr); // dmarcrep.spoofing warn is high
  const byId = findingsById(JSON.parse(json.stdout));
  assert.equal(byId['dmarcrep.unaligned_sources'].status, 'fail');
  assert.equal(byId['dmarcrep.policy_readiness'].status, 'warn');
  const tables = JSON.parse(cli(['dmarc-reports', ...GOOD, '--tables']).stdout);
  assert.equal(tables.tables.totals.total, 2912);
  assert.equal(tables.plan.verdict, 'ramp');
  // config recognises report files by content.
  const viaConfig = cli(['config', GOOD[0], '--format', 'json', '--fail-on', 'critical']);
  assert.equal(viaConfig.code, 0, viaConfig.stderr);
  assert.match(JSON.parse(viaConfig.stdout).target, /DMARC aggregate reports for example\.com/);
  // Nothing usable: exit 2, a message, no report.
  const bad = cli(['dmarc-reports', BAD('xxe.xml'), BAD('truncated.xml.gz')]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /no usable DMARC aggregate report/);
});
