// Browser tests of the report view, the live audit, the exports, the widget
// and accessibility (issue 6), in headless Chromium (playwright-core) against
// the built site served by `mailaudit serve`. Environment: see site-lib.mjs.
// The domain-audit tests use reports the CLI makes of the test bed's domains
// (BED_ENV), played to the page as the API's NDJSON stream by a proxy; the
// others need no bed. Screenshots (360 px and 1280 px) and perf.json go to
// TEST_OUT.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import {
  OUT, axe, basicA11y, bedReport, describeRuns, loadAnalysers, openApp, requireSite, server, shots, stopServer, streamingProxy, thirdPartyPage, timedRuns, withBrowser,
} from './site-lib.mjs';

const TIMEOUT = 120_000;
after(stopServer);

const FIXTURES = new URL('../fixtures/postfix/', import.meta.url).pathname;
const SEVERITY = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

/** Merges `keys` into $TEST_OUT/perf.json. */
function recordPerf(keys) {
  const file = path.join(OUT, 'perf.json');
  let perf = {};
  try {
    perf = JSON.parse(readFileSync(file, 'utf8'));
  } catch {}
  writeFileSync(file, `${JSON.stringify({ ...perf, ...keys }, null, 2)}\n`);
}

async function example(page, which, software = 'Postfix') {
  await page.getByRole('tab', { name: 'Paste a configuration' }).click();
  await page.getByRole('button', { name: `Load the ${which} ${software} example` }).click();
  await page.locator('#panel-paste [data-testid="score"]').waitFor({ timeout: 10_000 });
}

/** Follows every request the page makes from now on. */
function watch(page) {
  const requests = [];
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
  return requests;
}

/**
 * Opens the app, waits for the analysers' module, then cuts the network;
 * the requests made from then on are returned (there should be none).
 */
async function openOffline(context, page, base, pageErrors) {
  await openApp(page, base, pageErrors);
  await loadAnalysers(page);
  await context.route('**/*', (route) => route.abort());
  return watch(page);
}

async function download(page, locator) {
  const [d] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  return { file: d.suggestedFilename(), text: readFileSync(await d.path(), 'utf8') };
}

const inViewport = (page, locator) => locator.evaluate((el) => {
  const r = el.getBoundingClientRect();
  return r.top >= -1 && r.top < window.innerHeight;
});

// ------------------------------------------------------------------ tests

test('score, grade and what to fix first', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    const requests = await openOffline(context, page, base, pageErrors);

    await example(page, 'weak');
    const panel = page.locator('#panel-paste');
    const card = panel.locator('[data-testid="score"]');
    // An open relay is a critical failure: the grade is held to F.
    assert.equal(await card.getAttribute('data-grade'), 'F');
    assert.ok(Number(await card.getAttribute('data-score')) <= 59);
    assert.match(await card.innerText(), /Grade F, score \d+ of 100/);
    assert.match(await card.locator('.cap').first().innerText(), /A critical fail holds the score to 59 or less .*postfix\.mynetworks_broad/);

    // What to fix first: at most five, the most severe first, each a link to its card.
    const items = card.locator('.fix-first li');
    const n = await items.count();
    assert.ok(n >= 3 && n <= 5, `${n} items`);
    const ids = await items.evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.deepEqual(ids.slice(0, 2), ['postfix.mynetworks_broad', 'postfix.open_relay']);
    const sev = (await card.locator('.fix-first .ff-sev').allInnerTexts()).map((s) => SEVERITY[s.trim().toLowerCase()]);
    assert.deepEqual(sev, [...sev].sort((a, b) => b - a), `severities in order: ${sev}`);
    for (const id of ids) {
      assert.equal(await panel.locator(`[data-testid="finding"][data-id="${id}"][data-status]`).count(), 1, id);
    }
    await items.nth(2).locator('a').click();
    const third = await items.nth(2).getAttribute('data-id');
    assert.equal(await page.evaluate(() => decodeURIComponent(location.hash)), `#paste-f-${third}`);
    assert.ok(await inViewport(page, panel.locator(`[data-id="${third}"][data-testid="finding"]`)), 'the card is scrolled into view');

    // Grouped by area, with the area's own summary.
    const area = panel.locator('section.area[data-area="config"]');
    assert.equal(await area.locator('h3').first().innerText(), 'Pasted configuration');
    assert.match(await area.locator('.area-head').innerText(), /\d+ fail/);
    await shots(page, 'paste-weak-report');

    // The hardened example passes every postfix rule: an A, nothing to fix.
    await page.getByRole('button', { name: 'Load the hardened Postfix example' }).click();
    await panel.locator('[data-testid="score"][data-grade^="A"]').waitFor({ timeout: 10_000 });
    assert.equal(await card.locator('.fix-first .none').count(), 1);
    assert.equal(await panel.locator('[data-testid="finding"][data-status="fail"]').count(), 0);
    // Passed checks are folded away, still one click from view.
    const folded = area.locator('details.passed');
    assert.match(await folded.locator('summary').innerText(), /\d+ passed or informational checks/);
    assert.equal(await folded.locator('[data-testid="finding"][data-status="pass"]').count() > 10, true);

    assert.deepEqual(requests, [], 'the page made requests after it had loaded');
    assert.deepEqual(pageErrors, []);
  });
});

test('samples: a weak and a hardened configuration per software, one click each, analysed offline', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    const requests = await openOffline(context, page, base, pageErrors);
    await page.getByRole('tab', { name: 'Paste a configuration' }).click();
    const panel = page.locator('#panel-paste');
    const SOFTWARE = [['Postfix', 'postfix'], ['Exim', 'exim'], ['Sendmail', 'sendmail'], ['Microsoft Exchange', 'exchange'], ['fail2ban', 'fail2ban']];
    for (const [title, name] of SOFTWARE) {
      for (const which of ['weak', 'hardened']) {
        await page.getByRole('button', { name: `Load the ${which} ${title} example` }).click();
        await panel.locator(`.paste-done[data-source="${name}-${which}"]`).waitFor({ state: 'attached', timeout: 30_000 });
        const found = await panel.locator('[data-testid="finding"]').evaluateAll((els) => els.map((e) => [e.dataset.id, e.dataset.status]));
        const what = `${name} ${which}: ${JSON.stringify(found)}`;
        assert.ok(found.length >= 3, what);
        assert.ok(found.every(([id]) => id.startsWith(`${name}.`)), what);
        const fails = found.filter(([, st]) => st === 'fail');
        if (which === 'weak') {
          assert.ok(fails.length >= 3, what);
        } else {
          assert.deepEqual(fails, [], what);
          assert.ok(found.filter(([, st]) => st === 'pass').length >= 3, what);
        }
        // The sample is in the box, to read and edit; the report is headed as a configuration.
        assert.ok((await page.locator('#config').inputValue()).length > 100, what);
        assert.equal(await panel.locator('section.area[data-area="config"] h3').first().innerText(), 'Pasted configuration');
        assert.equal(await panel.locator('[data-testid="exports"]').getByRole('link', { name: 'JSON' }).getAttribute('download'), 'mailaudit-pasted-config.json');
      }
    }
    await shots(page, 'paste-sample-fail2ban-hardened');
    assert.deepEqual(requests, [], 'the page made requests after the analysers had loaded');
    assert.deepEqual(pageErrors, []);
  });
});

test('finding cards: evidence with line numbers, copy with fallback, references', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    await openApp(page, base, pageErrors);
    await example(page, 'weak');
    const relay = page.locator('#panel-paste [data-testid="finding"][data-id="postfix.open_relay"]');
    // The configuration line with its line number in the file.
    const weak = readFileSync(`${FIXTURES}weak-main.cf`, 'utf8').split('\n');
    const line = weak.findIndex((l) => l.startsWith('mynetworks')) + 1;
    assert.ok((await relay.locator('.ev-where').allInnerTexts()).includes(`main.cf:${line}`));
    assert.equal(await relay.locator('.ev-config code', { hasText: 'mynetworks = 0.0.0.0/0' }).count(), 1);
    // Status by icon and word, not colour alone.
    assert.match(await relay.locator('.badge').innerText(), /fail/i);
    assert.equal(await relay.locator('.badge .badge-icon').count(), 1);

    // Copy: the clipboard API where there is one...
    const fix = await relay.locator('.fix pre').innerText();
    await relay.getByRole('button', { name: /copy/i }).click();
    await relay.getByRole('button', { name: /^Copied/ }).waitFor({ timeout: 5_000 });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), fix);

    // References are links that give the target page no access to this one.
    const refs = relay.locator('.refs a');
    assert.ok(await refs.count() >= 1);
    for (const a of await refs.all()) {
      assert.match(await a.getAttribute('href'), /^https:\/\//);
      assert.equal(await a.getAttribute('rel'), 'noopener noreferrer');
      assert.equal(await a.getAttribute('target'), '_blank');
    }
    assert.deepEqual(pageErrors, []);
  }, { permissions: ['clipboard-read', 'clipboard-write'] });

  // ...and execCommand("copy") where the browser has no navigator.clipboard.
  await withBrowser(async (context, page, pageErrors) => {
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });
    });
    await openApp(page, base, pageErrors);
    await example(page, 'weak');
    const relay = page.locator('#panel-paste [data-testid="finding"][data-id="postfix.open_relay"]');
    await relay.getByRole('button', { name: /copy/i }).click();
    await relay.getByRole('button', { name: /^(Copied|Copy unavailable)/ }).waitFor({ timeout: 5_000 });
    const label = await relay.locator('button.copy').innerText();
    assert.equal(label, 'Copied', 'the execCommand fallback copied');
    // The temporary text area is gone and focus is back on the button.
    assert.equal(await page.locator('body > textarea').count(), 0);
    assert.deepEqual(pageErrors, []);
  });
});

test('exports of a pasted configuration: JSON, Markdown, print; nothing uploaded', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    await openApp(page, base, pageErrors);
    await loadAnalysers(page);
    const requests = watch(page);
    await example(page, 'weak');
    const ex = page.locator('#panel-paste [data-testid="exports"]');

    const json = await download(page, ex.getByRole('link', { name: 'JSON' }));
    assert.equal(json.file, 'mailaudit-pasted-config.json');
    const report = JSON.parse(json.text);
    assert.equal(report.schema, 'mailaudit/report/v1');
    assert.equal(report.findings.length, await page.locator('#panel-paste [data-testid="finding"]').count());
    assert.equal(report.findings.find((f) => f.id === 'postfix.open_relay').status, 'fail');

    const md = await download(page, ex.getByRole('link', { name: 'Markdown' }));
    assert.equal(md.file, 'mailaudit-pasted-config.md');
    assert.match(md.text, /^# mailaudit report: /);
    assert.match(md.text, /\| fail \| critical \| `postfix\.open_relay` \|/);
    assert.match(md.text, /Fix:\n\n```\n/);
    writeFileSync(path.join(OUT, 'paste-weak.md'), md.text);

    // No shareable link and no calendar for a pasted configuration.
    assert.equal(await page.locator('#paste-share').count(), 0);
    assert.equal(await ex.getByRole('link', { name: /Calendar reminder/ }).count(), 0);
    assert.match(await ex.innerText(), /never uploaded/);

    // Print: the controls are gone, the report stays; Chromium makes the PDF.
    await page.emulateMedia({ media: 'print' });
    for (const sel of ['.tabs', '#panel-paste .form', '#panel-paste [data-testid="exports"]', '.copy']) {
      assert.ok(await page.locator(sel).first().isHidden(), `${sel} is printed`);
    }
    assert.ok(await page.locator('#panel-paste [data-testid="score"]').isVisible());
    const pdf = await page.pdf({ path: path.join(OUT, 'paste-weak.pdf'), format: 'A4', printBackground: true });
    assert.ok(pdf.length > 20_000, `PDF of ${pdf.length} bytes`);
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    await page.emulateMedia({ media: 'screen' });

    assert.deepEqual(requests.filter((r) => !r.startsWith('GET data:')), [], 'the export made requests');
    assert.deepEqual(pageErrors, []);
  });
});

// A report as a hostile DNS zone or mail server could make it: markup in
// every remote string. Everything must stay text.
const EVIL = '<img src=x onerror=alert(1)>';
const IDN = 'xn--bcher-kva.example';
const hostileReport = () => ({
  schema: 'mailaudit/report/v1',
  target: IDN,
  generated_at: '2026-11-29T10:00:00Z',
  tool: { name: 'mailaudit', version: '0.1.0' },
  assumptions: [{ key: 'resolver', value: `https://doh.example/${EVIL}` }],
  summary: { fail: 2, warn: 0, unknown: 0, info: 0, pass: 1 },
  findings: [
    {
      id: 'spf.multiple', status: 'fail', severity: 'high', title: `SPF ${EVIL}`, detail: `TXT says ${EVIL}`,
      evidence: [
        { kind: 'dns', query: IDN, rtype: 'TXT', rcode: 'NOERROR', answers: [`${IDN} 300 TXT "v=spf1 ${EVIL} -all"`] },
      ],
      remediation: `remove ${EVIL}`,
      refs: ['javascript:alert(3)', 'https://example.org/"><svg/onload=alert(4)>'],
    },
    {
      id: 'smtp.banner', status: 'fail', severity: 'low', title: 'SMTP banner', detail: `The banner is 220 ${EVIL}`,
      evidence: [{ kind: 'note', text: `smtp session:\nS: 220 mail ${EVIL}\nC: EHLO mailaudit` }],
      remediation: 'smtpd_banner = $myhostname ESMTP', refs: ['RFC 5321'],
    },
    { id: 'dns.mx', status: 'pass', severity: 'high', title: 'MX records', detail: 'fine', evidence: [], remediation: '', refs: [] },
  ],
});

test('landing: an address or an IDN, keyboard only, remote strings as text', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    const dialogs = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    await openApp(page, base, pageErrors);
    assert.deepEqual(await basicA11y(page), []);
    assert.deepEqual(await axe(page), [], 'axe-core on the landing page');
    await shots(page, 'landing');

    let asked = null;
    await page.route('**/api/v1/audit', async (route) => {
      asked = { body: JSON.parse(route.request().postData()), accept: route.request().headers().accept };
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(hostileReport()) });
    });

    // Keyboard only: Tab to the field (the focus ring shows), type, Enter.
    let focused = '';
    for (let i = 0; i < 6 && focused !== 'domain'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.id || '');
    }
    assert.equal(focused, 'domain', 'the domain field is reached with Tab');
    assert.notEqual(await page.locator('#domain').evaluate((el) => getComputedStyle(el).outlineStyle), 'none');
    await page.keyboard.type('Info@Bücher.example');
    const idn = page.locator('#domain-idn');
    await idn.filter({ hasText: IDN }).waitFor({ timeout: 5_000 });
    assert.match(await idn.innerText(), /bücher\.example is audited as xn--bcher-kva\.example/);
    await page.keyboard.press('Enter');
    await page.locator('#panel-audit .report').waitFor({ timeout: 10_000 });

    // The domain part, in ASCII, asked for as a stream.
    assert.deepEqual(asked.body, { domain: IDN });
    assert.match(asked.accept, /application\/x-ndjson/);
    // Both forms of the name; a plain JSON answer is read as before streaming.
    assert.match(await page.locator('#panel-audit .report-head h2').innerText(), /bücher\.example \(xn--bcher-kva\.example\)/);
    assert.equal(await page.evaluate(() => location.search), `?domain=${IDN}`);

    await page.waitForTimeout(300); // an injected handler would have run by now
    assert.equal(await page.locator('img').count(), 0, 'an <img> was made from report text');
    assert.equal(await page.locator('#panel-audit svg').count(), 0, 'an <svg> was made from report text');
    assert.deepEqual(dialogs, []);
    const text = await page.locator('#panel-audit .report').innerText();
    for (const s of [`TXT says ${EVIL}`, `v=spf1 ${EVIL} -all`, `S: 220 mail ${EVIL}`, `remove ${EVIL}`, `SPF ${EVIL}`]) {
      assert.ok(text.includes(s), `shown literally: ${s}`);
    }
    // Only https references become links, and their markup stays in the href.
    const refs = page.locator('#panel-audit [data-id="spf.multiple"] .refs');
    assert.equal(await refs.locator('a').count(), 1);
    assert.equal(await refs.locator('a').getAttribute('href'), 'https://example.org/"><svg/onload=alert(4)>');
    assert.match(await refs.innerText(), /javascript:alert\(3\)/);
    assert.deepEqual(pageErrors, []);
  });
});

test('live domain audit: per-area progress from the stream, areas, pictures, exports, shared link', { timeout: 240_000 }, async () => {
  requireSite();
  const weak = bedReport('weak.test');
  const good = bedReport('example.test', ['--selector', 'sel1']);
  const base = await server();
  const proxy = await streamingProxy(base, { 'weak.test': weak, 'example.test': good });
  try {
    await withBrowser(async (context, page, pageErrors) => {
      await openApp(page, proxy.base, pageErrors);
      await page.locator('#domain').fill('postmaster@weak.test');
      await page.getByRole('button', { name: 'Audit', exact: true }).click();

      // The stream: per-area progress while the findings come in.
      const results = page.locator('#audit-results');
      await page.locator('[data-testid="progress"][data-streaming="true"] .area-progress').first().waitFor({ timeout: 20_000 });
      await page.waitForFunction(() => [...document.querySelectorAll('.area-progress')].some((a) => Number(a.dataset.done) > 0));
      assert.equal(await results.getAttribute('aria-busy'), 'true');
      assert.equal(await results.getAttribute('aria-live'), 'polite');
      const areas = await page.locator('.area-progress').evaluateAll((els) => els.map((e) => e.dataset.area));
      for (const a of ['dns', 'authentication', 'transport', 'server', 'blocklists']) assert.ok(areas.includes(a), `${a} in ${areas}`);
      assert.match(await page.locator('.progress .busy').innerText(), /Auditing … \d+ of \d+ checks done/);
      assert.equal(await page.locator('.area-progress progress').count(), areas.length);
      await shots(page, 'audit-progress');

      await page.locator('#panel-audit .report .target', { hasText: 'weak.test' }).waitFor({ timeout: 30_000 });
      assert.equal(await results.getAttribute('aria-busy'), 'false');
      assert.deepEqual(proxy.requests.at(-1), { domain: 'weak.test', accept: 'application/x-ndjson, application/json;q=0.9' });

      // Grouped by area, in order, each with its summary.
      const order = await page.locator('#panel-audit section.area').evaluateAll((els) => els.map((e) => e.dataset.area));
      assert.deepEqual(order, ['dns', 'authentication', 'transport', 'server', 'blocklists']);
      assert.equal(await page.locator('#audit-area-authentication [data-id="spf.multiple"][data-status="fail"]').count(), 1);
      assert.equal(await page.locator('#audit-area-server [data-id="smtp.open_relay"][data-status="fail"]').count(), 1);
      const score = page.locator('#panel-audit [data-testid="score"]');
      assert.equal(await score.getAttribute('data-grade'), 'F');
      assert.equal(await score.locator('.fix-first .ff-sev').first().textContent(), 'critical');

      // The SPF tree with the cost of each term, the blocklist grid.
      const tree = page.locator('#audit-area-authentication [data-testid="spf-tree"]');
      assert.ok(Number(await tree.getAttribute('data-lookups')) >= 0);
      assert.match(await tree.locator('.spf-node').first().innerText(), /weak\.test: "v=spf1/);
      const grid = page.locator('#audit-area-blocklists [data-testid="blocklist-grid"]');
      const mx = grid.locator('tbody tr', { hasText: '198.18.25.26' });
      assert.equal(await mx.count(), 1);
      assert.ok(await mx.locator('td[data-cell="listed"]').count() >= 1, 'the weak MX is listed');
      assert.match(await mx.locator('td[data-cell="listed"]').first().innerText(), /Listed \(127\.0\.0\.\d+\)/);
      await shots(page, 'audit-weak');
      assert.deepEqual(await basicA11y(page), []);
      assert.deepEqual(await axe(page), [], 'axe-core on a domain report');

      // A good domain: the certificate timeline and its calendar reminder.
      await page.locator('#domain').fill('example.test');
      await page.getByRole('button', { name: 'Audit', exact: true }).click();
      await page.locator('#panel-audit .report .target', { hasText: 'example.test' }).waitFor({ timeout: 30_000 });
      const certs = page.locator('#audit-area-transport [data-testid="cert-timeline"]');
      assert.equal(await certs.locator('svg rect.bar').count() >= 1, true);
      assert.match(await certs.locator('table').innerText(), /mail\.example\.test/);
      const ex = page.locator('#panel-audit [data-testid="exports"]');
      const ics = await download(page, ex.getByRole('link', { name: /Calendar reminder: certificate of mail\.example\.test/ }));
      assert.equal(ics.file, 'mailaudit-cert-mail.example.test.ics');
      assert.match(ics.text, /^BEGIN:VCALENDAR\r\n/);
      assert.match(ics.text.replace(/\r\n /g, ''), /SUMMARY:TLS certificate of mail\.example\.test expires/);
      // JSON: the report contract, as the API gave it.
      const json = await download(page, ex.getByRole('link', { name: 'JSON' }));
      assert.equal(json.file, 'mailaudit-example.test.json');
      assert.deepEqual(JSON.parse(json.text), good);
      const md = await download(page, ex.getByRole('link', { name: 'Markdown' }));
      assert.match(md.text, /^# mailaudit report: example\.test/);
      await shots(page, 'audit-example');

      // The shareable link, in the field and in the address bar, runs the audit again.
      const link = await page.locator('#audit-share').inputValue();
      assert.equal(link, `${proxy.base}?domain=example.test`);
      assert.equal(page.url(), link);
      const asked = proxy.requests.length;
      const other = await context.newPage();
      other.on('pageerror', (e) => pageErrors.push(e.message));
      await other.goto(link);
      await other.locator('#panel-audit .report .target', { hasText: 'example.test' }).waitFor({ timeout: 30_000 });
      // The shared link asks the cached read first, and gets the report from it.
      assert.deepEqual(proxy.requests.slice(asked), [{ domain: 'example.test', method: 'GET' }]);
      assert.equal(await other.locator('#domain').inputValue(), 'example.test');
      await other.close();

      // A server without the stream (plain JSON) works the same; timed.
      await page.route('**/api/v1/audit', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(weak) }));
      await page.locator('#domain').fill('weak.test');
      const ms = await page.evaluate(() => new Promise((resolve) => {
        const t0 = performance.now();
        new MutationObserver((_, obs) => {
          if (document.querySelector('#panel-audit .report .target')?.textContent === 'weak.test') {
            obs.disconnect();
            resolve(performance.now() - t0);
          }
        }).observe(document.getElementById('audit-results'), { childList: true, subtree: true, characterData: true });
        document.querySelector('#panel-audit button[type="submit"]').click();
      }));
      assert.equal(await page.locator('#panel-audit [data-testid="finding"]').count(), weak.findings.length);
      console.log(`domain report render (weak.test, ${weak.findings.length} findings, JSON answer): ${ms.toFixed(1)} ms`);
      recordPerf({ audit_render: { test: 'browser: click Audit to rendered report, weak.test report from the bed answered at once as JSON', ms, findings: weak.findings.length, measured_at: new Date().toISOString() } });
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    await proxy.close();
  }
});

test('widget on a third-party page: isolated, themed, compact result, full report link', { timeout: 180_000 }, async () => {
  requireSite();
  const weak = bedReport('weak.test');
  const base = await server();
  const proxy = await streamingProxy(base, { 'weak.test': weak });
  const closers = [proxy.close];
  try {
    // Headers: only /widget/ may be framed, by anyone.
    const w = await fetch(`${proxy.base}widget/`);
    assert.equal(w.status, 200);
    assert.match(w.headers.get('content-security-policy'), /frame-ancestors \*/);
    assert.equal(w.headers.get('x-frame-options'), null);
    const root = await fetch(proxy.base);
    assert.match(root.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    assert.equal(root.headers.get('x-frame-options'), 'DENY');
    const loader = Buffer.from(await (await fetch(`${proxy.base}widget.js`)).arrayBuffer());
    const gz = gzipSync(loader, { level: 9 }).length;
    assert.ok(gz < 10 * 1024, `widget.js is ${gz} bytes gzipped (budget 10 KB)`);
    recordPerf({ widget_loader: { raw_bytes: loader.length, gzip_bytes: gz } });

    await withBrowser(async (context, page, pageErrors) => {
      // The embedding page, on another origin.
      const thirdParty = await thirdPartyPage(`<!doctype html><html lang="en"><head><title>Consultancy</title>
          <style>body{font-family:serif;background:#fbf7f0}.box{--mailaudit-radius:3px;--mailaudit-accent:#123456}</style></head>
          <body><h1>Acme Mail Consulting</h1><div class="box">
          <script src="${proxy.base}widget.js" data-mailaudit data-accent="#0b7a75" data-title="Test your domain"
            data-cta-text="Talk to Acme" data-cta-url="https://consultancy.example/contact"
            data-logo="https://consultancy.example/logo.svg" data-font="Georgia, serif"></script>
          </div></body></html>`);
      closers.push(thirdParty.close);
      await context.route('https://consultancy.example/logo.svg', (route) => route.fulfill({
        status: 200,
        contentType: 'image/svg+xml',
        body: '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="24"><rect width="80" height="24" fill="#0b7a75"/></svg>',
      }));
      await page.goto(thirdParty.url);
      const iframe = page.locator('iframe[data-mailaudit-frame]');
      await iframe.waitFor({ timeout: 20_000 });
      const frame = page.frameLocator('iframe[data-mailaudit-frame]');
      await frame.locator('#w-domain').waitFor({ timeout: 20_000 });
      assert.equal(await frame.locator('.w-title').innerText(), 'Test your domain');
      // Themed: the data-accent attribute wins over the page's custom property; the radius comes from it.
      assert.equal(await frame.locator('.widget .primary').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(11, 122, 117)');
      assert.equal(await frame.locator('.widget').evaluate((el) => getComputedStyle(el).borderTopLeftRadius), '3px');
      assert.match(await frame.locator('.widget').evaluate((el) => getComputedStyle(el).fontFamily), /Georgia/);
      assert.ok(await frame.locator('img.w-logo').evaluate((img) => img.complete && img.naturalWidth > 0), 'the logo loaded');
      // Isolated: the widget's document is not the page's.
      assert.equal(await page.locator('#w-domain').count(), 0);

      const before = (await iframe.boundingBox()).height;
      await frame.locator('#w-domain').fill('you@weak.test');
      await frame.getByRole('button', { name: 'Check' }).click();
      const result = frame.locator('[data-testid="widget-result"]');
      await result.waitFor({ timeout: 30_000 });
      assert.equal(await result.getAttribute('data-grade'), 'F');
      const top = result.locator('.w-top li');
      assert.equal(await top.count(), 3);
      assert.equal(await top.first().getAttribute('data-id'), weak.findings.filter((f) => f.status === 'fail').sort((a, b) => SEVERITY[b.severity] - SEVERITY[a.severity])[0].id);
      const full = result.getByRole('link', { name: /Full report/ });
      assert.equal(await full.getAttribute('href'), `${proxy.base.replace(/\/$/, '')}/?domain=weak.test`);
      assert.equal(await full.getAttribute('rel'), 'noopener noreferrer');
      const cta = frame.getByRole('link', { name: 'Talk to Acme' });
      assert.equal(await cta.getAttribute('href'), 'https://consultancy.example/contact');
      assert.equal(await cta.getAttribute('target'), '_blank');
      // The iframe grew to fit the result (postMessage from the widget).
      await page.waitForFunction((h) => document.querySelector('iframe[data-mailaudit-frame]').getBoundingClientRect().height > h + 40, before);

      const inner = page.frames().find((f) => f.url().includes('/widget/'));
      assert.deepEqual(await basicA11y(inner), []);
      assert.deepEqual(await axe(page, inner), [], 'axe-core in the widget');
      await shots(page, 'widget-third-party');

      // The demo page shipped with the site.
      await page.goto(`${proxy.base}demo/`);
      const demo = page.frameLocator('iframe[data-mailaudit-frame]');
      await demo.locator('#w-domain').waitFor({ timeout: 20_000 });
      assert.equal(await demo.getByRole('link', { name: 'Book a free call with Northwind' }).count(), 1);
      await shots(page, 'widget-demo');
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    for (const close of closers) await close();
  }
});

test('first render of the landing page', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    const requests = watch(page);
    // The first load compiles the module (no code cache yet): a warm-up,
    // recorded as first_ms and left out of the median.
    const runs = await timedRuns(async (i) => {
      await page.goto(`${base}?run=${i}`);
      await page.waitForFunction(() => document.querySelector('[role="tab"]'), null, { polling: 'raf', timeout: 20_000 });
      return page.evaluate(() => performance.now());
    });
    console.log(`landing first render: ${describeRuns(runs)}`);
    recordPerf({ landing_first_render: { ...runs, measured_at: new Date().toISOString() } });
    assert.ok(runs.first_ms < 10_000);
    // The landing page loads the first wasm module only: the offline
    // analysers' module waits until the paste tab is opened.
    assert.ok(requests.some((r) => r.endsWith('/mailaudit_frontend_bg.wasm')), requests.join('\n'));
    assert.deepEqual(requests.filter((r) => r.includes('mailaudit_offline')), []);
    await page.getByRole('tab', { name: 'Paste a configuration' }).click();
    await page.locator('html[data-analysers="ready"]').waitFor({ state: 'attached', timeout: 60_000 });
    assert.ok(requests.some((r) => r.endsWith('/mailaudit_offline_bg.wasm')), requests.join('\n'));
    assert.deepEqual(pageErrors, []);
  });
});
