"""Process memory: fewer malloc arenas, a bounded worker pool, free pages returned, and the
start-up's objects kept out of the garbage collector's full passes.

Measured with bench_memory (100k articles, 10k chats, a fan-out and commands): the service's
imports take 84 MB; during a fan-out glibc's per-thread arenas and the pages freed inside
them (never handed back by free()) took another 30-40 MB. Linux with glibc only; elsewhere
these are no-ops.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ctypes
import functools
import gc
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

M_ARENA_MAX = -8  # glibc's mallopt parameter number
MALLOC_ARENAS = 2
# Threads for blocking work (database calls through asyncio.to_thread); each may hold a
# database connection and its page cache. Python's default is cores + 4. With the command
# thread below the service keeps the 5 threads it had with 4 workers (bench_memory).
WORKER_THREADS = 3
# Threads for the command logic only, so a person's command never queues behind the
# dispatcher's database steps in the shared pool (during a 10k-chat fan-out they kept all
# WORKER_THREADS busy, often waiting on SQLite's write lock). One thread serves a few
# commands a second (about 17 ms each); 2 threads measured the same (bench_bot).
COMMAND_THREADS = 1
TRIM_EVERY_SECONDS = 5.0

P = ParamSpec("P")
T = TypeVar("T")
_command_pool: ThreadPoolExecutor | None = None


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt  # noqa: B018 - absent outside glibc
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):  # musl or another libc: nothing to tune
        return None
    return libc


def fewer_malloc_arenas() -> bool:
    """Cap glibc's malloc arenas, as MALLOC_ARENA_MAX=2 would (unless that is set).

    glibc gives threads their own arenas, up to 8 per core, and memory freed in one is not
    reused by another. Must run before threads start.
    """
    libc = _glibc()
    if libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS))


def bounded_workers() -> None:
    """Give the running loop a worker pool of WORKER_THREADS threads."""
    pool = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="worker")
    asyncio.get_running_loop().set_default_executor(pool)


async def in_command_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a command's blocking logic in the commands' own small pool (asyncio.to_thread's
    counterpart; the pool starts its threads on first use)."""
    global _command_pool
    if _command_pool is None:
        _command_pool = ThreadPoolExecutor(COMMAND_THREADS, thread_name_prefix="command")
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_command_pool, call)


def freeze_start_up() -> None:
    """Move every object alive now (modules, the app, its handlers) to the collector's
    permanent generation, after collecting what start-up left behind.

    A full collection walked them all with the process stopped, 90 ms each (gc.callbacks
    during bench_bot's fan-out, a few a minute): a command arriving then waited as long.
    """
    gc.collect()
    gc.freeze()


async def return_freed_memory(every: float = TRIM_EVERY_SECONDS) -> None:
    """Hand pages free() kept back to the system, every `every` seconds (runs until cancelled).

    A fan-out frees as much as it allocates, but glibc returns only the top of each heap;
    malloc_trim returns every whole free page (about a millisecond).
    """
    libc = _glibc()
    if libc is None:
        return
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(OSError):
            libc.malloc_trim(0)
