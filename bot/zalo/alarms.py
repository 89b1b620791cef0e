"""Conditions an admin must hear about once (a refresh refused for good, quota used up)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]


class Alarms:
    """Raised alarms by key; each raise is told to the admins once until it is cleared."""

    def __init__(self, notify: Notify | None = None) -> None:
        self.notify = notify
        self.active: dict[str, str] = {}
        self.told: list[str] = []  # every message handed to `notify`, in order
        self._tasks: set[asyncio.Task[None]] = set()

    def raise_(self, key: str, message: str) -> bool:
        """Raise `key`; True (and the admins are told) when it was not raised already."""
        if key in self.active:
            return False
        self.active[key] = message
        log.error("ALARM %s: %s", key, message)
        self.told.append(message)
        if self.notify is not None:
            with_loop = asyncio.get_running_loop()
            task = with_loop.create_task(self._tell(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return True

    def clear(self, key: str) -> None:
        """The condition is over (a later raise tells the admins again)."""
        if self.active.pop(key, None) is not None:
            log.warning("alarm %s cleared", key)

    async def _tell(self, message: str) -> None:
        assert self.notify is not None
        try:
            await self.notify(message)
        except Exception as exc:  # telling the admins must never break the sender
            log.warning("could not tell the admins about an alarm: %r", exc)
