"""What claimed delivery rows become: neutral replies to send, rows to cancel or defer.

A job says what to say (a `Reply`), never how: the platform's sender renders it at send time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from jobs.delivery.alerts import WordsFor, alert_reply
from jobs.delivery.digest import alert_article, digest_for_chat
from jobs.delivery.quiet import parse_hhmm, quiet_release
from jobs.delivery.reply import Reply
from storage.chats import topic_key
from storage.deliveries import Claimed
from storage.models import Article, Broadcast, Chat, Subscription

GROUP_KINDS = ("group", "supergroup")


@dataclass(frozen=True)
class Job:
    """One reply to one chat, and the delivery rows it carries (marked when it is sent)."""

    chat_id: int
    platform: str
    external_id: str
    group: bool
    ids: list[int]
    reply: Reply


@dataclass
class Plan:
    """The outcome of composing a batch of claimed rows."""

    jobs: list[list[Job]] = field(default_factory=list)  # per chat, in sending order
    cancel: list[tuple[int, str]] = field(default_factory=list)  # (row id, reason)
    defer: list[tuple[int, datetime]] = field(default_factory=list)  # (row id, not_before)


def _job(chat: Chat, ids: list[int], reply: Reply) -> Job:
    return Job(
        chat_id=chat.id or 0,
        platform=chat.platform,
        external_id=chat.external_id,
        group=chat.kind in GROUP_KINDS,
        ids=ids,
        reply=reply,
    )


@dataclass
class _AlertData:
    """The articles and subscriptions a batch of alert rows needs, read in two queries."""

    articles: dict[int, Article]
    subscriptions: dict[tuple[int, str], Subscription]  # by (chat id, topic key)


def _alert_data(session: Session, rows: list[Claimed]) -> _AlertData:
    """One query for the alert rows' articles, one for their subscriptions (not two per row)."""
    alerts = [r for r in rows if r.kind not in ("digest", "broadcast")]
    if not alerts:
        return _AlertData(articles={}, subscriptions={})
    article_ids = sorted({r.article_id for r in alerts if r.article_id})
    found = session.exec(select(Article).where(col(Article.id).in_(article_ids)))
    articles = {a.id or 0: a for a in found}
    stmt = select(Subscription).where(
        col(Subscription.chat_id).in_(sorted({r.chat_id for r in alerts})),
        col(Subscription.topic_folded).in_(sorted({topic_key(r.topic or "") for r in alerts})),
    )
    return _AlertData(
        articles=articles,
        subscriptions={(s.chat_id, s.topic_folded): s for s in session.exec(stmt)},
    )


def compose(
    session: Session, *, rows: list[Claimed], now: datetime, tz: ZoneInfo, words: WordsFor
) -> Plan:
    """Turn claimed rows into jobs; rows that lost their reason to exist are cancelled.

    An alert whose chat is now in quiet hours is deferred to the end of the quiet period.
    """
    plan = Plan()
    chat_ids = sorted({r.chat_id for r in rows})
    chats = {c.id: c for c in session.exec(select(Chat).where(col(Chat.id).in_(chat_ids)))}
    digests: dict[int, list[Claimed]] = {}
    alert_data = _alert_data(session, rows)
    replies: dict[int, Reply] = {}  # broadcast id -> its reply, the same for every chat
    for row in rows:
        chat = chats.get(row.chat_id)
        if chat is None or not chat.active:
            plan.cancel.append((row.id, "chat inactive"))
        elif row.kind == "digest":
            digests.setdefault(row.chat_id, []).append(row)
        elif row.kind == "broadcast":
            _broadcast(session, plan, chat, row, replies)
        else:
            _alert(alert_data, plan, chat, row, now, tz, words)
    for chat_id, held in digests.items():
        chat = chats[chat_id]
        parts, missing = digest_for_chat(session, chat=chat, rows=held, now=now, tz=tz, words=words)
        plan.cancel.extend((row_id, "article deleted") for row_id in missing)
        if parts:
            plan.jobs.append([_job(chat, part.ids, part.reply) for part in parts])
    return plan


def _alert(
    data: _AlertData,
    plan: Plan,
    chat: Chat,
    row: Claimed,
    now: datetime,
    tz: ZoneInfo,
    words: WordsFor,
) -> None:
    release = quiet_release(now, parse_hhmm(chat.quiet_start), parse_hhmm(chat.quiet_end), tz)
    if release is not None:
        plan.defer.append((row.id, release))
        return
    article = data.articles.get(row.article_id) if row.article_id else None
    if article is None:
        plan.cancel.append((row.id, "article deleted"))
        return
    sub = data.subscriptions.get((row.chat_id, topic_key(row.topic or "")))
    if sub is None:
        plan.cancel.append((row.id, "unsubscribed"))
        return
    reply = alert_reply(
        alert_article(article),
        topic=sub.topic,
        subscription_id=sub.id,
        tz=tz,
        words=words(chat.language),
    )
    plan.jobs.append([_job(chat, [row.id], reply)])


def _broadcast(
    session: Session, plan: Plan, chat: Chat, row: Claimed, replies: dict[int, Reply]
) -> None:
    broadcast = session.get(Broadcast, row.broadcast_id) if row.broadcast_id else None
    if broadcast is None or broadcast.id is None:
        plan.cancel.append((row.id, "broadcast deleted"))
        return
    reply = replies.get(broadcast.id)
    if reply is None:  # one Reply object per broadcast: senders render it once per batch
        reply = replies[broadcast.id] = Reply.plain(*broadcast.text.splitlines())
    if any(run.text.strip() for line in reply.lines for run in line):
        plan.jobs.append([_job(chat, [row.id], reply)])
    else:
        plan.cancel.append((row.id, "empty broadcast"))
