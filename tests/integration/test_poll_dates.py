"""A poll settles a feed's day/month order, remembers it, and flags what it cannot settle."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from jobs.ingest.fetch import Fetcher
from storage.db import session_scope, upgrade
from storage.models import Article
from tests.fakes.httpserver import FakeHTTPServer
from tests.integration.pollworld import html_source, poll, rss_source, state

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RSS = "application/rss+xml; charset=utf-8"


def _local_dates(engine: Engine) -> dict[str, date | None]:
    with session_scope(engine) as s:
        return {a.title: a.local_date for a in s.exec(select(Article))}


async def test_month_first_feed_is_stored_month_first_and_learnt(
    engine: Engine, server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    upgrade(engine)
    server.route("/bcp.rss", (FIXTURES / "baochinhphu_feed.xml").read_bytes(), content_type=RSS)
    source = rss_source(server, "/bcp.rss", fetch_articles=False)
    await poll(source, engine, fetcher, datetime.fromisoformat("2026-09-14T13:00:00+00:00"))
    days = _local_dates(engine)
    assert days["Hướng dẫn thực hiện Quy chế dân chủ ở cơ sở"] == date(2026, 9, 12)
    assert days["Cảnh báo mưa lớn diện rộng ở các tỉnh miền Trung"] == date(2026, 9, 1)
    health = state(engine, "feed")
    assert (health.date_order, health.ambiguous_dates) == ("mdy", 0)
    # The same source later publishes only ambiguous dates: the learnt order reads them.
    server.route(
        "/bcp.rss", (FIXTURES / "baochinhphu_feed_ambiguous.xml").read_bytes(), content_type=RSS
    )
    await poll(
        source, engine, fetcher, datetime.fromisoformat("2026-11-29T03:00:00+00:00"), force=True
    )
    days = _local_dates(engine)
    assert days["Thông cáo về kết quả làm việc với các địa phương"] == date(2026, 4, 2)
    assert state(engine, "feed").ambiguous_dates == 0
    # ... and fills the dates the first read had to leave empty.
    assert _local_dates(engine)["Thông cáo về kết quả làm việc với các địa phương"] == date(
        2026, 4, 2
    )


async def test_unsettled_dates_are_not_stored_and_the_source_is_flagged(
    engine: Engine, server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    upgrade(engine)
    body = (FIXTURES / "baochinhphu_feed_ambiguous.xml").read_bytes()
    server.route("/amb.rss", body, content_type=RSS)
    source = rss_source(server, "/amb.rss", fetch_articles=False)
    await poll(source, engine, fetcher, datetime.fromisoformat("2026-11-29T03:00:00+00:00"))
    days = _local_dates(engine)
    assert days["Thông cáo về kết quả làm việc với các địa phương"] is None  # not a guess
    assert days["Thông cáo về hội nghị trực tuyến toàn quốc"] == date(2026, 3, 3)
    health = state(engine, "feed")
    assert (health.date_order, health.ambiguous_dates) == (None, 2)
    assert health.consecutive_failures == 0  # a flag, not a failure
    # The admin declares the order: the next read stores the dates.
    declared = rss_source(server, "/amb.rss", fetch_articles=False, date_order="mdy")
    await poll(
        declared, engine, fetcher, datetime.fromisoformat("2026-11-29T04:00:00+00:00"), force=True
    )
    assert state(engine, "feed").ambiguous_dates == 0
    # ... and fills the dates the first read had to leave empty.
    assert _local_dates(engine)["Thông cáo về kết quả làm việc với các địa phương"] == date(
        2026, 4, 2
    )


async def test_article_pages_settle_the_order_when_the_listing_shows_no_dates(
    engine: Engine, server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    upgrade(engine)
    days = {"a": "05/11/2026", "b": "16/11/2026 3:01:13 CH", "c": "03/11/2026"}
    guid = "6B1E2F0A-1C3D-4E5F-8A9B-0C1D2E3F4A5{}"
    links = "".join(
        f'<li><a href="/vi-vn/tin/tid/bai-{k}/newsid/{guid.format(n)}">'
        f"Bài viết số {k} của cổng</a></li>"
        for n, k in enumerate(days)
    )
    server.route("/vi-vn/tin", f"<html><body><ul>{links}</ul></body></html>")
    for n, (k, day) in enumerate(days.items()):
        server.route(
            f"/vi-vn/tin/tid/bai-{k}/newsid/{guid.format(n)}",
            f"<html><body><h1>Bài viết số {k} của cổng</h1><p>Cập nhật: {day}</p>"
            f"<div class='content'><p>Nội dung bài viết {k} đủ dài để là một đoạn văn.</p>"
            "</div></body></html>",
        )
    source = html_source(server, path="/vi-vn/tin")
    await poll(source, engine, fetcher, datetime.fromisoformat("2026-11-20T03:00:00+00:00"))
    stored = _local_dates(engine)
    assert stored == {
        "Bài viết số a của cổng": date(2026, 11, 5),  # not 11 May
        "Bài viết số b của cổng": date(2026, 11, 16),
        "Bài viết số c của cổng": date(2026, 11, 3),
    }
    assert state(engine, "portal").date_order == "dmy"
