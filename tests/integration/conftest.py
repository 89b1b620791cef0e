"""Fixtures shared by the integration tests: a fake HTTP server and the fake portal on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from jobs.ingest.fetch import Fetcher
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import PortalSite, build_site, mount
from tests.integration.pollworld import DEADLINE, MAX_BYTES, N_ARTICLES


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    """A fresh fake HTTP server on 127.0.0.1."""
    with FakeHTTPServer() as srv:
        yield srv


@pytest.fixture
def site(server: FakeHTTPServer) -> PortalSite:
    """The fake portal (seed article first, 5 per listing page) mounted on `server`."""
    s = build_site(n_articles=N_ARTICLES, per_page=5)
    mount(server, s)
    return s


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    """A fetcher with a short deadline and cap, so fault tests end quickly."""
    async with Fetcher(deadline=DEADLINE, max_bytes=MAX_BYTES) as f:
        yield f
