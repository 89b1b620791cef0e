"""Long polling of the Bot Platform when no webhook is set (one process only: no offset)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from bot.zalo.bot_client import POLL_TIMEOUT, ZaloBotClient, ZaloBotError
from bot.zalo.inbound import Incoming, from_bot_update

log = logging.getLogger(__name__)

BACKOFF_START = 1.0
BACKOFF_CAP = 60.0
FATAL_CODES = (401, 403, 404)  # a wrong token: keep trying slowly, but say so loudly
T = TypeVar("T")


class _Stopped(Exception):
    """`stop` was set while a long poll was held."""


async def _until_stopped(call: Coroutine[Any, Any, T], stop: asyncio.Event) -> T:
    task = asyncio.ensure_future(call)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    raise _Stopped


async def poll_updates(
    client: ZaloBotClient,
    sink: Callable[[Incoming], Awaitable[None] | object],
    stop: asyncio.Event,
    *,
    platform: str,
    hold_seconds: int = POLL_TIMEOUT,
) -> None:
    """getUpdates until `stop`; each update goes to `sink` (duplicates are dropped there)."""
    pause = BACKOFF_START
    while not stop.is_set():
        try:
            update = await _until_stopped(client.get_updates(hold_seconds), stop)
        except _Stopped:
            return
        except ZaloBotError as exc:
            level = logging.ERROR if exc.code in FATAL_CODES else logging.WARNING
            log.log(level, "zalo getUpdates failed (%s); again in %.0f s", exc, pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            pause = min(BACKOFF_CAP, pause * 2)
            continue
        pause = BACKOFF_START
        inc = from_bot_update(update, platform) if update is not None else None
        if inc is not None:
            result = sink(inc)
            if asyncio.iscoroutine(result):
                await result
