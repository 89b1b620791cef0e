"""Hostile sources for the memory-capped poll suite (run as `python -m` in a subprocess).

Each case serves one hostile source beside the ordinary fake portal on a real HTTP server,
then polls both twice through poll_all on a fresh SQLite file, and prints one JSON line:
peak RSS, each poll's reports and what was stored. The parent test sets the memory cap.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import resource
import sys
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from jobs.ingest.fetch import Fetcher
from jobs.ingest.poll import poll_all
from jobs.ingest.sources import SourceConfig
from storage.db import make_engine, session_scope, upgrade
from storage.models import Article, SourceState
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, build_site, mount

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
HOSTILE_PATH = "/hostile"
SECRET = "s3cret-pw"


def _gzip_zeros(total: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * 4_000_000
    return b"".join([*(packer.compress(zeros) for _ in range(total // len(zeros))), packer.flush()])


def _feed(items: str) -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Cổng</title>"
        f"<link>http://portal.example/</link>{items}</channel></rss>"
    )


def _item(title: str, path: str, date: str = "Wed, 25 Nov 2026 07:00:00 +0700") -> str:
    return (
        f"<item><title>{title}</title><link>http://portal.example{path}</link>"
        f"<guid isPermaLink='false'>{path}</guid><pubDate>{date}</pubDate></item>"
    )


def _html(server: FakeHTTPServer, body: bytes | str, **headers: str) -> SourceConfig:
    server.route(HOSTILE_PATH, body, headers=headers or None)
    return SourceConfig(name="hostile", kind="html", urls=[server.url(HOSTILE_PATH)],
                        allow_private=True, interval_seconds=60)  # fmt: skip


def _rss(server: FakeHTTPServer, body: str) -> SourceConfig:
    server.route(HOSTILE_PATH, body, content_type="application/rss+xml")
    return SourceConfig(name="hostile", kind="rss", urls=[server.url(HOSTILE_PATH)],
                        allow_private=True, interval_seconds=60, fetch_articles=False)  # fmt: skip


def _credentials(_server: FakeHTTPServer) -> SourceConfig:
    # Its own portal (another server, other articles), so what it stores is its own.
    other = _OTHER[0]
    mount(other, build_site(n_articles=6, per_page=5, seed=2))
    url = other.url(LISTING_PATH).replace("http://", f"http://officer:{SECRET}@")
    return SourceConfig(name="hostile", kind="html", urls=[url], allow_private=True,
                        interval_seconds=60, pages=1)  # fmt: skip


Case = Callable[[FakeHTTPServer], SourceConfig | None]
_OTHER: list[FakeHTTPServer] = []  # a second server, for the case that needs its own site
CASES: dict[str, tuple[str, Case]] = {
    "baseline": ("no hostile source (the process's own size)", lambda _s: None),
    "nested_tables_45k": (
        "45 kB of nested <table><tr><td>",
        lambda s: _html(s, "<table><tr><td>" * 3_000 + "x"),
    ),
    "nested_tables_300k": (
        "300 kB of nested <table><tr><td>",
        lambda s: _html(s, "<table><tr><td>" * 20_000 + "x"),
    ),
    "nested_divs_nul": (
        "nested <d\\0iv> (NUL bytes hiding the tags)",
        lambda s: _html(s, "<d\x00iv>" * 50_000 + "x"),
    ),
    "flat_500k_elements": ("500k flat elements", lambda s: _html(s, "<b>x</b>" * 500_000)),
    "gzip_bomb": (
        "gzip of 1 GB of zeros (~1 MB on the wire)",
        lambda s: _html(s, _gzip_zeros(1_000_000_000), **{"Content-Encoding": "gzip"}),
    ),
    "gzip_gzip_bomb": (
        "gzip, gzip of 1 GB of zeros (~2 kB on the wire)",
        lambda s: _html(
            s, gzip.compress(_gzip_zeros(1_000_000_000)), **{"Content-Encoding": "gzip, gzip"}
        ),
    ),
    "feed_bad_chars": (
        "feed items with &#0;, &#xD800;, control chars, years 0001 and 9999",
        lambda s: _rss(
            s,
            _feed(
                _item("NUL &#0; ở giữa", "/nul")
                + _item("surrogate &#xD800; lẻ", "/sur")
                + _item("điều khiển &#x1b;&#xFFFF;", "/ctl")
                + _item("năm 0001", "/y1", "Mon, 01 Jan 0001 00:00:00 +0700")
                + _item("năm 9999", "/y9999", "Fri, 31 Dec 9999 23:59:59 -1200")
                + _item("tương lai", "/future", "Fri, 01 Jan 2100 00:00:00 +0700")
                + "<item><title>địa chỉ hỏng</title><link>http://[portal/x</link></item>"
                + _item("bình thường", "/ok")
            ),
        ),
    ),
    "credentials_in_url": ("source URL with user:password@", _credentials),
}


async def _run(case: str, db_path: str) -> dict[str, object]:
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    with FakeHTTPServer() as server, FakeHTTPServer() as other:
        _OTHER[:] = [other]
        mount(server, build_site(n_articles=6, per_page=5))
        good = SourceConfig(name="portal", kind="html", urls=[server.url(LISTING_PATH)],
                            allow_private=True, pages=2, interval_seconds=60)  # fmt: skip
        hostile = CASES[case][1](server)
        sources = [good] if hostile is None else [hostile, good]
        polls = []
        async with Fetcher(deadline=10, max_bytes=5_000_000) as fetcher:
            for n in range(2):  # the process keeps polling after the hostile answer
                reports = await poll_all(sources, fetcher=fetcher, engine=engine, tz=TZ,
                                         now=NOW + timedelta(minutes=n), force=True)  # fmt: skip
                polls.append([vars(r) for r in reports])
    with session_scope(engine) as s:
        articles = [a.model_dump(mode="json") for a in s.exec(select(Article))]
        states = {st.name: st.model_dump(mode="json") for st in s.exec(select(SourceState))}
    engine.dispose()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"case": case, "peak_mb": round(peak_kb / 1024, 1), "polls": polls,
            "articles": articles, "states": states}  # fmt: skip


def main() -> None:
    case, db_path = sys.argv[1], sys.argv[2]
    print(json.dumps(asyncio.run(_run(case, db_path)), ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
