"""Validation: of certificates, bundles and file bytes; the report, its checks and its JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import dpgcert

from conftest import AT, PASSWORD


def test_bundle_report(foces_bundle, oces2_root):
    report = dpgcert.validate(foces_bundle, at=AT, trust=oces2_root, environment="production",
                              expected_cvr="12345674")
    assert isinstance(report, dpgcert.ValidationReport)
    assert report.verdict == "warn"  # RSA 2048: below the recommended 3072
    assert report.ok is True
    assert report.at == AT
    assert [c.id for c in report.checks] == list(dpgcert.CHECK_IDS)
    statuses = {c.id: c.status for c in report.checks}
    assert statuses["pkcs12_opened"] == "pass"
    assert statuses["key_matches_certificate"] == "pass"
    assert statuses["chain"] == "pass"
    assert statuses["key_strength"] == "warn"
    assert statuses["revocation"] == "skip"
    assert statuses["environment"] == "pass"
    assert statuses["cvr"] == "pass"
    assert all(isinstance(c, dpgcert.Check) and c.message for c in report.checks)
    assert report.certificate == foces_bundle.leaf
    assert report.identity == foces_bundle.leaf.oces
    assert [c.subject for c in report.chain][-1] == oces2_root[0].subject
    assert len(report.chain) == 3
    assert report.openssl_error == 0


def test_check_values(foces_bundle, oces2_root):
    report = dpgcert.validate(foces_bundle, at=AT, trust=oces2_root)
    chain = report.find("chain")
    assert chain is not None
    assert chain.id == "chain" and chain.status == "pass"
    assert "verified to the trust anchor" in chain.message
    assert report.find("no_such_check") is None
    again = dpgcert.validate(foces_bundle, at=AT, trust=oces2_root).find("chain")
    assert chain == again and hash(chain) == hash(again)
    assert chain != report.find("validity")
    assert chain != "chain"
    assert repr(chain).startswith("<Check chain pass 'verified to the trust anchor")


def test_report_json_and_text(foces_bundle, oces2_root):
    report = dpgcert.validate(foces_bundle, at=AT, trust=oces2_root)
    j = json.loads(report.to_json())
    assert j["verdict"] == "warn" and j["ok"] is True
    assert j["validation_time"] == "2025-06-01T00:00:00Z"
    assert [c["id"] for c in j["checks"]] == list(dpgcert.CHECK_IDS)
    assert j["certificate"]["fingerprint_sha256"] == foces_bundle.leaf.fingerprint_sha256
    text = report.to_text()
    assert "[WARN] key_strength" in text
    assert "Verdict: WARN" in text
    assert PASSWORD not in text and PASSWORD not in report.to_json()
    assert repr(report) == (
        f"<ValidationReport warn subject={foces_bundle.leaf.subject!r} at=2025-06-01T00:00:00Z>"
    )


def test_certificate_and_options(read, oces2_root):
    cert = dpgcert.load_certificates(read("oces2-prod/voces.crt.pem"))[0]
    ca = dpgcert.load_certificates(read("oces2-prod/ca.crt.pem"))
    report = dpgcert.validate(cert, at=AT, trust=oces2_root, intermediates=ca)
    assert report.find("pkcs12_opened").status == "skip"
    assert report.find("chain").status == "pass"
    # The wrong environment, the wrong CVR, more days wanted than are left.
    bad = dpgcert.validate(cert, at=AT, trust=oces2_root, intermediates=ca, environment="test",
                           expected_cvr="87654321", min_days=1000)
    assert bad.verdict == "fail" and bad.ok is False
    assert bad.find("environment").status == "fail"
    assert bad.find("cvr").status == "fail"
    assert bad.find("validity").status == "warn"
    # The generic policy has no OCES profile.
    generic = dpgcert.validate(cert, at=AT, trust=oces2_root, intermediates=ca, policy="generic")
    assert generic.find("certificate_type").status == "skip"
    # Without anchors, the built-in OCES roots: the synthetic chain does not verify.
    builtin = dpgcert.validate(cert, at=AT, intermediates=ca)
    assert builtin.find("chain").status == "fail"
    assert builtin.openssl_error != 0
    # Later, the certificate has expired.
    later = dpgcert.validate(cert, at=datetime(2027, 6, 1, tzinfo=timezone.utc), trust=oces2_root, intermediates=ca)
    assert later.find("validity").status == "fail"


def test_crls(read, oces2_root):
    revoked = dpgcert.load_pkcs12(read("odd/foces-revoked.p12"), PASSWORD)
    crl_pem = read("oces2-prod/crl-current.crl.pem")
    crl_der = read("oces2-prod/crl-current.crl.der")
    for crls in ([crl_pem], [crl_der], (crl_der,), [bytearray(crl_pem)]):
        report = dpgcert.validate(revoked, at=AT, trust=oces2_root, crls=crls)
        assert report.find("revocation").status == "fail"
        assert report.verdict == "fail"
    fine = dpgcert.validate(dpgcert.load_pkcs12(read("oces2-prod/foces.p12"), PASSWORD), at=AT, trust=oces2_root,
                            crls=[crl_der])
    assert fine.find("revocation").status == "pass"
    with pytest.raises(TypeError, match="sequence of bytes"):
        dpgcert.validate(revoked, at=AT, trust=oces2_root, crls=crl_der)  # type: ignore[arg-type]
    with pytest.raises(dpgcert.MalformedError):
        dpgcert.validate(revoked, at=AT, trust=oces2_root, crls=[b"not a CRL"])


def test_bytes_are_an_onboarding_check(read, oces2_root):
    data = read("oces2-prod/foces.p12")
    good = dpgcert.validate(data, at=AT, trust=oces2_root, password=PASSWORD)
    assert good.find("pkcs12_opened").status == "pass"
    assert good.ok
    # A wrong password is a report whose first check fails, not an exception.
    wrong = dpgcert.validate(data, at=AT, trust=oces2_root, password=b"wrong")
    assert wrong.find("pkcs12_opened").status == "fail"
    assert wrong.verdict == "fail"
    assert wrong.certificate is None and wrong.identity is None
    assert repr(wrong) == "<ValidationReport fail at=2025-06-01T00:00:00Z>"
    # Without a password the empty and absent password are tried.
    assert dpgcert.validate(read("odd/foces-emptypw.p12"), at=AT, trust=oces2_root).find("pkcs12_opened").status == "pass"
    # A certificate file.
    der = dpgcert.validate(read("oces2-prod/voces.crt.der"), at=AT, trust=oces2_root)
    assert der.find("pkcs12_opened").status == "skip"
    with pytest.raises(dpgcert.MalformedError):
        dpgcert.validate(b"\x00\x01junk", at=AT)
    with pytest.raises(dpgcert.InvalidArgumentError):
        dpgcert.validate(data, at=AT, password="a\x00b")


def test_argument_errors(foces_bundle, oces2_root):
    with pytest.raises(TypeError):
        dpgcert.validate(foces_bundle)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="validation time"):
        dpgcert.validate(foces_bundle, at=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="naive"):
        dpgcert.validate(foces_bundle, at=datetime(2025, 6, 1))
    with pytest.raises(TypeError, match="datetime"):
        dpgcert.validate(foces_bundle, at="2025-06-01")  # type: ignore[arg-type]
    with pytest.raises(dpgcert.InvalidArgumentError, match="policy"):
        dpgcert.validate(foces_bundle, at=AT, policy="strict")  # type: ignore[arg-type]
    with pytest.raises(dpgcert.InvalidArgumentError, match="environment"):
        dpgcert.validate(foces_bundle, at=AT, environment="staging")  # type: ignore[arg-type]
    with pytest.raises(dpgcert.InvalidArgumentError, match="environment"):
        dpgcert.validate(foces_bundle, at=AT, environment="unknown")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="password"):
        dpgcert.validate(foces_bundle, at=AT, password=PASSWORD)
    with pytest.raises(TypeError, match="password"):
        dpgcert.validate(foces_bundle.leaf, at=AT, password=PASSWORD)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dpgcert.validate(foces_bundle, at=AT, trust=[b"not a certificate"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        dpgcert.validate(12, at=AT)  # type: ignore[arg-type]
    # The epoch means "no time given" to the library: refused.
    with pytest.raises(dpgcert.InvalidArgumentError):
        dpgcert.validate(foces_bundle, at=datetime(1970, 1, 1, tzinfo=timezone.utc))
    # An aware time in another zone is the same instant.
    plus2 = timezone(timedelta(hours=2))
    report = dpgcert.validate(foces_bundle, at=datetime(2025, 6, 1, 2, 0, tzinfo=plus2), trust=oces2_root)
    assert report.at == AT


def test_reports_are_values_that_outlive_their_inputs(read, oces2_root):
    report = dpgcert.validate(dpgcert.load_pkcs12(read("oces2-prod/foces.p12"), PASSWORD), at=AT, trust=oces2_root)
    checks = report.checks
    cert = report.certificate
    del report
    assert len(checks) == len(dpgcert.CHECK_IDS)
    assert cert is not None and cert.oces.cvr == "12345674"


def test_not_constructible():
    with pytest.raises(TypeError):
        dpgcert.ValidationReport()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        dpgcert.Check()  # type: ignore[call-arg]


def test_path_options(read):
    """The path options of `dpgcert verify` as keyword arguments: EKU, revocation scope, key size."""
    root = dpgcert.load_certificates(read("other/root.crt.pem"))
    server = dpgcert.load_certificates(read("other/server.crt.pem"))[0]
    base = dict(at=AT, trust=root, policy="generic")
    assert dpgcert.validate(server, **base).find("key_usage").status == "skip"
    wanted = dpgcert.validate(server, eku=["serverAuth"], **base)
    assert wanted.find("key_usage").status == "pass"
    other = dpgcert.validate(server, eku=["emailProtection"], **base)
    assert other.find("key_usage").status == "fail"
    assert "emailProtection" in other.find("key_usage").message
    assert other.ok is False
    # The key-size floor reaches every certificate: above the keys here, everything fails.
    assert dpgcert.validate(server, min_key_bits=8192, **base).find("key_strength").status == "fail"
    assert dpgcert.validate(server, revocation="off", **base).find("revocation").status == "skip"
    # The server certificate carries no certificate policy: an explicit policy fails its path.
    assert dpgcert.validate(server, policies=["2.5.29.32.0"], **base).find("chain").status == "pass"
    assert dpgcert.validate(server, explicit_policy=True, **base).find("chain").status == "fail"
    assert dpgcert.validate(server, max_depth=0, **base).find("chain").status == "pass"
    with pytest.raises(dpgcert.Error) as e:
        dpgcert.validate(server, revocation="everything", **base)
    assert e.value.code == "invalid_argument"
    with pytest.raises(ValueError):
        dpgcert.validate(server, stale_crl="ignore", **base)


def test_wrong_password_error_code(read, oces2_root):
    wrong = dpgcert.validate(read("oces2-prod/foces.p12"), at=AT, trust=oces2_root, password=b"wrong")
    assert wrong.error_code == "bad_password"
    assert json.loads(wrong.to_json())["error_code"] == "bad_password"
    right = dpgcert.validate(read("oces2-prod/foces.p12"), at=AT, trust=oces2_root, password=PASSWORD)
    assert right.error_code is None
