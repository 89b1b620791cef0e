"""Inbound events already taken in: a platform that retries (or has no offset) is handled once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from storage.models import InboundEvent

MAX_EVENT_ID = 128


def first_time(session: Session, *, platform: str, event_id: str, now: datetime) -> bool:
    """Record the event; False when it was recorded before (a retry or a replay).

    Runs in a savepoint so a duplicate does not spoil the caller's transaction; the unique
    constraint decides, so two replicas receiving the same retry still handle it once.
    """
    try:
        with session.begin_nested():
            row = InboundEvent(platform=platform, event_id=event_id[:MAX_EVENT_ID], received_at=now)
            session.add(row)
    except IntegrityError:
        return False
    return True


def forget_older(session: Session, *, now: datetime, days: int = 7) -> int:
    """Delete records older than `days` (retries and long polls never reach that far back)."""
    stmt = delete(InboundEvent).where(col(InboundEvent.received_at) < now - timedelta(days=days))
    return int(session.exec(stmt).rowcount or 0)
