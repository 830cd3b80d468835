"""Change notifications: Store.listen() yields a ChangeListener on PostgreSQL (the ctest fixture's
server, $DPGCERT_TEST_POSTGRESQL_DIR); a SQLite store raises UnsupportedError."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

import dpgcert
from conftest import AT, PASSWORD


def _server() -> tuple[str, Path]:
    """The fixture server's admin URI and its binaries' folder; skips without one."""
    folder = os.environ.get("DPGCERT_TEST_POSTGRESQL_DIR")
    if not folder or not (Path(folder) / "uri").is_file():
        pytest.skip("no PostgreSQL test server (DPGCERT_TEST_POSTGRESQL_DIR)")
    uri = (Path(folder) / "uri").read_text(encoding="utf-8").strip()
    return uri, Path((Path(folder) / "bin").read_text(encoding="utf-8").strip())


def _psql_env() -> dict[str, str]:
    """This process's environment without the sanitizer runtime the sanitized test build preloads
    into Python (psql under a preloaded ASan deadlocks in its Kerberos setup), and without GSSAPI."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    env["PGGSSENCMODE"] = "disable"
    return env


def _sql(bindir: Path, uri: str, sql: str) -> str:
    out = subprocess.run(
        [str(bindir / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c", sql],
        check=True, capture_output=True, text=True, env=_psql_env(), timeout=60,
    )
    return out.stdout.strip()


@pytest.fixture
def pg_location() -> tuple[str, str, Path]:
    """A new database on the fixture server: its URI, its name, the binaries' folder."""
    uri, bindir = _server()
    name = f"py_changes_{os.getpid()}_{time.monotonic_ns() % 1000000}"
    _sql(bindir, uri, f"CREATE DATABASE {name}")
    return uri.rsplit("/", 1)[0] + "/" + name, name, bindir


def test_sqlite_store_cannot_listen(store):
    with pytest.raises(dpgcert.UnsupportedError, match="sends no change notifications"):
        store.listen()


def test_changes_reach_the_listener(tmp_path, read, oces2_root, pg_location):
    location, name, bindir = pg_location
    data = read("oces2-prod/foces.p12")
    with dpgcert.Store.create(location, key_file=tmp_path / "k.key", actor="pytest", now=AT) as store:
        with store.listen() as listener:
            assert isinstance(listener, dpgcert.ChangeListener)
            assert listener.poll(0) is None
            started = time.monotonic()
            result = store.import_pkcs12(
                data, PASSWORD, organisation_cvr="12345674", mailbox="SikkerPost@Testfirma.dk", trust=oces2_root
            )
            returned = time.monotonic()
            change = listener.poll(2.0)
            heard = time.monotonic()
            assert isinstance(change, dpgcert.Change)
            assert change.kind == "certificate.import"
            assert change.mailbox == "sikkerpost@testfirma.dk"
            assert change.fingerprint == result.fingerprint
            assert "certificate.import" in repr(change)
            print(f"commit -> listener: {(heard - returned) * 1000:.2f} ms after the call returned, "
                  f"{(heard - started) * 1000:.2f} ms after it started")
            assert heard - returned < 0.1

            # Iterating yields changes as they come; a retirement is a status change.
            store.remove_mailbox("sikkerpost@testfirma.dk", retire_certificates=True)
            it = iter(listener)
            status, removed = next(it), next(it)
            assert (status.kind, status.fingerprint) == ("certificate.status", result.fingerprint)
            assert (removed.kind, removed.mailbox, removed.fingerprint) == (
                "mailbox.remove", "sikkerpost@testfirma.dk", None)
            assert len({status, removed, status}) == 2

            # The server ends the listener's session: it connects again and says reload first.
            ended = _sql(bindir, location, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                           f"WHERE datname = '{name}' AND query LIKE 'LISTEN%'")
            assert ended == "1"
            reload = listener.poll(5.0)
            assert reload is not None and reload.kind == "reload"
            assert reload.mailbox is None and reload.fingerprint is None
            with pytest.raises(dpgcert.InvalidArgumentError):
                listener.poll(-1)
        assert listener.closed
        with pytest.raises(dpgcert.InvalidArgumentError, match="closed"):
            listener.poll(0)
