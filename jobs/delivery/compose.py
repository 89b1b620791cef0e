"""What claimed delivery rows become: Telegram messages to send, rows to cancel or defer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.alerts import alert_reply
from bot.replies import Button, Reply, Text
from bot.telegram.format import to_messages
from jobs.delivery.digest import alert_article, digest_for_chat
from jobs.delivery.quiet import parse_hhmm, quiet_release
from storage.chats import topic_key
from storage.deliveries import Claimed
from storage.models import Article, Broadcast, Chat, Subscription

GROUP_KINDS = ("group", "supergroup")


@dataclass(frozen=True)
class Job:
    """One sendMessage: the chat, the HTML text and keyboard, the rows it delivers."""

    chat_id: int
    external_id: str
    group: bool
    ids: list[int]
    text: str
    reply_markup: dict[str, Any] | None


@dataclass
class Plan:
    """The outcome of composing a batch of claimed rows."""

    jobs: list[list[Job]] = field(default_factory=list)  # per chat, in sending order
    cancel: list[tuple[int, str]] = field(default_factory=list)  # (row id, reason)
    defer: list[tuple[int, datetime]] = field(default_factory=list)  # (row id, not_before)


def render(reply: Reply) -> tuple[str, dict[str, Any] | None]:
    """A reply that fits one message, as HTML text and an inline keyboard dict."""
    messages = to_messages(reply)
    if len(messages) != 1:
        raise ValueError(f"expected one message, got {len(messages)}")
    markup = messages[0].reply_markup
    return messages[0].text, markup.to_dict() if markup is not None else None


def _job(chat: Chat, ids: list[int], reply: Reply) -> Job:
    text, markup = render(reply)
    return Job(
        chat_id=chat.id or 0,
        external_id=chat.external_id,
        group=chat.kind in GROUP_KINDS,
        ids=ids,
        text=text,
        reply_markup=markup,
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


def compose(session: Session, *, rows: list[Claimed], now: datetime, tz: ZoneInfo) -> Plan:
    """Turn claimed rows into jobs; rows that lost their reason to exist are cancelled.

    An alert whose chat is now in quiet hours is deferred to the end of the quiet period.
    """
    plan = Plan()
    chat_ids = sorted({r.chat_id for r in rows})
    chats = {c.id: c for c in session.exec(select(Chat).where(col(Chat.id).in_(chat_ids)))}
    digests: dict[int, list[Claimed]] = {}
    alert_data = _alert_data(session, rows)
    rendered: dict[int, list[str]] = {}  # broadcast id -> message texts, same for every chat
    for row in rows:
        chat = chats.get(row.chat_id)
        if chat is None or not chat.active:
            plan.cancel.append((row.id, "chat inactive"))
        elif row.kind == "digest":
            digests.setdefault(row.chat_id, []).append(row)
        elif row.kind == "broadcast":
            _broadcast(session, plan, chat, row, rendered)
        else:
            _alert(alert_data, plan, chat, row, now, tz)
    for chat_id, held in digests.items():
        chat = chats[chat_id]
        parts, missing = digest_for_chat(session, chat=chat, rows=held, now=now, tz=tz)
        plan.cancel.extend((row_id, "article deleted") for row_id in missing)
        if parts:
            plan.jobs.append([_job(chat, part.ids, part.reply) for part in parts])
    return plan


def _alert(
    data: _AlertData, plan: Plan, chat: Chat, row: Claimed, now: datetime, tz: ZoneInfo
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
        language=chat.language,
    )
    plan.jobs.append([_job(chat, [row.id], reply)])


def _broadcast(
    session: Session, plan: Plan, chat: Chat, row: Claimed, rendered: dict[int, list[str]]
) -> None:
    broadcast = session.get(Broadcast, row.broadcast_id) if row.broadcast_id else None
    if broadcast is None or broadcast.id is None:
        plan.cancel.append((row.id, "broadcast deleted"))
        return
    messages = rendered.get(broadcast.id)
    if messages is None:
        reply = Reply.plain(*broadcast.text.splitlines())
        messages = rendered[broadcast.id] = [m.text for m in to_messages(reply)]
    markup = _notice_markup(broadcast)
    jobs = [
        Job(
            chat_id=chat.id or 0,
            external_id=chat.external_id,
            group=chat.kind in GROUP_KINDS,
            ids=[row.id] if i == len(messages) - 1 else [],
            text=text,
            reply_markup=markup if i == len(messages) - 1 else None,
        )
        for i, text in enumerate(messages)
    ]
    if jobs:
        plan.jobs.append(jobs)
    else:
        plan.cancel.append((row.id, "empty broadcast"))


def _notice_markup(broadcast: Broadcast) -> dict[str, Any] | None:
    """A notice's buttons (e.g. Approve / Reject a chat) as an inline keyboard, or None."""
    if not broadcast.buttons:
        return None
    rows = [[Button(b["text"], data=b["data"]) for b in row] for row in broadcast.buttons]
    _text, markup = render(Reply(lines=[[Text(".")]], buttons=rows))
    return markup
