"""Per-item isolation: a hostile item is cleaned or skipped (and counted), never the source."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from jobs.ingest.fetch import Fetcher
from storage.db import session_scope
from storage.models import Article
from tests.fakes.httpserver import FakeHTTPServer
from tests.integration.pollworld import poll, rss_source, state


def _link(path: str) -> str:
    return path if path.startswith("http") else f"http://portal.example{path}"


def _feed(items: list[tuple[str, str, str]]) -> str:
    """RSS 2.0 with (title, link path, pubDate) items."""
    body = "".join(
        f"<item><title>{title}</title><link>{_link(path)}</link>"
        f"<guid isPermaLink='false'>{path}</guid><pubDate>{date}</pubDate>"
        f"<description>Tóm tắt {title}</description></item>"
        for title, path, date in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Cổng</title><link>http://portal.example/</link>{body}</channel></rss>"
    )


GOOD_DATE = "Wed, 25 Nov 2026 07:00:00 +0700"
HOSTILE_ITEMS = [
    ("Tin có ký tự NUL &#0; ở giữa", "/nul", GOOD_DATE),
    ("Tin có surrogate &#xD800; lẻ", "/surrogate", GOOD_DATE),
    ("Tin có ký tự điều khiển &#x1b;&#xFFFF; lạ", "/control", GOOD_DATE),
    ("Tin ngày năm 0001", "/year1", "Mon, 01 Jan 0001 00:00:00 +0700"),
    ("Tin ngày năm 9999", "/year9999", "Fri, 31 Dec 9999 23:59:59 -1200"),
    ("Tin bình thường", "/normal", GOOD_DATE),
]


async def test_hostile_items_are_cleaned_and_the_rest_is_stored(
    engine: Engine, server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.route("/rss.aspx", _feed(HOSTILE_ITEMS), content_type="application/rss+xml")
    report = await poll(rss_source(server, fetch_articles=False), engine, fetcher, force=True)
    assert report.failed is None and not report.skipped_items, report
    with session_scope(engine) as s:
        titles = {a.url.rsplit("/", 1)[1]: a.title for a in s.exec(select(Article))}
    assert titles["nul"] == "Tin có ký tự NUL ở giữa"
    assert titles["surrogate"] == "Tin có surrogate \ufffd lẻ"
    assert titles["control"] == "Tin có ký tự điều khiển lạ"
    assert set(titles) == {"nul", "surrogate", "control", "year1", "year9999", "normal"}
    health = state(engine, "feed")
    assert health.last_success_at is not None
    assert health.consecutive_failures == 0


async def test_an_item_that_cannot_be_stored_is_skipped_and_counted(
    engine: Engine, server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    items = [
        ("Tin bình thường", "/normal", GOOD_DATE),
        ("Tin có khóa quá dài", "/" + "x" * 600, GOOD_DATE),
    ]
    items.append(("Tin thứ ba", "/third", GOOD_DATE))
    server.route("/rss.aspx", _feed(items), content_type="application/rss+xml")
    report = await poll(rss_source(server, fetch_articles=False), engine, fetcher, force=True)
    assert report.failed is None
    with session_scope(engine) as s:
        stored = {a.title for a in s.exec(select(Article))}
    assert {"Tin bình thường", "Tin thứ ba"} <= stored
    health = state(engine, "feed")
    assert health.last_success_at is not None


async def test_a_domain_move_stores_and_alerts_nothing_again(
    engine: Engine, server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    def feed(host: str) -> str:
        items = "".join(
            f"<item><title>Tin số {i}</title><link>{host}/tin/bai-{i}.html</link>"
            f"<pubDate>{GOOD_DATE}</pubDate></item>"
            for i in range(20)
        )
        return _feed([]).replace("</channel>", items + "</channel>")

    source = rss_source(server, fetch_articles=False, aliases={"hue.gov.vn": "thuathienhue.gov.vn"})
    server.route(
        "/rss.aspx", feed("http://thuathienhue.gov.vn"), content_type="application/rss+xml"
    )
    first = await poll(source, engine, fetcher, force=True)
    assert first.new == 20
    for host in (
        "https://thuathienhue.gov.vn",
        "https://www.thuathienhue.gov.vn",
        "https://hue.gov.vn",
    ):
        server.route("/rss.aspx", feed(host), content_type="application/rss+xml")
        again = await poll(source, engine, fetcher, force=True)
        assert (again.new, again.failed) == (0, None), host
