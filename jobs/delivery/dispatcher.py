"""The dispatcher loop: claims due deliveries, sends each through its platform's sender
within that sender's limits, records outcomes (jobs.delivery.outbound draws them).

It claims only rows of platforms that have a sender here; other platforms' rows stay pending.
Wired by the composition root (bot.service) or run as a process (`python -m bot.worker`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from jobs import metrics
from jobs.delivery import queue_steps as io
from jobs.delivery.alerts import WordsFor
from jobs.delivery.compose import Job
from jobs.delivery.outbound import (
    Ambiguous,
    ConfigurationError,
    Outcome,
    PermanentFailure,
    Recipient,
    RecipientGone,
    RetryAfter,
    Sender,
    Sent,
    TemporaryFailure,
)
from jobs.delivery.pace import SharedPace
from jobs.delivery.pacing import YIELD_SECONDS, RateLimiter
from jobs.delivery.recorder import SentRecorder
from storage.types import utcnow

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 16  # rows in flight at once: the most a crash can duplicate
# Claim when at least this share of the window is free: one transaction for several rows
# (claiming each freed place at once made ~100 claims a second during a 100/s fan-out).
CLAIM_SHARE = 0.5
DEFAULT_LEASE_SECONDS = 120.0  # longer than any send can take (see client time-outs)
DEFAULT_MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0
IDLE_POLL_SECONDS = 1.0
HOUSEKEEPING_SECONDS = 60.0
REMEMBER_SECONDS = 61.0  # the longest limiter window (20 per minute per group) and a margin
MAX_HOLD_SECONDS = 3.0  # a row waiting longer for the limiter goes back to the queue
FLOOD_CHATS = 3  # 429s for this many chats within FLOOD_WINDOW means a global flood
FLOOD_WINDOW = 1.0
STOP_GRACE_SECONDS = 30.0


def limiter_for(sender: Sender) -> RateLimiter:
    """The limiter that paces one platform: the sender's own `pacer` when it has one (an
    account whose replies to commands spend from the same budget), else one built from its
    declared limits."""
    pacer = getattr(sender, "pacer", None)
    if isinstance(pacer, RateLimiter):
        return pacer
    limits = sender.limits
    return RateLimiter(
        global_rate=limits.global_rate,
        private_interval=limits.chat_interval,
        group_per_minute=limits.group_per_minute,
    )


def backoff(attempts: int, base: float = BACKOFF_BASE_SECONDS) -> float:
    """Seconds before retry number `attempts` (1, 2, ...): doubling, capped."""
    return float(min(BACKOFF_CAP_SECONDS, base * 2 ** max(0, attempts - 1)))


def _done_well(task: asyncio.Task[None]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is None)


def default_owner() -> str:
    """A lease owner name unique to this process."""
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Dispatcher:
    """Sends queued deliveries through each platform's limiter and sender, `window` rows at a
    time."""

    def __init__(
        self,
        *,
        engine: Engine,
        senders: Iterable[Sender],
        tz: ZoneInfo,
        words: WordsFor,
        owner: str | None = None,
        window: int = DEFAULT_WINDOW,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = BACKOFF_BASE_SECONDS,
        retention_days: int = 30,
        idle_poll: float = IDLE_POLL_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        limiters: Mapping[str, RateLimiter] | None = None,
        paces: Mapping[str, SharedPace] | None = None,
        on_alarm: Callable[[str, str], None] | None = None,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.engine, self.tz, self.words = engine, tz, words
        self.senders: dict[str, Sender] = {s.platform: s for s in senders}
        if not self.senders:
            raise ValueError("a dispatcher needs at least one sender")
        given = limiters or {}
        self.limiters = {p: given.get(p) or limiter_for(s) for p, s in self.senders.items()}
        # Several replicas: each platform's global rate shared through the database.
        self.paces = dict(paces or {})
        self.owner = owner or default_owner()
        self.window, self.lease_seconds = window, lease_seconds
        self.max_attempts, self.backoff_base = max_attempts, backoff_base
        self.retention_days, self.idle_poll = retention_days, idle_poll
        # Expired leases (a dead replica's rows) are looked for twice per lease period.
        self.housekeeping_every = min(HOUSEKEEPING_SECONDS, lease_seconds / 2)
        self.clock, self.monotonic = clock, monotonic
        self.stopping = asyncio.Event()
        self._recent_429: dict[str, deque[tuple[float, str]]] = {}
        self._in_flight: dict[asyncio.Task[None], int] = {}
        self.sent = 0
        self._remembered = False  # the recent sends are counted once, at the first start
        # A platform that refuses the account (401/404: wrong or revoked token) is sent to no
        # more until the service restarts with a good one; its rows stay pending.
        self.refused: dict[str, str] = {}
        self.on_alarm, self.heartbeat = on_alarm, heartbeat
        # Sends the platform accepted but the database could not record (it was down):
        # recorded first when the loop runs again, so they are not sent twice.
        self._unrecorded: list[io.SentRecord] = []
        self.recorder = SentRecorder(engine, self.owner)

    @property
    def platforms(self) -> list[str]:
        """The platforms this dispatcher claims rows for (none that refused the account)."""
        return sorted(p for p in self.senders if p not in self.refused)

    async def aclose(self) -> None:
        """Close every sender."""
        for sender in self.senders.values():
            await sender.aclose()

    def stop(self) -> None:
        """Ask the loop to finish in-flight sends and return."""
        self.stopping.set()

    async def _start(self) -> None:
        """Inherit the recent sends' budget, then requeue what a previous run left in flight.

        After a kill -9 the previous process may have sent a full second's worth a moment
        ago, and its in-flight rows may have reached their chats: counting them keeps a
        restart from exceeding Telegram's windows (it got 1-3 x 429 before).
        """
        if not self._remembered:
            self._remembered = True
            await self._remember_recent_sends()
        await asyncio.to_thread(io.recover, self.engine, owner=self.owner, now=self.clock())

    async def _remember_recent_sends(self) -> None:
        sends = await asyncio.to_thread(
            io.recent_sends,
            self.engine,
            now=self.clock(),
            seconds=REMEMBER_SECONDS,
            platforms=self.platforms,
        )
        now = self.monotonic()
        for platform, chat, group, ago in sends:
            self.limiters[platform].remember(chat, group=group, at=now - max(0.0, ago))

    async def run(self) -> None:
        """Claim and send until stopped; rows a previous run of this owner held are requeued.

        A database failure ends the run with its exception (the supervisor restarts it): the
        rows in flight stay leased to this owner and are requeued by the next run, after the
        sends the platform accepted meanwhile are recorded.
        """
        await self._record_unrecorded()
        await self._start()
        stop_wait = asyncio.ensure_future(self.stopping.wait())
        next_housekeeping = 0.0
        try:
            while not self.stopping.is_set():
                if self.heartbeat is not None:
                    self.heartbeat()
                self._raise_failed_sends()
                if self.monotonic() >= next_housekeeping:
                    await asyncio.to_thread(
                        io.housekeeping, self.engine, now=self.clock(), days=self.retention_days
                    )
                    next_housekeeping = self.monotonic() + self.housekeeping_every
                # A claim is 5-8 ms of the interpreter (composing the rows' messages) that a
                # person's command would share: it waits while pushes step aside anyway.
                people = self._people_first()
                if not people:
                    await self.fill()
                # Wake when a send finishes (a slot frees), on stop, or to look for due rows;
                # soon, when the claim waited for a person. Only sends still running: one that
                # has finished would end the wait at once, and the loop would spin, holding the
                # interpreter from the very command it waits for (replies took 1.03 s).
                await asyncio.wait(
                    [*self._running(), stop_wait],
                    timeout=YIELD_SECONDS if people else self.idle_poll,
                    return_when=asyncio.FIRST_COMPLETED,
                )
        finally:
            stop_wait.cancel()
            await self.drain()

    def _people_first(self) -> bool:
        """True while a platform's pushes step aside for a person being answered."""
        now = self.monotonic()
        return any(limiter.yielding(now) for limiter in self.limiters.values())

    def _raise_failed_sends(self) -> None:
        """Re-raise the first exception of a finished send (the database failed under it)."""
        failed = [t for t in self._in_flight if t.done() and not _done_well(t)]
        for task in failed:
            del self._in_flight[task]
        if failed:
            raise failed[0].exception()  # type: ignore[misc]

    async def _record_unrecorded(self) -> None:
        if self._unrecorded:
            await asyncio.to_thread(
                io.sent_many, self.engine, records=self._unrecorded, owner=self.owner
            )
            self._unrecorded = []

    def _running(self) -> dict[asyncio.Task[None], int]:
        """The in-flight sends still running, and failed ones (run() raises their error);
        the ones that finished well are forgotten."""
        self._in_flight = {t: n for t, n in self._in_flight.items() if not _done_well(t)}
        return self._in_flight

    async def fill(self) -> int:
        """Claim rows up to the in-flight window and start their sends; how many started."""
        self._running()
        free = self.window - sum(self._in_flight.values())
        if free <= 0 or self.stopping.is_set() or not self.platforms:
            return 0
        if self._in_flight and free < max(1, int(self.window * CLAIM_SHARE)):
            return 0  # rows are still waiting their turn: claim when more places free
        plan = await asyncio.to_thread(
            io.claim_and_compose,
            self.engine,
            owner=self.owner,
            now=self.clock(),
            limit=free,
            lease_seconds=self.lease_seconds,
            tz=self.tz,
            platforms=self.platforms,
            words=self.words,
        )
        payloads: dict[tuple[str, int], list[object] | Exception] = {}  # per Reply object
        for chain in plan.jobs:
            rows = sum(len(job.ids) for job in chain)
            task = asyncio.create_task(self._send_chain(chain, self._render(chain, payloads)))
            self._in_flight[task] = max(rows, 1)
        return len(plan.jobs)

    async def drain(self) -> None:
        """Wait for in-flight sends to finish (bounded), so no reply goes unrecorded."""
        tasks = [t for t in self._in_flight if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
        for task in self._in_flight:  # their failures were reported by run(); retrieve them
            if task.done() and not task.cancelled():
                task.exception()

    async def run_until_idle(self, *, limit_seconds: float = 60.0) -> None:
        """Send until nothing is due now and nothing is in flight (tests, one-shot runs)."""
        await self._until(limit_seconds, wait_for_future=False)

    async def run_until_done(self, *, limit_seconds: float = 600.0) -> None:
        """Send until no row is pending at all, sleeping until rows held for later are due."""
        await self._until(limit_seconds, wait_for_future=True)

    async def _until(self, limit_seconds: float, *, wait_for_future: bool) -> None:
        deadline = self.monotonic() + limit_seconds
        await self._start()
        while self.monotonic() < deadline:
            self._raise_failed_sends()
            started = await self.fill()
            if self._in_flight:
                await asyncio.wait(list(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
                continue
            if started:
                continue
            due = None
            if wait_for_future:
                due = await asyncio.to_thread(io.next_due, self.engine, platforms=self.platforms)
            if due is None:
                return
            pause = (due - self.clock()).total_seconds()
            await asyncio.sleep(min(max(pause, 0.01), self.idle_poll))
        raise TimeoutError("deliveries still pending after the time limit")

    def _render(
        self, chain: list[Job], cache: dict[tuple[str, int], list[object] | Exception]
    ) -> list[list[object] | Exception]:
        """Each job's payloads, rendered by its platform's sender; a reply shared by many jobs
        (a broadcast) is rendered once per batch."""
        out = []
        for job in chain:
            key = (job.platform, id(job.reply))
            if key not in cache:
                try:
                    cache[key] = self.senders[job.platform].render(job.reply)
                except Exception as exc:  # a reply the platform cannot show: fail its rows
                    log.exception("cannot render delivery %s for %s", job.ids, job.platform)
                    cache[key] = exc
            out.append(cache[key])
        return out

    async def _send_chain(self, chain: list[Job], rendered: list[list[object] | Exception]) -> None:
        for index, (job, payloads) in enumerate(zip(chain, rendered, strict=True)):
            rest = [i for later in chain[index:] for i in later.ids]
            if isinstance(payloads, Exception):
                reason = f"render error: {type(payloads).__name__}: {payloads}"[:300]
                await self._apply(job, job.ids, PermanentFailure(reason))
                continue
            if not payloads:
                await self._apply(job, job.ids, PermanentFailure("nothing to send"))
                continue
            sender, limiter = self.senders[job.platform], self.limiters[job.platform]
            recipient = Recipient(external_id=job.external_id, group=job.group)
            outcome: Outcome = Sent("")
            for payload in payloads:
                if not await self._wait_turn(job, rest):
                    return
                pace = self.paces.get(job.platform)
                if pace is not None:
                    await pace.acquire()
                ticket = limiter.begin(job.external_id, group=job.group, now=self.monotonic())
                started = self.monotonic()
                try:
                    outcome = await sender.send(recipient, payload)
                finally:
                    limiter.finish(ticket, now=self.monotonic())
                elapsed = self.monotonic() - started
                metrics.observe_send(job.platform, type(outcome).__name__, elapsed)
                if not isinstance(outcome, Sent):
                    break
            await self._apply(job, rest if not isinstance(outcome, Sent) else job.ids, outcome)
            if not isinstance(outcome, Sent):
                return

    async def _wait_turn(self, job: Job, ids: list[int]) -> bool:
        """Wait until the limiter allows a send; False if the rows went back to the queue."""
        limiter = self.limiters[job.platform]
        while True:
            delay = limiter.wait(job.external_id, group=job.group, now=self.monotonic())
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
            try:
                await self.recorder.record(ids, outcome.message_id, now)
            except Exception:
                self._unrecorded.append((ids, outcome.message_id, now))
                raise
        elif isinstance(outcome, RetryAfter):
            self._on_429(job.platform, job.external_id, outcome)
            not_before = now + timedelta(seconds=outcome.seconds)
            error = f"429: {outcome.reason}"
            await asyncio.to_thread(
                io.release, engine, ids=ids, owner=owner, not_before=not_before, error=error
            )
        elif isinstance(outcome, TemporaryFailure):
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
        elif isinstance(outcome, RecipientGone):
            await asyncio.to_thread(
                io.chat_gone,
                engine,
                ids=ids,
                owner=owner,
                chat_id=job.chat_id,
                reason=outcome.reason,
            )
        elif isinstance(outcome, PermanentFailure):
            await asyncio.to_thread(io.failed, engine, ids=ids, owner=owner, error=outcome.reason)
        elif isinstance(outcome, ConfigurationError):
            if job.platform not in self.refused:
                self.refused[job.platform] = outcome.reason
                log.critical(
                    "ALARM: %s refuses this account (%s): sends stopped until the service is"
                    " restarted with a valid token; pending rows are kept",
                    job.platform,
                    outcome.reason,
                )
                if self.on_alarm is not None:
                    self.on_alarm(job.platform, outcome.reason)
            error = f"configuration: {outcome.reason}"
            await asyncio.to_thread(
                io.release, engine, ids=ids, owner=owner, not_before=now, error=error
            )

    def _on_429(self, platform: str, chat: str, outcome: RetryAfter) -> None:
        now = self.monotonic()
        until = now + outcome.seconds
        limiter = self.limiters[platform]
        limiter.pause_chat(chat, until)
        recent = self._recent_429.setdefault(platform, deque())
        recent.append((now, chat))
        while recent and recent[0][0] < now - FLOOD_WINDOW:
            recent.popleft()
        flood = len({c for _t, c in recent}) >= FLOOD_CHATS
        if outcome.scope == "global" or flood:
            log.warning("%s flood control: pausing all sends for %.1f s", platform, outcome.seconds)
            limiter.pause_all(until)
