#!/usr/bin/python3
"""Onboarding check: can the gateway use the PKCS#12 file and password a customer handed over?

    DPGCERT_PASSWORD=... onboarding_check.py kunde.p12 [--password-file F] [--trust roots.pem]
        [--at 2025-06-01T00:00:00Z] [--environment production|test] [--cvr 12345674] [--json]

Prints who the certificate is for and the checklist (or the report as JSON). The password comes
from a file or the environment, never from the command line. Exit status: 0 usable, 1 usable with
warnings, 2 not usable, 3 could not check.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

import dpgcert


def read_password(args: argparse.Namespace) -> bytes:
    if args.password_file:
        with open(args.password_file, "rb") as f:
            return f.read().rstrip(b"\r\n")
    value = os.environb.get(b"DPGCERT_PASSWORD")
    if value is None:
        sys.exit("onboarding_check: give --password-file or set DPGCERT_PASSWORD")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--password-file")
    parser.add_argument("--trust", help="PEM file of trust anchors (default: the built-in OCES roots)")
    parser.add_argument("--at", help="validation time, ISO 8601 with a zone (default: now)")
    parser.add_argument("--environment", choices=["production", "test"])
    parser.add_argument("--cvr", help="the CVR number the certificate must carry")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    at = datetime.fromisoformat(args.at.replace("Z", "+00:00")) if args.at else datetime.now(timezone.utc)
    trust = None
    if args.trust:
        with open(args.trust, "rb") as f:
            trust = dpgcert.load_certificates(f.read())
    with open(args.file, "rb") as f:
        data = f.read()
    try:
        # A wrong password or an expired certificate is a report, not an exception.
        report = dpgcert.validate(data, at=at, password=read_password(args), trust=trust,
                                  environment=args.environment, expected_cvr=args.cvr)
    except dpgcert.Error as e:
        print(f"onboarding_check: {e.code}: {e}", file=sys.stderr)
        return 3

    if args.json:
        print(report.to_json())
    else:
        print(f"dpgcert {dpgcert.__version__}")
        if report.certificate is not None:
            oces = report.certificate.oces
            print(f"Identity     {oces.summary}")
            print(f"CVR          {oces.cvr or '(none)'}")
            print(f"Expires      {report.certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
        else:
            print("Identity     (the file did not open)")
        print(report.to_text(), end="")
    return {"pass": 0, "warn": 1}.get(report.verdict, 2)


if __name__ == "__main__":
    sys.exit(main())
