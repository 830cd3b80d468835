"""Exceptions: one base with a stable code, subclasses that also derive from the right built-in, and
each raised for what the library reports."""

from __future__ import annotations

import pytest

import dpgcert

from conftest import PASSWORD

HIERARCHY = [
    (dpgcert.BadPasswordError, "bad_password", ValueError),
    (dpgcert.MalformedError, "malformed", ValueError),
    (dpgcert.UnsupportedError, "unsupported", None),
    (dpgcert.LimitExceededError, "limit_exceeded", None),
    (dpgcert.NotFoundError, "not_found", LookupError),
    (dpgcert.ConflictError, "conflict", None),
    (dpgcert.InputOutputError, "io", OSError),
    (dpgcert.InvalidArgumentError, "invalid_argument", ValueError),
    (dpgcert.InternalError, "internal", None),
    (dpgcert.LockedError, "locked", PermissionError),
]


@pytest.mark.parametrize("cls, code, builtin", HIERARCHY)
def test_hierarchy_and_codes(cls, code, builtin):
    assert issubclass(cls, dpgcert.Error)
    assert issubclass(dpgcert.Error, Exception)
    assert cls.code == code
    assert cls.__module__ == "dpgcert"
    assert cls.__doc__
    if builtin is not None:
        assert issubclass(cls, builtin)
    # Not a ValueError unless it says so: callers catch ValueError for bad input only.
    if builtin is not ValueError:
        assert not issubclass(cls, ValueError)
    # Subclasses can be made and raised by callers too (e.g. in test doubles).
    with pytest.raises(cls) as info:
        raise cls("made by a test")
    assert str(info.value) == "made by a test"
    assert info.value.code == code


def test_codes_are_distinct():
    assert len({code for _, code, _ in HIERARCHY}) == len(HIERARCHY)


def test_raised_errors_carry_code_and_message(read):
    with pytest.raises(dpgcert.BadPasswordError) as info:
        dpgcert.load_pkcs12(read("oces2-prod/foces.p12"), "Test1235")
    err = info.value
    assert err.code == "bad_password"
    assert isinstance(err, ValueError) and isinstance(err, dpgcert.Error)
    assert "MAC" in str(err)
    assert "Test1235" not in str(err)  # never the password


def test_malformed_and_limit(read):
    with pytest.raises(dpgcert.MalformedError) as info:
        dpgcert.load_pkcs12(b"\x30\x03\x02\x01\x03", PASSWORD)
    assert info.value.code == "malformed"
    with pytest.raises(dpgcert.LimitExceededError) as info2:
        dpgcert.load_certificates(bytes(1024 * 1024 + 1))
    assert info2.value.code == "limit_exceeded"
    assert not isinstance(info2.value, ValueError)


def test_invalid_argument_is_a_value_error(read):
    with pytest.raises(ValueError) as info:
        dpgcert.load_pkcs12(read("oces2-prod/foces.p12"), "Test\x001234")
    assert isinstance(info.value, dpgcert.InvalidArgumentError)
    assert info.value.code == "invalid_argument"


def test_not_found_is_a_lookup_error(tmp_path):
    with pytest.raises(LookupError) as info:
        dpgcert.Store(tmp_path / "absent.db")
    assert isinstance(info.value, dpgcert.NotFoundError)
    assert info.value.code == "not_found"


#: The DER of the OID of AES-256-CBC (2.16.840.1.101.3.4.1.42).
AES_256_CBC_OID = bytes.fromhex("060960864801650304012a")


def test_unsupported_algorithm(read):
    # An algorithm dpgcert does not know is refused before the MAC and any key derivation.
    data = read("oces2-prod/foces.p12")
    assert data.count(AES_256_CBC_OID) == 2
    patched = data.replace(AES_256_CBC_OID, AES_256_CBC_OID[:-1] + b"\x7f")
    with pytest.raises(dpgcert.UnsupportedError) as info:
        dpgcert.load_pkcs12(patched, PASSWORD)
    assert info.value.code == "unsupported"
    assert "2.16.840.1.101.3.4.1.127" in str(info.value)


def test_plain_errors_are_no_value_errors():
    # An `except ValueError` for bad input must not swallow a bug, a missing algorithm, a limit or
    # a conflict. (InternalError cannot be provoked with sound input; its place is checked here.)
    for cls in (dpgcert.InternalError, dpgcert.UnsupportedError, dpgcert.ConflictError, dpgcert.LimitExceededError):
        assert cls.__mro__[1] is dpgcert.Error
        assert cls.__mro__[2] is Exception
