"""Backfill of a large fake portal: politeness kept, time, memory, and /search while it runs.

Run: `make bench`, or `pytest tests/benchmarks/bench_backfill.py -s -o addopts=""`.
Env: BENCH_BACKFILL_ARTICLES (default 10000), BENCH_BACKFILL_PAUSE (seconds between two
requests to the host, default 0.005: the politeness bound is 1/pause requests per second;
the service's default BACKFILL_PAUSE_SECONDS is 1.0, which would make this run last hours).
Rows: an unthrottled backfill of a tenth of the portal (baseline: what the machine could
do), then the whole portal with the pause. Measured at the fetcher the product uses: every
request's start and end, so "in flight" and "requests in any one second" are what the
portal sees. /search is timed in a thread on the same database, before (idle, same data)
and during the backfill. FAILS when two requests were ever in flight at once, when any
one-second window holds more requests than the bound allows, or when not every article
was stored.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from jobs.ingest.backfill import HostGate, backfill_source
from jobs.ingest.fetch import Fetcher, FetchResult, Validators
from jobs.ingest.sources import SourceConfig
from storage.db import make_engine, session_scope, upgrade
from storage.models import Article
from storage.search import search
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, TZ, build_site, mount

N_ARTICLES = int(os.environ.get("BENCH_BACKFILL_ARTICLES", "10000"))
PAUSE = float(os.environ.get("BENCH_BACKFILL_PAUSE", "0.005"))
PER_PAGE = 20
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
IDLE_RUNS = 300
QUERIES = ("quy chế dân chủ", "hội nghị", "cai cach hanh chinh", "chuyển đổi số")


class Recording(Fetcher):
    """The product's fetcher, noting when each request starts and ends."""

    def __init__(self) -> None:
        super().__init__(deadline=20, max_bytes=5_000_000)
        self.spans: list[tuple[float, float]] = []
        self.in_flight = 0
        self.peak = 0

    async def fetch(
        self, url: str, *, validators: Validators | None = None, allow_private: bool = False
    ) -> FetchResult:
        started = time.perf_counter()
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await super().fetch(url, validators=validators, allow_private=allow_private)
        finally:
            self.in_flight -= 1
            self.spans.append((started, time.perf_counter()))


def _max_per_second(starts: list[float]) -> int:
    """The most request starts in any one-second window."""
    best, left = 0, 0
    for right, at in enumerate(starts):
        while at - starts[left] >= 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


class SearchLoop(threading.Thread):
    """Runs /search's query function over and over on its own engine, timing each call."""

    def __init__(self, url: str, runs: int | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.runs = url, threading.Event(), runs
        self.times: list[float] = []

    def run(self) -> None:
        engine = make_engine(self.url)
        try:
            n = 0
            while not self.stop.is_set() and (self.runs is None or n < self.runs):
                started = time.perf_counter()
                with session_scope(engine) as s:
                    search(s, query=QUERIES[n % len(QUERIES)], page=1, per_page=10, now=NOW)
                self.times.append((time.perf_counter() - started) * 1000)
                n += 1
                self.stop.wait(0.02)  # a busy bot: about 50 searches a second at most
        finally:
            engine.dispose()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _backfill(
    server: FakeHTTPServer, engine: Engine, pause: float, pages: int | None
) -> tuple[float, Recording, int]:
    source = SourceConfig(
        name="bench", kind="html", urls=[server.url(LISTING_PATH)], allow_private=True
    )
    fetcher = Recording()
    started = time.perf_counter()
    try:
        done = await backfill_source(
            source, fetcher=fetcher, engine=engine, tz=TZ, clock=lambda: NOW,
            gate=HostGate(pause), pages=pages,
        )  # fmt: skip
    finally:
        await fetcher.aclose()
    return time.perf_counter() - started, fetcher, done.articles_stored


@pytest.fixture
def db_files(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield f"sqlite:///{tmp_path / 'baseline.db'}", f"sqlite:///{tmp_path / 'bench.db'}"


def test_bench_backfill(db_files: tuple[str, str]) -> None:
    baseline_url, url = db_files
    site = build_site(n_articles=N_ARTICLES, per_page=PER_PAGE)
    rows: list[tuple[str, float, int, float, int, int, float]] = []
    with FakeHTTPServer() as server:
        mount(server, site)
        # Baseline: no pause, a tenth of the listing pages.
        engine = make_engine(baseline_url)
        upgrade(engine)
        tenth = max(1, N_ARTICLES // PER_PAGE // 10)
        secs, rec, stored = asyncio.run(_backfill(server, engine, 0.0, tenth))
        engine.dispose()
        starts = sorted(s for s, _e in rec.spans)
        rows.append(("no pause (baseline), 1/10", secs, len(rec.spans), len(rec.spans) / secs,
                     _max_per_second(starts), rec.peak, 0.0))  # fmt: skip
        # The whole portal with the pause, /search timed while it runs.
        engine = make_engine(url)
        upgrade(engine)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        loop = SearchLoop(url)
        loop.start()
        try:
            secs, rec, stored = asyncio.run(_backfill(server, engine, PAUSE, None))
        finally:
            loop.stop.set()
            loop.join()
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        during = loop.times
        with session_scope(engine) as s:
            total = s.exec(select(func.count()).select_from(Article)).one()
        idle = SearchLoop(url, runs=IDLE_RUNS)  # the same searches, same data, nothing else
        idle.start()
        idle.join()
        engine.dispose()
    starts = sorted(s for s, _e in rec.spans)
    per_second = _max_per_second(starts)
    rows.append((f"pause {PAUSE}s, whole portal", secs, len(rec.spans), len(rec.spans) / secs,
                 per_second, rec.peak, rss_growth))  # fmt: skip
    bound = 1 / PAUSE if PAUSE else float("inf")
    print(f"\nbackfill of {N_ARTICLES} articles ({PER_PAGE}/page), SQLite; bound {bound:.0f} req/s")
    head = f"{'run':<28}{'s':>8}{'requests':>10}{'req/s':>8}{'max/1s':>8}{'in flight':>10}"
    print(head + f"{'RSS+ MiB':>9}")
    for name, s_, n, rate, peak_s, flight, rss in rows:
        print(f"{name:<28}{s_:>8.1f}{n:>10}{rate:>8.1f}{peak_s:>8}{flight:>10}{rss:>9.1f}")
    for label, times in (("while idle (same data)", idle.times), ("during the backfill", during)):
        print(
            f"/search {label:<23} p50 {_pct(times, 0.5):.1f} ms, p95 {_pct(times, 0.95):.1f},"
            f" p99 {_pct(times, 0.99):.1f} ({len(times)} runs)"
        )
    assert stored == total == N_ARTICLES
    assert rec.peak == 1, "two requests were in flight to one host"
    assert per_second <= int(bound) + 1, f"{per_second} requests in one second (bound {bound})"
    assert during and statistics.median(during) < 1000  # search stayed usable
