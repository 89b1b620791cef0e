"""Long-running tasks under supervision: a failure is logged at once, retried with back-off,
and every task's state is there for /healthz to report.

A task is a coroutine factory: the supervisor runs it, and when it raises (or returns while
the service is not stopping) logs the traceback immediately, waits base * 2**(n-1) seconds
(capped; reset after a stable run) and starts it again. An exception of a `fatal` class is
a configuration error (a revoked bot token): the task stops for good with an alarm at
CRITICAL and its state says so; retrying it would only hide the problem.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from storage.types import utcnow

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
STABLE_SECONDS = 60.0  # a run this long resets the back-off

RUNNING, BACKING_OFF, FAILED, STOPPED = "running", "backing_off", "failed", "stopped"
STALLED = "stalled"  # running, but silent for longer than its stall bound (a hung call)


class ConfigurationError(Exception):
    """A failure no retry can fix (wrong or revoked credentials): stop and raise the alarm."""


@dataclass(frozen=True)
class TaskState:
    """What /healthz says about one supervised task."""

    name: str
    state: str = RUNNING  # running | backing_off | failed (configuration) | stopped
    restarts: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    retry_at: datetime | None = None
    stall_after: float | None = None  # seconds without beat() that mean "hung"
    last_beat: float | None = None  # monotonic time of the last beat()

    @property
    def healthy(self) -> bool:
        """Running (or stopped on purpose)."""
        return self.state in (RUNNING, STOPPED)

    def as_json(self) -> dict[str, object]:
        """The state as JSON values."""
        return {
            "task": self.name,
            "state": self.state,
            "restarts": self.restarts,
            "error": self.last_error,
            "error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
        }


def backoff(failures: int, base: float, cap: float) -> float:
    """Seconds before restart number `failures` (1, 2, ...): doubling from base, capped."""
    return float(min(cap, base * 2 ** min(max(0, failures - 1), 30)))


@dataclass
class Supervisor:
    """Runs named tasks, restarts them on failure, and keeps their states."""

    backoff_base: float = BACKOFF_BASE_SECONDS
    backoff_cap: float = BACKOFF_CAP_SECONDS
    stable_seconds: float = STABLE_SECONDS
    clock: Callable[[], datetime] = utcnow
    monotonic: Callable[[], float] = time.monotonic
    states: dict[str, TaskState] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # set on every state change

    def spawn(
        self,
        name: str,
        factory: Callable[[], Awaitable[None]],
        *,
        fatal: tuple[type[BaseException], ...] = (ConfigurationError,),
        stall_after: float | None = None,
    ) -> asyncio.Task[None]:
        """Start `factory()` under supervision as task `name`; with `stall_after`, the task
        must call beat(name) at least that often or it is reported stalled."""
        self._set(TaskState(name, stall_after=stall_after))
        task = asyncio.create_task(self._watch(name, factory, fatal), name=f"supervised:{name}")
        self._tasks[name] = task
        return task

    def _set(self, state: TaskState) -> None:
        self.states[state.name] = state
        self.changed.set()

    def alarm(self, name: str, error: str) -> None:
        """A part that stopped for good on a configuration error (a refused bot token)."""
        old = self.states.get(name, TaskState(name))
        self._set(replace(old, state=FAILED, last_error=error[:500], last_error_at=self.clock()))

    async def cancel(self, name: str) -> None:
        """Stop one task now (its owner is going away), marking it stopped."""
        task = self._tasks.pop(name, None)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if name in self.states:
            self._set(replace(self.states[name], state=STOPPED, retry_at=None))

    def report(self, name: str, *, error: str | None) -> None:
        """A periodic job's outcome (a scheduler run): failing until a run succeeds."""
        old = self.states.get(name, TaskState(name))
        if error is None:
            self._set(replace(old, state=RUNNING, retry_at=None))
        else:
            self._set(replace(old, state=BACKING_OFF, last_error=error, last_error_at=self.clock()))

    def beat(self, name: str) -> None:
        """The task `name` is alive and making progress (its loop calls this each round)."""
        state = self.states.get(name)
        if state is not None:
            self.states[name] = replace(state, last_beat=self.monotonic())

    def current(self) -> list[TaskState]:
        """Every task's state; a running task silent beyond its stall bound shows "stalled"."""
        now = self.monotonic()
        out = []
        for state in self.states.values():
            stalled = (
                state.state == RUNNING
                and state.stall_after is not None
                and state.last_beat is not None
                and now - state.last_beat > state.stall_after
            )
            out.append(replace(state, state=STALLED) if stalled else state)
        return out

    def unhealthy(self) -> list[TaskState]:
        """The tasks that are not running: backing off after a failure, failed for good, or
        stalled (no beat within their bound)."""
        return [s for s in self.current() if not s.healthy]

    async def _watch(
        self,
        name: str,
        factory: Callable[[], Awaitable[None]],
        fatal: tuple[type[BaseException], ...],
    ) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = self.monotonic()
            self._set(replace(self.states[name], state=RUNNING, retry_at=None, last_beat=started))
            try:
                await factory()
                if self._stopping.is_set():
                    break
                error: str = "exited without being asked to stop"
                log.error("task %s %s; restarting", name, error)
            except asyncio.CancelledError:
                raise
            except fatal as exc:
                message = f"{type(exc).__name__}: {exc}"
                log.critical("task %s stopped: configuration error: %s", name, message)
                self._set(
                    replace(
                        self.states[name],
                        state=FAILED,
                        last_error=message,
                        last_error_at=self.clock(),
                    )
                )
                return
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                log.exception("task %s failed; restarting with back-off", name)
            if self.monotonic() - started >= self.stable_seconds:
                failures = 0
            failures += 1
            delay = backoff(failures, self.backoff_base, self.backoff_cap)
            now = self.clock()
            self._set(
                replace(
                    self.states[name],
                    state=BACKING_OFF,
                    restarts=self.states[name].restarts + 1,
                    last_error=error,
                    last_error_at=now,
                    retry_at=now + timedelta(seconds=delay),
                )
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        self._set(replace(self.states[name], state=STOPPED, retry_at=None))

    async def stop(self, grace: float = 35.0) -> None:
        """Ask every task to stop (the factories watch their own stop events), then wait."""
        self._stopping.set()
        tasks = [t for t in self._tasks.values() if not t.done()]
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)

    @property
    def stopping(self) -> asyncio.Event:
        """Set when the service is stopping; tasks end their loops on it."""
        return self._stopping
