#!/usr/bin/python3
"""Runs every dpgcert command that takes --json and validates its output against the one
documented schema, docs/cli-json.schema.json (issue 8).

    check_cli_json.py TOOL TESTDATA SCHEMA

Every leaf command whose --help offers --json must be exercised here (the script finds them in
the tool's generated man page), so a new command without a schema fails this test. Errors
printed with --json are validated against #/$defs/error.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema

TOOL, DATA, SCHEMA = sys.argv[1], sys.argv[2], sys.argv[3]
NOW = "2025-06-01T00:00:00Z"

with open(SCHEMA, encoding="utf-8") as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)

exercised = set()
failures = []


def validator(name):
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/" + name, "$defs": schema["$defs"]})


def run(args, env=None, expect=(0,), stdin=""):
    full_env = dict(os.environ, **(env or {}))
    r = subprocess.run([TOOL] + args, capture_output=True, text=True, env=full_env, input=stdin, check=False)
    if r.returncode not in expect:
        failures.append(f"dpgcert {' '.join(args)}: exit {r.returncode}, expected {expect}\n{r.stdout}\n{r.stderr}")
    return r


def check(command, args, expect=(0,), env=None, lines=False, stdin=""):
    """Runs `dpgcert ARGS --json` and validates against $defs[command] (or error on failure)."""
    r = run(args + ["--json"], env=env, expect=expect, stdin=stdin)
    exercised.add(command)
    docs = [json.loads(l) for l in r.stdout.splitlines() if l.strip()] if lines else [json.loads(r.stdout)]
    for doc in docs:
        name = "error" if isinstance(doc, dict) and set(doc) == {"error"} else command
        errors = list(validator(name).iter_errors(doc))
        for e in errors[:5]:
            failures.append(f"dpgcert {' '.join(args)} --json: {name} at {list(e.absolute_path)}: {e.message[:300]}")
    return docs if lines else docs[0]


def data(rel):
    return os.path.join(DATA, rel)


with tempfile.TemporaryDirectory(prefix="dpgcert-json-") as tmp:
    store = ["--store", os.path.join(tmp, "store.db")]
    pw = os.path.join(tmp, "pw")
    with open(pw, "w", encoding="utf-8") as f:
        f.write("Test1234")
    validation = ["--now", NOW, "--trust", data("oces2-prod/root.crt.pem"), "--trust", data("oces3-prod/root.crt.pem"),
                  "--crl", data("oces2-prod/crl-current.crl.pem")]

    check("inspect", ["inspect", data("oces2-prod/foces.p12"), "--password-file", pw])
    check("inspect", ["inspect", data("oces2-prod/voces-legacy.p12"), "--password-file", pw])
    check("inspect", ["inspect", data("oces2-prod/chain.pem")])
    check("inspect", ["inspect", data("oces3-prod/organisation.crt.der")])
    check("inspect", ["inspect", data("oces2-prod/foces.p12")], expect=(3,))  # wrong (empty) password
    check("verify", ["verify", data("oces2-prod/foces.p12"), "--password-file", pw] + validation, expect=(0, 1))
    check("verify", ["verify", data("odd/foces-expired.p12"), "--password-file", pw] + validation, expect=(2,))
    check("verify", ["verify", data("oces3-prod/organisation.crt.pem")] + validation, expect=(0, 1, 2))

    check("store_init", store + ["store", "init", "--key-file", os.path.join(tmp, "master.key")])
    check("store_info", store + ["store", "info"])
    check("store_environment", store + ["store", "environment"])
    check("store_environment", store + ["store", "environment", "any"])
    check("store_environment", store + ["store", "environment", "staging"], expect=(64,))
    check("store_retention", store + ["store", "retention"])
    check("store_retention", store + ["store", "retention", "90"])
    check("store_retention", store + ["store", "retention", "off"])
    check("store_retention", store + ["store", "retention", "0"], expect=(64,))
    check("lsit", store + ["lsit"], expect=(64,))  # a usage error is the JSON error too
    check("store_backup", store + ["store", "backup", "--out", os.path.join(tmp, "backup.db")])
    check("store_backup", store + ["store", "backup", "--out", os.path.join(tmp, "backup.db")], expect=(3,))
    check("store_restore", store + ["store", "restore", os.path.join(tmp, "backup.db")])
    check("org_add", store + ["org", "add", "12345674", "--name", "Testfirma A/S", "--contact", "IT <it@testfirma.dk> (renewals)"])
    check("mailbox_add", store + ["mailbox", "add", "sikkerpost@testfirma.dk", "--org", "12345674", "--ad-group", "GG"])
    check("import", store + ["import", data("odd/foces-expiring-soon.p12"), "--mailbox", "sikkerpost@testfirma.dk",
                             "--password-file", pw] + validation)
    imported = check("import", store + ["import", data("oces2-prod/foces.p12"), data("oces2-prod/voces.p12"),
                                        data("oces3-prod/organisation.p12"), data("odd/foces-revoked.p12"),
                                        "--password-file", pw] + validation, expect=(2,))
    check("import", store + ["import", data("oces2-prod/voces.p12"), "--password-env", "DPGCERT_JSON_TEST_WRONG"] + validation,
          env={"DPGCERT_JSON_TEST_WRONG": "wrong"}, expect=(3,))
    fp = imported[0]["fingerprint_sha256"]
    check("list", store + ["list", "--now", NOW])
    check("list", store + ["list", "--expiring-within", "30", "--now", NOW])
    check("org_list", store + ["org", "list"])
    check("org_show", store + ["org", "show", "12345674", "--now", NOW])
    check("org_show", store + ["org", "show", "87654321"], expect=(3,))
    check("mailbox_list", store + ["mailbox", "list"])
    check("show", store + ["show", fp, "--now", NOW])
    check("show", store + ["show", "0000000000"], expect=(3,))
    check("export", store + ["export", fp, "--out", os.path.join(tmp, "out.p12"), "--password-file", pw])
    check("retire", store + ["retire", imported[1]["fingerprint_sha256"], "--reason", "test"])
    check("key_rotate", store + ["key", "rotate", "--new-key-file", os.path.join(tmp, "next.key")])
    check("audit", store + ["audit", "--limit", "0"])
    check("store_copy", store + ["store", "copy", "--to", os.path.join(tmp, "copies", "copy.db")])
    check("store_copy", store + ["store", "copy", "--to", os.path.join(tmp, "copies", "copy.db")], expect=(3,))

    # Inventory edits.
    check("org_rename", store + ["org", "rename", "12345674", "--name", "Testfirma Holding A/S"])
    check("org_edit", store + ["org", "edit", "12345674", "--notes", "fornyes af IT"])
    check("org_edit", store + ["org", "edit", "12345674"], expect=(64,))
    check("org_contact_add", store + ["org", "contact", "add", "12345674", "Drift <drift@testfirma.dk>"])
    check("org_contact_remove", store + ["org", "contact", "remove", "12345674", "drift@testfirma.dk"])
    check("mailbox_edit", store + ["mailbox", "edit", "sikkerpost@testfirma.dk", "--ad-group", "GG-2"])
    check("org_add", store + ["org", "add", "11111111", "--name", "Søster ApS"])
    check("mailbox_move", store + ["mailbox", "move", "sikkerpost@testfirma.dk", "--org", "11111111"])
    check("mailbox_remove", store + ["mailbox", "remove", "sikkerpost@testfirma.dk"], expect=(3,))
    check("mailbox_remove", store + ["mailbox", "remove", "sikkerpost@testfirma.dk", "--retire-certificates"])
    check("org_remove", store + ["org", "remove", "11111111"])

    # Gateway keys on a PKCS#11 token (issue 16), on a SoftHSM2 token of this run.
    if os.path.exists("/usr/lib/softhsm/libsofthsm2.so"):
        os.makedirs(os.path.join(tmp, "tokens"))
        conf = os.path.join(tmp, "softhsm2.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(f"directories.tokendir = {os.path.join(tmp, 'tokens')}\nobjectstore.backend = file\n")
        token_env = {"SOFTHSM2_CONF": conf, "DPGCERT_PIN": "json-pin"}
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "json", "--so-pin", "12345678",
                        "--pin", "json-pin"], env=dict(os.environ, **token_env), capture_output=True, check=True)
        token = ["--token", "pkcs11:token=json"]
        check("token_import", store + ["token", "import", fp] + token, env=token_env)
        check("token_import", store + ["token", "import", fp] + token, env=token_env)  # again: created 0
        check("token_list", store + ["token", "list"] + token, env=token_env)
        check("token_remove", store + ["token", "remove", fp] + token, env=token_env, expect=(3,))  # active
        check("retire", store + ["retire", fp])
        check("token_remove", store + ["token", "remove", fp] + token, env=token_env)
    else:
        print("token commands not exercised: softhsm2 is not installed")
        exercised.update({"token_import", "token_list", "token_remove"})

    man = run(["generate", "man"]).stdout
    commands = [re.sub(r"\\-", "-", m) for m in re.findall(r'^\.SS "dpgcert (.+)"$', man, re.M)]

    # Lifecycle commands (issue 7), when the tool has them.
    if "check" in commands:
        check("org_policy", store + ["org", "policy", "12345674", "--thresholds", "120,90,60,30,14,7,1,0"])
        check("sink_add", store + ["sink", "add", "log", "--jsonl", os.path.join(tmp, "events.jsonl")])
        check("sink_list", store + ["sink", "list"])
        check("check", store + ["check", "--at", NOW], expect=(0, 1, 2), lines=True)
        # Right after a run, the last-run rule skips, saying why in one JSON line.
        skipped = check("check", store + ["check", "--at", NOW, "--min-interval", "1h"], lines=True)
        if [sorted(d) for d in skipped] != [["reason", "skipped"]]:
            failures.append(f"dpgcert check --min-interval 1h --json: expected one skip line, got {skipped}")
        check("digest", store + ["digest", "--now", NOW])
        check("metrics", store + ["metrics", "--now", NOW])
        check("sink_remove", store + ["sink", "remove", "log"])

    # Every leaf command that offers --json must have been exercised above.
    for c in commands:
        help_text = run(c.split() + ["--help"]).stdout
        if "--json" in help_text and "Subcommands:" not in help_text:
            name = c.replace(" ", "_").replace("-", "_")
            if name not in schema["$defs"]:
                failures.append(f"dpgcert {c}: has --json but no #/$defs/{name} in {SCHEMA}")
            elif name not in exercised:
                failures.append(f"dpgcert {c}: has --json but this test never runs it")

print(f"validated the --json output of {len(exercised)} commands against {os.path.basename(SCHEMA)}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
