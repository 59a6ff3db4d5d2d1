#!/usr/bin/env python3
"""The benchmark's Postfix configuration: a deterministic 5,000-line main.cf
and a 200-line master.cf, written into DIR.

    python3 bench/gen_postfix_config.py DIR

Used by bench/postfix_vs_postconf.sh (native, against `postconf -n`) and by
the browser test "big generated config: analysis time in the page"
(tests/e2e/browser.test.mjs), so both time the same input.
"""
import sys, random
d = sys.argv[1]
r = random.Random(5000)
read = ["smtpd_tls_security_level", "smtpd_relay_restrictions", "smtpd_recipient_restrictions",
        "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
        "smtpd_banner", "mynetworks", "smtpd_tls_protocols", "smtp_tls_security_level",
        "disable_vrfy_command", "smtpd_helo_required", "message_size_limit",
        "smtpd_client_connection_rate_limit", "smtpd_milters", "postscreen_dnsbl_sites"]
other = ["smtp_helo_timeout = 300s", "queue_run_delay = 300s", "bounce_queue_lifetime = 5d",
         "maximal_queue_lifetime = 5d", "alias_maps = hash:/etc/aliases", "recipient_delimiter = +",
         "virtual_alias_maps = hash:/etc/postfix/virtual", "header_checks = regexp:/etc/postfix/hc"]
lines = ["# generated: 5,000 lines", "compatibility_level = 3.6",
         "myhostname = mail.example.org", "mydomain = example.org",
         "mynetworks = 127.0.0.0/8 [::1]/128"]
i = 0
while len(lines) < 5000:
    k = r.randrange(10)
    i += 1
    if k == 0:
        lines.append(f"# comment {i}: {'x' * r.randrange(60)}")
    elif k == 1:
        lines.append("")
    elif k in (2, 3):
        lines.append(f"site_{i} = 10.{i % 250}.{i % 7}.0/24" + (f" $site_{i-1}" if r.randrange(3) else ""))
    elif k == 4:
        name = r.choice(read[:6])
        lines += [f"{name} =", "    permit_mynetworks,", f"    check_client_access hash:/etc/postfix/a{i},",
                  "    reject_unauth_destination"]
    elif k == 5:
        lines.append(f"smtpd_banner = $myhostname ESMTP {i}")
    elif k == 6:
        lines.append(f"mynetworks = 127.0.0.0/8 ${{site_{max(i-1, 1)}?{{$site_{max(i-1, 1)}}}}}")
    elif k == 7:
        lines.append(f"smtpd_tls_security_level = {r.choice(['may', 'encrypt', 'none'])}")
    else:
        lines.append(r.choice(other))
open(f"{d}/main.cf", "w").write("\n".join(lines[:5000]) + "\n")
m = ["smtp      inet  n       -       y       -       -       smtpd",
     "pickup    unix  n       -       y       60      1       pickup",
     "cleanup   unix  n       -       y       -       0       cleanup",
     "qmgr      unix  n       -       n       300     1       qmgr",
     "relay     unix  -       -       y       -       -       smtp",
     "        -o syslog_name=postfix/$service_name"]
j = 0
while len(m) < 200:
    j += 1
    m += [f"127.0.0.{j}:{10025 + j} inet n - n - - smtpd",
          "  -o content_filter=",
          f"  -o {{ smtpd_client_restrictions = permit_mynetworks, reject }}",
          f"  -o mynetworks=127.0.0.0/8 $site_{j}",
          f"  -o syslog_name=postfix/filter{j}"]
open(f"{d}/master.cf", "w").write("\n".join(m[:200]) + "\n")
