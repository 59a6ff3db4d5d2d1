#!/bin/sh
# Regenerates the certificate fixtures of the tls module's tests (DER).
# Fixed validity dates (openssl ca -startdate/-enddate), so the tests can
# pass in a time and know what to expect. Needs OpenSSL >= 1.1.1.
#   root.der        test root CA (self-signed, P-256), 2022-01-01 .. 2045-01-01
#   int.der         intermediate CA signed by root, 2023-01-01 .. 2035-01-01
#   leaf.der        mail.example.org, P-256, SHA-256, 2026-01-01 .. 2027-01-01, by int
#   leaf.key.der    its key (PKCS#8), for the in-memory handshake test
#   expired.der     mail.example.org, 2024-01-01 .. 2025-01-01, by int
#   wrongname.der   other.example.net only, by int
#   selfsigned.der  mail.example.org, self-signed (RSA 2048), 2026-01-01 .. 2027-01-01
#   rsa1024.der     mail.example.org, RSA 1024, by int
#   sha1.der        mail.example.org, signed with SHA-1, by int
#   wildcard.der    *.example.org, by int
#   cnonly.der      CN=mail.example.org and no subjectAltName, by int
# A chain with a missing intermediate is leaf.der sent without int.der.
set -eu
cd "$(dirname "$0")"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat > "$T/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
dir = $T
database = $T/index
new_certs_dir = $T
serial = $T/serial
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[p]
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = caIssuers;URI:http://ca.example.org/int.der
subjectAltName = \$ENV::SAN
[ss_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = \$ENV::SAN
[cn_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
CNF
touch "$T/index"; echo 1000 > "$T/serial"
export SAN=DNS:unused
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # ca KEY CERT CSR OUT EXT START END [MD]
    openssl ca -batch -config "$T/ca.cnf" -keyfile "$1" -cert "$2" -in "$3" -out "$T/out.pem" \
        -extensions "$5" -startdate "$6" -enddate "$7" -md "${8:-sha256}" -notext 2>/dev/null
    openssl x509 -in "$T/out.pem" -outform DER -out "$4"
}
csr() { openssl req -new -key "$1" -subj "$2" -out "$T/req.csr"; }

ec "$T/root.key"
csr "$T/root.key" "/CN=mailaudit Test Root"
openssl ca -batch -config "$T/ca.cnf" -selfsign -keyfile "$T/root.key" -in "$T/req.csr" \
    -out "$T/out.pem" -extensions ca_ext -startdate 20220101000000Z -enddate 20450101000000Z \
    -notext 2>/dev/null
openssl x509 -in "$T/out.pem" -outform DER -out root.der
openssl x509 -in "$T/out.pem" -out "$T/root.pem"
ec "$T/int.key"
csr "$T/int.key" "/CN=mailaudit Test Intermediate"
ca "$T/root.key" "$T/root.pem" "$T/req.csr" int.der ca_ext 20230101000000Z 20350101000000Z
openssl x509 -inform DER -in int.der -out "$T/int.pem"

leaf() { # NAME KEY SUBJECT SAN START END [MD] [EXT]
    SAN=$4 csr "$2" "$3"
    SAN=$4 ca "$T/int.key" "$T/int.pem" "$T/req.csr" "$1" "${8:-leaf_ext}" "$5" "$6" "${7:-sha256}"
}
ec "$T/leaf.key"
openssl pkcs8 -topk8 -nocrypt -in "$T/leaf.key" -outform DER -out leaf.key.der
leaf leaf.der "$T/leaf.key" /CN=mail.example.org DNS:mail.example.org 20260101000000Z 20270101000000Z
leaf expired.der "$T/leaf.key" /CN=mail.example.org DNS:mail.example.org 20240101000000Z 20250101000000Z
leaf wrongname.der "$T/leaf.key" /CN=other.example.net DNS:other.example.net 20260101000000Z 20270101000000Z
leaf wildcard.der "$T/leaf.key" "/CN=*.example.org" "DNS:*.example.org" 20260101000000Z 20270101000000Z
leaf sha1.der "$T/leaf.key" /CN=mail.example.org DNS:mail.example.org 20260101000000Z 20270101000000Z sha1
leaf cnonly.der "$T/leaf.key" /CN=mail.example.org DNS:unused 20260101000000Z 20270101000000Z sha256 cn_ext
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/rsa1024.key" 2>/dev/null
leaf rsa1024.der "$T/rsa1024.key" /CN=mail.example.org DNS:mail.example.org 20260101000000Z 20270101000000Z
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/ss.key" 2>/dev/null
SAN=DNS:mail.example.org csr "$T/ss.key" /CN=mail.example.org
SAN=DNS:mail.example.org openssl ca -batch -config "$T/ca.cnf" -selfsign -keyfile "$T/ss.key" \
    -in "$T/req.csr" -out "$T/out.pem" -extensions ss_ext -startdate 20260101000000Z \
    -enddate 20270101000000Z -notext 2>/dev/null
openssl x509 -in "$T/out.pem" -outform DER -out selfsigned.der
