"""The in-process scheduler: one interval job per source, polling it through jobs.ingest.poll."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from jobs import metrics
from jobs.ingest.fetch import Fetcher
from jobs.ingest.poll import DEFAULT_INTERVAL_SECONDS, OnStored, PollReport, poll_source
from jobs.ingest.sources import SourceConfig
from jobs.supervisor import Supervisor
from storage.types import utcnow

log = logging.getLogger(__name__)

# A run that starts later than this (e.g. the process was suspended) is dropped; the next
# interval runs it anyway, and coalescing folds a backlog of missed runs into one.
MISFIRE_GRACE_SECONDS = 300
JOB_PREFIX = "poll:"


def build_scheduler(
    sources: Iterable[SourceConfig],
    *,
    fetcher: Fetcher,
    engine: Engine,
    tz: ZoneInfo,
    clock: Callable[[], datetime] = utcnow,
    on_stored: OnStored | None = None,
    default_interval: int = DEFAULT_INTERVAL_SECONDS,
    scheduler: AsyncIOScheduler | None = None,
    supervisor: Supervisor | None = None,
) -> AsyncIOScheduler:
    """A scheduler (new, or `scheduler`) with one poll job per source; the caller starts it.

    Each job polls at start-up and then every `interval_seconds` (else `default_interval`).
    `max_instances=1` keeps a slow poll of a source from overlapping the next one; other
    sources run independently. Each run reports to `supervisor` as task "poll:<name>": failing
    while the poll itself breaks (the database, a bug), not while the portal is down (that is
    the source's health).
    """
    sched = scheduler or AsyncIOScheduler(timezone=UTC)
    for source in sources:
        sched.add_job(
            _poll_job,
            IntervalTrigger(seconds=source.interval_seconds or default_interval, timezone=UTC),
            args=[source],
            kwargs={
                "fetcher": fetcher,
                "engine": engine,
                "tz": tz,
                "clock": clock,
                "on_stored": on_stored,
                "default_interval": default_interval,
                "supervisor": supervisor,
            },
            id=f"{JOB_PREFIX}{source.name}",
            name=f"poll {source.name}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
            next_run_time=utcnow(),  # APScheduler runs on the real clock; `clock` feeds polls
            replace_existing=True,
        )
    return sched


def poll_outcome(report: PollReport) -> str:
    """ok | unchanged (every listing answered 304) | failed | skipped, for the metrics."""
    if report.failed:
        return "failed"
    if report.skipped:
        return "skipped"
    return "ok" if report.fetched else "unchanged"


async def _poll_job(
    source: SourceConfig,
    *,
    fetcher: Fetcher,
    engine: Engine,
    tz: ZoneInfo,
    clock: Callable[[], datetime],
    on_stored: OnStored | None,
    default_interval: int,
    supervisor: Supervisor | None = None,
) -> PollReport | None:
    """One scheduled poll; it logs and swallows every error so the job keeps its schedule."""
    task = f"{JOB_PREFIX}{source.name}"
    try:
        report = await poll_source(
            source,
            fetcher=fetcher,
            engine=engine,
            tz=tz,
            now=clock(),
            on_stored=on_stored,
            default_interval=default_interval,
        )
    except asyncio.CancelledError:
        # The service is stopping (asyncio.run cancels what is left): the poll is abandoned,
        # which loses nothing (the next run reads again). Not re-raised, or APScheduler would
        # print a traceback for an ordinary exit.
        log.info("poll of %s stopped: the service is stopping", source.name)
        return None
    except Exception as exc:
        log.exception("poll of %s failed unexpectedly", source.name)
        metrics.observe_poll(source.name, outcome="error")
        if supervisor is not None:
            supervisor.report(task, error=f"{type(exc).__name__}: {exc}"[:300])
        return None
    metrics.observe_poll(
        source.name, outcome=poll_outcome(report), new=report.new, edited=report.edited
    )
    if supervisor is not None:
        broken = report.failed and report.failed.startswith(("internal:", "storage:"))
        supervisor.report(task, error=report.failed if broken else None)
    if report.failed:
        log.warning("poll of %s failed: %s", source.name, report.failed)
    elif not report.skipped:
        log.info(
            "poll of %s: %d new, %d edited, %d unchanged (304)",
            source.name,
            report.new,
            report.edited,
            report.unchanged_304,
        )
    return report
