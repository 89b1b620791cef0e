"""Hostile and broken sources: recorded in the health record, never a crash, nothing lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy.engine import Engine
from sqlmodel import Session

from jobs.ingest.fetch import Fetcher
from jobs.ingest.poll import PollReport, poll_all
from jobs.scheduler import JOB_PREFIX, build_scheduler
from storage.articles import StoreResult, get_source_state
from storage.db import make_engine
from storage.locks import source_lock
from tests.fakes.httpserver import FakeHTTPServer, FaultKind
from tests.fakes.portal_site import LISTING_PATH, TZ, PortalSite, mount
from tests.integration.pollworld import (
    INTERVAL,
    N_ARTICLES,
    NOW,
    count,
    html_source,
    poll,
    rss_source,
    state,
)

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>&lol3;</title>
<link>http://127.0.0.1/a</link></item></channel></rss>"""
MALFORMED_XML = b"<?xml version='1.0'?><rss version='2.0'><channel><title>Tin <<<&& </chan"
NO_ARTICLES = "<html><body><h1>Trang đang bảo trì</h1><p>Xin quay lại sau.</p></body></html>"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("500", "http_500"),
        ("trickle", "timeout"),
        ("timeout", "timeout"),
        ("truncated", "protocol_error"),
        ("huge", "too_large"),
        ("redirect_metadata", "blocked_address"),
    ],
)
async def test_listing_fault_is_recorded_and_stored_articles_stay(
    engine: Engine,
    server: FakeHTTPServer,
    site: PortalSite,
    fetcher: Fetcher,
    fault: FaultKind,
    reason: str,
) -> None:
    source = html_source(server)
    await poll(source, engine, fetcher)
    server.fault(LISTING_PATH, fault)
    later = NOW + timedelta(minutes=10)
    report = await poll(source, engine, fetcher, later)
    assert report.failed == reason and report.new == 0
    st = state(engine)
    assert st.consecutive_failures == 1 and st.last_error == reason
    assert st.last_error_at == later and st.next_attempt_at == later + timedelta(seconds=INTERVAL)
    assert st.last_success_at == NOW
    assert count(engine) == N_ARTICLES


async def test_truncated_listing_html_stores_what_it_shows_and_loses_nothing(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    await poll(source, engine, fetcher)
    page = site.render_listing(1)
    server.route(LISTING_PATH, page[: len(page) * 2 // 3])
    report = await poll(source, engine, fetcher, NOW + timedelta(minutes=10))
    assert report.new == 0 and report.edited == 0
    assert count(engine) == N_ARTICLES


@pytest.mark.parametrize(
    ("body", "reason"), [(MALFORMED_XML, "not_a_feed"), (ENTITY_BOMB, "unsafe_document")]
)
async def test_hostile_feed_is_refused_and_recorded(
    engine: Engine,
    server: FakeHTTPServer,
    site: PortalSite,
    fetcher: Fetcher,
    body: bytes,
    reason: str,
) -> None:
    await poll(rss_source(server), engine, fetcher)
    server.route("/rss.aspx", body, content_type="application/rss+xml")
    report = await poll(rss_source(server), engine, fetcher, NOW + timedelta(minutes=10))
    assert report.failed == reason
    assert state(engine, "feed").last_error == reason
    assert count(engine) == N_ARTICLES


async def test_backoff_grows_skips_early_polls_and_resets_on_success(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    server.fault(LISTING_PATH, "500")
    await poll(source, engine, fetcher)
    assert state(engine).next_attempt_at == NOW + timedelta(seconds=INTERVAL)
    before = len(server.received)
    early = await poll(source, engine, fetcher, NOW + timedelta(seconds=60))
    assert early.skipped == "back-off" and len(server.received) == before
    second = NOW + timedelta(seconds=INTERVAL)
    await poll(source, engine, fetcher, second)
    st = state(engine)
    assert st.consecutive_failures == 2
    assert st.next_attempt_at == second + timedelta(seconds=2 * INTERVAL)
    forced = await poll(source, engine, fetcher, second, force=True)  # poll --once forces
    assert forced.skipped is None and state(engine).consecutive_failures == 3
    mount(server, site)
    ok = await poll(source, engine, fetcher, second + timedelta(seconds=4 * INTERVAL))
    assert ok.failed is None and ok.new == N_ARTICLES
    st = state(engine)
    assert st.consecutive_failures == 0 and st.next_attempt_at is None
    assert st.last_error == "http_500"  # kept for the admins' "last error" column


async def test_listing_that_stops_yielding_items_is_flagged_layout_changed(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    await poll(source, engine, fetcher)
    assert not state(engine).layout_changed
    server.route(LISTING_PATH, NO_ARTICLES)
    report = await poll(source, engine, fetcher, NOW + timedelta(minutes=10))
    assert report.failed == "layout_changed"
    st = state(engine)
    assert st.layout_changed and st.consecutive_failures == 1
    assert count(engine) == N_ARTICLES


async def test_a_layout_change_stays_a_failure_when_the_empty_listing_answers_304(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    await poll(source, engine, fetcher)
    server.route(LISTING_PATH, NO_ARTICLES, etag='"maintenance"')
    await poll(source, engine, fetcher, NOW + timedelta(minutes=10))
    # Had the empty listing been cached, this 304 would read as a recovery.
    report = await poll(source, engine, fetcher, NOW + timedelta(days=1))
    assert report.failed == "layout_changed"
    st = state(engine)
    assert st.layout_changed and st.consecutive_failures == 2


async def test_concurrent_double_poll_stores_no_duplicates(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    source = html_source(server)
    first, second = await asyncio.gather(
        poll(source, engine, fetcher), poll(source, engine, fetcher)
    )
    assert first.failed is None and second.failed is None
    # On PostgreSQL the source lock may make one of them step aside.
    assert first.new + second.new == N_ARTICLES
    assert count(engine) == N_ARTICLES


async def test_a_hung_source_does_not_hold_up_the_others(
    engine: Engine, server: FakeHTTPServer, site: PortalSite
) -> None:
    hung_seen: list[object] = []

    def hook(session: Session, result: StoreResult) -> None:
        # The good source stores while the hung one is still inside its deadline.
        if result.new:
            hung_seen.append(get_source_state(session, name="hung"))

    with FakeHTTPServer() as slow:
        slow.fault(LISTING_PATH, "trickle")
        hung = html_source(slow, name="hung")
        async with Fetcher(deadline=3.0) as fetcher:
            reports = await poll_all(
                [hung, html_source(server)], fetcher=fetcher, engine=engine, tz=TZ, now=NOW,
                on_stored=hook,
            )  # fmt: skip
    assert [r.source for r in reports] == ["hung", "portal"]
    assert reports[0].failed == "timeout"
    assert reports[1].failed is None and reports[1].new == N_ARTICLES
    assert hung_seen == [None]


async def test_poll_all_reports_a_broken_database_instead_of_raising(
    tmp_path: Path, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    bare = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated: no tables
    try:
        reports = await poll_all(
            [html_source(server)], fetcher=fetcher, engine=bare, tz=TZ, now=NOW
        )
    finally:
        bare.dispose()
    assert reports[0].failed == "internal: OperationalError"


async def test_scheduler_polls_each_source_at_start_with_one_instance(
    sqlite_engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    ran = asyncio.Event()
    results: list[object] = []

    def executed(event: JobExecutionEvent) -> None:
        results.append(event.retval)
        ran.set()

    sched = build_scheduler(
        [html_source(server)], fetcher=fetcher, engine=sqlite_engine, tz=TZ, clock=lambda: NOW
    )
    job = sched.get_job(f"{JOB_PREFIX}portal")
    assert job is not None
    assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time
    assert job.trigger.interval == timedelta(seconds=INTERVAL)
    sched.add_listener(executed, EVENT_JOB_EXECUTED)
    sched.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=10)
    finally:
        sched.shutdown(wait=False)
    report = results[0]
    assert isinstance(report, PollReport) and report.new == N_ARTICLES
    assert count(sqlite_engine) == N_ARTICLES
    assert state(sqlite_engine).last_success_at == NOW  # the injected clock reached the poll


async def test_a_source_another_replica_is_polling_is_skipped(
    engine: Engine, server: FakeHTTPServer, site: PortalSite, fetcher: Fetcher
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share a database only on PostgreSQL; SQLite has one process")
    with source_lock(engine, "portal") as held:  # the other replica, mid-poll
        assert held
        report = await poll(html_source(server), engine, fetcher)
    assert report.skipped == "locked" and server.received == []
    after = await poll(html_source(server), engine, fetcher)
    assert after.skipped is None and after.new == N_ARTICLES
