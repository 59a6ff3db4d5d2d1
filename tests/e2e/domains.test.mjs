// Every domain-audit rule against the test bed's domains (tests/testbed/README.md):
// a failing domain per rule, and example.test, which passes them all. Each
// case is asserted through the CLI and through the Worker under workerd, both
// inside the bed's network namespace.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { auditInBed, bed, findingsById, startWorker } from "./lib.mjs";

// [domain, rule, expected status]
const CASES = [
  ["weak.test", "spf.all_permissive", "fail"],
  ["weak.test", "spf.multiple", "fail"],
  ["weak.test", "spf.mx_not_authorized", "fail"],
  ["weak.test", "dkim.missing", "fail"],
  ["weak.test", "dmarc.policy", "fail"],
  ["weak.test", "dmarc.rua", "fail"],
  ["weak.test", "dns.ptr", "fail"],
  ["weak.test", "dns.dnssec", "info"],
  ["weak.test", "dane.tlsa", "fail"],
  ["weak.test", "blocklist.ip", "fail"],
  ["weak.test", "blocklist.domain", "fail"],
  ["weak.test", "mtasts.record", "info"],
  ["weak.test", "tlsrpt.record", "info"],
  ["nomail.test", "dns.mx", "fail"],
  ["nomail.test", "spf.missing", "fail"],
  ["nomail.test", "dmarc.missing", "fail"],
  ["lookups11.example.test", "spf.lookup_limit", "fail"],
  ["extrua.example.test", "dmarc.rua", "fail"],
  ["authrua.example.test", "dmarc.rua", "pass"],
  ["dmarc2.example.test", "dmarc.syntax", "fail"],
  ["weakdkim.example.test", "dkim.key_weak", "fail"],
  ["weakdkim.example.test", "dkim.testing", "fail"],
  ["weakdkim.example.test", "dkim.revoked", "info"],
  ["stsmismatch.example.test", "mtasts.mx_coverage", "fail"],
  ["ststesting.example.test", "mtasts.mode", "fail"],
  ["stsredirect.example.test", "mtasts.policy", "fail"],
  ["stsctype.example.test", "mtasts.policy", "fail"],
  ["stssyntax.example.test", "mtasts.policy", "fail"],
  ["stsbadcert.example.test", "mtasts.policy", "fail"],
  ["badrecords.example.test", "mtasts.record", "fail"],
  ["badrecords.example.test", "tlsrpt.record", "fail"],
  ["badrecords.example.test", "bimi.record", "fail"],
  ["danebad.example.test", "dane.tlsa", "fail"],
  ["danemismatch.example.test", "dns.mx", "pass"],
  ["certexpired.example.test", "dns.mx", "pass"],
  ["certname.example.test", "dns.mx", "pass"],
  ["hosted.example.test", "provider.hosted", "info"],
  ["bogus.test", "dns.dnssec", "fail"],
];

// The live checks (CLI only: a Worker cannot reach port 25) on the bed's
// weak Postfix (mail.weak.test) — a real open relay that discards mail.
const LIVE_CASES = [
  ["weak.test", "smtp.reachable", "pass"],
  ["weak.test", "smtp.banner", "fail"],
  ["weak.test", "smtp.starttls", "fail"],
  ["weak.test", "smtp.open_relay", "fail"],
  ["weak.test", "smtp.vrfy_expn", "fail"],
  ["weak.test", "smtp.smuggling", "warn"],
  ["weak.test", "smtp.submission", "fail"],
  ["weak.test", "tls.versions", "unknown"],
  // Records fine on their own; the certificate the MX serves matches none.
  ["danemismatch.example.test", "dane.tlsa", "fail"],
  // Hardened Postfix instances that differ from mail.example.test only in
  // the certificate they serve: expired (2021-01-01), or issued for
  // mail.wrong-name.test. Each fails its rule and nothing else about TLS.
  ["certexpired.example.test", "tls.cert_expiry", "fail"],
  ["certexpired.example.test", "tls.cert_name", "pass"],
  ["certexpired.example.test", "tls.versions", "pass"],
  ["certname.example.test", "tls.cert_name", "fail"],
  ["certname.example.test", "tls.cert_expiry", "pass"],
  ["certname.example.test", "tls.versions", "pass"],
];

// The DKIM key of example.test sits at a selector no list guesses.
const SELECTORS = { "example.test": ["sel1"] };

let b;
let worker;
let refusing;

before(async () => {
  b = bed();
  // The Worker's blocklists are the bed's bl.test zone. (A second Worker,
  // whose "lists" refuse every query, runs in the last test: two wrangler
  // dev instances at once disturb each other.)
  worker = await startWorker(b, { BLOCKLIST_ZONE_SUFFIX: "bl.test" });
});

after(() => {
  if (worker) worker.proc.stop();
  if (refusing) refusing.proc.stop();
});

async function workerAudit(w, domain) {
  const r = await fetch(`${w.base}/api/v1/audit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ domain, selectors: SELECTORS[domain] || [] }),
  });
  assert.equal(r.status, 200, domain);
  return r.json();
}

function cliAudit(domain, suffix = "bl.test") {
  const extra = (SELECTORS[domain] || []).flatMap((s) => ["--selector", s]);
  return auditInBed(b, domain, { suffix, extra });
}

// workerd reports a certificate failure of fetch() as an opaque "internal
// error", so the Worker cannot tell it from other failures and says unknown
// (honestly) where the CLI, which sees the TLS error, says fail.
const WORKER_DIFFERS = { "stsbadcert.example.test mtasts.policy": "unknown" };

function check(report, domain, via) {
  const f = findingsById(report);
  for (const [d, id, expected] of CASES) {
    if (d !== domain) continue;
    const want = (via === "worker" && WORKER_DIFFERS[`${d} ${id}`]) || expected;
    assert.ok(f[id], `${via}: ${domain}: no ${id} finding`);
    assert.equal(f[id].status, want, `${via}: ${domain}: ${id} is ${f[id].status}: ${f[id].detail}`);
  }
}

const domains = [...new Set(CASES.map((c) => c[0]))];

test("domains: each rule's failing domain fails it, through the CLI", () => {
  for (const d of domains) {
    const report = cliAudit(d);
    check(report, d, "cli");
    const f = findingsById(report);
    for (const [ld, id, want] of LIVE_CASES) {
      if (ld === d) assert.equal(f[id].status, want, `cli: ${d}: ${id}: ${f[id].detail}`);
    }
  }
});

test("domains: each rule's failing domain fails it, through the Worker", async () => {
  for (const d of domains) check(await workerAudit(worker, d), d, "worker");
});

test("domains: example.test passes every domain rule (CLI and Worker)", async () => {
  for (const [via, report] of [["cli", cliAudit("example.test")], ["worker", await workerAudit(worker, "example.test")]]) {
    const live = (id) => id.startsWith("smtp.") || id.startsWith("tls.");
    const notPass = report.findings.filter((f) => f.status !== "pass" && !live(f.id));
    // BIMI is informational either way.
    assert.deepEqual(notPass.map((f) => f.id), ["bimi.record"], `${via}: ${JSON.stringify(notPass, null, 1)}`);
    // The hardened Postfix behind mail.example.test passes the live checks
    // (the version it shows and the ports it answers on are information).
    const liveFindings = report.findings.filter((f) => live(f.id));
    assert.equal(liveFindings.length, 18, via);
    for (const f of liveFindings) {
      const want = via === "worker" ? ["unknown"] : ["pass", "info"];
      assert.ok(want.includes(f.status), `${via}: ${f.id} is ${f.status}: ${f.detail}`);
    }
    // Every rule a failing domain exercises was judged here too.
    const ids = new Set(report.findings.map((f) => f.id));
    for (const [, id] of CASES) assert.ok(ids.has(id), `${via}: example.test has no ${id}`);
    const budget = report.assumptions.find((a) => a.key === "subrequests");
    assert.match(budget.value, via === "worker" ? /^\d+ of 50 used$/ : /^\d+ of 150 used$/, via);
  }
});

test("domains: lists answering 127.255.255.254 give blocklist.inconclusive, never a listing", async () => {
  worker.proc.stop();
  await new Promise((r) => setTimeout(r, 2000));
  worker = null;
  refusing = await startWorker(b, { BLOCKLIST_ZONE_SUFFIX: "blerr.test" });
  for (const [via, report] of [["cli", cliAudit("weak.test", "blerr.test")], ["worker", await workerAudit(refusing, "weak.test")]]) {
    const f = findingsById(report);
    assert.equal(f["blocklist.inconclusive"].status, "unknown", via);
    assert.match(f["blocklist.inconclusive"].detail, /never "listed"/, via);
    for (const id of ["blocklist.ip", "blocklist.domain"]) {
      assert.notEqual(f[id].status, "fail", `${via}: ${id}`);
      assert.equal(f[id].status, "unknown", `${via}: ${id}`);
    }
  }
});

test("domains: a DoH resolver that speaks only HTTP/1.1 gives the same findings as HTTP/2", () => {
  // The CLI sends DoH queries over HTTP/2 from the start (one connection for
  // all of them) and falls back to HTTP/1.1 when the resolver does not speak
  // it: the bed's DoH/1.1 front (BED_DOH11_URL) forwards to the same Unbound.
  const extra = ["--no-probe", "--selector", "sel1"];
  const h2 = auditInBed(b, "example.test", { extra });
  const h1 = auditInBed(b, "example.test", { resolver: b.BED_DOH11_URL, extra });
  const brief = (r) => r.findings.map((f) => `${f.id} ${f.status}`).sort();
  assert.ok(h2.findings.length > 20);
  assert.deepEqual(brief(h1), brief(h2));
  const resolver = (r) => r.assumptions.find((a) => a.key === "resolver").value;
  assert.equal(resolver(h1), b.BED_DOH11_URL);
});

// The full smuggling test sends DATA, so it runs only with the owner's
// consent (CLI --i-own-this-server); the bed's Postfix discards the test
// messages. smtpd_forbid_bare_newline = no (weak) ends data at each bare-LF
// sequence and runs the NOOP smuggled after it; = reject refuses them.
test("domains: the consented full smuggling test fails the weak Postfix and passes the hardened one (CLI)", () => {
  const weak = findingsById(auditInBed(b, "weak.test", { extra: ["--i-own-this-server"] }))["smtp.smuggling"];
  assert.equal(weak.status, "fail", weak.detail);
  assert.match(weak.detail, /^Full end-of-data test \(consent: .*--i-own-this-server\)/);
  assert.match(weak.detail, /ended the message at <LF>\.<LF>, <LF>\.<CR><LF>, <CR><LF>\.<LF> and then executed/);
  const hard = findingsById(auditInBed(b, "example.test", { extra: ["--selector", "sel1", "--i-own-this-server"] }))["smtp.smuggling"];
  assert.equal(hard.status, "pass", hard.detail);
  assert.match(hard.detail, /^Full end-of-data test .* took none of the seven sequences/);
  // Without consent the same servers get only the NOOP<LF> fingerprint.
  const plain = findingsById(cliAudit("weak.test"))["smtp.smuggling"];
  assert.equal(plain.status, "warn", plain.detail);
  assert.doesNotMatch(plain.detail, /Full end-of-data test/);
});
