"""The inventory store: create/open, import, queries, the gateway's current bundle, errors."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from datetime import datetime, timedelta, timezone

import pytest

import dpgcert

from conftest import AT, PASSWORD

MAILBOX = "sikkerpost@testfirma.dk"


def import_file(store, read, path, **kwargs):
    return store.import_pkcs12(read(path), PASSWORD, **kwargs)


def test_create_open_and_close(tmp_path, store_path):
    key = tmp_path / "store.key"
    created = dpgcert.Store.create(store_path, key_file=key, actor="pytest", now=AT)
    assert isinstance(created, dpgcert.Store)
    assert created.path == str(store_path)
    assert created.closed is False
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert created.count() == 0
    created.close()
    assert created.closed is True
    assert repr(created) == f"<Store {str(store_path)!r} closed>"
    with pytest.raises(dpgcert.InvalidArgumentError, match="closed"):
        created.count()
    created.close()  # closing twice is harmless
    with dpgcert.Store(str(store_path)) as reopened:
        assert repr(reopened) == f"<Store {str(store_path)!r}>"
        assert reopened.query() == []
    assert reopened.closed


def test_create_and_open_errors(tmp_path, store_path):
    key = tmp_path / "store.key"
    dpgcert.Store.create(store_path, key_file=key).close()
    with pytest.raises(dpgcert.ConflictError) as info:
        dpgcert.Store.create(store_path, key_file=key)
    assert info.value.code == "conflict"
    with pytest.raises(dpgcert.InvalidArgumentError, match="key_file or passphrase"):
        dpgcert.Store.create(tmp_path / "other.db")
    with pytest.raises(dpgcert.NotFoundError):
        dpgcert.Store.create(tmp_path / "no" / "folder" / "s.db", key_file=key)
    with pytest.raises(dpgcert.NotFoundError):
        dpgcert.Store(tmp_path / "absent.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, just some text that is long enough" * 4)
    with pytest.raises(dpgcert.MalformedError):
        dpgcert.Store(junk)
    with pytest.raises(ValueError, match="naive"):
        dpgcert.Store(store_path, now=datetime(2025, 6, 1))
    with pytest.raises(TypeError):
        dpgcert.Store(12)  # type: ignore[arg-type]
    # A store from a newer dpgcert (its schema version is higher than this library knows).
    with sqlite3.connect(store_path) as db:
        db.execute("INSERT INTO schema_version VALUES (9999, 0, 'from the future')")
    db.close()
    with pytest.raises(dpgcert.UnsupportedError, match="schema version 9999"):
        dpgcert.Store(store_path)


def test_import_outcomes(store, read, oces2_root, manifest):
    result = import_file(store, read, "oces2-prod/foces.p12", organisation_cvr="12345674", mailbox=MAILBOX,
                         trust=oces2_root, source="test_store.py", actor="pytest")
    assert isinstance(result, dpgcert.ImportResult)
    assert result.outcome == "imported"
    assert result.fingerprint == manifest["oces2-prod/foces.p12"]["sha256"]
    assert result.report is not None and result.report.verdict == "warn"
    assert result.superseded == []
    summary = result.summary
    assert isinstance(summary, dpgcert.CertificateSummary)
    assert summary.fingerprint == result.fingerprint and summary.mailbox == MAILBOX
    assert repr(result) == f"<ImportResult imported {result.fingerprint[:16]}>"

    again = import_file(store, read, "oces2-prod/foces.p12", mailbox=MAILBOX, trust=oces2_root)
    assert again.outcome == "already_present"
    assert again.report is None  # not validated again

    with pytest.raises(dpgcert.ConflictError):
        import_file(store, read, "oces2-prod/foces.p12", mailbox="other@testfirma.dk", trust=oces2_root)

    expired = import_file(store, read, "odd/foces-expired.p12", trust=oces2_root)
    assert expired.outcome == "refused"
    assert expired.summary is None
    assert expired.report is not None and expired.report.find("validity").status == "fail"
    forced = import_file(store, read, "odd/foces-expired.p12", trust=oces2_root, force=True)
    assert forced.outcome == "imported"
    assert store.count() == 2


def test_import_validation_options(store, read, oces2_root):
    # The default time is the store's clock (AT); other validation options pass through.
    wrong_env = import_file(store, read, "oces2-prod/foces.p12", trust=oces2_root, environment="test")
    assert wrong_env.outcome == "refused" and wrong_env.report.at == AT
    wrong_cvr = import_file(store, read, "oces2-prod/foces.p12", trust=oces2_root, expected_cvr="87654321")
    assert wrong_cvr.outcome == "refused"
    later = import_file(store, read, "oces2-prod/foces.p12", trust=oces2_root,
                        at=datetime(2028, 1, 1, tzinfo=timezone.utc))
    assert later.outcome == "refused" and later.report.find("validity").status == "fail"
    crl = read("oces2-prod/crl-current.crl.der")
    revoked = import_file(store, read, "odd/foces-revoked.p12", trust=oces2_root, crls=[crl])
    assert revoked.outcome == "refused"
    generic = import_file(store, read, "oces2-prod/foces.p12", trust=oces2_root, policy="generic", min_days=10)
    assert generic.outcome == "imported"
    assert generic.report.find("certificate_type").status == "skip"
    ca = dpgcert.load_certificates(read("oces2-prod/ca.crt.pem"))
    other = import_file(store, read, "oces2-prod/voces.p12", trust=oces2_root, intermediates=ca)
    assert other.outcome == "imported"


def test_import_errors(store, read, oces2_root, binding_dir):
    data = read("oces2-prod/foces.p12")
    with pytest.raises(dpgcert.BadPasswordError):
        store.import_pkcs12(data, "wrong", trust=oces2_root)
    with pytest.raises(dpgcert.MalformedError):
        store.import_pkcs12(data[:100], PASSWORD, trust=oces2_root)
    with pytest.raises(dpgcert.InvalidArgumentError):
        store.import_pkcs12((binding_dir / "ca-only.p12").read_bytes(), PASSWORD, trust=oces2_root)
    with pytest.raises(dpgcert.InvalidArgumentError):
        store.import_pkcs12(data, PASSWORD, organisation_cvr="1234", trust=oces2_root)
    with pytest.raises(dpgcert.InvalidArgumentError):
        store.import_pkcs12(data, PASSWORD, mailbox="no-at-sign", trust=oces2_root)
    with pytest.raises(ValueError, match="naive"):
        store.import_pkcs12(data, PASSWORD, at=datetime(2025, 6, 1))
    with pytest.raises(TypeError):
        store.import_pkcs12("text", PASSWORD)  # type: ignore[arg-type]
    assert store.count() == 0


def test_import_files(store, data_dir, oces2_root, oces3_root, manifest, tmp_path):
    files = [
        (data_dir / "oces2-prod/foces.p12", PASSWORD, "12345674", MAILBOX),
        (str(data_dir / "oces2-prod/voces.p12"), PASSWORD.encode()),
        (data_dir / "oces2-prod/moces.p12", "wrong-password"),
        (tmp_path / "absent.p12", PASSWORD),
        (data_dir / "odd/foces-expired.p12", PASSWORD),
        [data_dir / "oces2-prod/foces.p12", PASSWORD, None, MAILBOX],  # the first one again
    ]
    seen = []
    results = store.import_files(files, threads=2, trust=oces2_root, actor="bulk",
                                 progress=lambda done, total, r: seen.append((done, total, r.index)))
    assert [r.index for r in results] == list(range(6))
    assert [r.path for r in results] == [os.fspath(f[0]) for f in files]
    first = results[0].result
    assert isinstance(results[0], dpgcert.BulkImportResult) and results[0].error is None
    assert first.outcome == "imported"
    assert first.fingerprint == manifest["oces2-prod/foces.p12"]["sha256"]
    assert first.summary.mailbox == MAILBOX and first.summary.organisation_cvr == "12345674"
    assert results[1].result.outcome == "imported"
    # A wrong password, a missing file: an exception object each, not raised; nothing stored.
    assert results[2].result is None
    assert isinstance(results[2].error, dpgcert.BadPasswordError) and results[2].error.code == "bad_password"
    assert "wrong-password" not in str(results[2].error) and "wrong-password" not in repr(results[2])
    assert isinstance(results[3].error, dpgcert.InputOutputError) and results[3].error.code == "io"
    assert "No such file" in str(results[3].error)
    assert results[4].result.outcome == "refused"
    assert results[5].result.outcome == "already_present"
    assert repr(results[0]) == f"<BulkImportResult 0 {os.fspath(files[0][0])!r} imported>"
    assert repr(results[2]) == f"<BulkImportResult 2 {os.fspath(files[2][0])!r} error=bad_password>"
    # progress: once per file, counting up to the total, from the workers.
    assert sorted(done for done, _, _ in seen) == list(range(1, 7))
    assert {total for _, total, _ in seen} == {6}
    assert sorted(index for _, _, index in seen) == list(range(6))
    assert store.count() == 2

    # A progress callback that raises: every file is still done, then its exception is raised.
    def broken(done, total, result):
        raise RuntimeError("the display broke")

    with pytest.raises(RuntimeError, match="the display broke"):
        store.import_files([(data_dir / "oces3-prod/organisation.p12", PASSWORD)], trust=oces3_root,
                           progress=broken)
    assert store.count() == 3

    assert store.import_files([]) == []
    with pytest.raises(TypeError, match="tuples"):
        store.import_files(["just-a-path.p12"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="tuples"):
        store.import_files([(data_dir / "oces2-prod/poces.p12",)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="PathLike"):
        store.import_files([(12, PASSWORD)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="str or os.PathLike"):
        store.import_files([(b"/bytes/path.p12", PASSWORD)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="naive"):
        store.import_files([(data_dir / "oces2-prod/poces.p12", PASSWORD)], at=datetime(2025, 6, 1))
    assert store.count() == 3


def fill(store, read, oces2_root, oces3_root):
    """The foces certificate superseding its predecessor in MAILBOX, a revoked one alone in
    revoked@, and an OCES3 organisation certificate attached to no mailbox."""
    import_file(store, read, "odd/foces-expiring-soon.p12", mailbox=MAILBOX, trust=oces2_root)
    renewal = import_file(store, read, "oces2-prod/foces.p12", mailbox=MAILBOX, trust=oces2_root)
    crl = read("oces2-prod/crl-current.crl.der")
    import_file(store, read, "odd/foces-revoked.p12", mailbox="revoked@testfirma.dk", trust=oces2_root,
                crls=[crl], force=True)
    import_file(store, read, "oces3-prod/organisation.p12", trust=oces3_root)
    return renewal


def test_supersede(store, read, oces2_root, oces3_root, manifest):
    renewal = fill(store, read, oces2_root, oces3_root)
    assert renewal.superseded == [manifest["odd/foces-expiring-soon.p12"]["sha256"]]
    assert repr(renewal).endswith(" superseded=1>")


def test_queries(store, read, oces2_root, oces3_root, manifest):
    fill(store, read, oces2_root, oces3_root)
    everything = store.query()
    assert len(everything) == store.count() == 4
    assert [s.not_valid_after_utc for s in everything] == sorted(s.not_valid_after_utc for s in everything)
    first = everything[0]
    assert first.status == "superseded"
    assert first.not_valid_after_utc == datetime(2025, 6, 20, tzinfo=timezone.utc)

    (current,) = store.query(mailbox=MAILBOX, status="active")
    assert current.id > 0
    assert current.fingerprint == manifest["oces2-prod/foces.p12"]["sha256"]
    assert current.status == "active"
    assert current.not_valid_before_utc == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert current.not_valid_after_utc == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert current.organisation_cvr == "12345674"
    assert current.mailbox == MAILBOX
    assert current.cvr == "12345674"
    assert current.generation == "oces2"
    assert current.type == "foces"
    assert current.environment == "production"
    assert current.oces_id == "94731315"
    assert current.common_name == "sikkerpost"
    assert repr(current).startswith(f"<CertificateSummary {current.fingerprint[:16]} active not_valid_after=2027-01-01")

    # Values: equal when every field is, hashable.
    (same,) = store.query(mailbox=MAILBOX, status="active")
    assert same == current and hash(same) == hash(current)
    assert current != first and current != "x"
    assert len(set(store.query()) | {same}) == 4

    assert store.count(status="revoked") == 1
    assert store.count(status="superseded") == 1
    assert store.count(organisation_cvr="12345674") == 4
    assert store.count(organisation_cvr="99999990") == 0
    cut = datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert store.count(not_after_from=cut) == 3
    assert store.count(not_after_before=cut) == 1
    assert len(store.query(not_after_from=cut, limit=2)) == 2
    assert len(store.query(not_after_from=cut, limit=2, offset=2)) == 1
    oces3 = [s for s in store.query(status="active") if s.generation == "oces3"]
    assert len(oces3) == 1 and oces3[0].mailbox is None and oces3[0].type == "organisation"


def test_expiring_before(store, read, oces2_root, oces3_root):
    fill(store, read, oces2_root, oces3_root)
    # The renewal question: active ones ending within 30 days - none, the old one was superseded.
    assert store.expiring_before(AT + timedelta(days=30)) == []
    soon = store.expiring_before(AT + timedelta(days=3 * 365))
    assert {s.status for s in soon} == {"active"}
    assert len(soon) == 2  # the revoked one is not active
    with pytest.raises(ValueError, match="naive"):
        store.expiring_before(datetime(2026, 1, 1))


def test_query_errors(store):
    with pytest.raises(dpgcert.InvalidArgumentError, match="status"):
        store.query(status="lost")  # type: ignore[arg-type]
    with pytest.raises(dpgcert.InvalidArgumentError, match="status"):
        store.count(status="")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="naive"):
        store.query(not_after_before=datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        store.query(limit=-1)
    with pytest.raises(TypeError):
        store.query("positional")  # type: ignore[misc]


def test_current_bundle(store, read, oces2_root, oces3_root, manifest):
    fill(store, read, oces2_root, oces3_root)
    bundle = store.current_bundle(MAILBOX)
    assert isinstance(bundle, dpgcert.Pkcs12Bundle)
    assert bundle.leaf.fingerprint_sha256 == manifest["oces2-prod/foces.p12"]["sha256"]
    assert bundle.key_matches and bundle.has_private_key
    assert store.current_bundle(MAILBOX.upper()).leaf == bundle.leaf  # addresses in lowercase
    assert store.current_bundle("revoked@testfirma.dk") is None  # its only certificate is revoked
    with pytest.raises(dpgcert.NotFoundError):
        store.current_bundle("nobody@testfirma.dk")


def test_copy_to(tmp_path, store, read, oces2_root, oces3_root, manifest):
    fill(store, read, oces2_root, oces3_root)
    target = tmp_path / "copy" / "copy.db"
    target.parent.mkdir()
    result = store.copy_to(f"sqlite:{target}")
    assert result["destination"] == str(target)
    assert result["certificates"] == store.count() > 0
    assert len(result["fingerprint_digest"]) == 64
    assert result["tables"]["secrets"] == result["certificates"]
    with dpgcert.Store(target, key_file=tmp_path / "store.key") as copy:
        assert [c.fingerprint for c in copy.query()] == [c.fingerprint for c in store.query()]
        assert copy.current_bundle(MAILBOX).leaf.fingerprint_sha256 == manifest["oces2-prod/foces.p12"]["sha256"]
    with pytest.raises(dpgcert.ConflictError):
        store.copy_to(str(target))  # a store is there now
    with pytest.raises(dpgcert.NotFoundError):
        store.copy_to(str(tmp_path / "missing" / "c.db"))
    assert not (tmp_path / "missing").exists()


def test_master_key_errors(tmp_path, store_path, read, oces2_root):
    with dpgcert.Store.create(store_path, key_file=tmp_path / "a.key", now=AT) as s:
        import_file(s, read, "oces2-prod/foces.p12", mailbox=MAILBOX, trust=oces2_root)
    dpgcert.Store.create(tmp_path / "b.db", key_file=tmp_path / "b.key").close()
    with dpgcert.Store(store_path, key_file=tmp_path / "b.key") as wrong:
        with pytest.raises(dpgcert.BadPasswordError):
            wrong.current_bundle(MAILBOX)
    # A key file that cannot be read (a folder) is an I/O error, an OSError too.
    with dpgcert.Store(store_path, key_file=tmp_path) as unreadable:
        with pytest.raises(dpgcert.InputOutputError) as info:
            unreadable.current_bundle(MAILBOX)
        assert isinstance(info.value, OSError) and info.value.code == "io"


def test_passphrase_store(store_path, read, oces2_root):
    tiny = dict(argon2_memory_kib=8, argon2_iterations=1, argon2_parallelism=1)  # a test, not a real store
    with dpgcert.Store.create(store_path, passphrase="correct horse", now=AT, **tiny) as s:
        import_file(s, read, "oces2-prod/foces.p12", mailbox=MAILBOX, trust=oces2_root)
        assert s.current_bundle(MAILBOX) is not None
    with dpgcert.Store(store_path, passphrase=b"correct horse") as s:
        assert s.current_bundle(MAILBOX).key_matches
    with dpgcert.Store(store_path, passphrase="wrong horse") as s:
        with pytest.raises(dpgcert.BadPasswordError):
            s.current_bundle(MAILBOX)
    with dpgcert.Store(store_path) as s:  # no passphrase: reading works, unsealing cannot
        assert s.count() == 1
        with pytest.raises(dpgcert.InvalidArgumentError):
            s.current_bundle(MAILBOX)


def test_shared_between_threads(store, read, oces2_root):
    files = ["oces2-prod/foces.p12", "oces2-prod/voces.p12", "oces2-prod/moces.p12", "oces2-prod/poces.p12"]
    data = [read(f) for f in files]
    errors: list[BaseException] = []

    def work(blob: bytes) -> None:
        try:
            store.import_pkcs12(blob, PASSWORD, trust=oces2_root, force=True)
            store.query()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(d,)) for d in data]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count() == 4


def test_not_constructible():
    with pytest.raises(TypeError):
        dpgcert.CertificateSummary()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        dpgcert.ImportResult()  # type: ignore[call-arg]
