#!/usr/bin/env bash
# Makes a customer folder for the onboarding end-to-end test with the openssl CLI (a third party):
# N distinct OCES2-like FOCES PKCS#12 files signed by the synthetic PKI's OCES2 production issuing
# CA, with mixed passwords, plus a password map as a service centre would keep it.
#
#   make_onboarding_batch.sh PKI_DIR OUT_DIR [N=50]
#
# PKI_DIR is what tests/data/make_pki.sh made. In OUT_DIR:
#   kunde-NN.p12       N-1 FOCES files (modern: AES-256-CBC, PBKDF2, 2048 iterations; kunde-07 is
#                      -legacy), for CVR 12345674 (odd NN) or 25313763 (even NN), valid from
#                      2024-01-01 to 2025-06-11 + 17*NN days, so a check at 2025-06-01 finds
#                      them at different renewal stages
#   udloebet.p12       expired (a copy of the PKI's odd/foces-expired.p12)
#   passwords.csv      file,password,org,mailbox: every file whose NN is a multiple of 5 has its own
#                      password (pass:Kunde-NN-Pw); kunde-03, kunde-11 and kunde-19 are listed
#                      with a wrong one; kunde-01..04 are mapped to the mailbox sikkerpost@testfirma.dk
#                      (CVR 12345674) or post@filial.dk (25313763); the rest use the default
#                      password Test1234 given on the command line
#   expected.json      per file: the expected outcome, CVR, FID and notAfter
# The serials, names and dates are fixed; the keys are one shared RSA 2048 key (odd/shared.key.pem).
set -euo pipefail
PKI=$(cd "$1" && pwd)
OUT=$2
N=${3:-50}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CA_CERT=$PKI/oces2-prod/ca.crt.pem
CA_KEY=$PKI/oces2-prod/ca.key.pem
KEY=$PKI/odd/shared.key.pem
CHAIN=$PKI/oces2-prod/chain.pem
for f in "$CA_CERT" "$CA_KEY" "$KEY" "$CHAIN" "$PKI/odd/foces-expired.p12"; do
  [[ -f $f ]] || { echo "make_onboarding_batch.sh: missing $f (run make_pki.sh first)" >&2; exit 1; }
done

# openssl ca (not x509 -req): it takes fixed start and end dates and keeps the multi-valued RDN.
mkdir -p "$work/newcerts"
: >"$work/index.txt"
echo 7D0001 >"$work/serial"
cat >"$work/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
database        = $work/index.txt
new_certs_dir   = $work/newcerts
serial          = $work/serial
certificate     = $CA_CERT
private_key     = $CA_KEY
default_md      = sha256
policy          = policy_keep_dn
unique_subject  = no
copy_extensions = none
[ policy_keep_dn ]
countryName = optional
[ req ]
distinguished_name = dn
string_mask = utf8only
[ dn ]
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment, dataEncipherment, keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = 1.2.208.169.1.1.1.4.2
EOF

printf 'file,password,org,mailbox\n' >"$OUT/passwords.csv"
printf '[\n' >"$OUT/expected.json"
for ((i = 1; i < N; i++)); do
  nn=$(printf '%02d' "$i")
  if ((i % 2 == 1)); then cvr=12345674; org="Testfirma A\\/S"; mailbox=sikkerpost@testfirma.dk
  else cvr=25313763; org="Filial ApS"; mailbox=post@filial.dk; fi
  fid=$((30000000 + i))
  not_after=$(date -u -d "2025-06-11 + $((17 * i)) days" +%Y%m%d000000Z)
  subj="/C=DK/O=$org \\/\\/ CVR:$cvr/CN=Sikker post $nn+serialNumber=CVR:$cvr-FID:$fid"
  openssl req -new -config "$work/ca.cnf" -utf8 -key "$KEY" -subj "$subj" -multivalue-rdn -out "$work/$nn.csr"
  openssl ca -config "$work/ca.cnf" -batch -notext -utf8 -preserveDN -in "$work/$nn.csr" -out "$work/$nn.crt" \
    -startdate 20240101000000Z -enddate "$not_after" -extensions leaf 2>/dev/null
  password=Test1234
  if ((i % 5 == 0)); then password="Kunde-$nn-Pw"; fi
  legacy=()
  if ((i == 7)); then legacy=(-legacy); fi
  openssl pkcs12 -export "${legacy[@]}" -inkey "$KEY" -in "$work/$nn.crt" -certfile "$CHAIN" \
    -name "Sikker post $nn" -passout "pass:$password" -out "$OUT/kunde-$nn.p12"

  outcome=imported
  map_password=""
  if ((i == 3 || i == 11 || i == 19)); then map_password="pass:Forkert-$nn"; outcome=bad_password
  elif ((i % 5 == 0)); then map_password="pass:$password"; fi
  map_mailbox=""
  if ((i <= 4)); then map_mailbox=$mailbox; fi
  if [[ -n $map_password || -n $map_mailbox ]]; then
    [[ -n $map_password ]] || map_password="pass:$password"
    printf 'kunde-%s.p12,%s,%s,%s\n' "$nn" "$map_password" "$cvr" "$map_mailbox" >>"$OUT/passwords.csv"
  fi
  na_iso=$(date -u -d "2025-06-11 + $((17 * i)) days" +%Y-%m-%dT00:00:00Z)
  printf '  {"file": "kunde-%s.p12", "outcome": "%s", "cvr": "%s", "fid": "%s", "not_after": "%s", "mailbox": %s, "legacy": %s},\n' \
    "$nn" "$outcome" "$cvr" "$fid" "$na_iso" "$([[ -n $map_mailbox ]] && printf '"%s"' "$map_mailbox" || printf null)" \
    "$([[ $i == 7 ]] && echo true || echo false)" >>"$OUT/expected.json"
done
cp "$PKI/odd/foces-expired.p12" "$OUT/udloebet.p12"
printf '  {"file": "udloebet.p12", "outcome": "refused", "cvr": "12345674", "fid": "61234567", "not_after": "2024-01-01T00:00:00Z", "mailbox": null, "legacy": false}\n]\n' >>"$OUT/expected.json"
