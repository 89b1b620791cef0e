"""The shared send budget: replicas reserving at once get slots that never exceed the rate."""

from __future__ import annotations

import threading
import time

from sqlalchemy.engine import Engine

from storage.db import make_engine, session_scope
from storage.pacing import reserve


def test_slots_follow_each_other_at_the_rate(engine: Engine) -> None:
    with session_scope(engine) as s:
        first = reserve(s, platform="telegram", rate=20, n=5)
    with session_scope(engine) as s:
        second = reserve(s, platform="telegram", rate=20, n=1)
    with session_scope(engine) as s:
        other = reserve(s, platform="zalo", rate=20, n=1)
    assert first.delay < 0.05 and first.interval == 0.05
    assert 0.15 < second.delay <= 0.25  # after the five slots of the first reservation
    assert other.delay < 0.05  # each platform has its own budget


def test_two_replicas_together_stay_within_the_rate(engine: Engine) -> None:
    """Two engines (as two processes would have) reserve 40 slots each at 50/s."""
    starts: list[float] = []
    lock = threading.Lock()
    url = engine.url.render_as_string(hide_password=False)

    def replica() -> None:
        own = make_engine(url)
        try:
            for _ in range(40):
                with session_scope(own) as s:
                    slots = reserve(s, platform="telegram", rate=50, n=1)
                with lock:
                    starts.append(time.monotonic() + slots.delay)
        finally:
            own.dispose()

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    starts.sort()
    assert len(starts) == 80
    # At 50/s the 80 slots span at least 1.5 s, and no 1-second window holds more than 51
    # (the clock readings of the two threads add a little jitter, never a second's worth).
    assert starts[-1] - starts[0] >= 1.5
    assert max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts) <= 52


async def test_two_paces_on_one_database_send_at_the_rate_together(engine: Engine) -> None:
    """Two SharedPace objects (two replicas' worth) taking 30 slots each at 40/s."""
    import asyncio

    from jobs.delivery.pace import SharedPace

    url = engine.url.render_as_string(hide_password=False)
    other = make_engine(url)
    times: list[float] = []

    async def sender(pace: SharedPace) -> None:
        for _ in range(30):
            await pace.acquire()
            times.append(time.monotonic())

    try:
        paces = [SharedPace(engine, rate=40), SharedPace(other, rate=40)]
        await asyncio.gather(*(sender(p) for p in paces))
    finally:
        other.dispose()
    times.sort()
    assert times[-1] - times[0] >= 59 / 40 - 0.1  # 60 sends at 40/s together, not 80/s
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) <= 42
