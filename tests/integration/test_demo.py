"""Demo mode: the bundled portal over real HTTP, polled by the real poller into real SQLite."""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.demo_mode import DEMO_DATABASE_URL, banner, demo_settings, serve_demo, sources_toml
from bot.settings import Settings
from jobs.demo.server import DemoPortal, demo_sources, start_demo_portal
from jobs.demo.site import LISTING_PATH, TZ, PortalArticle, build_site, seed_page_text
from jobs.ingest.fetch import Fetcher
from jobs.ingest.poll import PollReport, poll_all
from jobs.ingest.sources import load_sources
from storage.db import make_engine, session_scope, upgrade
from storage.models import Article

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
DEADLINE = 5.0
MAX_BYTES = 2_000_000
TIMER_WAIT = 5.0  # seconds; a safety net around an awaited event, not a delay
SUBPROCESS_TIMEOUT = 60
SCRIPT = Path(sys.executable).with_name("portal-notifier")
LINE_WAIT = 30.0  # seconds for the next output line, a safety net only


@pytest.fixture
async def portal() -> AsyncIterator[DemoPortal]:
    demo = await start_demo_portal(add_every_seconds=None)
    try:
        yield demo
    finally:
        await demo.aclose()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(deadline=DEADLINE, max_bytes=MAX_BYTES) as f:
        yield f


async def _poll(portal: DemoPortal, engine: Engine, fetcher: Fetcher, now: datetime) -> int:
    reports: list[PollReport] = await poll_all(
        portal.sources, fetcher=fetcher, engine=engine, tz=TZ, now=now, force=True
    )
    assert [r.failed for r in reports] == [None, None]
    assert all(r.article_errors == [] for r in reports)
    assert sum(r.edited for r in reports) == 0  # feed and pages agree on every body
    return sum(r.new for r in reports)


def _articles(engine: Engine) -> list[Article]:
    with session_scope(engine) as s:
        return list(s.exec(select(Article)).all())


async def test_demo_sources_poll_the_seed_article_once(
    portal: DemoPortal, sqlite_engine: Engine, fetcher: Fetcher
) -> None:
    assert [(s.name, s.kind, s.allow_private) for s in portal.sources] == [
        ("demo-html", "html", True),
        ("demo-rss", "rss", True),
    ]
    assert portal.base_url.startswith("http://127.0.0.1:")
    assert await _poll(portal, sqlite_engine, fetcher, NOW) == len(portal.site.articles)
    lines = seed_page_text().split("\n")
    title = lines[next(i for i, x in enumerate(lines) if x.startswith("Ngày cập nhật")) - 1]
    seed = next(a for a in _articles(sqlite_engine) if a.title == title)
    assert seed.local_date == date(2011, 12, 16)
    assert seed.url == portal.base_url + portal.site.articles[0].path
    assert await _poll(portal, sqlite_engine, fetcher, NOW + timedelta(minutes=1)) == 0
    assert len(_articles(sqlite_engine)) == len(portal.site.articles)


async def test_listing_and_feed_answer_304_until_an_article_is_added(portal: DemoPortal) -> None:
    async with httpx.AsyncClient(base_url=portal.base_url) as client:
        listing = await client.get(LISTING_PATH)
        feed = await client.get("/rss.aspx")
        assert listing.status_code == feed.status_code == 200
        assert feed.headers["content-type"].startswith("application/rss+xml")
        tags = {LISTING_PATH: listing.headers["etag"], "/rss.aspx": feed.headers["etag"]}
        for path, tag in tags.items():
            again = await client.get(path, headers={"If-None-Match": tag})
            assert (again.status_code, again.content) == (304, b"")
        added = portal.add_article(NOW)
        for path, tag in tags.items():
            changed = await client.get(path, headers={"If-None-Match": tag})
            assert changed.status_code == 200 and added.path in changed.text
        page2 = await client.get(LISTING_PATH, params={"page": "2"})
        assert page2.status_code == 200 and page2.headers["etag"] != listing.headers["etag"]


async def test_article_pages_change_per_request_and_attachments_and_unknown_paths(
    portal: DemoPortal,
) -> None:
    seed, with_files = portal.site.articles[0], portal.site.articles[1]
    async with httpx.AsyncClient(base_url=portal.base_url) as client:
        one, two = [(await client.get(seed.path)).text for _ in range(2)]
        assert one != two and seed.title in one  # visit counters differ
        attachment = await client.get(with_files.attachments[1][1])
        assert attachment.content.startswith(b"%PDF")
        assert (await client.get("/khong-co")).status_code == 404
        home = await client.get("/")
        assert (home.status_code, home.headers["location"]) == (302, LISTING_PATH)


async def test_an_added_article_is_polled_as_new_with_its_local_date(
    portal: DemoPortal, sqlite_engine: Engine, fetcher: Fetcher
) -> None:
    await _poll(portal, sqlite_engine, fetcher, NOW)
    moment = datetime(2026, 11, 25, 20, 30, tzinfo=UTC)  # 03:30 on the 26th in Huế
    added = portal.add_article(moment)
    assert portal.site.ordered()[0] is added and portal.added == [added]
    assert await _poll(portal, sqlite_engine, fetcher, NOW + timedelta(minutes=2)) == 1
    stored = next(a for a in _articles(sqlite_engine) if a.title == added.title)
    assert stored.local_date == date(2026, 11, 26)
    assert stored.published_at == moment


async def test_the_timer_publishes_articles_by_itself() -> None:
    published = asyncio.Event()
    site = build_site()
    before = len(site.articles)

    def seen(_article: PortalArticle) -> None:
        published.set()

    site.on_new.append(seen)
    clock_at = datetime(2026, 11, 25, 1, 2, 3, tzinfo=UTC)
    demo = await start_demo_portal(site=site, add_every_seconds=0.01, clock=lambda: clock_at)
    try:
        await asyncio.wait_for(published.wait(), TIMER_WAIT)
    finally:
        await demo.aclose()
    assert len(site.articles) > before
    assert demo.added[0].published == clock_at.astimezone(TZ)
    with pytest.raises(httpx.ConnectError):  # closed: the port no longer answers
        async with httpx.AsyncClient() as client:
            await client.get(demo.base_url + LISTING_PATH)


def test_sources_file_round_trips_and_settings_pick_the_demo_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = demo_sources("http://127.0.0.1:8123/", interval_seconds=45)
    path = tmp_path / "demo.toml"
    path.write_text(sources_toml(sources), encoding="utf-8")
    assert load_sources(path) == sources
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("DATABASE_URL", raising=False)
    plain = demo_settings(Settings(), sources_file=path)
    assert (plain.database_url, plain.sources_file) == (DEMO_DATABASE_URL, path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./elsewhere.db")
    assert demo_settings(Settings(), sources_file=path).database_url == "sqlite:///./elsewhere.db"


async def test_serve_demo_runs_the_service_against_the_portal_then_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    used: list[Settings] = []
    stored: list[Article] = []
    urls: list[str] = []

    async def service(settings: Settings) -> int:  # stands in for bot.service.serve: polls once
        used.append(settings)
        sources = load_sources(settings.sources_file)
        urls.extend(url for source in sources for url in source.urls)
        engine = make_engine(settings.database_url)
        try:
            await asyncio.to_thread(upgrade, engine)
            async with Fetcher(deadline=DEADLINE, max_bytes=MAX_BYTES) as f:
                reports = await poll_all(sources, fetcher=f, engine=engine, tz=TZ, now=NOW)
            stored.extend(_articles(engine))
        finally:
            engine.dispose()
        return 0 if all(r.failed is None for r in reports) else 1

    assert await serve_demo(Settings(), service, add_every_seconds=None) == 0
    assert used[0].database_url == DEMO_DATABASE_URL
    assert (tmp_path / "data" / "demo.db").is_file()
    assert len(stored) == len(build_site().articles)
    assert not await asyncio.to_thread(used[0].sources_file.exists)  # temporary file removed
    assert urls[0].removesuffix(LISTING_PATH) in capsys.readouterr().out  # the banner
    with pytest.raises(httpx.ConnectError):  # the portal stopped with the service
        async with httpx.AsyncClient() as client:
            await client.get(urls[0])


def test_shipped_package_data_is_found_where_the_package_is_installed(tmp_path: Path) -> None:
    source, lib = tmp_path / "src", tmp_path / "lib"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copy(REPO / "README.md", source)
    for package in ("bot", "jobs", "storage"):
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    # build_py copies exactly what a wheel ships: the packages and their package data.
    build = [sys.executable, "-W", "ignore", "-c", "from setuptools import setup; setup()"]
    subprocess.run(
        [*build, "-q", "build_py", f"--build-lib={lib}"],
        cwd=source, check=True, capture_output=True, timeout=SUBPROCESS_TIMEOUT,
    )  # fmt: skip
    shutil.rmtree(source)  # nothing left to find but the built copy
    probe = (
        "import importlib.resources, jobs.demo.site as s\n"
        "print(importlib.resources.files('jobs.demo'))\n"
        "print(s.build_site().articles[0].title)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(lib)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True,
        text=True, encoding="utf-8", timeout=SUBPROCESS_TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    where, title = done.stdout.splitlines()
    assert Path(where) == lib / "jobs" / "demo"
    assert title == build_site().articles[0].title


def _lines_until(lines: queue.Queue[str], needle: str) -> list[str]:
    seen: list[str] = []
    while not any(needle in line for line in seen):
        seen.append(lines.get(timeout=LINE_WAIT))
    return seen


def _read_into(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def test_run_demo_serves_the_portal_polls_it_and_answers_in_the_console(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN")}
    env["LISTEN_PORT"] = "0"  # the HTTP server runs in demo mode too; any free port
    with subprocess.Popen(
        [str(SCRIPT), "run", "--demo"], cwd=tmp_path, env=env, text=True, encoding="utf-8",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=_read_into, args=(proc.stdout, lines), daemon=True)
        reader.start()
        try:
            assert "http://127.0.0.1:" in _lines_until(lines, "demo mode")[-1]
            _lines_until(lines, "12 new")  # a demo source's first poll stored the whole portal
            proc.stdin.write("/date 16/12/2011\n")
            proc.stdin.flush()
            _lines_until(lines, build_site().articles[0].title)
            proc.stdin.close()  # end of console input ends the service
            assert proc.wait(timeout=LINE_WAIT) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            reader.join(LINE_WAIT)
    assert (tmp_path / "data" / "demo.db").is_file()


def test_banner_never_prints_the_database_password() -> None:
    portal = DemoPortal(site=build_site(n_articles=1), base_url="http://127.0.0.1:1", sources=[])
    settings = Settings(database_url="postgresql+psycopg://demo:s3cret-pw@127.0.0.1/demo")
    text = banner(portal, settings, every=None)
    assert "s3cret-pw" not in text
    assert "postgresql+psycopg://demo:***@127.0.0.1/demo" in text
