#!/usr/bin/python3
"""Scheduled renewal check over an inventory store: announce what crossed a renewal threshold, and
list what must be renewed, by organisation.

    renewal_check.py --store /var/lib/dpgcert/store.db [--days 90] [--now 2025-06-01T00:00:00Z]
                     [--sink NAME]

Run it daily (cron, a systemd timer). It runs the store's renewal check (dpgcert.Store.check): every
certificate that crossed a threshold of its renewal policy (by default 90, 60, 30, 14, 7, 1 and 0
days before expiry) is announced once, as are renewals, revocations and certificates forced in past
a failing validation; the events go to the sinks configured in the store (`dpgcert sink add`).
With --sink NAME this script is that callback sink itself and prints each event it is handed (an
event it fails to handle would come again next run). Then it lists the active certificates whose
validity ends within --days. Exit status, as monitoring plugins use it: 0 nothing due, 1 a warning
stage, 2 critical (expired, or in the last stage before expiry), 3 the check could not run.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import dpgcert


def print_event(event: dpgcert.Event) -> None:
    stage = f" ({event.stage_days}-day threshold)" if event.stage_days is not None else ""
    target = event.mailbox or event.cvr or "-"
    extra = f" -> {event.superseded_by[:16]}" if event.superseded_by else ""
    print(f"event {event.kind}{stage}: {target}, {event.certificate.common_name or '-'}, "
          f"{event.days_left} days left{extra} [{event.id}]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--days", type=int, default=90, help="list what ends within this many days")
    parser.add_argument("--now", help="ISO 8601 with a zone (default: now)")
    parser.add_argument("--sink", help="serve the store's callback sink of this name")
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now.replace("Z", "+00:00")) if args.now else datetime.now(timezone.utc)

    try:
        with dpgcert.Store(args.store) as store:
            result = store.check(now, callbacks={args.sink: print_event} if args.sink else None)
            due = store.expiring_before(now + timedelta(days=args.days))
    except dpgcert.Error as e:
        print(f"renewal_check: {e.code}: {e}", file=sys.stderr)
        return 3

    if not args.sink:
        for event in result.emitted:
            print_event(event)
    by_organisation: dict[str, list[dpgcert.CertificateSummary]] = defaultdict(list)
    for summary in due:
        by_organisation[summary.organisation_cvr or summary.cvr or "-"].append(summary)
    for cvr in sorted(by_organisation):
        print(f"CVR {cvr}")
        for s in by_organisation[cvr]:
            left = (s.not_valid_after_utc - now) // timedelta(days=1)
            state = "EXPIRED" if left < 0 else f"{left} days"
            print(f"  {s.not_valid_after_utc:%Y-%m-%d}  {state:>9}  {s.type:<12}  {s.mailbox or '-':<28}  "
                  f"{s.common_name or '-'}  {s.fingerprint[:16]}")
    print(f"{len(result.emitted)} new event(s), {result.delivered} delivered, {result.failed} failed; "
          f"{len(due)} certificate(s) end within {args.days} days; worst: {result.worst}")
    return {"none": 0, "warning": 1}.get(result.worst, 2)


if __name__ == "__main__":
    sys.exit(main())
