#!/usr/bin/env python3
"""The benchmark's Exim configuration: a deterministic 10,000-line exim.conf,
written to FILE.

    python3 bench/gen_exim_config.py FILE

Main section with 300 macros (used by later lines and by .ifdef blocks),
named lists, continued option lines and comments; 400 ACLs whose RCPT ACL
calls others with `acl =`; 150 routers and transports; authenticators. Used
by shared/benches/exim.rs (native) and the browser test "Exim config pasted"
(tests/e2e/browser.test.mjs), so both time the same input.
"""
import sys, random
out = sys.argv[1]
r = random.Random(10000)
L = ["# generated Exim configuration: 10,000 lines", "primary_hostname = mx.example.org",
     "domainlist local_domains = @ : example.org : example.net",
     "domainlist relay_to_domains = lsearch;/etc/exim/relay_domains",
     "hostlist relay_from_hosts = <; 127.0.0.1 ; ::1 ; 192.0.2.0/28",
     "acl_smtp_connect = acl_connect", "acl_smtp_rcpt = acl_rcpt", "acl_smtp_data = acl_data",
     "tls_certificate = /etc/ssl/mx.pem", "tls_privatekey = /etc/ssl/mx.key",
     "tls_require_ciphers = NORMAL:-VERS-TLS1.0:-VERS-TLS1.1",
     "log_selector = +smtp_protocol_error +smtp_syntax_error +tls_peerdn"]
# Macros first (names never contain an earlier name: a numeric suffix + Q).
for i in range(300):
    L.append(f"MACRO_{i:03d}Q = value{i} {'x' * r.randrange(30)}")
# Main-section filler: options using macros, .ifdef blocks, comments, lists.
main_target = 2600
i = 0
while len(L) < main_target:
    i += 1
    k = r.randrange(8)
    if k == 0:
        L.append(f"# comment {i}: {'c' * r.randrange(50)}")
    elif k == 1:
        m = r.randrange(300)
        L += [f".ifdef MACRO_{m:03d}Q", f"message_id_header_text = MACRO_{m:03d}Q", ".else",
              "message_id_header_text = none", ".endif"]
    elif k == 2:
        L += [f"hostlist hosts_{i} = 192.0.2.{i % 250} : \\", f"    198.51.100.{i % 250} : \\",
              f"    203.0.113.{i % 250}"]
    elif k == 3:
        L.append(f"domainlist doms_{i} = d{i}.example : *.d{i}.example : MACRO_{r.randrange(300):03d}Q")
    elif k == 4:
        L.append("")
    else:
        L.append(f"received_header_text = Received: by MACRO_{r.randrange(300):03d}Q id {i}")
L.append("begin acl")
L += ["acl_connect:", "  accept hosts = +relay_from_hosts", "  accept delay = 3s", "",
      "acl_rcpt:", "  accept hosts = :", "  accept hosts = +relay_from_hosts",
      "  accept authenticated = *"]
for a in range(40):
    L += [f"  deny    acl = acl_extra_{a}"]
L += ["  deny    ratelimit = 100 / 1h / strict / per_rcpt",
      "          message   = rate",
      "  require message = relay not permitted",
      "          domains = +local_domains : +relay_to_domains",
      "  require verify = recipient",
      "  accept", "", "acl_data:", "  accept", ""]
a = 0
acl_target = 7600
while len(L) < acl_target:
    L.append(f"acl_extra_{a}:")
    for s in range(r.randrange(4, 12)):
        verb = r.choice(["deny", "warn", "accept", "require", "defer"])
        cond = r.choice([
            f"hosts = +hosts_{r.randrange(1, 2000)} : 10.{s}.0.0/16",
            f"senders = *@spam{s}.example : ^.*[0-9]{{8}}@",
            f"domains = +doms_{r.randrange(1, 2000)}",
            f"condition = ${{if >{{$rcpt_count}}{{{s + 10}}}}}",
            f"dnslists = bl{s}.example.org=127.0.0.2",
            f"local_parts = ^[.] : ^.*[@%!/|] : user{s}",
            f"verify = sender",
        ])
        L.append(f"  {verb:8s}{cond}")
        if r.randrange(3) == 0:
            L.append(f"          message = statement {s} of acl {a}")
    L.append("")
    a += 1
L.append("begin routers")
for i in range(75):
    L += [f"router_{i}:", "  driver = " + ("dnslookup" if i == 74 else "redirect"),
          "  domains = ! +local_domains" if i == 74 else f"  data = ${{lookup{{$local_part}}lsearch{{/etc/aliases{i}}}}}",
          "  transport = remote_smtp" if i == 74 else "  allow_fail", "  no_more" if i == 74 else "  allow_defer", ""]
L.append("begin transports")
L += ["remote_smtp:", "  driver = smtp", "  dkim_domain = example.org", "  dkim_selector = s1",
      "  dkim_private_key = /etc/exim/dkim.key", ""]
i = 0
while len(L) < 9_900:
    L += [f"local_{i}:", "  driver = appendfile", f"  file = /var/mail{i}/$local_part_data",
          "  delivery_date_add", "  envelope_to_add", ""]
    i += 1
L.append("begin authenticators")
L += ["plain:", "  driver = plaintext", "  public_name = PLAIN", "  server_prompts = :",
      "  server_condition = ${if eq{$auth3}{secret}}", "  server_set_id = $auth2",
      "  server_advertise_condition = ${if eq{$tls_in_cipher}{}{}{*}}"]
while len(L) < 10_000:
    L.append("# end")
open(out, "w").write("\n".join(L[:10_000]) + "\n")
