#!/usr/bin/env python3
"""Runs a public validation suite through the installed `dpgcert verify` and compares the outcomes
with a committed baseline.

    run_suite.py pkits|limbo --tool PREFIX/bin/dpgcert --shared ../shared --baseline FILE
                 [--jobs N] [--write-baseline] [--openssl openssl]

pkits: NIST PKITS (../shared/vectors/pkits/pkits.json, all 249 cases): --profile generic with the
  case's RFC 5280 inputs, every CRL of the case, revocation of the whole chain, required and
  strict (as PKITS expects); RSA 1024 and SHA-1 allowed (PKITS dates from 2011).
limbo: x509-limbo (../shared/vectors/limbo/limbo.json): --profile generic with the case's trust
  anchors, intermediates, CRLs, time, maximum depth and extended key usages. Cases that need a peer
  name or a TLS client profile (CLIENT validation, webpki::san, webpki::cn, a wrong-SAN case) are
  reported as skipped, not guessed.

A case is *right* when accept/reject matches the suite's expectation. The baseline lists, per case,
the outcome recorded when it was committed; a case that was right there and is wrong now is a
regression and fails the run (exit 1). Improvements are reported; --write-baseline records them.
With --openssl, the `openssl verify` CLI runs the same inputs and its score is printed beside ours.
Exit 77 (ctest: skipped) when the suite's files are absent.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

PEER_NAME_FAMILIES = ("webpki::san::", "webpki::cn::")
PEER_NAME_CASES = {"rfc5280::ca-as-leaf-wrong-san"}


def pkits_cases(shared):
    root = os.path.join(shared, "vectors", "pkits")
    manifest = os.path.join(root, "pkits.json")
    if not os.path.exists(manifest):
        return None
    doc = json.load(open(manifest))
    oids = doc["policy_oids"]
    out = []
    for tc in doc["testcases"]:
        certs = [os.path.join(root, "certs", n + ".crt") for n in tc["certs"]]
        args = ["--profile", "generic", "--at", tc["validation_time"], "--trust", certs[0]]
        for c in certs[1:-1]:
            args += ["--untrusted", c]
        for n in tc["crls"]:
            args += ["--crl", os.path.join(root, "crls", n + ".crl")]
        args += ["--revocation", "chain", "--require-revocation", "--stale-crl", "fail",
                 "--min-key-bits", "1024", "--accept-digest", "SHA1", "--min-days", "0"]
        for name in tc["initial_policy_set"].split(","):
            args += ["--policy", oids[name]]
        if tc["initial_explicit_policy"]:
            args.append("--explicit-policy")
        if tc["initial_policy_mapping_inhibit"]:
            args.append("--inhibit-policy-mapping")
        if tc["initial_inhibit_any_policy"]:
            args.append("--inhibit-any-policy")
        ossl = {"trust": [certs[0]], "untrusted": certs[1:-1], "leaf": certs[-1],
                "crls": [os.path.join(root, "crls", n + ".crl") for n in tc["crls"]], "crl_all": True,
                "policies": [oids[n] for n in tc["initial_policy_set"].split(",")],
                "explicit": tc["initial_explicit_policy"], "inhibit_map": tc["initial_policy_mapping_inhibit"],
                "inhibit_any": tc["initial_inhibit_any_policy"], "at": tc["validation_time"], "der": True}
        out.append({"id": tc["title"], "expected": tc["expected_result"] == "SUCCESS", "args": args,
                    "file": certs[-1], "ossl": ossl})
    return out


def limbo_skip_reason(tc):
    if tc["validation_kind"] != "SERVER":
        return "client profile (" + tc["validation_kind"] + ")"
    if tc["id"].startswith(PEER_NAME_FAMILIES) or tc["id"] in PEER_NAME_CASES:
        return "peer-name matching"
    return None


def limbo_cases(shared, scratch):
    path = os.path.join(shared, "vectors", "limbo", "limbo.json")
    if not os.path.exists(path):
        return None
    doc = json.load(open(path))
    out = []
    for i, tc in enumerate(doc["testcases"]):
        case = {"id": tc["id"], "expected": tc["expected_result"] == "SUCCESS"}
        reason = limbo_skip_reason(tc)
        if reason:
            case["skip"] = reason
            out.append(case)
            continue
        d = os.path.join(scratch, "case%03d" % i)
        os.makedirs(d)

        def write(name, pems):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write("".join(pems))
            return p

        trust = write("trust.pem", tc["trusted_certs"])
        leaf = write("leaf.pem", [tc["peer_certificate"]])
        args = ["--profile", "generic", "--trust", trust]
        ossl = {"trust": [trust], "untrusted": [], "leaf": leaf, "crls": [], "crl_all": False,
                "policies": [], "explicit": False, "inhibit_map": False, "inhibit_any": False, "der": False}
        if tc["untrusted_intermediates"]:
            inter = write("untrusted.pem", tc["untrusted_intermediates"])
            args += ["--untrusted", inter]
            ossl["untrusted"] = [inter]
        for j, crl in enumerate(tc["crls"]):
            p = write("crl%d.pem" % j, [crl])
            args += ["--crl", p]
            ossl["crls"].append(p)
        if tc["validation_time"]:
            at = tc["validation_time"].replace("+00:00", "Z")
            args += ["--at", at]
            ossl["at"] = at
        for eku in tc["extended_key_usage"]:
            args += ["--eku", eku]
        ossl["eku"] = tc["extended_key_usage"]
        if tc["max_chain_depth"] is not None:
            args += ["--max-depth", str(tc["max_chain_depth"])]
            ossl["depth"] = tc["max_chain_depth"]
        case.update({"args": args, "file": leaf, "ossl": ossl})
        out.append(case)
    return out


def run_dpgcert(tool, case):
    started = time.monotonic()
    p = subprocess.run([tool, "verify", case["file"]] + case["args"] + ["--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    elapsed = time.monotonic() - started
    if p.returncode in (0, 1):
        outcome = "accept"
    elif p.returncode == 2:
        outcome = "reject"
    else:
        outcome = "error"  # could not run (3) or usage (64): never an accept
    why = ""
    if outcome != "accept":
        try:
            j = json.loads(p.stdout)
            why = "; ".join(c["id"] + ": " + c["message"] for c in j["checks"] if c["status"] == "fail")
        except (ValueError, KeyError):
            why = (p.stderr or p.stdout).strip().splitlines()[-1:] and (p.stderr or p.stdout).strip().splitlines()[-1]
    return outcome, why, elapsed


def unix_time(rfc3339):
    import datetime
    return str(int(datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()))


def run_openssl(openssl, case, scratch):
    o = case["ossl"]
    d = tempfile.mkdtemp(dir=scratch)

    def pem_of(paths, name, kind):
        out = os.path.join(d, name)
        with open(out, "w") as f:
            for p in paths:
                if o["der"]:
                    f.write(subprocess.run([openssl, kind, "-inform", "DER", "-in", p], stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL, text=True).stdout)
                else:
                    f.write(open(p).read())
        return out

    cmd = [openssl, "verify", "-CAfile", pem_of(o["trust"], "ca.pem", "x509")]
    if o["untrusted"]:
        cmd += ["-untrusted", pem_of(o["untrusted"], "untrusted.pem", "x509")]
    if o["crls"]:
        cmd += ["-CRLfile", pem_of(o["crls"], "crls.pem", "crl"), "-crl_check_all" if o["crl_all"] else "-crl_check"]
    if o.get("at"):
        cmd += ["-attime", unix_time(o["at"])]
    if o["policies"] or o["explicit"] or o["inhibit_map"] or o["inhibit_any"]:
        cmd.append("-policy_check")
        for pol in o["policies"]:
            cmd += ["-policy", pol]
        if o["explicit"]:
            cmd.append("-explicit_policy")
        if o["inhibit_map"]:
            cmd.append("-inhibit_map")
        if o["inhibit_any"]:
            cmd.append("-inhibit_any")
    purposes = {"serverAuth": "sslserver", "clientAuth": "sslclient", "emailProtection": "smimesign"}
    for eku in o.get("eku", []):
        if eku in purposes:
            cmd += ["-purpose", purposes[eku]]
    if "depth" in o:
        cmd += ["-verify_depth", str(o["depth"])]
    cmd.append(pem_of([o["leaf"]], "leaf.pem", "x509"))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    return "accept" if p.returncode == 0 else "reject"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", choices=["pkits", "limbo"])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2))
    ap.add_argument("--write-baseline", action="store_true")
    ap.add_argument("--openssl", help="also run this openssl CLI on the same inputs and print its score")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="dpgcert-suite-") as scratch:
        cases = pkits_cases(a.shared) if a.suite == "pkits" else limbo_cases(a.shared, scratch)
        if cases is None:
            print("SKIP: %s vectors not found under %s (../shared is absent)" % (a.suite, a.shared))
            return 77
        if not os.access(a.tool, os.X_OK):
            print("error: no tool at " + a.tool, file=sys.stderr)
            return 2
        started = time.monotonic()
        runnable = [c for c in cases if "skip" not in c]
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
            results = dict(zip([c["id"] for c in runnable], pool.map(lambda c: run_dpgcert(a.tool, c), runnable)))
            ossl = {}
            if a.openssl:
                ossl = dict(zip([c["id"] for c in runnable],
                                pool.map(lambda c: run_openssl(a.openssl, c, scratch), runnable)))
        wall = time.monotonic() - started

    baseline = {}
    if os.path.exists(a.baseline) and not a.write_baseline:
        baseline = json.load(open(a.baseline))["outcomes"]
    right = wrong = skipped = 0
    false_accepts, false_rejects, regressions, improvements = [], [], [], []
    outcomes = {}
    for c in cases:
        if "skip" in c:
            skipped += 1
            outcomes[c["id"]] = "skip"
            if a.verbose:
                print("skip  %s (%s)" % (c["id"], c["skip"]))
            continue
        outcome, why, _ = results[c["id"]]
        outcomes[c["id"]] = outcome
        ok = (outcome == "accept") == c["expected"]
        right += ok
        wrong += not ok
        if not ok:
            (false_accepts if outcome == "accept" else false_rejects).append((c["id"], why))
        was = baseline.get(c["id"])
        was_ok = was is not None and was != "skip" and (was == "accept") == c["expected"]
        if baseline and was_ok and not ok:
            regressions.append(c["id"])
        if baseline and not was_ok and ok:
            improvements.append(c["id"])
    runs = len(results)
    print("%s through %s: %d of %d right, %d false accepts, %d false rejects, %d skipped (%d runs in %.1f s)"
          % (a.suite, a.tool, right, right + wrong, len(false_accepts), len(false_rejects), skipped, runs, wall))
    if a.openssl:
        o_right = sum((ossl[c["id"]] == "accept") == c["expected"] for c in runnable)
        o_fa = sum(ossl[c["id"]] == "accept" and not c["expected"] for c in runnable)
        print("openssl verify CLI on the same inputs: %d of %d right, %d false accepts" % (o_right, len(runnable), o_fa))
    for cid, why in false_accepts:
        print("  false accept: " + cid)
    for cid, why in false_rejects:
        print("  false reject: %s: %s" % (cid, why))
    if a.write_baseline:
        with open(a.baseline, "w") as f:
            json.dump({"suite": a.suite, "right": right, "of": right + wrong, "skipped": skipped,
                       "outcomes": outcomes}, f, indent=1, sort_keys=True)
            f.write("\n")
        print("baseline written: " + a.baseline)
        return 0
    if not baseline:
        print("error: no baseline at %s (run with --write-baseline)" % a.baseline, file=sys.stderr)
        return 1
    for cid in improvements:
        print("  better than the baseline: %s (update it with --write-baseline)" % cid)
    if regressions:
        for cid in regressions:
            print("REGRESSION: %s was right in the baseline and is wrong now" % cid)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
