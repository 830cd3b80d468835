#!/usr/bin/env bash
# Usage: make_binding_data.sh PKI_DIR OUT_DIR
#
# Files the C and Python binding tests need beyond the synthetic PKI (tests/data/make_pki.sh),
# made the same way: by the openssl CLI, never by dpgcert.
#   ca-only.p12   the issuing CA certificate of oces2-prod alone: no private key and no end-entity
#                 certificate (password Test1234, OpenSSL 3's default AES-256/PBKDF2 protection)
#   commands.log  the commands, as run
set -euo pipefail
pki=$1 out=$2
[[ -f "$pki/oces2-prod/ca.crt.pem" ]] || { echo "no synthetic PKI in $pki" >&2; exit 1; }
export OPENSSL_CONF=/dev/null  # as make_pki.sh: nothing from the host's configuration
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
run() {
  echo "$*" >>"$tmp/commands.log"
  "$@"
}
run openssl pkcs12 -export -nokeys -in "$pki/oces2-prod/ca.crt.pem" -passout pass:Test1234 -out "$tmp/ca-only.p12"
rm -rf "$out"
mv "$tmp" "$out"
