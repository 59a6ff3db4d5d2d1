// A DNS-over-HTTPS stub for tests (RFC 8484 wire format over plain
// HTTP/1.1 on 127.0.0.1): answers from a zone the test edits. A name not in
// the zone is NXDOMAIN, a type not at a name an empty NOERROR. TXT strings
// longer than 255 bytes are split into character-strings as a zone file
// would. Blocklist entries: an A query for `2.0.0.127.<list zone>` (every
// DNSBL's documented test entry) or for a name in the optional `listed` set
// is answered 127.0.0.2.
import http from "node:http";

const TYPES = { 1: "A", 15: "MX", 16: "TXT", 28: "AAAA" };

function readName(buf, off) {
  const labels = [];
  for (let n = 0; n < 128; n++) {
    const len = buf[off];
    if (len === undefined) throw new Error("truncated name");
    off += 1;
    if (len === 0) return { name: labels.join(".").toLowerCase(), off };
    if (len >= 0xc0) throw new Error("compressed name in a question");
    labels.push(buf.subarray(off, off + len).toString("latin1"));
    off += len;
  }
  throw new Error("name too long");
}

function encodeName(name) {
  const parts = name.replace(/\.$/, "").split(".").filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])), Buffer.from([0])]);
}

function rdata(type, value) {
  switch (type) {
    case "A":
      return Buffer.from(value.split(".").map(Number));
    case "AAAA": {
      const [head, tail = ""] = value.split("::");
      const h = head ? head.split(":") : [];
      const t = tail ? tail.split(":") : [];
      const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
      const b = Buffer.alloc(16);
      groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
      return b;
    }
    case "MX": {
      const pref = Buffer.alloc(2);
      pref.writeUInt16BE(value[0]);
      return Buffer.concat([pref, encodeName(value[1])]);
    }
    case "TXT": {
      const s = Buffer.from(value);
      const parts = [];
      for (let i = 0; i < s.length || i === 0; i += 255) {
        const c = s.subarray(i, i + 255);
        parts.push(Buffer.from([c.length]), c);
      }
      return Buffer.concat(parts);
    }
  }
  throw new Error(`type ${type}`);
}

/** The wire answer to `query` from `zone` (name → {A, AAAA, MX, TXT}) and
 * the blocklist entries in `listed` (a Set of names, or null). */
export function answer(zone, query, listed = null) {
  const id = query.readUInt16BE(0);
  const flags = query.readUInt16BE(2);
  const { name, off } = readName(query, 12);
  const qtype = query.readUInt16BE(off);
  const question = query.subarray(12, off + 4);
  const type = TYPES[qtype];
  let records = [];
  let rcode = 0;
  if (listed && type === "A" && (/^2\.0\.0\.127\./.test(name) || listed.has(name))) records = ["127.0.0.2"];
  else if (zone.has(name)) records = (type && zone.get(name)[type]) || [];
  else rcode = 3; // NXDOMAIN
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  // QR, the query's RD, RA, rcode.
  head.writeUInt16BE(0x8000 | (flags & 0x0100) | 0x0080 | rcode, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(records.length, 6);
  const rrs = records.map((v) => {
    const data = rdata(type, v);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // the question's name
    fixed.writeUInt16BE(qtype, 2);
    fixed.writeUInt16BE(1, 4); // IN
    fixed.writeUInt32BE(300, 6);
    fixed.writeUInt16BE(data.length, 10);
    return Buffer.concat([fixed, data]);
  });
  return Buffer.concat([head, question, ...rrs]);
}

/** Starts the stub on 127.0.0.1; resolves to {url, queries, close}. With
 * `listed` (a Set the test may edit), blocklist look-ups are answered. */
export async function dohStub(zone, { listed = null } = {}) {
  const queries = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      try {
        const q = Buffer.concat(chunks);
        queries.push(readName(q, 12).name);
        const body = answer(zone, q, listed);
        res.writeHead(200, { "content-type": "application/dns-message", "content-length": body.length });
        res.end(body);
      } catch (e) {
        res.writeHead(400);
        res.end(String(e));
      }
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}/dns-query`, queries, close: () => new Promise((r) => srv.close(r)) };
}
