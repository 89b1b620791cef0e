"""Zalo fan-out through the real dispatcher, both surfaces, beside Telegram's, in one table.

Each platform fans one article out to BENCH_ZALO_CHATS chats (default 1,000) against its fake
server, which enforces the platform's limit; the dispatcher paces by the sender's declared
limits. The OA's access token expires half-way (one refresh, nothing lost or sent twice).
Fails on any rate-limit answer, on a chat missed or served twice, or when a surface reaches
less than 85% of its sender's configured rate.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bot.i18n import alert_words
from bot.telegram.client import TelegramClient
from bot.telegram.sender import TelegramSender
from bot.zalo.channel import BotPushSender, OAPushSender
from jobs.delivery.dispatcher import Dispatcher
from storage.db import make_engine, upgrade
from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_bot_api import Limits
from tests.integration.deliveryworld import VN, publish, seed_chats, states
from tests.integration.zaloworld import zalo_world

CHATS = int(os.environ.get("BENCH_ZALO_CHATS", "1000"))
TELEGRAM_RATE = 25.0  # TELEGRAM_GLOBAL_RATE default
TELEGRAM_LIMIT = 30.0
ZALO_BOT_LIMITS = Limits(global_per_second=30, chat_per_second=5)  # the fake's enforced pace

Row = tuple[str, float, float, float, int, int]


async def _fan_out(engine: Engine, sender: Any) -> float:
    worker = Dispatcher(engine=engine, senders=[sender], tz=VN, words=alert_words)
    began = time.perf_counter()
    await worker.run_until_done(limit_seconds=CHATS * 2 + 120)
    return time.perf_counter() - began


def _engine(tmp: Path, name: str, platform: str) -> Engine:
    engine = make_engine(f"sqlite:///{tmp / name}.db")
    upgrade(engine)
    seed_chats(engine, CHATS, first_ext=5000, platform=platform)
    publish(engine, "Thông báo của Tỉnh ủy", now=utcnow())
    return engine


def _rate(times: list[float]) -> float:
    times = sorted(times)
    return (len(times) - 1) / (times[-1] - times[0])


async def _telegram(tmp: Path) -> Row:
    engine = _engine(tmp, "tg", "telegram")
    with FakeTelegram() as fake:
        async with TelegramClient(api_url=fake.url, token=fake.token) as client:
            await _fan_out(engine, TelegramSender(client, global_rate=TELEGRAM_RATE))
        assert states(engine) == {"sent": CHATS}
        assert len({m.chat_id for m in fake.sent}) == CHATS == len(fake.sent)
        achieved = _rate([m.at for m in fake.sent])
        return ("Telegram (baseline)", TELEGRAM_RATE, TELEGRAM_LIMIT, achieved,
                fake.count_429, len(fake.sent))  # fmt: skip


async def _zalo_bot(tmp: Path) -> Row:
    engine = _engine(tmp, "zb", "zalo_bot")
    async with zalo_world(engine, bot_limits=ZALO_BOT_LIMITS) as w:
        w.bot.known_chats.update(str(5000 + i) for i in range(CHATS))
        sender = BotPushSender(w.bot_sender)
        await _fan_out(engine, sender)
        assert states(engine) == {"sent": CHATS}
        assert len({s.chat_id for s in w.bot.sent}) == CHATS == len(w.bot.sent)
        limited = sum(1 for _m, code, _d in w.bot.rejected if code == 429)
        return ("Zalo bot (Bot Platform)", sender.limits.global_rate,
                ZALO_BOT_LIMITS.global_per_second, _rate([s.at for s in w.bot.sent]),
                limited, len(w.bot.sent))  # fmt: skip


async def _zalo_oa(tmp: Path) -> Row:
    engine = _engine(tmp, "oa", "zalo")
    async with zalo_world(engine) as w:
        for i in range(CHATS):
            w.oa.follow(str(5000 + i))
        w.oa.expire_tokens_after = CHATS // 2  # the access token dies mid fan-out
        sender = OAPushSender(w.oa_sender)
        await _fan_out(engine, sender)
        assert states(engine) == {"sent": CHATS}
        assert len({m.user_id for m in w.oa.sent}) == CHATS == len(w.oa.sent)  # none lost/twice
        assert w.oa.refresh_calls == 2 and -220 in {code for _u, code in w.oa.errors}
        limited = sum(1 for _u, code in w.oa.errors if code == -32)
        return ("Zalo OA (token expires at 50%)", sender.limits.global_rate, w.oa.per_minute / 60,
                _rate([m.at for m in w.oa.sent]), limited, len(w.oa.sent))  # fmt: skip


def test_bench_zalo(tmp_path: Path) -> None:
    async def run() -> list[Row]:
        return [await _telegram(tmp_path), await _zalo_bot(tmp_path), await _zalo_oa(tmp_path)]

    rows = asyncio.run(run())
    print(f"\nFan-out: {CHATS} chats per platform, one article, SQLite queue, real dispatcher")
    head = ("platform", "configured/s", "fake limit/s", "achieved/s", "of configured",
            "rate-limited", "sent")  # fmt: skip
    print(" | ".join(f"{h:>13}" if i else f"{h:<30}" for i, h in enumerate(head)))
    for name, configured, limit, achieved, limited, sent in rows:
        cells = [f"{configured:.1f}", f"{limit:.1f}", f"{achieved:.2f}",
                 f"{achieved / configured:.1%}", str(limited), str(sent)]  # fmt: skip
        print(" | ".join([f"{name:<30}", *(f"{c:>13}" for c in cells)]))
    for name, configured, limit, achieved, limited, sent in rows:
        assert limited == 0, name
        assert sent == CHATS, name
        assert achieved >= 0.85 * configured, name
        assert achieved <= limit * 1.05, name
