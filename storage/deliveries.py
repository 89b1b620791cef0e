"""Delivery queue queries: enqueue, claim with a lease, state changes, recovery, purge, counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session

from storage import dialects
from storage.models import Chat, Delivery

DELIVERIES: Table = Delivery.__table__  # type: ignore[attr-defined]
CHATS: Table = Chat.__table__  # type: ignore[attr-defined]
STATES = ("pending", "sending", "sent", "failed", "cancelled", "ambiguous")
_CHUNK = 500


@dataclass(frozen=True)
class Claimed:
    """A delivery row this worker now holds (state `sending` under its lease)."""

    id: int
    chat_id: int
    kind: str
    article_id: int | None
    broadcast_id: int | None
    topic: str | None
    attempts: int


def _affected(session: Session, stmt: Any, params: Any = None) -> int:
    """Run a DML statement (executemany with a list of `params`); how many rows it changed."""
    result: CursorResult[Any] = session.execute(stmt, params)  # type: ignore[assignment]
    return int(result.rowcount)


def new_row(
    *,
    chat_id: int,
    kind: str,
    now: datetime,
    not_before: datetime | None = None,
    article_id: int | None = None,
    broadcast_id: int | None = None,
    topic: str | None = None,
) -> dict[str, Any]:
    """One pending delivery row as `enqueue` takes it (every column, for a bulk insert)."""
    return {
        "chat_id": chat_id,
        "kind": kind,
        "article_id": article_id,
        "broadcast_id": broadcast_id,
        "topic": topic,
        "state": "pending",
        "attempts": 0,
        "not_before": not_before or now,
        "lease_owner": None,
        "lease_until": None,
        "message_id": None,
        "error": None,
        "created_at": now,
        "sent_at": None,
    }


def enqueue(session: Session, *, rows: Iterable[dict[str, Any]]) -> int:
    """Insert delivery rows, skipping any (article, chat) or (broadcast, chat) already queued."""
    batch = list(rows)
    if not batch:
        return 0
    stmt = dialects.insert(session, DELIVERIES).on_conflict_do_nothing().returning(DELIVERIES.c.id)
    written = 0
    for start in range(0, len(batch), _CHUNK):
        written += len(session.execute(stmt, batch[start : start + _CHUNK]).all())
    return written


def claim_due(
    session: Session,
    *,
    owner: str,
    now: datetime,
    limit: int,
    lease_seconds: float,
    platforms: Sequence[str],
    chat_id: int | None = None,
    kind: str | None = None,
) -> list[Claimed]:
    """Take up to `limit` due pending rows of active chats on `platforms` (those with a sender
    in the caller's process): state `sending` under a lease.

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, then UPDATE those ids, in one transaction
    (rows another replica holds are skipped; one statement with a locking sub-select would
    re-run the sub-select per row). SQLite: one UPDATE ... WHERE id IN (sub-select), which is
    atomic because SQLite has a single writer.
    """
    d, c = DELIVERIES.c, CHATS.c
    due = (
        select(d.id)
        .join(CHATS, c.id == d.chat_id)
        .where(d.state == "pending", d.not_before <= now, c.active.is_(True))
        .where(c.platform.in_(list(platforms)))
        .order_by(d.not_before, d.id)
        .limit(limit)
    )
    if chat_id is not None:
        due = due.where(d.chat_id == chat_id)
    if kind is not None:
        due = due.where(d.kind == kind)
    picked: Any
    if dialects.is_pg(session):
        picked = list(
            session.execute(due.with_for_update(of=DELIVERIES, skip_locked=True)).scalars()
        )
        if not picked:
            return []
    else:
        picked = due.scalar_subquery()
    lease_until = now + timedelta(seconds=lease_seconds)
    stmt = (
        update(DELIVERIES)
        .where(d.id.in_(picked), d.state == "pending")
        .values(state="sending", lease_owner=owner, lease_until=lease_until)
        .returning(d.id, d.chat_id, d.kind, d.article_id, d.broadcast_id, d.topic, d.attempts)
    )
    rows = session.execute(stmt).all()
    return sorted((Claimed(*row) for row in rows), key=lambda r: r.id)


def _held(ids: Iterable[int], owner: str) -> Any:
    d = DELIVERIES.c
    return and_(d.id.in_(list(ids)), d.state == "sending", d.lease_owner == owner)


def _set(session: Session, ids: Iterable[int], owner: str, **values: Any) -> int:
    """Change rows this owner still holds; a row whose lease was taken over is left alone."""
    values.setdefault("lease_owner", None)
    values.setdefault("lease_until", None)
    stmt = update(DELIVERIES).where(_held(ids, owner)).values(**values)
    return _affected(session, stmt)


def mark_sent(
    session: Session, *, ids: Iterable[int], owner: str, message_id: str, now: datetime
) -> int:
    """Telegram accepted the message: state sent, with its message_id."""
    return mark_sent_many(session, rows=[(i, message_id, now) for i in ids], owner=owner)


def mark_sent_many(
    session: Session, *, rows: Sequence[tuple[int, str, datetime]], owner: str
) -> int:
    """Several accepted sends, (row id, message id, when) each, in one executemany UPDATE."""
    if not rows:
        return 0
    d = DELIVERIES.c
    stmt = (
        update(DELIVERIES)
        .where(d.id == bindparam("row_id"), d.state == "sending", d.lease_owner == owner)
        .values(
            state="sent",
            attempts=d.attempts + 1,
            message_id=bindparam("mid", type_=d.message_id.type),
            sent_at=bindparam("at", type_=d.sent_at.type),
            error=None,
            lease_owner=None,
            lease_until=None,
        )
    )
    params = [{"row_id": i, "mid": mid, "at": at} for i, mid, at in rows]
    return _affected(session, stmt.execution_options(synchronize_session=False), params)


def mark_retry(
    session: Session,
    *,
    ids: Iterable[int],
    owner: str,
    not_before: datetime,
    error: str | None = None,
    attempted: bool = True,
) -> int:
    """Back to pending until `not_before` (a transient failure, a 429, a limiter or quiet wait)."""
    d = DELIVERIES.c
    extra: dict[str, Any] = {"attempts": d.attempts + 1} if attempted else {}
    if error is not None:
        extra["error"] = error
    return _set(session, ids, owner, state="pending", not_before=not_before, **extra)


def mark_failed(session: Session, *, ids: Iterable[int], owner: str, error: str) -> int:
    """Given up: state failed with the reason."""
    d = DELIVERIES.c
    return _set(session, ids, owner, state="failed", error=error, attempts=d.attempts + 1)


def mark_ambiguous(session: Session, *, ids: Iterable[int], owner: str, error: str) -> int:
    """The request left but no answer came: it may have arrived, so it is not resent."""
    d = DELIVERIES.c
    return _set(session, ids, owner, state="ambiguous", error=error, attempts=d.attempts + 1)


def mark_cancelled(session: Session, *, ids: Iterable[int], owner: str, error: str) -> int:
    """Not to be sent any more (chat gone, topic unsubscribed)."""
    return _set(session, ids, owner, state="cancelled", error=error)


def cancel_chat_pending(session: Session, *, chat_id: int, reason: str) -> int:
    """Cancel every pending row of a chat (it blocked the bot, or it no longer exists)."""
    d = DELIVERIES.c
    stmt = (
        update(DELIVERIES)
        .where(d.chat_id == chat_id, d.state == "pending")
        .values(state="cancelled", error=reason)
    )
    return _affected(session, stmt)


def requeue_expired(session: Session, *, now: datetime) -> int:
    """Rows whose worker died mid-send (lease expired) go back to pending."""
    d = DELIVERIES.c
    stmt = (
        update(DELIVERIES)
        .where(d.state == "sending", d.lease_until < now)
        .values(state="pending", lease_owner=None, lease_until=None)
    )
    return _affected(session, stmt)


def requeue_owner(session: Session, *, owner: str) -> int:
    """At start-up, rows a previous run of this same worker held go back to pending."""
    d = DELIVERIES.c
    stmt = (
        update(DELIVERIES)
        .where(d.state == "sending", d.lease_owner == owner)
        .values(state="pending", lease_owner=None, lease_until=None)
    )
    return _affected(session, stmt)


def recent_sends(
    session: Session, *, since: datetime, platforms: Sequence[str]
) -> list[tuple[str, str, str, datetime | None]]:
    """(platform, external_id, chat kind, sent_at) of the messages sent since `since`, and of
    the rows in flight (sent_at None: they may have reached the chat a moment ago)."""
    d, c = DELIVERIES.c, CHATS.c
    recent = or_(and_(d.state == "sent", d.sent_at >= since), d.state == "sending")
    stmt = (
        select(c.platform, c.external_id, c.kind, d.sent_at)
        .join(CHATS, c.id == d.chat_id)
        .where(recent, c.platform.in_(list(platforms)))
    )
    found = session.execute(stmt.add_columns(d.state))
    return [(p, ext, kind, None if state == "sending" else t) for p, ext, kind, t, state in found]


def purge_old(session: Session, *, now: datetime, retention_days: int) -> int:
    """Delete finished rows older than the retention period (pending rows are never purged)."""
    d = DELIVERIES.c
    cutoff = now - timedelta(days=retention_days)
    finished = or_(
        and_(d.state == "sent", d.sent_at < cutoff),
        and_(d.state.in_(("failed", "cancelled", "ambiguous")), d.created_at < cutoff),
    )
    return _affected(session, delete(DELIVERIES).where(finished))


def counts_by_state(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """How many rows are in each state (all states present, zero when none), for /stats."""
    d = DELIVERIES.c
    stmt = select(d.state, func.count()).group_by(d.state)
    if since is not None:
        stmt = stmt.where(d.created_at >= since)
    found = {state: int(n) for state, n in session.execute(stmt).all()}
    return {state: found.get(state, 0) for state in STATES}


def pending_by_platform(session: Session) -> dict[str, int]:
    """Pending rows of active chats per platform (a platform with no sender keeps its rows)."""
    d, c = DELIVERIES.c, CHATS.c
    stmt = (
        select(c.platform, func.count())
        .join(CHATS, c.id == d.chat_id)
        .where(d.state == "pending", c.active.is_(True))
        .group_by(c.platform)
        .order_by(c.platform)
    )
    return {platform: int(n) for platform, n in session.execute(stmt).all()}


def next_due(session: Session, *, platforms: Sequence[str]) -> datetime | None:
    """When the earliest pending row of an active chat on `platforms` becomes due (None:
    nothing pending)."""
    d, c = DELIVERIES.c, CHATS.c
    stmt = (
        select(func.min(d.not_before))
        .join(CHATS, c.id == d.chat_id)
        .where(d.state == "pending", c.active.is_(True), c.platform.in_(list(platforms)))
    )
    return session.execute(stmt).scalar()
