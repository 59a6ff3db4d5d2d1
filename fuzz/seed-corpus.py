#!/usr/bin/env python3
"""Seeds for the protocol fuzz targets, from the test bed (tests/testbed) and
the repository's fixtures. Writes fuzz/corpus/<target>/seed-* (the committed
corpus was made with this script and then minimised with `cargo fuzz cmin`).

usage: BED_ENV=tests/testbed/run/bed.env python3 fuzz/seed-corpus.py

What it records (the input formats are in shared/tests/common/*_harness.rs):
- dns_records:   every TXT RRset of the bed's zones (records split by 0xFF,
                 character-strings by 0xFE), plus hostile hand-written ones;
- dns_wire:      the bed resolver's DoH answers (POST, DO bit) to the
                 questions of dns_wire_harness.rs QUESTIONS, byte 0 = index;
- smtp_reply:    each bed MTA's greeting, EHLO and STARTTLS replies, one
                 0xFF between the reads as they arrived;
- tls_hello:     each bed MTA's answer to a ClientHello (Python's ssl)
                 after STARTTLS; bytes 0-1 pick the probe's offer and SNI;
- x509_chain:    the bed's certificate chains (PKI files), with the CA as
                 an extra root (flag 1) and without;
- mtasts_policy: the bed's policy files.
"""
import base64, glob, hashlib, os, re, socket, ssl, struct, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")


def env():
    path = os.environ.get("BED_ENV", os.path.join(ROOT, "tests/testbed/run/bed.env"))
    e = {}
    for line in open(path):
        if "=" in line:
            k, v = line.strip().split("=", 1)
            e[k] = v.strip('"')
    return e


def save(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def zone_txt(run):
    """TXT RRsets of the zone files: owner -> [[strings]]."""
    sets = {}
    for zf in glob.glob(os.path.join(run, "knot/zones/*.zone")):
        origin = os.path.basename(zf)[:-5]
        text = open(zf).read()
        # Parenthesised records on one line.
        text = re.sub(r"\(([^)]*)\)", lambda m: m.group(1).replace("\n", " "), text)
        for line in text.splitlines():
            m = re.match(r'^(\S+)\s+(?:\d+\s+)?(?:IN\s+)?TXT\s+(.*)$', line)
            if not m:
                continue
            strings = [s.encode().decode("unicode_escape").encode("latin-1")
                       for s in re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))]
            sets.setdefault((origin, m.group(1)), []).append(strings)
    return sets


def dns_records(run):
    for recs in zone_txt(run).values():
        save("dns_records", b"\xff".join(b"\xfe".join(r) for r in recs))
    for t in [
        b"v=spf1 ip4:198.18.25.0/24 ip6:2001:db8::/32 a:%{d} mx/24//64 exists:%{ir}.%{l1r-}.e.%{d} redirect=_spf.%{o} exp=x.%{d}",
        b"v=spf1 include:a include:b ?all\xffv=spf1 -all",
        b"v=DMARC1; p=quarantine; sp=none; np=reject; pct=25; rua=mailto:a@x.example!10m,https://r.example/; ruf=mailto:f@y.example; fo=1:d:s; adkim=s; aspf=r; ri=3600",
        b"v=DKIM1; k=ed25519; t=s:y; h=sha256; s=email; n=note; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        b"v=STSv1; id=20261129T000000;\xfev=STSv1; id=2;",
        b"v=TLSRPTv1; rua=mailto:tls@example.test,https://r.example.test/tls",
        b"v=BIMI1; l=https://example.test/logo.svg; a=https://example.test/vmc.pem",
    ]:
        save("dns_records", t)


QUESTIONS = [("example.test", "TXT"), ("lookups11.example.test", "TXT"),
             ("sel1._domainkey.example.test", "TXT"), ("_dmarc.dmarc2.example.test", "TXT"),
             ("example.test", "MX"), ("_dmarc.example.test", "TXT"),
             ("_25._tcp.mail.example.test", "TLSA"), ("mail.example.test", "A"),
             ("mail.example.test", "AAAA"), ("25.25.18.198.in-addr.arpa", "PTR"),
             ("example.test", "DNSKEY"), ("nx.example.test", "A")]
TYPES = {"A": 1, "MX": 15, "TXT": 16, "AAAA": 28, "PTR": 12, "DNSKEY": 48, "TLSA": 52}


def dns_wire(e):
    for i, (name, t) in enumerate(QUESTIONS):
        q = struct.pack(">HHHHHH", 0, 0x0100, 1, 0, 0, 1)
        q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
        q += struct.pack(">HH", TYPES[t], 1) + b"\0" + struct.pack(">HHIH", 41, 4096, 0x8000, 0)
        r = subprocess.run(["curl", "-s", "--http2", "--cacert", e["BED_CA"], "-H",
                            "content-type: application/dns-message", "--data-binary", "@-",
                            e["BED_DOH_URL"]], input=q, capture_output=True, timeout=20)
        if r.returncode == 0 and len(r.stdout) > 12:
            save("dns_wire", bytes([i]) + r.stdout)


def read_reply(s, pieces):
    """Reads until a line `NNN ` ends a reply; records each read."""
    buf = b""
    while True:
        try:
            d = s.recv(4096)
        except socket.timeout:
            return buf
        if not d:
            return buf
        pieces.append(d)
        buf += d
        lines = buf.split(b"\r\n")
        if len(lines) > 1 and any(len(l) >= 4 and l[3:4] == b" " for l in lines[:-1]):
            return buf


def client_hello(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = version
    ctx.maximum_version = version
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(i, o, server_hostname="mail.example.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return o.read()


def smtp_and_tls(e):
    hosts = [v for k, v in e.items() if k.startswith("BED_MX_")]
    for ip in hosts:
        for sel, version in [(3, ssl.TLSVersion.TLSv1_2), (4, ssl.TLSVersion.TLSv1_3)]:
            pieces = []
            try:
                s = socket.create_connection((ip, 25), timeout=8)
                read_reply(s, pieces)
                pieces.append(b"")
                s.sendall(b"EHLO fuzz.example.test\r\n")
                read_reply(s, pieces)
                s.sendall(b"STARTTLS\r\n")
                r = read_reply(s, pieces)
                if r.startswith(b"220"):
                    s.sendall(client_hello(version))
                    s.settimeout(2)
                    ans = []
                    read_until = time.time() + 2
                    while time.time() < read_until:
                        try:
                            d = s.recv(65536)
                        except socket.timeout:
                            break
                        if not d:
                            break
                        ans.append(d)
                    if ans:
                        save("tls_hello", bytes([sel, 0]) + b"\xff".join(ans))
                s.close()
            except OSError as err:
                print(f"{ip}: {err}", file=sys.stderr)
            if pieces:
                save("smtp_reply", b"\xff".join(pieces))
    # Alerts and a plaintext answer, as in tls_untrusted.rs.
    save("tls_hello", bytes([3, 0]) + bytes([21, 3, 3, 0, 2, 2, 40]))
    save("tls_hello", bytes([1, 1]) + bytes([21, 3, 1, 0, 2, 1, 112, 21, 3, 1, 0, 2, 2, 70]))
    save("tls_hello", bytes([3, 0]) + b"220 mail.example.org ESMTP\r\n")
    save("smtp_reply", b"220-mail.example.test ESMTP\r\n220 \r\n\xff250-mail\r\n250-AUTH=LOGIN PLAIN\r\n250-SIZE\r\n250 STARTTLS\r\n\xff220 2.0.0 go\r\n")
    save("smtp_reply", b"220 x\r\n\xff502 5.5.2 no EHLO\r\n\xff250 x\r\n\xff454 4.7.0 TLS not available\r\n\xff221 bye\r\n")


def der_chain(path):
    pem = open(path).read()
    return [base64.b64decode("".join(b.strip().splitlines()))
            for b in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)]


def join_chain(flags, chain):
    return bytes([flags]) + b"".join(struct.pack(">H", len(c)) + c for c in chain)


def x509(run):
    pki = os.path.join(run, "pki")
    ca = der_chain(os.path.join(pki, "ca.crt"))
    for f in sorted(glob.glob(os.path.join(pki, "*.chain.crt"))):
        chain = der_chain(f)
        save("x509_chain", join_chain(0, chain))
        save("x509_chain", join_chain(3, chain + ca))
    save("x509_chain", join_chain(1, ca))


def mtasts(run):
    for f in glob.glob(os.path.join(run, "mta-sts/www/*/mta-sts.txt")):
        save("mtasts_policy", open(f, "rb").read())
    save("mtasts_policy", b"version: STSv1\r\nmode: testing\r\nmx: *.example.test\r\nmx: mail.example.test\r\nmax_age: 86400\r\nextension: x\r\n")


def main():
    e = env()
    run = e["BED_RUN"]
    dns_records(run)
    mtasts(run)
    x509(run)
    dns_wire(e)
    smtp_and_tls(e)
    for d in sorted(os.listdir(OUT)):
        print(d, len(os.listdir(os.path.join(OUT, d))))


if __name__ == "__main__":
    main()
