"""One poll of a source: fetch -> parse -> normalise -> store, in that order, and its health.

Politeness rule for article pages (html sources, and feeds without inline content):
  * a listing page that answers 304 is not parsed, and none of its articles is fetched;
  * on a listing that answered 200, an article page is fetched when its key is not stored
    yet, or when the listing shows a different title or date than the stored row, or when
    the article was first seen less than EDIT_WATCH ago (portals correct fresh news; older
    articles are left alone). Known articles are fetched conditionally (ETag/Last-Modified),
    so an unchanged page costs a 304 and no parsing.
A failed article page is recorded and the listing's validators are not saved, so the next
poll sees the listing again and retries it; the other articles are stored regardless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from jobs.errors import LayoutNotRecognised, SourceError
from jobs.fetch import Fetcher, FetchResult, Validators
from jobs.health import Health, after_poll, is_due
from jobs.items import ListingItem, ParsedArticle
from jobs.normalize import article_key, to_article
from jobs.parse_feed import parse_feed
from jobs.parse_html import parse_article, parse_listing
from jobs.sources import SourceConfig
from storage import articles as store
from storage.db import session_scope
from storage.locks import source_lock
from storage.models import ArticleBase
from storage.text import normalize

log = logging.getLogger(__name__)

# Called inside the store transaction (delivery enqueues there); its result is ignored.
OnStored = Callable[[Session, store.StoreResult], object]
# Fresh articles are re-checked for edits this long after they were first seen.
EDIT_WATCH = timedelta(days=3)
# Poll interval of a source that names none (Settings.poll_interval_seconds overrides it).
DEFAULT_INTERVAL_SECONDS = 600
# Article pages fetched at once per source (the fetcher also caps each host).
ARTICLE_CONCURRENCY = 4


@dataclass
class PollReport:
    """What one poll of one source did, for the CLI table and the logs."""

    source: str
    fetched: int = 0  # answers 200 (listings, feeds and article pages)
    new: int = 0
    edited: int = 0
    unchanged_304: int = 0
    failed: str | None = None  # the source's failure reason, None when it succeeded
    items_seen: int = 0
    skipped: str | None = None  # "back-off" (inside its window) or "locked" (another replica)
    article_errors: list[str] = field(default_factory=list)  # "url: reason"


@dataclass
class _Run:
    """Working state of one poll."""

    source: SourceConfig
    fetcher: Fetcher
    engine: Engine
    tz: ZoneInfo
    now: datetime
    report: PollReport
    items: list[ListingItem] = field(default_factory=list)
    feed_content: dict[str, str] = field(default_factory=dict)
    listing_changed: bool = False  # some listing answered 200 and was parsed
    listing_error: SourceError | None = None  # the first listing that failed
    listing_validators: dict[str, Validators] = field(default_factory=dict)
    article_validators: dict[str, Validators] = field(default_factory=dict)
    stored: list[tuple[ArticleBase, str]] = field(default_factory=list)


async def poll_all(
    sources: list[SourceConfig],
    *,
    fetcher: Fetcher,
    engine: Engine,
    tz: ZoneInfo,
    now: datetime,
    on_stored: OnStored | None = None,
    force: bool = False,
    default_interval: int = DEFAULT_INTERVAL_SECONDS,
) -> list[PollReport]:
    """Poll every source concurrently; never raises, one report per source in order."""

    async def one(source: SourceConfig) -> PollReport:
        try:
            return await poll_source(
                source,
                fetcher=fetcher,
                engine=engine,
                tz=tz,
                now=now,
                on_stored=on_stored,
                force=force,
                default_interval=default_interval,
            )
        except Exception as exc:  # the database itself failed; the other sources go on
            log.exception("poll of %s failed", source.name)
            return PollReport(source.name, failed=f"internal: {type(exc).__name__}")

    return list(await asyncio.gather(*(one(s) for s in sources)))


async def poll_source(
    source: SourceConfig,
    *,
    fetcher: Fetcher,
    engine: Engine,
    tz: ZoneInfo,
    now: datetime,
    on_stored: OnStored | None = None,
    force: bool = False,
    default_interval: int = DEFAULT_INTERVAL_SECONDS,
) -> PollReport:
    """Poll one source and record its health; a source failure is reported, not raised.

    On PostgreSQL a source lock keeps two replicas from polling the same source at once.
    """
    lock = source_lock(engine, source.name)
    got = await asyncio.to_thread(lock.__enter__)
    try:
        if not got:
            return PollReport(source.name, skipped="locked")
        run = _Run(source, fetcher, engine, tz, now, PollReport(source.name))
        base = timedelta(seconds=source.interval_seconds or default_interval)
        return await _poll_locked(run, on_stored=on_stored, force=force, base=base)
    finally:
        await asyncio.to_thread(lock.__exit__, None, None, None)


async def _poll_locked(
    run: _Run, *, on_stored: OnStored | None, force: bool, base: timedelta
) -> PollReport:
    source, engine, now, report = run.source, run.engine, run.now, run.report
    health = await asyncio.to_thread(_load_health, engine, source.name)
    if not force and not is_due(health, now=now):
        report.skipped = "back-off"
        return report
    error: str | None = None
    items_seen: int | None = None
    try:
        await _read_listings(run)
        await _read_articles(run)
        await asyncio.to_thread(_store, run, on_stored)
        if run.listing_error is not None:
            raise run.listing_error  # what was read is stored; the source still failed
    except SourceError as exc:
        error = exc.reason
        log.info("source %s: %s (%s)", source.name, exc.reason, exc)
    layout_seen = run.listing_changed or isinstance(run.listing_error, LayoutNotRecognised)
    items_seen = len(run.items) if layout_seen else None
    report.items_seen = len(run.items)
    new_health = after_poll(health, now=now, error=error, items_seen=items_seen, base=base)
    await asyncio.to_thread(_save_health, engine, source.name, new_health)
    if new_health.consecutive_failures:
        report.failed = new_health.last_error
    return report


async def _fetch(run: _Run, url: str, validators: Validators | None) -> FetchResult:
    result = await run.fetcher.fetch(
        url, validators=validators, allow_private=run.source.allow_private
    )
    if result.status == 304:
        run.report.unchanged_304 += 1
    else:
        run.report.fetched += 1
    return result


async def _read_listings(run: _Run) -> None:
    """Fetch each listing (or feed) conditionally, following pagination up to `pages`.

    A failing listing stops its own pagination only: the items already read are kept.
    """
    for start in run.source.urls:
        try:
            await _read_listing(run, start)
        except SourceError as exc:
            run.listing_error = run.listing_error or exc


async def _read_listing(run: _Run, start: str) -> None:
    source = run.source
    url: str | None = start
    seen: set[str] = set()
    for _page in range(max(1, source.pages if source.kind == "html" else 1)):
        if url is None or url in seen:
            return
        seen.add(url)
        page_url = url  # validators are kept under the URL we ask for, not the redirect's
        cached = await asyncio.to_thread(_validators, run.engine, [page_url])
        result = await _fetch(run, page_url, cached.get(page_url))
        if result.status == 304:
            return  # unchanged: nothing to parse, and its next page is unknown
        if source.kind == "rss":
            items, content = await asyncio.to_thread(
                parse_feed, result.body, base_url=result.url, tz=run.tz
            )
            run.feed_content.update(content)
            url = None
        else:
            listing = await asyncio.to_thread(
                parse_listing,
                result.text(),
                base_url=result.url,
                selectors=source.selectors,
                tz=run.tz,
            )
            items, url = listing.items, listing.next_page
        run.listing_changed = True
        run.listing_validators[page_url] = result.validators
        run.items.extend(items)


def _item_key(item: ListingItem) -> str:
    return article_key(url=item.url, guid=item.guid, title=item.title, published=item.published)


async def _read_articles(run: _Run) -> None:
    """Build an article per listing item: from feed content, or from its page when due."""
    items: dict[str, ListingItem] = {}
    for item in run.items:
        items.setdefault(_item_key(item), item)
    known = await asyncio.to_thread(_known, run.engine, list(items))
    to_fetch: list[tuple[str, ListingItem]] = []
    for key, item in items.items():
        content = run.feed_content.get(item.guid or "") or run.feed_content.get(item.url)
        if run.source.kind == "rss" and (content or not run.source.fetch_articles):
            parsed = ParsedArticle(
                url=item.url,
                title=item.title,
                published=item.published,
                body=content or item.summary,
                summary=item.summary,
                guid=item.guid,
            )
            run.stored.append(to_article(parsed, source=run.source.name, tz=run.tz, listing=item))
        elif _due(item, known.get(key), run.now, run.tz):
            to_fetch.append((key, item))
    cached = await asyncio.to_thread(_validators, run.engine, [i.url for _, i in to_fetch])
    gate = asyncio.Semaphore(ARTICLE_CONCURRENCY)

    async def one(key: str, item: ListingItem) -> None:
        async with gate:
            await _read_article(run, item, cached.get(item.url) if key in known else None)

    await asyncio.gather(*(one(k, i) for k, i in to_fetch))


def _due(item: ListingItem, stored: _Known | None, now: datetime, tz: ZoneInfo) -> bool:
    """Whether an article page is worth a request (the rule in this module's docstring)."""
    if stored is None:
        return True
    # Listings often shorten titles ("...") and show the day only: compare what they show.
    shown = normalize(item.title).rstrip(".… ")
    if not stored.title.startswith(shown):
        return True
    if item.published is not None and item.published.astimezone(tz).date() != stored.local_date:
        return True
    return now - stored.first_seen_at < EDIT_WATCH


async def _read_article(run: _Run, item: ListingItem, validators: Validators | None) -> None:
    """Fetch, parse and normalise one article page; a failure is recorded, not raised."""
    try:
        result = await _fetch(run, item.url, validators)
        if result.status == 304:
            return
        parsed = await asyncio.to_thread(
            parse_article,
            result.text(),
            url=result.url,
            selectors=run.source.selectors,
            tz=run.tz,
        )
        run.stored.append(to_article(parsed, source=run.source.name, tz=run.tz, listing=item))
        run.article_validators[item.url] = result.validators
    except SourceError as exc:
        run.report.article_errors.append(f"{item.url}: {exc.reason}")
        log.info("source %s: article %s failed: %s", run.source.name, item.url, exc.reason)


@dataclass(frozen=True)
class _Known:
    """What the politeness rule needs of a stored article."""

    title: str
    local_date: date | None
    first_seen_at: datetime


def _known(engine: Engine, keys: list[str]) -> dict[str, _Known]:
    with session_scope(engine) as s:
        rows = store.articles_by_key(s, keys=keys)
        return {k: _Known(a.title, a.local_date, a.first_seen_at) for k, a in rows.items()}


def _validators(engine: Engine, urls: list[str]) -> dict[str, Validators]:
    with session_scope(engine) as s:
        found = store.get_validators(s, urls=urls)
    return {url: Validators(etag=e, last_modified=lm) for url, (e, lm) in found.items()}


def _store(run: _Run, on_stored: OnStored | None) -> None:
    """Store the articles, run the hook and save validators, all in one transaction."""
    validators = dict(run.article_validators)
    if not (run.report.article_errors or run.listing_error):
        # After any failure the listings stay un-cached, so the next poll reads them again.
        validators.update(run.listing_validators)
    with session_scope(run.engine) as s:
        result = store.store_articles(s, items=run.stored, now=run.now)
        if on_stored is not None:
            on_stored(s, result)
        for url, v in validators.items():
            store.set_validators(
                s, url=url, etag=v.etag, last_modified=v.last_modified, now=run.now
            )
    run.report.new, run.report.edited = len(result.new), len(result.edited)


def _load_health(engine: Engine, name: str) -> Health:
    with session_scope(engine) as s:
        return Health.from_record(store.get_source_state(s, name=name))


def _save_health(engine: Engine, name: str, health: Health) -> None:
    with session_scope(engine) as s:
        store.save_source_state(s, name=name, values=health.values())
