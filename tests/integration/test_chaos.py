"""Chaos: the database goes away several times during a fan-out; nothing is lost, no restart.

SQLite: another connection holds the write lock for seconds at a time. PostgreSQL: the
service reaches the server through a proxy that is cut (a paused listener) and its sessions
are killed with pg_terminate_backend. The dispatcher runs under the supervisor, as the
service runs it; /healthz's report is sampled all along.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from jobs.liveness import report_async
from jobs.supervisor import Supervisor
from storage.db import make_engine, upgrade
from tests.fakes.tcpproxy import TcpProxy
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.chaosworld import make_dispatcher
from tests.integration.deliveryworld import publish, seed_chats, states

CHATS = 300  # a few hundred in `make test`; tests/benchmarks/bench_chaos.py runs 2,000
WINDOW = 16
OUTAGES = 3
OUTAGE_SECONDS = 2.0
RATE = 60.0  # messages per second: the fan-out lasts ~5 s, long enough for the outages


@dataclass
class Samples:
    """/healthz reports taken during the run."""

    during: list[str] = field(default_factory=list)  # status while the database was away
    parts: Counter[str] = field(default_factory=Counter)
    after: str = ""  # status once the queue drained


async def _sample(engine: Engine, sup: Supervisor, samples: Samples, outage: asyncio.Event,
                  stop: asyncio.Event) -> None:  # fmt: skip
    while not stop.is_set():
        if outage.is_set():
            result = await report_async(engine, within=1.0, now=datetime.now(UTC),
                                        started_at=datetime.now(UTC), supervisor=sup,
                                        sources=[])  # fmt: skip
            samples.during.append(result["status"])
            samples.parts.update(str(f["part"]) for f in result["failing"])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def _drained(engine: Engine) -> None:
    """Returns once no row is pending or being sent (the queue has no event to await)."""
    tick = asyncio.Event()
    while sum(states(engine).get(state, 0) for state in ("pending", "sending")):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tick.wait(), 0.2)


async def _fan_out(
    engine: Engine, fake: FakeTelegram, outage_fn: Callable[[], Awaitable[None]]
) -> tuple[Supervisor, Samples, int]:
    ids = seed_chats(engine, CHATS)
    publish(engine, "Thông báo khẩn về mưa lũ", now=datetime.now(UTC))
    sup = Supervisor(backoff_base=0.2, backoff_cap=1.0)
    dispatcher, client = make_dispatcher(engine, fake, window=WINDOW, rate=RATE)
    samples, outage, stop = Samples(), asyncio.Event(), asyncio.Event()
    sup.spawn("dispatcher", dispatcher.run)
    sampler = asyncio.create_task(_sample(engine, sup, samples, outage, stop))
    try:
        for _ in range(OUTAGES):
            await asyncio.sleep(0.7)
            outage.set()
            await outage_fn()
            outage.clear()
        async with asyncio.timeout(90):  # then everything goes out, with no restart
            await _drained(engine)
        after = await report_async(engine, now=datetime.now(UTC), started_at=datetime.now(UTC),
                                   supervisor=sup, sources=[])  # fmt: skip
        samples.after = str(after["status"])
    finally:
        stop.set()
        dispatcher.stop()
        await sup.stop(grace=10)
        await sampler
        await client.aclose()
    assert len(ids) == CHATS
    return sup, samples, sup.states["dispatcher"].restarts


def _check(fake: FakeTelegram, engine: Engine, sup: Supervisor, samples: Samples) -> dict[str, Any]:
    per_chat = Counter(m.chat_id for m in fake.sent)
    lost = [chat for chat in range(1000, 1000 + CHATS) if per_chat.get(chat, 0) == 0]
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    final = states(engine)
    assert lost == [] and final.get("sent") == CHATS, (lost[:10], final)
    restarts = sup.states["dispatcher"].restarts
    assert duplicates <= WINDOW * restarts  # each failure can resend at most its window
    assert "unavailable" in samples.during  # /healthz said so during the outage
    assert samples.after == "ok"  # and healthy again after, in the same process
    assert sup.states["dispatcher"].restarts >= 1  # the task was restarted in-process
    return {
        "lost": len(lost),
        "duplicates": duplicates,
        "restarts": restarts,
        "healthz_during": dict(Counter(samples.during)),
        "failing_parts": dict(samples.parts),
    }


@pytest.fixture
def fake() -> Any:
    with FakeTelegram() as server:
        server.limits.enabled = False  # the dispatcher paces itself; this test is about faults
        yield server


async def test_sqlite_write_lock_held_for_seconds(fake: FakeTelegram, tmp_path: Path) -> None:
    path = tmp_path / "chaos.db"
    # A short busy wait, so each held lock is an error the dispatcher must survive.
    engine = make_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False,
                                                             "timeout": 0.2})  # fmt: skip
    upgrade(engine)

    async def hold_lock() -> None:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        await asyncio.sleep(OUTAGE_SECONDS)
        holder.execute("ROLLBACK")
        holder.close()

    sup, samples, _restarts = await _fan_out(engine, fake, hold_lock)
    figures = _check(fake, engine, sup, samples)
    print(f"\nchaos sqlite: {CHATS} chats, {OUTAGES} locks of {OUTAGE_SECONDS:g} s: {figures}")
    engine.dispose()


@pytest.mark.postgres
async def test_postgres_listener_paused_and_backends_killed(
    fake: FakeTelegram, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    url = make_url(db_url)
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        engine = make_engine(proxied.render_as_string(hide_password=False),
                             connect_args={"connect_timeout": 2})  # fmt: skip
        upgrade(engine)
        rounds = [0]

        async def outage() -> None:
            rounds[0] += 1
            if rounds[0] % 2:  # the listener goes away for seconds
                proxy.pause()
                await asyncio.sleep(OUTAGE_SECONDS)
                proxy.resume()
            else:  # the server kills the service's sessions
                with admin.connect() as conn:
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :db AND pid <> pg_backend_pid()"
                        ),
                        {"db": url.database},
                    )
                await asyncio.sleep(OUTAGE_SECONDS / 2)

        sup, samples, _restarts = await _fan_out(engine, fake, outage)
        figures = _check(fake, engine, sup, samples)
        print(f"\nchaos postgres: {CHATS} chats, {OUTAGES} outages: {figures}")
        engine.dispose()
    admin.dispose()
