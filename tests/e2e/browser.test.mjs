// Browser tests of the website, served by `mailaudit serve`, in headless
// Chromium driven by playwright-core. Run with `node --test tests/e2e/`
// (`cargo xtask test` sets the environment below).
//
//   MAILAUDIT_BIN   the built `mailaudit` CLI                        (required)
//   MAILAUDIT_SITE  the built site directory                         (required)
//   BED_ENV         the test bed's bed.env (BED_DOH_URL, BED_CA)     (domain audit test only)
//   TEST_OUT        where screenshots go (created; default: a temp dir)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bed } from './lib.mjs';
import { OUT, describeRuns, loadAnalysers, openApp, requireSite, shot, startServe, timePaste, timedRuns, withBrowser as siteBrowser } from './site-lib.mjs';

const TIMEOUT = 240_000; // upper bound for a loaded CI machine; a healthy run takes seconds
/** The test bed (lib.mjs checks that its addresses are routed through the
 * bed's veth), or null when BED_ENV is not set. */
function bedIfSet() {
  if (!process.env.BED_ENV) return null;
  try {
    return bed();
  } catch {
    return null; // the domain audit test reports why; the others need no DNS
  }
}

// ------------------------------------------------------------------ server

let serverPromise = null;

/** Starts `mailaudit serve` once (port 0) and resolves to its base URL. */
function server() {
  if (serverPromise) return serverPromise.then((s) => s.base);
  const b = bedIfSet();
  // Without the bed, a resolver that cannot be reached: these tests make no
  // DNS look-ups, and nothing may ever go to a public resolver by accident.
  const resolver = b ? ['--resolver', b.BED_DOH_URL, '--ca-file', b.BED_CA] : ['--resolver', 'https://127.0.0.1:9/dns-query'];
  serverPromise = startServe(resolver);
  // Marked as handled here: each test that awaits it reports a failed start.
  serverPromise.catch(() => {});
  return serverPromise.then((s) => s.base);
}

after(async () => {
  if (serverPromise) await (await serverPromise.catch(() => null))?.stop();
});

// ----------------------------------------------------------------- browser

/** site-lib's browser at 1100 px; `fn` gets (context, page, pageErrors). */
const withBrowser = (fn) => siteBrowser(fn, { viewport: { width: 1100, height: 900 } });

const finding = (page, panel, id) =>
  page.locator(`#panel-${panel} [data-testid="finding"][data-id="${id}"]`);

async function statusOf(page, panel, id) {
  const card = finding(page, panel, id);
  const n = await card.count();
  assert.equal(n, 1, `expected exactly one finding card ${id} in the ${panel} tab, found ${n}`);
  return card.getAttribute('data-status');
}

async function assertStatuses(page, panel, ids, want) {
  const got = {};
  for (const id of ids) got[id] = await statusOf(page, panel, id);
  const expected = Object.fromEntries(ids.map((id) => [id, want]));
  assert.deepEqual(got, expected);
}

async function auditDomain(page, domain) {
  await page.locator('#domain').fill(domain);
  await page.getByRole('button', { name: 'Audit', exact: true }).click();
  await page
    .locator('#panel-audit .report .target', { hasText: domain })
    .waitFor({ timeout: 45_000 });
  assert.equal(await page.locator('#audit-results').getAttribute('aria-busy'), 'false');
}

async function analyse(page, text, version = '') {
  await page.getByRole('tab', { name: 'Paste a configuration' }).click();
  await page.locator('#config').fill(text);
  await page.locator('#version').fill(version);
  await page.getByRole('button', { name: 'Analyse', exact: true }).click();
  // Attached, not visible: passed checks are folded under each area.
  await page.locator('#panel-paste [data-testid="finding"]').first().waitFor({ state: 'attached', timeout: 10_000 });
}

// Screenshots are artefacts, not assertions: a loaded machine may take long to paint a full page.

const WEAK_MAIN_CF = [
  '# main.cf',
  'myhostname = mail.weak.test',
  'mynetworks = 0.0.0.0/0',
  'disable_vrfy_command = no',
  'smtpd_sasl_auth_enable = yes',
  '',
].join('\n');

const HARDENED_MAIN_CF = [
  '# main.cf',
  'myhostname = mail.example.test',
  'mynetworks = 127.0.0.0/8',
  'smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination',
  'disable_vrfy_command = yes',
  'smtpd_sasl_auth_enable = yes',
  'smtpd_tls_auth_only = yes',
  '',
].join('\n');

const POSTFIX_RULES = ['postfix.open_relay', 'postfix.vrfy_enabled', 'postfix.auth_plaintext'];

// ------------------------------------------------------------------- tests

test('domain audit through the backend', { timeout: TIMEOUT }, async () => {
  requireSite();
  if (!process.env.BED_ENV) {
    assert.fail('BED_ENV is not set: the domain audit needs the test bed '
      + '(bash tests/testbed/bin/bed-up.sh, then BED_ENV=tests/testbed/run/bed.env)');
  }
  bed(); // clear message when the bed is not up or not routed through its veth
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    await openApp(page, base, pageErrors);

    // The busy state, made observable by holding the request back a little.
    await page.route('**/api/v1/audit', async (route) => {
      await new Promise((r) => setTimeout(r, 600));
      await route.continue();
    });
    await page.locator('#domain').fill('postmaster@weak.test'); // an address works too
    await page.getByRole('button', { name: 'Audit', exact: true }).click();
    const results = page.locator('#audit-results');
    await page.locator('#audit-results[aria-busy="true"]').waitFor({ timeout: 5_000 });
    assert.match(await results.innerText(), /Auditing …/);
    await page.locator('#panel-audit .report .target', { hasText: 'weak.test' }).waitFor({ timeout: 45_000 });
    await page.unroute('**/api/v1/audit');
    assert.equal(await results.getAttribute('aria-busy'), 'false');
    assert.equal(await results.getAttribute('aria-live'), 'polite');

    await assertStatuses(page, 'audit', ['spf.multiple', 'dmarc.policy'], 'fail');
    // Status is never colour alone: the badge carries the word.
    assert.match(await finding(page, 'audit', 'spf.multiple').locator('.badge').innerText(), /fail/i);
    await shot(page, 'domain-weak.png');

    await auditDomain(page, 'example.test');
    await assertStatuses(
      page, 'audit',
      ['spf.multiple', 'spf.all_permissive', 'dmarc.policy', 'dmarc.missing', 'dns.mx'],
      'pass',
    );
    await shot(page, 'domain-example.png');
    assert.deepEqual(pageErrors, []);
  });
});

test('paste analysis runs offline', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    await openApp(page, base, pageErrors);
    await loadAnalysers(page);

    // From here on the page must not touch the network at all.
    const requests = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    await context.route('**/*', (route) => route.abort());
    await context.setOffline(true);

    await analyse(page, WEAK_MAIN_CF);
    await assertStatuses(page, 'paste', POSTFIX_RULES, 'fail');
    const relay = finding(page, 'paste', 'postfix.open_relay');
    assert.match(await relay.innerText(), /mynetworks = 0\.0\.0\.0\/0/);
    assert.equal(await relay.locator('code', { hasText: 'mynetworks = 0.0.0.0/0' }).count(), 1);
    // Remediation with its copy button for a failing check.
    assert.equal(await relay.locator('.fix pre').count(), 1);
    assert.equal(await relay.getByRole('button', { name: /copy/i }).count(), 1);
    await shot(page, 'paste-weak.png');

    await page.locator('#config').fill(HARDENED_MAIN_CF);
    await page.getByRole('button', { name: 'Analyse', exact: true }).click();
    await page
      .locator('#panel-paste [data-testid="finding"][data-id="postfix.open_relay"][data-status="pass"]')
      .waitFor({ state: 'attached', timeout: 10_000 }); // passed checks are folded away
    await assertStatuses(page, 'paste', POSTFIX_RULES, 'pass');
    await shot(page, 'paste-hardened.png');

    // The one-click example is weak too, and is analysed in place.
    await page.getByRole('button', { name: 'Load the weak Postfix example' }).click();
    await page
      .locator('#panel-paste [data-testid="finding"][data-id="postfix.open_relay"][data-status="fail"]')
      .waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#config').inputValue(), /mynetworks = 0\.0\.0\.0\/0/);

    assert.deepEqual(requests, [], 'the page made requests after it had loaded');
    assert.deepEqual(pageErrors, []);
  });
});

test('remote strings are rendered as text', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    const dialogs = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    await openApp(page, base, pageErrors);
    const payload = '<img src=x onerror=alert(1)>';
    const fileName = '<svg onload=alert(2)>main.cf';
    await analyse(page, [
      `# file: ${fileName}`,
      `mynetworks = 0.0.0.0/0 ${payload}`,
      'disable_vrfy_command = no',
      '',
    ].join('\n'));
    assert.equal(await statusOf(page, 'paste', 'postfix.open_relay'), 'fail');
    await page.waitForTimeout(300); // give an injected onerror/onload a chance to run

    assert.equal(await page.locator('img').count(), 0, 'an <img> element was created from pasted text');
    assert.equal(await page.locator('svg').count(), 0, 'an <svg> element was created from pasted text');
    assert.deepEqual(dialogs, []);
    const text = await page.locator('#paste-results').innerText();
    assert.ok(text.includes(`mynetworks = 0.0.0.0/0 ${payload}`), 'the pasted line is shown literally');
    assert.ok(text.includes(fileName), 'the pasted file name is shown literally');
    assert.deepEqual(pageErrors, []);
  });
});

test('errors are shown in an alert', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    await openApp(page, base, pageErrors);
    const alert = page.locator('#panel-audit [role="alert"]');

    // The API's own error body.
    await page.locator('#domain').fill('localhost');
    await page.getByRole('button', { name: 'Audit', exact: true }).click();
    await alert.waitFor({ timeout: 20_000 });
    assert.match(await alert.innerText(), /not a domain name that can be audited/);

    // Network failure.
    await page.route('**/api/v1/audit', (route) => route.abort('connectionfailed'));
    await page.locator('#domain').fill('example.org');
    await page.getByRole('button', { name: 'Audit', exact: true }).click();
    await page.locator('#panel-audit [role="alert"]', { hasText: 'Could not reach' }).waitFor({ timeout: 10_000 });

    // The configuration tab's errors, without any request.
    await page.getByRole('tab', { name: 'Paste a configuration' }).click();
    await page.locator('#config').fill('hello world\nthis is not a configuration\n');
    await page.getByRole('button', { name: 'Analyse', exact: true }).click();
    const pasteAlert = page.locator('#panel-paste [role="alert"]');
    await pasteAlert.waitFor({ timeout: 5_000 });
    assert.match(await pasteAlert.innerText(), /not recognised/);

    // Tabs are real tabs: selection state and keyboard.
    const tabs = page.getByRole('tab');
    assert.equal(await tabs.nth(1).getAttribute('aria-selected'), 'true');
    await tabs.nth(1).focus();
    await page.keyboard.press('ArrowLeft');
    assert.equal(await tabs.nth(0).getAttribute('aria-selected'), 'true');
    assert.ok(await page.locator('#panel-paste').isHidden());
  });
});

/** Merges `keys` into $TEST_OUT/perf.json (tests each add their figures). */
function recordPerf(keys) {
  const file = path.join(OUT, 'perf.json');
  let perf = {};
  try {
    perf = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // none yet, or unreadable: start again
  }
  writeFileSync(file, JSON.stringify({ ...perf, ...keys }, null, 2) + '\n');
}

// Debian 12's stock files (postfix 3.7.11-0+deb12u1), pasted as one text.
const DEBIAN = new URL('../fixtures/postfix/debian12/', import.meta.url).pathname;
const debianPaste = (main = readFileSync(`${DEBIAN}main.cf`, 'utf8')) =>
  `# file: main.cf\n${main}# file: master.cf\n${readFileSync(`${DEBIAN}master.cf`, 'utf8')}`;

async function evidencePlaces(page, id) {
  return finding(page, 'paste', id).locator('.ev-where').allInnerTexts();
}

test('Debian 12 stock config: findings, analysis time, fixed config download', { timeout: TIMEOUT }, async () => {
  const base = await server();
  await withBrowser(async (context, page, pageErrors) => {
    await openApp(page, base, pageErrors);
    await loadAnalysers(page);
    await context.route('**/*', (route) => route.abort());
    const requests = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));

    await analyse(page, debianPaste(), '3.7.11');
    const ids = ['postfix.banner_disclosure', 'postfix.vrfy_enabled', 'postfix.rate_limits', 'postfix.smuggling', 'postfix.tls_protocols'];
    await assertStatuses(page, 'paste', ids, 'fail');
    assert.match(await page.locator('#panel-paste .assumptions').innerText(), /postfix\.version: 3\.7\.11 \(from --assume-version\)/);

    // The banner line, where it is in the pasted main.cf, and its fix.
    const banner = finding(page, 'paste', 'postfix.banner_disclosure');
    assert.deepEqual(await evidencePlaces(page, 'postfix.banner_disclosure'), ['main.cf:9']);
    assert.equal(await banner.locator('code', { hasText: 'smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)' }).count(), 1);
    assert.equal(await banner.locator('.fix pre').innerText(), 'In main.cf:\nsmtpd_banner = $myhostname ESMTP');
    // Defaults of 3.7.11 are cited as such, with the fix for each.
    const defaults = {
      'postfix.vrfy_enabled': [/disable_vrfy_command not set; default for Postfix 3\.7\.11 is "no"/, /disable_vrfy_command = yes/],
      'postfix.rate_limits': [/smtpd_client_connection_rate_limit not set; default for Postfix 3\.7\.11 is "0"/, /smtpd_client_auth_rate_limit = 10/],
      'postfix.smuggling': [/smtpd_forbid_bare_newline not set; default for Postfix 3\.7\.11 is "no"/, /smtpd_forbid_bare_newline = normalize/],
      'postfix.tls_protocols': [/smtpd_tls_protocols not set; default for Postfix 3\.7\.11 is ">=TLSv1"/, /smtpd_tls_protocols = >=TLSv1\.2/],
    };
    for (const [id, [ev, fix]] of Object.entries(defaults)) {
      const card = finding(page, 'paste', id);
      assert.ok((await evidencePlaces(page, id)).every((w) => w === 'main.cf (default)'), id);
      assert.match(await card.locator('.evidence').innerText(), ev, id);
      assert.match(await card.locator('.fix pre').innerText(), fix, id);
    }
    assert.match(await finding(page, 'paste', 'postfix.tls_protocols').innerText(), /allows TLSv1, TLSv1\.1/);

    // How long the engine took in the page (performance.now()).
    const done = page.locator('#panel-paste .paste-done');
    const ms = Number(await done.getAttribute('data-analysis-ms'));
    assert.ok(Number.isFinite(ms) && ms > 0 && ms < 5_000, `analysis time ${ms} ms`);
    assert.match(await done.locator('.timing').innerText(), /Analysed in your browser in \d+ ms/);
    console.log(`paste analysis of Debian 12 main.cf + master.cf: ${ms} ms`);
    recordPerf({
      test: 'browser: paste analysis + fix of the Debian 12 stock main.cf + master.cf (Postfix 3.7.11)',
      analysis_ms: ms,
      chromium: context.browser()?.version() ?? null,
      measured_at: new Date().toISOString(),
    });

    // The fixed files, made in the page.
    const fixed = page.locator('#panel-paste [data-testid="fixed-config"]');
    assert.match(await fixed.innerText(), /Not fixable automatically[\s\S]*postfix\.tls_inbound_off/);
    assert.equal(await fixed.getByRole('link', { name: 'Download fixed master.cf' }).count(), 0, 'master.cf needs no change');
    const download = async (name) => {
      const [d] = await Promise.all([page.waitForEvent('download'), fixed.getByRole('link', { name }).click()]);
      return { file: d.suggestedFilename(), text: readFileSync(await d.path(), 'utf8') };
    };
    const main = await download('Download fixed main.cf');
    assert.equal(main.file, 'main.cf');
    assert.match(main.text, /^smtpd_banner = \$myhostname ESMTP$/m);
    assert.match(main.text, /^# added by mailaudit --fix$/m);
    assert.match(main.text, /^disable_vrfy_command = yes$/m);
    const diff = await download('Download the diff');
    assert.equal(diff.file, 'mailaudit-fix.diff');
    assert.match(diff.text, /^--- a\/main\.cf\n\+\+\+ b\/main\.cf\n@@ /);
    assert.equal(await fixed.locator('.diff pre').textContent(), diff.text);
    writeFileSync(path.join(OUT, 'debian12-fix.diff'), diff.text);
    await shot(page, 'paste-debian12.png');

    // The downloaded main.cf, analysed again: what was fixed passes.
    await analyse(page, debianPaste(main.text), '3.7.11');
    await page.locator('#panel-paste [data-testid="finding"][data-id="postfix.vrfy_enabled"][data-status="pass"]').waitFor({ state: 'attached', timeout: 10_000 });
    await assertStatuses(page, 'paste', ids, 'pass');
    assert.equal(await finding(page, 'paste', 'postfix.tls_inbound_off').getAttribute('data-status'), 'fail');

    assert.deepEqual(requests, [], 'the page made requests');
    assert.deepEqual(pageErrors, []);
  });
});

// A benchmark, not a test (no timed assertion): the generated 5,000-line
// main.cf + 200-line master.cf of bench/postfix_vs_postconf.sh, analysed in
// the page; the page's own figure (performance.now() around the engine's
// analyse + fix call) goes to $TEST_OUT/perf.json and BENCHMARKS.md.
test('big generated config: analysis time in the page', { timeout: TIMEOUT }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailaudit-bigcf-'));
  try {
    const gen = new URL('../../bench/gen_postfix_config.py', import.meta.url).pathname;
    execFileSync('python3', [gen, dir]);
    const main = readFileSync(path.join(dir, 'main.cf'), 'utf8');
    const master = readFileSync(path.join(dir, 'master.cf'), 'utf8');
    assert.equal(main.split('\n').length - 1, 5000);
    assert.equal(master.split('\n').length - 1, 200);
    const text = `# file: main.cf\n${main}# file: master.cf\n${master}`;
    const base = await server();
    await withBrowser(async (context, page, pageErrors) => {
      await openApp(page, base, pageErrors);
      await loadAnalysers(page);
    await context.route('**/*', (route) => route.abort());
      await page.getByRole('tab', { name: 'Paste a configuration' }).click();
      const runs = await timedRuns(() => timePaste(page, text));
      assert.equal(pageErrors.length, 0, pageErrors.join('\n'));
      console.log(`paste analysis of the generated 5,000-line main.cf + 200-line master.cf: ${describeRuns(runs)}`);
      recordPerf({
        big_config: {
          test: 'browser: paste analysis + fix of the generated 5,000-line main.cf + 200-line master.cf (bench/gen_postfix_config.py)',
          ...runs,
          chromium: context.browser()?.version() ?? null,
          measured_at: new Date().toISOString(),
        },
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Exim: the weak fixture pasted as is, recognised as Exim, its findings with
// the lines they come from; then the 10,000-line generated configuration of
// the native benchmark (bench/gen_exim_config.py), timed in the page (no
// timed assertion; the figures go to $TEST_OUT/perf.json).
const EXIM = new URL('../fixtures/exim/', import.meta.url).pathname;

test('Exim config pasted: detection, findings, analysis time', { timeout: TIMEOUT }, async () => {
  const base = await server();
  const dir = mkdtempSync(path.join(tmpdir(), 'mailaudit-exim-'));
  try {
    const big = path.join(dir, 'exim10k.conf');
    execFileSync('python3', [new URL('../../bench/gen_exim_config.py', import.meta.url).pathname, big]);
    await withBrowser(async (context, page, pageErrors) => {
      await openApp(page, base, pageErrors);
      await loadAnalysers(page);
    await context.route('**/*', (route) => route.abort());
      const requests = [];
      page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));

      await analyse(page, readFileSync(`${EXIM}weak.conf`, 'utf8'));
      const assumptions = await page.locator('#panel-paste .assumptions').innerText();
      assert.match(assumptions, /input: .*Exim configuration/, assumptions);
      assert.match(assumptions, /exim\.version: 4\.94\.2 \(from the exim -bV banner/, assumptions);
      await assertStatuses(page, 'paste', ['exim.open_relay', 'exim.vrfy_expn', 'exim.auth_plaintext', 'exim.smuggling'], 'fail');
      const relay = finding(page, 'paste', 'exim.open_relay');
      assert.match(await relay.innerText(), /198\.51\.0\.0\/16/);
      const places = await evidencePlaces(page, 'exim.open_relay');
      assert.ok(places.some((p) => /:7$/.test(p)), JSON.stringify(places));
      assert.match(await relay.locator('.fix pre').innerText(), /require message\s+= relay not permitted/);
      await shot(page, 'paste-exim-weak.png');

      // The hardened fixture passes the relay check.
      await analyse(page, readFileSync(`${EXIM}hardened.conf`, 'utf8'), '4.100.1');
      await page
        .locator('#panel-paste [data-testid="finding"][data-id="exim.open_relay"][data-status="pass"]')
        .waitFor({ state: 'attached', timeout: 10_000 });
      await shot(page, 'paste-exim-hardened.png');

      const text = readFileSync(big, 'utf8');
      const runs = await timedRuns(() => timePaste(page, text));
      console.log(`paste analysis of the generated 10,000-line exim.conf: ${describeRuns(runs)}`);
      recordPerf({
        exim_big_config: {
          test: 'browser: paste analysis of the generated 10,000-line exim.conf (bench/gen_exim_config.py)',
          ...runs,
          chromium: context.browser()?.version() ?? null,
          measured_at: new Date().toISOString(),
        },
      });
      assert.deepEqual(requests, [], 'the page made requests');
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
