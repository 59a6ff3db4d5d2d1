// `mailaudit probe-agent` on loopback, without the test bed: it refuses
// unsigned, stale, wrongly keyed, tampered and replayed requests, refuses
// targets outside its address policy, and answers a signed request with
// signed findings about a tiny fake SMTP server this test runs on a random
// 127/8 address, port 25 (the agent probes port 25 only; binding it needs
// root, as the harness has). The requests are signed here with node:crypto,
// independently of the Rust code (docs/api.md is the contract).
// Needs MAILAUDIT_BIN only.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, requireEnv, start, waitHttp } from "./lib.mjs";

const SECRET = randomBytes(32).toString("hex");
const PATH = "/v1/probe";
let dir;
let agent;
let base;
let smtp;
let smtpAddr;
const received = []; // every byte the fake server got, per connection

function sha256hex(b) {
  return createHash("sha256").update(b).digest("hex");
}

function sign({ secret = SECRET, method = "POST", path = PATH, ts, nonce, body }) {
  const msg = `mailaudit-agent-v1\n${method}\n${path}\n${ts}\n${nonce}\n${sha256hex(body)}`;
  return createHmac("sha256", secret).update(msg).digest("hex");
}

function responseSignature(status, nonce, body) {
  const msg = `mailaudit-agent-v1-response\n${status}\n${nonce}\n${sha256hex(body)}`;
  return createHmac("sha256", SECRET).update(msg).digest("hex");
}

function newNonce() {
  return randomBytes(16).toString("hex");
}

async function post(body, { ts = Math.floor(Date.now() / 1000), nonce = newNonce(), secret, sigBody, headers } = {}) {
  const sig = sign({ secret, ts, nonce, body: sigBody ?? body });
  const r = await fetch(`${base}${PATH}`, {
    method: "POST",
    headers: headers ?? {
      "content-type": "application/json",
      "x-mailaudit-timestamp": String(ts),
      "x-mailaudit-nonce": nonce,
      "x-mailaudit-signature": sig,
    },
    body,
  });
  const raw = Buffer.from(await r.arrayBuffer());
  return { status: r.status, raw, json: JSON.parse(raw.toString("utf8")), sig: r.headers.get("x-mailaudit-signature"), nonce, ts, reqSig: sig };
}

/** A fake Postfix-like server: refuses relaying, answers a bare-LF NOOP. */
function fakeSmtp(host) {
  return new Promise((resolve, reject) => {
    const s = net.createServer((c) => {
      const log = { bytes: "" };
      received.push(log);
      c.write("220 mail.agent.test ESMTP fake\r\n");
      let buf = "";
      c.on("data", (d) => {
        log.bytes += d.toString("latin1");
        buf += d.toString("latin1");
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i).replace(/\r$/, "");
          buf = buf.slice(i + 1);
          const cmd = line.toUpperCase();
          if (cmd.startsWith("EHLO")) c.write("250-mail.agent.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
          else if (cmd.startsWith("MAIL FROM")) c.write("250 2.1.0 Ok\r\n");
          else if (cmd.startsWith("RCPT TO")) c.write("554 5.7.1 Relay access denied\r\n");
          else if (cmd.startsWith("RSET")) c.write("250 2.0.0 Ok\r\n");
          else if (cmd.startsWith("VRFY") || cmd.startsWith("EXPN")) c.write("502 5.5.1 Command not implemented\r\n");
          else if (cmd.startsWith("NOOP")) c.write("250 2.0.0 Ok\r\n");
          else if (cmd.startsWith("QUIT")) c.end("221 2.0.0 Bye\r\n");
          else c.write("500 5.5.2 Error: command not recognized\r\n");
        }
      });
      c.on("error", () => {});
    });
    s.on("error", reject);
    s.listen(25, host, () => resolve(s));
  });
}

before(async () => {
  const bin = requireEnv("MAILAUDIT_BIN");
  dir = mkdtempSync(join(tmpdir(), "mailaudit-agent-"));
  const secretFile = join(dir, "secret");
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  smtpAddr = `127.${2 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  smtp = await fakeSmtp(smtpAddr);
  const port = await freePort();
  agent = start(bin, ["probe-agent", "--listen", `127.0.0.1:${port}`, "--secret-file", secretFile, "--allow-net", `${smtpAddr}/32`]);
  base = `http://127.0.0.1:${port}`;
  await waitHttp(`${base}/healthz`, agent, 20_000);
});

after(() => {
  agent && agent.stop();
  smtp && smtp.close();
  dir && rmSync(dir, { recursive: true, force: true });
});

const target = () => JSON.stringify({ host: "mail.agent.test", ip: smtpAddr });

test("agent: unsigned, stale, wrongly keyed and tampered requests are refused, nothing probed", async () => {
  const before = received.length;
  const body = target();
  const unsigned = await post(body, { headers: { "content-type": "application/json" } });
  assert.equal(unsigned.status, 401);
  assert.match(unsigned.json.error.message, /x-mailaudit-timestamp header is missing/);
  assert.equal(unsigned.sig, null, "a refusal to an unauthenticated caller is not signed");

  const stale = await post(body, { ts: Math.floor(Date.now() / 1000) - 120 });
  assert.equal(stale.status, 401);
  assert.match(stale.json.error.message, /timestamp is -1[12]\d s from the agent's clock/);

  const future = await post(body, { ts: Math.floor(Date.now() / 1000) + 120 });
  assert.equal(future.status, 401);

  const wrongKey = await post(body, { secret: "x".repeat(64) });
  assert.equal(wrongKey.status, 401);
  assert.match(wrongKey.json.error.message, /signature does not match/);

  // Signed for one target, sent for another.
  const tampered = await post(JSON.stringify({ host: "mail.agent.test", ip: "127.0.0.1" }), { sigBody: body });
  assert.equal(tampered.status, 401);
  assert.match(tampered.json.error.message, /signature does not match/);

  const get = await fetch(`${base}${PATH}`);
  assert.equal(get.status, 405);
  assert.equal(received.length, before, "no request above may reach the mail server");
});

test("agent: a signed request is answered with signed findings, once; never DATA", async () => {
  const r = await post(target());
  assert.equal(r.status, 200, r.raw.toString());
  assert.equal(r.sig, responseSignature(200, r.nonce, r.raw), "the answer is signed for this request");
  assert.equal(r.json.host, "mail.agent.test");
  assert.equal(r.json.ip, smtpAddr);
  assert.match(r.json.agent, /^mailaudit\//);
  const f = Object.fromEntries(r.json.findings.map((x) => [x.id, x]));
  assert.equal(f["smtp.reachable"].status, "pass", f["smtp.reachable"].detail);
  assert.equal(f["smtp.open_relay"].status, "pass", f["smtp.open_relay"].detail);
  assert.equal(f["smtp.vrfy_expn"].status, "pass", f["smtp.vrfy_expn"].detail);
  assert.equal(f["smtp.starttls"].status, "fail", f["smtp.starttls"].detail);
  assert.equal(f["smtp.smuggling"].status, "warn", f["smtp.smuggling"].detail);
  assert.equal(f["tls.versions"].status, "unknown");
  assert.ok(received.length >= 2, "the agent spoke to the fake server");
  const all = received.map((c) => c.bytes).join("");
  assert.match(all, /EHLO /);
  assert.match(all, /RCPT TO:<relay-test@example\.org>\r\n/);
  assert.doesNotMatch(all, /^(DATA|BDAT)/im, "the probe never sends DATA");

  // The same request again: a replay.
  const again = await fetch(`${base}${PATH}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-mailaudit-timestamp": String(r.ts),
      "x-mailaudit-nonce": r.nonce,
      "x-mailaudit-signature": r.reqSig,
    },
    body: target(),
  });
  assert.equal(again.status, 401);
  assert.match((await again.json()).error.message, /nonce was already used/);

  // A fresh request for the same target is answered from the agent's cache
  // (one probe per target per --cache-secs), without new connections.
  const seen = received.length;
  const cached = await post(target());
  assert.equal(cached.status, 200);
  assert.deepEqual(cached.json.findings, r.json.findings);
  assert.equal(received.length, seen);
});

test("agent: targets outside its address policy are refused (signed 403)", async () => {
  for (const ip of ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"]) {
    const r = await post(JSON.stringify({ host: "mail.agent.test", ip }));
    assert.equal(r.status, 403, ip);
    assert.equal(r.sig, responseSignature(403, r.nonce, r.raw), ip);
    assert.match(r.json.error.message, /not public/, ip);
  }
  const bad = await post(JSON.stringify({ host: "not a host", ip: smtpAddr }));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, "bad_request");
});
