"""The poll's on_stored hook: match new articles and queue one delivery per (article, chat)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from jobs.delivery.match import Matcher, MatcherCache, article_haystack, haystack_from_folded
from jobs.delivery.quiet import next_digest_at, parse_hhmm, quiet_release
from storage.articles import StoreResult
from storage.deliveries import enqueue, new_row
from storage.models import Article, Chat
from storage.types import utcnow

log = logging.getLogger(__name__)
_CHUNK = 500
_ENQUEUE_CHUNK = 1000


def plan_delivery(
    *,
    digest_mode: str,
    digest_time: str | None,
    quiet_start: str | None,
    quiet_end: str | None,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[str, datetime]:
    """(kind, not_before) for a new alert: held for the daily digest, or after quiet hours."""
    if digest_mode == "daily":
        return "digest", next_digest_at(now, parse_hhmm(digest_time), tz)
    release = quiet_release(now, parse_hhmm(quiet_start), parse_hhmm(quiet_end), tz)
    return "alert", release or now


class ChatPlan(NamedTuple):
    """What queueing needs of a chat: its digest and quiet-hour settings."""

    digest_mode: str
    digest_time: str | None
    quiet_start: str | None
    quiet_end: str | None


def active_chats(session: Session, *, ids: Iterable[int]) -> dict[int, ChatPlan]:
    """The active, approved chats among `ids`, by id (plain tuples, not 10k ORM objects;
    a chat awaiting approval gets nothing)."""
    wanted = sorted(set(ids))
    found: dict[int, ChatPlan] = {}
    columns = [col(getattr(Chat, name)) for name in ("id", *ChatPlan._fields)]
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        stmt = sa_select(*columns).where(
            col(Chat.id).in_(chunk), col(Chat.active).is_(True), col(Chat.access) == "approved"
        )
        for chat_id, *plan in session.execute(stmt):
            found[int(chat_id)] = ChatPlan(*plan)
    return found


def enqueue_alerts(
    session: Session, *, articles: list[Article], matcher: Matcher, now: datetime, tz: ZoneInfo
) -> int:
    """Queue a delivery for each chat whose topics match each article; returns rows written.

    Insert-ignore on (article_id, chat_id), so a retried poll never doubles a delivery.
    """
    matched = [(a, matcher.match(_haystack(a), a.source)) for a in articles]
    chats = active_chats(session, ids={cid for _a, found in matched for cid in found})
    rows: list[dict[str, Any]] = []
    written = queued = 0
    for article, found in matched:
        for chat_id, topic in found.items():
            chat = chats.get(chat_id)
            if chat is None:
                continue
            kind, not_before = plan_delivery(
                digest_mode=chat.digest_mode,
                digest_time=chat.digest_time,
                quiet_start=chat.quiet_start,
                quiet_end=chat.quiet_end,
                now=now,
                tz=tz,
            )
            rows.append(
                new_row(
                    chat_id=chat_id,
                    kind=kind,
                    now=now,
                    not_before=not_before,
                    article_id=article.id,
                    topic=topic.topic,
                )
            )
            if len(rows) >= _ENQUEUE_CHUNK:  # a 10k-chat fan-out never holds 10k rows at once
                written += enqueue(session, rows=rows)
                queued += len(rows)
                rows = []
    written += enqueue(session, rows=rows)
    queued += len(rows)
    if queued:
        log.info("queued %d of %d deliveries for %d articles", written, queued, len(articles))
    return written


def _haystack(article: Article) -> str:
    """Match on the folded columns the store already wrote; fold only when they are empty."""
    if article.title_folded or article.body_folded:
        return haystack_from_folded(article.title_folded, article.summary, article.body_folded)
    return article_haystack(article.title, article.summary, article.body)


def make_on_stored(
    *,
    tz: ZoneInfo,
    cache: MatcherCache | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Callable[[Session, StoreResult], int]:
    """The hook poll_source calls inside the store's transaction (only `new` rows alert).

    A baseline store (a source's first read) alerts nobody: its back catalogue is not news.
    """
    matchers = cache or MatcherCache()

    def on_stored(session: Session, result: StoreResult) -> int:
        if not result.new or result.baseline:
            return 0
        matcher = matchers.get(session)
        return enqueue_alerts(session, articles=result.new, matcher=matcher, now=clock(), tz=tz)

    return on_stored
