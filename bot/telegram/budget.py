"""One budget per bot account: python-telegram-bot's replies go through the same limiter as the
dispatcher's pushes (jobs.delivery.pacing), first in line, and a 429 is waited out and resent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from jobs.delivery.pacing import RateLimiter

log = logging.getLogger(__name__)

# Calls that put a message in a chat and count against Telegram's limits.
PACED_ENDPOINTS = frozenset({"sendMessage", "editMessageText"})
MAX_RESENDS = 10  # a reply is resent after each 429 this many times before giving up

Result = bool | dict[str, Any] | list[dict[str, Any]]


def _is_group(chat_id: object) -> bool:
    return str(chat_id).startswith(("-", "@"))


class SharedBudget(BaseRateLimiter[None]):
    """PTB's rate limiter hook, spending from the account's shared `RateLimiter`."""

    def __init__(self, pacer: RateLimiter, monotonic: Callable[[], float] = time.monotonic):
        self.pacer = pacer
        self.monotonic = monotonic

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Result:
        """Wait for the reply's turn (ahead of pushes), send, and resend after a 429."""
        if endpoint not in PACED_ENDPOINTS or "chat_id" not in data:
            return await callback(*args, **kwargs)
        chat, group = str(data["chat_id"]), _is_group(data["chat_id"])
        for attempt in range(MAX_RESENDS + 1):
            await self._turn(chat, group)
            ticket = self.pacer.begin(chat, group=group, now=self.monotonic(), reply=True)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == MAX_RESENDS:
                    raise
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                log.info("reply to chat %s: 429, resending in %.1f s", chat, seconds)
                self.pacer.pause_chat(chat, self.monotonic() + seconds)
            finally:
                self.pacer.finish(ticket, now=self.monotonic())
        raise AssertionError("unreachable")

    async def _turn(self, chat: str, group: bool) -> None:
        with self.answering():
            while True:
                delay = self.pacer.wait(chat, group=group, now=self.monotonic(), priority=True)
                if delay <= 0:
                    return
                await asyncio.sleep(delay)  # a time window, not an event: nothing to await

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """While a person's command is worked on and answered, pushes step aside: they and
        the command share one interpreter (during a fan-out a command took 2-5x longer)."""
        with self.pacer.answering(self.monotonic):
            yield
