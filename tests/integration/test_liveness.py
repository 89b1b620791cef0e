"""/healthz's report on real databases: stale sources, a stuck queue, tasks, a dead database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from jobs.liveness import Limits, Watched, report
from jobs.supervisor import Supervisor
from storage import chats
from storage.articles import save_source_state
from storage.db import make_engine, session_scope
from storage.models import Delivery

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
STARTED = NOW - timedelta(hours=2)
SOURCES = [Watched("fresh", 600), Watched("stale", 600)]


def _parts(result: dict[str, object]) -> list[str]:
    return [f["part"] for f in result["failing"]]  # type: ignore[attr-defined]


def test_healthy_then_each_failing_part_is_named(engine: Engine) -> None:
    with session_scope(engine) as s:
        save_source_state(s, name="fresh", values={"last_success_at": NOW - timedelta(minutes=5)})
        save_source_state(s, name="stale", values={"last_success_at": NOW - timedelta(minutes=29)})
        chat = chats.ensure_chat(s, platform="telegram", external_id="1")
        s.add(
            Delivery(chat_id=chat.id or 0, kind="broadcast", not_before=NOW - timedelta(minutes=10))
        )
        s.add(Delivery(chat_id=chat.id or 0, kind="broadcast", not_before=NOW + timedelta(hours=5)))
    ok = report(engine, now=NOW, started_at=STARTED, supervisor=Supervisor(), sources=SOURCES)
    assert ok["status"] == "ok" and ok["failing"] == []
    later = NOW + timedelta(minutes=10)  # "stale" is now 39 min old (> 3 x 10 min); queue 20 min
    bad = report(
        engine, now=later, started_at=STARTED, supervisor=None, sources=SOURCES,
        limits=Limits(queue_max_age_seconds=900),
    )  # fmt: skip
    assert bad["status"] == "unavailable"
    assert _parts(bad) == ["source:stale", "delivery_queue"]
    queue = bad["failing"][1]
    assert queue["oldest_due_seconds"] == 1200


def test_a_never_polled_source_counts_from_start_up(engine: Engine) -> None:
    young = report(engine, now=NOW, started_at=NOW - timedelta(minutes=5), supervisor=None,
                   sources=[Watched("new", 600)])  # fmt: skip
    assert young["status"] == "ok"
    old = report(
        engine, now=NOW, started_at=STARTED, supervisor=None, sources=[Watched("new", 600)]
    )
    assert _parts(old) == ["source:new"]


def test_unreachable_database_and_failing_task_are_named(tmp_path: object) -> None:
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    sup = Supervisor()
    sup.report("dispatcher", error="OperationalError: database is locked")
    result = report(dead, now=NOW, started_at=STARTED, supervisor=sup, sources=SOURCES)
    assert _parts(result) == ["task:dispatcher", "database"]
    dead.dispose()


async def test_a_locked_sqlite_database_is_reported_within_the_bound(tmp_path: object) -> None:
    import sqlite3
    from pathlib import Path

    from jobs.liveness import report_async
    from storage.db import upgrade

    path = Path(str(tmp_path)) / "locked.db"
    engine = make_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    upgrade(engine)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        result = await report_async(engine, within=0.5, now=NOW, started_at=NOW,
                                    supervisor=None, sources=[])  # fmt: skip
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _parts(result) == ["database"]
    after = await report_async(engine, now=NOW, started_at=NOW, supervisor=None, sources=[])
    assert after["status"] == "ok"
    engine.dispose()
