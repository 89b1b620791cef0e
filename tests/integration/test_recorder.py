"""Group commit of accepted sends: several sends, one transaction; a failure reaches each."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from jobs.delivery.recorder import BATCH_ROWS, SentRecorder
from storage import deliveries as q
from storage.db import make_engine, session_scope
from storage.types import utcnow
from tests.integration.deliveryworld import publish, seed_chats, states

OWNER = "w1"


def _claimed(engine: Engine, n: int) -> list[int]:
    seed_chats(engine, n, topic="")
    publish(engine, "Thông báo", now=utcnow())
    with session_scope(engine) as session:
        rows = q.claim_due(
            session, owner=OWNER, now=utcnow(), limit=n, lease_seconds=60, platforms=["telegram"]
        )
    return [r.id for r in rows]


async def test_sends_answered_together_are_recorded_in_one_transaction(engine: Engine) -> None:
    ids = _claimed(engine, BATCH_ROWS)
    recorder = SentRecorder(engine, OWNER, linger=5.0)  # only a full batch ends the wait
    now = utcnow()
    async with asyncio.timeout(2):  # well before the linger: the full batch wrote them
        await asyncio.gather(*(recorder.record([i], f"m{i}", now) for i in ids))
    assert recorder.transactions == 1
    assert states(engine)["sent"] == BATCH_ROWS


async def test_a_lone_send_is_recorded_when_the_linger_ends(engine: Engine) -> None:
    [row] = _claimed(engine, 1)
    recorder = SentRecorder(engine, OWNER, linger=0.01)
    await recorder.record([row], "m1", utcnow())
    assert recorder.transactions == 1
    assert states(engine)["sent"] == 1


async def test_a_database_failure_reaches_every_waiting_send(
    engine: Engine, tmp_path: Path
) -> None:
    ids = _claimed(engine, 2)
    unreachable = make_engine(f"sqlite:///{tmp_path / 'no such folder' / 'x.db'}")
    recorder = SentRecorder(unreachable, OWNER, linger=0.01)
    results = await asyncio.gather(
        *(recorder.record([i], "m", utcnow()) for i in ids), return_exceptions=True
    )
    assert all(isinstance(r, OperationalError) for r in results)
    assert recorder.transactions == 0
    assert states(engine)["sending"] == 2  # still leased: the dispatcher keeps them unrecorded
    unreachable.dispose()
