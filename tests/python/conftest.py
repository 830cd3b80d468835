"""Fixtures for the dpgcert Python tests: the synthetic PKI (tests/data/make_pki.sh, made by
ctest's make_test_pki fixture into $DPGCERT_TEST_DATA) and the binding test data
(tests/bindings/make_binding_data.sh, $DPGCERT_BINDING_DATA)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import dpgcert

#: The synthetic PKI's validation time (its manifest's validation_time).
AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
PASSWORD = "Test1234"


def _dir(variable: str) -> Path:
    value = os.environ.get(variable)
    if not value:
        pytest.fail(f"{variable} is not set (ctest sets it; its fixtures make the data)")
    path = Path(value)
    assert path.is_dir(), path
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return _dir("DPGCERT_TEST_DATA")


@pytest.fixture(scope="session")
def binding_dir() -> Path:
    return _dir("DPGCERT_BINDING_DATA")


@pytest.fixture(scope="session")
def manifest(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The manifest's entries by path."""
    files = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))["files"]
    return {entry["path"]: entry for entry in files}


@pytest.fixture(scope="session")
def read(data_dir: Path):
    def read_file(relative: str) -> bytes:
        return (data_dir / relative).read_bytes()

    return read_file


@pytest.fixture(scope="session")
def oces2_root(read) -> list[dpgcert.Certificate]:
    return dpgcert.load_certificates(read("oces2-prod/root.crt.pem"))


@pytest.fixture(scope="session")
def oces3_root(read) -> list[dpgcert.Certificate]:
    return dpgcert.load_certificates(read("oces3-prod/root.crt.pem"))


@pytest.fixture(scope="session")
def foces_bundle(read) -> dpgcert.Pkcs12Bundle:
    return dpgcert.load_pkcs12(read("oces2-prod/foces.p12"), PASSWORD)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def store(tmp_path: Path, store_path: Path):
    """A new key-file store whose clock stands at AT."""
    with dpgcert.Store.create(store_path, key_file=tmp_path / "store.key", actor="pytest", now=AT) as s:
        yield s
