"""Backfill: older listing pages stored without alerts, resumable, one request per host."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.cli_verbs import progress_bar
from jobs.ingest.backfill import BackfillBusy, HostGate, Progress, backfill_source
from jobs.ingest.fetch import Fetcher
from jobs.ingest.sources import SourceConfig
from storage.backfill import get_backfill
from storage.chats import add_subscription, ensure_chat
from storage.db import make_engine, session_scope, upgrade
from storage.locks import source_lock
from storage.models import Article, Delivery
from storage.text import normalize
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, TZ, PortalSite, build_site, mount

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
PER_PAGE = 5
N_ARTICLES = 40  # 8 listing pages


@pytest.fixture
def big_site(server: FakeHTTPServer) -> PortalSite:
    s = build_site(n_articles=N_ARTICLES, per_page=PER_PAGE)
    mount(server, s)
    return s


def _source(server: FakeHTTPServer) -> SourceConfig:
    return SourceConfig(
        name="portal", kind="html", urls=[server.url(LISTING_PATH)], allow_private=True
    )


def _count(engine: Engine, table: type) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(table)).one()


def _first_page_hits(server: FakeHTTPServer) -> int:
    return sum(1 for _m, target, _h in server.requests if target == LISTING_PATH)


class FakeClock:
    """A monotonic clock that only moves when the gate sleeps (no real waiting in tests)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_backfill_stores_older_pages_without_alerts_and_continues(
    engine: Engine, server: FakeHTTPServer, big_site: PortalSite
) -> None:
    upgrade(engine)
    with session_scope(engine) as s:  # someone subscribed to every article
        chat = ensure_chat(s, platform="console", external_id="1", kind="private", title="")
        add_subscription(s, chat_id=chat.id or 0, topic="")
    clock = FakeClock()
    gate = HostGate(0.5, clock=clock, sleep=clock.sleep)
    seen: list[Progress] = []
    async with Fetcher(deadline=5, max_bytes=2_000_000) as fetcher:
        done = await backfill_source(
            _source(server), fetcher=fetcher, engine=engine, tz=TZ, clock=lambda: NOW,
            gate=gate, pages=3, on_progress=seen.append,
        )  # fmt: skip
        assert (done.pages_done, done.articles_stored, done.finished) == (3, 15, False)
        assert [p.pages_done for p in seen] == [1, 2, 3]
        assert _count(engine, Article) == 15 and _count(engine, Delivery) == 0
        # Every request but the first waited for the pause (one host, end to start).
        assert len(clock.sleeps) == done.requests - 1 == 18 - 1
        assert all(abs(w - 0.5) < 1e-9 for w in clock.sleeps)
        page1 = _first_page_hits(server)
        done = await backfill_source(
            _source(server), fetcher=fetcher, engine=engine, tz=TZ, clock=lambda: NOW,
            gate=gate, pages=100,
        )  # fmt: skip
    assert done.finished and done.pages_done == 8 and done.articles_stored == N_ARTICLES
    assert _count(engine, Article) == N_ARTICLES and _count(engine, Delivery) == 0
    assert _first_page_hits(server) == page1 == 1
    assert "8/100 pages" in progress_bar(done) and "done" in progress_bar(done)
    assert "8/100 trang" in progress_bar(done, "vi") and "xong" in progress_bar(done, "vi")
    with session_scope(engine) as s:
        row = get_backfill(s, source="portal")
        assert row is not None and row.finished_at is not None and row.next_url is None


async def test_backfill_since_stops_at_the_day(
    engine: Engine, server: FakeHTTPServer, big_site: PortalSite
) -> None:
    upgrade(engine)
    ordered = big_site.ordered()
    since = ordered[12].published.astimezone(TZ).date()  # on listing page 3
    clock = FakeClock()
    async with Fetcher(deadline=5, max_bytes=2_000_000) as fetcher:
        done = await backfill_source(
            _source(server), fetcher=fetcher, engine=engine, tz=TZ, clock=lambda: NOW,
            gate=HostGate(0, clock=clock, sleep=clock.sleep), since=since,
        )  # fmt: skip
    wanted = {normalize(a.title) for a in ordered if a.published.astimezone(TZ).date() >= since}
    with session_scope(engine) as s:
        stored = [(a.title, a.local_date) for a in s.exec(select(Article))]
    assert done.finished and wanted <= {title for title, _day in stored}
    assert all(day is None or day >= since for _title, day in stored)
    assert done.pages_done <= 4  # it stopped, it did not walk all 8 pages


async def test_gate_keeps_one_request_in_flight_per_host(server: FakeHTTPServer) -> None:
    in_flight, peak = [0], [0]

    async def slow(_req: object) -> object:
        from tests.fakes.httpwire import Response

        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        await asyncio.sleep(0)  # yield so overlapping requests would be seen
        in_flight[0] -= 1
        return Response(200, "ok")

    for n in range(6):
        server.route_fn(f"/p{n}", slow)  # type: ignore[arg-type]
    gate = HostGate(0.0)
    async with Fetcher(deadline=5, max_bytes=10_000) as fetcher:
        await asyncio.gather(
            *(gate.fetch(fetcher, server.url(f"/p{n}"), allow_private=True) for n in range(6))
        )
    assert peak[0] == 1 and len(server.received) == 6


def test_backfill_survives_kill_9_and_resumes(
    server: FakeHTTPServer, big_site: PortalSite, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "portal"\nkind = "html"\nurls = ["{server.url(LISTING_PATH)}"]\n'
        "allow_private = true\n",
        encoding="utf-8",
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": db_url,
        "SOURCES_FILE": str(sources),
        "BACKFILL_PAUSE_SECONDS": "0.05",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "bot.cli", "backfill", "portal"]
    first = subprocess.Popen(
        command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert first.stderr is not None
    for line in first.stderr:  # progress lines, one per page when not on a terminal
        if " 3 pages" in line:
            break
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    first.stderr.close()
    assert first.returncode == -signal.SIGKILL
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            row = get_backfill(s, source="portal")
            assert row is not None and 3 <= row.pages_done < 8 and row.finished_at is None
            stopped_at = row.pages_done
        listing_hits = server.count(LISTING_PATH)
        second = subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
        )
        assert second.returncode == 0, second.stderr
        assert "· done" in second.stderr
        assert _count(engine, Article) == N_ARTICLES
        # It went on from the page it had reached: no earlier listing page was read again.
        assert server.count(LISTING_PATH) - listing_hits <= 8 - stopped_at + 1
        article_hits = sum(server.count(a.path) for a in big_site.articles)
        assert article_hits <= N_ARTICLES + PER_PAGE  # at most the page in flight twice
    finally:
        engine.dispose()


def test_backfill_cli_refuses_a_bad_date_and_an_unknown_source(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": "sqlite:///x.db"}
    bad = subprocess.run(
        [sys.executable, "-m", "bot.cli", "backfill", "--since", "31/02/2020"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "dd/mm/yyyy" in bad.stderr
    unknown = subprocess.run(
        [sys.executable, "-m", "bot.cli", "backfill", "nope", "--pages", "2"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert unknown.returncode == 2 and "nope" in unknown.stderr


def test_dates_parse() -> None:
    from bot.cli_verbs import parse_day

    assert parse_day("16/12/2011") == date(2011, 12, 16) == parse_day("2011-12-16")


async def test_backfill_walks_by_date_pages_back_to_since(
    engine: Engine, server: FakeHTTPServer
) -> None:
    upgrade(engine)
    guid = "7C2F3A1B-2D4E-5F60-9BAC-1D2E3F4A5B{:02d}"
    server.route("/tin", "<html><body><p>Trang tin</p></body></html>")  # nothing listed
    for day in range(26, 30):
        link = f"/tin/tid/bai-ngay-{day}/newsid/{guid.format(day)}"
        server.route(
            f"/xem-theo-ngay?ngay={day}/11/2026",
            f'<html><body><ul><li><a href="{link}">Tin hoạt động ngày {day} tháng 11</a>'
            f"<span>{day}/11/2026</span></li></ul></body></html>",
        )
        server.route(
            link,
            f"<html><body><h1>Tin hoạt động ngày {day} tháng 11</h1><p>Cập nhật: {day}/11/2026"
            "</p><div><p>Nội dung của bản tin trong ngày, đủ dài cho một đoạn văn.</p></div>"
            "</body></html>",
        )
    source = SourceConfig(
        name="portal", kind="html", urls=[server.url("/tin")], allow_private=True,
        by_date_url=server.url("/xem-theo-ngay?ngay={dd}/{mm}/{yyyy}"),
    )  # fmt: skip
    clock = FakeClock()
    async with Fetcher(deadline=5, max_bytes=2_000_000) as fetcher:
        done = await backfill_source(
            source, fetcher=fetcher, engine=engine, tz=TZ, clock=lambda: NOW,
            gate=HostGate(0, clock=clock, sleep=clock.sleep), since=date(2026, 11, 27),
        )  # fmt: skip
    days = [t for _m, t, _h in server.requests if t.startswith("/xem-theo-ngay")]
    assert days == [f"/xem-theo-ngay?ngay={d}/11/2026" for d in (29, 28, 27)]
    assert done.finished and done.articles_stored == 3 and done.pages_done == 4


async def test_two_backfills_of_one_source_do_not_run_at_once(
    engine: Engine, server: FakeHTTPServer, big_site: PortalSite
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks exist on PostgreSQL; SQLite has one writer")
    upgrade(engine)
    with source_lock(engine, "backfill:portal") as got:
        assert got
        async with Fetcher(deadline=5, max_bytes=2_000_000) as fetcher:
            with pytest.raises(BackfillBusy):
                await backfill_source(
                    _source(server), fetcher=fetcher, engine=engine, tz=TZ, clock=lambda: NOW,
                    gate=HostGate(0), pages=1,
                )  # fmt: skip
    assert server.received == []
