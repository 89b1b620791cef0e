"""Back-off and the "layout changed" rule, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from jobs.ingest.health import (
    BACKOFF_CAP,
    LAYOUT_CHANGED,
    Health,
    after_poll,
    backoff_delay,
    is_due,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
BASE = timedelta(minutes=10)


def _fail(h: Health, now: datetime = NOW, reason: str = "timeout") -> Health:
    return after_poll(h, now=now, error=reason, items_seen=None, base=BASE)


def test_backoff_doubles_from_base_and_is_capped() -> None:
    delays = [backoff_delay(n, base=BASE) for n in range(0, 7)]
    assert delays[:5] == [timedelta(0), BASE, 2 * BASE, 4 * BASE, 8 * BASE]
    assert backoff_delay(10_000, base=BASE) == BACKOFF_CAP
    assert backoff_delay(3, base=BASE, cap=timedelta(minutes=15)) == timedelta(minutes=15)


def test_failures_grow_the_wait_and_record_the_reason() -> None:
    h = _fail(Health())
    assert h.consecutive_failures == 1
    assert h.last_error == "timeout" and h.last_error_at == NOW
    assert h.next_attempt_at == NOW + BASE
    later = NOW + timedelta(hours=1)
    h = _fail(h, later, "bad_status")
    assert h.consecutive_failures == 2
    assert h.next_attempt_at == later + 2 * BASE
    assert h.last_error == "bad_status"
    assert h.last_success_at is None


def test_success_resets_the_backoff_but_keeps_the_last_error_for_admins() -> None:
    h = _fail(_fail(Health()))
    ok = after_poll(h, now=NOW, error=None, items_seen=12, base=BASE)
    assert ok.consecutive_failures == 0
    assert ok.next_attempt_at is None
    assert ok.last_success_at == NOW
    assert ok.last_error == "timeout"
    assert ok.last_item_count == 12 and ok.ever_yielded


def test_is_due_respects_the_backoff_window() -> None:
    h = _fail(Health())
    assert not is_due(h, now=NOW)
    assert not is_due(h, now=NOW + BASE - timedelta(seconds=1))
    assert is_due(h, now=NOW + BASE)
    assert is_due(Health(), now=NOW)


def test_listing_that_used_to_yield_and_yields_nothing_is_layout_changed() -> None:
    h = after_poll(Health(), now=NOW, error=None, items_seen=5, base=BASE)
    broken = after_poll(h, now=NOW, error=None, items_seen=0, base=BASE)
    assert broken.layout_changed
    assert broken.last_error == LAYOUT_CHANGED
    assert broken.consecutive_failures == 1
    # A 304 afterwards teaches nothing: the flag stays until items come back.
    still = after_poll(broken, now=NOW, error=None, items_seen=None, base=BASE)
    assert still.layout_changed
    fixed = after_poll(still, now=NOW, error=None, items_seen=3, base=BASE)
    assert not fixed.layout_changed and fixed.consecutive_failures == 0


def test_empty_listing_of_a_new_source_is_not_layout_changed() -> None:
    h = after_poll(Health(), now=NOW, error=None, items_seen=0, base=BASE)
    assert not h.layout_changed and h.last_error is None and h.consecutive_failures == 0


def test_parse_failure_with_no_items_flags_layout_with_its_own_reason() -> None:
    h = after_poll(Health(), now=NOW, error=None, items_seen=4, base=BASE)
    h = after_poll(h, now=NOW, error="layout_not_recognised", items_seen=0, base=BASE)
    assert h.layout_changed and h.last_error == "layout_not_recognised"


def test_304_keeps_item_count_and_fetch_failure_keeps_layout_state() -> None:
    h = after_poll(Health(), now=NOW, error=None, items_seen=7, base=BASE)
    h = after_poll(h, now=NOW, error=None, items_seen=None, base=BASE)
    assert h.last_item_count == 7 and not h.layout_changed
    h = _fail(h)
    assert h.last_item_count == 7 and not h.layout_changed


def test_round_trip_through_a_record_like_object() -> None:
    h = _fail(Health())
    record = SimpleNamespace(name="s", **h.values())
    assert Health.from_record(record) == h
    assert Health.from_record(None) == Health()


def test_skipped_items_are_counted_with_the_last_reason_and_the_source_succeeds() -> None:
    from datetime import UTC, datetime, timedelta

    from jobs.ingest.health import Health, after_poll

    now = datetime(2026, 11, 25, tzinfo=UTC)
    reasons = ["http://x/a: ValueError", "http://x/b: storage: DataError"]
    health = after_poll(
        Health(), now=now, error=None, items_seen=5, base=timedelta(minutes=10), skipped=reasons
    )
    assert health.skipped_items == 2 and health.last_skip_reason == reasons[-1]
    assert health.last_success_at == now and health.consecutive_failures == 0
    clean = after_poll(health, now=now, error=None, items_seen=5, base=timedelta(minutes=10))
    assert clean.skipped_items == 0 and clean.last_skip_reason is None
