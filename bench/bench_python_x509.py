#!/usr/bin/python3
"""Reading a certificate from Python: dpgcert against pyca/cryptography (issue 20), in one process.

    cmake --preset release
    cmake --build build/release -j2 --target _dpgcert
    /usr/bin/python3 bench/bench_python_x509.py --build build/release

The certificate: the OCES2 FOCES leaf of ../shared/samples/oces/oces2-preprod/FOCES_gyldig.p12
(RSA 2048, DER), else the leaf of the synthetic PKI's oces2-prod/foces.p12 ($DPGCERT_TEST_DATA, or
made by tests/data/make_pki.sh). Both libraries get the same DER bytes.

1. `dpgcert.load_certificates(der)[0].not_valid_after_utc` against pyca's
   `x509.load_der_x509_certificate(der).not_valid_after` (`_utc` where pyca has it).
2. The same plus the subject as text and the SHA-256 fingerprint: dpgcert's `subject` and
   `fingerprint_sha256` against pyca's `subject.rfc4514_string()` and `fingerprint(hashes.SHA256())`.

Rounds alternate the two libraries so that the machine's drift hits both; the verdict is the median
of the per-round ratios (dpgcert time / pyca time, process CPU time per call). Target: <= 1.0x for
both. Prints a table and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 1.0


def leaf_der(dpgcert, source: Path) -> tuple[bytes, str]:
    shared = Path(os.environ.get("DPGCERT_SHARED", source.parent / "shared"))
    sample = shared / "samples/oces/oces2-preprod/FOCES_gyldig.p12"
    if sample.exists():
        return dpgcert.load_pkcs12(sample.read_bytes(), "Test1234").leaf.der, str(sample)
    data = Path(os.environ.get("DPGCERT_TEST_DATA", "/tmp/dpgcert-bench-pki"))
    if not (data / "oces2-prod/foces.p12").exists():
        subprocess.run(["bash", str(source / "tests/data/make_pki.sh"), str(data)], check=True, stdout=subprocess.DEVNULL)
    p12 = data / "oces2-prod/foces.p12"
    return dpgcert.load_pkcs12(p12.read_bytes(), "Test1234").leaf.der, f"{p12} (../shared/samples is absent)"


def per_call(fn, seconds: float) -> float:
    """Process CPU seconds per call of fn, over about `seconds`."""
    fn()
    n = 1
    while True:  # calibrate a batch of about 20 ms
        c0 = time.process_time()
        for _ in range(n):
            fn()
        if time.process_time() - c0 >= 0.02:
            break
        n *= 2
    calls = 0
    c0 = time.process_time()
    w0 = time.perf_counter()
    while time.perf_counter() - w0 < seconds:
        for _ in range(n):
            fn()
        calls += n
    return (time.process_time() - c0) / calls


def main() -> int:
    source = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description="dpgcert against pyca/cryptography reading a certificate")
    parser.add_argument("--build", default=str(source / "build/release"), help="a release build tree")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="per measurement")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(args.build).resolve() / "python"))
    import dpgcert  # noqa: E402 - from the build tree named on the command line

    try:
        import cryptography
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
    except ImportError:
        sys.exit("pyca/cryptography is missing: apt-get install python3-cryptography (scripts/install-deps.sh)")

    der, origin = leaf_der(dpgcert, source)
    probe = x509.load_der_x509_certificate(der)
    after = "not_valid_after_utc" if hasattr(probe, "not_valid_after_utc") else "not_valid_after"
    mine = dpgcert.load_certificates(der)[0]
    assert mine.not_valid_after_utc.replace(tzinfo=None) == getattr(probe, after).replace(tzinfo=None)
    assert bytes.fromhex(mine.fingerprint_sha256) == probe.fingerprint(hashes.SHA256())

    def pyca_after():
        return getattr(x509.load_der_x509_certificate(der), after)

    def dpgcert_after():
        return dpgcert.load_certificates(der)[0].not_valid_after_utc

    def pyca_all():
        c = x509.load_der_x509_certificate(der)
        return getattr(c, after), c.subject.rfc4514_string(), c.fingerprint(hashes.SHA256())

    def dpgcert_all():
        c = dpgcert.load_certificates(der)[0]
        return c.not_valid_after_utc, c.subject, c.fingerprint_sha256

    print(f"dpgcert {dpgcert.__version__} from {Path(dpgcert.__file__).parent}; pyca/cryptography "
          f"{cryptography.__version__}; Python {sys.version.split()[0]}; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; {args.rounds} rounds")
    print(f"certificate: {origin} ({len(der)} bytes DER)")
    print(f"\nCPU time per call, dpgcert / pyca (target <= {TARGET:.1f}x)")
    print(f"{'case':<40} {'pyca':>9} {'dpgcert':>9} {'ratio':>7}   rounds")
    missed = False
    cases = (
        (f"load + {after}", pyca_after, dpgcert_after),
        ("load + notAfter + subject + SHA-256", pyca_all, dpgcert_all),
    )
    for name, theirs, ours in cases:
        ratios, pyca_t, mine_t = [], [], []
        for _ in range(args.rounds):
            t_pyca = per_call(theirs, args.seconds)
            t_mine = per_call(ours, args.seconds)
            pyca_t.append(t_pyca)
            mine_t.append(t_mine)
            ratios.append(t_mine / t_pyca)
        ratio = statistics.median(ratios)
        missed |= ratio > TARGET
        print(f"{name:<40} {statistics.median(pyca_t) * 1e6:>7.2f}us {statistics.median(mine_t) * 1e6:>7.2f}us "
              f"{ratio:>6.3f}x   " + " ".join(f"{r:.3f}" for r in ratios))
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}; targets:", "missed" if missed else "met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
