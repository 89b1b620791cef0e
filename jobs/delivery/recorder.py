"""Group commit: the sends a platform accepted are recorded several to one transaction.

During a fan-out at 100/s one transaction per send kept a worker thread busy and competed
for the interpreter with people's commands (bench_bot, commands during a fan-out). A send
is recorded at most LINGER_SECONDS after its answer, or at once when BATCH_ROWS are waiting;
its task stays in the dispatcher's window until then, so a crash still duplicates at most
one window of rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from sqlalchemy.engine import Engine

from jobs.delivery import queue_steps as io

LINGER_SECONDS = 0.05
BATCH_ROWS = 8

Waiter = tuple[io.SentRecord, asyncio.Future[None]]


class SentRecorder:
    """Records accepted sends (ids, message id, time) for one lease owner, in batches."""

    def __init__(
        self,
        engine: Engine,
        owner: str,
        *,
        linger: float = LINGER_SECONDS,
        batch: int = BATCH_ROWS,
    ) -> None:
        self.engine, self.owner = engine, owner
        self.linger, self.batch = linger, batch
        self.transactions = 0  # for tests and benchmarks: how many commits it took
        self._waiting: list[Waiter] = []
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def record(self, ids: list[int], message_id: str, now: datetime) -> None:
        """Return once the rows are recorded as sent; raise what the database raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(((ids, message_id, now), done))
        if len(self._waiting) >= self.batch:
            self._full.set()
        if self._task is None:
            self._task = asyncio.create_task(self._flush(), name="record-sent")
        await done

    async def _flush(self) -> None:
        batch: list[Waiter] = []
        try:
            while self._waiting:
                with contextlib.suppress(TimeoutError):  # the linger ended: write what came
                    await asyncio.wait_for(self._full.wait(), self.linger)
                batch, self._waiting = self._waiting, []
                self._full.clear()
                try:
                    await asyncio.to_thread(
                        io.sent_many, self.engine, records=[r for r, _ in batch], owner=self.owner
                    )
                except Exception as exc:  # each waiting send keeps its own record (unrecorded)
                    _settle(batch, exc)
                else:
                    self.transactions += 1
                    _settle(batch, None)
                batch = []
        finally:
            self._task = None
            for _, done in batch + self._waiting:  # cancelled (shutdown): nobody is recorded
                done.cancel()
            self._waiting = []


def _settle(batch: list[Waiter], error: Exception | None) -> None:
    for _, done in batch:
        if done.done():  # its send was cancelled meanwhile
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
