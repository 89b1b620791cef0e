"""Broadcasts: drafts, confirmation (once), cancellation, counts for reports, notices to admins.

An announcement is a draft until its author presses Confirm: only then are deliveries queued,
and a conditional UPDATE makes a second press (or two replicas) harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from storage.deliveries import DELIVERIES, enqueue, new_row
from storage.models import Broadcast, Chat

CANCELLED = "broadcast cancelled"  # the error of rows /broadcast cancel stopped
OPEN_STATES = ("confirmed",)  # queued and not finished
BROADCASTS = Broadcast.__table__  # type: ignore[attr-defined]
CHATS = Chat.__table__  # type: ignore[attr-defined]


def _affected(session: Session, stmt: Any) -> int:
    """Run a DML statement and return how many rows it changed."""
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Counts:
    """Where a broadcast's deliveries stand."""

    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    cancelled: int = 0
    left: int = 0

    @property
    def total(self) -> int:
        """Every delivery row."""
        return self.sent + self.failed + self.unreachable + self.cancelled + self.left


def draft(
    session: Session,
    *,
    text: str,
    topic: str | None,
    author: str,
    author_chat_id: int,
    audience: int,
    now: datetime,
    lang: str | None = None,
) -> Broadcast:
    """A broadcast waiting for its author's Confirm; nothing is queued yet."""
    row = Broadcast(
        lang=lang,
        text=text,
        topic=topic,
        author=author,
        author_chat_id=author_chat_id,
        audience=audience,
        created_at=now,
        state="draft",
    )
    session.add(row)
    session.flush()
    return row


def confirm(session: Session, *, broadcast_id: int, recipients: list[int], now: datetime) -> int:
    """Queue the draft to `recipients`; -1 when it is not a draft any more (second press)."""
    b = BROADCASTS.c
    stmt = (
        update(BROADCASTS)
        .where(b.id == broadcast_id, b.state == "draft", b.kind == "announcement")
        .values(state="confirmed", confirmed_at=now, audience=len(recipients))
    )
    if _affected(session, stmt) != 1:
        return -1
    row = session.get(Broadcast, broadcast_id)
    topic = row.topic if row is not None else None
    rows = [
        new_row(chat_id=cid, kind="broadcast", now=now, broadcast_id=broadcast_id, topic=topic)
        for cid in recipients
    ]
    return enqueue(session, rows=rows)


def discard(session: Session, *, broadcast_id: int, now: datetime) -> bool:
    """The Cancel button on a preview: the draft is dropped (kept for the audit trail)."""
    b = BROADCASTS.c
    stmt = (
        update(BROADCASTS)
        .where(b.id == broadcast_id, b.state == "draft")
        .values(state="discarded", finished_at=now)
    )
    return _affected(session, stmt) == 1


def cancel_open(session: Session, *, now: datetime) -> list[tuple[int, int]]:
    """/broadcast cancel: every confirmed announcement's unsent rows are cancelled.

    Returns (broadcast id, rows cancelled) per broadcast. Rows being sent right now finish.
    """
    b, d = BROADCASTS.c, DELIVERIES.c
    ids = list(
        session.execute(
            select(b.id).where(b.state.in_(OPEN_STATES), b.kind == "announcement").order_by(b.id)
        ).scalars()
    )
    out = []
    for bid in ids:
        stmt = (
            update(DELIVERIES)
            .where(d.broadcast_id == bid, d.state == "pending")
            .values(state="cancelled", error=CANCELLED)
        )
        out.append((int(bid), _affected(session, stmt)))
        session.execute(update(BROADCASTS).where(b.id == bid).values(state="cancelled"))
    return out


def _bucket(state: str, error: str | None, chat_active: bool) -> str:
    if state == "sent":
        return "sent"
    if state in ("pending", "sending"):
        return "left"
    if state == "cancelled" and error == CANCELLED:
        return "cancelled"
    if state in ("failed", "cancelled") and (not chat_active or error == "chat inactive"):
        return "unreachable"
    return "cancelled" if state == "cancelled" else "failed"


def counts(session: Session, *, broadcast_ids: list[int]) -> dict[int, Counts]:
    """Sent, failed, unreachable (blocked, chat gone), cancelled and left, per broadcast."""
    d, c = DELIVERIES.c, CHATS.c
    # Grouped by plain columns and bucketed here: PostgreSQL's numbered parameters make a
    # CASE in both SELECT and GROUP BY two different expressions.
    stmt = (
        select(d.broadcast_id, d.state, d.error, c.active, func.count())
        .join(CHATS, c.id == d.chat_id)
        .where(d.broadcast_id.in_(broadcast_ids))
        .group_by(d.broadcast_id, d.state, d.error, c.active)
    )
    found: dict[int, dict[str, int]] = {bid: {} for bid in broadcast_ids}
    for bid, state, error, active, n in session.execute(stmt).all():
        name = _bucket(state, error, bool(active))
        found[int(bid)][name] = found[int(bid)].get(name, 0) + int(n)
    return {bid: Counts(**values) for bid, values in found.items()}


def finish_ready(session: Session, *, now: datetime) -> list[tuple[Broadcast, Counts]]:
    """Confirmed or cancelled announcements with nothing left to send: counts stored, state
    done; each returned once (the conditional UPDATE) so its report is queued once."""
    stmt = (
        sm_select(Broadcast)
        .where(col(Broadcast.kind) == "announcement")
        .where(col(Broadcast.state).in_(("confirmed", "cancelled")))
        .where(col(Broadcast.finished_at).is_(None))
        .order_by(col(Broadcast.id))
    )
    rows = list(session.exec(stmt).all())
    if not rows:
        return []
    tallies = counts(session, broadcast_ids=[r.id or 0 for r in rows])
    done = []
    b = BROADCASTS.c
    for row in rows:
        tally = tallies[row.id or 0]
        if tally.left:
            continue
        values: dict[str, Any] = {
            "state": "done" if row.state == "confirmed" else row.state,
            "finished_at": now,
            "sent": tally.sent,
            "failed": tally.failed,
            "unreachable": tally.unreachable,
            "left": tally.cancelled,
        }
        claim = update(BROADCASTS).where(b.id == row.id, b.finished_at.is_(None)).values(**values)
        if _affected(session, claim) == 1:
            session.refresh(row)
            done.append((row, tally))
    return done


def recent(session: Session, *, limit: int = 5) -> list[Broadcast]:
    """The newest announcements (drafts included), newest first."""
    stmt = (
        sm_select(Broadcast)
        .where(col(Broadcast.kind) == "announcement")
        .order_by(col(Broadcast.id).desc())
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def notify(
    session: Session,
    *,
    chat_ids: list[int],
    text: str,
    now: datetime,
    buttons: list[list[dict[str, str]]] | None = None,
    parent_id: int | None = None,
    not_before: datetime | None = None,
) -> int:
    """A notice (report, alarm, approval request, progress of `parent_id`) queued to these
    chats; rows queued."""
    if not chat_ids:
        return 0
    row = Broadcast(
        text=text,
        kind="notice",
        state="confirmed",
        created_at=now,
        buttons=buttons or None,
        parent_id=parent_id,
    )
    row.confirmed_at = now
    row.audience = len(chat_ids)
    session.add(row)
    session.flush()
    rows = [
        new_row(chat_id=cid, kind="broadcast", now=now, broadcast_id=row.id, not_before=not_before)
        for cid in chat_ids
    ]
    return enqueue(session, rows=rows)


@dataclass(frozen=True)
class Progress:
    """An announcement being sent, and where its progress message sits in its author's chat."""

    broadcast: Broadcast
    counts: Counts
    chat: Chat
    message_id: str


def in_progress(session: Session, *, since: datetime) -> list[Progress]:
    """Announcements not finished (or finished after `since`) whose progress message was
    delivered: what the watch edits."""
    d = DELIVERIES.c
    notice = BROADCASTS.alias("notice")
    stmt = (
        select(notice.c.parent_id, d.chat_id, d.message_id)
        .join(DELIVERIES, d.broadcast_id == notice.c.id)
        .join(BROADCASTS, BROADCASTS.c.id == notice.c.parent_id)
        .where(d.state == "sent", d.message_id.is_not(None))
        .where(
            BROADCASTS.c.finished_at.is_(None) | (BROADCASTS.c.finished_at >= since),
            BROADCASTS.c.state.in_(("confirmed", "cancelled", "done")),
        )
    )
    found = session.execute(stmt).all()
    if not found:
        return []
    tallies = counts(session, broadcast_ids=[int(r[0]) for r in found])
    out = []
    for parent_id, chat_id, message_id in found:
        row, chat = session.get(Broadcast, parent_id), session.get(Chat, chat_id)
        if row is not None and chat is not None:
            out.append(Progress(row, tallies[int(parent_id)], chat, str(message_id)))
    return out
