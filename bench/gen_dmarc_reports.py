#!/usr/bin/env python3
"""Writes N deterministic DMARC aggregate reports for example.com into DIR,
about ROWS records each, shaped like the big receivers' reports (see
tests/fixtures/dmarc/make.py): a third Google-style zip, a third gzip
(Microsoft, Yahoo), a third plain XML (other receivers, some with the
DMARCbis namespace). Report ids are unique, so nothing is de-duplicated.

    python3 bench/gen_dmarc_reports.py DIR [N=10000] [ROWS=100]

Sources: 2,000 addresses. Most mail comes from aligned senders (the
domain's servers, a workspace provider signing d=example.com); about 3%
from services that authenticate as their own domain (related but
unaligned), about 0.5% from spoofers (no SPF or DKIM pass). Dates: 30 days
from 2026-10-01. Same arguments, same bytes.
"""
import gzip
import io
import os
import random
import sys
import zipfile

DAY0 = 1790812800  # 2026-10-01T00:00:00Z
REPORTERS = [
    ("google.com", "noreply-dmarc-support@google.com", "zip"),
    ("Enterprise Outlook", "dmarcreport@microsoft.com", "gz"),
    ("Yahoo", "dmarchelp@yahooinc.com", "gz"),
    ("mail.receiver.example", "dmarc@mail.receiver.example", "xml"),
    ("comcast.net", "dmarc_support@comcast.net", "xml"),
    ("Mail.Ru", "dmarc_support@corp.mail.ru", "zip"),
]


def sources(rng):
    out = []
    for i in range(2000):
        a, b = divmod(i, 250)
        ip = f"198.{18 + a % 2}.{a}.{b + 1}" if i % 7 else f"2001:db8:{a:x}::{b + 1:x}"
        r = rng.random()
        if r < 0.90:
            kind = "aligned"
        elif r < 0.97:
            kind = "unaligned"
        else:
            kind = "spoof"
        out.append((ip, kind))
    return out


def record(ip, kind, count, ind):
    if kind == "aligned":
        pe_dkim, pe_spf = "pass", "pass"
        dkim = [("example.com", "s2026", "pass")]
        spf = ("example.com", "pass")
    elif kind == "unaligned":
        pe_dkim, pe_spf = "fail", "fail"
        dkim = [("esp.example.net", "k1", "pass")]
        spf = ("bounce.esp.example.net", "pass")
    else:
        pe_dkim, pe_spf = "fail", "fail"
        dkim = []
        spf = ("example.com", "softfail")
    i1, i2, i3, i4 = ind, ind * 2, ind * 3, ind * 4
    parts = [
        f"{i1}<record>\n{i2}<row>\n{i3}<source_ip>{ip}</source_ip>\n{i3}<count>{count}</count>\n",
        f"{i3}<policy_evaluated>\n{i4}<disposition>none</disposition>\n{i4}<dkim>{pe_dkim}</dkim>\n",
        f"{i4}<spf>{pe_spf}</spf>\n{i3}</policy_evaluated>\n{i2}</row>\n{i2}<identifiers>\n",
        f"{i3}<header_from>example.com</header_from>\n{i2}</identifiers>\n{i2}<auth_results>\n",
    ]
    for d, s, r in dkim:
        parts.append(
            f"{i3}<dkim>\n{i4}<domain>{d}</domain>\n{i4}<selector>{s}</selector>\n"
            f"{i4}<result>{r}</result>\n{i3}</dkim>\n"
        )
    parts.append(
        f"{i3}<spf>\n{i4}<domain>{spf[0]}</domain>\n{i4}<scope>mfrom</scope>\n"
        f"{i4}<result>{spf[1]}</result>\n{i3}</spf>\n{i2}</auth_results>\n{i1}</record>\n"
    )
    return "".join(parts)


def report(n, rng, srcs, rows):
    org, email, kind = REPORTERS[n % len(REPORTERS)]
    day = (n // len(REPORTERS)) % 30
    begin = DAY0 + day * 86400
    end = begin + 86399
    ns = ' xmlns="urn:ietf:params:xml:ns:dmarc-2.0"' if org == "mail.receiver.example" else ""
    head = (
        f'<?xml version="1.0" encoding="UTF-8" ?>\n<feedback{ns}>\n  <version>1.0</version>\n'
        f"  <report_metadata>\n    <org_name>{org}</org_name>\n    <email>{email}</email>\n"
        f"    <report_id>bench-{n:06d}-{rng.getrandbits(48):012x}</report_id>\n"
        f"    <date_range>\n      <begin>{begin}</begin>\n      <end>{end}</end>\n"
        f"    </date_range>\n  </report_metadata>\n  <policy_published>\n"
        f"    <domain>example.com</domain>\n    <adkim>r</adkim>\n    <aspf>r</aspf>\n"
        f"    <p>none</p>\n    <sp>none</sp>\n    <pct>100</pct>\n  </policy_published>\n"
    )
    body = []
    for _ in range(rows):
        ip, k = srcs[rng.randrange(len(srcs))]
        count = rng.randint(1, 40) if k == "aligned" else rng.randint(1, 8)
        body.append(record(ip, k, count, "  "))
    xml = (head + "".join(body) + "</feedback>\n").encode()
    name = f"{org.replace(' ', '_').lower()}!example.com!{begin}!{end}!{n}"
    return kind, name, xml


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    os.makedirs(out, exist_ok=True)
    rng = random.Random(8)
    srcs = sources(rng)
    total_rows = 0
    raw = 0
    for i in range(n):
        kind, name, xml = report(i, rng, srcs, rows)
        total_rows += rows
        raw += len(xml)
        if kind == "gz":
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="", compresslevel=6) as f:
                f.write(xml)
            data, fname = buf.getvalue(), f"{name}.xml.gz"
        elif kind == "zip":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                info = zipfile.ZipInfo(f"{name}.xml", date_time=(2026, 10, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, xml)
            data, fname = buf.getvalue(), f"{name}.zip"
        else:
            data, fname = xml, f"{name}.xml"
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)
    print(f"{n} files, {total_rows} rows, {raw / 1e6:.0f} MB of XML in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
