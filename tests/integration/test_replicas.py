"""Two dispatcher replicas on one PostgreSQL share Telegram's global rate (fake Bot API)."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import (
    db_url_of,
    publish,
    seed_chats,
    start_dispatcher_process,
    states,
    wait_for_db,
)

CHATS = 120
RATE = 25  # TELEGRAM_GLOBAL_RATE of each replica; Telegram (and the fake) allow 30 per second
ALL_SENT_WAIT = 90.0
EXIT_WAIT = 40.0


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def replica(
    engine: Engine, fake: FakeTelegram, tmp_path: Path, n: int, *extra: str
) -> subprocess.Popen[bytes]:
    return start_dispatcher_process(
        db_url_of(engine), api_url=fake.url, token=fake.token, workdir=tmp_path,
        owner=f"replica-{n}", window=8, rate=RATE, extra=extra,
    )  # fmt: skip


def fan_out(engine: Engine, fake: FakeTelegram, tmp_path: Path, *extra: str) -> None:
    """One article to every chat, sent by two replica processes; waits until all are sent."""
    target = states(engine).get("sent", 0) + CHATS
    publish(engine, "Thông báo cho mọi người", now=utcnow(), key=f"k{target}")
    replicas = [replica(engine, fake, tmp_path, n, *extra) for n in (1, 2)]
    try:
        wait_for_db(lambda: states(engine).get("sent", 0) >= target, ALL_SENT_WAIT)
    finally:
        for proc in replicas:
            proc.send_signal(signal.SIGTERM)
        for proc in replicas:
            assert proc.wait(EXIT_WAIT) == 0


def test_two_replicas_together_never_exceed_the_global_rate(
    engine: Engine, fake: FakeTelegram, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas need PostgreSQL")
    seed_chats(engine, CHATS)
    # Baseline in the same run: each replica pacing itself alone sends twice the rate.
    fan_out(engine, fake, tmp_path, "--own-pace")
    baseline_429, baseline_peak = fake.count_429, fake.max_per_window(1.0)
    before = len(fake.sent)
    fan_out(engine, fake, tmp_path)
    shared = fake.sent[before:]
    shared_429 = fake.count_429 - baseline_429
    peak = max(sum(1 for m in shared if s.at <= m.at < s.at + 1.0) for s in shared)
    print(
        f"\n{'two replicas, 25/s each':<30}{'429s':>6}{'max in 1 s':>12}\n"
        f"{'each paced alone (baseline)':<30}{baseline_429:>6}{baseline_peak:>12}\n"
        f"{'shared through PostgreSQL':<30}{shared_429:>6}{peak:>12}"
    )
    assert shared_429 == 0 and peak <= 30
    assert baseline_429 > 0 or baseline_peak > 30  # the test can tell the difference
    per_chat = Counter(m.chat_id for m in shared)
    assert len(per_chat) == CHATS and max(per_chat.values()) == 1
