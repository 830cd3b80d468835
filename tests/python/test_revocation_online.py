"""Online revocation from Python: validate(revocation_mode='online'), Store.import_pkcs12 with it, and
Store.check(refresh_revocation=True), against a CRL server and an `openssl ocsp` responder started
here on 127.0.0.1 (port 0) and stopped by PID. The PKI is tests/support/make_revocation_pki.sh's."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

import dpgcert

SUPPORT = Path(__file__).resolve().parent.parent / "support"


def _start(argv: list[str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()  # "PORT n" or openssl's "ACCEPT 0.0.0.0:n PID=..."
    if line.startswith("PORT "):
        return proc, int(line.split()[1])
    assert line.startswith("ACCEPT "), line
    return proc, int(line.split()[1].rsplit(":", 1)[1])


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()  # by its PID (`openssl ocsp` takes seconds to heed SIGTERM)
        proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


class Lab:
    def __init__(self, root: Path) -> None:
        self.dir = root
        script = ["bash", str(SUPPORT / "make_revocation_pki.sh"), str(root)]
        subprocess.run([*script, "cas"], check=True)
        self.crl, crl_port = _start([sys.executable, str(SUPPORT / "crl_server.py"), "--dir", str(root)])
        self.ocsp, ocsp_port = _start(
            ["openssl", "ocsp", "-port", "0", "-index", str(root / "index.txt"), "-CA", str(root / "ca.pem"),
             "-rsigner", str(root / "responder.pem"), "-rkey", str(root / "responder.key"), "-ndays", "1"])
        subprocess.run([*script, "leaves", str(crl_port), str(ocsp_port)], check=True)
        self.ocsp_url = f"http://127.0.0.1:{ocsp_port}/"

    def cert(self, name: str) -> dpgcert.Certificate:
        return dpgcert.load_certificates((self.dir / f"{name}.pem").read_bytes())[0]

    def stop(self) -> None:
        _stop(self.ocsp)
        _stop(self.crl)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    # One for the module: making the PKI takes seconds. The leaf `dead` names 127.0.0.1:1 (nothing
    # listens there) for the cases without an answer.
    the_lab = Lab(tmp_path_factory.mktemp("pki"))
    yield the_lab
    the_lab.stop()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _online(lab: Lab, name: str, **kw: object) -> dpgcert.ValidationReport:
    return dpgcert.validate(lab.cert(name), at=_now(), policy="generic", trust=[lab.cert("ca")], min_key_bits=0,
                            revocation="chain", revocation_mode="online", **kw)  # type: ignore[arg-type]


def test_validate_online(lab: Lab) -> None:
    good = _online(lab, "good")
    assert good.find("revocation").status == "pass"  # type: ignore[union-attr]
    assert good.revocation[0]["source"] == "ocsp"
    assert good.revocation[0]["url"] == lab.ocsp_url
    revoked = _online(lab, "revoked")
    assert revoked.verdict == "fail"
    assert revoked.revocation[0]["status"] == "revoked"
    assert revoked.revocation[0]["reason"] == "keyCompromise"
    # Offline (the default): nothing asked, nothing found.
    offline = dpgcert.validate(lab.cert("revoked"), at=_now(), policy="generic", trust=[lab.cert("ca")],
                               min_key_bits=0, revocation="chain")
    assert offline.find("revocation").status == "skip"  # type: ignore[union-attr]
    assert offline.revocation == []
    with pytest.raises(dpgcert.InvalidArgumentError):
        _online(lab, "good", revocation_timeout=0)
    with pytest.raises(dpgcert.InvalidArgumentError):
        dpgcert.validate(lab.cert("good"), at=_now(), revocation_mode="sometimes")
    # No answer: a warning with the reason; a failure when required.
    warned = _online(lab, "dead", revocation_timeout=1)
    assert warned.find("revocation").status == "warn"  # type: ignore[union-attr]
    assert "transport" in warned.find("revocation").message  # type: ignore[union-attr]
    assert [p["kind"] for p in warned.revocation[0]["problems"]] == ["transport", "transport"]
    assert _online(lab, "dead", revocation_timeout=1, require_revocation=True).verdict == "fail"


def test_import_and_check_refresh(lab: Lab, tmp_path: Path) -> None:
    store = dpgcert.Store.create(str(tmp_path / "s.db"), key_file=str(tmp_path / "s.key"))
    ca = lab.cert("ca")
    revoked = (lab.dir / "revoked.p12").read_bytes()
    good = (lab.dir / "good.p12").read_bytes()
    refused = store.import_pkcs12(revoked, "test", policy="generic", trust=[ca], revocation_mode="online")
    assert refused.outcome == "refused"
    # Imported offline, found revoked by the check's refresh, announced by the same check.
    for data in (good, revoked):
        assert store.import_pkcs12(data, "test", policy="generic", trust=[ca]).outcome == "imported"
    store.add_callback_sink("cb")
    seen: list[str] = []
    result = store.check(_now(), callbacks={"cb": lambda e: seen.append(e.kind)}, refresh_revocation=True,
                         revocation_trust=[ca], revocation_interval=timedelta(hours=1))
    info = result.revocation
    assert info["ran"] and info["checked"] == 2 and info["good"] == 1 and len(info["revoked"]) == 1
    assert info["problems"] == []
    assert "revoked" in seen
    again = store.check(_now(), refresh_revocation=True, revocation_trust=[ca], revocation_interval=timedelta(hours=1))
    assert again.revocation["ran"] is False
    store.set_revocation_refresh(3600)
    assert store.revocation_refresh_seconds == 3600
    with pytest.raises(dpgcert.InvalidArgumentError):
        store.set_revocation_refresh(5)
    store.close()
