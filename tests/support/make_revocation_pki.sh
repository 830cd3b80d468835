#!/usr/bin/env bash
# A small PKI for the online revocation tests, made with the openssl CLI (a third party):
#   ca            the CA (cRLSign), its CRLs and OCSP index
#   responder     a delegated OCSP responder issued by the CA (id-kp-OCSPSigning)
#   rogue-ca, rogue-responder   a CA and responder that have nothing to do with `ca`
#   good, revoked (keyCompromise), unknown (not in the index): leaves whose CDP and AIA point at
#   http://127.0.0.1:CRL_PORT/ca.crl and http://127.0.0.1:OCSP_PORT/
#   ca.crl (DER, current), ca.pem.crl (PEM), stale.crl (nextUpdate passed), rogue.crl (another
#   issuer), badsig.crl (a flipped signature byte), ca-idp-ca.crl (an IDP limited to CA certificates),
#   dead (CDP and AIA at 127.0.0.1:1, where nothing listens), ocsp-dead (AIA there, CDP as good's)
#   good.p12, revoked.p12, dead.p12 (password "test", with ca.pem)
#   ca-big.crl (mode `big`, after `cas`: 52,000 entries, larger than Limits::max_input_bytes, 1 MiB)
#   top, mid-good, mid-revoked (revoked in top.crl), leaf-mid-good, leaf-mid-revoked: a path with an
#   intermediate CA, CDPs only (no OCSP), for the chain-wide checks; top.crl, mid-good.crl, mid-revoked.crl
# The responders need only the CAs and the index (fixed serials), so they can start before the
# leaves, whose AIA names the responder's port:
# Usage: make_revocation_pki.sh DIR cas            (everything but the leaves)
#        make_revocation_pki.sh DIR leaves CRL_PORT OCSP_PORT
#        make_revocation_pki.sh DIR big              (ca-big.crl)
set -euo pipefail
d=$1 mode=$2 crlport=${3:-0} ocspport=${4:-0}
mkdir -p "$d"
cd "$d"
o() { openssl "$@" 2>/dev/null; }
key() { o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }

cat > ext.cnf <<CNF
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[responder]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1:$crlport/ca.crl
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$ocspport/
[dead]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1:1/ca.crl
authorityInfoAccess = OCSP;URI:http://127.0.0.1:1/
[ocspdead]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1:$crlport/ca.crl
authorityInfoAccess = OCSP;URI:http://127.0.0.1:1/
CNF

sign() {  # NAME ISSUER SERIAL EXT
  key "$1"
  o req -new -key "$1.key" -subj "/CN=Revocation Test $1" -out "$1.csr"
  o x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$3" -days 20 \
    -extfile ext.cnf -extensions "$4" -out "$1.pem"
  rm -f "$1.csr"
}
if [ "$mode" = big ]; then
  # A CRL past Limits::max_input_bytes (1 MiB), as a CA's full CRL can be: 52,000 entries, none
  # ours (its own mode: it takes a second, and only the size-limit test needs it).
  python3 - <<'PY'
with open("big.index", "w") as f:
    for i in range(52000):
        f.write(f"R\t301231000000Z\t240101000000Z\t{0x100000 + i:06X}\tunknown\t/CN=x{i}\n")
PY
  echo 'unique_subject = no' > big.index.attr
  echo 1000 > big.crlnumber
  sed -e 's/^database = index.txt/database = big.index/' -e 's/^crlnumber = crlnumber/crlnumber = big.crlnumber/' ca.cnf > big.cnf
  o ca -config big.cnf -gencrl -keyfile ca.key -cert ca.pem -crldays 1 -out big.pem.tmp
  o crl -in big.pem.tmp -outform DER -out ca-big.crl
  rm -f big.pem.tmp
  exit 0
fi
if [ "$mode" = leaves ]; then
  sign good ca 256 leaf
  sign revoked ca 257 leaf
  sign unknown ca 258 leaf
  sign dead ca 259 dead
  sign ocsp-dead ca 260 ocspdead
  # PKCS#12 files for the import and check tests (password "test").
  for l in good revoked dead; do
    o pkcs12 -export -inkey "$l.key" -in "$l.pem" -certfile ca.pem -passout pass:test -out "$l.p12"
  done
  cdp="URI:http://127.0.0.1:$crlport"
  cat > ext-mid.cnf <<CNF
[mid]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = $cdp/top.crl
[leaf_good]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
authorityKeyIdentifier = keyid
crlDistributionPoints = $cdp/mid-good.crl
[leaf_revoked]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
authorityKeyIdentifier = keyid
crlDistributionPoints = $cdp/mid-revoked.crl
CNF
  key top
  o req -new -x509 -key top.key -subj "/CN=Revocation Test top" -days 30 -set_serial 1 -config ext.cnf -extensions ca -out top.pem
  sign2() {  # NAME ISSUER SERIAL SECTION
    key "$1"
    o req -new -key "$1.key" -subj "/CN=Revocation Test $1" -out "$1.csr"
    o x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$3" -days 20 -extfile ext-mid.cnf -extensions "$4" -out "$1.pem"
    rm -f "$1.csr"
  }
  sign2 mid-good top 512 mid
  sign2 mid-revoked top 513 mid
  sign2 leaf-mid-good mid-good 1024 leaf_good
  sign2 leaf-mid-revoked mid-revoked 1025 leaf_revoked
  exp=$(date -u -d '+20 days' +%y%m%d%H%M%SZ)
  rev=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
  for c in top mid-good mid-revoked; do
    : > "$c.index"
    echo 'unique_subject = no' > "$c.index.attr"
    echo 1000 > "$c.crlnumber"
    printf '[ca]\ndefault_ca = c\n[c]\ndatabase = %s.index\ncrlnumber = %s.crlnumber\ndefault_md = sha256\ncrl_extensions = x\n[x]\nauthorityKeyIdentifier = keyid\n' "$c" "$c" > "$c.cnf"
  done
  printf 'R\t%s\t%s,cACompromise\t0201\tunknown\t/CN=Revocation Test mid-revoked\n' "$exp" "$rev" > top.index
  for c in top mid-good mid-revoked; do
    o ca -config "$c.cnf" -gencrl -keyfile "$c.key" -cert "$c.pem" -crldays 1 -out "$c.crl.tmp"
    o crl -in "$c.crl.tmp" -outform DER -out "$c.crl"
    rm -f "$c.crl.tmp"
  done
  exit 0
fi

for c in ca rogue-ca; do
  key "$c"
  o req -new -x509 -key "$c.key" -subj "/CN=Revocation Test $c" -days 30 -set_serial 1 \
    -config ext.cnf -extensions ca -out "$c.pem"
done
sign responder ca 16 responder
sign rogue-responder rogue-ca 17 responder

exp=$(date -u -d '+20 days' +%y%m%d%H%M%SZ)
rev=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t0100\tunknown\t/CN=Revocation Test good\n' "$exp" > index.txt
printf 'R\t%s\t%s,keyCompromise\t0101\tunknown\t/CN=Revocation Test revoked\n' "$exp" "$rev" >> index.txt
echo 'unique_subject = no' > index.txt.attr
echo 1000 > crlnumber
cat > ca.cnf <<CNF
[ca]
default_ca = the_ca
[the_ca]
database = index.txt
crlnumber = crlnumber
default_md = sha256
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid
[idp_ca]
authorityKeyIdentifier = keyid
issuingDistributionPoint = critical,@idp
[idp]
onlysomereasons = keyCompromise
CNF
gencrl() {  # OUT KEY CERT LASTUPDATE NEXTUPDATE [EXT]
  o ca -config ca.cnf -gencrl -keyfile "$2.key" -cert "$3.pem" -crl_lastupdate "$4" -crl_nextupdate "$5" \
    ${6:+-crlexts "$6"} -out "$1.pem.tmp"
  o crl -in "$1.pem.tmp" -outform DER -out "$1"
}
now=$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)
next=$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)
gencrl ca.crl ca ca "$now" "$next"
cp ca.crl.pem.tmp ca.pem.crl
gencrl stale.crl ca ca "$(date -u -d '-10 days' +%Y%m%d%H%M%SZ)" "$(date -u -d '-3 days' +%Y%m%d%H%M%SZ)"
gencrl ca-idp-ca.crl ca ca "$now" "$next" idp_ca
# Another CA's CRL: another issuer name and key.
gencrl rogue.crl rogue-ca rogue-ca "$now" "$next"
python3 - <<'PY'
data = bytearray(open("ca.crl", "rb").read())
data[-5] ^= 0x01  # inside the signature value
open("badsig.crl", "wb").write(bytes(data))
PY
rm -f ./*.pem.tmp ./*.csr ./*.old
