"""Cost of polling an unchanged source, beside a first (full) poll of it in the same run.

Run: `make bench`, or `pytest tests/benchmarks/bench_poll.py -s -o addopts=""`.
Env: BENCH_POLL_ARTICLES (default 50), BENCH_POLL_RUNS (unchanged polls, default 30).
The fake portal serves a listing of BENCH_POLL_ARTICLES articles, 10 per page, with ETags
on the listing and visit counters on every page; the source follows up to 5 listing pages.
Rows: the full first poll (baseline), an unchanged re-poll (one conditional request, 304),
and polls after one new article (every listing page shifts, so each answers 200): while the
known articles are fresh (first seen < EDIT_WATCH ago, re-read for edits) and once they
are older (only the listings and the new page). Both databases when PostgreSQL answers.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from jobs.ingest.fetch import Fetcher
from jobs.ingest.poll import PollReport, poll_source
from jobs.ingest.poll_read import EDIT_WATCH
from jobs.ingest.sources import SourceConfig
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, TZ, build_site, mount

N_ARTICLES = int(os.environ.get("BENCH_POLL_ARTICLES", "50"))
RUNS = int(os.environ.get("BENCH_POLL_RUNS", "30"))
PER_PAGE = 10
PAGES = 5
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


async def _timed(
    source: SourceConfig, engine: Engine, fetcher: Fetcher, server: FakeHTTPServer, now: datetime
) -> tuple[float, int, PollReport]:
    before = len(server.received)
    started = time.perf_counter()
    report = await poll_source(source, fetcher=fetcher, engine=engine, tz=TZ, now=now, force=True)
    elapsed = time.perf_counter() - started
    assert report.failed is None, report
    return elapsed, len(server.received) - before, report


async def _measure(engine: Engine) -> list[tuple[str, float, int, int]]:
    rows: list[tuple[str, float, int, int]] = []
    with FakeHTTPServer() as server:
        site = build_site(n_articles=N_ARTICLES, per_page=PER_PAGE)
        mount(server, site)
        source = SourceConfig(
            name="bench", kind="html", urls=[server.url(LISTING_PATH)], pages=PAGES,
            allow_private=True, interval_seconds=600,
        )  # fmt: skip
        async with Fetcher(deadline=20) as fetcher:
            secs, requests, report = await _timed(source, engine, fetcher, server, NOW)
            rows.append(("first poll (baseline)", secs * 1000, requests, report.new))
            assert report.new == min(N_ARTICLES, PER_PAGE * PAGES)
            times, counts = [], set()
            for i in range(RUNS):
                secs, requests, report = await _timed(
                    source, engine, fetcher, server, NOW + timedelta(minutes=10 * (i + 1))
                )
                assert report.new == report.edited == 0 and report.unchanged_304 == 1
                times.append(secs * 1000)
                counts.add(requests)
            assert counts == {1}, counts  # exactly one conditional request per unchanged poll
            rows.append(("unchanged poll (median)", statistics.median(times), 1, 0))
            rows.append(("unchanged poll (max)", max(times), 1, 0))
            site.add_article(title="Thông báo mới về cải cách hành chính")
            secs, requests, report = await _timed(
                source, engine, fetcher, server, NOW + timedelta(hours=12)
            )
            assert report.new == 1
            rows.append(("new article, fresh known", secs * 1000, requests, report.new))
            # Known articles older than EDIT_WATCH are not re-read: only listings and the new.
            site.add_article(title="Thông báo lịch tiếp công dân tháng 12")
            secs, requests, report = await _timed(
                source, engine, fetcher, server, NOW + EDIT_WATCH + timedelta(days=1)
            )
            assert report.new == 1
            rows.append(("new article, old known", secs * 1000, requests, report.new))
    return rows


def test_bench_poll_unchanged_vs_full(engine: Engine) -> None:
    rows = asyncio.run(_measure(engine))
    backend = engine.dialect.name
    print(f"\npoll cost on {backend}: {N_ARTICLES} articles, {PER_PAGE}/page, {PAGES} pages max")
    print(f"{'case':<26}{'wall ms':>10}{'requests':>10}{'stored':>8}")
    for name, ms, requests, stored in rows:
        print(f"{name:<26}{ms:>10.1f}{requests:>10}{stored:>8}")
    full, unchanged = rows[0][1], rows[1][1]
    print(f"unchanged / full wall time: {unchanged / full:.3f}")
    assert unchanged < full  # a 304 must cost less than reading everything
