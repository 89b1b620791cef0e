"""Group-wide settings through the fake Bot API: getChatMember decides, answers are cached."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.telegram.channel import TelegramChannel
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.test_telegram_bot import make_channel

GROUP = -1_001_234_567_890
OWNER, MEMBER = 501, 502


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        server.limits.private_burst = 50
        server.limits.group_per_minute = 1_000
        yield server
        assert server.errors == []


@pytest.fixture
async def bot(fake: FakeTelegram, sqlite_engine: Engine) -> AsyncIterator[None]:
    channel = make_channel(fake, sqlite_engine)
    await channel.start()
    yield
    await channel.stop()


async def _say(fake: FakeTelegram, text: str, user: int) -> str:
    before = len(fake.messages_to(GROUP))
    fake.push_message(GROUP, text, user_id=user, chat_type="supergroup")
    sent = await fake.wait_for_messages_async(before + 1, chat_id=GROUP)
    return sent[before].plain_text or ""


async def test_only_group_administrators_change_group_settings(
    fake: FakeTelegram, bot: None
) -> None:
    fake.state.chat_admins[GROUP] = {OWNER}
    assert "quản trị viên của nhóm" in await _say(fake, "/digest daily 07:00", MEMBER)
    assert "quản trị viên của nhóm" in await _say(fake, "/unsubscribe all", MEMBER)
    assert "quản trị viên của nhóm" not in await _say(fake, "/digest daily 07:00", OWNER)
    assert "quản trị viên của nhóm" not in await _say(fake, "/quiet 22:00-06:00", OWNER)
    assert fake.state.member_checks.count((GROUP, OWNER)) == 1  # cached between commands
    assert (GROUP, MEMBER) in fake.state.member_checks


async def _updater_running(channel: TelegramChannel) -> None:
    """Returns once long polling runs (the watcher's restart has no event to await)."""
    tick = asyncio.Event()
    while channel.app.updater is None or not channel.app.updater.running:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tick.wait(), 0.05)


async def test_the_update_watcher_restarts_long_polling(
    fake: FakeTelegram, sqlite_engine: Engine
) -> None:
    hosted = make_channel(fake, sqlite_engine)
    channel = hosted.channel
    await hosted.start()
    try:
        assert channel.app.updater is not None
        await channel.app.updater.stop()  # long polling died (a network error PTB gave up on)
        watcher = asyncio.create_task(channel.watch_updates())
        try:
            async with asyncio.timeout(10):
                await _updater_running(channel)
        finally:
            watcher.cancel()
        assert "telegram:updates" in channel.supervised()
        before = len(fake.messages_to(OWNER))
        fake.push_message(OWNER, "/help")
        await fake.wait_for_messages_async(before + 1, chat_id=OWNER)  # updates flow again
    finally:
        await hosted.stop()
