// Browser tests of the paste tab with Sendmail and Exchange input, in
// headless Chromium (playwright-core), against `mailaudit serve`. Needs no
// test bed. Run with `node --test tests/e2e/` (`cargo xtask test` sets):
//
//   MAILAUDIT_BIN   the built `mailaudit` CLI                        (required)
//   MAILAUDIT_SITE  the built site directory                         (required)
//   TEST_OUT        where screenshots and perf-smex.json go (default: a temp dir)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OUT, describeRuns, loadAnalysers as loadAnalysersThenAudit, openApp, server, stopServer, timePaste, timedRuns, withBrowser } from './site-lib.mjs';

const TIMEOUT = 240_000; // upper bound for a loaded CI machine
const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const fixture = (p) => readFileSync(path.join(fixtures, p), 'utf8');

after(stopServer);

async function withPage(fn) {
  const base = await server();
  await withBrowser(async (context, page, errors) => {
    // A loaded CI machine once showed no tabs within 20 s: wait longer, and
    // say what the page showed instead.
    await openApp(page, base, errors, { timeout: 60_000, failShot: 'smex-no-tabs.png' });
    await fn(page, context, errors);
  }, { viewport: { width: 1100, height: 900 } });
}

/** Opens the paste tab and waits for the offline analysers' module. */
async function loadAnalysers(page) {
  await loadAnalysersThenAudit(page);
  await page.getByRole('tab', { name: 'Paste a configuration' }).click();
}

/** Pastes `text`, analyses it in the page (no version assumed), returns the
 * time the page measured. */
async function analyse(page, text) {
  await page.getByRole('tab', { name: 'Paste a configuration' }).click();
  await page.locator('#version').fill('');
  const { ms } = await timePaste(page, text);
  // Attached, not visible: a report view may fold passed checks.
  await page.locator('#panel-paste [data-testid="finding"]').first().waitFor({ state: 'attached', timeout: 60_000 });
  return ms;
}

/** The page's time for `text` as the other rows give it (site-lib's
 * timedRuns: a warm-up left out, the median of 15), with `first`, the
 * first analysis of the fresh page (the analysers module not yet warm),
 * recorded as the first run left out. */
async function steady(page, text, first) {
  const runs = await timedRuns(() => timePaste(page, text));
  return { ...runs, first_ms: first, warmup_ms: [first, ...runs.warmup_ms] };
}

const status = (page, id) =>
  page.locator(`#panel-paste [data-testid="finding"][data-id="${id}"]`).getAttribute('data-status');

const perf = [];
after(() => writeFileSync(path.join(OUT, 'perf-smex.json'), JSON.stringify(perf, null, 2)));

test('Sendmail: Debian stock sendmail.mc is recognised and its weaknesses shown', { timeout: TIMEOUT }, async () => {
  await withPage(async (page, context, errors) => {
    await loadAnalysers(page);
    await context.route('**/*', (r) => r.abort());
    const mc = fixture('sendmail/debian12-sendmail.mc');
    const ms = await analyse(page, mc);
    const text = await page.locator('#paste-results').innerText();
    assert.match(text, /input: pasted: Sendmail sendmail\.mc \(high confidence\)/);
    assert.equal(await status(page, 'sendmail.vrfy_expn'), 'fail');
    assert.equal(await status(page, 'sendmail.banner_disclosure'), 'fail');
    assert.equal(await status(page, 'sendmail.greeting_delay'), 'pass');
    const vrfy = page.locator('#panel-paste [data-testid="finding"][data-id="sendmail.vrfy_expn"]');
    assert.match(await vrfy.innerText(), /define\(`confPRIVACY_FLAGS'/);
    assert.match(await vrfy.locator('.fix pre').innerText(), /define\(`confPRIVACY_FLAGS', `goaway/);
    await page.screenshot({ path: path.join(OUT, 'paste-sendmail.png'), fullPage: true, timeout: 120_000 });
    perf.push({ test: 'Debian 12 stock sendmail.mc (98 lines)', ...(await steady(page, mc, ms)) });
    assert.deepEqual(errors, []);
  });
});

test('Exchange: default Exchange 2019 connectors are recognised and judged', { timeout: TIMEOUT }, async () => {
  await withPage(async (page, context, errors) => {
    await loadAnalysers(page);
    await context.route('**/*', (r) => r.abort());
    const paste = ['exchange/ex2019-receive-connectors.txt', 'exchange/ex2019-certificates.txt', 'exchange/ex2019-server.txt']
      .map(fixture).join('\n');
    const ms = await analyse(page, paste);
    const text = await page.locator('#paste-results').innerText();
    assert.match(text, /input: pasted: Microsoft Exchange Get-ReceiveConnector output/);
    assert.equal(await status(page, 'exchange.smuggling'), 'warn');
    assert.equal(await status(page, 'exchange.rate_limits'), 'fail');
    assert.equal(await status(page, 'exchange.cert_expiry'), 'fail');
    const sm = page.locator('#panel-paste [data-testid="finding"][data-id="exchange.smuggling"]');
    assert.match(await sm.locator('.fix pre').innerText(), /Set-ReceiveConnector -Identity "EX01\\Default Frontend EX01" -BareLinefeedRejectionEnabled \$true/);
    await page.screenshot({ path: path.join(OUT, 'paste-exchange.png'), fullPage: true, timeout: 120_000 });
    perf.push({ test: 'Exchange 2019 default connectors + certificates + server (~430 lines)', ...(await steady(page, paste, ms)) });
    assert.deepEqual(errors, []);
  });
});

test('10,000-line Sendmail and Exchange pastes: analysis time in the page', { timeout: TIMEOUT * 3 }, async () => {
  const lines = (s) => s.split('\n').length;
  const cf = fixture('sendmail/debian12-sendmail.cf');
  let bigCf = cf.repeat(5);
  while (lines(bigCf) < 10_000) bigCf += 'O Timeout.queuewarn=4h\n';
  const rc = fixture('exchange/ex2019-receive-connectors.txt');
  let bigEx = '';
  for (let i = 1; lines(bigEx) + lines(rc) <= 10_000; i++) bigEx += rc.replaceAll('EX01', `EX${String(i).padStart(2, '0')}`);
  await withPage(async (page, context, errors) => {
    await loadAnalysers(page);
    await context.route('**/*', (r) => r.abort());
    for (const [name, text] of [['sendmail.cf', bigCf], ['exchange', bigEx]]) {
      const runs = await timedRuns(() => timePaste(page, text));
      console.log(`${name} (${lines(text)} lines) in the page: ${describeRuns(runs)}`);
      perf.push({ test: `${name}, ${lines(text)} lines`, ...runs });
      assert.ok(runs.median_ms < 5_000, `${name}: ${runs.median_ms} ms`);
    }
    assert.deepEqual(errors, []);
  });
});
