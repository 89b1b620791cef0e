"""The fake portal for tests: the shipped demo content (jobs.demo.site) served by FakeHTTPServer.

The content builder lives in the package so `run --demo` can serve it too; this module
re-exports it and keeps `mount(server, site)`, which serves it on the tests' real HTTP server.
"""

from __future__ import annotations

from collections.abc import Callable

from jobs.demo.site import (
    CHROME_TEXTS,
    LISTING_PATH,
    SLOGAN,
    SOURCE_LINE,
    TZ,
    PortalArticle,
    PortalSite,
    build_site,
    seed_page_text,
)
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.httpwire import Request, Response, not_modified

__all__ = [
    "CHROME_TEXTS",
    "LISTING_PATH",
    "SLOGAN",
    "SOURCE_LINE",
    "TZ",
    "PortalArticle",
    "PortalSite",
    "build_site",
    "mount",
    "seed_page_text",
]
ATTACHMENT_BODY = b"%PDF-1.4\n% fake attachment\n%%EOF\n"


def mount(server: FakeHTTPServer, site: PortalSite, *, prefix: str = "") -> None:
    """Serves the site on server: listing (?page=N, ETag on content), article pages (fresh
    counters on every request), /rss.aspx, /atom.xml and the attachments; new articles too."""
    hits = [0]

    def counter() -> int:
        hits[0] += 1
        return hits[0]

    def listing(req: Request) -> Response:
        page = int(req.query.get("page", "1")) if req.query.get("page", "1").isdigit() else 1
        etag = f'"{site.version(page)}"'
        if not_modified(req, etag, None):
            return Response(304, b"", None, {"ETag": etag})
        return Response(200, site.render_listing(page, counter=counter()), headers={"ETag": etag})

    def feed(kind: str) -> Callable[[Request], Response]:
        def answer(req: Request) -> Response:
            etag = f'"{kind}-{site.version()}"'
            if not_modified(req, etag, None):
                return Response(304, b"", None, {"ETag": etag})
            base = server.url(prefix or "/")
            text = site.render_rss(base) if kind == "rss" else site.render_atom(base)
            mime = "application/rss+xml" if kind == "rss" else "application/atom+xml"
            return Response(200, text, f"{mime}; charset=utf-8", {"ETag": etag})

        return answer

    def route_article(article: PortalArticle) -> None:
        def answer(_req: Request) -> Response:
            return Response(200, site.render_article(article, counter=counter()))

        server.route_fn(prefix + article.path, answer)
        for _name, href in article.attachments:
            server.route(prefix + href, ATTACHMENT_BODY, content_type="application/pdf")

    server.route_fn(prefix + LISTING_PATH, listing)
    server.route_fn(prefix + "/rss.aspx", feed("rss"))
    server.route_fn(prefix + "/atom.xml", feed("atom"))
    for article in site.articles:
        route_article(article)
    site.on_new.append(route_article)
