"""The dispatcher loop: claims due deliveries, sends within Telegram's limits, records outcomes.

Started by jobs.delivery.dispatch (in-process `run_dispatcher`, or
`python -m jobs.delivery.dispatch`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.telegram.client import (
    Ambiguous,
    Outcome,
    Permanent,
    Rejected,
    RetryAfter,
    Sent,
    TelegramClient,
    Transient,
)
from jobs import metrics
from jobs.delivery import dispatch_io as io
from jobs.delivery.compose import Job
from jobs.delivery.pace import SharedPace
from jobs.delivery.ratelimit import RateLimiter
from storage.types import utcnow

log = logging.getLogger(__name__)
PLATFORM = "telegram"  # the platform this dispatcher sends to (for the metrics)

DEFAULT_WINDOW = 16  # rows in flight at once: the most a crash can duplicate
DEFAULT_LEASE_SECONDS = 120.0  # longer than any send can take (see client time-outs)
DEFAULT_MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0
IDLE_POLL_SECONDS = 1.0
HOUSEKEEPING_SECONDS = 60.0
MAX_HOLD_SECONDS = 3.0  # a row waiting longer for the limiter goes back to the queue
FLOOD_CHATS = 3  # 429s for this many chats within FLOOD_WINDOW means a global flood
FLOOD_WINDOW = 1.0
STOP_GRACE_SECONDS = 30.0


def backoff(attempts: int, base: float = BACKOFF_BASE_SECONDS) -> float:
    """Seconds before retry number `attempts` (1, 2, ...): doubling, capped."""
    return float(min(BACKOFF_CAP_SECONDS, base * 2 ** max(0, attempts - 1)))


def default_owner() -> str:
    """A lease owner name unique to this process."""
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Dispatcher:
    """Sends queued deliveries through the limiter and the client, `window` rows at a time."""

    def __init__(
        self,
        *,
        engine: Engine,
        client: TelegramClient,
        tz: ZoneInfo,
        global_rate: float,
        owner: str | None = None,
        window: int = DEFAULT_WINDOW,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = BACKOFF_BASE_SECONDS,
        retention_days: int = 30,
        idle_poll: float = IDLE_POLL_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        limiter: RateLimiter | None = None,
        pace: SharedPace | None = None,
    ) -> None:
        self.engine, self.client, self.tz = engine, client, tz
        self.owner = owner or default_owner()
        self.window, self.lease_seconds = window, lease_seconds
        self.max_attempts, self.backoff_base = max_attempts, backoff_base
        self.retention_days, self.idle_poll = retention_days, idle_poll
        # Expired leases (a dead replica's rows) are looked for twice per lease period.
        self.housekeeping_every = min(HOUSEKEEPING_SECONDS, lease_seconds / 2)
        self.clock, self.monotonic = clock, monotonic
        self.limiter = limiter or RateLimiter(global_rate=global_rate)
        self.pace = pace  # several replicas: the global rate shared through the database
        self.stopping = asyncio.Event()
        self._recent_429: deque[tuple[float, str]] = deque()
        self._in_flight: dict[asyncio.Task[None], int] = {}
        self.sent = 0

    def stop(self) -> None:
        """Ask the loop to finish in-flight sends and return."""
        self.stopping.set()

    async def run(self) -> None:
        """Claim and send until stopped; rows a previous run of this owner held are requeued."""
        await asyncio.to_thread(io.recover, self.engine, owner=self.owner, now=self.clock())
        stop_wait = asyncio.ensure_future(self.stopping.wait())
        next_housekeeping = 0.0
        try:
            while not self.stopping.is_set():
                if self.monotonic() >= next_housekeeping:
                    await asyncio.to_thread(
                        io.housekeeping, self.engine, now=self.clock(), days=self.retention_days
                    )
                    next_housekeeping = self.monotonic() + self.housekeeping_every
                await self.fill()
                # Wake when a send finishes (a slot frees), on stop, or to look for due rows.
                await asyncio.wait(
                    [*self._in_flight, stop_wait],
                    timeout=self.idle_poll,
                    return_when=asyncio.FIRST_COMPLETED,
                )
        finally:
            stop_wait.cancel()
            await self.drain()

    async def fill(self) -> int:
        """Claim rows up to the in-flight window and start their sends; how many started."""
        self._in_flight = {t: n for t, n in self._in_flight.items() if not t.done()}
        free = self.window - sum(self._in_flight.values())
        if free <= 0 or self.stopping.is_set():
            return 0
        plan = await asyncio.to_thread(
            io.claim_and_compose,
            self.engine,
            owner=self.owner,
            now=self.clock(),
            limit=free,
            lease_seconds=self.lease_seconds,
            tz=self.tz,
        )
        for chain in plan.jobs:
            rows = sum(len(job.ids) for job in chain)
            self._in_flight[asyncio.create_task(self._send_chain(chain))] = max(rows, 1)
        return len(plan.jobs)

    async def drain(self) -> None:
        """Wait for in-flight sends to finish (bounded), so no reply goes unrecorded."""
        tasks = [t for t in self._in_flight if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)

    async def run_until_idle(self, *, limit_seconds: float = 60.0) -> None:
        """Send until nothing is due now and nothing is in flight (tests, one-shot runs)."""
        await self._until(limit_seconds, wait_for_future=False)

    async def run_until_done(self, *, limit_seconds: float = 600.0) -> None:
        """Send until no row is pending at all, sleeping until rows held for later are due."""
        await self._until(limit_seconds, wait_for_future=True)

    async def _until(self, limit_seconds: float, *, wait_for_future: bool) -> None:
        deadline = self.monotonic() + limit_seconds
        await asyncio.to_thread(io.recover, self.engine, owner=self.owner, now=self.clock())
        while self.monotonic() < deadline:
            started = await self.fill()
            if self._in_flight:
                await asyncio.wait(list(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
                continue
            if started:
                continue
            due = await asyncio.to_thread(io.next_due, self.engine) if wait_for_future else None
            if due is None:
                return
            pause = (due - self.clock()).total_seconds()
            await asyncio.sleep(min(max(pause, 0.01), self.idle_poll))
        raise TimeoutError("deliveries still pending after the time limit")

    async def _send_chain(self, chain: list[Job]) -> None:
        for index, job in enumerate(chain):
            rest = [i for later in chain[index:] for i in later.ids]
            if not await self._wait_turn(job, rest):
                return
            if self.pace is not None:
                await self.pace.acquire()
            ticket = self.limiter.begin(job.external_id, group=job.group, now=self.monotonic())
            started = self.monotonic()
            try:
                outcome = await self.client.send_message(
                    job.external_id, job.text, reply_markup=job.reply_markup
                )
            finally:
                self.limiter.finish(ticket, now=self.monotonic())
            metrics.observe_send(PLATFORM, type(outcome).__name__, self.monotonic() - started)
            if isinstance(outcome, Sent) and not job.ids:
                continue  # a leading part of a multi-message broadcast
            await self._apply(job, rest if not isinstance(outcome, Sent) else job.ids, outcome)
            if not isinstance(outcome, Sent):
                return

    async def _wait_turn(self, job: Job, ids: list[int]) -> bool:
        """Wait until the limiter allows a send; False if the rows went back to the queue."""
        while True:
            delay = self.limiter.wait(job.external_id, group=job.group, now=self.monotonic())
            if delay <= 0:
                return True
            if delay > MAX_HOLD_SECONDS or self.stopping.is_set():
                not_before = self.clock() + timedelta(seconds=delay)
                await asyncio.to_thread(
                    io.release, self.engine, ids=ids, owner=self.owner, not_before=not_before
                )
                return False
            await asyncio.sleep(delay)

    async def _apply(self, job: Job, ids: list[int], outcome: Outcome) -> None:
        now, owner, engine = self.clock(), self.owner, self.engine
        if isinstance(outcome, Sent):
            self.sent += len(ids)
            await asyncio.to_thread(
                io.sent, engine, ids=ids, owner=owner, message_id=outcome.message_id, now=now
            )
        elif isinstance(outcome, RetryAfter):
            self._on_429(job.external_id, outcome)
            not_before = now + timedelta(seconds=outcome.seconds)
            error = f"429: {outcome.reason}"
            await asyncio.to_thread(
                io.release, engine, ids=ids, owner=owner, not_before=not_before, error=error
            )
        elif isinstance(outcome, Transient):
            await asyncio.to_thread(
                io.transient,
                engine,
                ids=ids,
                owner=owner,
                now=now,
                error=outcome.reason,
                max_attempts=self.max_attempts,
                backoff=lambda n: backoff(n, self.backoff_base),
            )
        elif isinstance(outcome, Ambiguous):
            await asyncio.to_thread(
                io.ambiguous, engine, ids=ids, owner=owner, error=outcome.reason
            )
        elif isinstance(outcome, Permanent):
            await asyncio.to_thread(
                io.chat_gone,
                engine,
                ids=ids,
                owner=owner,
                chat_id=job.chat_id,
                reason=outcome.reason,
            )
        elif isinstance(outcome, Rejected):
            await asyncio.to_thread(io.failed, engine, ids=ids, owner=owner, error=outcome.reason)

    def _on_429(self, chat: str, outcome: RetryAfter) -> None:
        now = self.monotonic()
        until = now + outcome.seconds
        self.limiter.pause_chat(chat, until)
        self._recent_429.append((now, chat))
        while self._recent_429 and self._recent_429[0][0] < now - FLOOD_WINDOW:
            self._recent_429.popleft()
        flood = len({c for _t, c in self._recent_429}) >= FLOOD_CHATS
        if outcome.scope == "global" or flood:
            log.warning("global flood control: pausing all sends for %.1f s", outcome.seconds)
            self.limiter.pause_all(until)
