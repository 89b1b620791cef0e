"""One poll of a source: fetch -> parse -> normalise -> store, in that order, and its health.

Reading (listings, article pages, the politeness rule) is in jobs.ingest.poll_read; this module
stores what was read in one transaction with the on_stored hook, and records the health.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)
from sqlmodel import Session

from jobs.ingest.date_order import as_order
from jobs.ingest.errors import LayoutNotRecognised, SourceError
from jobs.ingest.fetch import Fetcher
from jobs.ingest.health import Health, after_poll, is_due
from jobs.ingest.normalize import public_url
from jobs.ingest.poll_read import PollReport, PollRun, read_articles, read_listings
from jobs.ingest.sources import SourceConfig
from storage import articles as store
from storage.db import session_scope
from storage.locks import source_lock
from storage.models import ArticleBase

log = logging.getLogger(__name__)
__all__ = ["DEFAULT_INTERVAL_SECONDS", "OnStored", "PollReport", "poll_all", "poll_source"]

# Called inside the store transaction (delivery enqueues there), once per poll that read
# anything (not when every listing answered 304); its result is ignored.
OnStored = Callable[[Session, store.StoreResult], object]
# Poll interval of a source that names none (Settings.poll_interval_seconds overrides it).
DEFAULT_INTERVAL_SECONDS = 600


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
        run = PollRun(source, fetcher, engine, tz, now, PollReport(source.name))
        base = timedelta(seconds=source.interval_seconds or default_interval)
        return await _poll_locked(run, on_stored=on_stored, force=force, base=base)
    finally:
        await asyncio.to_thread(lock.__exit__, None, None, None)


async def _poll_locked(
    run: PollRun, *, on_stored: OnStored | None, force: bool, base: timedelta
) -> PollReport:
    source, engine, now, report = run.source, run.engine, run.now, run.report
    health = await asyncio.to_thread(_load_health, engine, source.name)
    if not force and not is_due(health, now=now):
        report.skipped = "back-off"
        return report
    error: str | None = None
    items_seen: int | None = None
    run.learned_order = as_order(health.date_order)
    try:
        await read_listings(run)
        await read_articles(run)
        if run.stored or run.listing_validators or run.article_validators:
            baseline = health.last_success_at is None
            await asyncio.to_thread(_store, run, on_stored, baseline)  # all 304: nothing to store
        if run.listing_error is not None:
            raise run.listing_error  # what was read is stored; the source still failed
    except SourceError as exc:
        error = exc.reason
        log.info("source %s: %s (%s)", source.name, exc.reason, exc)
    except SQLAlchemyError as exc:  # the store failed: the health row still says so, if it can
        error = f"storage: {type(exc).__name__}"
        log.error("source %s: storing failed: %s", source.name, exc)
    except Exception as exc:  # a bug on a hostile page must back off like any failure
        error = f"internal: {type(exc).__name__}"
        log.exception("source %s: unexpected error", source.name)
    layout_seen = run.listing_changed or isinstance(run.listing_error, LayoutNotRecognised)
    items_seen = len(run.items) if layout_seen else None
    report.items_seen = len(run.items)
    new_health = after_poll(
        health, now=now, error=error, items_seen=items_seen, base=base, skipped=report.skipped_items
    )
    if run.listing_changed:  # what this read taught about its dates (nothing on a 304)
        learnt = run.verdict.order if run.verdict.learnt else health.date_order
        new_health = replace(new_health, date_order=learnt, ambiguous_dates=run.verdict.ambiguous)
    await asyncio.to_thread(_save_health, engine, source.name, new_health)
    if new_health.consecutive_failures:
        report.failed = new_health.last_error
    return report


def _store(run: PollRun, on_stored: OnStored | None, baseline: bool) -> None:
    """Store the articles, run the hook and save validators, all in one transaction.

    When the database refuses the batch for its data (not an outage), each article is tried
    on its own savepoint instead, and those it refuses are skipped and counted.
    """
    validators = dict(run.article_validators)
    if run.items and not (run.report.article_errors or run.listing_error):
        # After any failure the listings stay un-cached, so the next poll reads them again;
        # so does a listing that yielded nothing (a changed layout): a 304 is no recovery.
        validators.update(run.listing_validators)
    entries = {public_url(url): (v.etag, v.last_modified) for url, v in validators.items()}
    try:
        _store_batch(run, on_stored, baseline, run.stored, entries)
    except (DataError, IntegrityError, StatementError) as exc:
        if isinstance(exc, OperationalError | InterfaceError):
            raise  # the database is down, not the data: retried by the next poll
        log.warning("source %s: batch refused (%s), storing one by one", run.source.name, exc)
        kept = [item for item in run.stored if _storable(run, item)]
        _store_batch(run, on_stored, baseline, kept, entries)


def _store_batch(
    run: PollRun,
    on_stored: OnStored | None,
    baseline: bool,
    items: list[tuple[ArticleBase, str]],
    entries: dict[str, tuple[str | None, str | None]],
) -> None:
    with session_scope(run.engine) as s:
        result = store.store_articles(s, items=items, now=run.now)
        result.baseline = baseline
        if on_stored is not None:
            on_stored(s, result)
        store.save_validators(s, entries=entries, now=run.now)
    run.report.new, run.report.edited = len(result.new), len(result.edited)


def _storable(run: PollRun, item: tuple[ArticleBase, str]) -> bool:
    """Whether the database accepts this one article (tried, then rolled back)."""
    try:
        with session_scope(run.engine) as s, s.begin_nested() as savepoint:
            store.store_articles(s, items=[item], now=run.now)
            savepoint.rollback()
        return True
    except (DataError, IntegrityError, StatementError) as exc:
        if isinstance(exc, OperationalError | InterfaceError):
            raise
        run.report.skipped_items.append(f"{item[0].url[:100]}: storage: {type(exc).__name__}")
        return False


def _load_health(engine: Engine, name: str) -> Health:
    with session_scope(engine) as s:
        return Health.from_record(store.get_source_state(s, name=name))


def _save_health(engine: Engine, name: str, health: Health) -> None:
    with session_scope(engine) as s:
        store.save_source_state(s, name=name, values=health.values())
