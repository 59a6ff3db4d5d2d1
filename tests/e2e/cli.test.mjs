// The CLI end to end: offline config analysis on fixture files, and domain
// audits over DNS-over-HTTPS against the test bed's validating resolver.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bed, cli, cliInBed, findingsById } from "./lib.mjs";

const fixtures = new URL("../fixtures/postfix/", import.meta.url).pathname;
const docsRules = new URL("../../docs/rules.md", import.meta.url).pathname;

test("config: weak main.cf fails open relay with the offending line", () => {
  const r = cli(["config", `${fixtures}weak-main.cf`, "--format", "json"]);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.schema, "mailaudit/report/v1");
  const f = findingsById(report);
  assert.equal(f["postfix.open_relay"].status, "fail");
  assert.equal(f["postfix.open_relay"].severity, "critical");
  assert.ok(
    f["postfix.open_relay"].evidence.some(
      (e) => e.kind === "config" && e.line === 5 && e.text === "mynetworks = 0.0.0.0/0" && e.file.endsWith("weak-main.cf"),
    ),
    JSON.stringify(f["postfix.open_relay"].evidence),
  );
  assert.equal(f["postfix.vrfy_enabled"].status, "fail");
  assert.equal(f["postfix.auth_plaintext"].status, "fail");
});

test("config: hardened main.cf + master.cf passes, exit 0", () => {
  const r = cli(["config", `${fixtures}hardened-main.cf`, `${fixtures}master.cf`, "--assume-version", "3.10.1", "--format", "json"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout);
  // postfix.logging is info at best: log forwarding is set up outside Postfix.
  for (const f of report.findings) {
    assert.equal(f.status, f.id === "postfix.logging" ? "info" : "pass", `${f.id}: ${f.detail}`);
  }
  // Every postfix.* rule of the catalog, postfix.version included.
  assert.equal(report.summary.pass, 23);
  assert.equal(report.summary.info, 1);
});

test("config: Debian 12's stock main.cf + master.cf (Postfix 3.7) shows the expected weaknesses", () => {
  // /usr/share/postfix/main.cf.debian and master.cf.dist of postfix 3.7.11-0+deb12u1.
  const dir = `${fixtures}debian12/`;
  const r = cli(["config", `${dir}main.cf`, `${dir}master.cf`, "--assume-version", "3.7.11", "--format", "json"]);
  assert.equal(r.code, 1, r.stderr);
  const f = findingsById(JSON.parse(r.stdout));
  for (const id of ["postfix.smuggling", "postfix.tls_protocols", "postfix.vrfy_enabled", "postfix.rate_limits", "postfix.banner_disclosure"]) {
    assert.equal(f[id].status, "fail", `${id}: ${f[id].detail}`);
    assert.ok(f[id].evidence.length > 0 && f[id].remediation.length > 0, id);
  }
  assert.ok(
    f["postfix.banner_disclosure"].evidence.some((e) => e.kind === "config" && e.line > 0 && /smtpd_banner/.test(e.text)),
    JSON.stringify(f["postfix.banner_disclosure"].evidence),
  );
  assert.equal(f["postfix.open_relay"].status, "pass", f["postfix.open_relay"].detail);
});

test("config --fix: the diff applies with patch -p1 and the fixed fails are gone", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "mailaudit-fix-"));
  try {
    cpSync(`${fixtures}debian12/main.cf`, path.join(dir, "main.cf"));
    cpSync(`${fixtures}debian12/master.cf`, path.join(dir, "master.cf"));
    const run = (args, opts = {}) => {
      const r = spawnSync(process.env.MAILAUDIT_BIN, args, { cwd: dir, encoding: "utf8", timeout: 60_000, ...opts });
      if (r.error) throw r.error;
      return r;
    };
    const judge = () => {
      const r = run(["config", "main.cf", "master.cf", "--assume-version", "3.7.11", "--format", "json"]);
      return findingsById(JSON.parse(r.stdout));
    };
    const before = judge();

    const fix = run(["config", "main.cf", "master.cf", "--assume-version", "3.7.11", "--fix"]);
    // Exit codes judge the files as given: high findings there, so 1.
    assert.equal(fix.status, 1, fix.stderr);
    assert.match(fix.stdout, /^--- a\/main\.cf\n\+\+\+ b\/main\.cf\n/);
    assert.match(fix.stdout, /^\+# added by mailaudit --fix$/m);
    assert.match(fix.stdout, /^-smtpd_banner = \$myhostname ESMTP \$mail_name \(Debian\/GNU\)$/m);
    const claimed = [...fix.stderr.matchAll(/^  (postfix\.[a-z0-9_]+) \((fail|warn)\)$/gm)];
    const [fixedPart, manualPart] = fix.stderr.split("not fixable automatically:");
    const fixedIds = [...fixedPart.matchAll(/^  (postfix\.[a-z0-9_]+) \((?:fail|warn)\)$/gm)].map((m) => m[1]);
    assert.ok(claimed.length > fixedIds.length, fix.stderr);
    for (const id of ["postfix.banner_disclosure", "postfix.vrfy_enabled", "postfix.rate_limits", "postfix.smuggling", "postfix.tls_protocols"]) {
      assert.ok(fixedIds.includes(id), `${id} not among the fixed: ${fix.stderr}`);
    }
    // Needs a certificate: named on stderr, not guessed.
    assert.match(manualPart, /postfix\.tls_inbound_off \(fail\)/);

    const applied = spawnSync("patch", ["-p1", "--batch"], { cwd: dir, input: fix.stdout, encoding: "utf8" });
    assert.equal(applied.status, 0, applied.stdout + applied.stderr);
    assert.match(applied.stdout, /patching file main\.cf/);

    const after = judge();
    for (const id of fixedIds) {
      assert.ok(!["fail", "warn"].includes(after[id].status), `${id} is still ${after[id].status}: ${after[id].detail}`);
    }
    for (const [id, f] of Object.entries(after)) {
      if (["fail", "warn"].includes(f.status)) assert.ok(["fail", "warn"].includes(before[id].status), `${id} newly ${f.status}`);
    }
    // Nothing left that --fix could do.
    const again = run(["config", "main.cf", "master.cf", "--assume-version", "3.7.11", "--fix"]);
    assert.equal(again.stdout, "");
    assert.match(again.stderr, /nothing to fix automatically/);

    // --fix prints a diff, not a report.
    const both = run(["config", "main.cf", "--fix", "--format", "json"]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /cannot be used with/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("config: Exim — Debian 12's generated config and a weak exim.conf", () => {
  const exim = new URL("../fixtures/exim/", import.meta.url).pathname;
  const r = cli(["config", `${exim}debian12/config.autogenerated`, "--format", "json"]);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  const input = report.assumptions.find((a) => a.key === "input").value;
  assert.match(input, /Exim configuration/);
  const f = findingsById(report);
  assert.equal(f["exim.open_relay"].status, "pass", f["exim.open_relay"].detail);
  assert.equal(f["exim.tls_off"].status, "fail");
  assert.equal(f["exim.smuggling"].status, "pass", f["exim.smuggling"].detail);
  // Pasted through stdin, with the version given on the command line.
  const weak = readFileSync(`${exim}weak.conf`, "utf8");
  const w = cli(["config", "--format", "json", "--assume-version", "4.96"], weak);
  assert.equal(w.code, 1, w.stderr);
  const g = findingsById(JSON.parse(w.stdout));
  assert.equal(g["exim.open_relay"].status, "fail");
  assert.ok(g["exim.open_relay"].evidence.some((e) => e.kind === "config" && e.line === 7), JSON.stringify(g["exim.open_relay"].evidence));
  assert.equal(g["exim.smuggling"].status, "fail");
  assert.match(g["exim.smuggling"].remediation, /chunking_advertise_hosts =/);
});

test("config: stdin, --fail-on, text, markdown and sarif formats", () => {
  const weak = readFileSync(`${fixtures}weak-main.cf`, "utf8");
  assert.equal(cli(["config", "-", "--fail-on", "critical"], weak).code, 1);
  const text = cli(["config", "--now", "2026-01-02T03:04:05Z"], weak);
  assert.match(text.stdout, /FAIL\s+postfix\.open_relay \[critical\]/);
  assert.match(text.stdout, /generated 2026-01-02T03:04:05Z/);
  const md = cli(["config", "--format", "markdown"], weak);
  assert.match(md.stdout, /\| fail \| critical \| `postfix.open_relay` \|/);
  const sarif = JSON.parse(cli(["config", "--format", "sarif"], weak).stdout);
  assert.equal(sarif.version, "2.1.0");
  assert.ok(sarif.runs[0].results.some((x) => x.ruleId === "postfix.open_relay" && x.locations.some((l) => l.physicalLocation.region.startLine === 5)));
});

test("config: input errors exit 2 with a message and no partial output", () => {
  for (const [args, input, want] of [
    [["config", "/nonexistent/main.cf", "--format", "json"], undefined, /cannot read \/nonexistent\/main.cf/],
    [["config", "--format", "json"], "hello\nworld\n", /not recognised/],
    [["config", "--format", "json"], "", /empty/],
    [["config", "--now", "yesterday"], "a = b", /RFC 3339/],
    [["config", "--software", "nonsense"], "a = b", /invalid value .nonsense. for .--software/],
    [["config", "--bogus-flag"], "", /unexpected argument/],
  ]) {
    const r = cli(args, input);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.equal(r.stdout, "", `${args} printed to stdout`);
    assert.match(r.stderr, want);
  }
});

test("rules: markdown equals docs/rules.md, json lists every id", () => {
  const md = cli(["rules", "--format", "markdown"]);
  assert.equal(md.code, 0);
  assert.equal(md.stdout, readFileSync(docsRules, "utf8"));
  const json = JSON.parse(cli(["rules", "--format", "json"]).stdout);
  const ids = json.rules.map((r) => r.id);
  for (const id of ["postfix.open_relay", "dns.mx", "spf.multiple", "dmarc.policy"]) assert.ok(ids.includes(id), id);
});

function audit(domain, extra = []) {
  const b = bed();
  const r = cliInBed(b, ["audit", domain, "--resolver", b.BED_DOH_URL, "--ca-file", b.BED_CA, "--blocklist-zone-suffix", "bl.test", "--format", "json", ...extra]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  // (inside the bed's namespace: MTA-STS policy hosts resolve there)
  return { code: r.code, report: JSON.parse(r.stdout) };
}

test("audit: weak.test fails spf.multiple, spf.all_permissive and dmarc.policy", () => {
  const { code, report } = audit("weak.test");
  assert.equal(code, 1);
  const f = findingsById(report);
  assert.equal(f["spf.multiple"].status, "fail");
  assert.equal(f["spf.all_permissive"].status, "fail");
  assert.equal(f["spf.all_permissive"].severity, "critical");
  assert.equal(f["dmarc.policy"].status, "fail");
  assert.equal(f["dns.mx"].status, "pass");
  assert.ok(f["spf.multiple"].evidence[0].answers.some((a) => a.includes("v=spf1 +all")));
});

test("audit: example.test (DNSSEC-signed, hardened) passes every check", () => {
  const { code, report } = audit("example.test", ["--selector", "sel1"]);
  assert.equal(code, 0);
  for (const id of [
    "dns.mx", "spf.missing", "spf.multiple", "spf.all_permissive", "dmarc.missing", "dmarc.policy",
    "spf.syntax", "spf.lookup_limit", "spf.void_lookups", "spf.softfail", "spf.ptr", "spf.size", "spf.mx_not_authorized",
  ]) {
    assert.equal(findingsById(report)[id].status, "pass", id);
  }
});

test("audit: plain DNS (dns://) to the bed's Unbound gives the same verdicts as DoH", () => {
  const b = bed();
  const statuses = (report) => Object.fromEntries(report.findings.map((f) => [f.id, f.status]));
  for (const domain of ["example.test", "weak.test"]) {
    const doh = audit(domain, ["--selector", "sel1", "--no-probe"]);
    const r = cliInBed(b, [
      "audit", domain, "--resolver", `dns://${b.BED_RESOLVER}`, "--ca-file", b.BED_CA,
      "--blocklist-zone-suffix", "bl.test", "--selector", "sel1", "--no-probe", "--format", "json",
    ]);
    assert.equal(r.code, doh.code, r.stderr);
    const plain = JSON.parse(r.stdout);
    assert.deepEqual(statuses(plain), statuses(doh.report), domain);
    const assumed = Object.fromEntries(plain.assumptions.map((a) => [a.key, a.value]));
    assert.equal(assumed.resolver, `dns://${b.BED_RESOLVER}`);
    assert.match(assumed["resolver.transport"], /^plain DNS to .*:53 \(UDP, TCP for truncated answers\)/);
  }
  // DNSSEC is judged from the AD bit over plain DNS as over DoH.
  const plain = JSON.parse(cliInBed(b, ["audit", "example.test", "--resolver", `dns://${b.BED_RESOLVER}`, "--no-probe", "--format", "json"]).stdout);
  assert.equal(findingsById(plain)["dns.dnssec"].status, "pass", findingsById(plain)["dns.dnssec"].detail);
});

test("audit: a plain resolver that is not an address is a usage error", () => {
  const r = cli(["audit", "example.test", "--resolver", "dns://resolver.example", "--format", "json"]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /not an IP address.*dns:\/\/IP/);
});

test("audit: nomail.test has no MX, no SPF, no DMARC", () => {
  const { code, report } = audit("nomail.test");
  assert.equal(code, 1);
  const f = findingsById(report);
  assert.equal(f["dns.mx"].status, "fail");
  assert.equal(f["spf.missing"].status, "fail");
  assert.equal(f["dmarc.missing"].status, "fail");
});

test("audit: an unreachable resolver gives unknown, never pass", () => {
  const r = cli(["audit", "example.test", "--resolver", "https://127.0.0.1:9/dns-query", "--format", "json"]);
  const report = JSON.parse(r.stdout);
  assert.equal(report.summary.pass, 0);
  assert.equal(report.summary.unknown, report.findings.length);
  assert.match(findingsById(report)["dns.mx"].detail, /could not|unreachable/i);
});

test("audit: a resolver with an untrusted certificate gives unknown (TLS is verified)", () => {
  const b = bed();
  const r = cli(["audit", "example.test", "--resolver", b.BED_DOH_URL, "--format", "json"]);
  const report = JSON.parse(r.stdout);
  assert.equal(report.summary.pass, 0);
  assert.match(findingsById(report)["dns.mx"].detail, /TLS|certificate/i);
});

test("audit: bad domains exit 2", () => {
  for (const d of ["192.0.2.1", "localhost", "exa mple.org", "x".repeat(300) + ".org"]) {
    const r = cli(["audit", d, "--format", "json"]);
    assert.equal(r.code, 2, d);
    assert.equal(r.stdout, "");
  }
});
