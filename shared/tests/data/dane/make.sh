#!/bin/sh
# Regenerates the DANE test certificates and the TLSA data computed from
# them by openssl (an oracle independent of the code under test).
# Run from this directory: sh make.sh. Needs OpenSSL 3.
set -eu
days=36500
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca_ext() {
  printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' > ca.ext
}
leaf_ext() {
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$1" > leaf.ext
}
# name subject issuer-name ext-kind san
sign() {
  name=$1 subj=$2 issuer=$3 kind=$4 san=${5:-}
  key "$name"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  if [ "$kind" = ca ]; then ca_ext; ext=ca.ext; else leaf_ext "$san"; ext=leaf.ext; fi
  if [ "$issuer" = self ]; then
    openssl x509 -req -in "$name.csr" -signkey "$name.key" -days $days -extfile $ext -outform DER -out "$name.der" 2>/dev/null
  else
    openssl x509 -req -in "$name.csr" -CA "$issuer.der" -CAform DER -CAkey "$issuer.key" -CAcreateserial -days $days -extfile $ext -outform DER -out "$name.der" 2>/dev/null
  fi
}
sign root "/O=mailaudit test/CN=Test Root CA" self ca
sign inter "/O=mailaudit test/CN=Test Intermediate CA" root ca
sign leaf "/CN=mx.example.org" inter leaf "DNS:mx.example.org,DNS:mail.example.org"
sign other "/CN=mx.example.org" inter leaf "DNS:mx.example.org"
sign wild "/CN=example.org" inter leaf "DNS:*.example.org"
sign otherca "/O=mailaudit test/CN=Other CA" self ca
sign stranger "/CN=mx.example.org" otherca leaf "DNS:mx.example.org"

spki() { openssl x509 -inform DER -in "$1.der" -pubkey -noout | openssl pkey -pubin -outform DER; }
hex() { od -An -v -tx1 | tr -d ' \n'; }
dgst() { openssl dgst -"$1" -binary | hex; }
{
  echo "# name usage selector matching data (hex), from openssl"
  for c in leaf other wild stranger; do
    echo "$c 3 1 1 $(spki $c | dgst sha256)"
  done
  echo "leaf 3 0 1 $(dgst sha256 < leaf.der)"
  echo "leaf 3 1 2 $(spki leaf | dgst sha512)"
  echo "leaf 3 0 2 $(dgst sha512 < leaf.der)"
  echo "leaf 3 1 0 $(spki leaf | hex)"
  echo "leaf 3 0 0 $(hex < leaf.der)"
  for c in inter root otherca; do
    echo "$c 2 1 1 $(spki $c | dgst sha256)"
    echo "$c 2 0 1 $(dgst sha256 < $c.der)"
  done
  echo "root 2 1 2 $(spki root | dgst sha512)"
} > tlsa.txt
rm -f ./*.key ./*.csr ./*.srl ca.ext leaf.ext
