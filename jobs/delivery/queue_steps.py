"""The dispatcher's database steps, each one short transaction (called through to_thread)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from jobs.delivery.alerts import WordsFor
from jobs.delivery.compose import GROUP_KINDS, Plan, compose
from storage import deliveries as q
from storage.chats import deactivate_chat
from storage.db import session_scope

log = logging.getLogger(__name__)
DIGEST_ROWS_PER_CHAT = 500


def recover(engine: Engine, *, owner: str, now: datetime) -> int:
    """Requeue rows this owner held before a restart, and any row whose lease expired."""
    with session_scope(engine) as session:
        count = q.requeue_owner(session, owner=owner) + q.requeue_expired(session, now=now)
    if count:
        log.warning("requeued %d deliveries left in flight by a stopped worker", count)
    return count


def recent_sends(
    engine: Engine, *, now: datetime, seconds: float, platforms: Sequence[str]
) -> list[tuple[str, str, bool, float]]:
    """(platform, external_id, group, seconds ago) of every send of the last `seconds`, by
    any process; rows in flight count as sent just now."""
    with session_scope(engine) as session:
        found = q.recent_sends(session, since=now - timedelta(seconds=seconds), platforms=platforms)
    return [
        (platform, ext, kind in GROUP_KINDS, (now - at).total_seconds() if at else 0.0)
        for platform, ext, kind, at in found
    ]


def housekeeping(engine: Engine, *, now: datetime, days: int) -> None:
    """Requeue expired leases and purge finished rows past retention."""
    with session_scope(engine) as session:
        q.requeue_expired(session, now=now)
        q.purge_old(session, now=now, retention_days=days)


def claim_and_compose(
    engine: Engine,
    *,
    owner: str,
    now: datetime,
    limit: int,
    lease_seconds: float,
    tz: ZoneInfo,
    platforms: Sequence[str],
    words: WordsFor,
) -> Plan:
    """Claim due rows of `platforms` (a chat's whole due digest at once) and turn them into
    send jobs."""
    with session_scope(engine) as session:
        lease = partial(q.claim_due, session, owner=owner, now=now, lease_seconds=lease_seconds)
        claim = partial(lease, platforms=platforms)
        rows = claim(limit=limit)
        for chat_id in sorted({r.chat_id for r in rows if r.kind == "digest"}):
            rows += claim(limit=DIGEST_ROWS_PER_CHAT, chat_id=chat_id, kind="digest")
        if not rows:
            return Plan()
        try:
            with session.begin_nested():
                plan = compose(session, rows=rows, now=now, tz=tz, words=words)
        except Exception:
            log.exception("composing %d deliveries failed; trying them one by one", len(rows))
            plan = Plan()
            for row in rows:
                try:
                    with session.begin_nested():
                        one = compose(session, rows=[row], now=now, tz=tz, words=words)
                except Exception as exc:
                    log.exception("delivery %d cannot be composed", row.id)
                    plan.cancel.append((row.id, f"compose error: {type(exc).__name__}"))
                    continue
                plan.jobs += one.jobs
                plan.cancel += one.cancel
                plan.defer += one.defer
        for row_id, reason in plan.cancel:
            q.mark_cancelled(session, ids=[row_id], owner=owner, error=reason)
        for row_id, not_before in plan.defer:
            q.mark_retry(session, ids=[row_id], owner=owner, not_before=not_before, attempted=False)
        return plan


def release(
    engine: Engine, *, ids: list[int], owner: str, not_before: datetime, error: str | None = None
) -> None:
    """Back to pending without counting an attempt (limiter wait, 429, stop)."""
    with session_scope(engine) as session:
        q.mark_retry(
            session, ids=ids, owner=owner, not_before=not_before, error=error, attempted=False
        )


SentRecord = tuple[list[int], str, datetime]  # row ids, the platform's message id, when


def sent_many(engine: Engine, *, records: Sequence[SentRecord], owner: str) -> None:
    """Record several accepted sends in one transaction."""
    rows = [(i, message_id, now) for ids, message_id, now in records for i in ids]
    with session_scope(engine) as session:
        q.mark_sent_many(session, rows=rows, owner=owner)


def transient(
    engine: Engine,
    *,
    ids: list[int],
    owner: str,
    now: datetime,
    error: str,
    max_attempts: int,
    backoff: Callable[[int], float],
) -> None:
    """Retry later with back-off, or give up after `max_attempts` sends."""
    with session_scope(engine) as session:
        table = q.DELIVERIES
        attempts = dict(
            session.execute(select(table.c.id, table.c.attempts).where(table.c.id.in_(ids))).all()
        )
        for row_id in ids:
            done = attempts.get(row_id, 0) + 1
            if done >= max_attempts:
                q.mark_failed(session, ids=[row_id], owner=owner, error=f"gave up: {error}")
            else:
                not_before = now + timedelta(seconds=backoff(done))
                q.mark_retry(session, ids=[row_id], owner=owner, not_before=not_before, error=error)


def ambiguous(engine: Engine, *, ids: list[int], owner: str, error: str) -> None:
    """Record that the message may or may not have arrived."""
    with session_scope(engine) as session:
        q.mark_ambiguous(session, ids=ids, owner=owner, error=error)


def failed(engine: Engine, *, ids: list[int], owner: str, error: str) -> None:
    """Record a refusal that resending cannot fix."""
    with session_scope(engine) as session:
        q.mark_failed(session, ids=ids, owner=owner, error=error)


def chat_gone(engine: Engine, *, ids: list[int], owner: str, chat_id: int, reason: str) -> None:
    """The chat blocked the bot or no longer exists: inactive, its queue cancelled."""
    with session_scope(engine) as session:
        q.mark_failed(session, ids=ids, owner=owner, error=reason)
        deactivate_chat(session, chat_id=chat_id, reason=reason)
        cancelled = q.cancel_chat_pending(session, chat_id=chat_id, reason=reason)
    log.info("chat %d inactive (%s); %d pending deliveries cancelled", chat_id, reason, cancelled)


def next_due(engine: Engine, *, platforms: Sequence[str]) -> datetime | None:
    """When the earliest pending row of `platforms` becomes due (None: nothing pending)."""
    with session_scope(engine) as session:
        return q.next_due(session, platforms=platforms)
