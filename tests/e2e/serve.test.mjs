// `mailaudit serve` (the self-hosted site and API): the same security
// headers and CORS policy as the Worker. No DNS look-ups are made here; the
// resolver is one that cannot be reached.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { checkPolicy, requireEnv, start, waitHttp } from "./lib.mjs";

let proc;
let base;

before(async () => {
  const bin = requireEnv("MAILAUDIT_BIN");
  const site = requireEnv("MAILAUDIT_SITE");
  proc = start(bin, ["serve", "--listen", "127.0.0.1:0", "--site", site, "--resolver", "https://127.0.0.1:9/dns-query"]);
  const end = Date.now() + 20_000;
  while (!base && Date.now() < end) {
    const m = /and the API on (http:\/\/\S+?)\/?\s/.exec(proc.output());
    if (m) base = m[1];
    else await new Promise((r) => setTimeout(r, 100));
  }
  if (!base) throw new Error(`mailaudit serve printed no URL:\n${proc.output()}`);
  await waitHttp(`${base}/healthz`, proc, 20_000);
});

after(() => proc && proc.stop());

test("serve: security headers on the site and the API, CORS only on the API", async () => {
  await checkPolicy(assert, base);
});
