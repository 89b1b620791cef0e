"""Scheduled polls report to the supervisor: a broken poll (the database) is named at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

from jobs.ingest.fetch import Fetcher
from jobs.scheduler import build_scheduler
from jobs.supervisor import BACKING_OFF, RUNNING, Supervisor
from storage.db import make_engine, upgrade
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import TZ, PortalSite
from tests.integration.pollworld import NOW, html_source


async def _one_run(
    sup: Supervisor, engine_url: str, server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    engine = make_engine(engine_url)
    ran = asyncio.Event()

    def executed(_event: JobExecutionEvent) -> None:
        ran.set()

    sched = build_scheduler([html_source(server)], fetcher=fetcher, engine=engine, tz=TZ,
                            clock=lambda: NOW, supervisor=sup)  # fmt: skip
    sched.add_listener(executed, EVENT_JOB_EXECUTED)
    sched.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=10)
    finally:
        sched.shutdown(wait=False)
        engine.dispose()


async def test_a_poll_the_database_breaks_is_reported_then_recovers(
    tmp_path: Path, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    sup = Supervisor()
    url = f"sqlite:///{tmp_path / 'svc.db'}"
    await _one_run(sup, url, server, fetcher)  # no tables yet: the poll cannot store
    state = sup.states["poll:portal"]
    assert state.state == BACKING_OFF and "OperationalError" in (state.last_error or "")
    migrated = make_engine(url)
    upgrade(migrated)
    migrated.dispose()
    await _one_run(sup, url, server, fetcher)
    assert sup.states["poll:portal"].state == RUNNING
