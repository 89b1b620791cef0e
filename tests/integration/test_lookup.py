"""latest() and articles_between() on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.lookup import articles_between, latest
from storage.models import Article
from storage.text import fold


def article(key: str, published: datetime | None, source: str = "tinh") -> Article:
    local = (published + timedelta(hours=7)).date() if published else None
    return Article(
        key=key,
        source=source,
        url=f"https://thuathienhue.gov.vn/{key}",
        title=f"Tin {key}",
        content_hash=key,
        title_folded=fold(f"Tin {key}"),
        published_at=published,
        local_date=local,
    )


def at(day: int, hour: int = 3) -> datetime:
    return datetime(2011, 12, day, hour, tzinfo=UTC)


def test_latest_is_newest_first_with_undated_last(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(article("undated", None))
        s.add(article("old", at(1)))
        s.add(article("new", at(16)))
        s.add(article("same-time-later-id", at(16)))
        s.add(article("other", at(20), source="dangbo"))
    with session_scope(engine) as s:
        assert [a.key for a in latest(s, n=3)] == ["other", "same-time-later-id", "new"]
        got = [a.key for a in latest(s, n=10, source="tinh")]
        assert got == ["same-time-later-id", "new", "old", "undated"]
        assert len(latest(s, n=0)) == 1  # clamped, not an error
        assert latest(s, n=5, source="none") == []


def test_articles_between_uses_local_days_and_pages(engine: Engine) -> None:
    with session_scope(engine) as s:
        # 16/12 18:00 UTC is already 17/12 in Hue (UTC+7).
        s.add(article("late", at(16, 18)))
        for i in range(12):
            s.add(article(f"d16-{i}", at(16, 1) + timedelta(minutes=i)))
    with session_scope(engine) as s:
        first = articles_between(s, start=date(2011, 12, 16), end=date(2011, 12, 16))
        assert (first.total, first.pages, len(first.items)) == (12, 2, 10)
        assert first.items[0].key == "d16-11"
        second = articles_between(s, start=date(2011, 12, 16), end=date(2011, 12, 16), page=2)
        assert [a.key for a in second.items] == ["d16-1", "d16-0"]
        assert first.nearest_before is None and first.nearest_after is None
        on17 = articles_between(s, start=date(2011, 12, 17), end=date(2011, 12, 17))
        assert [a.key for a in on17.items] == ["late"]


def test_empty_day_offers_nearest_days_with_articles(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(article("a", at(2)))
        s.add(article("b", at(5)))
        s.add(article("c", at(20)))
    with session_scope(engine) as s:
        page = articles_between(s, start=date(2011, 12, 10), end=date(2011, 12, 12))
        assert (page.total, page.items) == (0, [])
        assert (page.nearest_before, page.nearest_after) == (date(2011, 12, 5), date(2011, 12, 20))
        edge = articles_between(s, start=date(2011, 12, 21), end=date(2011, 12, 31))
        assert (edge.nearest_before, edge.nearest_after) == (date(2011, 12, 20), None)
