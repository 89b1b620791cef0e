"""The demo portal over real HTTP on 127.0.0.1 (starlette + uvicorn), run inside the service.

It serves what the tests' fake portal serves: the listing with pagination and an ETag on its
content, article pages whose visit counters change on every request, /rss.aspx and /atom.xml
with ETags, and the attachments. A timer publishes a new article every few minutes so that
polls find news and subscriptions alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from jobs.demo.site import LISTING_PATH, TZ, PortalArticle, PortalSite, build_site
from jobs.ingest.sources import SourceConfig
from storage.types import utcnow

log = logging.getLogger(__name__)

__all__ = ["DemoPortal", "demo_sources", "portal_app", "start_demo_portal"]

HOST = "127.0.0.1"
RSS_PATH = "/rss.aspx"
ATOM_PATH = "/atom.xml"
ADD_EVERY_SECONDS = 120.0  # a new demo article this often, so alerts can be seen
POLL_EVERY_SECONDS = 60  # the demo sources' poll interval (the sources file minimum is 30)
LISTING_PAGES = 3  # listing pages the HTML source reads
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 5.0
ATTACHMENT_BODY = b"%PDF-1.4\n% demo attachment\n%%EOF\n"
HTML = "text/html; charset=utf-8"


def _validated(request: Request, etag: str, body: Callable[[], str], media_type: str) -> Response:
    """200 with the ETag, or 304 when If-None-Match already names it."""
    given = request.headers.get("if-none-match", "")
    tags = {tag.strip().removeprefix("W/") for tag in given.split(",") if tag.strip()}
    if etag in tags or "*" in tags:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body(), media_type=media_type, headers={"ETag": etag})


def portal_app(site: PortalSite) -> Starlette:
    """The demo portal's routes over `site`; articles added later are served too."""
    counter = itertools.count(1)  # visit counters: a new number on every page served

    async def listing(request: Request) -> Response:
        raw = request.query_params.get("page", "1")
        page = int(raw) if raw.isdigit() and int(raw) >= 1 else 1
        etag = f'"{site.version(page)}"'
        return _validated(
            request, etag, lambda: site.render_listing(page, counter=next(counter)), HTML
        )

    def feed(kind: str) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            base = str(request.base_url)
            if kind == "rss":
                render, mime = (lambda: site.render_rss(base)), "application/rss+xml"
            else:
                render, mime = (lambda: site.render_atom(base)), "application/atom+xml"
            return _validated(request, f'"{kind}-{site.version()}"', render, mime)

        return answer

    async def home(_request: Request) -> Response:
        return RedirectResponse(LISTING_PATH, status_code=302)

    async def other(request: Request) -> Response:
        path = request.url.path
        article = site.by_path(path)
        if article is not None:
            return Response(site.render_article(article, counter=next(counter)), media_type=HTML)
        if any(href.partition("?")[0] == path for href in _attachment_hrefs(site)):
            return Response(ATTACHMENT_BODY, media_type="application/pdf")
        return Response("Không tìm thấy trang / Not Found", status_code=404, media_type=HTML)

    routes = [
        Route("/", home),
        Route(LISTING_PATH, listing),
        Route(RSS_PATH, feed("rss")),
        Route(ATOM_PATH, feed("atom")),
        Route("/{path:path}", other),
    ]
    return Starlette(routes=routes)


def _attachment_hrefs(site: PortalSite) -> Iterator[str]:
    return (href for article in site.articles for _name, href in article.attachments)


def demo_sources(
    base_url: str, *, interval_seconds: int = POLL_EVERY_SECONDS
) -> list[SourceConfig]:
    """The sources of demo mode: the HTML listing (pages and articles) and the RSS feed."""
    base = base_url.rstrip("/")
    every = interval_seconds
    return [  # allow_private: the demo portal is on 127.0.0.1
        SourceConfig(
            name="demo-html",
            kind="html",
            urls=[base + LISTING_PATH],
            pages=LISTING_PAGES,
            interval_seconds=every,
            allow_private=True,
        ),
        SourceConfig(
            name="demo-rss",
            kind="rss",
            urls=[base + RSS_PATH],
            interval_seconds=every,
            allow_private=True,
        ),
    ]


class _Server(uvicorn.Server):
    """uvicorn with a start-up event, leaving signal handling to the service around it."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would take over SIGINT/SIGTERM; the service's own handlers must keep them.
        yield


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one), so the URL is known before serving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@dataclass
class DemoPortal:
    """A running demo portal: its base URL, the sources pointing at it, and its content."""

    site: PortalSite = field(repr=False)
    base_url: str
    sources: list[SourceConfig] = field(repr=False)
    clock: Callable[[], datetime] = field(default=utcnow, repr=False)
    added: list[PortalArticle] = field(default_factory=list, repr=False)
    _server: _Server | None = field(default=None, repr=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, repr=False)
    _sock: socket.socket | None = field(default=None, repr=False)

    def add_article(self, now: datetime | None = None) -> PortalArticle:
        """Publishes one new article dated `now` (default: the clock), newest in the listing."""
        moment = (now or self.clock()).astimezone(TZ).replace(microsecond=0)
        article = self.site.add_article(published=moment)
        self.added.append(article)
        log.info("demo portal: new article %r", article.title)
        return article

    async def _add_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)  # a wall-clock timer is the point of this task
            self.add_article()

    async def aclose(self) -> None:
        """Stops the timer and the server (in-flight requests get a bounded grace period)."""
        for task in self._tasks[1:]:
            task.cancel()
        if self._server is not None:
            self._server.should_exit = True
        if self._tasks:
            serving = self._tasks[0]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(serving), STOP_TIMEOUT_SECONDS)
            if not serving.done() and self._server is not None:
                self._server.force_exit = True
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks.clear()
        if self._sock is not None:
            self._sock.close()


async def start_demo_portal(
    *,
    host: str = HOST,
    port: int = 0,
    add_every_seconds: float | None = ADD_EVERY_SECONDS,
    poll_every_seconds: int = POLL_EVERY_SECONDS,
    site: PortalSite | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> DemoPortal:
    """Serves the demo portal (default: build_site() content) and returns once it accepts.

    `add_every_seconds=None` publishes nothing by itself (call `add_article`).
    """
    sock = _bind(host, port)
    base_url = f"http://{host}:{sock.getsockname()[1]}"
    content = site or build_site()
    app = portal_app(content)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", log_config=None
    )
    server = _Server(config)
    portal = DemoPortal(
        site=content,
        base_url=base_url,
        sources=demo_sources(base_url, interval_seconds=poll_every_seconds),
        clock=clock,
        _server=server,
        _sock=sock,
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]), name="demo-portal")
    portal._tasks.append(serving)
    ready = asyncio.create_task(server.ready.wait())
    try:
        done, _ = await asyncio.wait(
            {serving, ready}, timeout=START_TIMEOUT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        ready.cancel()
    if ready not in done or serving.done():
        await portal.aclose()
        raise RuntimeError(f"the demo portal did not start on {base_url}")
    if add_every_seconds is not None:
        adder = asyncio.create_task(portal._add_every(add_every_seconds), name="demo-articles")
        portal._tasks.append(adder)
    log.info("demo portal serving on %s", base_url)
    return portal
