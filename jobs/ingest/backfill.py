"""Archive crawl: a source's older listing pages (and by-date pages), politely and resumably.

Politeness: one request in flight per host, and `pause` seconds between the end of one
request and the start of the next on that host (HostGate). Articles already stored are not
fetched again. What a listing page yields is stored in one transaction together with the
progress row (storage.backfill), so a kill -9 loses at most the page in flight: the next run
reads that page again and skips the articles it had stored. Nothing is alerted: the store
runs without the delivery hook.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from jobs.ingest.date_order import as_order
from jobs.ingest.dates import DateOrder
from jobs.ingest.errors import SourceError
from jobs.ingest.fetch import Fetcher, FetchResult
from jobs.ingest.items import ListingItem
from jobs.ingest.parse_feed import parse_feed
from jobs.ingest.parse_html import parse_listing
from jobs.ingest.poll_read import PollReport, PollRun, item_key, read_articles
from jobs.ingest.sources import SourceConfig
from storage import articles as store
from storage.backfill import delete_backfill, get_backfill, save_backfill
from storage.db import session_scope
from storage.locks import source_lock
from storage.models import BackfillState

log = logging.getLogger(__name__)

DEFAULT_PAUSE_SECONDS = 1.0
MAX_PAGES = 10_000  # a walk with neither --pages nor --since stops here at the latest


class BackfillBusy(RuntimeError):
    """Another process is walking this source's archive right now."""


class HostGate:
    """At most one request in flight per host, `pause` seconds apart (end to start)."""

    def __init__(
        self,
        pause: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.pause, self._clock, self._sleep = pause, clock, sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_end: dict[str, float] = {}

    async def fetch(self, fetcher: Fetcher, url: str, *, allow_private: bool) -> FetchResult:
        """fetcher.fetch(url) once the host is free and rested."""
        host = (urlsplit(url).hostname or "").lower()
        async with self._locks.setdefault(host, asyncio.Lock()):
            last = self._last_end.get(host)
            if last is not None:
                wait = last + self.pause - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            try:
                return await fetcher.fetch(url, allow_private=allow_private)
            finally:
                self._last_end[host] = self._clock()


class _GatedFetcher:
    """The Fetcher interface poll_read uses, every request passing through the HostGate."""

    def __init__(self, fetcher: Fetcher, gate: HostGate, counter: list[int]) -> None:
        self._fetcher, self._gate, self._counter = fetcher, gate, counter

    async def fetch(
        self, url: str, *, validators: object = None, allow_private: bool = False
    ) -> FetchResult:
        self._counter[0] += 1
        return await self._gate.fetch(self._fetcher, url, allow_private=allow_private)


@dataclass
class Progress:
    """What the terminal shows after each page."""

    source: str
    pages_done: int
    pages_limit: int | None
    articles_stored: int
    requests: int
    failures: int
    finished: bool
    where: str = ""  # the page just read
    errors: list[str] = field(default_factory=list)


def _day_url(template: str, day: date) -> str:
    return template.format(dd=f"{day.day:02d}", mm=f"{day.month:02d}", yyyy=f"{day.year:04d}")


async def backfill_source(
    source: SourceConfig,
    *,
    fetcher: Fetcher,
    engine: Engine,
    tz: ZoneInfo,
    clock: Callable[[], datetime],
    gate: HostGate,
    pages: int | None = None,
    since: date | None = None,
    restart: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Walk the source's archive from where the last run stopped; SourceError when a listing
    page cannot be read (the progress row keeps that page for the next run), BackfillBusy when
    another process walks the same source (PostgreSQL; SQLite has one writer anyway)."""
    lock = source_lock(engine, f"backfill:{source.name}")
    got = await asyncio.to_thread(lock.__enter__)
    try:
        if not got:
            raise BackfillBusy(source.name)
        return await _walk(
            source, fetcher=fetcher, engine=engine, tz=tz, clock=clock, gate=gate, pages=pages,
            since=since, restart=restart, on_progress=on_progress,
        )  # fmt: skip
    finally:
        await asyncio.to_thread(lock.__exit__, None, None, None)


async def _walk(
    source: SourceConfig,
    *,
    fetcher: Fetcher,
    engine: Engine,
    tz: ZoneInfo,
    clock: Callable[[], datetime],
    gate: HostGate,
    pages: int | None,
    since: date | None,
    restart: bool,
    on_progress: Callable[[Progress], None] | None,
) -> Progress:
    state = await asyncio.to_thread(_start, engine, source, clock(), pages, since, restart, tz)
    requests = [state.requests]
    gated = _GatedFetcher(fetcher, gate, requests)
    learned = await asyncio.to_thread(_learned_order, engine, source.name)
    limit = state.pages_limit or MAX_PAGES
    while state.finished_at is None and state.pages_done < limit:
        by_day = state.next_url is None
        url = state.next_url or (
            _day_url(source.by_date_url, state.next_day)
            if source.by_date_url and state.next_day
            else None
        )
        if url is None:
            break
        report = PollReport(source.name)
        run = PollRun(source, gated, engine, tz, clock(), report)  # type: ignore[arg-type]
        run.learned_order, run.fresh = learned, False
        try:
            result = await gated.fetch(url, allow_private=source.allow_private)
        except SourceError as exc:
            await asyncio.to_thread(_fail, engine, source.name, requests[0], exc.reason)
            raise
        items, next_page = _parse(result, source, tz)
        run.items = items
        run.settle_dates()
        if run.verdict.learnt and run.verdict.order != learned:
            learned = run.verdict.order  # later pages of the walk read their dates alike
            await asyncio.to_thread(_remember_order, engine, source.name, learned)
        wanted = [i for i in run.items if since is None or _on_or_after(i, since, tz)]
        run.items = await asyncio.to_thread(_unknown, engine, source, wanted)
        await read_articles(run)  # only articles not stored yet: a resumed page costs little
        days = [i.published.astimezone(tz).date() for i in items if i.published]
        days += [a.local_date for a, _h in run.stored if a.local_date is not None]
        older = since is not None and bool(days) and max(days) < since
        if since is not None:
            run.stored = [
                (a, h) for a, h in run.stored if not a.local_date or a.local_date >= since
            ]
        values: dict[str, object] = {"pages_done": state.pages_done + 1}
        if by_day:
            day = state.next_day
            assert day is not None
            values["next_day"] = day - timedelta(days=1) if since and day > since else None
        else:
            values["next_url"] = None if older or source.kind == "rss" else next_page
        state = await asyncio.to_thread(
            _store_page, engine, run, values, requests[0], len(run.report.article_errors)
        )
        if on_progress is not None:
            on_progress(_progress(state, url, run.report.article_errors))
    return _progress(state, "", [])


def _parse(
    result: FetchResult, source: SourceConfig, tz: ZoneInfo
) -> tuple[list[ListingItem], str | None]:
    if source.kind == "rss":
        items, _content = parse_feed(result.body, base_url=result.url, tz=tz)
        return items, None
    listing = parse_listing(result.text(), base_url=result.url, selectors=source.selectors, tz=tz)
    return listing.items, listing.next_page


def _on_or_after(item: ListingItem, since: date, tz: ZoneInfo) -> bool:
    return item.published is None or item.published.astimezone(tz).date() >= since


def _progress(state: BackfillState, where: str, errors: list[str]) -> Progress:
    return Progress(
        source=state.source,
        pages_done=state.pages_done,
        pages_limit=state.pages_limit,
        articles_stored=state.articles_stored,
        requests=state.requests,
        failures=state.failures,
        finished=state.finished_at is not None,
        where=where,
        errors=errors,
    )


def _unknown(engine: Engine, source: SourceConfig, items: list[ListingItem]) -> list[ListingItem]:
    keys = {item_key(source, i): i for i in items}
    with session_scope(engine) as s:
        known = store.seen_articles(s, keys=list(keys))
    return [item for key, item in keys.items() if key not in known]


def _remember_order(engine: Engine, name: str, order: DateOrder | None) -> None:
    with session_scope(engine) as s:
        store.save_source_state(s, name=name, values={"date_order": order})


def _learned_order(engine: Engine, name: str) -> DateOrder | None:
    with session_scope(engine) as s:
        state = store.get_source_state(s, name=name)
        return as_order(state.date_order if state is not None else None)


def _start(
    engine: Engine,
    source: SourceConfig,
    now: datetime,
    pages: int | None,
    since: date | None,
    restart: bool,
    tz: ZoneInfo,
) -> BackfillState:
    """The progress row to continue: the stored one (new limits applied), or a fresh one."""
    with session_scope(engine) as s:
        state = get_backfill(s, source=source.name)
        if restart and state is not None:
            delete_backfill(s, source=source.name)
            state = None
        if state is None:
            today = now.astimezone(tz).date()
            values: dict[str, object] = {
                "next_url": source.urls[0],
                "next_day": today if source.by_date_url and since else None,
                "pages_limit": pages,
                "since": since,
                "started_at": now,
                "updated_at": now,
            }
            return _detached(save_backfill(s, source=source.name, values=values))
        changes: dict[str, object] = {"updated_at": now}
        if pages is not None:
            changes["pages_limit"] = pages
        if since is not None and since != state.since:
            changes["since"] = since
        return _detached(save_backfill(s, source=source.name, values=changes))


def _detached(row: BackfillState) -> BackfillState:
    return BackfillState.model_validate(row.model_dump())


def _store_page(
    engine: Engine, run: PollRun, values: dict[str, object], requests: int, failures: int
) -> BackfillState:
    """The page's articles and the progress row, in one transaction (no alert hook)."""
    with session_scope(engine) as s:
        result = store.store_articles(s, items=run.stored, now=run.now)
        state = get_backfill(s, source=run.source.name)
        assert state is not None
        values = dict(values)
        ended = values.get("next_url", state.next_url) is None and (
            values.get("next_day", state.next_day) is None
        )
        values.update(
            articles_stored=state.articles_stored + len(result.new),
            requests=requests,
            failures=state.failures + failures,
            updated_at=run.now,
            finished_at=run.now if ended else None,
        )
        if failures:
            values["last_error"] = run.report.article_errors[-1][:500]
        return _detached(save_backfill(s, source=run.source.name, values=values))


def _fail(engine: Engine, name: str, requests: int, reason: str) -> None:
    with session_scope(engine) as s:
        state = get_backfill(s, source=name)
        failures = (state.failures if state else 0) + 1
        values = {"last_error": reason, "requests": requests, "failures": failures}
        save_backfill(s, source=name, values=values)
