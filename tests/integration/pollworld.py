"""Shared helpers of the poll tests: sources pointing at the fake portal, a poll call, counts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from jobs.ingest.fetch import Fetcher
from jobs.ingest.poll import PollReport, poll_source
from jobs.ingest.sources import SourceConfig
from storage.articles import StoreResult, get_source_state
from storage.db import session_scope
from storage.models import Article, SourceState
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, TZ

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
INTERVAL = 600
DEADLINE = 1.5  # short, so trickle and timeout faults end quickly
MAX_BYTES = 2_000_000
N_ARTICLES = 12  # 3 listing pages of 5


def html_source(
    server: FakeHTTPServer, name: str = "portal", path: str = LISTING_PATH
) -> SourceConfig:
    return SourceConfig(
        name=name, kind="html", urls=[server.url(path)], pages=3,
        interval_seconds=INTERVAL, allow_private=True,
    )  # fmt: skip


def rss_source(server: FakeHTTPServer, path: str = "/rss.aspx", **kw: object) -> SourceConfig:
    return SourceConfig.model_validate(
        {"name": "feed", "kind": "rss", "urls": [server.url(path)], "allow_private": True,
         "interval_seconds": INTERVAL, **kw}
    )  # fmt: skip


async def poll(
    source: SourceConfig,
    engine: Engine,
    fetcher: Fetcher,
    now: datetime = NOW,
    *,
    force: bool = False,
    stored: list[StoreResult] | None = None,
) -> PollReport:
    def hook(_session: Session, result: StoreResult) -> None:
        if stored is not None:
            stored.append(result)

    return await poll_source(
        source, fetcher=fetcher, engine=engine, tz=TZ, now=now, on_stored=hook, force=force
    )


def count(engine: Engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(Article)).one()


def state(engine: Engine, name: str = "portal") -> SourceState:
    with session_scope(engine) as s:
        st = get_source_state(s, name=name)
        assert st is not None
        return st
