"""Times: aware UTC datetimes out, aware datetimes of any zone in, naive ones refused. Converted by
hand in the module (never pybind11/chrono.h, which makes naive local times)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

import pytest

import dpgcert

from conftest import AT


def roundtrip(bundle, root, at: datetime) -> datetime:
    """The time goes in as the validation time and comes back as the report's."""
    return dpgcert.validate(bundle, at=at, trust=root).at


def test_out_is_aware_utc(read):
    cert = dpgcert.load_certificates(read("oces2-prod/voces.crt.pem"))[0]
    for t in (cert.not_valid_before_utc, cert.not_valid_after_utc):
        assert t.tzinfo is timezone.utc
        assert t.utcoffset() == timedelta(0)
        assert t.microsecond == 0


@pytest.mark.parametrize(
    "at, expected",
    [
        (AT, AT),
        (datetime(2025, 6, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))), AT),
        (datetime(2025, 5, 31, 19, 30, tzinfo=timezone(timedelta(hours=-4, minutes=-30))), AT),
        # Microseconds are dropped, rounding down (also before 1970).
        (AT + timedelta(microseconds=999_999), AT),
        (datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=timezone.utc),
         datetime(1969, 12, 31, 23, 59, 59, tzinfo=timezone.utc)),
        (datetime(1900, 3, 1, tzinfo=timezone.utc), datetime(1900, 3, 1, tzinfo=timezone.utc)),
        (datetime(2000, 2, 29, 12, 0, 1, tzinfo=timezone.utc), datetime(2000, 2, 29, 12, 0, 1, tzinfo=timezone.utc)),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)),
        # An offset with seconds and microseconds (allowed since Python 3.7).
        (datetime(2025, 6, 1, 0, 0, 30, tzinfo=timezone(timedelta(seconds=30, microseconds=1))),
         datetime(2025, 5, 31, 23, 59, 59, tzinfo=timezone.utc)),
    ],
)
def test_in_any_zone(foces_bundle, oces2_root, at, expected):
    got = roundtrip(foces_bundle, oces2_root, at)
    assert got == expected
    assert got.tzinfo is timezone.utc


def test_naive_and_wrong_types_are_refused(foces_bundle, oces2_root):
    with pytest.raises(ValueError, match="naive"):
        dpgcert.validate(foces_bundle, at=datetime(2025, 6, 1), trust=oces2_root)
    with pytest.raises(ValueError, match="naive"):
        dpgcert.validate(foces_bundle, at=datetime.now(), trust=oces2_root)  # local, naive
    with pytest.raises(TypeError, match="datetime"):
        dpgcert.validate(foces_bundle, at=AT.date(), trust=oces2_root)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="datetime"):
        dpgcert.validate(foces_bundle, at=AT.timestamp(), trust=oces2_root)  # type: ignore[arg-type]


def test_a_tzinfo_without_an_offset_is_naive(foces_bundle):
    class Nowhere(tzinfo):
        def utcoffset(self, dt):
            return None

        def tzname(self, dt):
            return None

        def dst(self, dt):
            return None

    with pytest.raises(ValueError, match="naive"):
        dpgcert.validate(foces_bundle, at=datetime(2025, 6, 1, tzinfo=Nowhere()))
