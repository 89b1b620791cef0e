"""A send budget shared by every replica: the next free slot per platform, in the database.

Each replica reserves slots before it sends: one UPDATE moves the platform's `next_at` on by
`n / rate` seconds and returns where its slots start, so replicas together never exceed the
rate. On PostgreSQL the row lock serialises replicas and the database's clock is the one
clock they share; SQLite serves one process (several replicas need PostgreSQL).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, bindparam, func, literal, update
from sqlmodel import Session

from storage import dialects
from storage.models import SendPace

PACE = SendPace.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Slots:
    """`n` send slots `interval` seconds apart, the first `delay` seconds from now."""

    delay: float
    interval: float
    n: int


def reserve(session: Session, *, platform: str, rate: float, n: int = 1) -> Slots:
    """Reserve `n` slots at `rate` per second for `platform` (commit promptly: the row is
    locked until then)."""
    if rate <= 0 or n < 1:
        raise ValueError("rate must be positive and n at least 1")
    interval = 1.0 / rate
    step = interval * n
    c = PACE.c
    now: Any
    if dialects.is_pg(session):
        now = func.extract("epoch", func.clock_timestamp()).cast(Float)
        later = func.greatest(c.next_at, now)
    else:
        now = literal(time.time(), Float)  # SQLite: one machine, one clock
        later = func.max(c.next_at, now)
    insert = dialects.insert(session, PACE)
    session.execute(
        insert.values(platform=platform, next_at=0.0).on_conflict_do_nothing(
            index_elements=["platform"]
        )
    )
    end, at = session.execute(
        update(PACE)
        .where(c.platform == bindparam("p", platform))
        .values(next_at=later + step)
        .returning(c.next_at, now)
    ).one()
    return Slots(delay=max(0.0, float(end) - step - float(at)), interval=interval, n=n)
