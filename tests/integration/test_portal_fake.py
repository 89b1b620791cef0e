"""The fake portal over real HTTP: ETag/304 on listings, fresh counters, new articles routed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, PortalSite, build_site, mount


@pytest.fixture
def portal() -> Iterator[tuple[FakeHTTPServer, PortalSite]]:
    site = build_site(n_articles=7, per_page=3)
    with FakeHTTPServer() as server:
        mount(server, site)
        yield server, site


def test_listing_etag_gives_304_until_the_content_changes(
    portal: tuple[FakeHTTPServer, PortalSite],
) -> None:
    server, site = portal
    with httpx.Client() as client:
        first = client.get(server.url(LISTING_PATH))
        etag = first.headers["etag"]
        again = client.get(server.url(LISTING_PATH), headers={"If-None-Match": etag})
        assert (first.status_code, again.status_code, again.content) == (200, 304, b"")
        site.edit_article(0, title="Tiêu đề đã sửa của bài viết đầu tiên")
        changed = client.get(server.url(LISTING_PATH), headers={"If-None-Match": etag})
        assert changed.status_code == 200 and "Tiêu đề đã sửa" in changed.text
        page2 = client.get(server.url(LISTING_PATH + "?page=2"))
        assert page2.headers["etag"] != changed.headers["etag"]


def test_article_pages_change_on_every_request_and_new_articles_are_served(
    portal: tuple[FakeHTTPServer, PortalSite],
) -> None:
    server, site = portal
    seed = site.articles[0]
    with httpx.Client() as client:
        one, two = (client.get(server.url(seed.path)).text for _ in range(2))
        assert one != two and seed.title in one
        new = site.add_article("Bài viết mới về cải cách hành chính năm 2026")
        assert client.get(server.url(new.path)).status_code == 200
        assert new.title in client.get(server.url(LISTING_PATH)).text
        rss = client.get(server.url("/rss.aspx"))
        assert rss.headers["content-type"].startswith("application/rss+xml")
        assert server.url(new.path) in rss.text
        atom = client.get(server.url("/atom.xml"), headers={"If-None-Match": "x"})
        again = client.get(server.url("/atom.xml"), headers={"If-None-Match": atom.headers["etag"]})
        assert (atom.status_code, again.status_code) == (200, 304)
        attachment = client.get(server.url(site.articles[1].attachments[0][1]))
        assert attachment.content.startswith(b"%PDF")
