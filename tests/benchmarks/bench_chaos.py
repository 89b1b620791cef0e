"""Chaos at scale: a 2,000-chat fan-out while the database goes away five times, on SQLite
(write lock held 2 s) and PostgreSQL (listener cut 2 s / backends killed), beside a baseline
run without outages. Fails when an alert is lost, duplicates exceed the in-flight window
per failure, /healthz never reported an outage or is not ok after."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegram
from tests.integration.chaosworld import Chaos, postgres_chaos, sqlite_chaos

CHATS = 2000
OUTAGES = 5
WINDOW = 16
RATE = 100.0


def _run(backend: str, outages: int, tmp_path: Path, pg_url: str | None) -> Chaos:
    with FakeTelegram() as fake:
        fake.limits.enabled = False
        if backend == "sqlite":
            return asyncio.run(sqlite_chaos(fake, tmp_path / f"chaos-{outages}.db", chats=CHATS,
                                            outages=outages, window=WINDOW, rate=RATE))  # fmt: skip
        assert pg_url is not None
        return asyncio.run(postgres_chaos(fake, pg_url, chats=CHATS, outages=outages,
                                          window=WINDOW, rate=RATE))  # fmt: skip


def test_chaos_fan_out(tmp_path: Path, pg_server_url: str) -> None:
    from tests.conftest import _fresh_pg_database

    rows = []
    for backend in ("sqlite", "postgres"):
        for outages in (0, OUTAGES):
            fresh = _fresh_pg_database(pg_server_url) if backend == "postgres" else None
            url = next(fresh) if fresh else None
            try:
                run = _run(backend, outages, tmp_path, url)
            finally:
                if fresh:
                    next(fresh, None)
            rows.append((backend, run))
    print("\n| backend | outages | chats | seconds | lost | duplicated | dispatcher restarts |"
          " /healthz during outages | /healthz after |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for backend, run in rows:
        during = ", ".join(f"{k} {v}" for k, v in sorted(run.during.items())) or "-"
        print(f"| {backend} | {run.outages} | {run.chats} | {run.seconds:.1f} | {run.lost} |"
              f" {run.duplicates} | {run.restarts} | {during} | {run.after} |")  # fmt: skip
    for _backend, run in rows:
        assert run.lost == 0 and run.after == "ok"
        assert run.duplicates <= WINDOW * max(run.restarts, 0)
        if run.outages:
            assert run.during["unavailable"] >= 1 and run.restarts >= 1
