#!/usr/bin/env python3
"""A deterministic Postfix mail log of N lines for the log benchmark.

    python3 bench/gen_maillog.py OUT [LINES]   (default 1,000,000 lines)

The mix follows a busy Debian 12 Postfix 3.7 server's /var/log/mail.log:
inbound sessions through postscreen (connect, TLS, client=, cleanup, qmgr,
local delivery, removed, disconnect), authenticated submissions delivered
out through smtp with TLS, deferrals (timeouts, blocklisting), rejected
relay probes, TLS handshake failures, and SASL password guessing from a
few hundred addresses against a few hundred user names. The log covers
about a week (BSD timestamps, Nov 23-29), from 4,000 client addresses and
200 users. The same seed gives the same bytes.
"""
import random
import sys

out = sys.argv[1]
target = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
R = random.Random(20261129)
HEX = "0123456789ABCDEF"
MON = "Nov"
span = 7 * 86400
start_day = 23


def qid():
    return "".join(R.choice(HEX) for _ in range(10))


clients = [f"198.51.{R.randrange(0, 100)}.{R.randrange(1, 255)}" for _ in range(3000)]
attackers = [f"203.0.{R.randrange(113, 114)}.{R.randrange(1, 255)}" for _ in range(300)]
users = [f"user{i}@example.org" for i in range(200)]
guesses = ["admin", "info", "test", "sales", "office", "contact", "support", "postmaster"] + users[:40]

lines = []
n = 0
t = 0
step = span / (target / 9.0)

with open(out, "w") as f:
    def w(tt, prog, msg):
        global n
        d = start_day + tt // 86400
        s = tt % 86400
        f.write(f"{MON} {d:2d} {s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d} mx postfix/{prog}[{1000 + tt % 30000}]: {msg}\n")
        n += 1

    while n < target:
        t += R.expovariate(1 / step)
        tt = int(t) % span
        r = R.random()
        if r < 0.55:
            ip = R.choice(clients)
            q = qid()
            w(tt, "postscreen", f"CONNECT from [{ip}]:{R.randrange(1024, 65535)} to [192.0.2.25]:25")
            w(tt, "postscreen", f"PASS OLD [{ip}]:{R.randrange(1024, 65535)}")
            w(tt, "smtpd", f"connect from mail{ip.split('.')[3]}.sender.example[{ip}]")
            w(tt, "smtpd", f"Anonymous TLS connection established from mail.sender.example[{ip}]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256")
            w(tt, "smtpd", f"{q}: client=mail.sender.example[{ip}]")
            w(tt, "cleanup", f"{q}: message-id=<{tt}.{q}@sender.example>")
            w(tt, "qmgr", f"{q}: from=<news@sender.example>, size={R.randrange(1000, 90000)}, nrcpt=1 (queue active)")
            w(tt, "local", f"{q}: to=<{R.choice(users)}>, relay=local, delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)")
            w(tt, "qmgr", f"{q}: removed")
            w(tt, "smtpd", f"disconnect from mail.sender.example[{ip}] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7")
        elif r < 0.75:
            u = R.choice(users)
            q = qid()
            k = R.choice((1, 1, 1, 2, 3))
            w(tt, "submission/smtpd", "connect from laptop.example.net[192.0.2.77]")
            w(tt, "submission/smtpd", f"{q}: client=laptop.example.net[192.0.2.77], sasl_method=PLAIN, sasl_username={u}")
            w(tt, "cleanup", f"{q}: message-id=<{tt}.{q}@example.org>")
            w(tt, "qmgr", f"{q}: from=<{u}>, size={R.randrange(1000, 90000)}, nrcpt={k} (queue active)")
            for j in range(k):
                if R.random() < 0.05:
                    reason = R.choice([
                        "connect to mx.slow.example[198.51.100.90]:25: Connection timed out",
                        "host mx1.bigmail.example[198.51.100.80] said: 421 4.7.1 Service unavailable; Client host [192.0.2.25] blocked using zen.spamhaus.org (in reply to RCPT TO command)",
                    ])
                    w(tt, "smtp", f"{q}: to=<r{j}@other.example>, relay=mx.other.example[198.51.100.7]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=4.4.1, status=deferred ({reason})")
                else:
                    w(tt, "smtp", f"{q}: to=<r{j}@other.example>, relay=mx.other.example[198.51.100.7]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {qid()})")
            w(tt, "qmgr", f"{q}: removed")
            w(tt, "submission/smtpd", "disconnect from laptop.example.net[192.0.2.77] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8")
        elif r < 0.95:
            ip = R.choice(attackers)
            w(tt, "submission/smtpd", f"connect from unknown[{ip}]")
            w(tt, "submission/smtpd", f"warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username={R.choice(guesses)}")
            w(tt, "submission/smtpd", f"lost connection after AUTH from unknown[{ip}]")
            w(tt, "submission/smtpd", f"disconnect from unknown[{ip}] ehlo=1 auth=0/1 commands=1/2")
        elif r < 0.98:
            ip = R.choice(attackers)
            w(tt, "smtpd", f"connect from unknown[{ip}]")
            w(tt, "smtpd", f"NOQUEUE: reject: RCPT from unknown[{ip}]: 454 4.7.1 <x@elsewhere.example>: Relay access denied; from=<a@probe.example> to=<x@elsewhere.example> proto=ESMTP helo=<probe.example>")
            w(tt, "smtpd", f"disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4")
        else:
            ip = R.choice(attackers)
            w(tt, "smtpd", f"connect from unknown[{ip}]")
            w(tt, "smtpd", f"SSL_accept error from unknown[{ip}]: -1")
            w(tt, "smtpd", "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:../ssl/statem/statem_srvr.c:1657:")
            w(tt, "smtpd", f"lost connection after STARTTLS from unknown[{ip}]")
print(f"{out}: {n} lines", file=sys.stderr)
