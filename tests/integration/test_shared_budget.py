"""One budget per bot account: 300 people send a command each during a 2,000-chat fan-out
against the fake Bot API (Telegram's limits on): every command is answered, no 429 at all."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import HttpUrl, SecretStr

from bot.commands import Services
from bot.flood import RateLimiter
from bot.i18n import alert_words
from bot.settings import Settings
from bot.telegram.channel import TelegramChannel
from bot.telegram.handlers import BotDeps
from jobs.delivery.dispatcher import Dispatcher
from storage.db import make_engine, upgrade
from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import VN, publish, seed_chats, states

FAN_OUT = 2000
ASKERS = 300
FIRST_ASKER = 500_000
ANSWER_SECONDS = 60.0


async def test_commands_during_a_fan_out_are_all_answered_without_a_429(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'budget.db'}")
    upgrade(engine)
    seed_chats(engine, FAN_OUT, topic="lũ")
    publish(engine, "Cảnh báo lũ khẩn cấp", now=utcnow())
    with FakeTelegram() as fake:  # Telegram's limits: 30/s overall, 1/s per private chat
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=SecretStr(fake.token),
            telegram_api_url=HttpUrl(fake.url),
            telegram_global_rate=25,
        )
        services = Services(engine=engine, tz=VN, limiter=RateLimiter(burst=10))
        channel = TelegramChannel(settings, BotDeps(services))
        sender = channel.sender()
        dispatcher = Dispatcher(words=alert_words, engine=engine, senders=[sender], tz=VN)
        pushing = asyncio.create_task(dispatcher.run())
        await channel.start()
        try:
            await fake.wait_for_messages_async(50, timeout=30)  # the fan-out is under way
            askers = [FIRST_ASKER + i for i in range(ASKERS)]
            for chat in askers:
                fake.push_message(chat, "/unsubscribe all", language_code="en")
            async with asyncio.timeout(ANSWER_SECONDS):
                for chat in askers:
                    [reply] = await fake.wait_for_messages_async(1, chat_id=chat)
                    assert reply.plain_text == "Unsubscribed from all topics (removed: 0)."
            pushed = len(fake.sent) - ASKERS
        finally:
            dispatcher.stop()
            await asyncio.wait_for(pushing, 40)
            await channel.stop()
            await sender.aclose()
        assert fake.count_429 == 0
        assert all(len(fake.messages_to(chat)) == 1 for chat in askers)
        assert pushed >= 50 and states(engine)["sent"] >= 50  # pushes went on meanwhile
        assert fake.errors == []
    engine.dispose()
