"""PKCS#12: opening legacy and modern files, passwords as str or bytes, errors, the GIL."""

from __future__ import annotations

import json
import threading
import time

import pytest

import dpgcert

from conftest import PASSWORD


def test_modern_bundle(read, manifest):
    entry = manifest["oces2-prod/foces.p12"]
    bundle = dpgcert.load_pkcs12(read("oces2-prod/foces.p12"), PASSWORD)
    assert isinstance(bundle, dpgcert.Pkcs12Bundle)
    assert bundle.leaf is not None
    assert bundle.leaf.fingerprint_sha256 == entry["sha256"]
    assert [c.subject for c in bundle.chain] == [
        "CN=TRUST2408 OCES CA V,OU=dpgcert synthetic,O=TRUST2408,C=DK",
        "CN=TRUST2408 OCES Primary CA,OU=dpgcert synthetic,O=TRUST2408,C=DK",
    ]
    assert len(bundle.certificates) == entry["cert_count"] == 3
    assert bundle.leaf in bundle.certificates
    assert bundle.friendly_name == entry["friendly_name"] == "sikkerpost"
    assert bundle.has_private_key is True
    assert bundle.key_matches is True
    assert bundle.legacy is False
    assert bundle.legacy_reasons == []
    profile = json.loads(bundle.profile_json())
    assert profile["legacy"] is False
    assert profile["mac"]["digest"] == "SHA256"
    assert profile["iterations"] == 2048


def test_legacy_bundle(read):
    bundle = dpgcert.load_pkcs12(read("oces2-prod/foces-legacy.p12"), PASSWORD)
    assert bundle.legacy is True
    assert any("RC2-40-CBC" in reason for reason in bundle.legacy_reasons)
    assert any("SHA1 MAC" in reason for reason in bundle.legacy_reasons)
    assert bundle.key_matches is True


@pytest.mark.parametrize(
    "password",
    ["Test1234", b"Test1234", bytearray(b"Test1234"), memoryview(b"Test1234")],
    ids=["str", "bytes", "bytearray", "memoryview"],
)
def test_password_types(read, password):
    bundle = dpgcert.load_pkcs12(read("oces2-prod/foces.p12"), password)
    assert bundle.key_matches


def test_utf8_and_empty_passwords(read, manifest):
    utf8 = manifest["odd/foces-utf8pw.p12"]["password"]
    assert utf8 == "Sikker-æøå-2024"
    assert dpgcert.load_pkcs12(read("odd/foces-utf8pw.p12"), utf8).key_matches
    assert dpgcert.load_pkcs12(read("odd/foces-utf8pw.p12"), utf8.encode("utf-8")).key_matches
    assert dpgcert.load_pkcs12(read("odd/foces-emptypw.p12"), "").key_matches
    assert dpgcert.load_pkcs12(read("odd/foces-emptypw.p12"), b"").key_matches


def test_data_types(read):
    data = read("oces2-prod/foces.p12")
    for form in (data, bytearray(data), memoryview(data)):
        assert dpgcert.load_pkcs12(form, PASSWORD).leaf is not None
    with pytest.raises(TypeError, match="not str"):
        dpgcert.load_pkcs12("not bytes", PASSWORD)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dpgcert.load_pkcs12(data, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dpgcert.load_pkcs12(data, 1234)  # type: ignore[arg-type]


def test_errors(read):
    data = read("oces2-prod/foces.p12")
    with pytest.raises(dpgcert.BadPasswordError):
        dpgcert.load_pkcs12(data, "wrong")
    with pytest.raises(dpgcert.BadPasswordError):
        dpgcert.load_pkcs12(read("oces2-prod/foces-legacy.p12"), "wrong")
    with pytest.raises(dpgcert.MalformedError):
        dpgcert.load_pkcs12(data[: len(data) - 40], PASSWORD)  # truncated
    with pytest.raises(dpgcert.MalformedError):
        dpgcert.load_pkcs12(bytes(range(7, 250)), PASSWORD)  # random bytes
    with pytest.raises(dpgcert.MalformedError):
        dpgcert.load_pkcs12(data + b"\0", PASSWORD)  # trailing bytes
    with pytest.raises(dpgcert.LimitExceededError):
        dpgcert.load_pkcs12(data + bytes(1024 * 1024), PASSWORD)
    with pytest.raises(dpgcert.InvalidArgumentError, match="NUL"):
        dpgcert.load_pkcs12(data, b"Test\x001234")
    with pytest.raises(UnicodeEncodeError):
        dpgcert.load_pkcs12(data, "\ud800")  # a lone surrogate has no UTF-8 form


def test_mismatched_key(read):
    bundle = dpgcert.load_pkcs12(read("odd/mismatch.p12"), PASSWORD)
    assert bundle.has_private_key is True
    assert bundle.key_matches is False


def test_no_key_no_leaf(binding_dir):
    bundle = dpgcert.load_pkcs12((binding_dir / "ca-only.p12").read_bytes(), PASSWORD)
    assert bundle.leaf is None
    assert bundle.has_private_key is False
    assert bundle.key_matches is False
    assert bundle.friendly_name is None
    assert len(bundle.chain) == 1 and bundle.chain[0].is_ca
    assert repr(bundle) == "<Pkcs12Bundle leaf=None chain=1 key=no legacy=False>"


def test_repr_never_shows_secrets(read):
    bundle = dpgcert.load_pkcs12(read("oces2-prod/foces.p12"), PASSWORD)
    text = repr(bundle)
    assert text.startswith("<Pkcs12Bundle leaf='CN=sikkerpost+serialNumber=CVR:12345674-FID:94731315")
    assert "chain=2 key=yes legacy=False" in text
    assert PASSWORD not in text
    assert not any(name for name in dir(bundle) if "private_key" in name and name != "has_private_key")


def test_not_constructible():
    with pytest.raises(TypeError):
        dpgcert.Pkcs12Bundle()  # type: ignore[call-arg]


@pytest.mark.slow
def test_key_derivation_releases_the_gil(read):
    """While the main thread opens a 100,000-iteration file twice (PBKDF2: about 0.2 s), another
    thread wakes every millisecond and notes the time, which needs the GIL. Had the load held the
    GIL, no note could fall inside the load, away from its ends (where one switch interval of the
    interpreter, 5 ms, could still let the other thread in)."""
    data = read("oces2-prod/voces-iter100000.p12")
    notes: list[float] = []
    done = threading.Event()

    def note_the_time() -> None:
        while not done.is_set():
            notes.append(time.perf_counter())
            time.sleep(0.001)

    other = threading.Thread(target=note_the_time)
    other.start()
    try:
        time.sleep(0.01)
        t0 = time.perf_counter()
        first = dpgcert.load_pkcs12(data, PASSWORD)
        second = dpgcert.load_pkcs12(data, PASSWORD)
        t1 = time.perf_counter()
    finally:
        done.set()
        other.join()
    assert first.key_matches and second.key_matches
    margin = 0.02
    assert t1 - t0 > 4 * margin, "the load was too quick to tell"
    inside = [t for t in notes if t0 + margin < t < t1 - margin]
    assert len(inside) >= 3, f"{len(inside)} notes in {t1 - t0:.3f} s of loading"


def test_parallel_loads_give_the_same_result(read):
    data = read("oces2-prod/foces.p12")
    results: list[str] = []
    lock = threading.Lock()

    def load() -> None:
        fp = dpgcert.load_pkcs12(data, PASSWORD).leaf.fingerprint_sha256  # type: ignore[union-attr]
        with lock:
            results.append(fp)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and len(set(results)) == 1
