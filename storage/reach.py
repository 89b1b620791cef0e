"""Chats a platform cannot reach for proactive messages for now, and what they missed meanwhile.

Zalo OA answers -230 (no interaction for 7 days) or -213 (not following): the chat stays
registered and its alerts keep queuing, each failing with the reason, so nothing is lost;
when the user writes again the chat is reachable and the missed alerts are offered once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from storage.deliveries import enqueue, new_row
from storage.models import Broadcast, Chat, Delivery

OFFERED = "offered in a digest: "  # prefix on a missed row's error once it was offered


def mark_unreachable(
    session: Session, *, platform: str, external_id: str, reason: str, now: datetime
) -> bool:
    """Record why the chat cannot be reached; True when it was reachable until now."""
    chat = session.exec(
        select(Chat).where(Chat.platform == platform, Chat.external_id == external_id)
    ).first()
    if chat is None:
        return False
    first = chat.unreachable_reason is None
    chat.unreachable_reason = reason[:300]
    if first:
        chat.unreachable_since = now
    session.add(chat)
    return first


def unreachable_chats(session: Session, *, platform: str) -> dict[str, str]:
    """External id -> reason of every unreachable chat of a platform."""
    stmt = select(Chat.external_id, Chat.unreachable_reason).where(
        Chat.platform == platform, col(Chat.unreachable_reason).is_not(None)
    )
    return {ext: str(reason) for ext, reason in session.exec(stmt).all()}


@dataclass(frozen=True)
class Missed:
    """An alert that failed while the chat was unreachable."""

    delivery_id: int
    article_id: int
    topic: str


def come_back(session: Session, *, chat_id: int, reasons: tuple[str, ...]) -> list[Missed]:
    """The chat wrote again: reachable from now on; its missed alerts (oldest first), each
    marked offered so it is offered once."""
    chat = session.get(Chat, chat_id)
    if chat is None:
        return []
    chat.unreachable_reason, chat.unreachable_since = None, None
    session.add(chat)
    rows = session.exec(
        select(Delivery)
        .where(
            Delivery.chat_id == chat_id,
            col(Delivery.state).in_(("failed", "cancelled")),
            col(Delivery.article_id).is_not(None),
            or_(*[col(Delivery.error).startswith(r, autoescape=True) for r in reasons]),
        )
        .order_by(col(Delivery.id))
    ).all()
    missed = []
    for row in rows:
        assert row.id is not None and row.article_id is not None
        missed.append(Missed(row.id, row.article_id, row.topic or ""))
        row.error = OFFERED + (row.error or "")
        session.add(row)
    session.flush()
    return missed


def undelivered_reasons(
    session: Session, *, platforms: tuple[str, ...] | None = None, since: datetime | None = None
) -> list[tuple[str, str, int]]:
    """(platform, reason, count) of deliveries that did not go out, most frequent first."""
    stmt = (
        select(Chat.platform, col(Delivery.error), func.count())
        .join(Chat, col(Chat.id) == Delivery.chat_id)
        .where(col(Delivery.state).in_(("failed", "cancelled", "ambiguous")))
        .group_by(col(Chat.platform), col(Delivery.error))
        .order_by(func.count().desc())
    )
    if platforms is not None:
        stmt = stmt.where(col(Chat.platform).in_(platforms))
    if since is not None:
        stmt = stmt.where(Delivery.created_at >= since)
    return [(p, e or "?", int(n)) for p, e, n in session.exec(stmt).all()]


def notice_admins(
    session: Session, *, text: str, admins: list[tuple[str, str]], now: datetime
) -> int:
    """Queue `text` to the admins' chats that exist ((platform, external id) pairs), through
    the delivery queue like a broadcast, so it waits out any outage; how many queued."""
    ids: list[int] = []
    for platform, external_id in admins:
        chat = session.exec(
            select(Chat).where(Chat.platform == platform, Chat.external_id == external_id)
        ).first()
        if chat is not None and chat.id is not None:
            ids.append(chat.id)
    if not ids:
        return 0
    note = Broadcast(text=text[:3500], author="system: alarm")
    session.add(note)
    session.flush()
    rows = [new_row(chat_id=cid, kind="broadcast", now=now, broadcast_id=note.id) for cid in ids]
    return enqueue(session, rows=rows)
