"""Certificates: loading (PEM, DER, bare base64), properties, identity, equality, repr."""

from __future__ import annotations

import hashlib
import json
import ssl
from datetime import datetime, timezone

import pytest

import dpgcert


def test_load_formats(read, manifest):
    chain = dpgcert.load_certificates(read("oces2-prod/voces-fullchain.pem"))
    assert len(chain) == 3
    assert all(isinstance(c, dpgcert.Certificate) for c in chain)
    der = dpgcert.load_certificates(read("oces2-prod/voces.crt.der"))
    b64 = dpgcert.load_certificates(read("oces3-prod/organisation.cer"))
    assert len(der) == 1 and len(b64) == 1
    assert der[0] == chain[0]
    assert b64[0].fingerprint_sha256 == manifest["oces3-prod/organisation.cer"]["sha256"]
    # Any bytes-like object is accepted.
    data = read("oces2-prod/voces.crt.der")
    assert dpgcert.load_certificates(bytearray(data))[0] == der[0]
    assert dpgcert.load_certificates(memoryview(data))[0] == der[0]


def test_load_errors(read):
    with pytest.raises(dpgcert.MalformedError):
        dpgcert.load_certificates(b"")
    with pytest.raises(dpgcert.MalformedError):
        dpgcert.load_certificates(read("oces2-prod/voces.crt.der")[:300])  # truncated
    with pytest.raises(dpgcert.MalformedError):
        dpgcert.load_certificates(bytes(range(256)))  # random bytes
    with pytest.raises(dpgcert.LimitExceededError):
        dpgcert.load_certificates(b"\0" * (1024 * 1024 + 1))
    with pytest.raises(TypeError, match="not str"):
        dpgcert.load_certificates(read("oces2-prod/voces.crt.pem").decode())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dpgcert.load_certificates(12)  # type: ignore[arg-type]


def test_properties_match_the_manifest_and_openssl(read, manifest):
    entry = manifest["oces2-prod/voces.crt.pem"]
    cert = dpgcert.load_certificates(read("oces2-prod/voces.crt.pem"))[0]
    der = read("oces2-prod/voces.crt.der")
    assert cert.der == der
    assert cert.fingerprint_sha256 == hashlib.sha256(der).hexdigest() == entry["sha256"]
    assert cert.pem == read("oces2-prod/voces.crt.pem").decode()
    assert ssl.PEM_cert_to_DER_cert(cert.pem) == der  # the standard library agrees
    assert cert.subject == (
        "CN=Testfirma A/S - VOCES+serialNumber=CVR:12345674-UID:1234567890123,O=Testfirma A/S // CVR:12345674,C=DK"
    )
    assert cert.issuer == entry["issuer_subject"]
    assert cert.serial_number == int(entry["serial"], 16)
    assert cert.not_valid_before_utc == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert cert.not_valid_after_utc == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert cert.not_valid_after_utc.tzinfo is timezone.utc
    assert cert.version == 3
    assert cert.key_algorithm == "RSA"
    assert cert.key_bits == entry["key_bits"] == 2048
    assert cert.signature_algorithm == entry["sig_alg"]
    assert cert.is_ca is False
    assert cert.key_usage is not None and "digitalSignature" in cert.key_usage
    assert isinstance(cert.extended_key_usage, list)
    assert cert.email_addresses == ["it@testfirma.dk"]


def test_ca_certificate(read):
    root = dpgcert.load_certificates(read("oces2-prod/root.crt.pem"))[0]
    assert root.is_ca is True
    assert root.subject == root.issuer
    assert root.key_usage is not None and "keyCertSign" in root.key_usage
    assert root.email_addresses == []
    assert root.oces.type == "root_ca"


def test_big_serial_numbers(read, manifest):
    # OCES3 serials are 20 bytes: more than any C integer, a plain Python int.
    cert = dpgcert.load_certificates(read("oces3-prod/organisation.crt.pem"))[0]
    assert cert.serial_number == int(manifest["oces3-prod/organisation.crt.pem"]["serial"], 16)
    assert cert.serial_number > 2**64


def test_identity(read, manifest):
    cert = dpgcert.load_certificates(read("oces2-test/foces.crt.pem"))[0]
    entry = manifest["oces2-test/foces.crt.pem"]
    oces = cert.oces
    assert isinstance(oces, dpgcert.Identity)
    assert oces.is_oces is True
    assert oces.generation == "oces2"
    assert oces.type == "foces"
    assert oces.environment == "test"
    assert oces.cvr == entry["cvr"] == "12345674"
    assert oces.cvr_valid is True
    assert oces.fid == oces.id == entry["id"]
    assert oces.uid is None and oces.rid is None and oces.pid is None and oces.uuid is None
    assert oces.subject_serial == f"CVR:12345674-FID:{entry['id']}"
    assert oces.organisation == "Testfirma A/S"
    assert oces.common_name is not None
    assert oces.email == "sikkerpost@testfirma.dk"
    assert oces.issuing_ca is None  # the synthetic CA is not in the catalogue of real OCES CAs
    assert oces.warnings == []
    assert oces.summary.startswith("OCES2 FOCES (function), test, CVR 12345674")
    j = json.loads(oces.to_json())
    assert j["type"] == "foces" and j["fid"] == entry["id"] and j["warnings"] == []


def test_identity_kinds(read, manifest):
    for path in ("oces2-prod/voces.crt.pem", "oces2-prod/moces.crt.pem", "oces2-prod/poces.crt.pem",
                 "oces3-prod/organisation.crt.pem", "oces3-prod/employee.crt.pem"):
        entry = manifest[path]
        oces = dpgcert.load_certificates(read(path))[0].oces
        assert oces.type == entry["type"], path
        assert oces.generation == entry["generation"], path
        assert oces.environment == entry["environment"], path
        assert getattr(oces, entry["id_kind"]) == entry["id"] == oces.id, path
    org = dpgcert.load_certificates(read("oces3-prod/organisation.crt.pem"))[0].oces
    assert org.uuid == manifest["oces3-prod/organisation.crt.pem"]["id"]
    moces = dpgcert.load_certificates(read("oces2-prod/moces.crt.pem"))[0].oces
    assert moces.rid == manifest["oces2-prod/moces.crt.pem"]["id"]
    poces = dpgcert.load_certificates(read("oces2-prod/poces.crt.pem"))[0].oces
    assert poces.pid == manifest["oces2-prod/poces.crt.pem"]["id"]
    assert poces.cvr is None and poces.cvr_valid is None


def test_identity_of_odd_certificates(read):
    bad = dpgcert.load_certificates(read("odd/voces-bad-cvr.crt.pem"))[0].oces
    assert bad.cvr == "12345678" and bad.cvr_valid is False
    assert any("check digit" in w or "CVR" in w for w in bad.warnings)
    other = dpgcert.load_certificates(read("other/server.crt.pem"))[0].oces
    assert other.is_oces is False
    assert other.generation == "none" and other.type == "none" and other.environment == "unknown"
    assert other.summary == "not an OCES certificate"


def test_values_compare_and_hash(read):
    a = dpgcert.load_certificates(read("oces2-prod/voces.crt.pem"))[0]
    b = dpgcert.load_certificates(read("oces2-prod/voces.crt.der"))[0]
    c = dpgcert.load_certificates(read("oces2-prod/foces.crt.pem"))[0]
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    assert a != "not a certificate"
    assert (a == 1) is False
    assert a.oces == b.oces and hash(a.oces) == hash(b.oces)
    assert a.oces != c.oces
    assert a.oces != object()


def test_repr(read):
    cert = dpgcert.load_certificates(read("oces2-prod/voces.crt.pem"))[0]
    text = repr(cert)
    assert text.startswith("<Certificate subject='CN=Testfirma A/S - VOCES")
    assert "not_valid_after=2027-01-01T00:00:00Z" in text
    assert cert.fingerprint_sha256[:16] in text
    assert repr(cert.oces).startswith("<Identity 'OCES2 VOCES (company), production")


def test_json(read):
    cert = dpgcert.load_certificates(read("oces2-prod/voces.crt.pem"))[0]
    j = json.loads(cert.to_json())
    assert j["fingerprint_sha256"] == cert.fingerprint_sha256
    assert j["not_after"] == "2027-01-01T00:00:00Z"
    assert j["oces"]["type"] == "voces" and j["oces"]["cvr"] == "12345674"


def test_not_constructible_from_python():
    with pytest.raises(TypeError):
        dpgcert.Certificate()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        dpgcert.Identity()  # type: ignore[call-arg]


def test_immutable(read):
    cert = dpgcert.load_certificates(read("oces2-prod/voces.crt.pem"))[0]
    with pytest.raises(AttributeError):
        cert.subject = "CN=changed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cert.oces.cvr = "00000000"  # type: ignore[misc]


def test_certificates_are_shared_between_threads(read):
    import concurrent.futures

    cert = dpgcert.load_certificates(read("oces2-prod/voces-fullchain.pem"))[0]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: (cert.fingerprint_sha256, cert.oces.summary), range(32)))
    assert len(set(results)) == 1
