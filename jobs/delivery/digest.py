"""Daily digest: a chat's held deliveries become one message (split when too long)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from jobs.delivery.alerts import AlertArticle, Words, WordsFor, digest_replies
from jobs.delivery.reply import Reply
from storage.datequery import fmt
from storage.deliveries import Claimed
from storage.models import Article, Chat


@dataclass(frozen=True)
class DigestPart:
    """One digest message and the delivery rows it carries."""

    reply: Reply
    ids: list[int]


def alert_article(article: Article) -> AlertArticle:
    """The plain values an alert or digest line shows of a stored article."""
    return AlertArticle(
        title=article.title,
        url=article.url,
        published_at=article.published_at,
        local_date=article.local_date,
        summary=article.summary,
        body=article.body,
    )


def compose_digest(
    entries: list[tuple[int, AlertArticle, str]],
    *,
    now: datetime,
    tz: ZoneInfo,
    words: Words,
) -> list[DigestPart]:
    """Pure: (delivery id, article, topic) entries, oldest first, as digest messages."""
    day = fmt(now.astimezone(tz).date())
    return [
        DigestPart(reply=reply, ids=ids)
        for reply, ids in digest_replies(entries, day=day, tz=tz, words=words)
    ]


def digest_for_chat(
    session: Session,
    *,
    chat: Chat,
    rows: list[Claimed],
    now: datetime,
    tz: ZoneInfo,
    words: WordsFor,
) -> tuple[list[DigestPart], list[int]]:
    """The digest parts for a chat's claimed digest rows, and ids whose article is gone."""
    ids = [r.article_id for r in rows if r.article_id is not None]
    articles = {
        a.id: a for a in session.exec(select(Article).where(col(Article.id).in_(ids))).all()
    }
    entries: list[tuple[int, AlertArticle, str]] = []
    missing: list[int] = []
    for row in rows:
        article = articles.get(row.article_id)
        if article is None:
            missing.append(row.id)
            continue
        entries.append((row.id, alert_article(article), row.topic or ""))
    entries.sort(key=lambda e: (e[1].published_at or now, e[0]))
    parts = compose_digest(entries, now=now, tz=tz, words=words(chat.language))
    if parts:
        chat.last_digest_at = now
        session.add(chat)
    return parts, missing
