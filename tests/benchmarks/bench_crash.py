"""kill -9 a real dispatcher process during a 1,000-chat fan-out, restart it, count the damage.

Lost must be 0; duplicated is bounded by the in-flight window (rows claimed but unanswered);
429s must be 0: the restarted process counts the sends of the last minute and the rows the
killed one left in flight before it sends anything.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from storage.db import make_engine, upgrade
from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import (
    publish,
    seed_chats,
    start_dispatcher_process,
    states,
    wait_for_db,
)

CHATS = 1000
WINDOWS = (4, 16)
RATE = 25.0
EXIT_WAIT = 30.0
DONE_WAIT = CHATS / RATE * 3 + 60


def crash_once(tmp_path: Path, window: int, kill_after: int) -> dict[str, Any]:
    """One fan-out killed after `kill_after` accepted messages; the counts."""
    url = f"sqlite:///{tmp_path / f'crash-{window}.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_chats(engine, CHATS)
    publish(engine, "Cảnh báo mưa lớn", now=utcnow())
    with FakeTelegram() as fake:

        def launch() -> subprocess.Popen[bytes]:
            return start_dispatcher_process(
                url, api_url=fake.url, token=fake.token, workdir=tmp_path, owner=f"w{window}",
                window=window, rate=RATE,
            )  # fmt: skip

        first = launch()
        fake.wait_for_messages(kill_after, timeout=DONE_WAIT)
        first.send_signal(signal.SIGKILL)
        first.wait(EXIT_WAIT)
        at_kill = len(fake.sent)
        in_flight = states(engine)["sending"]
        restarted = time.perf_counter()
        second = launch()
        try:
            wait_for_db(lambda: states(engine) == {"sent": CHATS}, DONE_WAIT, every=0.2)
            recovery_s = time.perf_counter() - restarted
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(EXIT_WAIT)
        per_chat = Counter(m.chat_id for m in fake.sent)
        count_429 = fake.count_429
    engine.dispose()
    return {
        "window": window,
        "at_kill": at_kill,
        "in_flight": in_flight,
        "lost": CHATS - len(per_chat),
        "duplicated": sum(n - 1 for n in per_chat.values()),
        "recovery_s": recovery_s,
        "count_429": count_429,
    }


@pytest.mark.timeout(900)
def test_bench_crash(tmp_path: Path) -> None:
    rng = random.Random(5)
    rows = [crash_once(tmp_path, w, rng.randrange(CHATS // 5, CHATS // 2)) for w in WINDOWS]
    print(f"\nkill -9 during a {CHATS}-chat fan-out at {RATE:.0f}/s, restart under the same name")
    print(f"{'window':>6} | {'sent at kill':>12} | {'rows in flight':>14} | {'lost':>4} | "
          f"{'duplicated':>10} | {'finish after restart s':>22} | {'429s':>4}")  # fmt: skip
    for r in rows:
        print(f"{r['window']:>6} | {r['at_kill']:>12} | {r['in_flight']:>14} | "
              f"{r['lost']:>4} | {r['duplicated']:>10} | {r['recovery_s']:>22.1f} | "
              f"{r['count_429']:>4}")  # fmt: skip
    for r in rows:
        assert r["lost"] == 0
        assert r["duplicated"] <= r["window"]
        assert r["count_429"] == 0  # the restart counts what the killed process just sent
