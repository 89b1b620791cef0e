"""Source health: exponential back-off after failures and the "layout changed" rule (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

# A failing source waits base * 2**(failures - 1), never longer than this.
BACKOFF_CAP = timedelta(hours=6)
# Reason recorded when a listing that used to yield items yields none.
LAYOUT_CHANGED = "layout_changed"
# 2**_MAX_EXPONENT * any sane base already exceeds the cap; keeps the arithmetic small.
_MAX_EXPONENT = 30


@dataclass(frozen=True)
class Health:
    """The health of one source, as stored in storage.models.SourceState (without the name)."""

    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    next_attempt_at: datetime | None = None
    last_item_count: int = 0
    ever_yielded: bool = False
    layout_changed: bool = False
    skipped_items: int = 0
    last_skip_reason: str | None = None
    date_order: str | None = None  # learnt from the source's own dates (jobs.ingest.date_order)
    ambiguous_dates: int = 0  # dates of the last read left empty (order unsettled)

    @classmethod
    def from_record(cls, record: Any | None) -> Health:
        """A Health from any object with the same attributes (a SourceState row), or fresh."""
        if record is None:
            return cls()
        return cls(**{name: getattr(record, name) for name in cls.__dataclass_fields__})

    def values(self) -> dict[str, Any]:
        """Column -> value, for storage.articles.save_source_state."""
        return asdict(self)


def backoff_delay(failures: int, *, base: timedelta, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """How long to wait after `failures` consecutive failures: doubling from `base`, capped."""
    if failures <= 0:
        return timedelta(0)
    return min(cap, base * 2 ** min(failures - 1, _MAX_EXPONENT))


def is_due(health: Health, *, now: datetime) -> bool:
    """Whether the source may be polled at `now` (not inside its back-off window)."""
    return health.next_attempt_at is None or now >= health.next_attempt_at


def after_poll(
    health: Health,
    *,
    now: datetime,
    error: str | None,
    items_seen: int | None,
    base: timedelta,
    cap: timedelta = BACKOFF_CAP,
    skipped: list[str] | None = None,
) -> Health:
    """The health after one poll.

    `error` is the failure's short reason (None on success); `items_seen` is how many items
    the listings yielded, or None when every listing answered 304 (nothing was parsed, so
    nothing is learnt about the layout). A listing that used to yield items and now yields
    none is a failure: the portal most likely changed its page layout. `skipped` holds the
    reasons of the items left out (the source itself still succeeds).
    """
    layout_broken = items_seen == 0 and health.ever_yielded
    if layout_broken and error is None:
        error = LAYOUT_CHANGED
    seen = health.last_item_count if items_seen is None else items_seen
    state = replace(
        health,
        last_attempt_at=now,
        last_item_count=seen,
        ever_yielded=health.ever_yielded or seen > 0,
        layout_changed=layout_broken or (health.layout_changed and not seen),
        skipped_items=len(skipped or ()),
        last_skip_reason=skipped[-1][:200] if skipped else None,
    )
    if error is None:
        return replace(state, last_success_at=now, consecutive_failures=0, next_attempt_at=None)
    failures = health.consecutive_failures + 1
    return replace(
        state,
        last_error=error,
        last_error_at=now,
        consecutive_failures=failures,
        next_attempt_at=now + backoff_delay(failures, base=base, cap=cap),
    )
