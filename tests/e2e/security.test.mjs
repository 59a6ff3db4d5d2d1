// Hostile input in the page (issue 7, security tests), in headless Chromium
// against `mailaudit serve`. No test bed needed.
//
// 1. Markup and script through DNS TXT records and an SMTP banner: the
//    domain's resolver is a DNS-over-HTTPS stub in this process
//    (doh-stub.mjs) whose TXT records (SPF, DMARC, TLS-RPT, BIMI, DKIM)
//    carry <script>, <img onerror>, <svg onload> and javascript: URLs; its
//    MX is a fake SMTP server in this process on a loopback address
//    (127.x.y.25:25, allowed with --allow-net, live probes on) whose
//    greeting and EHLO answer carry the same. The audit runs through the
//    real engine and the page renders its stream. A hook the payloads call
//    (window.__xss) must never fire, no inline handler, javascript: link,
//    injected element or CSP violation may appear, and the payloads must
//    be shown as text.
// 2. 50 MB pasted into the paste box (a configuration and a mail log) and
//    a 50 MB log file given to the log analyser: a heartbeat timer in the
//    page must keep ticking (the page never freezes) and the page must say
//    what happened (the paste box refuses text over its limit with what to
//    do instead; the log analyser reads the file in its Web Worker).
//
//   MAILAUDIT_BIN, MAILAUDIT_SITE (required), TEST_OUT (screenshots).
//   Needs root for the SMTP server's port 25 (as CI runs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dohStub } from './doh-stub.mjs';
import { loadAnalysers, openApp, shot, startServe, withBrowser } from './site-lib.mjs';

const hook = (tag) => `window.__xss('${tag}')`;
const PAYLOADS = {
  spf: `v=spf1 include:<script>${hook('spf')}</script> a:"><img src=x onerror=${hook('spf-img')}> -all`,
  dmarc: `v=DMARC1; p=none; rua=mailto:"><svg/onload=${hook('dmarc-svg')}>@xss.test,javascript:${hook('dmarc-js')}`,
  tlsrpt: `v=TLSRPTv1; rua=javascript:${hook('tlsrpt')}`,
  bimi: `v=BIMI1; l=javascript:${hook('bimi')}; a="><img src=x onerror=${hook('bimi-img')}>`,
  dkim: `v=DKIM1; k=rsa; n=<script>${hook('dkim')}</script>; p=<img src=x onerror=${hook('dkim-img')}>`,
  banner: `mx.xss.test ESMTP <script>${hook('banner')}</script><img src=x onerror="${hook('banner-img')}">`,
  ehlo: `mx.xss.test Hello <a href="javascript:${hook('ehlo')}">you</a>`,
};

/** A fake SMTP server: greets with the payload banner, answers EHLO with
 * a payload line, refuses relaying, never offers STARTTLS. */
function smtpServer(host) {
  const srv = net.createServer((sock) => {
    sock.setEncoding('latin1');
    sock.on('error', () => {});
    sock.write(`220 ${PAYLOADS.banner}\r\n`);
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO') sock.write(`250-${PAYLOADS.ehlo}\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n`);
        else if (verb === 'HELO') sock.write(`250 ${PAYLOADS.ehlo}\r\n`);
        else if (verb === 'MAIL' || verb === 'RSET' || verb === 'NOOP') sock.write('250 2.0.0 OK\r\n');
        else if (verb === 'RCPT') sock.write('554 5.7.1 Relay access denied <script>window.__xss("rcpt")</script>\r\n');
        else if (verb === 'QUIT') { sock.end('221 2.0.0 Bye\r\n'); return; }
        else sock.write('502 5.5.2 Error: command not recognized\r\n');
      }
    });
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(25, host, () => resolve(srv));
  });
}

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('XSS through DNS TXT records and an SMTP banner: shown as text, never run', { timeout: 120_000 }, async () => {
  // A loopback address of this run's own, so a parallel run cannot clash.
  const mx = `127.${20 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}.25`;
  const zone = new Map([
    ['xss.test', { MX: [[10, 'mx.xss.test']], TXT: [PAYLOADS.spf] }],
    ['mx.xss.test', { A: [mx] }],
    ['_dmarc.xss.test', { TXT: [PAYLOADS.dmarc] }],
    ['_smtp._tls.xss.test', { TXT: [PAYLOADS.tlsrpt] }],
    ['default._bimi.xss.test', { TXT: [PAYLOADS.bimi] }],
    ['default._domainkey.xss.test', { TXT: [PAYLOADS.dkim] }],
  ]);
  const doh = await dohStub(zone);
  cleanups.push(doh.close);
  const smtp = await smtpServer(mx);
  cleanups.push(() => new Promise((r) => smtp.close(r)));
  const serve = await startServe(['--resolver', doh.url, '--probe', '--allow-net', '127.0.0.0/8',
    '--target-limit', '0', '--client-limit', '0', '--deadline', '30']);
  cleanups.push(serve.stop);

  await withBrowser(async (context, page, pageErrors) => {
    // Installed before the page's own scripts; the page's CSP does not
    // apply to it. Any payload that runs calls the hook.
    await page.addInitScript(() => {
      window.__xssFired = [];
      window.__xss = (tag) => window.__xssFired.push(String(tag));
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__xssFired.push(`csp ${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
      });
    });
    const dialogs = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    await openApp(page, serve.base, pageErrors);
    const scriptsBefore = await page.locator('script').count();
    await page.locator('#domain').fill('xss.test');
    await page.getByRole('button', { name: 'Audit', exact: true }).click();
    await page.locator('#panel-audit .report .target', { hasText: 'xss.test' }).waitFor({ timeout: 60_000 });
    await page.locator('#audit-results[aria-busy="false"]').waitFor({ timeout: 60_000 });
    // Open every finding's details, so collapsed evidence is rendered too.
    await page.locator('#panel-audit details').evaluateAll((els) => els.forEach((d) => { d.open = true; }));
    await page.waitForTimeout(500); // an injected handler would have run by now
    await shot(page, 'xss-audit.png');

    assert.deepEqual(await page.evaluate(() => window.__xssFired), [], 'a payload ran (or was blocked by the CSP)');
    assert.deepEqual(dialogs, []);
    const dom = await page.evaluate(() => ({
      handlers: [...document.querySelectorAll('*')].flatMap((el) => [...el.attributes]
        .filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName} ${a.name}`)),
      jsLinks: [...document.querySelectorAll('[href], [src], [action], [formaction]')]
        .map((el) => el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action') || el.getAttribute('formaction'))
        .filter((u) => /^\s*javascript:/i.test(u)),
      injected: [...document.querySelectorAll('#panel-audit img, #panel-audit iframe, #panel-audit script, #panel-audit object, #panel-audit embed')]
        .map((el) => el.outerHTML.slice(0, 120)),
    }));
    assert.deepEqual(dom, { handlers: [], jsLinks: [], injected: [] });
    assert.equal(await page.locator('script').count(), scriptsBefore, 'a <script> element was added');

    // Shown literally: the records in the DNS evidence, the greeting in
    // the SMTP evidence (through the real engine, not a made-up report).
    const text = await page.locator('#panel-audit .report').innerText();
    for (const s of [`<script>${hook('spf')}</script>`, `onerror=${hook('spf-img')}>`, `javascript:${hook('dmarc-js')}`,
      `<script>${hook('banner')}</script>`, `javascript:${hook('tlsrpt')}`]) {
      assert.ok(text.includes(s), `not shown literally: ${s}`);
    }
    assert.match(text, /mx\.xss\.test ESMTP <script>/, 'the SMTP greeting is shown');
    assert.deepEqual(pageErrors, []);
  });
});

// ------------------------------------------------------------ huge input

/** Starts a heartbeat in the page: a 20 ms timer that records the longest
 * gap between its ticks (a frozen main thread stops it). */
async function heartbeat(page) {
  await page.evaluate(() => {
    clearTimeout(window.__beatTimer);
    window.__beat = { max: 0, last: performance.now(), ticks: 0 };
    const tick = () => {
      const now = performance.now();
      window.__beat.max = Math.max(window.__beat.max, now - window.__beat.last);
      window.__beat.last = now;
      window.__beat.ticks += 1;
      window.__beatTimer = setTimeout(tick, 20);
    };
    window.__beatTimer = setTimeout(tick, 20);
  });
}
const beat = (page) => page.evaluate(() => {
  const b = window.__beat;
  return { maxGapMs: Math.round(Math.max(b.max, performance.now() - b.last)), ticks: b.ticks };
});

/** A full garbage collection in the page, through the DevTools protocol:
 * the test's own 50 MB strings from an earlier step are collected before a
 * heartbeat starts, not during it (a major collection of them stopped the
 * page for 3.3 s at load 8, inside the window meant for the page's work). */
async function collectGarbage(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.detach();
}

const MB50 = 50 * 1000 * 1000;
// A main thread that answers within this keeps the page usable.
const MAX_GAP_MS = 1_000;

test('50 MB pasted into the paste box: the page never freezes, says what happened', { timeout: 180_000 }, async () => {
  const serve = await startServe(['--resolver', 'https://127.0.0.1:9/dns-query']);
  cleanups.push(serve.stop);
  const dir = mkdtempSync(path.join(tmpdir(), 'mailaudit-huge-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await withBrowser(async (context, page, pageErrors) => {
    await openApp(page, serve.base, pageErrors);
    await loadAnalysers(page);
    await page.getByRole('tab', { name: 'Paste a configuration' }).click();
    const alert = page.locator('#paste-results [role="alert"]');
    const figures = {};
    for (const [what, line] of [
      ['configuration', 'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n'],
      ['mail log', 'Nov 29 10:00:00 mx postfix/smtpd[123]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: authentication failure\n'],
    ]) {
      // A real paste's event, with 50 MB on its clipboard data: the page
      // must refuse it (cancel the paste) without freezing. The 50 MB and
      // the clipboard data are made, and the garbage collected, before the
      // heartbeat starts: that is the test's work on the page's thread, not
      // the page's (it cost up to 3.8 s at load 8).
      await page.locator('#config').evaluate((el, [l, size]) => {
        window.__hugePaste = new DataTransfer();
        window.__hugePaste.setData('text/plain', l.repeat(Math.ceil(size / l.length)));
      }, [line, MB50]);
      await collectGarbage(page);
      await heartbeat(page);
      const cancelled = await page.locator('#config').evaluate((el) => {
        el.focus();
        const dt = window.__hugePaste;
        delete window.__hugePaste;
        return !el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      });
      await alert.waitFor({ timeout: 10_000 });
      const pasted = await beat(page);
      assert.ok(cancelled, `${what}: the 50 MB paste went into the box`);
      assert.match(await alert.innerText(), /The text is 5\d\.\d MB: this box analyses up to \d+ MB.*Analyse mail logs/s);
      assert.equal(await page.locator('#config').inputValue(), '', `${what}: the box took the paste`);
      assert.ok(pasted.maxGapMs < MAX_GAP_MS, `${what}: the page froze for ${pasted.maxGapMs} ms on the paste`);

      // The same text put in the box by other means (typed, dropped, a
      // script), then Analyse: refused before it is copied to the engine.
      await page.locator('#config').evaluate((el, [l, size]) => { el.value = l.repeat(Math.ceil(size / l.length)); }, [line, MB50]);
      await page.waitForTimeout(500);
      await heartbeat(page);
      await page.getByRole('button', { name: 'Analyse', exact: true }).click();
      await alert.waitFor({ timeout: 10_000 });
      await page.waitForTimeout(200);
      const analysed = await beat(page);
      assert.match(await alert.innerText(), /The text is 5\d\.\d MB/);
      // Not held to MAX_GAP_MS: with 50 MB already in the box, the click's
      // own layout of the textarea costs the browser seconds before the page
      // runs (2.9-3.8 s measured on a loaded machine); the page adds no more than
      // reading the length. A user's paste never gets there (above).
      assert.ok(analysed.maxGapMs < 10_000, `${what}: the page froze for ${analysed.maxGapMs} ms on Analyse`);
      figures[what] = { pasteMaxGapMs: pasted.maxGapMs, analyseMaxGapMs: analysed.maxGapMs };
      await page.locator('#config').evaluate((el) => { el.value = ''; });
    }
    await shot(page, 'huge-paste.png');
    console.log(`# huge paste, longest main-thread gap: ${JSON.stringify(figures)}`);
    assert.deepEqual(pageErrors, []);
  });
});

// Found 2026-11-29 at load 10-20: a 5.7 s gap, then a `todo`. Re-measured
// 2026-11-30 on the `wasm-fast` module with the page's long tasks and gaps
// on a timeline: the file is read in the Web Worker, and the main thread's
// only long task is rendering the result (76 ms quiet, 143-224 ms with 8-16
// busy loops on the 2 cores); the longest gap was 192 ms quiet and 336-377
// ms at load 10-20. The bound below is 2.6x the worst of those.
test('50 MB log file in the log analyser: the page never freezes', { timeout: 180_000 }, async () => {
  const serve = await startServe(['--resolver', 'https://127.0.0.1:9/dns-query']);
  cleanups.push(serve.stop);
  const dir = mkdtempSync(path.join(tmpdir(), 'mailaudit-huge-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await withBrowser(async (context, page, pageErrors) => {
    await openApp(page, serve.base, pageErrors);
    const figures = {};

    // A 50 MB log file in the log analyser: read in its Web Worker.
    const file = path.join(dir, 'mail.log');
    const lines = [];
    for (let i = 0; i < 1000; i++) {
      const ip = `203.0.${(i >> 8) & 255}.${i & 255}`;
      lines.push(`Nov 29 ${String(10 + (i % 10)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 mx postfix/smtpd[${1000 + i}]: warning: unknown[${ip}]: SASL LOGIN authentication failed: authentication failure, sasl_username=user${i % 37}@example.org\n`);
    }
    const block = lines.join('');
    writeFileSync(file, block.repeat(Math.ceil(MB50 / block.length)));
    await page.getByRole('tab', { name: 'Analyse mail logs' }).click();
    await heartbeat(page);
    await page.locator('#logfile').setInputFiles(file);
    const done = page.locator('#panel-logs .logs-done');
    await done.waitFor({ timeout: 120_000 });
    const logs = await beat(page);
    assert.ok(Number(await done.getAttribute('data-lines')) > 300_000, 'every line analysed');
    figures.logFile = { maxGapMs: logs.maxGapMs, analysisMs: Number(await done.getAttribute('data-analysis-ms')), lines: Number(await done.getAttribute('data-lines')) };
    console.log(`# 50 MB log file, longest main-thread gap: ${JSON.stringify(figures)}`);
    assert.ok(logs.maxGapMs < MAX_GAP_MS, `log file: the page froze for ${logs.maxGapMs} ms`);
    assert.deepEqual(pageErrors, []);
  });
});
