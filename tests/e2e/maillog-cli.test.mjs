// The CLI on mail logs and fail2ban files (no test bed needed; MAILAUDIT_BIN).
// Logs are recognised from their first 64 KiB and streamed, never read whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cli, findingsById } from "./lib.mjs";

const logs = new URL("../fixtures/logs/", import.meta.url).pathname;
const f2b = new URL("../fixtures/fail2ban/", import.meta.url).pathname;
const NOW = ["--now", "2026-11-29T23:00:00Z"];

test("config: a Postfix mail log is streamed; findings, stats file, exit 1", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "mailaudit-logstats-"));
  try {
    const stats = path.join(dir, "stats.json");
    const r = cli(["config", `${logs}postfix-attack.log`, ...NOW, "--format", "json", "--stats", stats]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    const f = findingsById(report);
    assert.equal(f["logs.auth_bruteforce"].status, "fail");
    assert.equal(f["logs.relay_attempts"].status, "info");
    const ev = f["logs.auth_bruteforce"].evidence.find((e) => e.kind === "config");
    const lines = readFileSync(`${logs}postfix-attack.log`, "utf8").split("\n");
    assert.equal(lines[ev.line - 1], ev.text);
    assert.ok(report.assumptions[0].value.includes("Postfix syslog (1178 lines)"), report.assumptions[0].value);
    const s = JSON.parse(readFileSync(stats, "utf8"));
    assert.equal(s.ips[0].ip, "203.0.113.45");
    assert.equal(s.outbound.senders[0].sender, "alice@example.org");
    assert.ok(s.auth_series.values.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("config: logs on standard input and several log files at once", () => {
  const r = cli(["config", "-", ...NOW, "--format", "json"], readFileSync(`${logs}sendmail-maillog`, "utf8"));
  assert.equal(r.code, 1, r.stderr);
  assert.equal(findingsById(JSON.parse(r.stdout))["logs.auth_bruteforce"].status, "fail");
  const both = cli(["config", `${logs}exim-mainlog`, `${logs}exchange-msgtrk.log`, ...NOW, "--format", "json"]);
  const report = JSON.parse(both.stdout);
  assert.equal(report.target, `${logs}exim-mainlog, ${logs}exchange-msgtrk.log`);
  // Exchange tracking adds bob's burst; Exim adds the password guessing.
  assert.equal(findingsById(report)["logs.outbound_spike"].status, "fail");
  assert.equal(findingsById(report)["logs.auth_bruteforce"].status, "fail");
});

test("config: --stats on a configuration is a usage error", () => {
  const r = cli(["config", `${f2b}weak.local`, "--stats", "/dev/null"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--stats is for mail logs/);
});

test("config: fail2ban jail.local is recognised and judged against the stock jail.conf", () => {
  const r = cli(["config", `${f2b}weak.local`, "--format", "json"]);
  assert.equal(r.code, 0, r.stderr); // medium findings only: under --fail-on high
  const report = JSON.parse(r.stdout);
  assert.match(report.assumptions[0].value, /weak\.local: fail2ban jail configuration/);
  const f = findingsById(report);
  assert.equal(f["fail2ban.smtp_jail"].status, "fail");
  assert.equal(f["fail2ban.thresholds"].status, "fail");
  assert.equal(f["fail2ban.ignoreip_broad"].status, "fail");
  assert.ok(f["fail2ban.ignoreip_broad"].evidence.some((e) => e.line === 6 && e.text.includes("185.0.0.0/8")));
  const ok = cli(["config", `${f2b}hardened.local`, `${f2b}mail.local`, "--format", "json", "--fail-on", "low"]);
  assert.equal(ok.code, 0, ok.stdout);
});
