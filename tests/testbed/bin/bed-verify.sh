#!/bin/bash
# Smoke-test the running bed (clients run inside its namespace unless said otherwise).
# Exit 0 iff all checks pass. Prints 'N passed, N failed' last.
HERE=$(cd "$(dirname "$0")/.." && pwd)
ENV=${BED_RUN:-$HERE/run}/bed.env
[ -f "$ENV" ] || { echo "bed-verify: $ENV missing: is the bed up? (bed-up.sh)"; echo "0 passed, 1 failed"; exit 1; }
. "$ENV"
# Never probe a bed that is not there: with the veth gone, 198.18.25.x would follow the host's default
# route off the machine. So: the netns must exist and the route to the bed must be the veth.
via_veth() { ip route get "$1" 2>/dev/null | grep -q ' dev mb-host '; }
if ! ip netns list 2>/dev/null | awk -v n="$BED_NS" '$1==n{f=1} END{exit !f}' || ! via_veth "$BED_MX_HARD"; then
  echo "bed-verify: netns $BED_NS missing or $BED_MX_HARD not routed via mb-host: is the bed up? (bed-up.sh)"
  echo "0 passed, 1 failed"; exit 1
fi
PY=${BED_PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 )}
IN() { ip netns exec "$BED_NS" "$@"; }
pass=0 fail=0
ck() { # name cmd...   (cmd is usually one of the c_* functions below)
  local name=$1 out; shift
  if out=$("$@" 2>&1); then pass=$((pass+1)); echo "ok   $name"
  else fail=$((fail+1)); echo "FAIL $name"; echo "$out" | tail -8 | sed 's/^/     /'; fi; }
doh() { IN "$PY" "$HERE/bin/doh_query.py" "$BED_DOH_URL" "$@" --cacert "$BED_CA"; }  # NAME TYPE
# every method (POST and GET) must show the given line; prints the answers for the failure report
doh_has() { # NAME TYPE REGEX...  (each REGEX must match a line of both the POST and the GET answer)
  local name=$1 type=$2 out m re; shift 2
  out=$(doh "$name" "$type") || { echo "$out"; return 1; }
  echo "$out"
  for m in POST GET; do for re in "$@"; do
    grep -qE "^$m $re" <<<"$out" || { echo "missing for $m: $re"; return 1; }
  done; done; }
doh_count() { # NAME TYPE REGEX N: exactly N answer lines (per method) match REGEX
  local out m; out=$(doh "$1" "$2") || { echo "$out"; return 1; }
  echo "$out"
  for m in POST GET; do [ "$(grep -cE "^$m $3" <<<"$out")" = "$4" ] || { echo "$m: want $4 x '$3'"; return 1; }; done; }
dnsflags() { IN dig +dnssec +time=2 +tries=1 "$@" | grep -E '^;; flags'; }

# ---------------------------------------------------------------- DNS over plain UDP (dig)
c_dig_ad()      { dnsflags example.test MX | grep -q ' ad'; }
c_dig_noad()    { ! dnsflags weak.test TXT | grep -q ' ad'; }
c_offbox()      { IN dig +time=2 +tries=1 debian.org A | grep -q 'status: SERVFAIL'; }
c_tlsa()        { IN dig +short _25._tcp.mail.example.test TLSA | grep -q '^3 1 1'; }
c_dnsbl_test()  { IN dig +short 2.0.0.127.zen.bl.test A | grep -qx 127.0.0.2; }
c_dnsbl_weak()  { IN dig +short 26.25.18.198.zen.bl.test A | grep -qx 127.0.0.2; }
c_ptr()         { IN dig +short -x "$BED_MX_HARD" | grep -qx mail.example.test.; }
c_getent()      { IN getent hosts mta-sts.example.test | grep -q "^$BED_MTASTS "; }
ck "dig: example.test MX validated (ad)"          c_dig_ad
ck "dig: weak.test TXT insecure (no ad)"          c_dig_noad
ck "dig: off-box names fail (SERVFAIL)"           c_offbox
ck "dig: TLSA _25._tcp.mail.example.test"         c_tlsa
ck "dig: DNSBL 2.0.0.127.zen.bl.test -> 127.0.0.2" c_dnsbl_test
ck "dig: DNSBL weak MTA listed"                   c_dnsbl_weak
ck "dig: PTR $BED_MX_HARD -> mail.example.test"   c_ptr
ck "getaddrinfo uses bed resolver (getent)"       c_getent

# ---------------------------------------------------------------- DNS over HTTPS (POST + GET, CA-verified)
ck "DoH example.test MX (ad=1, mail.example.test)" doh_has example.test MX 'rcode=NOERROR ad=1 answers=1' 'MX 10 mail\.example\.test\.$'
ck "DoH mail.example.test A (ad=1)"               doh_has mail.example.test A 'rcode=NOERROR ad=1' "A ${BED_MX_HARD//./\\.}$"
ck "DoH example.test TXT: one SPF, -all"          doh_count example.test TXT 'TXT "v=spf1 .*-all"$' 1
ck "DoH _dmarc.example.test p=reject"             doh_has _dmarc.example.test TXT 'rcode=NOERROR ad=1' 'TXT "v=DMARC1; p=reject;'
ck "DoH weak.test TXT (ad=0, two SPF records)"    doh_count weak.test TXT 'TXT "v=spf1 ' 2
ck "DoH weak.test TXT has v=spf1 +all"            doh_has weak.test TXT 'rcode=NOERROR ad=0' 'TXT "v=spf1 \+all"$'
ck "DoH _dmarc.weak.test p=none"                  doh_has _dmarc.weak.test TXT 'TXT "v=DMARC1; p=none"$'
ck "DoH nomail.test A (ad=0)"                     doh_has nomail.test A 'rcode=NOERROR ad=0 answers=1' "A ${BED_NOMAIL_ADDR//./\\.}$"
ck "DoH nomail.test MX: none (NODATA)"            doh_has nomail.test MX 'rcode=NOERROR ad=0 answers=0$'
ck "DoH nomail.test TXT: no SPF"                  doh_count nomail.test TXT 'TXT "v=spf1' 0
ck "DoH _dmarc.nomail.test: NXDOMAIN"             doh_has _dmarc.nomail.test TXT 'rcode=NXDOMAIN'
c_doh11()       { IN "$PY" "$HERE/bin/doh_query.py" "$BED_DOH11_URL" example.test MX --cacert "$BED_CA" --http1.1 | grep -c 'rcode=NOERROR ad=1 answers=1' | grep -qx 2; }
ck "DoH over HTTP/1.1 front (workerd's route, ad=1)" c_doh11
c_doh_host()    { via_veth "$BED_RESOLVER" || return 1; "$PY" "$HERE/bin/doh_query.py" "$BED_DOH_URL" example.test MX --cacert "$BED_CA" | grep -c 'ad=1' | grep -qx 2; }
ck "DoH from the host side via veth (ad=1)"       c_doh_host

# ---------------------------------------------------------------- MTA-STS
c_mtasts()      { IN curl -fsS --max-time 5 --cacert "$BED_CA" https://mta-sts.example.test/.well-known/mta-sts.txt | grep -q 'mode: enforce'; }
c_mtasts_host() { via_veth "$BED_MTASTS" || return 1; curl -fsS --max-time 5 --cacert "$BED_CA" --resolve "mta-sts.example.test:443:$BED_MTASTS" \
                    https://mta-sts.example.test/.well-known/mta-sts.txt | grep -q 'mx: mail.example.test'; }
c_mtasts_bad()  { ! IN curl -fsS --max-time 5 https://mta-sts.example.test/.well-known/mta-sts.txt >/dev/null 2>&1; }
ck "MTA-STS policy via https + DNS name + CA"     c_mtasts
ck "MTA-STS policy from the host side via veth"   c_mtasts_host
ck "MTA-STS cert not trusted without the bed CA"  c_mtasts_bad
c_bogus()       { IN dig @"$BED_RESOLVER" bogus.test MX | grep -q 'status: SERVFAIL' && IN dig +cd +short @"$BED_RESOLVER" bogus.test MX | grep -q mail.example.test; }
ck "bogus.test is bogus (SERVFAIL; answers with CD)" c_bogus
c_sts_redirect() { IN curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$BED_CA" https://mta-sts.stsredirect.example.test/.well-known/mta-sts.txt | grep -q 301; }
ck "MTA-STS policy host that redirects"           c_sts_redirect

# ---------------------------------------------------------------- SMTP
banner() { IN timeout 8 bash -c "exec 3<>/dev/tcp/$1/25; head -n1 <&3; printf 'QUIT\r\n' >&3" | tr -d '\r'; }
c_banner_hard() { banner "$BED_MX_HARD" | tee /dev/stderr | grep -q '^220 mail\.example\.test ESMTP$'; }
c_banner_weak() { banner "$BED_MX_WEAK" | tee /dev/stderr | grep -q '^220 mail\.weak\.test ESMTP Postfix [0-9.]* (Debian/GNU)$'; }
c_relay_hard()  { IN swaks -s "$BED_MX_HARD" --from a@b.invalid --to v@ext.invalid --quit-after RCPT --timeout 10 2>&1 | grep -q '554 5.7.1'; }
c_relay_weak()  { IN swaks -s "$BED_MX_WEAK" --from a@b.invalid --to v@ext.invalid --quit-after RCPT --timeout 10 2>&1 | grep -q '250 2.1.5'; }
c_starttls()    { echo QUIT | IN timeout 10 openssl s_client -starttls smtp -connect "$BED_MX_HARD:25" -servername mail.example.test \
                    -verify_hostname mail.example.test -CAfile "$BED_CA" -verify_return_error -brief 2>&1 | grep -q 'Verification: OK'; }
c_dane()        { local t args=(); # every TLSA record (the zone has a rollover pair: current key + next)
                  while read -r t; do args+=(-dane_tlsa_rrdata "$t"); done < <(IN dig +short _25._tcp.mail.example.test TLSA | tr -d ' ' | sed 's/^311/3 1 1 /')
                  echo QUIT | IN timeout 10 openssl s_client -starttls smtp -connect "$BED_MX_HARD:25" -dane_tlsa_domain mail.example.test \
                    "${args[@]}" -verify_return_error -brief 2>&1 | grep -q 'Verification: OK'; }
ck "banner hard $BED_MX_HARD"                     c_banner_hard
ck "banner weak $BED_MX_WEAK (version leak)"      c_banner_weak
ck "postfix hard: relay refused"                  c_relay_hard
ck "postfix weak: open relay"                     c_relay_weak
ck "postfix hard: STARTTLS + cert verifies"       c_starttls
ck "postfix hard: DANE TLSA matches (s_client)"   c_dane
if [ "${BED_EXTRA_MTAS:-0}" = 1 ]; then
  for m in EXIM OPENSMTPD SENDMAIL; do v=BED_MX_$m
    ck "banner $m ${!v}"                          eval "banner ${!v} | grep -q '^220 '"
  done
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
