"""The platform's global rate shared by every replica (storage.pacing), for the dispatcher.

Each send first takes a slot: reserved in the database, then waited for locally. Replicas on
one PostgreSQL therefore send N messages per second together, not N each.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.pacing import Slots, reserve

log = logging.getLogger(__name__)


class SharedPace:
    """Send slots at `rate` per second for `platform`, shared through the database."""

    def __init__(
        self,
        engine: Engine,
        *,
        rate: float,
        platform: str = "telegram",
        batch: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine, self.rate, self.platform, self.batch = engine, rate, platform, batch
        self.monotonic = monotonic
        self._slots: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _reserve(self) -> Slots:
        with session_scope(self.engine) as session:
            return reserve(session, platform=self.platform, rate=self.rate, n=self.batch)

    async def acquire(self) -> float:
        """Wait for this replica's next slot; the seconds waited."""
        async with self._lock:
            now = self.monotonic()
            while self._slots and self._slots[0] < now - 1.0 / self.rate:
                self._slots.popleft()  # unused and stale: sending on it now could burst
            if not self._slots:
                try:
                    got = await asyncio.to_thread(self._reserve)
                except Exception as exc:  # the database is away: the local limiter still paces
                    log.warning("shared pace unavailable, pacing locally: %r", exc)
                    return 0.0
                start = self.monotonic() + got.delay
                self._slots.extend(start + i * got.interval for i in range(got.n))
            at = self._slots.popleft()
        wait = at - self.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # the protocol: the slot is at a given time
        return max(0.0, wait)
