"""Renewal tracking: Store.check() with its events, and Python callables as callback sinks."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

import dpgcert

from conftest import AT, PASSWORD

MAILBOX = "faktura@testfirma.dk"
ENDS = datetime(2025, 6, 20, tzinfo=timezone.utc)  # odd/foces-expiring-soon


@pytest.fixture
def tracked(store, read, oces2_root):
    """A store whose certificate ends 2025-06-20 (19 days after AT), with the callback sink "py"."""
    r = store.import_pkcs12(read("odd/foces-expiring-soon.p12"), PASSWORD, mailbox=MAILBOX, trust=oces2_root)
    assert r.outcome == "imported"
    store.add_callback_sink("py")
    return store


def test_threshold_event(tracked, manifest):
    seen: list[dpgcert.Event] = []
    result = tracked.check(AT, callbacks={"py": seen.append})
    assert isinstance(result, dpgcert.CheckResult)
    assert result.at == AT
    assert result.evaluated >= 1
    assert result.delivered == 1 and result.failed == 0
    assert result.warning == 1 and result.critical == 0
    assert result.worst == "warning"
    (event,) = result.emitted
    assert isinstance(event, dpgcert.Event)
    assert seen == [event]  # the callback got the same event
    assert event.kind == "expiring"
    assert event.stage_days == 30  # 19 days left: the 30-day threshold has been crossed
    assert event.days_left == 19
    assert event.at == AT
    assert event.effective_not_after_utc == ENDS
    assert event.fingerprint == manifest["odd/foces-expiring-soon.p12"]["sha256"]
    assert isinstance(event.certificate, dpgcert.CertificateSummary)
    assert event.certificate.fingerprint == event.fingerprint
    assert event.certificate.not_valid_after_utc == ENDS
    assert event.cvr == "12345674"
    assert event.mailbox == MAILBOX
    assert event.organisation_name == "Testfirma A/S"
    assert event.superseded_by is None
    assert event.failed_checks == []
    assert len(event.id) == 32
    payload = json.loads(event.to_json())
    assert payload["id"] == event.id and payload["kind"] == "expiring" and payload["stage_days"] == 30
    assert repr(event) == (f"<Event expiring stage=30 days_left=19 {event.fingerprint[:16]} mailbox={MAILBOX!r} "
                           f"id={event.id}>")
    assert repr(result) == "<CheckResult at=2025-06-01T00:00:00Z emitted=1 delivered=1 failed=0 worst=warning>"
    assert hash(event) == hash(seen[0]) and event != "x"

    # The same day again: nothing new, nothing delivered.
    again = tracked.check(AT + timedelta(hours=1), callbacks={"py": seen.append})
    assert again.emitted == [] and again.delivered == 0
    assert len(seen) == 1


def test_a_raising_callback_gets_the_event_again(tracked):
    calls: list[str] = []

    def refuse(event: dpgcert.Event) -> None:
        calls.append(event.id)
        raise RuntimeError("the ticket system is down")

    first = tracked.check(AT, callbacks={"py": refuse})
    assert first.failed == 1 and first.delivered == 0 and len(first.emitted) == 1
    # Past the retry delay the same event (same id) comes again; this time it is taken.
    second = tracked.check(AT + timedelta(hours=1), callbacks={"py": lambda e: calls.append(e.id)})
    assert second.delivered == 1 and second.emitted == []
    assert len(calls) == 2 and calls[0] == calls[1]


def test_events_wait_for_their_callback(tracked, read, oces2_root):
    # Without the callable the event is recorded and waits; deliver=False records only.
    recorded = tracked.check(AT)
    assert len(recorded.emitted) == 1 and recorded.delivered == 0
    renewal = tracked.import_pkcs12(read("oces2-prod/foces.p12"), PASSWORD, mailbox=MAILBOX, trust=oces2_root)
    assert renewal.outcome == "imported"
    quiet = tracked.check(AT + timedelta(days=1), deliver=False, callbacks={"py": pytest.fail})
    (renewed,) = quiet.emitted
    assert renewed.kind == "renewed" and renewed.stage_days is None
    assert renewed.superseded_by == renewal.fingerprint
    assert quiet.delivered == 0
    kinds: list[str] = []
    delivered = tracked.check(AT + timedelta(days=1, minutes=1), callbacks={"py": lambda e: kinds.append(e.kind)})
    assert sorted(kinds) == ["expiring", "renewed"]
    assert delivered.delivered == 2
    # Years later the renewal has expired: critical.
    late = tracked.check(AT + timedelta(days=3 * 365), callbacks={"py": lambda e: kinds.append(e.kind)})
    (expired,) = late.emitted
    assert expired.kind == "expired" and expired.stage_days == 0 and expired.days_left < 0
    assert late.worst == "critical" and late.critical == 1
    assert kinds[-1] == "expired"


def test_revoked_and_forced_certificates_are_announced(store, read, oces2_root):
    crl = read("oces2-prod/crl-current.crl.der")
    store.import_pkcs12(read("odd/foces-revoked.p12"), PASSWORD, trust=oces2_root, crls=[crl], force=True)
    store.import_pkcs12(read("odd/foces-not-yet-valid.p12"), PASSWORD, trust=oces2_root, force=True)
    events = {e.kind: e for e in store.check(AT).emitted}
    assert set(events) == {"revoked", "validation_failed"}
    assert events["revoked"].stage_days is None
    assert "validity" in events["validation_failed"].failed_checks


def test_check_errors(tracked):
    with pytest.raises(dpgcert.NotFoundError, match="misspelt"):
        tracked.check(AT, callbacks={"misspelt": print})
    with pytest.raises(TypeError, match="not callable"):
        tracked.check(AT, callbacks={"py": 42})
    with pytest.raises(TypeError, match="sink names"):
        tracked.check(AT, callbacks={1: print})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="naive"):
        tracked.check(datetime(2025, 6, 1))
    with pytest.raises(TypeError):
        tracked.check("2025-06-01")  # type: ignore[arg-type]
    with pytest.raises(dpgcert.ConflictError):
        tracked.add_callback_sink("py")
    with pytest.raises(dpgcert.InvalidArgumentError):
        tracked.add_callback_sink("no spaces allowed")
    # Nothing ran: the event is still to come.
    assert len(tracked.check(AT).emitted) == 1


def test_an_interrupt_in_a_callback_is_raised_after_the_check(tracked):
    def interrupt(event: dpgcert.Event) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tracked.check(AT, callbacks={"py": interrupt})
    # The check itself completed: the event was recorded, and its delivery failed.
    again = tracked.check(AT + timedelta(hours=1), callbacks={"py": lambda e: None})
    assert again.emitted == [] and again.delivered == 1


def test_callbacks_take_the_gil_back_without_deadlock(tracked):
    """The check runs without the GIL and takes it back for each callable: with another thread busy
    in Python meanwhile, it neither deadlocks nor keeps that thread from running."""
    ticks = 0
    done = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    other = threading.Thread(target=spin)
    other.start()
    try:
        seen: list[str] = []
        result = tracked.check(AT, callbacks={"py": lambda e: seen.append(e.kind)})
    finally:
        done.set()
        other.join()
    assert seen == ["expiring"] and result.delivered == 1
    assert ticks > 0


def test_not_constructible():
    with pytest.raises(TypeError):
        dpgcert.Event()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        dpgcert.CheckResult()  # type: ignore[call-arg]


def test_min_interval_skips_after_a_recent_check(tracked):
    first = tracked.check(AT, min_interval=timedelta(hours=1))
    assert not first.skipped and first.skip_reason is None
    assert len(first.emitted) == 1
    # The last check (any node, the wall clock) ended just now: the next one waits an hour.
    second = tracked.check(AT + timedelta(days=5), min_interval=timedelta(hours=1))
    assert second.skipped and second.emitted == [] and second.evaluated == 0
    assert second.skip_reason.startswith("the last check ended at ")
    assert "the minimum interval is 3600 s" in second.skip_reason
    # Without the rule it runs; exclusive alone only needs the lock, which is free.
    assert not tracked.check(AT + timedelta(days=5), exclusive=True).skipped
    with pytest.raises(TypeError):
        tracked.check(AT, min_interval=3600)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        tracked.check(AT, min_interval=timedelta(seconds=-1))


def test_events_wait_for_the_first_sink_of_any_kind(store, read, oces2_root, tmp_path):
    store.import_pkcs12(read("odd/foces-expiring-soon.p12"), PASSWORD, mailbox=MAILBOX, trust=oces2_root)
    first = store.check(AT)
    assert len(first.emitted) == 1
    assert first.no_sink and first.undelivered_backlog == 1
    with pytest.raises(dpgcert.InvalidArgumentError):
        store.add_sink("log", "pager")
    with pytest.raises(dpgcert.InvalidArgumentError):
        store.add_sink("hook", "webhook", [("webhook", "http://example.com/h"), ("secret-env", "X")])
    log = tmp_path / "events.jsonl"
    assert store.add_sink("log", "jsonl", [("jsonl", str(log))]) == 1
    with pytest.raises(dpgcert.ConflictError):
        store.add_sink("log", "jsonl", [("jsonl", str(log))])
    assert store.add_sink("later", "jsonl", [("jsonl", str(tmp_path / "later.jsonl"))], backlog=False) == 0
    second = store.check(AT + timedelta(minutes=1))
    assert not second.no_sink and second.undelivered_backlog == 0
    assert second.delivered == 1
    (line,) = log.read_text().splitlines()
    assert json.loads(line)["id"] == first.emitted[0].id


def test_delivered_events_are_pruned_after_the_retention(tracked):
    assert tracked.outbox_retention_days == 365
    with pytest.raises(dpgcert.InvalidArgumentError):
        tracked.set_outbox_retention(0)
    with pytest.raises(dpgcert.InvalidArgumentError):
        tracked.set_outbox_retention(36526)
    assert tracked.outbox_retention_days == 365
    seen: list[dpgcert.Event] = []
    first = tracked.check(AT, callbacks={"py": seen.append})
    assert len(first.emitted) == 1 and first.delivered == 1 and first.pruned == 0
    tracked.set_outbox_retention(None, actor="ops")
    assert tracked.outbox_retention_days is None
    assert tracked.check(AT + timedelta(days=40), callbacks={"py": seen.append}).pruned == 0
    tracked.set_outbox_retention(30)
    assert tracked.outbox_retention_days == 30
    # The first event (created at AT, delivered) is past 30 days; the ones of the run at +40 days are not.
    assert tracked.check(AT + timedelta(days=41), callbacks={"py": seen.append}).pruned == 1
    assert tracked.check(AT + timedelta(days=41), callbacks={"py": seen.append}).pruned == 0
