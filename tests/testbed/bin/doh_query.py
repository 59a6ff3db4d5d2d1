#!/usr/bin/env python3
"""Stdlib-only RFC 8484 client for the test bed: builds a DNS query (EDNS0, DO=1), sends it with curl
(HTTP/2, as the bed's unbound only speaks DoH over h2) as POST and/or GET ?dns=, and decodes the answer.

usage: doh_query.py URL NAME TYPE [--method post|get|both] [curl args, e.g. --cacert CA.crt]

Output, one line per method, then one line per answer RR (RRSIGs skipped):
    POST rcode=NOERROR ad=1 answers=1
    POST MX 10 mail.example.test.
Exit status: 0 if every method got a DNS response (any rcode), 1 otherwise."""
import base64, struct, subprocess, sys

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "DS": 43,
         "RRSIG": 46, "DNSKEY": 48, "TLSA": 52}
TYPENAME = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def build(name, rtype):
    q = struct.pack(">HHHHHH", 0, 0x0100, 1, 0, 0, 1)  # id 0 (RFC 8484 4.1), RD, 1 question, 1 additional
    labels = [l for l in name.rstrip(".").split(".") if l]
    q += b"".join(bytes([len(l)]) + l.encode() for l in labels) + b"\0"
    q += struct.pack(">HH", TYPES[rtype], 1)
    q += b"\0" + struct.pack(">HHIH", 41, 4096, 0x8000, 0)  # OPT RR with the DO bit
    return q


def read_name(msg, off):
    labels, jumped, end = [], False, off
    for _ in range(128):  # bounded: no pointer loops
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off, jumped = ((n & 0x3F) << 8) | msg[off + 1], True
            continue
        if n == 0:
            return ".".join(labels) + ".", (end if jumped else off + 1)
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    raise ValueError("name too long / pointer loop")


def rdata_text(msg, t, off, ln):
    rd = msg[off:off + ln]
    if t == 1:
        return ".".join(str(b) for b in rd)
    if t == 28:
        return ":".join(rd[i:i + 2].hex() for i in range(0, 16, 2))
    if t in (2, 5, 12):
        return read_name(msg, off)[0]
    if t == 15:
        return f"{struct.unpack('>H', rd[:2])[0]} {read_name(msg, off + 2)[0]}"
    if t == 16:  # one or more character-strings, shown like a zone file
        parts, i = [], 0
        while i < len(rd):
            n = rd[i]
            parts.append('"' + rd[i + 1:i + 1 + n].decode("utf-8", "replace").replace('"', '\\"') + '"')
            i += 1 + n
        return " ".join(parts)
    if t == 6:
        mname, o = read_name(msg, off)
        rname, o = read_name(msg, o)
        return f"{mname} {rname} " + " ".join(str(x) for x in struct.unpack(">IIIII", msg[o:o + 20]))
    if t == 52:
        return f"{rd[0]} {rd[1]} {rd[2]} {rd[3:].hex()}"
    return rd.hex()


def parse(msg):
    _id, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        off = read_name(msg, off)[1] + 4
    rrs = []
    for _ in range(an):
        name, off = read_name(msg, off)
        t, _cls, _ttl, ln = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        if t != 46:
            rrs.append(f"{name} {TYPENAME.get(t, 'TYPE%d' % t)} {rdata_text(msg, t, off, ln)}")
        off += ln
    return RCODES.get(flags & 0xF, str(flags & 0xF)), 1 if flags & 0x20 else 0, rrs


def main():
    a = sys.argv[1:]
    if len(a) < 3:
        sys.exit(__doc__)
    url, name, rtype, rest = a[0], a[1], a[2].upper(), a[3:]
    method = "both"
    if len(rest) >= 2 and rest[0] == "--method":
        method, rest = rest[1], rest[2:]
    q = build(name, rtype)
    common = ["curl", "-sS", "--http2", "--max-time", "5", "-H", "accept: application/dns-message", *rest]
    runs = []
    if method in ("post", "both"):
        runs.append(("POST", common + ["-H", "content-type: application/dns-message", "--data-binary", "@-", url], q))
    if method in ("get", "both"):
        runs.append(("GET", common + [url + "?dns=" + base64.urlsafe_b64encode(q).rstrip(b"=").decode()], None))
    ok = True
    for label, cmd, stdin in runs:
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=15)
        if p.returncode or len(p.stdout) < 12:
            print(f"{label} failed: curl exit {p.returncode}: {p.stderr.decode().strip()}")
            ok = False
            continue
        try:
            rcode, ad, rrs = parse(p.stdout)
        except (ValueError, IndexError, struct.error) as e:
            print(f"{label} failed: undecodable answer ({e})")
            ok = False
            continue
        print(f"{label} rcode={rcode} ad={ad} answers={len(rrs)}")
        for rr in rrs:
            print(f"{label} {rr.split(' ', 1)[1]}")
    sys.exit(0 if ok else 1)


main()
