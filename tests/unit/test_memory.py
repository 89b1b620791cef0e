"""The service's memory settings: arenas capped unless the user chose, a bounded worker pool."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot import memory
from storage.db import SQLITE_CACHE_KIB, make_engine


def test_an_explicit_malloc_arena_max_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert memory.fewer_malloc_arenas() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_arenas_are_capped_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.fewer_malloc_arenas() is True


async def test_blocking_work_shares_a_bounded_pool_of_threads() -> None:
    memory.bounded_workers()
    gate = threading.Barrier(memory.WORKER_THREADS)

    def work() -> str:
        gate.wait(timeout=10)  # every worker busy at once: the pool has exactly that many
        return threading.current_thread().name

    names = await asyncio.gather(
        *(asyncio.to_thread(work) for _ in range(memory.WORKER_THREADS * 2))
    )
    assert len(set(names)) == memory.WORKER_THREADS
    assert all(n.startswith("worker") for n in names)


async def test_commands_never_queue_behind_the_shared_pool() -> None:
    memory.bounded_workers()
    all_busy, release = threading.Barrier(memory.WORKER_THREADS + 1), threading.Event()

    def hog() -> None:  # the dispatcher's database steps: every shared worker taken
        all_busy.wait(timeout=10)
        release.wait(timeout=10)

    def command() -> str:
        all_busy.wait(timeout=10)  # passes only while every shared worker is held
        return threading.current_thread().name

    held = asyncio.gather(*(asyncio.to_thread(hog) for _ in range(memory.WORKER_THREADS)))
    try:
        name = await asyncio.wait_for(memory.in_command_thread(command), 10)
    finally:
        release.set()
        await held
    assert name.startswith("command")


def test_sqlite_connections_keep_a_small_page_cache(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -SQLITE_CACHE_KIB
    engine.dispose()


def test_the_start_up_objects_leave_the_collectors_full_passes() -> None:
    try:
        memory.freeze_start_up()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_a_service_loads_only_what_its_settings_use() -> None:
    # A fresh interpreter: this one has imported everything the test suite needs.
    probe = (
        "import sys, bot.cli, bot.service, bot.channels, jobs.delivery.dispatcher\n"
        "unused = ('feedparser', 'bot.zalo.channel', 'sqlalchemy.dialects.postgresql', 'psycopg')\n"
        "print(' '.join(m for m in unused if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""
