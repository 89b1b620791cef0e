"""What /healthz reports: the database, the supervised tasks, each source's last success and
the delivery queue's oldest due row. Unhealthy when any part is failing, and it names it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from jobs.supervisor import Supervisor
from storage.models import Chat, Delivery, SourceState

log = logging.getLogger(__name__)

DEFAULT_STALE_INTERVALS = 3  # a source not read successfully for this many intervals is down
DEFAULT_QUEUE_MAX_AGE_SECONDS = 900  # an alert due longer than this means delivery is stuck
DEFAULT_CHECK_SECONDS = 5.0  # /healthz answers within this, database or not


@dataclass(frozen=True)
class Watched:
    """A polled source and its interval, as /healthz judges it."""

    name: str
    interval_seconds: int


@dataclass(frozen=True)
class Limits:
    """The bounds /healthz applies."""

    stale_intervals: int = DEFAULT_STALE_INTERVALS
    queue_max_age_seconds: float = DEFAULT_QUEUE_MAX_AGE_SECONDS


def _database_facts(
    engine: Engine, now: datetime
) -> tuple[dict[str, SourceState], datetime | None]:
    with Session(engine) as s:
        if engine.dialect.name == "sqlite":
            # Readers never wait in WAL mode; the service also writes, so ask for the write
            # lock (a statement that changes nothing, rolled back): a held lock is an outage.
            s.exec(text("UPDATE source_states SET name = name WHERE 0 = 1"))  # type: ignore[call-overload]
            s.rollback()
        else:
            s.exec(text("select 1"))  # type: ignore[call-overload]
        states = {st.name: st for st in s.exec(select(SourceState))}
        oldest = s.exec(
            select(func.min(Delivery.not_before))
            .join(Chat, col(Chat.id) == col(Delivery.chat_id))
            .where(Delivery.state == "pending", Delivery.not_before <= now)
            .where(col(Chat.active).is_(True))
        ).one()
    return states, oldest


async def report_async(
    engine: Engine,
    *,
    within: float = DEFAULT_CHECK_SECONDS,
    **kw: Any,
) -> dict[str, Any]:
    """report() in a worker thread; a database that does not answer `within` seconds is
    reported unreachable instead of holding /healthz (SQLite waits for a lock up to 30 s)."""
    try:
        async with asyncio.timeout(within):
            return await asyncio.to_thread(report, engine, **kw)
    except TimeoutError:
        supervisor = kw.get("supervisor")
        tasks = supervisor.current() if supervisor else []
        failing = [{"part": f"task:{t.name}", **t.as_json()} for t in tasks if not t.healthy]
        failing.append({"part": "database", "error": f"no answer within {within:g} s"})
        return {"status": "unavailable", "failing": failing, "tasks": [t.as_json() for t in tasks]}


def report(
    engine: Engine,
    *,
    now: datetime,
    started_at: datetime,
    supervisor: Supervisor | None,
    sources: Iterable[Watched],
    limits: Limits = Limits(),
) -> dict[str, Any]:
    """{"status": "ok" | "unavailable", "failing": [...], "tasks": [...]}; blocking (DB)."""
    failing: list[dict[str, Any]] = []
    tasks = supervisor.current() if supervisor else []
    failing += [{"part": f"task:{t.name}", **t.as_json()} for t in tasks if not t.healthy]
    try:
        states, oldest_due = _database_facts(engine, now)
    except Exception as exc:  # any failure of the database is the answer, not an error
        log.warning("health check: database unavailable: %r", exc)
        failing.append({"part": "database", "error": f"{type(exc).__name__}"})
    else:
        for source in sources:
            state = states.get(source.name)
            last = state.last_success_at if state else None
            bound = timedelta(seconds=source.interval_seconds * limits.stale_intervals)
            if now - (last or started_at) > bound:
                failing.append(
                    {
                        "part": f"source:{source.name}",
                        "last_success_at": last.isoformat() if last else None,
                        "last_error": state.last_error if state else None,
                        "stale_after_seconds": bound.total_seconds(),
                    }
                )
        if oldest_due is not None:
            age = (now - oldest_due).total_seconds()
            if age > limits.queue_max_age_seconds:
                failing.append(
                    {
                        "part": "delivery_queue",
                        "oldest_due_seconds": round(age),
                        "bound_seconds": limits.queue_max_age_seconds,
                    }
                )
    return {
        "status": "unavailable" if failing else "ok",
        "failing": failing,
        "tasks": [t.as_json() for t in tasks],
    }
