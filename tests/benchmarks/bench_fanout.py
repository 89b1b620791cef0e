"""Fan-out of one article to many chats through the fake Bot API with Telegram's limits.

Checks (issue 5): zero 429s, no 1-second window above the limit, achieved rate at least 90%
of the configured rate; the total time is printed beside the theoretical minimum.
BENCH_FANOUT_CHATS (default 10,000) shortens a trial run.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from bot.i18n import alert_words
from bot.telegram.client import TelegramClient
from bot.telegram.sender import TelegramSender
from jobs.delivery.dispatcher import DEFAULT_WINDOW, Dispatcher
from storage.db import make_engine, upgrade
from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import VN, publish, seed_chats, states

CHATS = int(os.environ.get("BENCH_FANOUT_CHATS", "10000"))
RATE = 25.0  # TELEGRAM_GLOBAL_RATE default
TELEGRAM_LIMIT = 30  # messages per second across chats


@pytest.mark.timeout(CHATS / RATE * 2 + 300)
def test_bench_fanout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fanout.db'}")
    upgrade(engine)
    seed_chats(engine, CHATS)
    started = time.perf_counter()
    publish(engine, "Thông báo của Tỉnh ủy", now=utcnow())
    enqueue_s = time.perf_counter() - started
    with FakeTelegram() as fake:

        async def fan_out() -> float:
            async with TelegramClient(api_url=fake.url, token=fake.token) as client:
                worker = Dispatcher(
                    words=alert_words,
                    engine=engine,
                    senders=[TelegramSender(client, global_rate=RATE)],
                    tz=VN,
                )
                began = time.perf_counter()
                await worker.run_until_done(limit_seconds=CHATS / RATE * 2 + 60)
                return time.perf_counter() - began

        elapsed = asyncio.run(fan_out())
        sent = fake.sent
        count_429, max_1s = fake.count_429, fake.max_per_window(1.0)
        first, last = sent[0].at, sent[-1].at
    engine_states = states(engine)
    engine.dispose()
    minimum = (CHATS - 1) / RATE  # the first message goes at t=0
    achieved = (len(sent) - 1) / (last - first)
    print(f"\nFan-out: {CHATS} chats, one article, configured {RATE:.0f}/s, SQLite queue")
    print(f"{'measure':<34} | {'value':>10}")
    for name, value in [
        ("enqueue (match + insert) s", f"{enqueue_s:.2f}"),
        ("total send time s", f"{elapsed:.1f}"),
        ("theoretical minimum s", f"{minimum:.1f}"),
        ("achieved rate msg/s", f"{achieved:.2f}"),
        ("achieved / configured", f"{achieved / RATE:.1%}"),
        ("max messages in any 1 s window", f"{max_1s}"),
        ("HTTP 429 answers", f"{count_429}"),
        ("in-flight window (rows)", f"{DEFAULT_WINDOW}"),
    ]:
        print(f"{name:<34} | {value:>10}")
    assert engine_states == {"sent": CHATS}
    assert len({m.chat_id for m in sent}) == CHATS == len(sent)
    assert count_429 == 0
    assert max_1s <= min(RATE, TELEGRAM_LIMIT)
    assert achieved >= 0.9 * RATE
