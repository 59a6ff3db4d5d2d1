// mailaudit's TLS probe against an independent oracle: testssl.sh (Debian's
// package, installed by tests/setup.sh) on the bed's hardened Postfix
// (mail.example.test, BED_MX_HARD). Both must agree on which of SSLv3,
// TLS 1.0, 1.1, 1.2 and 1.3 the server offers, and on the certificate's
// notAfter. Chain trust is not compared: testssl does not know the bed's CA.
//
// testssl.sh runs only the protocol (-p) and server-defaults (-S) sections
// (the certificate is in -S), without DNS lookups; it still needs about two
// minutes on an idle machine (6 on a loaded one) because it waits on every
// STARTTLS dialog.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { auditInBed, bed, findingsById } from "./lib.mjs";

const VERSIONS = [
  // [testssl id, mailaudit's name]
  ["SSLv3", "SSLv3"],
  ["TLS1", "TLS 1.0"],
  ["TLS1_1", "TLS 1.1"],
  ["TLS1_2", "TLS 1.2"],
  ["TLS1_3", "TLS 1.3"],
];

function testssl(b, target) {
  const dir = mkdtempSync(path.join(tmpdir(), "mailaudit-testssl-"));
  const json = path.join(dir, "out.json");
  try {
    const r = spawnSync(
      "ip",
      ["netns", "exec", b.BED_NS, "testssl", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
        "--connect-timeout", "10", "--openssl-timeout", "10",
        "--starttls", "smtp", "--protocols", "--server-defaults", "--jsonfile", json, target],
      { encoding: "utf8", timeout: 600_000 },
    );
    if (r.error) throw r.error;
    let items;
    try {
      items = JSON.parse(readFileSync(json, "utf8"));
    } catch (e) {
      throw new Error(`testssl wrote no JSON (exit ${r.status}): ${e.message}\n${r.stdout}\n${r.stderr}`);
    }
    return Object.fromEntries(items.map((i) => [i.id, i.finding]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** testssl's "offered" / "offered with final" / "not offered" → boolean. */
function offered(finding, id) {
  assert.ok(typeof finding === "string", `testssl reported nothing for ${id}`);
  if (/^not offered/.test(finding)) return false;
  if (/^offered/.test(finding)) return true;
  throw new Error(`testssl could not decide ${id}: ${finding}`);
}

test("testssl.sh and mailaudit agree on TLS versions and certificate expiry (mail.example.test)", () => {
  const b = bed();
  const ts = testssl(b, `${b.BED_MX_HARD}:25`);
  const report = auditInBed(b, "example.test");
  const f = findingsById(report);

  const notes = (id) => {
    assert.ok(f[id], `mailaudit: no ${id} finding`);
    return JSON.stringify(f[id].evidence);
  };
  const versions = notes("tls.versions");
  for (const [tsId, name] of VERSIONS) {
    const m = versions.match(new RegExp(`${name.replace(".", "\\.")}: (accepted|not accepted)`));
    assert.ok(m, `mailaudit: no verdict for ${name} in ${versions}`);
    assert.equal(m[1] === "accepted", offered(ts[tsId], tsId), `${name}: mailaudit ${m[1]}, testssl ${ts[tsId]}`);
  }

  // testssl: "2029-03-03 12:43" (UTC, minutes); mailaudit: RFC 3339.
  assert.match(ts.cert_notAfter || "", /^\d{4}-\d\d-\d\d \d\d:\d\d$/, `testssl cert_notAfter: ${ts.cert_notAfter}`);
  const m = notes("tls.cert_expiry").match(/server certificate: [^"]*?notAfter (\d{4}-\d\d-\d\dT\d\d:\d\d)/);
  assert.ok(m, `mailaudit: no notAfter in ${notes("tls.cert_expiry")}`);
  assert.equal(m[1].replace("T", " "), ts.cert_notAfter);
  // and the same verdict: well in date
  assert.equal(f["tls.cert_expiry"].status, "pass", f["tls.cert_expiry"].detail);
  assert.match(ts.cert_expirationStatus || "", />= 60 days/);
});
