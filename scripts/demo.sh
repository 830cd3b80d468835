#!/usr/bin/env bash
# The README's first command: installs what is missing, builds dpgcert (release), makes a demo set of
# customer certificates with the openssl CLI, onboards them into a local SQLite inventory with their
# passwords sealed, and shows what expires when: the daily renewal check with its events, the
# per-organisation digest and the Prometheus metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target dpgcert_tool >/dev/null
demo=demo
bash tests/data/make_pki.sh "$demo/pki" >/dev/null
tool=build/release/tools/dpgcert/dpgcert
now=2026-11-15T00:00:00Z   # the demo's fixed "today", so the output is the same on every run
printf 'Test1234' >"$demo/password.txt"
chmod 600 "$demo/password.txt"
rm -f "$demo"/store.db*
export DPGCERT_STORE="$demo/store.db"
dp() { "$tool" "$@"; }

echo "== A new inventory in $DPGCERT_STORE, sealed under $demo/master.key =="
dp store init --key-file "$demo/master.key" >/dev/null
dp org add 12345674 --name "Testfirma A/S" --contact "IT-drift <drift@testfirma.dk> (renewals)" >/dev/null
dp mailbox add sikkerpost@testfirma.dk --org 12345674 --ad-group "GG-Sikkerpost-Testfirma" >/dev/null

echo
echo "== Onboarding what the customer sent (validated first; a failing file is refused) =="
# The demo's CAs are synthetic, so their roots are the trust anchors (real OCES roots are built in).
p=(--password-file "$demo/password.txt" --now "$now" --crl "$demo/pki/oces2-prod/crl-current.crl.pem"
   --trust "$demo/pki/oces2-prod/root.crt.pem" --trust "$demo/pki/oces3-prod/root.crt.pem")
dp import "$demo/pki/oces2-prod/foces.p12" --mailbox sikkerpost@testfirma.dk --org 12345674 "${p[@]}" || true
dp import "$demo/pki/oces2-prod/voces.p12" "$demo/pki/oces3-prod/organisation.p12" \
          "$demo/pki/odd/foces-expiring-soon.p12" "$demo/pki/oces2-prod/voces-legacy.p12" "${p[@]}" || true
dp import "$demo/pki/odd/foces-expired.p12" "${p[@]}" || true     # refused: expired
dp import "$demo/pki/odd/foces-revoked.p12" "${p[@]}" || true     # refused: revoked (CRL)
dp import "$demo/pki/oces2-prod/moces.p12" "${p[@]}" || true      # refused: employee certificate

echo
echo "== What expires within 90 days of $now =="
dp list --expiring-within 90 --now "$now" || true
echo
echo "== Every certificate in the inventory =="
dp list --now "$now" || true

echo
echo "== The daily renewal check on $now: each certificate announced at the threshold it crossed =="
# Events go to the store's sinks; here a JSON Lines file (a hook or an in-process callback would
# open tickets or send mail). Exit codes 1/2 are warning/critical stages, as a monitoring plugin's.
rm -f "$demo/events.jsonl"
dp sink add demo-log --jsonl "$demo/events.jsonl" >/dev/null
dp check --at "$now" || true
echo
echo "== Delivered to the sink ($demo/events.jsonl), one JSON line per event, the id is the idempotency key =="
python3 - "$demo/events.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    contacts = ", ".join(c["email"] for c in (e["organisation"] or {}).get("contacts", [])) or "-"
    stage = "-" if e["stage_days"] is None else f'{e["stage_days"]}d'
    print(f'  {e["id"]}  {e["kind"]:<9} stage {stage:>3}  {e["days_left"]:>3} days left  '
          f'CVR {e["cvr"]}  {e["mailbox"] or "-":<25} contacts: {contacts}')
PY
echo
echo "== The same check again, and three weeks later: nothing is said twice, only new thresholds =="
dp check --at "$now" || true
dp check --at 2026-12-05T00:00:00Z || true
echo
echo "== Per organisation: what expires when, and whom to contact =="
dp digest --now 2026-12-05T00:00:00Z
echo
echo "== Metrics for Prometheus (x509-certificate-exporter names), first lines =="
dp metrics --now 2026-12-05T00:00:00Z --out "$demo/dpgcert.prom"
grep -E '^(# (HELP|TYPE) x509_cert_not_after|x509_cert_not_after)' "$demo/dpgcert.prom" | head -4
grep -E '^dpgcert_events_(emitted|delivered)_total' "$demo/dpgcert.prom"
