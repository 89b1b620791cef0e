"""Chaos runs shared by tests/integration/test_chaos.py and tests/benchmarks/bench_chaos.py:
a fan-out under the supervisor while the database goes away, and what came of it."""

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

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from bot.i18n import alert_words
from bot.telegram.client import TelegramClient
from bot.telegram.sender import TelegramSender
from jobs.delivery.dispatcher import Dispatcher
from jobs.liveness import report_async
from jobs.supervisor import Supervisor
from storage.db import PG_CONNECT_ARGS, make_engine, upgrade
from tests.fakes.tcpproxy import TcpProxy
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import VN, publish, seed_chats, states

FIRST_EXT = 1000  # seed_chats numbers external ids from here
OUTAGE_SECONDS = 2.0


@dataclass
class Chaos:
    """One run's figures."""

    chats: int
    outages: int
    window: int
    lost: int = 0
    duplicates: int = 0
    restarts: int = 0
    seconds: float = 0.0
    during: Counter[str] = field(default_factory=Counter)  # /healthz status in outages
    parts: Counter[str] = field(default_factory=Counter)  # failing parts named then
    after: str = ""  # /healthz status once the queue drained
    final: dict[str, int] = field(default_factory=dict)  # delivery rows by state


def make_dispatcher(
    engine: Engine, fake: FakeTelegram, *, window: int, rate: float
) -> tuple[Dispatcher, TelegramClient]:
    """A dispatcher sending through a client of the fake Bot API (close the client after)."""
    client = TelegramClient(api_url=fake.url, token=fake.token)
    sender = TelegramSender(client, global_rate=rate)
    dispatcher = Dispatcher(
        engine=engine, senders=[sender], tz=VN, words=alert_words, window=window, idle_poll=0.1
    )
    return dispatcher, client


async def _report(engine: Engine, sup: Supervisor) -> dict[str, Any]:
    now = datetime.now(UTC)
    return await report_async(engine, within=1.0, now=now, started_at=now, supervisor=sup,
                              sources=[])  # fmt: skip


async def _sample(engine: Engine, sup: Supervisor, run: Chaos, outage: asyncio.Event,
                  stop: asyncio.Event) -> None:  # fmt: skip
    while not stop.is_set():
        if outage.is_set():
            result = await _report(engine, sup)
            run.during[str(result["status"])] += 1
            run.parts.update(str(f["part"]) for f in result["failing"])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def _drained(engine: Engine) -> None:
    """Returns once no row is pending or being sent (the queue has no event to await)."""
    tick = asyncio.Event()
    while sum(states(engine).get(state, 0) for state in ("pending", "sending")):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tick.wait(), 0.2)


async def fan_out(
    engine: Engine,
    fake: FakeTelegram,
    outage_fn: Callable[[], Awaitable[None]],
    *,
    chats: int,
    outages: int,
    window: int,
    rate: float,
    drain_limit: float = 300.0,
) -> Chaos:
    """Alert `chats` chats and cut the database `outages` times meanwhile; the figures."""
    seed_chats(engine, chats, first_ext=FIRST_EXT)
    publish(engine, "Thông báo khẩn về mưa lũ", now=datetime.now(UTC))
    run = Chaos(chats=chats, outages=outages, window=window)
    sup = Supervisor(backoff_base=0.2, backoff_cap=1.0)
    dispatcher, client = make_dispatcher(engine, fake, window=window, rate=rate)
    outage, stop = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    sup.spawn("dispatcher", dispatcher.run)
    sampler = asyncio.create_task(_sample(engine, sup, run, outage, stop))
    try:
        spacing = max(0.5, chats / rate / (outages + 1))
        for _ in range(outages):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), spacing)
            outage.set()
            await outage_fn()
            outage.clear()
        async with asyncio.timeout(drain_limit):  # everything goes out, with no restart
            await _drained(engine)
        run.seconds = loop.time() - started
        run.after = str((await _report(engine, sup))["status"])
    finally:
        stop.set()
        sup.stopping.set()
        dispatcher.stop()
        await sup.stop(grace=10)
        await sampler
        await client.aclose()
    per_chat = Counter(m.chat_id for m in fake.sent)
    run.lost = sum(1 for c in range(FIRST_EXT, FIRST_EXT + chats) if not per_chat.get(c))
    run.duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    run.restarts = sup.states["dispatcher"].restarts
    run.final = dict(states(engine))
    return run


async def sqlite_chaos(
    fake: FakeTelegram, path: Path, *, chats: int, outages: int, window: int, rate: float
) -> Chaos:
    """Another connection holds SQLite's write lock for OUTAGE_SECONDS, `outages` times."""
    # A short busy wait, so each held lock is an error the dispatcher must survive.
    engine = make_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False,
                                                             "timeout": 0.2})  # fmt: skip
    upgrade(engine)

    async def hold_lock() -> None:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself: a lock held for seconds
        holder.execute("ROLLBACK")
        holder.close()

    try:
        return await fan_out(engine, fake, hold_lock, chats=chats, outages=outages,
                             window=window, rate=rate)  # fmt: skip
    finally:
        engine.dispose()


async def postgres_chaos(
    fake: FakeTelegram, db_url: str, *, chats: int, outages: int, window: int, rate: float
) -> Chaos:
    """Odd outages cut the listener (a proxy) for OUTAGE_SECONDS; even ones kill the
    service's backends with pg_terminate_backend."""
    url = make_url(db_url)
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        args = {**PG_CONNECT_ARGS, "connect_timeout": 2}
        engine = make_engine(proxied.render_as_string(hide_password=False), connect_args=args)
        upgrade(engine)
        rounds = [0]

        async def outage() -> None:
            rounds[0] += 1
            if rounds[0] % 2:
                proxy.pause()
                await asyncio.sleep(OUTAGE_SECONDS)  # the listener is away for seconds
                proxy.resume()
                return
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": url.database},
                )

        try:
            return await fan_out(engine, fake, outage, chats=chats, outages=outages,
                                 window=window, rate=rate)  # fmt: skip
        finally:
            engine.dispose()
            admin.dispose()
