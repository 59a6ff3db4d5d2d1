// Browser tests of the mail-log view and of pasted fail2ban and log samples,
// in headless Chromium against `mailaudit serve`. No test bed needed.
//
//   MAILAUDIT_BIN     the built `mailaudit` CLI                              (required)
//   MAILAUDIT_SITE    the built site directory                               (required)
//   TEST_OUT          screenshots and perf.json (default: a temp dir)
//   LOGS_BENCH_LINES  lines of the generated log timed in the page (default 100,000,
//                     which keeps CI short; the benchmark in BENCHMARKS.md uses 1000000)
//
// The big-log test is a benchmark, not a timed assertion: the page's own
// figure (performance.now() in the worker around reading and analysing) goes
// to $TEST_OUT/perf.json and BENCHMARKS.md.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OUT, describeRuns, openApp, requireSite, server, shot, stopServer, timePaste, timedRuns, withBrowser as siteBrowser } from './site-lib.mjs';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
const BIG_LINES = Number(process.env.LOGS_BENCH_LINES || 100_000);

/** The site-lib browser, plus every request the page and its worker make
 * (`fn` gets (context, page, errors, requests)). */
async function withBrowser(fn) {
  const { site } = requireSite();
  assert.ok(existsSync(path.join(site, 'logs-worker.js')), `MAILAUDIT_SITE=${site} has no logs-worker.js`);
  await siteBrowser(async (context, page, errors) => {
    // Everything the page and its worker ask for: only the site's own files.
    const requests = [];
    context.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await fn(context, page, errors, requests);
  }, { viewport: { width: 1100, height: 900 } });
}

after(stopServer);

function recordPerf(keys) {
  const file = path.join(OUT, 'perf.json');
  let perf = {};
  try { perf = JSON.parse(readFileSync(file, 'utf8')); } catch {}
  writeFileSync(file, JSON.stringify({ ...perf, ...keys }, null, 2) + '\n');
}

const card = (page, panel, id) => page.locator(`#panel-${panel} [data-testid="finding"][data-id="${id}"]`);

/** Only GETs of the site's static files (no API call, no upload). */
function assertOnlyAssets(requests) {
  const allowed = /^GET \/(|index\.html|boot\.js|style\.css|logs-worker\.js|mailaudit_(frontend|offline)\.js|mailaudit_(frontend|offline)_bg\.wasm)$/;
  const other = requests.filter((r) => !allowed.test(r));
  assert.deepEqual(other, [], 'the page made requests beyond its own files');
}

test('log view: fixture logs through the file input, charts and tables', { timeout: 90_000 }, async () => {
  const base = await server();
  await withBrowser(async (context, page, errors, requests) => {
    await openApp(page, base, errors);
    await page.getByRole('tab', { name: 'Analyse mail logs' }).click();
    await page.locator('#logfile').setInputFiles(path.join(FIXTURES, 'logs/postfix-attack.log'));
    const done = page.locator('#panel-logs .logs-done');
    await done.waitFor({ timeout: 30_000 });
    assert.equal(await done.getAttribute('data-lines'), '1178');
    // The three charts, drawn as SVG by the page.
    const bars = page.locator('#panel-logs svg.chart-auth rect.bar');
    assert.ok(await bars.count() > 0, 'failed-login bars');
    assert.match(await page.locator('#panel-logs svg.chart-auth').getAttribute('aria-label'), /^63 failed logins/);
    const ips = page.locator('#panel-logs svg.chart-ips .row');
    assert.equal(await ips.count(), 10);
    assert.equal(await ips.first().locator('.row-label').textContent(), '203.0.113.45');
    assert.equal(await page.locator('#panel-logs svg.chart-senders polyline').count(), 2);
    assert.match(await page.locator('#panel-logs .legend').innerText(), /alice@example\.org — spike/);
    // Tables and findings.
    assert.match(await page.locator('#panel-logs table.ip-table tbody tr').first().innerText(), /203\.0\.113\.45\s+40/);
    assert.match(await page.locator('#panel-logs table.user-table').innerText(), /bob@example\.org\s+11\s+11/);
    for (const id of ['logs.auth_bruteforce', 'logs.auth_spray', 'logs.outbound_spike', 'logs.queue_growth', 'logs.tls_failures']) {
      assert.equal(await card(page, 'logs', id).getAttribute('data-status'), 'fail', id);
    }
    assert.equal(await card(page, 'logs', 'logs.relay_attempts').getAttribute('data-status'), 'info');
    // A log line's place (a multi-line note's caption is an .ev-where too).
    assert.ok(await card(page, 'logs', 'logs.auth_bruteforce').locator('.ev-where', { hasText: /postfix-attack\.log:\d+/ }).count() >= 1);
    // Headed and exported as a log analysis, not as a pasted configuration.
    assert.equal(await page.locator('#panel-logs section.area[data-area="config"] h3').first().innerText(), 'Mail log analysis');
    assert.equal(await page.locator('#panel-logs [data-testid="exports"]').getByRole('link', { name: 'JSON' }).getAttribute('download'), 'mailaudit-mail-logs.json');
    await shot(page, 'logs-postfix-attack.png');

    // Two files at once: Exim and Exchange, one report.
    await page.locator('#logfile').setInputFiles([
      path.join(FIXTURES, 'logs/exim-mainlog'),
      path.join(FIXTURES, 'logs/exchange-smtpreceive.log'),
    ]);
    await page.locator('#panel-logs .logs-done[data-lines="350"]').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('#panel-logs .report .target').innerText(), /exim-mainlog, exchange-smtpreceive\.log/);
    await shot(page, 'logs-exim-exchange.png');
    assertOnlyAssets(requests);
    assert.deepEqual(errors, []);
  });
});

test('paste: a fail2ban jail.local beside Postfix, and a pasted mail log', { timeout: 120_000 }, async () => {
  const base = await server();
  await withBrowser(async (context, page, errors, requests) => {
    await openApp(page, base, errors);
    await page.getByRole('tab', { name: 'Paste a configuration' }).click();
    const weak = readFileSync(path.join(FIXTURES, 'fail2ban/weak.local'), 'utf8');
    const paste = `# file: /etc/postfix/main.cf\nmyhostname = mx.example.org\nsmtpd_sasl_auth_enable = yes\n# file: /etc/fail2ban/jail.local\n${weak}`;
    await page.locator('#config').fill(paste);
    await page.getByRole('button', { name: 'Analyse', exact: true }).click();
    await card(page, 'paste', 'fail2ban.smtp_jail').waitFor({ state: 'attached', timeout: 10_000 });
    const assumptions = await page.locator('#panel-paste .assumptions').innerText();
    assert.match(assumptions, /input: .*\/etc\/fail2ban\/jail\.local: fail2ban jail configuration/);
    assert.match(assumptions, /fail2ban\.mail software: Postfix/);
    assert.equal(await card(page, 'paste', 'fail2ban.smtp_jail').getAttribute('data-status'), 'fail');
    assert.match(await card(page, 'paste', 'fail2ban.smtp_jail').locator('.fix pre').innerText(), /\[postfix-sasl\]\nenabled  = true/);
    assert.equal(await card(page, 'paste', 'fail2ban.ignoreip_broad').getAttribute('data-status'), 'fail');
    await shot(page, 'paste-fail2ban.png');

    // Timing (a benchmark, no assertion on it): the full stock jail.conf
    // plus a generated 10,000-line jail.local (2,000 jails), in the page.
    let big = readFileSync(path.join(FIXTURES, 'fail2ban/jail.conf'), 'utf8');
    big += '# file: /etc/fail2ban/jail.local\n[DEFAULT]\nbantime = 1h\n';
    for (let i = 0; big.split('\n').length < 10_980; i++) {
      big += `[site${i}]\nenabled = ${i % 2 ? 'true' : 'false'}\nfilter = postfix[mode=auth]\nignoreip = 127.0.0.1/8 10.${i % 250}.0.0/16\nmaxretry = ${3 + (i % 5)}\n`;
    }
    const runs = await timedRuns(() => timePaste(page, big));
    console.log(`fail2ban paste, stock jail.conf + 10,000-line jail.local: ${describeRuns(runs)}`);
    recordPerf({
      fail2ban_big: {
        test: 'browser: paste analysis of the stock jail.conf (980 lines) + a generated 10,000-line jail.local',
        ...runs,
        measured_at: new Date().toISOString(),
      },
    });

    const log = readFileSync(path.join(FIXTURES, 'logs/sendmail-maillog'), 'utf8');
    await page.locator('#config').fill(log);
    await page.getByRole('button', { name: 'Analyse', exact: true }).click();
    await card(page, 'paste', 'logs.auth_bruteforce').waitFor({ state: 'attached', timeout: 10_000 });
    assert.match(await page.locator('#panel-paste .assumptions').innerText(), /input: pasted: Sendmail mail log/);
    assert.equal(await card(page, 'paste', 'logs.auth_bruteforce').getAttribute('data-status'), 'fail');
    // A pasted log is a log analysis, not a "Pasted configuration", in the
    // page and in the exports' names.
    const area = page.locator('#panel-paste section.area[data-area="config"]');
    assert.equal(await area.locator('h3').first().innerText(), 'Mail log analysis');
    const exports = page.locator('#panel-paste [data-testid="exports"]');
    assert.equal(await exports.getByRole('link', { name: 'JSON' }).getAttribute('download'), 'mailaudit-mail-logs.json');
    assert.equal(await exports.getByRole('link', { name: 'Markdown' }).getAttribute('download'), 'mailaudit-mail-logs.md');
    assert.match(await exports.innerText(), /the log files are never uploaded/);
    await shot(page, 'paste-maillog.png');
    assertOnlyAssets(requests);
    assert.deepEqual(errors, []);
  });
});

// A benchmark, not a test of speed: a generated Postfix log
// (bench/gen_maillog.py, LOGS_BENCH_LINES lines; 1 million is ~123 MB)
// through the file input. The page must stay responsive while the
// worker runs, the progress bar must move, and the charts must render.
test(`log view: a generated ${BIG_LINES}-line log, timed in the page`, { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailaudit-biglog-'));
  try {
    const file = path.join(dir, 'mail.log');
    const gen = new URL('../../bench/gen_maillog.py', import.meta.url).pathname;
    execFileSync('python3', [gen, file, String(BIG_LINES)], { stdio: 'ignore' });
    const size = statSync(file).size;
    const base = await server();
    await withBrowser(async (context, page, errors, requests) => {
      await openApp(page, base, errors);
      await page.getByRole('tab', { name: 'Analyse mail logs' }).click();
      const wall = Date.now();
      await page.locator('#logfile').setInputFiles(file);
      // While the worker reads, the page answers and the bar moves.
      const bar = page.locator('#log-progress-bar');
      await bar.waitFor({ timeout: 30_000 });
      const seen = new Set();
      const responsive = [];
      const done = page.locator('#panel-logs .logs-done');
      while (await done.count() === 0) {
        const t = Date.now();
        const v = await page.evaluate(() => document.querySelector('#log-progress-bar')?.value ?? null);
        responsive.push(Date.now() - t);
        if (v !== null) seen.add(Math.round(v));
        if (Date.now() - wall > 800_000) assert.fail('the analysis did not finish in 800 s');
        await new Promise((r) => setTimeout(r, 250));
      }
      const wallMs = Date.now() - wall;
      const ms = Number(await done.getAttribute('data-analysis-ms'));
      const lines = Number(await done.getAttribute('data-lines'));
      assert.ok(lines >= BIG_LINES, `lines ${lines}`);
      // A run shorter than a few samples (250 ms apart) may finish between two of them.
      if (wallMs > 2_000) assert.ok(seen.size >= 2, `the progress bar showed ${[...seen]}`);
      else assert.ok(seen.size >= 1, 'the progress bar was never read');
      assert.ok(await page.locator('#panel-logs svg.chart-auth rect.bar').count() > 0);
      assert.ok(await page.locator('#panel-logs svg.chart-senders polyline').count() > 0);
      assert.equal(await card(page, 'logs', 'logs.auth_bruteforce').getAttribute('data-status'), 'fail');
      await shot(page, `logs-${BIG_LINES}-lines.png`);
      const worst = Math.max(...responsive);
      console.log(`log view: ${lines} lines, ${(size / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms in the worker `
        + `(${wallMs} ms from choosing the file to the charts); the page answered within ${worst} ms throughout`);
      recordPerf({
        logs_big: {
          test: `browser: log view, generated Postfix log (bench/gen_maillog.py ${BIG_LINES})`,
          lines,
          bytes: size,
          worker_ms: ms,
          wall_ms: wallMs,
          page_worst_answer_ms: worst,
          progress_values_seen: seen.size,
          chromium: context.browser()?.version() ?? null,
          measured_at: new Date().toISOString(),
        },
      });
      assertOnlyAssets(requests);
      assert.deepEqual(errors, []);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
