#!/usr/bin/python3
"""Benchmarks of the Python module (issue 9), run by hand against a release build:

    cmake --preset release -B build/release
    cmake --build build/release -j2 --target _dpgcert bench_binding_baseline
    DPGCERT_TEST_DATA=/tmp/pki /usr/bin/python3 bench/bench_python.py --build build/release

1. Threads: 8 Python threads loading the same PKCS#12 file against 1 thread, as throughput (loads
   per second of wall time). load_pkcs12 releases the GIL around the key derivation, so on 2 cores
   8 threads should reach at least 1.6x the single thread.
2. Overhead: the Python call dpgcert.load_pkcs12(data, "Test1234") against the C++ call
   dpgcert::load_pkcs12(data, password) (bench_binding_baseline, Google Benchmark, the same files,
   the same Context::shared()). Rounds alternate between the two so that the machine's drift hits
   both; the verdict is the median of the per-round ratios of CPU time per call. Target: at most 1.2x.

Prints a table and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

FILES = {
    "modern_2048": "oces2-prod/foces.p12",  # AES-256-CBC, PBKDF2-HMAC-SHA256, 2048 iterations
    "legacy_2048": "oces2-prod/foces-legacy.p12",  # RC2-40 / 3DES, SHA-1 MAC, 2048 iterations
    "modern_100000": "oces2-prod/voces-iter100000.p12",  # the same as modern, 100,000 iterations
}
PASSWORD = "Test1234"
THREADS_TARGET = 1.6
OVERHEAD_TARGET = 1.2


def test_data(source: Path) -> Path:
    env = os.environ.get("DPGCERT_TEST_DATA")
    if env:
        return Path(env)
    path = Path("/tmp/dpgcert-bench-pki")
    subprocess.run(["bash", str(source / "tests/data/make_pki.sh"), str(path)], check=True, stdout=subprocess.DEVNULL)
    return path


def python_per_call(dpgcert, data: bytes, seconds: float) -> tuple[float, float]:
    """CPU and wall seconds per load_pkcs12 call, over about `seconds`."""
    dpgcert.load_pkcs12(data, PASSWORD)  # warm
    calls = 0
    c0, t0 = time.thread_time(), time.perf_counter()
    while True:
        dpgcert.load_pkcs12(data, PASSWORD)
        calls += 1
        if time.perf_counter() - t0 >= seconds and calls >= 3:
            break
    return (time.thread_time() - c0) / calls, (time.perf_counter() - t0) / calls


def cxx_per_call(binary: Path, name: str, seconds: float, env: dict[str, str]) -> tuple[float, float]:
    """CPU and wall seconds per dpgcert::load_pkcs12 call, from bench_binding_baseline."""
    out = subprocess.run(
        [str(binary), f"--benchmark_filter=BM_cxx_load_pkcs12/{name}$", "--benchmark_format=json",
         f"--benchmark_min_time={seconds}"],
        check=True, capture_output=True, text=True, env=env,
    ).stdout
    (run,) = json.loads(out)["benchmarks"]
    assert run["time_unit"] == "us"
    return run["cpu_time"] * 1e-6, run["real_time"] * 1e-6


def throughput(dpgcert, data: bytes, threads: int, total: int) -> float:
    """Loads per second of wall time with `threads` threads sharing `total` loads."""
    per_thread = total // threads
    start = threading.Barrier(threads + 1)

    def work() -> None:
        start.wait()
        for _ in range(per_thread):
            dpgcert.load_pkcs12(data, PASSWORD)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    return per_thread * threads / (time.perf_counter() - t0)


def main() -> int:
    source = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description="Benchmarks of the dpgcert Python module")
    parser.add_argument("--build", default=str(source / "build/release"), help="a release build tree")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="per measurement")
    args = parser.parse_args()

    build = Path(args.build).resolve()
    sys.path.insert(0, str(build / "python"))
    import dpgcert  # noqa: E402 - from the build tree named on the command line

    binary = build / "bench/bench_binding_baseline"
    if not binary.exists():
        sys.exit(f"{binary} is missing: cmake --build {args.build} --target bench_binding_baseline _dpgcert")
    data_dir = test_data(source)
    env = dict(os.environ, DPGCERT_TEST_DATA=str(data_dir))
    data = {name: (data_dir / f).read_bytes() for name, f in FILES.items()}
    print(f"dpgcert {dpgcert.__version__} from {Path(dpgcert.__file__).parent}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds")

    missed = False
    print("\n1. Threads: load_pkcs12 throughput, 8 threads / 1 thread (target >= %.1fx)" % THREADS_TARGET)
    print(f"{'file':<15} {'1 thread':>12} {'8 threads':>12} {'ratio':>7}   rounds")
    for name in ("modern_2048", "modern_100000"):
        per_call, _ = python_per_call(dpgcert, data[name], 0.2)
        total = max(16, int(args.seconds / per_call) // 8 * 8)
        ratios, ones, eights = [], [], []
        for _ in range(args.rounds):
            one = throughput(dpgcert, data[name], 1, total)
            eight = throughput(dpgcert, data[name], 8, total)
            ones.append(one)
            eights.append(eight)
            ratios.append(eight / one)
        ratio = statistics.median(ratios)
        missed |= ratio < THREADS_TARGET
        print(f"{name:<15} {statistics.median(ones):>9.1f}/s {statistics.median(eights):>9.1f}/s {ratio:>6.2f}x   "
              + " ".join(f"{r:.2f}" for r in ratios))

    print("\n2. Overhead: Python load_pkcs12 / C++ load_pkcs12, per call (target <= %.1fx)" % OVERHEAD_TARGET)
    print(f"{'file':<15} {'C++ cpu':>10} {'Python cpu':>11} {'ratio':>7} {'C++ real':>10} {'Py real':>10} {'ratio':>7}"
          "   rounds (cpu)")
    for name in FILES:
        cpu_ratios, real_ratios, cxx_cpu, py_cpu, cxx_real, py_real = [], [], [], [], [], []
        for _ in range(args.rounds):
            c_cpu, c_real = cxx_per_call(binary, name, args.seconds, env)
            p_cpu, p_real = python_per_call(dpgcert, data[name], args.seconds)
            cxx_cpu.append(c_cpu)
            py_cpu.append(p_cpu)
            cxx_real.append(c_real)
            py_real.append(p_real)
            cpu_ratios.append(p_cpu / c_cpu)
            real_ratios.append(p_real / c_real)
        ratio = statistics.median(cpu_ratios)
        missed |= ratio > OVERHEAD_TARGET
        print(f"{name:<15} {statistics.median(cxx_cpu) * 1e6:>8.0f}us {statistics.median(py_cpu) * 1e6:>9.0f}us "
              f"{ratio:>6.2f}x {statistics.median(cxx_real) * 1e6:>8.0f}us {statistics.median(py_real) * 1e6:>8.0f}us "
              f"{statistics.median(real_ratios):>6.2f}x   " + " ".join(f"{r:.2f}" for r in cpu_ratios))

    print("\ntargets:", "missed" if missed else "met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
