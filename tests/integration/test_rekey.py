"""Migration 0004 rekeys stored articles to the stable identity without alerting them again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from jobs.ingest.items import ParsedArticle
from jobs.ingest.normalize import to_article
from storage.articles import store_articles
from storage.db import make_engine, session_scope, upgrade
from storage.models import Article, Delivery

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
OLD_ROWS = [
    # (key as 0002 stored it, source, url)
    (
        "url:http://www.portal.hue.gov.vn/tin/bai-1",
        "portal",
        "http://www.portal.hue.gov.vn/tin/bai-1",
    ),
    ("url:https://portal.hue.gov.vn/tin/bai-1", "portal", "https://portal.hue.gov.vn/tin/bai-1"),
    (
        "url:https://u:pw@portal.hue.gov.vn/tin/bai-2",
        "portal",
        "https://u:pw@portal.hue.gov.vn/tin/bai-2",
    ),
    ("guid:1", "feed-a", "http://a.vn/1"),
    ("newsid:5d1c2a8e-6f0b-4c1e-9a51-3f2b7c9d0e11", "portal", "http://portal.hue.gov.vn/x"),
]


@pytest.fixture
def old_engine(db_url: str) -> Iterator[Engine]:
    """A database at revision 0002 holding rows keyed the old way, one with a delivery."""
    eng = make_engine(db_url)
    upgrade(eng, "0002")
    with eng.begin() as conn:
        for key, source, url in OLD_ROWS:
            conn.execute(
                text(
                    "INSERT INTO articles (key, source, url, title, summary, body, attachments,"
                    " content_hash, title_folded, body_folded, first_seen_at, updated_at,"
                    " edit_count) VALUES (:k, :s, :u, 'Tin', '', '', '[]', 'h', 'tin', '',"
                    " :now, :now, 0)"
                ),
                {"k": key, "s": source, "u": url, "now": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO chats (platform, external_id, kind, title, active, digest_mode,"
                " created_at) VALUES ('telegram', '1', 'private', '', true, 'instant', :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO deliveries (chat_id, kind, article_id, state, attempts, not_before,"
                " created_at) VALUES (1, 'alert', 1, 'sent', 1, :now, :now)"
            ),
            {"now": NOW},
        )
    yield eng
    eng.dispose()


def _article(url: str, source: str = "portal", guid: str | None = None) -> ParsedArticle:
    return ParsedArticle(url=url, title="Tin", published=None, body="", guid=guid)


def test_rekeyed_rows_are_not_stored_or_alerted_again(old_engine: Engine) -> None:
    upgrade(old_engine)
    with session_scope(old_engine) as s:
        rows = {a.id: a for a in s.exec(select(Article))}
        assert rows[1].key == "url:portal.hue.gov.vn/tin/bai-1"  # the oldest takes the key
        assert rows[2].key == "url:https://portal.hue.gov.vn/tin/bai-1"  # kept its own
        assert rows[3].key == "url:portal.hue.gov.vn/tin/bai-2"
        assert "pw" not in rows[3].url
        assert rows[4].key == "guid:feed-a:1"
        assert rows[5].key.startswith("newsid:")
        assert len(s.exec(select(Delivery)).all()) == 1
    again = [
        to_article(_article("https://portal.hue.gov.vn/tin/bai-1"), source="portal", tz=TZ),
        to_article(_article("http://www.portal.hue.gov.vn/tin/bai-2"), source="portal", tz=TZ),
        to_article(_article("http://a.vn/1", guid="1"), source="feed-a", tz=TZ),
    ]
    with session_scope(old_engine) as s:
        result = store_articles(s, items=again, now=NOW)
    assert result.new == []
    other_feed = to_article(_article("http://b.vn/1", guid="1"), source="feed-b", tz=TZ)
    with session_scope(old_engine) as s:
        assert len(store_articles(s, items=[other_feed], now=NOW).new) == 1  # no overwrite
