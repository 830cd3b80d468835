#!/usr/bin/env bash
# Certificates that must NOT be accepted as the CRL signer of PKITS "Separate Certificate and CRL
# Keys CA1", made with the openssl CLI for the online revocation tests: each carries the name of CA1
# and the public key (and key identifier) of its real CRL signer, so CA1's CRL verifies with it —
# only the certificate itself is wrong:
#   nocrlsign.pem   issued by the PKITS Trust Anchor (CA1's own issuer), keyUsage without cRLSign
#   other-ca.pem    with cRLSign, but issued by PKITS "Good CA", not by CA1 or CA1's issuer
# Valid for 30 days from now (the tests validate at the current time: the PKITS CAs and CRLs run
# to 2030). The PKITS PKCS#12 files (password "password") hold the issuers' keys.
# Usage: make_pkits_crl_signers.sh DIR PKITS_DIR
set -euo pipefail
d=$1 pkits=$2
mkdir -p "$d"
cd "$d"
o() { openssl "$@" 2>/dev/null; }
signer=$pkits/certs/SeparateCertificateandCRLKeysCRLSigningCert.crt
o x509 -inform DER -in "$signer" -pubkey -noout > signer-pub.pem
ski=$(o x509 -inform DER -in "$signer" -noout -ext subjectKeyIdentifier | sed -n 2p | tr -d ' ')
for issuer in TrustAnchorRootCertificate GoodCACert; do
  o pkcs12 -in "$pkits/pkcs12/$issuer.p12" -passin pass:password -nocerts -nodes -out "$issuer.key"
  o x509 -inform DER -in "$pkits/certs/$issuer.crt" -out "$issuer.pem"
done
cat > ext.cnf <<CNF
[nocrlsign]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = $ski
authorityKeyIdentifier = keyid
[crlsign]
keyUsage = critical,cRLSign
subjectKeyIdentifier = $ski
authorityKeyIdentifier = keyid
CNF
# The request's own key is replaced by the signer's public key (-force_pubkey).
o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out req.key
o req -new -key req.key -subj "/C=US/O=Test Certificates 2011/CN=Separate Certificate and CRL Keys CA1" -out req.csr
make() {  # OUT ISSUER SERIAL SECTION
  o x509 -req -in req.csr -CA "$2.pem" -CAkey "$2.key" -force_pubkey signer-pub.pem -set_serial "$3" -days 30 \
    -extfile ext.cnf -extensions "$4" -out "$1"
}
make nocrlsign.pem TrustAnchorRootCertificate 4096 nocrlsign
make other-ca.pem GoodCACert 4097 crlsign
rm -f ./*.key req.csr
