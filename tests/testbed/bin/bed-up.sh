#!/bin/bash
# Mail + DNS test bed inside a private network namespace (must run as root).
#   bed-up.sh [--install] [--no-extra-mtas | --extra-mtas]
# --install         make sure the Debian packages are there: apt-get update + install, skipped entirely
#                   when every needed package and binary is already present (warm runs stay fast). With
#                   --extra-mtas it also fetches exim4/sendmail/opensmtpd with `apt-get download` and
#                   unpacks them with dpkg -x under root/ (they conflict with postfix as MTAs, so they are
#                   never dpkg -i'd).
# --no-extra-mtas   (default) only postfix (weak + hardened), DNS, DoH, MTA-STS
# --extra-mtas      also start exim (.27), opensmtpd (.28) and sendmail (.29)
# Environment: BED_RUN (run dir, default tests/testbed/run), BED_NS (default mailbed),
#              BED_KEEP_ON_FAIL=1 (leave a half-started bed up for inspection instead of tearing it down),
#              BED_APT_WAIT (seconds to wait for another apt/dpkg to finish, default 1800).
# Everything listens on 198.18.25.0/24 (RFC 2544 benchmark range) addresses that exist only inside
# netns $BED_NS (and the host end of one veth, 198.18.25.1). Nothing here routes off the machine: the
# namespace has no default route, and its /etc/resolv.conf (ip netns exec bind-mounts
# /etc/netns/$NS/resolv.conf) points at the bed's own unbound.
# If a previous bed is still up (netns or veth exists), it is torn down first with bed-down.sh, and the
# run dir is recreated from scratch, so a crashed earlier run never breaks the next one.
# Tests: source $RUN/bed.env, then run clients with:  ip netns exec $BED_NS <cmd>
# (from the host, the 198.18.25.x addresses are reachable through the veth too, but host-side name
#  resolution still uses the host resolver: pass BED_RESOLVER / BED_DOH_URL explicitly to the tool.)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
RUN=${BED_RUN:-$HERE/run}
NS=${BED_NS:-mailbed}
N=198.18.25                       # /24 inside the namespace
HOSTIP=$N.1 NSIP=$N.2 RESOLVER=$N.53 MTASTS=$N.80 NOMAIL=$N.81 WORKER=$N.90
PF_HARD=$N.25 PF_WEAK=$N.26 EXIM=$N.27 OSMTPD=$N.28 SENDMAIL=$N.29
PF_EXPIRED=$N.30 PF_CERTNAME=$N.31  # hardened Postfix serving an expired / a wrong-name certificate
ROOTS=$HERE/root                  # dpkg -x'ed exim/opensmtpd/sendmail
DEBS=$HERE/debs
INSTALL=0 EXTRA=0
for a in "$@"; do case $a in
  --install) INSTALL=1;;
  --no-extra-mtas) EXTRA=0;;
  --extra-mtas) EXTRA=1;;
  -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
  *) echo "unknown argument $a (try --help)" >&2; exit 2;;
esac; done
log() { printf '[bed-up %(%T)T] %s\n' -1 "$*"; }
IN() { ip netns exec "$NS" "$@"; }
wait_tcp() { # addr port  (bounded: 50 x 0.2 s)
  for _ in $(seq 50); do IN bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0; sleep 0.2; done
  echo "timeout waiting for $1:$2" >&2; return 1; }

# ---------------------------------------------------------------- failure / exit handling
# (no set -E: traps must not be inherited by functions, subshells and background jobs. The EXIT trap
#  runs in this shell only, and does the failure handling when the exit status is not 0.)
STARTED=0 POLICY_RC_CREATED=0 FAIL_AT=
after_failure() { # show the daemons' last words; tear down what we started (unless BED_KEEP_ON_FAIL=1)
  local f
  for f in "$RUN"/knot/knot.log "$RUN"/unbound/unbound.log "$RUN"/pf-*/maillog "$RUN"/mta-sts/server.log \
           "$RUN"/apt.log "$RUN"/exim/log/paniclog "$RUN"/opensmtpd/smtpd.log; do
    if [ -s "$f" ]; then echo "---- tail $f" >&2; tail -n 8 "$f" >&2; fi
  done
  if [ $STARTED = 1 ]; then
    if [ "${BED_KEEP_ON_FAIL:-0}" = 1 ]; then echo "bed-up: BED_KEEP_ON_FAIL=1: left as is; clean up with bed-down.sh" >&2
    else bash "$HERE/bin/bed-down.sh" >&2 || true; fi
  fi; }
on_exit() {
  local rc=$?
  # remove the policy-rc.d we may have created for the apt run (never one that was there before)
  if [ $POLICY_RC_CREATED = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  if [ $rc != 0 ]; then echo "bed-up: FAILED (exit $rc)${FAIL_AT:+ at line $FAIL_AT}" >&2; after_failure; fi; }
die() { echo "bed-up: $*" >&2; exit 1; }
trap on_exit EXIT
trap 'FAIL_AT="$LINENO: $BASH_COMMAND"' ERR   # top-level commands only (not inherited, see above)
[ "$(id -u)" = 0 ] || die "must run as root"

# ---------------------------------------------------------------- leftovers of an earlier bed
if ip netns list 2>/dev/null | awk -v n="$NS" '$1==n{f=1} END{exit !f}' || ip link show mb-host >/dev/null 2>&1; then
  log "a previous bed ($NS) is still up: tearing it down first"
  bash "$HERE/bin/bed-down.sh"
fi
# fresh run dir; only ever wipe a directory that we created (marker file) or an empty one
if [ -d "$RUN" ] && [ -n "$(ls -A "$RUN")" ] && [ ! -e "$RUN/.mailbed-run" ]; then
  die "$RUN exists, is not empty and is not a bed run dir (no .mailbed-run): refusing to wipe it"
fi
rm -rf "$RUN"; mkdir -p "$RUN"; : > "$RUN/.mailbed-run"

# ---------------------------------------------------------------- packages
BASE_PKGS="postfix swaks openssl knot knot-dnsutils unbound bind9-dnsutils iproute2 curl ca-certificates
           python3 bsdutils util-linux"
BASE_BINS="postfix postconf swaks openssl knotd knotc keymgr kdig unbound unbound-checkconf dig curl ip
           script setsid unshare python3"
# runtime libraries of the dpkg -x'ed MTAs (their own .debs are not installed) + m4 for sendmail.cf
EXTRA_PKGS="m4 libgnutls-dane0 libidn12 libevent-2.1-7 liblockfile1 libwrap0 libldap-2.5-0 libsasl2-2"
EXTRA_BINS="m4"
EXTRA_DEBS="exim4-daemon-light exim4-base exim4-config opensmtpd sendmail-bin sendmail-base sendmail-cf"
missing_pkgs() { # pkgs... -> prints the ones not fully installed
  local p st
  for p in "$@"; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [ "${st:0:2}" = ii ] || echo "$p"
  done; }
missing_bins() { local b; for b in "$@"; do command -v "$b" >/dev/null 2>&1 || echo "$b"; done; }
extra_roots_ok() {
  [ -x "$ROOTS/exim/usr/sbin/exim4" ] && [ -x "$ROOTS/opensmtpd/usr/sbin/smtpd" ] &&
  [ -x "$ROOTS/sendmail/usr/libexec/sendmail/sendmail" ] && [ -d "$ROOTS/sendmail/usr/share/sendmail/cf" ]; }
apt_busy() { # another apt/dpkg running, or holding one of the locks (fcntl locks show up in /proc/locks)
  pgrep -x 'apt|apt-get|aptitude|dpkg|unattended-upgr' >/dev/null 2>&1 && return 0
  local f d key
  for f in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock; do
    [ -e "$f" ] || continue
    d=$(stat -c %d "$f")
    key=$(printf '%02x:%02x:%s' $(( (d >> 8) & 0xfff )) $(( (d & 0xff) | ((d >> 12) & 0xfff00) )) "$(stat -c %i "$f")")
    grep -q " $key " /proc/locks && return 0
  done
  return 1; }
wait_apt() {
  local limit=${BED_APT_WAIT:-1800} t=0
  while apt_busy; do
    [ $((t % 30)) = 0 ] && log "another apt/dpkg is running (waited ${t}s; limit ${limit}s)"
    [ $t -ge "$limit" ] && die "apt/dpkg still busy after ${limit}s"
    sleep 2; t=$((t + 2))
  done; }
apt_retry() { # apt-get args...: wait for the lock, retry (another apt may grab it between our check and us)
  local i
  for i in 1 2 3 4 5; do
    wait_apt
    if apt-get -o DPkg::Lock::Timeout=600 "$@" >>"$RUN/apt.log" 2>&1; then return 0; fi
    log "apt-get $1 failed (try $i), see $RUN/apt.log"; sleep 5
  done
  return 1; }

if [ $INSTALL = 1 ]; then
  want_pkgs=$BASE_PKGS want_bins=$BASE_BINS
  if [ $EXTRA = 1 ]; then want_pkgs="$want_pkgs $EXTRA_PKGS" want_bins="$want_bins $EXTRA_BINS"; fi
  # shellcheck disable=SC2086
  todo=$(missing_pkgs $want_pkgs; missing_bins $want_bins)
  need_debs=0; if [ $EXTRA = 1 ] && ! extra_roots_ok; then need_debs=1; fi
  if [ -z "$todo" ] && [ $need_debs = 0 ]; then
    log "packages: all present, skipping apt"
  else
    what=$(printf '%s\n' $todo | awk '!seen[$0]++' | tr '\n' ' '); if [ $need_debs = 1 ]; then what="$what extra-MTA-debs"; fi
    log "installing packages (missing: $what)"
    export DEBIAN_FRONTEND=noninteractive
    # no daemon may be started by a postinst (ports 25/53 of the host; systemd machines too)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; POLICY_RC_CREATED=1
    fi
    wait_apt
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt_retry update -qq
    if [ -n "$todo" ]; then
      # shellcheck disable=SC2086
      apt_retry install -y -qq --no-install-recommends $want_pkgs
    fi
    if [ $need_debs = 1 ]; then
      mkdir -p "$DEBS" "$ROOTS"/{exim,opensmtpd,sendmail}
      # shellcheck disable=SC2086
      rm -f "$DEBS"/*.deb
      cd "$DEBS"; apt_retry download -qq $EXTRA_DEBS; cd "$HERE"   # apt-get download saves into the cwd
      for d in exim4-daemon-light exim4-base exim4-config; do dpkg -x "$DEBS"/${d}_*.deb "$ROOTS/exim"; done
      dpkg -x "$DEBS"/opensmtpd_*.deb "$ROOTS/opensmtpd"
      for d in sendmail-bin sendmail-base sendmail-cf; do dpkg -x "$DEBS"/${d}_*.deb "$ROOTS/sendmail"; done
    fi
    if [ $POLICY_RC_CREATED = 1 ]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
    log "packages installed"
  fi
fi
# shellcheck disable=SC2086
miss=$(missing_bins $BASE_BINS); if [ $EXTRA = 1 ]; then miss="$miss $(missing_bins $EXTRA_BINS)"; fi
[ -z "${miss// /}" ] || die "missing programs: $(echo $miss) -- run bed-up.sh --install"
[ -f /etc/postfix/master.cf.proto ] || die "/etc/postfix/master.cf.proto missing -- run bed-up.sh --install"
if [ $EXTRA = 1 ]; then
  extra_roots_ok || die "extra MTAs not unpacked under $ROOTS -- run bed-up.sh --install --extra-mtas"
  for u in Debian-exim opensmtpd opensmtpq; do   # compiled-in user names of the unpacked MTAs
    id "$u" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
  done
fi
# Debian's python (the shims of a pyenv in PATH may depend on the caller's environment)
PY=${BED_PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 )}

# ---------------------------------------------------------------- namespace
# refuse to shadow any route the host already has
if ip route show | grep -q "^$N\."; then die "$N.0/24 already routed on the host (not by us): refusing"; fi
log "netns $NS + veth"
STARTED=1
mkdir -p /etc/netns/"$NS"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' $RESOLVER > /etc/netns/"$NS"/resolv.conf
cat > /etc/netns/"$NS"/hosts <<EOF
127.0.0.1 localhost
127.0.1.1 $(hostname).example.test $(hostname)
$SENDMAIL sendmail.example.test
::1 localhost
EOF
ip netns add "$NS"
ip -n "$NS" link set lo up
ip link add mb-host type veth peer name mb-ns
ip link set mb-ns netns "$NS"
ip addr add $HOSTIP/24 dev mb-host; ip link set mb-host up
for a in $NSIP $RESOLVER $PF_HARD $PF_WEAK $EXIM $OSMTPD $SENDMAIL $PF_EXPIRED $PF_CERTNAME $MTASTS $NOMAIL $WORKER; do ip -n "$NS" addr add $a/24 dev mb-ns; done
ip -n "$NS" link set mb-ns up
ip route get $PF_HARD | grep -q 'dev mb-host' || die "route to $PF_HARD not via veth"
[ -z "$(ip -n "$NS" route show default)" ] || die "netns $NS unexpectedly has a default route"

# ---------------------------------------------------------------- PKI
log "PKI"
P=$RUN/pki; mkdir -p "$P"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=Mail Testbed CA" \
  -keyout "$P/ca.key" -out "$P/ca.crt" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf() { # name SANs
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.csr" 2>/dev/null
  openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 825 -out "$P/$1.crt" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$2") 2>/dev/null
  cat "$P/$1.crt" "$P/ca.crt" > "$P/$1.chain.crt"; }
leaf mail.example.test "DNS:mail.example.test,DNS:exim.example.test,DNS:opensmtpd.example.test,DNS:sendmail.example.test"
# one certificate for every policy host of the bed (stsbadcert is left out on purpose: its TLS must fail)
leaf mta-sts.example.test "DNS:mta-sts.example.test,DNS:mta-sts.stsmismatch.example.test,DNS:mta-sts.ststesting.example.test,DNS:mta-sts.stsredirect.example.test,DNS:mta-sts.stsctype.example.test,DNS:mta-sts.stssyntax.example.test"
leaf doh.test "DNS:doh.test,IP:$RESOLVER"
# an expired cert (issued by the test CA; OpenSSL 3.0 'req' has no -not_before, so use 'openssl ca')
( cd "$P" && printf '[ca]\ndefault_ca=tb\n[tb]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=pol\ncopy_extensions=copy\n[pol]\ncommonName=supplied\n' > ca.cnf
  : > index.txt; echo 01 > serial
  openssl req -newkey rsa:2048 -nodes -subj "/CN=mail.weak.test" -addext "subjectAltName=DNS:mail.weak.test" -keyout expired.key -out expired.csr 2>/dev/null
  openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr -out expired.crt -notext \
    -startdate 20200101000000Z -enddate 20200102000000Z >/dev/null 2>&1
  # tls.cert_expiry: the right name (mail-expired.example.test), the bed's CA, expired since 2021
  openssl req -newkey rsa:2048 -nodes -subj "/CN=mail-expired.example.test" -addext "subjectAltName=DNS:mail-expired.example.test" \
    -addext "extendedKeyUsage=serverAuth" -keyout mail-expired.example.test.key -out mail-expired.example.test.csr 2>/dev/null
  openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in mail-expired.example.test.csr -out mail-expired.example.test.crt \
    -notext -startdate 20200101000000Z -enddate 20210101000000Z >/dev/null 2>&1
  cat mail-expired.example.test.crt ca.crt > mail-expired.example.test.chain.crt )
# tls.cert_name: valid and issued by the bed's CA, but for a name that is not the MX's (mail-certname.example.test)
leaf mail.wrong-name.test "DNS:mail.wrong-name.test"
TLSA=$(openssl x509 -in "$P/mail.example.test.crt" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n')
openssl genrsa -out "$P/dkim-sel1.key" 2048 2>/dev/null
DKIMP=$(openssl rsa -in "$P/dkim-sel1.key" -pubout -outform DER 2>/dev/null | base64 -w0)
DKIMTXT=$(echo "v=DKIM1; k=rsa; p=$DKIMP" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' ')
# a 1024-bit key left in testing mode (dkim.key_weak, dkim.testing)
openssl genrsa -out "$P/dkim-weak.key" 1024 2>/dev/null
DKIMWEAKP=$(openssl rsa -in "$P/dkim-weak.key" -pubout -outform DER 2>/dev/null | base64 -w0)
DKIMWEAKTXT=$(echo "v=DKIM1; k=rsa; t=y; p=$DKIMWEAKP" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' ')

# ---------------------------------------------------------------- authoritative DNS (Knot)
log "knot"
K=$RUN/knot; mkdir -p "$K"/{zones,db,run}
# example.test: DNSSEC-signed, everything configured the strict way
cat > "$K/zones/example.test.zone" <<EOF
\$ORIGIN example.test.
\$TTL 300
@        SOA  ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@        NS   ns1.example.test.
ns1      A    $NSIP
@        MX   10 mail.example.test.
mail     A    $PF_HARD
exim     A    $EXIM
opensmtpd A   $OSMTPD
sendmail A    $SENDMAIL
mta-sts  A    $MTASTS
mail-expired  A $PF_EXPIRED
mail-certname A $PF_CERTNAME
@        TXT  "v=spf1 mx -all"
_dmarc   TXT  "v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s; rua=mailto:dmarc-reports@example.test"
sel1._domainkey TXT ( $DKIMTXT )
_mta-sts TXT  "v=STSv1; id=20240101T000000Z;"
_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"
_25._tcp.mail TLSA 3 1 1 $TLSA
_25._tcp.mail TLSA 3 1 1 $(printf '%064d' 0)
default._bimi TXT "v=BIMI1; l=https://example.test/logo.svg;"
; ---- one failing domain per domain-audit rule (passing: example.test itself); see tests/testbed/README.md
; spf.lookup_limit: 11 DNS-querying terms
lookups11 MX 10 mail.example.test.
lookups11 TXT "v=spf1 include:i1.lookups11.example.test include:i2.lookups11.example.test include:i3.lookups11.example.test include:i4.lookups11.example.test include:i5.lookups11.example.test include:i6.lookups11.example.test" " include:i7.lookups11.example.test include:i8.lookups11.example.test include:i9.lookups11.example.test include:i10.lookups11.example.test include:i11.lookups11.example.test -all"
$(for i in $(seq 11); do echo "i$i.lookups11 TXT \"v=spf1 -all\""; done)
; dmarc.rua: reports to a foreign domain that did not authorise them / one that did
extrua MX 10 mail.example.test.
extrua TXT "v=spf1 mx -all"
_dmarc.extrua TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.weak.test"
authrua MX 10 mail.example.test.
authrua TXT "v=spf1 mx -all"
_dmarc.authrua TXT "v=DMARC1; p=reject; rua=mailto:agg@weak.test"
; dmarc.syntax: two records
dmarc2 MX 10 mail.example.test.
_dmarc.dmarc2 TXT "v=DMARC1; p=reject"
_dmarc.dmarc2 TXT "v=DMARC1; p=none"
; dkim.key_weak + dkim.testing (1024-bit key, t=y) and dkim.revoked (empty p=) at common selectors
weakdkim MX 10 mail.example.test.
default._domainkey.weakdkim TXT ( $DKIMWEAKTXT )
mail._domainkey.weakdkim TXT "v=DKIM1; k=rsa; p="
; mtasts.mx_coverage: the policy does not list the MX
stsmismatch MX 10 mail.example.test.
_mta-sts.stsmismatch TXT "v=STSv1; id=1;"
mta-sts.stsmismatch A $MTASTS
; mtasts.mode: testing, max_age under a day
ststesting MX 10 mail.example.test.
_mta-sts.ststesting TXT "v=STSv1; id=1;"
mta-sts.ststesting A $MTASTS
; mtasts.policy: redirect / wrong media type / syntax error / certificate for another name
stsredirect MX 10 mail.example.test.
_mta-sts.stsredirect TXT "v=STSv1; id=1;"
mta-sts.stsredirect A $MTASTS
stsctype MX 10 mail.example.test.
_mta-sts.stsctype TXT "v=STSv1; id=1;"
mta-sts.stsctype A $MTASTS
stssyntax MX 10 mail.example.test.
_mta-sts.stssyntax TXT "v=STSv1; id=1;"
mta-sts.stssyntax A $MTASTS
stsbadcert MX 10 mail.example.test.
_mta-sts.stsbadcert TXT "v=STSv1; id=1;"
mta-sts.stsbadcert A $MTASTS
; mtasts.record / tlsrpt.record / bimi.record malformed
badrecords MX 10 mail.example.test.
_mta-sts.badrecords TXT "v=STSv1; id=not valid!;"
_smtp._tls.badrecords TXT "v=TLSRPTv1; rua=ftp://x.example.test"
default._bimi.badrecords TXT "v=BIMI1; l=http://example.test/logo.svg;"
; dane.tlsa: PKIX usage (1) on port 25 and no rollover pair
danebad MX 10 mx.danebad.example.test.
mx.danebad A $PF_HARD
_25._tcp.mx.danebad TLSA 1 1 1 $TLSA
; SSRF guard (mailaudit serve, the Worker): MX hosts and a policy host at addresses a public service
; must never connect to
ssrf-loop MX 10 mx.ssrf-loop.example.test.
mx.ssrf-loop A 127.0.0.1
_mta-sts.ssrf-loop TXT "v=STSv1; id=1;"
mta-sts.ssrf-loop A 127.0.0.1
ssrf-private MX 10 mx.ssrf-private.example.test.
mx.ssrf-private A 10.0.0.1
ssrf-metadata MX 10 mx.ssrf-metadata.example.test.
mx.ssrf-metadata A 169.254.169.254
ssrf-v6loop MX 10 mx.ssrf-v6loop.example.test.
mx.ssrf-v6loop AAAA ::1
ssrf-mapped MX 10 mx.ssrf-mapped.example.test.
mx.ssrf-mapped AAAA ::ffff:10.0.0.1
ssrf-zero MX 10 mx.ssrf-zero.example.test.
mx.ssrf-zero A 0.0.0.0
; dane.tlsa (with the CLI's probe): signed, well-formed TLSA records that match no certificate the MX serves
danemismatch MX 10 mx.danemismatch.example.test.
mx.danemismatch A $PF_HARD
_25._tcp.mx.danemismatch TLSA 3 1 1 $(printf '%064d' 7)
_25._tcp.mx.danemismatch TLSA 2 1 1 $(printf '%064d' 8)
; tls.cert_expiry: the MX (a hardened Postfix) serves a certificate that expired on 2021-01-01
certexpired MX 10 mail-expired.example.test.
certexpired TXT "v=spf1 mx -all"
; tls.cert_name: the MX serves a valid certificate for mail.wrong-name.test only
certname MX 10 mail-certname.example.test.
certname TXT "v=spf1 mx -all"
; provider.hosted: Microsoft 365
hosted MX 0 hosted-example-test.mail.protection.outlook.com.
hosted TXT "v=spf1 include:spf.protection.outlook.com -all"
EOF
# weak.test: unsigned; two SPF records (one +all) = permerror, DMARC p=none
cat > "$K/zones/weak.test.zone" <<EOF
\$ORIGIN weak.test.
\$TTL 300
@        SOA  ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@        NS   ns1.example.test.
@        MX   10 mail.weak.test.
mail     A    $PF_WEAK
@        TXT  "v=spf1 +all"
@        TXT  "v=spf1 include:a.weak.test include:b.weak.test ~all"
_dmarc   TXT  "v=DMARC1; p=none"
_25._tcp.mail TLSA 3 1 1 $TLSA   ; TLSA in an unsigned zone (dane.tlsa)
authrua.example.test._report._dmarc TXT "v=DMARC1"
EOF
# bogus.test: served unsigned, but the resolver holds a trust anchor for it -> SERVFAIL (bogus) unless CD
cat > "$K/zones/bogus.test.zone" <<EOF
\$ORIGIN bogus.test.
\$TTL 300
@        SOA  ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@        NS   ns1.example.test.
@        MX   10 mail.example.test.
@        TXT  "v=spf1 mx -all"
_dmarc   TXT  "v=DMARC1; p=reject"
EOF
# nomail.test: unsigned; an apex A record and nothing mail-related (no MX, no SPF, no DMARC)
cat > "$K/zones/nomail.test.zone" <<EOF
\$ORIGIN nomail.test.
\$TTL 300
@        SOA  ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@        NS   ns1.example.test.
@        A    $NOMAIL
EOF
cat > "$K/zones/zen.bl.test.zone" <<EOF
\$ORIGIN zen.bl.test.
\$TTL 300
@          SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@          NS  ns1.example.test.
2.0.0.127  A   127.0.0.2          ; RFC 5782 mandatory test entry
2.0.0.127  TXT "RFC 5782 test entry"
26.25.18.198 A 127.0.0.2          ; the weak MTA is listed
26.25.18.198 TXT "listed: weak test MTA"
EOF
# bl.test: real list definitions under a private suffix (mailaudit audit --blocklist-zone-suffix bl.test):
# each list's test entry is listed, the weak MTA is on ZEN (SBL), weak.test is on DBL
cat > "$K/zones/bl.test.zone" <<EOF
\$ORIGIN bl.test.
\$TTL 300
@          SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@          NS  ns1.example.test.
2.0.0.127.zen.spamhaus.org       A   127.0.0.2
26.25.18.198.zen.spamhaus.org    A   127.0.0.2
26.25.18.198.zen.spamhaus.org    TXT "listed: weak test MTA"
dbltest.com.dbl.spamhaus.org     A   127.0.1.2
weak.test.dbl.spamhaus.org       A   127.0.1.2
2.0.0.127.bl.spamcop.net         A   127.0.0.2
2.0.0.127.b.barracudacentral.org A   127.0.0.2
2.0.0.127.bl.mailspike.net       A   127.0.0.2
2.0.0.127.psbl.surriel.com       A   127.0.0.2
test.surbl.org.multi.surbl.org   A   127.0.0.254
EOF
# isp.test: the weak MTA's PTR name points elsewhere (not forward-confirmed, and it looks dynamic)
cat > "$K/zones/isp.test.zone" <<EOF
\$ORIGIN isp.test.
\$TTL 300
@          SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@          NS  ns1.example.test.
dynamic-198-18-25-26 A 198.18.25.126
EOF
# blerr.test: a "list" that refuses every query the way Spamhaus refuses public resolvers
cat > "$K/zones/blerr.test.zone" <<EOF
\$ORIGIN blerr.test.
\$TTL 300
@          SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@          NS  ns1.example.test.
*          A   127.255.255.254
EOF
cat > "$K/zones/25.18.198.in-addr.arpa.zone" <<EOF
\$ORIGIN 25.18.198.in-addr.arpa.
\$TTL 300
@    SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@    NS  ns1.example.test.
2    PTR ns1.example.test.
25   PTR mail.example.test.
26   PTR dynamic-198-18-25-26.isp.test.   ; FCrDNS mismatch on purpose
27   PTR exim.example.test.
28   PTR opensmtpd.example.test.
29   PTR sendmail.example.test.
30   PTR mail-expired.example.test.
31   PTR mail-certname.example.test.
EOF
cat > "$K/knot.conf" <<EOF
server:
    rundir: "$K/run"
    user: knot:knot
    listen: $NSIP@53
    identity: ""
    version: ""
log:
  - target: "$K/knot.log"
    any: info
database:
    storage: "$K/db"
policy:
  - id: bed
    algorithm: ecdsap256sha256
    ksk-lifetime: 0
    zsk-lifetime: 0
    nsec3: off
template:
  - id: default
    storage: "$K/zones"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: all
zone:
  - domain: example.test
    dnssec-signing: on
    dnssec-policy: bed
  - domain: weak.test
  - domain: nomail.test
  - domain: bogus.test
  - domain: zen.bl.test
  - domain: bl.test
  - domain: blerr.test
  - domain: isp.test
  - domain: 25.18.198.in-addr.arpa
EOF
chown -R knot:knot "$K"
knotc -c "$K/knot.conf" conf-check >/dev/null
IN knotd -c "$K/knot.conf" -d
DS=
for _ in $(seq 50); do DS=$(keymgr -c "$K/knot.conf" example.test ds 2>/dev/null | awk '$5==2' || true) && [ -n "$DS" ] && break; sleep 0.2; done
[ -n "$DS" ] || die "no DS from knot"

# ---------------------------------------------------------------- validating resolver + DoH (Unbound)
log "unbound"
U=$RUN/unbound; mkdir -p "$U"
cat > "$U/unbound.conf" <<EOF
server:
    directory: "$U"
    chroot: ""
    username: ""
    pidfile: "$U/unbound.pid"
    use-syslog: no
    logfile: "$U/unbound.log"
    verbosity: 1
    val-log-level: 2
    interface: $RESOLVER@53
    interface: $RESOLVER@443
    https-port: 443
    http-endpoint: "/dns-query"
    tls-service-key: "$P/doh.test.key"
    tls-service-pem: "$P/doh.test.chain.crt"
    access-control: 127.0.0.0/8 allow
    access-control: $N.0/24 allow
    module-config: "validator iterator"
    trust-anchor: "$DS"
    trust-anchor: "bogus.test. DS 4242 13 2 $(printf '%064d' 42)"
    local-zone: "test." nodefault
    local-zone: "18.198.in-addr.arpa." nodefault
    domain-insecure: "weak.test"
    domain-insecure: "nomail.test"
    domain-insecure: "zen.bl.test"
    domain-insecure: "bl.test"
    domain-insecure: "blerr.test"
    domain-insecure: "isp.test"
    domain-insecure: "25.18.198.in-addr.arpa"
    cache-max-ttl: 5
    cache-max-negative-ttl: 1
    qname-minimisation: no
forward-zone:
    name: "."
    forward-addr: $NSIP@53
remote-control:
    control-enable: yes
    control-interface: "$U/unbound.ctl"
EOF
unbound-checkconf "$U/unbound.conf" >/dev/null
IN unbound -c "$U/unbound.conf"

# ---------------------------------------------------------------- Postfix (weak + hardened)
mk_postfix() { # name addr kind myhostname [cert: base name under $P, default mail.example.test; hard only]
  local D=$RUN/$1
  mkdir -p "$D"/etc "$D"/queue "$D"/data
  cp /etc/postfix/master.cf.proto "$D/etc/master.cf"
  cp -r /etc/postfix/postfix-files /etc/postfix/postfix-files.d /etc/postfix/dynamicmaps.cf /etc/postfix/dynamicmaps.cf.d "$D/etc/" 2>/dev/null || true
  cat > "$D/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $D/queue
data_directory = $D/data
meta_directory = $D/etc
syslog_name = postfix-$1
maillog_file_prefixes = $RUN
maillog_file = $D/maillog
myhostname = $4
mydomain = example.test
inet_interfaces = $2
inet_protocols = ipv4
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
default_transport = discard:testbed
relay_transport = discard:testbed
local_transport = discard:testbed
virtual_transport = discard:testbed
mydestination = \$myhostname, example.test, weak.test
alias_maps =
alias_database =
local_recipient_maps = inline:{ alice=x, bob=x, postmaster=x }
biff = no
EOF
  if [ "$3" = weak ]; then cat >> "$D/etc/main.cf" <<EOF
smtpd_banner = \$myhostname ESMTP \$mail_name \$mail_version (Debian/GNU)
mynetworks = 0.0.0.0/0
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
disable_vrfy_command = no
smtpd_tls_security_level = none
smtpd_forbid_bare_newline = no
EOF
  else cat >> "$D/etc/main.cf" <<EOF
smtpd_banner = \$myhostname ESMTP
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
disable_vrfy_command = yes
smtpd_tls_security_level = may
smtpd_tls_chain_files = $P/${5:-mail.example.test}.key, $P/${5:-mail.example.test}.chain.crt
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_ciphers = high
smtpd_tls_mandatory_ciphers = high
smtpd_tls_exclude_ciphers = aNULL, eNULL, MD5, RC4, 3DES
tls_preempt_cipherlist = yes
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_forbid_bare_newline = reject
smtpd_forbid_bare_newline_exclusions =
smtpd_forbid_unauth_pipelining = yes
EOF
  fi
  postconf -c "$D/etc" -F '*/*/chroot = n'
  postconf -c "$D/etc" -M# smtp/inet
  postconf -c "$D/etc" -M "$2:25/inet=$2:25 inet n - n - - smtpd"
  # Submission (smtp.submission): the hardened server requires TLS on 587 and speaks implicit
  # TLS on 465; the weak one offers 587 without STARTTLS (its smtpd has TLS off).
  if [ "$3" = weak ]; then
    postconf -c "$D/etc" -M "$2:587/inet=$2:587 inet n - n - - smtpd"
  else
    postconf -c "$D/etc" -M "$2:587/inet=$2:587 inet n - n - - smtpd -o smtpd_tls_security_level=encrypt"
    postconf -c "$D/etc" -M "$2:465/inet=$2:465 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes"
  fi
  # postfix re-reads a main.cf modified within the current second until it is 'stable' (~2 s of sleeps
  # per command): backdate the freshly written config
  touch -d '-1 min' "$D/etc/main.cf" "$D/etc/master.cf"
  IN postfix -c "$D/etc" set-permissions >/dev/null 2>&1 || true
  IN script -qec "postfix -c $D/etc check" /dev/null   # fatal errors reach stderr only on a tty
  chown postfix "$D/data"
  IN script -qec "postfix -c $D/etc start" /dev/null >/dev/null
}
log "postfix"
mk_postfix pf-hard $PF_HARD hard mail.example.test
mk_postfix pf-weak $PF_WEAK weak mail.weak.test
mk_postfix pf-expired $PF_EXPIRED hard mail-expired.example.test mail-expired.example.test
mk_postfix pf-certname $PF_CERTNAME hard mail-certname.example.test mail.wrong-name.test

# ---------------------------------------------------------------- MTA-STS policy over HTTPS
log "mta-sts https"
W=$RUN/mta-sts/www
for h in example.test stsmismatch.example.test ststesting.example.test stsredirect.example.test \
         stsctype.example.test stssyntax.example.test stsbadcert.example.test; do mkdir -p "$W/mta-sts.$h"; done
printf 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\nmax_age: 86400\r\n' > "$W/mta-sts.example.test/mta-sts.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx.other.test\nmax_age: 604800\n' > "$W/mta-sts.stsmismatch.example.test/mta-sts.txt"
printf 'version: STSv1\nmode: testing\nmx: mail.example.test\nmax_age: 3600\n' > "$W/mta-sts.ststesting.example.test/mta-sts.txt"
cp "$W/mta-sts.example.test/mta-sts.txt" "$W/mta-sts.stsredirect.example.test/"
echo https://mta-sts.example.test/.well-known/mta-sts.txt > "$W/mta-sts.stsredirect.example.test/redirect"
cp "$W/mta-sts.example.test/mta-sts.txt" "$W/mta-sts.stsctype.example.test/"
echo text/html > "$W/mta-sts.stsctype.example.test/content-type"
printf 'version: STSv1\nmode: enforce\nmax_age: 86400\n' > "$W/mta-sts.stssyntax.example.test/mta-sts.txt"
cp "$W/mta-sts.example.test/mta-sts.txt" "$W/mta-sts.stsbadcert.example.test/"
# (background job: exec, so no copy of this shell lingers outside the netns; no traps in it either)
( trap - ERR EXIT; exec ip netns exec "$NS" setsid "$PY" "$HERE/bin/mta_sts_server.py" $MTASTS 443 "$RUN/mta-sts/www" \
   "$P/mta-sts.example.test.chain.crt" "$P/mta-sts.example.test.key" >"$RUN/mta-sts/server.log" 2>&1 < /dev/null ) &

# ---------------------------------------------------------------- DoH over HTTP/1.1 (for workerd)
# Unbound's DoH is HTTP/2-only; workerd's fetch() speaks HTTP/1.1. This front forwards to Unbound.
log "doh/1.1 front"
( trap - ERR EXIT; exec ip netns exec "$NS" setsid "$PY" "$HERE/bin/doh11_server.py" $RESOLVER 8443 $RESOLVER \
   "$P/doh.test.chain.crt" "$P/doh.test.key" >"$RUN/doh11.log" 2>&1 < /dev/null ) &

# ---------------------------------------------------------------- other MTAs (dpkg -x'ed, only with --extra-mtas)
if [ $EXTRA = 1 ]; then
  log "exim"
  E=$RUN/exim; mkdir -p "$E"/{spool,log,tls}
  cp "$P/mail.example.test.chain.crt" "$P/mail.example.test.key" "$E/tls/"
  cat > "$E/exim.conf" <<EOF
keep_environment =
primary_hostname = exim.example.test
daemon_smtp_ports = 25
local_interfaces = $EXIM
spool_directory = $E/spool
log_file_path = $E/log/%slog
pid_file_path = $E/exim.pid
host_lookup =
rfc1413_hosts =
domainlist local_domains = example.test : exim.example.test
smtp_banner = \$smtp_active_hostname ESMTP Exim \$version_number \$tod_full
tls_advertise_hosts = *
tls_certificate = $E/tls/mail.example.test.chain.crt
tls_privatekey = $E/tls/mail.example.test.key
tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2
acl_smtp_rcpt = acl_rcpt
acl_smtp_vrfy = accept
acl_smtp_expn = accept
begin acl
acl_rcpt:
  accept domains = +local_domains
  deny   message = relay not permitted
begin routers
blackhole:
  driver = redirect
  allow_defer
  data = :blackhole:
begin transports
EOF
  chown -R Debian-exim:Debian-exim "$E"/spool "$E"/log "$E"/tls   # exim.conf itself must stay root-owned
  IN "$ROOTS/exim/usr/sbin/exim4" -C "$E/exim.conf" -bd

  log "sendmail"
  S=$RUN/sendmail; SMCF=$ROOTS/sendmail/usr/share/sendmail/cf; SMB=$ROOTS/sendmail/usr/libexec/sendmail
  mkdir -p "$S"/{mqueue,tls}; chmod 700 "$S/mqueue"
  cp "$P/mail.example.test.crt" "$P/mail.example.test.key" "$P/ca.crt" "$S/tls/"; chmod 600 "$S/tls/"*.key
  # DNS inside the netns is the bed's own resolver, so sendmail may use it
  printf 'hosts files dns\naliases files\n' > "$S/service.switch"
  printf 'postmaster: root\nalice: root\n' > "$S/aliases"
  printf 'example.test\nsendmail.example.test\n' > "$S/local-host-names"
  : > "$S/access"
  cat > "$S/sendmail.mc" <<EOF
divert(0)dnl
VERSIONID(\`bed')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`sendmail.example.test')dnl
define(\`confSERVICE_SWITCH_FILE', \`$S/service.switch')dnl
define(\`QUEUE_DIR', \`$S/mqueue')dnl
define(\`ALIAS_FILE', \`$S/aliases')dnl
define(\`STATUS_FILE', \`$S/statistics')dnl
define(\`confPID_FILE', \`$S/sendmail.pid')dnl
define(\`confCW_FILE', \`$S/local-host-names')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confSMTP_LOGIN_MSG', \`\$j Sendmail \$v/\$Z; \$b')dnl
define(\`confPRIVACY_FLAGS', \`authwarnings')dnl
define(\`confDONT_BLAME_SENDMAIL', \`MapInUnsafeDirPath,WriteMapToHardLink,WriteMapToSymLink,NonRootSafeAddr,GroupWritableDirPathSafe,TrustStickyBit')dnl
define(\`confSERVER_CERT', \`$S/tls/mail.example.test.crt')dnl
define(\`confSERVER_KEY', \`$S/tls/mail.example.test.key')dnl
define(\`confCACERT', \`$S/tls/ca.crt')dnl
define(\`confCACERT_PATH', \`$S/tls')dnl
define(\`confSERVER_SSL_OPTIONS', \`+SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`use_cw_file')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $S/access')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA-v4, Port=25, Addr=$SENDMAIL')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
  m4 -D_CF_DIR_="$SMCF/" "$SMCF/m4/cf.m4" "$S/sendmail.mc" > "$S/sendmail.cf"
  "$SMB/makemap" -C "$S/sendmail.cf" hash "$S/access" < "$S/access"
  IN "$SMB/sendmail" -C "$S/sendmail.cf" -bi >/dev/null
  IN "$SMB/sendmail" -C "$S/sendmail.cf" -bd

  log "opensmtpd"
  O=$RUN/opensmtpd; mkdir -p "$O"/{tls,spool,run}; chmod 711 "$O/spool"
  cp "$P/mail.example.test.chain.crt" "$P/mail.example.test.key" "$O/tls/"; chmod 600 "$O/tls/"*.key
  cat > "$O/smtpd.conf" <<EOF
pki opensmtpd.example.test cert "$O/tls/mail.example.test.chain.crt"
pki opensmtpd.example.test key  "$O/tls/mail.example.test.key"
listen on $OSMTPD port 25 tls pki opensmtpd.example.test hostname opensmtpd.example.test
table sinkmap { "@" = "nobody" }
action "sink" mda "/bin/sh -c 'cat >/dev/null'" virtual <sinkmap>
match from any for domain "example.test" action "sink"
EOF
  # private mount namespace: compiled-in /var/spool/smtpd, /var/lib/opensmtpd/empty, /usr/libexec/opensmtpd
  ( trap - ERR EXIT; exec ip netns exec "$NS" setsid unshare --mount --propagation private bash -c "
    mount -t tmpfs tmpfs /var/spool && mkdir -p /var/spool/smtpd && mount --bind $O/spool /var/spool/smtpd
    mount -t tmpfs tmpfs /var/lib && mkdir -p /var/lib/opensmtpd/empty
    mount -t tmpfs tmpfs /usr/libexec && mkdir -p /usr/libexec/opensmtpd && mount --bind $ROOTS/opensmtpd/usr/libexec/opensmtpd /usr/libexec/opensmtpd
    mount --bind $O/run /var/run
    exec $ROOTS/opensmtpd/usr/sbin/smtpd -d -f $O/smtpd.conf" > "$O/smtpd.log" 2>&1 < /dev/null ) &
fi

# ---------------------------------------------------------------- readiness + env file
log "waiting for listeners"
wait_tcp $NSIP 53; wait_tcp $RESOLVER 53; wait_tcp $RESOLVER 443; wait_tcp $PF_HARD 25; wait_tcp $PF_WEAK 25; wait_tcp $PF_EXPIRED 25; wait_tcp $PF_CERTNAME 25; wait_tcp $MTASTS 443; wait_tcp $RESOLVER 8443
if [ $EXTRA = 1 ]; then wait_tcp $EXIM 25; wait_tcp $SENDMAIL 25; wait_tcp $OSMTPD 25; fi
# the signed zone must validate through the resolver before tests start (bounded: 50 x 0.2 s)
ok=0
for _ in $(seq 50); do
  if IN dig +dnssec +time=1 +tries=1 @$RESOLVER example.test SOA 2>/dev/null | grep -qE '^;; flags:.* ad[ ;]'; then ok=1; break; fi
  sleep 0.2
done
[ $ok = 1 ] || die "resolver does not validate example.test (no AD bit)"
cat > "$RUN/bed.env.tmp" <<EOF
BED_NS=$NS
BED_RUN=$RUN
BED_CA=$P/ca.crt
BED_RESOLVER=$RESOLVER
BED_AUTH_NS=$NSIP
BED_DOH_URL=https://$RESOLVER/dns-query
BED_DOH11_URL=https://$RESOLVER:8443/dns-query
BED_DS="$DS"
BED_MX_HARD=$PF_HARD
BED_MX_WEAK=$PF_WEAK
BED_MX_EXIM=$EXIM
BED_MX_OPENSMTPD=$OSMTPD
BED_MX_SENDMAIL=$SENDMAIL
BED_MX_CERTEXPIRED=$PF_EXPIRED
BED_MX_CERTNAME=$PF_CERTNAME
BED_MTASTS=$MTASTS
BED_DKIM_KEY=$P/dkim-sel1.key
BED_HOST_ADDR=$HOSTIP
BED_HOST_IFACE=mb-host
BED_NOMAIL_ADDR=$NOMAIL
BED_WORKER_ADDR=$WORKER
BED_EXTRA_MTAS=$EXTRA
EOF
mv "$RUN/bed.env.tmp" "$RUN/bed.env"    # tests may poll for bed.env: it appears only when complete
log "up: source $RUN/bed.env; run clients with: ip netns exec $NS <cmd>"
