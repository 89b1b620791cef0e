"""Chaos: the database goes away several times during a fan-out; nothing is lost, no restart.

SQLite: another connection holds the write lock for seconds at a time. PostgreSQL: the
service reaches the server through a proxy that is cut (a paused listener), and its sessions
are killed with pg_terminate_backend. The dispatcher runs under the supervisor, as the
service runs it; /healthz's report is sampled all along (tests/integration/chaosworld.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.integration.chaosworld import Chaos, postgres_chaos, sqlite_chaos

CHATS = 300  # a few hundred in `make test`; tests/benchmarks/bench_chaos.py runs 2,000
WINDOW = 16
OUTAGES = 3
RATE = 60.0  # messages per second: the fan-out lasts ~5 s, long enough for the outages


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        server.limits.enabled = False  # the dispatcher paces itself; this test is about faults
        yield server


def _check(run: Chaos) -> None:
    print(f"\nchaos: {run}")
    assert run.lost == 0 and run.final == {"sent": CHATS}
    assert run.duplicates <= WINDOW * run.restarts  # each failure resends at most its window
    assert run.during["unavailable"] >= 1  # /healthz said so during the outages
    assert run.after == "ok"  # and is healthy again after, in the same process
    assert run.restarts >= 1  # the dispatcher was restarted in-process, not the service


async def test_sqlite_write_lock_held_for_seconds(fake: FakeTelegram, tmp_path: Path) -> None:
    run = await sqlite_chaos(fake, tmp_path / "chaos.db", chats=CHATS, outages=OUTAGES,
                             window=WINDOW, rate=RATE)  # fmt: skip
    _check(run)
    assert run.parts["database"] >= 1


@pytest.mark.postgres
async def test_postgres_listener_cut_and_backends_killed(
    fake: FakeTelegram, pg_server_url: str
) -> None:
    from tests.conftest import _fresh_pg_database

    fresh = _fresh_pg_database(pg_server_url)
    db_url = next(fresh)
    try:
        run = await postgres_chaos(fake, db_url, chats=CHATS, outages=OUTAGES, window=WINDOW,
                                   rate=RATE)  # fmt: skip
    finally:
        next(fresh, None)
    _check(run)
    assert run.parts["database"] >= 1
