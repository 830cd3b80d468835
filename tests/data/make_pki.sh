#!/usr/bin/env bash
# make_pki.sh - generate the synthetic OCES-like test PKI used by dpgcert's tests.
#
#   usage: tests/data/make_pki.sh [OUTDIR]        (default: <folder of this script>/generated)
#
# * Crypto is done with the openssl CLI only (written for OpenSSL 3.0); python3 only writes manifest.json.
# * Nothing depends on today's date: every validity period, CRL time and revocation time is fixed.
#   Tests are meant to validate at 2025-06-01T00:00:00Z (epoch 1748736000).
# * Idempotent: OUTDIR/.complete holds the sha256 of this script; if it matches, the script exits at once.
#   Otherwise the PKI is built in a temporary sibling folder and then replaces OUTDIR.
# * Every openssl command line that is run is appended to OUTDIR/commands.log (relative to OUTDIR).
# * OUTDIR/manifest.json describes every generated file (see tests/data/README.md).
set -euo pipefail
umask 022

script_path="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
script_dir="$(dirname "$script_path")"
script_sha="$(sha256sum "$script_path" | cut -d' ' -f1)"
out_arg="${1:-$script_dir/generated}"
out_arg="${out_arg%/}"
[[ -n $out_arg ]] || { echo "make_pki.sh: refusing to use / as output folder" >&2; exit 1; }
mkdir -p "$(dirname "$out_arg")"
OUT="$(cd "$(dirname "$out_arg")" && pwd)/$(basename "$out_arg")"
MARKER=.dpgcert-pki

stamp_ok() { [[ -f $OUT/.complete && "$(<"$OUT/.complete")" == "$script_sha" ]]; }
if stamp_ok; then exit 0; fi

if [[ -e $OUT ]]; then
    if [[ ! -d $OUT ]] || { [[ -n "$(ls -A "$OUT")" ]] && [[ ! -f $OUT/$MARKER ]]; }; then
        echo "make_pki.sh: refusing to replace $OUT: it is not a folder made by this script" >&2
        exit 1
    fi
fi

t_start=$(date +%s%N)
tmp="$(mktemp -d "$OUT.tmp.XXXXXX")"
chmod 755 "$tmp"
LANE_PIDS=()
cleanup() {
    local p
    for p in "${LANE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
: > "$MARKER"
: > commands.log
mkdir -p _state oces2-prod oces2-test oces3-prod oces3-test odd other
RECORDS=_state/records.txt
: > "$RECORDS"

die() { echo "make_pki.sh: $*" >&2; exit 1; }

# isolate openssl from the host: no system openssl.cnf, no system trust store (the x509 and verify
# commands would otherwise load /etc/ssl/certs on every call, which is slow and not reproducible)
export OPENSSL_CONF=/dev/null SSL_CERT_FILE=/dev/null SSL_CERT_DIR=/nonexistent
echo "# environment: OPENSSL_CONF=/dev/null SSL_CERT_FILE=/dev/null SSL_CERT_DIR=/nonexistent; cwd = the output folder" >> commands.log

# ---------------------------------------------------------------------------------------------
# fixed time plan
# ---------------------------------------------------------------------------------------------
VALIDATION_TIME=2025-06-01T00:00:00Z
VALIDATION_EPOCH=1748736000
ROOT_NB=20200101000000Z;  ROOT_NA=20400101000000Z
CA_NB=20200101000000Z;    CA_NA=20350101000000Z
LEAF_NB=20240101000000Z;  LEAF_NA=20270101000000Z
EXP_NB=20210101000000Z;   EXP_NA=20240101000000Z
NYV_NB=20260101000000Z;   NYV_NA=20290101000000Z
SOON_NB=20220701000000Z;  SOON_NA=20250620000000Z
REVOKED_AT_INDEX=250315000000Z            # openssl ca index.txt format (UTCTime)
REVOKED_AT=2025-03-15T00:00:00Z
CRL_CUR_LAST=20250520000000Z; CRL_CUR_NEXT=20250701000000Z
CRL_OLD_LAST=20250401000000Z; CRL_OLD_NEXT=20250501000000Z
PW=Test1234
PW_UTF8='Sikker-æøå-2024'

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
# q ARGS...: print a shell-quoted command line
q() {
    local a s=""
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then s+="$a "; else s+="'${a//\'/\'\\\'\'}' "; fi
    done
    printf '%s\n' "${s% }"
}
# ossl ARGS...: log and run openssl; its stderr is kept in _state/openssl.err
ossl() {
    q openssl "$@" >> commands.log
    if ! openssl "$@" 2> _state/openssl.err; then
        { echo "make_pki.sh: command failed:"; q openssl "$@"; cat _state/openssl.err; } >&2
        exit 1
    fi
}
# rec KEY=VALUE...: one manifest entry. KEY=v string, KEY:=v JSON literal, KEY@=a,b list of strings.
rec() { local IFS=$'\x1f'; printf '%s\n' "$*" >> "$RECORDS"; }

cvr_valid() {  # modulus 11 with weights 2,7,6,5,4,3,2,1
    local c=$1 w=(2 7 6 5 4 3 2 1) s=0 i
    [[ $c =~ ^[0-9]{8}$ ]] || { echo false; return; }
    for i in 0 1 2 3 4 5 6 7; do s=$(( s + ${c:i:1} * w[i] )); done
    if (( s % 11 == 0 )); then echo true; else echo false; fi
}
[[ $(cvr_valid 12345674) == true && $(cvr_valid 12345678) == false && $(cvr_valid 25313763) == true ]] \
    || die "CVR check digit self-test failed"

# dn ATTR=VALUE ...: build a -subj string; an argument starting with + joins the previous RDN
dn() {
    local a s="" sep t v
    for a in "$@"; do
        sep=/; if [[ $a == +* ]]; then sep=+; a=${a#+}; fi
        t=${a%%=*}; v=${a#*=}
        v=${v//\\/\\\\}; v=${v//\//\\/}; v=${v//+/\\+}
        s+="$sep$t=$v"
    done
    printf '%s' "$s"
}

iso() { local s=$1; s=${s/ /T}; printf '%s' "$s"; }   # "2024-01-01 00:00:00Z" -> RFC 3339

# cert_meta FILE: fill the CM array with manifest fields read back from the certificate (cached per file)
declare -A CM_CACHE
cert_meta() {
    local IFS=$' \t\n'
    if [[ -n ${CM_CACHE[$1]:-} ]]; then IFS=$'\x1f' read -r -a CM <<< "${CM_CACHE[$1]}"; return; fi
    local f=$1 txt one line subj="" iss="" serial="" nb="" na="" fp="" bits="" sig="" hash="" pols="" p order=""
    txt=$(ossl x509 -in "$f" -noout -nameopt RFC2253,-esc_msb -dateopt iso_8601 -subject -issuer -serial \
              -startdate -enddate -fingerprint -sha256 -text -certopt no_sigdump,no_header)
    one=$(ossl x509 -in "$f" -noout -nameopt oneline,-esc_msb -subject -issuer)
    while IFS= read -r line; do
        case $line in
            subject=*) subj=${line#subject=} ;;
            issuer=*) iss=${line#issuer=} ;;
            serial=*) serial=${line#serial=} ;;
            notBefore=*) nb=$(iso "${line#notBefore=}") ;;
            notAfter=*) na=$(iso "${line#notAfter=}") ;;
            *" Fingerprint="*) fp=${line#* Fingerprint=}; fp=${fp//:/}; fp=${fp,,} ;;
            *"Signature Algorithm: "*) if [[ -z $sig ]]; then sig=${line#*Signature Algorithm: }; read -r sig <<< "$sig"; fi ;;
            *"Public-Key: ("*) bits=${line#*Public-Key: (}; bits=${bits%% bit*} ;;
            *"Hash Algorithm: "*) if [[ -z $hash ]]; then hash=${line#*Hash Algorithm: }; read -r hash <<< "$hash"; fi ;;
            *"Policy: "*) p=${line#*Policy: }; read -r p <<< "$p"
                          if [[ $p == "X509v3 Any Policy" ]]; then p=2.5.29.32.0; fi
                          pols+="$p," ;;
        esac
    done <<< "$txt"
    if [[ $sig == rsassaPss ]]; then sig="rsassaPss-$hash"; fi
    local s1 i1
    s1=$(grep '^subject=' <<< "$one"); s1=${s1#subject=}
    i1=$(grep '^issuer=' <<< "$one"); i1=${i1#issuer=}
    if [[ $s1 == *"+ serialNumber = "* ]]; then order=cn_first
    elif [[ $s1 == *"serialNumber = "*" + CN = "* ]]; then order=serialNumber_first
    else order=""; fi
    CM=("subject=$subj" "subject_oneline=$s1" "issuer_subject=$iss" "issuer_subject_oneline=$i1" "serial=$serial"
        "not_before=$nb" "not_after=$na" "sha256=$fp" "key_bits:=${bits:-null}" "sig_alg=$sig" "policies@=${pols%,}")
    if [[ -n $order ]]; then CM+=("mv_rdn_order=$order"); fi
    CM_CACHE[$f]=$(join_us "${CM[@]}")
}
join_us() { local IFS=$'\x1f'; printf '%s' "$*"; }

# --- RSA keys: generated by background lanes (one per core) while the main thread builds certificates ---
keylane() {  # runs in the background: "BITS PATH" lines; each key appears atomically when complete
    local bits path
    while read -r bits path; do
        [[ -n $path ]] || continue
        openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -quiet -out "$path.part" \
            2>> "_state/keygen.$BASHPID.err" || exit 1
        mv "$path.part" "$path"
    done <<< "$1"
}
start_keygen() {  # "BITS NAME"... in order of first use; NAME.key.pem is written
    local nl i best spec bits path
    nl=$(nproc 2>/dev/null || echo 2)
    if (( nl < 2 )); then nl=2; fi
    if (( nl > 4 )); then nl=4; fi
    local -a specs=() cost=()
    for (( i = 0; i < nl; i++ )); do specs[i]=""; cost[i]=0; done
    for spec in "$@"; do
        bits=${spec%% *}; path=${spec#* }.key.pem
        q openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -quiet -out "$path" >> commands.log
        best=0
        for (( i = 1; i < nl; i++ )); do if (( cost[i] < cost[best] )); then best=$i; fi; done
        specs[best]+="$bits $path"$'\n'
        if (( bits > 2048 )); then cost[best]=$(( cost[best] + 5 )); else cost[best]=$(( cost[best] + 1 )); fi
    done
    for (( i = 0; i < nl; i++ )); do keylane "${specs[i]}" & LANE_PIDS+=($!); done
}
lanes_alive() { local p; for p in "${LANE_PIDS[@]}"; do if kill -0 "$p" 2>/dev/null; then return 0; fi; done; return 1; }
need_key() {  # wait until a key file exists
    local n=0
    while [[ ! -f $1 ]]; do
        if ! lanes_alive && [[ ! -f $1 ]]; then cat _state/keygen.*.err >&2 2>/dev/null || true; die "key generation failed ($1)"; fi
        n=$((n + 1)); if (( n > 15000 )); then die "timed out waiting for $1"; fi
        sleep 0.02
    done
}
wait_lanes() { local p; for p in "${LANE_PIDS[@]}"; do wait "$p" || die "key generation failed"; done; }

# --- openssl ca state ---
printf '[ req ]\ndistinguished_name = dn\nstring_mask = utf8only\n[ dn ]\n' > _state/req.cnf
ca_init() {  # STATE CERT KEY FIRST_SERIAL_HEX
    local d="_state/ca-$1"
    mkdir -p "$d/newcerts"; : > "$d/index.txt"; echo "$4" > "$d/serial"; echo 1000 > "$d/crlnumber"
    cat > "$d/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir             = $d
database        = \$dir/index.txt
new_certs_dir   = \$dir/newcerts
serial          = \$dir/serial
crlnumber       = \$dir/crlnumber
certificate     = $2
private_key     = $3
default_md      = sha256
policy          = policy_keep_dn
unique_subject  = no
email_in_dn     = yes
copy_extensions = none
crl_extensions  = crl_ext
[ policy_keep_dn ]
# with -preserveDN the request's subject is copied as is (order and multi-valued RDNs kept)
countryName = optional
[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF
}
# sign STATE SUBJ KEY OUT START END EXTSECTION [extra openssl ca args]  (-selfsign among extras for roots)
sign() {
    local st=$1 subj=$2 key=$3 out=$4 nb=$5 na=$6 sec=$7; shift 7
    need_key "$key"
    ossl req -new -config _state/req.cnf -utf8 -key "$key" -subj "$subj" -out _state/req.csr
    ossl ca -config "_state/ca-$st/ca.cnf" -batch -notext -utf8 -preserveDN -in _state/req.csr -out "$out" \
        -startdate "$nb" -enddate "$na" -extfile _state/ext.cnf -extensions "$sec" "$@"
}

PSS_CA=(-md sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64 -sigopt rsa_mgf1_md:sha512)
PSS_LEAF=(-md sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256)

# ---------------------------------------------------------------------------------------------
# keys (RSA 2048 everywhere except the OCES3 organisation certificates and one size-test leaf)
# ---------------------------------------------------------------------------------------------
# Keys are reused only where it cannot matter: the odd/ name and validity variants share one key
# (odd/shared.key.pem) and odd/voces-rsa3072 reuses the OCES3 test organisation key. Every CA, every
# regular leaf and the revoked leaf have their own key.
declare -A KEY_OF=(
    [oces2-test/moces]=odd/shared.key.pem [oces2-test/poces]=odd/shared.key.pem
    [oces3-test/employee]=odd/shared.key.pem
    [odd/foces-serial-first]=odd/shared.key.pem [odd/voces-utf8]=odd/shared.key.pem
    [odd/voces-no-o]=odd/shared.key.pem [odd/voces-bad-cvr]=odd/shared.key.pem
    [odd/voces-rsa2048]=odd/shared.key.pem [odd/foces-expired]=odd/shared.key.pem
    [odd/foces-not-yet-valid]=odd/shared.key.pem [odd/foces-expiring-soon]=odd/shared.key.pem
    [odd/voces-rsa3072]=oces3-test/organisation.key.pem
)
start_keygen "2048 oces2-prod/root" "2048 oces2-prod/ca" "2048 oces2-test/root" "2048 oces2-test/ca" \
    "2048 oces3-prod/root" "2048 oces3-prod/ca" "2048 oces3-test/root" "2048 oces3-test/ca" "2048 other/root" \
    "2048 oces2-prod/voces" "2048 oces2-prod/foces" "2048 oces2-prod/moces" "2048 oces2-prod/poces" \
    "2048 oces2-test/voces" "2048 oces2-test/foces" "3072 oces3-prod/organisation" "2048 oces3-prod/employee" \
    "3072 oces3-test/organisation" "2048 odd/shared" "2048 odd/foces-revoked" "2048 other/server"

# ---------------------------------------------------------------------------------------------
# extension profiles
# ---------------------------------------------------------------------------------------------
EXT=_state/ext.cnf
: > "$EXT"

# oces2_ext PREFIX ROOT_CN CA_CN ROOT_CRL LEAF_CRL OCSP AIA_HOST_SUFFIX AIA_FILE POLICY_BASE NOTICE_ORG
oces2_ext() {
    local P=$1 rootcn=$2 cacn=$3 rootcrl=$4 leafcrl=$5 ocsp=$6 aiahost=$7 aiafile=$8 pbase=$9 org=${10}
    cat >> "$EXT" <<EOF
[ ${P}_root ]
# SKI before AKI: for a self-signed certificate the AKI is taken from the SKI being added
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
certificatePolicies    = 2.5.29.32.0
crlDistributionPoints  = ${P}_root_cdp_uri, ${P}_root_cdp_dir
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
[ ${P}_ca ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
certificatePolicies    = 2.5.29.32.0
crlDistributionPoints  = ${P}_root_cdp_uri, ${P}_root_cdp_dir
authorityKeyIdentifier = keyid:always
subjectKeyIdentifier   = hash
[ ${P}_root_cdp_uri ]
fullname = URI:$rootcrl
[ ${P}_root_cdp_dir ]
fullname = dirName:${P}_root_crl_dn
[ ${P}_root_crl_dn ]
C    = DK
O    = TRUST2408
OU   = dpgcert synthetic
0.CN = $rootcn
1.CN = CRL1
[ ${P}_leaf_cdp_uri ]
fullname = URI:$leafcrl
[ ${P}_leaf_cdp_dir ]
fullname = dirName:${P}_leaf_crl_dn
[ ${P}_leaf_crl_dn ]
C    = DK
O    = TRUST2408
OU   = dpgcert synthetic
0.CN = $cacn
1.CN = CRL1
EOF
    # leaf profiles: section letter policy-suffix key-usage SAN
    local spec sec letter psfx ku san oid
    for spec in "voces|v|3.4|digitalSignature,keyEncipherment,dataEncipherment,keyAgreement|email:it@testfirma.dk" \
                "voces_nosan|v|3.4|digitalSignature,keyEncipherment,dataEncipherment,keyAgreement|" \
                "foces|f|4.2|digitalSignature,keyEncipherment,dataEncipherment,keyAgreement|email:sikkerpost@testfirma.dk" \
                "foces_nosan|f|4.2|digitalSignature,keyEncipherment,dataEncipherment,keyAgreement|" \
                "moces|m|2.5|digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyAgreement|email:jens.hansen@testfirma.dk" \
                "poces|p|1.5|digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyAgreement|"; do
        IFS='|' read -r sec letter psfx ku san <<< "$spec"
        oid="$pbase.$psfx"
        {
            echo "[ ${P}_$sec ]"
            echo "keyUsage               = critical,$ku"
            echo "authorityInfoAccess    = OCSP;URI:$ocsp,caIssuers;URI:http://$letter.$aiahost/$aiafile"
            echo "certificatePolicies    = ia5org,@${P}_${sec}_pol"
            if [[ -n $san ]]; then echo "subjectAltName         = $san"; fi
            echo "crlDistributionPoints  = ${P}_leaf_cdp_uri, ${P}_leaf_cdp_dir"
            echo "authorityKeyIdentifier = keyid:always"
            echo "subjectKeyIdentifier   = hash"
            echo "basicConstraints       = CA:FALSE"
            echo "[ ${P}_${sec}_pol ]"
            echo "policyIdentifier = $oid"
            echo "CPS.1            = http://www.trust2408.example/repository"
            echo "userNotice.1     = @${P}_${sec}_notice"
            echo "[ ${P}_${sec}_notice ]"
            echo "organization  = $org"
            echo "noticeNumbers = 1"
            echo "explicitText  = \"dpgcert synthetic: certifikater fra denne CA udstedes under OID $oid. Certificates from this CA are issued under OID $oid.\""
        } >> "$EXT"
    done
}
oces2_ext o2p "TRUST2408 OCES Primary CA" "TRUST2408 OCES CA V" \
    http://crl.oces.trust2408.example/oces.crl http://crl.ica05.trust2408.example/ica05.crl \
    http://ocsp.ica05.trust2408.example/responder aia.ica05.trust2408.example ica05-ca.cer 1.2.208.169.1.1.1 TRUST2408
oces2_ext o2t "TRUST2408 Systemtest VII Primary CA" "TRUST2408 Systemtest XIX CA" \
    http://crl.systemtest7.trust2408.example/systemtest7.crl http://crl.systemtest19.trust2408.example/systemtest19.crl \
    http://ocsp.systemtest19.trust2408.example/responder aia.systemtest19.trust2408.example systemtest19-ca.cer \
    1.3.6.1.4.1.31313.2.4.6 DanID

# qcStatements copied from a real OCES3 organisation certificate: id-qcs-pkixQCSyntax-v2 with semantics
# identifier 0.4.0.194121.1.2 (legal person) and name registration authority https://uid.gov.dk
QCS=DER:302D302B06082B06010505070B02301F060704008BEC4901023014861268747470733A2F2F7569642E676F762E646B
oces3_ext() {  # PREFIX HOST
    local P=$1 h=$2
    cat >> "$EXT" <<EOF
[ ${P}_root ]
basicConstraints       = critical,CA:TRUE
authorityInfoAccess    = caIssuers;URI:http://$h/oces/root/cacert/root.cer,OCSP;URI:http://$h/ocsp
crlDistributionPoints  = URI:http://$h/oces/root/crl/root.crl
subjectKeyIdentifier   = hash
keyUsage               = critical,keyCertSign,cRLSign
[ ${P}_ca ]
basicConstraints       = critical,CA:TRUE,pathlen:0
authorityKeyIdentifier = keyid:always
authorityInfoAccess    = caIssuers;URI:http://$h/oces/root/cacert/root.cer,OCSP;URI:http://$h/ocsp
crlDistributionPoints  = URI:http://$h/oces/root/crl/root.crl
subjectKeyIdentifier   = hash
keyUsage               = critical,keyCertSign,cRLSign
[ ${P}_organisation ]
basicConstraints       = critical,CA:FALSE
authorityKeyIdentifier = keyid:always
authorityInfoAccess    = caIssuers;URI:http://$h/oces/issuing/1/cacert/issuing.cer,OCSP;URI:http://$h/ocsp
certificatePolicies    = 0.4.0.2042.1.1, 1.2.208.169.1.1.1.3.7.1
1.3.6.1.5.5.7.1.3      = $QCS
crlDistributionPoints  = URI:http://$h/oces/issuing/1/crl/issuing.crl
subjectKeyIdentifier   = hash
keyUsage               = critical,digitalSignature,keyEncipherment
[ ${P}_employee ]
basicConstraints       = critical,CA:FALSE
authorityKeyIdentifier = keyid:always
authorityInfoAccess    = caIssuers;URI:http://$h/oces/issuing/1/cacert/issuing.cer,OCSP;URI:http://$h/ocsp
certificatePolicies    = 0.4.0.2042.1.1, 1.2.208.169.1.1.1.2.7.1
crlDistributionPoints  = URI:http://$h/oces/issuing/1/crl/issuing.crl
subjectKeyIdentifier   = hash
keyUsage               = critical,digitalSignature,nonRepudiation,keyEncipherment
EOF
}
oces3_ext o3p ca1.gov.example
oces3_ext o3t ca1.cti-gov.example
cat >> "$EXT" <<'EOF'
[ oth_root ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
[ oth_server ]
basicConstraints       = CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:www.someco.example, DNS:someco.example
crlDistributionPoints  = URI:http://pki.dpgcert.example/other-root.crl
authorityKeyIdentifier = keyid:always
subjectKeyIdentifier   = hash
EOF


# ---------------------------------------------------------------------------------------------
# CA hierarchies
# ---------------------------------------------------------------------------------------------
declare -A H_GEN H_ENV H_ROOT H_CA H_CHAIN H_ROOTST H_CAST H_LEAFSIG
# ca_pair HIER GEN ENV ROOT_SUBJ CA_SUBJ PREFIX ROOT_SERIAL CA_SERIAL PSS(yes|no)
ca_pair() {
    local h=$1 gen=$2 env=$3 rsubj=$4 csubj=$5 P=$6 rser=$7 cser=$8 pss=$9
    local sig=() rootst="$h-root" cast="$h-ca"
    [[ $pss == yes ]] && sig=("${PSS_CA[@]}")
    H_GEN[$h]=$gen; H_ENV[$h]=$env; H_ROOT[$h]=$h/root.crt.pem; H_CA[$h]=$h/ca.crt.pem
    H_CHAIN[$h]=$h/chain.pem; H_ROOTST[$h]=$rootst; H_CAST[$h]=$cast; H_LEAFSIG[$h]=$pss
    ca_init "$rootst" "$h/root.crt.pem" "$h/root.key.pem" "$rser"
    ca_init "$cast" "$h/ca.crt.pem" "$h/ca.key.pem" "$cser"
    sign "$rootst" "$rsubj" "$h/root.key.pem" "$h/root.crt.pem" "$ROOT_NB" "$ROOT_NA" "${P}_root" \
        -selfsign -keyfile "$h/root.key.pem" "${sig[@]}"
    sign "$rootst" "$csubj" "$h/ca.key.pem" "$h/ca.crt.pem" "$CA_NB" "$CA_NA" "${P}_ca" "${sig[@]}"
    cat "$h/ca.crt.pem" "$h/root.crt.pem" > "$h/chain.pem"
    ossl x509 -in "$h/root.crt.pem" -outform DER -out "$h/root.crt.der"
    ossl x509 -in "$h/ca.crt.pem" -outform DER -out "$h/ca.crt.der"

    local role f base m
    for role in root ca; do
        cert_meta "$h/$role.crt.pem"
        m=("hierarchy=$h" "generation=$gen" "environment=$env" "type:=null" "cvr:=null" "cvr_valid:=null"
           "revoked:=false" "cert=$h/$role.crt.pem" "key=$h/$role.key.pem")
        if [[ $role == root ]]; then m+=("role=root" "issuer=$h/root.crt.pem"); else m+=("role=issuing" "issuer=$h/root.crt.pem"); fi
        rec "${m[@]}" "${CM[@]}" "path=$h/$role.crt.pem" "kind=cert_pem" "notes=synthetic $role CA (own key; OU=dpgcert synthetic)"
        rec "${m[@]}" "${CM[@]}" "path=$h/$role.crt.der" "kind=cert_der" "notes=DER copy of $h/$role.crt.pem"
        rec "${m[@]}" "${CM[@]}" "path=$h/$role.key.pem" "kind=key_pem" "notes=unencrypted PKCS#8 private key of $h/$role.crt.pem"
    done
    cert_meta "$h/ca.crt.pem"
    rec "hierarchy=$h" "generation=$gen" "environment=$env" "role=chain" "type:=null" "cvr:=null" "cvr_valid:=null" \
        "revoked:=false" "issuer=$h/root.crt.pem" "${CM[@]}" "path=$h/chain.pem" "kind=chain_pem" \
        "chain@=$h/ca.crt.pem,$h/root.crt.pem" "cert_count:=2" "notes=issuing CA then root, PEM; sha256/subject describe the first certificate"
}

ca_pair oces2-prod oces2 production \
    "$(dn C=DK O=TRUST2408 "OU=dpgcert synthetic" "CN=TRUST2408 OCES Primary CA")" \
    "$(dn C=DK O=TRUST2408 "OU=dpgcert synthetic" "CN=TRUST2408 OCES CA V")" o2p 5A000001 5A100001 no
ca_pair oces2-test oces2 test \
    "$(dn C=DK O=TRUST2408 "OU=dpgcert synthetic" "CN=TRUST2408 Systemtest VII Primary CA")" \
    "$(dn C=DK O=TRUST2408 "OU=dpgcert synthetic" "CN=TRUST2408 Systemtest XIX CA")" o2t 5B000001 5B100001 no
# OCES3 CAs: attribute order as in the real certificates (CN first in the DER)
ca_pair oces3-prod oces3 production \
    "$(dn "CN=Den Danske Stat OCES rod-CA" "OU=dpgcert synthetic" "O=Den Danske Stat" C=DK)" \
    "$(dn "CN=Den Danske Stat OCES udstedende-CA 1" "OU=dpgcert synthetic" "O=Den Danske Stat" C=DK)" o3p \
    3D00000000000000000000000000000000000001 3D10000000000000000000000000000000000001 yes
ca_pair oces3-test oces3 test \
    "$(dn "CN=Den Danske Stat OCES rod-CA" "OU=Test - cti" "OU=dpgcert synthetic" "O=Den Danske Stat" C=DK)" \
    "$(dn "CN=Den Danske Stat OCES udstedende-CA 1" "OU=Test - cti" "OU=dpgcert synthetic" "O=Den Danske Stat" C=DK)" o3t \
    3E00000000000000000000000000000000000001 3E10000000000000000000000000000000000001 yes

# unrelated root (no intermediate) for the non-OCES leaf
H_GEN[other]=none; H_ENV[other]=""; H_ROOT[other]=other/root.crt.pem; H_CA[other]=other/root.crt.pem
H_CHAIN[other]=other/root.crt.pem; H_CAST[other]=other-root; H_LEAFSIG[other]=no
ca_init other-root other/root.crt.pem other/root.key.pem 01
sign other-root "$(dn C=DK "O=dpgcert synthetic" "OU=dpgcert synthetic" "CN=dpgcert Other Root")" other/root.key.pem \
    other/root.crt.pem "$ROOT_NB" "$ROOT_NA" oth_root -selfsign -keyfile other/root.key.pem
cert_meta other/root.crt.pem
rec "hierarchy=other" "generation=none" "environment:=null" "role=root" "type:=null" "cvr:=null" "cvr_valid:=null" \
    "revoked:=false" "issuer=other/root.crt.pem" "cert=other/root.crt.pem" "key=other/root.key.pem" "${CM[@]}" \
    "path=other/root.crt.pem" "kind=cert_pem" "notes=unrelated non-OCES root"
rec "hierarchy=other" "generation=none" "environment:=null" "role=root" "type:=null" "cvr:=null" "cvr_valid:=null" \
    "revoked:=false" "issuer=other/root.crt.pem" "cert=other/root.crt.pem" "key=other/root.key.pem" "${CM[@]}" \
    "path=other/root.key.pem" "kind=key_pem" "notes=unencrypted PKCS#8 private key of other/root.crt.pem"

# ---------------------------------------------------------------------------------------------
# leaves
# ---------------------------------------------------------------------------------------------
declare -A L_CRT L_KEY L_HIER L_CN L_META
# leaf NAME HIER EXTSECTION NOT_BEFORE NOT_AFTER FRIENDLY_NAME SUBJ NOTES META...
#   META: type= cvr= id_kind= id= (generation/environment come from the hierarchy)
leaf() {
    local name=$1 h=$2 sec=$3 nb=$4 na=$5 cn=$6 subj=$7 notes=$8; shift 8
    local crt="$name.crt.pem" key="${KEY_OF[$name]:-$name.key.pem}" sig=() m cvr="" a
    [[ ${H_LEAFSIG[$h]} == yes ]] && sig=("${PSS_LEAF[@]}")
    sign "${H_CAST[$h]}" "$subj" "$key" "$crt" "$nb" "$na" "$sec" "${sig[@]}"
    if [[ $key != "$name.key.pem" ]]; then notes+="; key reused from $key (deliberately not unique)"; fi
    for a in "$@"; do if [[ $a == cvr=* ]]; then cvr=${a#cvr=}; fi; done
    m=("hierarchy=$h" "generation=${H_GEN[$h]}" "role=leaf" "revoked:=false" "issuer=${H_CA[$h]}" "cert=$crt" "key=$key")
    if [[ -n ${H_ENV[$h]} ]]; then m+=("environment=${H_ENV[$h]}"); else m+=("environment:=null"); fi
    if [[ -n $cvr ]]; then m+=("cvr_valid:=$(cvr_valid "$cvr")"); else m+=("cvr:=null" "cvr_valid:=null"); fi
    m+=("$@")
    L_CRT[$name]=$crt; L_KEY[$name]=$key; L_HIER[$name]=$h; L_CN[$name]=$cn
    L_META[$name]=$(join_us "${m[@]}")
    cert_meta "$crt"
    rec "${m[@]}" "${CM[@]}" "path=$crt" "kind=cert_pem" "notes=$notes"
    if [[ $key == "$name.key.pem" ]]; then
        rec "${m[@]}" "${CM[@]}" "path=$key" "kind=key_pem" "notes=unencrypted PKCS#8 private key of $crt"
    fi
}
meta_of() { local IFS=$'\x1f'; read -r -a META <<< "${L_META[$1]}"; }

# p12 OUT LEAF PASSWORD VARIANT NOTES   VARIANT: modern | legacy | iter100000 | iter1000
p12() {
    local out=$1 name=$2 pw=$3 variant=$4 notes=$5
    local h=${L_HIER[$name]} args rd=() legacy=false
    args=(pkcs12 -export -in "${L_CRT[$name]}" -inkey "${L_KEY[$name]}" -certfile "${H_CHAIN[$h]}"
          -name "${L_CN[$name]}" -passout "pass:$pw" -out "$out")
    case $variant in
        modern) ;;
        legacy) args+=(-legacy); rd=(-legacy); legacy=true ;;
        iter100000) args+=(-iter 100000 -macalg sha256) ;;
        iter1000) args+=(-iter 1000) ;;
        *) die "unknown p12 variant $variant" ;;
    esac
    ossl "${args[@]}"
    p12_info "$out" "$pw" "${rd[@]}"
    meta_of "$name"
    cert_meta "${L_CRT[$name]}"
    rec "${META[@]}" "${CM[@]}" "path=$out" "kind=pkcs12" "password=$pw" "legacy:=$legacy" "friendly_name=${L_CN[$name]}" \
        "${P12[@]}" "chain@=${L_CRT[$name]},$(tr '\n' ',' <<< "${H_CHAIN_LIST[$h]}")" "key_matches_cert:=true" "notes=$notes"
}
declare -A H_CHAIN_LIST=([oces2-prod]="oces2-prod/ca.crt.pem
oces2-prod/root.crt.pem" [oces2-test]="oces2-test/ca.crt.pem
oces2-test/root.crt.pem" [oces3-prod]="oces3-prod/ca.crt.pem
oces3-prod/root.crt.pem" [oces3-test]="oces3-test/ca.crt.pem
oces3-test/root.crt.pem" [other]="other/root.crt.pem")
# p12_info FILE PASSWORD [-legacy]: open it (proves the password) and fill P12 with its algorithms
p12_info() {
    local f=$1 pw=$2; shift 2
    local line mac="" maciter="" certpbe="" keypbe="" kdfiter="" keyiter="" certprf="" keyprf="" nbags=0 s
    ossl pkcs12 -info -noout -in "$f" -passin "pass:$pw" "$@"
    # lines look like "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256"
    while IFS= read -r line; do
        case $line in
            "MAC: "*) s=${line#MAC: }; mac=${s%%,*}; maciter=${s##*Iteration } ;;
            "PKCS7 Encrypted data: "*)
                s=${line#PKCS7 Encrypted data: }; certpbe=${s%%, Iteration*}
                kdfiter=${s#*Iteration }; kdfiter=${kdfiter%%,*}
                if [[ $s == *", PRF "* ]]; then certprf=${s##*PRF }; fi ;;
            "Shrouded Keybag: "*)
                s=${line#Shrouded Keybag: }; keypbe=${s%%, Iteration*}
                keyiter=${s#*Iteration }; keyiter=${keyiter%%,*}
                if [[ $s == *", PRF "* ]]; then keyprf=${s##*PRF }; fi ;;
            "Certificate bag") nbags=$((nbags + 1)) ;;
        esac
    done < _state/openssl.err
    P12=("p12_mac_alg=$mac" "p12_mac_iter:=${maciter:-null}" "p12_cert_pbe=$certpbe" "p12_key_pbe=$keypbe"
         "p12_kdf_iter:=${kdfiter:-null}" "p12_key_iter:=${keyiter:-null}" "cert_count:=$nbags")
    if [[ -n $certprf ]]; then P12+=("p12_cert_prf=$certprf"); fi     # PBES2 only; null otherwise
    if [[ -n $keyprf ]]; then P12+=("p12_key_prf=$keyprf"); fi
    if [[ -n $kdfiter ]] && (( kdfiter < 2048 )); then P12+=("weak_iterations:=true"); else P12+=("weak_iterations:=false"); fi
}

ORG="Testfirma A/S // CVR:12345674"
L=oces2-prod
leaf oces2-prod/voces $L o2p_voces "$LEAF_NB" "$LEAF_NA" "Testfirma A/S - VOCES" \
    "$(dn C=DK "O=$ORG" "CN=Testfirma A/S - VOCES" +serialNumber=CVR:12345674-UID:1234567890123)" \
    "OCES2 production VOCES (company certificate)" type=voces cvr=12345674 id_kind=uid id=1234567890123
leaf oces2-prod/foces $L o2p_foces "$LEAF_NB" "$LEAF_NA" "sikkerpost" \
    "$(dn C=DK "O=$ORG" CN=sikkerpost +serialNumber=CVR:12345674-FID:94731315)" \
    "OCES2 production FOCES (function certificate), rfc822 SAN sikkerpost@testfirma.dk" type=foces cvr=12345674 id_kind=fid id=94731315
leaf oces2-prod/moces $L o2p_moces "$LEAF_NB" "$LEAF_NA" "Jens Hansen" \
    "$(dn C=DK "O=$ORG" "CN=Jens Hansen" +serialNumber=CVR:12345674-RID:45678901)" \
    "OCES2 production MOCES (employee certificate)" type=moces cvr=12345674 id_kind=rid id=45678901
leaf oces2-prod/poces $L o2p_poces "$LEAF_NB" "$LEAF_NA" "Hanne Jensen" \
    "$(dn C=DK "CN=Hanne Jensen" +serialNumber=PID:9208-2002-2-123456789012)" \
    "OCES2 production POCES (personal certificate), no O" type=poces cvr:=null cvr_valid:=null id_kind=pid id=9208-2002-2-123456789012

L=oces2-test
leaf oces2-test/voces $L o2t_voces "$LEAF_NB" "$LEAF_NA" "Testfirma A/S - TU VOCES" \
    "$(dn C=DK "O=$ORG" "CN=Testfirma A/S - TU VOCES" +serialNumber=CVR:12345674-UID:87654321)" \
    "OCES2 test (Systemtest XIX) VOCES" type=voces cvr=12345674 id_kind=uid id=87654321
leaf oces2-test/foces $L o2t_foces "$LEAF_NB" "$LEAF_NA" "TU sikkerpost" \
    "$(dn C=DK "O=$ORG" "CN=TU sikkerpost" +serialNumber=CVR:12345674-FID:24681357)" \
    "OCES2 test (Systemtest XIX) FOCES, rfc822 SAN sikkerpost@testfirma.dk" type=foces cvr=12345674 id_kind=fid id=24681357
leaf oces2-test/moces $L o2t_moces "$LEAF_NB" "$LEAF_NA" "TU Jens Hansen" \
    "$(dn C=DK "O=$ORG" "CN=TU Jens Hansen" +serialNumber=CVR:12345674-RID:13572468)" \
    "OCES2 test (Systemtest XIX) MOCES (employee certificate)" type=moces cvr=12345674 id_kind=rid id=13572468
leaf oces2-test/poces $L o2t_poces "$LEAF_NB" "$LEAF_NA" "TU Hanne Jensen" \
    "$(dn C=DK "CN=TU Hanne Jensen" +serialNumber=PID:9208-2002-2-210987654321)" \
    "OCES2 test (Systemtest XIX) POCES (personal certificate), no O" type=poces cvr:=null cvr_valid:=null id_kind=pid id=9208-2002-2-210987654321

UUID_O3P=3f6c2a8e-5b1d-4c7e-9a02-6e8d4b1f7c35
UUID_O3E=b2e4d6f8-1a3c-4e5f-8a7b-9c0d1e2f3a4b
UUID_O3T=c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f
UUID_O3TE=d4c3b2a1-6f5e-4d7c-9b8a-1f2e3d4c5b6a
leaf oces3-prod/organisation oces3-prod o3p_organisation "$LEAF_NB" "$LEAF_NA" "dpgcert-Testsystem-Prod" \
    "$(dn CN=dpgcert-Testsystem-Prod serialNumber=UI:DK-O:G:$UUID_O3P "O=Testfirma A/S" organizationIdentifier=NTRDK-12345674 C=DK)" \
    "OCES3 production organisation certificate (RSA 3072, RSASSA-PSS, attribute order as the real ones)" \
    type=organisation cvr=12345674 id_kind=uuid id=$UUID_O3P
leaf oces3-prod/employee oces3-prod o3p_employee "$LEAF_NB" "$LEAF_NA" "Jens Hansen" \
    "$(dn "CN=Jens Hansen" serialNumber=UI:DK-E:G:$UUID_O3E "O=Testfirma A/S" organizationIdentifier=NTRDK-12345674 C=DK)" \
    "OCES3 production employee certificate; no real sample was available: subject modelled on the organisation certificate, policy 1.2.208.169.1.1.1.2.7.1 and key usage are assumptions" \
    type=employee cvr=12345674 id_kind=uuid id=$UUID_O3E
leaf oces3-test/organisation oces3-test o3t_organisation "$LEAF_NB" "$LEAF_NA" "dpgcert-Testsystem-Test" \
    "$(dn CN=dpgcert-Testsystem-Test serialNumber=UI:DK-O:G:$UUID_O3T "O=Testfirma A/S" organizationIdentifier=NTRDK-12345674 C=DK)" \
    "OCES3 test organisation certificate (issuer has OU=Test - cti; same policy OIDs as production)" \
    type=organisation cvr=12345674 id_kind=uuid id=$UUID_O3T
leaf oces3-test/employee oces3-test o3t_employee "$LEAF_NB" "$LEAF_NA" "TU Jens Hansen" \
    "$(dn "CN=TU Jens Hansen" serialNumber=UI:DK-E:G:$UUID_O3TE "O=Testfirma A/S" organizationIdentifier=NTRDK-12345674 C=DK)" \
    "OCES3 test employee certificate (same assumptions as the production one)" \
    type=employee cvr=12345674 id_kind=uuid id=$UUID_O3TE

# odd cases, all issued by the OCES2 production issuing CA
L=oces2-prod
leaf odd/foces-serial-first $L o2p_foces_nosan "$LEAF_NB" "$LEAF_NA" "Testfirma A/S - funktionscertifikat til fakturering" \
    "$(dn C=DK "O=$ORG" "serialNumber=CVR:12345674-FID:51234567" "+CN=Testfirma A/S - funktionscertifikat til fakturering")" \
    "multi-valued RDN with serialNumber before CN: DER sorts SET OF by encoding, so the shorter value comes first; the long CN puts serialNumber first (like real FOCES_gyldig)" \
    type=foces cvr=12345674 id_kind=fid id=51234567
leaf odd/voces-utf8 $L o2p_voces_nosan "$LEAF_NB" "$LEAF_NA" "Ærø Æbleværk ApS - blåbær og æbler" \
    "$(dn C=DK "O=Ærø Æbleværk ApS // CVR:25313763" "CN=Ærø Æbleværk ApS - blåbær og æbler" +serialNumber=CVR:25313763-UID:2531376300001)" \
    "UTF-8 (UTF8String) O and CN with æ ø å Æ; friendly name is UTF-8 too" type=voces cvr=25313763 id_kind=uid id=2531376300001
leaf odd/voces-no-o $L o2p_voces_nosan "$LEAF_NB" "$LEAF_NA" "Testfirma A/S - VOCES uden O" \
    "$(dn C=DK "CN=Testfirma A/S - VOCES uden O" +serialNumber=CVR:12345674-UID:1234567890124)" \
    "VOCES without an O attribute: the CVR is only in serialNumber" type=voces cvr=12345674 id_kind=uid id=1234567890124
leaf odd/voces-bad-cvr $L o2p_voces_nosan "$LEAF_NB" "$LEAF_NA" "Fejlfirma ApS - VOCES" \
    "$(dn C=DK "O=Fejlfirma ApS // CVR:12345678" "CN=Fejlfirma ApS - VOCES" +serialNumber=CVR:12345678-UID:1234567890125)" \
    "CVR 12345678 fails the modulus-11 check (weighted sum 106, 106 mod 11 = 7)" type=voces cvr=12345678 id_kind=uid id=1234567890125
leaf odd/voces-rsa2048 $L o2p_voces_nosan "$LEAF_NB" "$LEAF_NA" "Testfirma A/S - VOCES 2048" \
    "$(dn C=DK "O=$ORG" "CN=Testfirma A/S - VOCES 2048" +serialNumber=CVR:12345674-UID:1234567890126)" \
    "key-size pair: RSA 2048 (twin of odd/voces-rsa3072)" type=voces cvr=12345674 id_kind=uid id=1234567890126
leaf odd/voces-rsa3072 $L o2p_voces_nosan "$LEAF_NB" "$LEAF_NA" "Testfirma A/S - VOCES 3072" \
    "$(dn C=DK "O=$ORG" "CN=Testfirma A/S - VOCES 3072" +serialNumber=CVR:12345674-UID:1234567890127)" \
    "key-size pair: RSA 3072 (twin of odd/voces-rsa2048)" type=voces cvr=12345674 id_kind=uid id=1234567890127
leaf odd/foces-expired $L o2p_foces_nosan "$EXP_NB" "$EXP_NA" "sikkerpost udloebet" \
    "$(dn C=DK "O=$ORG" "CN=sikkerpost udloebet" +serialNumber=CVR:12345674-FID:61234567)" \
    "expired before the test time (2021-01-01 .. 2024-01-01)" type=foces cvr=12345674 id_kind=fid id=61234567
leaf odd/foces-not-yet-valid $L o2p_foces_nosan "$NYV_NB" "$NYV_NA" "sikkerpost fremtidig" \
    "$(dn C=DK "O=$ORG" "CN=sikkerpost fremtidig" +serialNumber=CVR:12345674-FID:71234567)" \
    "not yet valid at the test time (2026-01-01 .. 2029-01-01)" type=foces cvr=12345674 id_kind=fid id=71234567
leaf odd/foces-expiring-soon $L o2p_foces_nosan "$SOON_NB" "$SOON_NA" "sikkerpost snart udloebet" \
    "$(dn C=DK "O=$ORG" "CN=sikkerpost snart udloebet" +serialNumber=CVR:12345674-FID:81234567)" \
    "valid at the test time but expires 2025-06-20, 19 days after it" type=foces cvr=12345674 id_kind=fid id=81234567
leaf odd/foces-revoked $L o2p_foces_nosan "$LEAF_NB" "$LEAF_NA" "sikkerpost spaerret" \
    "$(dn C=DK "O=$ORG" "CN=sikkerpost spaerret" +serialNumber=CVR:12345674-FID:91234567)" \
    "revoked (keyCompromise, $REVOKED_AT); listed in both oces2-prod CRLs" \
    type=foces cvr=12345674 id_kind=fid id=91234567 revoked:=true revocation_time=$REVOKED_AT revocation_reason=keyCompromise

shared_users=""
for n in "${!KEY_OF[@]}"; do if [[ ${KEY_OF[$n]} == odd/shared.key.pem ]]; then shared_users+="$n.crt.pem,"; fi; done
shared_users=$(tr ',' '\n' <<< "${shared_users%,}" | sort | paste -sd, -)
rec "hierarchy=oces2-prod" "generation=oces2" "environment=production" "role=leaf" "type:=null" "cvr:=null" \
    "cvr_valid:=null" "revoked:=false" "issuer=oces2-prod/ca.crt.pem" "key_bits:=2048" "path=odd/shared.key.pem" \
    "kind=key_pem" "key=odd/shared.key.pem" "used_by@=$shared_users" \
    "notes=unencrypted PKCS#8 RSA 2048 key shared by the odd/ leaves in used_by (name and validity variants); sha256 is null because several certificates use it"

leaf other/server other oth_server "$LEAF_NB" "$LEAF_NA" "www.someco.example" \
    "$(dn C=DK "O=Some Co CVR:12345674" CN=www.someco.example)" \
    "non-OCES TLS server certificate from an unrelated root; O contains CVR-like text that must not be read as a CVR; DNS SANs" \
    "type:=null" "id_kind:=null" "id:=null"

# revoke at a fixed time: openssl ca -revoke stamps the current time, so the date in index.txt is rewritten
ossl ca -config _state/ca-oces2-prod-ca/ca.cnf -revoke odd/foces-revoked.crt.pem -crl_reason keyCompromise
revoked_serial=$(ossl x509 -in odd/foces-revoked.crt.pem -noout -serial); revoked_serial=${revoked_serial#serial=}
awk -F'\t' -v OFS='\t' -v s="$revoked_serial" -v d="$REVOKED_AT_INDEX,keyCompromise" \
    '$4 == s && $1 == "R" { $3 = d } { print }' _state/ca-oces2-prod-ca/index.txt > _state/index.new
mv _state/index.new _state/ca-oces2-prod-ca/index.txt
grep -q "$REVOKED_AT_INDEX,keyCompromise" _state/ca-oces2-prod-ca/index.txt || die "could not set the revocation time"

# ---------------------------------------------------------------------------------------------
# PKCS#12
# ---------------------------------------------------------------------------------------------
for n in oces2-prod/voces oces2-prod/foces oces2-prod/moces oces2-prod/poces oces2-test/voces oces2-test/foces \
         oces2-test/moces oces2-test/poces oces3-prod/organisation oces3-prod/employee oces3-test/organisation \
         oces3-test/employee \
         odd/foces-serial-first odd/voces-utf8 odd/voces-no-o odd/voces-bad-cvr odd/voces-rsa2048 odd/voces-rsa3072 \
         odd/foces-expired odd/foces-not-yet-valid odd/foces-expiring-soon odd/foces-revoked other/server; do
    p12 "$n.p12" "$n" "$PW" modern "OpenSSL 3 default: PBES2/PBKDF2/AES-256-CBC, HMAC-SHA256 MAC, 2048 iterations; leaf, issuing CA and root"
done
for n in oces2-prod/voces oces2-prod/foces oces2-test/voces oces2-test/foces; do
    p12 "$n-legacy.p12" "$n" "$PW" legacy "openssl -legacy: RC2-40 certificate bag, 3DES key bag, SHA-1 MAC, 2048 iterations (needs the legacy provider)"
done
p12 oces2-prod/voces-iter100000.p12 oces2-prod/voces "$PW" iter100000 "100000 PBKDF2 and MAC iterations, SHA-256 MAC"
p12 odd/foces-iter1000.p12 oces2-prod/foces "$PW" iter1000 "1000 iterations (below 2048); algorithms otherwise modern"
p12 odd/foces-emptypw.p12 oces2-prod/foces "" modern "empty password (-passout pass:)"
p12 odd/foces-utf8pw.p12 oces2-prod/foces "$PW_UTF8" modern "UTF-8 password (openssl passes the UTF-8 bytes to PBKDF2 and converts to BMPString for the MAC)"

# key that does not match the certificate: openssl refuses -in/-inkey mismatches, but with -nocerts the key
# is exported alone and -certfile adds an unrelated certificate (no localKeyID on either bag)
ossl pkcs12 -export -nocerts -inkey oces2-prod/moces.key.pem -certfile oces2-prod/voces.crt.pem \
    -name "Testfirma A/S - VOCES" -passout "pass:$PW" -out odd/mismatch.p12
p12_info odd/mismatch.p12 "$PW"
meta_of oces2-prod/voces
cert_meta oces2-prod/voces.crt.pem
rec "${META[@]}" "${CM[@]}" "path=odd/mismatch.p12" "kind=pkcs12" "password=$PW" "legacy:=false" \
    "friendly_name=Testfirma A/S - VOCES" "${P12[@]}" "chain@=oces2-prod/voces.crt.pem" "key=oces2-prod/moces.key.pem" \
    "key_matches_cert:=false" \
    "notes=private key of oces2-prod/moces with the certificate of oces2-prod/voces; key bag has friendlyName but no localKeyID, cert bag has no attributes"

# ---------------------------------------------------------------------------------------------
# other encodings
# ---------------------------------------------------------------------------------------------
enc_copy() {  # LEAF OUT KIND NOTES
    local name=$1 out=$2 kind=$3 notes=$4
    meta_of "$name"; cert_meta "${L_CRT[$name]}"
    rec "${META[@]}" "${CM[@]}" "path=$out" "kind=$kind" "notes=$notes"
}
ossl x509 -in oces2-prod/voces.crt.pem -outform DER -out oces2-prod/voces.crt.der
enc_copy oces2-prod/voces oces2-prod/voces.crt.der cert_der "DER copy of oces2-prod/voces.crt.pem"
ossl x509 -in oces3-prod/organisation.crt.pem -outform DER -out oces3-prod/organisation.crt.der
enc_copy oces3-prod/organisation oces3-prod/organisation.crt.der cert_der "DER copy of oces3-prod/organisation.crt.pem"
ossl enc -base64 -A -in oces3-prod/organisation.crt.der -out oces3-prod/organisation.cer
enc_copy oces3-prod/organisation oces3-prod/organisation.cer cert_b64 "bare base64 of the DER, one line, no BEGIN/END lines, no trailing newline"
ossl x509 -in odd/voces-utf8.crt.pem -outform DER -out odd/voces-utf8.crt.der
enc_copy odd/voces-utf8 odd/voces-utf8.crt.der cert_der "DER copy of odd/voces-utf8.crt.pem"
cat oces2-prod/voces.crt.pem oces2-prod/chain.pem > oces2-prod/voces-fullchain.pem
meta_of oces2-prod/voces; cert_meta oces2-prod/voces.crt.pem
rec "${META[@]}" "${CM[@]}" "path=oces2-prod/voces-fullchain.pem" "kind=chain_pem" "cert_count:=3" \
    "chain@=oces2-prod/voces.crt.pem,oces2-prod/ca.crt.pem,oces2-prod/root.crt.pem" "notes=leaf, issuing CA, root in one PEM file"

# ---------------------------------------------------------------------------------------------
# CRLs (one pair per issuing CA; only oces2-prod has a revoked certificate)
# ---------------------------------------------------------------------------------------------
crl_meta() {  # FILE -> CRLM
    local txt line last="" next="" num="" serials=""
    txt=$(ossl crl -in "$1" -noout -dateopt iso_8601 -lastupdate -nextupdate -crlnumber -text)
    while IFS= read -r line; do
        case $line in
            lastUpdate=*) last=$(iso "${line#lastUpdate=}") ;;
            nextUpdate=*) next=$(iso "${line#nextUpdate=}") ;;
            crlNumber=*) num=$(( 16#${line#crlNumber=0x} )) ;;
            *"Serial Number: "*) line=${line#*Serial Number: }; read -r line <<< "$line"; serials+="$line," ;;
        esac
    done <<< "$txt"
    CRLM=("this_update=$last" "next_update=$next" "crl_number:=$num" "revoked_serials@=${serials%,}")
}
for h in oces2-prod oces2-test oces3-prod oces3-test; do
    sig=(); [[ ${H_LEAFSIG[$h]} == yes ]] && sig=("${PSS_LEAF[@]}")
    for which in stale current; do
        if [[ $which == stale ]]; then lu=$CRL_OLD_LAST; nu=$CRL_OLD_NEXT; stale=true
            note="stale CRL: nextUpdate 2025-05-01 is before the test time"
        else lu=$CRL_CUR_LAST; nu=$CRL_CUR_NEXT; stale=false
            note="current CRL at the test time (2025-05-20 .. 2025-07-01)"
        fi
        ossl ca -config "_state/ca-${H_CAST[$h]}/ca.cnf" -gencrl -crl_lastupdate "$lu" -crl_nextupdate "$nu" \
            -out "$h/crl-$which.crl.pem" "${sig[@]}"
        ossl crl -in "$h/crl-$which.crl.pem" -outform DER -out "$h/crl-$which.crl.der"
        crl_meta "$h/crl-$which.crl.pem"
        for kind in crl_pem crl_der; do
            ext=pem; [[ $kind == crl_der ]] && ext=der
            rec "hierarchy=$h" "generation=${H_GEN[$h]}" "environment=${H_ENV[$h]}" "role=crl" "type:=null" \
                "issuer=${H_CA[$h]}" "${CRLM[@]}" "stale:=$stale" "path=$h/crl-$which.crl.$ext" "kind=$kind" "notes=$note"
        done
    done
done

# ---------------------------------------------------------------------------------------------
# self-checks at the test time
# ---------------------------------------------------------------------------------------------
vfy() {  # EXPECT(ok|fail) LEAF [extra verify args]
    local expect=$1 name=$2; shift 2
    local h=${L_HIER[$name]} args
    args=(verify -attime "$VALIDATION_EPOCH" -CAfile "${H_ROOT[$h]}")
    [[ ${H_CA[$h]} != "${H_ROOT[$h]}" ]] && args+=(-untrusted "${H_CA[$h]}")
    args+=("$@" "${L_CRT[$name]}")
    q openssl "${args[@]}" >> commands.log
    if openssl "${args[@]}" > _state/verify.out 2>&1; then
        [[ $expect == ok ]] || die "verify unexpectedly passed: $name $*"
    else
        [[ $expect == fail ]] || { cat _state/verify.out >&2; die "verify failed: $name $*"; }
    fi
}
for n in oces2-prod/voces oces2-prod/foces oces2-prod/moces oces2-prod/poces oces2-test/voces oces2-test/foces \
         oces2-test/moces oces2-test/poces oces3-prod/organisation oces3-prod/employee oces3-test/organisation \
         oces3-test/employee \
         odd/foces-serial-first odd/voces-utf8 odd/voces-no-o odd/voces-bad-cvr odd/voces-rsa2048 odd/voces-rsa3072 \
         odd/foces-expiring-soon odd/foces-revoked other/server; do
    vfy ok "$n"
done
vfy fail odd/foces-expired
vfy fail odd/foces-not-yet-valid
vfy ok oces2-prod/voces -crl_check -CRLfile oces2-prod/crl-current.crl.pem
vfy fail odd/foces-revoked -crl_check -CRLfile oces2-prod/crl-current.crl.pem
vfy fail oces2-prod/voces -crl_check -CRLfile oces2-prod/crl-stale.crl.pem
vfy ok oces3-prod/organisation -crl_check -CRLfile oces3-prod/crl-current.crl.pem

# ---------------------------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------------------------
ossl_version=$(ossl version)
python3 - "$RECORDS" manifest.json "$script_sha" "$ossl_version" <<'PY'
import json, sys
records, out, sha, ossl_version = sys.argv[1:5]
FIELDS = ["path", "kind", "role", "hierarchy", "password", "generation", "type", "environment", "cvr", "cvr_valid",
          "id_kind", "id", "subject", "subject_oneline", "issuer_subject", "issuer_subject_oneline", "serial",
          "not_before", "not_after", "key_bits", "sig_alg", "policies", "mv_rdn_order", "revoked",
          "revocation_time", "revocation_reason", "issuer", "cert", "key", "chain", "sha256", "legacy",
          "friendly_name", "p12_mac_alg", "p12_mac_iter", "p12_cert_pbe", "p12_cert_prf", "p12_key_pbe",
          "p12_key_prf", "p12_kdf_iter", "p12_key_iter",
          "weak_iterations", "cert_count", "key_matches_cert", "this_update", "next_update", "crl_number",
          "revoked_serials", "stale", "used_by", "notes"]
files = []
with open(records, encoding="utf-8") as fh:
    for line in fh:
        line = line.rstrip("\n")
        if not line:
            continue
        e = dict.fromkeys(FIELDS)
        for part in line.split("\x1f"):
            k, _, v = part.partition("=")
            if k.endswith(":"):
                e[k[:-1]] = json.loads(v)
            elif k.endswith("@"):
                e[k[:-1]] = [x for x in v.split(",") if x]
            else:
                e[k] = v
        if e["kind"] != "pkcs12":
            e["password"] = None
            e["legacy"] = None
        files.append(e)
paths = [f["path"] for f in files]
dups = {p for p in paths if paths.count(p) > 1}
if dups:
    sys.exit("duplicate manifest paths: %s" % sorted(dups))
manifest = {
    "schema_version": 1,
    "generator": "tests/data/make_pki.sh",
    "generator_sha256": sha,
    "openssl": ossl_version,
    "validation_time": "2025-06-01T00:00:00Z",
    "default_password": "Test1234",
    "time_plan": {
        "root": ["2020-01-01T00:00:00Z", "2040-01-01T00:00:00Z"],
        "issuing": ["2020-01-01T00:00:00Z", "2035-01-01T00:00:00Z"],
        "leaf": ["2024-01-01T00:00:00Z", "2027-01-01T00:00:00Z"],
        "expired": ["2021-01-01T00:00:00Z", "2024-01-01T00:00:00Z"],
        "not_yet_valid": ["2026-01-01T00:00:00Z", "2029-01-01T00:00:00Z"],
        "expiring_soon": ["2022-07-01T00:00:00Z", "2025-06-20T00:00:00Z"],
        "revocation": "2025-03-15T00:00:00Z",
        "crl_current": ["2025-05-20T00:00:00Z", "2025-07-01T00:00:00Z"],
        "crl_stale": ["2025-04-01T00:00:00Z", "2025-05-01T00:00:00Z"],
    },
    "notes": [
        "All keys are fresh on every generation: fingerprints, key material and signatures change between runs; "
        "names, dates, serials, extensions and policies do not.",
        "Key reuse is deliberate and limited: odd/shared.key.pem serves the odd/ name and validity variants "
        "(see its used_by) and odd/voces-rsa3072 uses oces3-test/organisation.key.pem; every other key is unique.",
        "Every CA subject carries OU=dpgcert synthetic so it cannot be confused with the real CA of the same name.",
        "URLs in AIA/CDP/CPS use the reserved .example TLD so tests never reach real OCES services.",
        "subject/issuer_subject are RFC 2253 (reverse DER order, UTF-8 unescaped); *_oneline are in DER order.",
        "sha256 is the SHA-256 (lowercase hex) of the DER certificate the entry holds or belongs to "
        "(for pkcs12/key/chain entries: the leaf or first certificate); null for CRLs.",
        "OCES2 production policy sub-arcs (.1.5 POCES, .2.5 MOCES, .3.4 VOCES, .4.2 FOCES) copy the real test "
        "CA's version arcs; match policies by prefix.",
        "OCES2 leaf certificates and CAs are signed sha256WithRSAEncryption; OCES3 ones use RSASSA-PSS like the real ones "
        "(CAs: SHA-512/salt 64, leaves and CRLs: SHA-256/salt 32). All CA keys are RSA 2048 for speed.",
        "Order inside a multi-valued RDN is decided by DER SET OF sorting (shorter encoding first), see mv_rdn_order.",
        "commands.log, .complete, .dpgcert-pki and _state/ (openssl ca databases, configs) are not listed.",
    ],
    "files": files,
}
with open(out, "w", encoding="utf-8") as fh:
    json.dump(manifest, fh, ensure_ascii=False, indent=1)
    fh.write("\n")
PY

# every generated artefact must be in the manifest and vice versa
python3 - <<'PY'
import json, os
m = json.load(open("manifest.json", encoding="utf-8"))
listed = {f["path"] for f in m["files"]}
on_disk = set()
for d in ("oces2-prod", "oces2-test", "oces3-prod", "oces3-test", "odd", "other"):
    for n in os.listdir(d):
        on_disk.add(d + "/" + n)
missing = sorted(on_disk - listed)
ghost = sorted(listed - on_disk)
if missing or ghost:
    raise SystemExit("manifest mismatch: unlisted=%s missing=%s" % (missing, ghost))
PY

wait_lanes
rm -f _state/req.csr _state/openssl.err _state/verify.out _state/keygen.*.err
printf '%s\n' "$script_sha" > .complete

# publish (if a concurrent run already published the same version, keep that one)
if stamp_ok; then
    rm -rf "$tmp"
else
    if [[ -e $OUT ]]; then rm -rf "$OUT"; fi
    if ! mv -T "$tmp" "$OUT" 2>/dev/null; then
        stamp_ok || die "could not move the generated PKI to $OUT"
        rm -rf "$tmp"
    fi
fi
trap - EXIT
t_end=$(date +%s%N)
echo "make_pki.sh: generated $OUT in $(( (t_end - t_start) / 1000000 )) ms" >&2
