"""Polling the fake portal over real HTTP into real databases: fetch -> parse -> store."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from jobs.ingest.fetch import Fetcher
from storage.articles import StoreResult
from storage.db import session_scope
from storage.models import Article
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import CHROME_TEXTS, LISTING_PATH, PortalSite, mount
from tests.integration.pollworld import (
    N_ARTICLES,
    NOW,
    count,
    html_source,
    poll,
    rss_source,
    state,
)


async def test_first_poll_stores_every_article_with_the_seed_verbatim(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    report = await poll(html_source(server), engine, fetcher)
    assert report.failed is None and report.article_errors == []
    assert report.new == N_ARTICLES and report.edited == 0
    assert report.fetched == 3 + N_ARTICLES  # three listing pages, then each article once
    seed = site.articles[0]
    with session_scope(engine) as s:
        rows = s.exec(select(Article)).all()
        stored = next(a for a in rows if a.url.endswith(seed.path))
    assert len(rows) == N_ARTICLES
    assert stored.title == seed.title
    assert stored.local_date == date(2011, 12, 16)
    assert stored.body.split("\n\n")[0] == seed.paragraphs[0].strip()
    assert not any(chrome in a.body for a in rows for chrome in CHROME_TEXTS)
    assert state(engine).last_success_at == NOW and state(engine).ever_yielded


async def test_second_poll_costs_one_conditional_request_answered_304(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    await poll(source, engine, fetcher)
    before = len(server.received)
    stored: list[StoreResult] = []
    report = await poll(source, engine, fetcher, NOW + timedelta(minutes=10), stored=stored)
    requests = server.received[before:]
    assert [r.path for r in requests] == [LISTING_PATH]
    assert requests[0].headers.get("if-none-match")
    assert report.unchanged_304 == 1 and report.fetched == 0
    assert report.new == report.edited == 0 and report.failed is None
    assert stored == []  # nothing was read, so no store transaction and no hook call
    assert count(engine) == N_ARTICLES


async def test_counters_changing_on_every_page_do_not_create_edits(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    await poll(source, engine, fetcher)
    site.add_article(title="Thông báo lịch tiếp công dân tháng 12")  # listing changes: 200
    before = {a.path: server.count(a.path) for a in site.articles}
    report = await poll(source, engine, fetcher, NOW + timedelta(minutes=10))
    refetched = [p for p, n in before.items() if server.count(p) > n]
    assert refetched  # fresh known articles were re-read, with new counters in their pages
    assert report.new == 1 and report.edited == 0


async def test_edited_body_is_stored_as_edited_and_returned_once(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    await poll(source, engine, fetcher)
    correction = "Bài viết đã được đính chính lại số liệu về số đại biểu tham dự hội nghị."
    article = site.edit_article(3, paragraphs=[*site.articles[3].paragraphs, correction])
    stored: list[StoreResult] = []
    report = await poll(source, engine, fetcher, NOW + timedelta(hours=1), stored=stored)
    assert report.new == 0 and report.edited == 1
    edited = stored[0].edited[0]
    assert edited.url.endswith(article.path)
    assert edited.body.endswith(correction)
    assert edited.edit_count == 1 and edited.updated_at == NOW + timedelta(hours=1)
    again = await poll(source, engine, fetcher, NOW + timedelta(hours=2))
    assert again.edited == 0 and again.new == 0
    assert count(engine) == N_ARTICLES


async def test_article_that_leaves_the_listing_and_returns_is_not_new(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    await poll(source, engine, fetcher)
    gone = site.articles.pop(0)
    left = await poll(source, engine, fetcher, NOW + timedelta(minutes=10))
    site.articles.insert(0, gone)
    back = await poll(source, engine, fetcher, NOW + timedelta(minutes=20))
    assert left.new == back.new == 0 and back.edited == 0
    assert left.failed is None and back.failed is None
    assert count(engine) == N_ARTICLES


async def test_rss_variant_uses_feed_content_and_then_answers_304(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = rss_source(server)
    report = await poll(source, engine, fetcher)
    assert report.new == N_ARTICLES and report.fetched == 1  # bodies come from the feed
    with session_scope(engine) as s:
        seed = s.exec(select(Article).where(Article.title == site.articles[0].title)).one()
    assert seed.local_date == date(2011, 12, 16) and seed.body
    again = await poll(source, engine, fetcher, NOW + timedelta(minutes=10))
    assert again.unchanged_304 == 1 and again.fetched == 0 and again.new == 0


async def test_atom_without_content_fetches_the_article_pages(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    report = await poll(rss_source(server, "/atom.xml"), engine, fetcher)
    assert report.failed is None and report.new == N_ARTICLES
    assert report.fetched == 1 + N_ARTICLES
    assert all(server.count(a.path) == 1 for a in site.articles)


async def test_feed_without_content_and_fetch_articles_off_stores_the_summary(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    report = await poll(rss_source(server, "/atom.xml", fetch_articles=False), engine, fetcher)
    assert report.new == N_ARTICLES and report.fetched == 1
    assert not any(server.count(a.path) for a in site.articles)
    with session_scope(engine) as s:
        rows = s.exec(select(Article)).all()
    generated = {a.title: a.summary for a in site.articles[1:]}
    matched = [r for r in rows if r.title in generated]
    assert len(matched) == N_ARTICLES - 1
    assert all(r.body == generated[r.title] for r in matched)


async def test_a_failing_article_page_is_recorded_and_the_others_are_stored(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    broken = site.articles[4]
    server.fault(broken.path, "500")
    report = await poll(source, engine, fetcher)
    assert report.new == N_ARTICLES - 1
    assert report.article_errors == [f"{server.url(broken.path)}: http_500"]
    # The listing was not cached, so the next poll reads it again and retries the page.
    mount(server, site)
    retry = await poll(source, engine, fetcher, NOW + timedelta(minutes=10))
    assert retry.new == 1 and retry.article_errors == []
    assert count(engine) == N_ARTICLES


async def test_a_redirected_article_keeps_the_listing_link_as_identity(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    moved = site.articles[2]
    server.route("/moved/article", site.render_article(moved))
    server.fault(moved.path, "redirect", location="/moved/article", status=301)
    source = html_source(server)
    first = await poll(source, engine, fetcher)
    assert first.new == N_ARTICLES
    with session_scope(engine) as s:
        urls = {a.url for a in s.exec(select(Article))}
    assert server.url(moved.path) in urls
    site.add_article(title="Thông báo nghỉ Tết Dương lịch")
    later = await poll(source, engine, fetcher, NOW + timedelta(days=5))
    assert later.new == 1 and later.edited == 0
    assert server.count("/moved/article") == 1  # known and old: not fetched again
