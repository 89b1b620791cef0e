"""A revoked token stops sends with an alarm (no retry loop); a send the database could not
record is recorded when it is back, not sent again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.i18n import alert_words
from bot.telegram.client import TelegramClient
from bot.telegram.sender import TelegramSender
from jobs.delivery.dispatcher import Dispatcher
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import VN, Clock, publish, seed_chats, states


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def client(fake: FakeTelegram) -> AsyncIterator[TelegramClient]:
    tg = TelegramClient(api_url=fake.url, token=fake.token)
    yield tg
    await tg.aclose()


def _dispatcher(engine: Engine, client: TelegramClient, clock: Clock, **kw: object) -> Dispatcher:
    sender = TelegramSender(client, global_rate=100)
    return Dispatcher(words=alert_words, engine=engine, senders=[sender], tz=VN, clock=clock,
                      idle_poll=0.05, **kw)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize("status", [401, 404])
async def test_a_refused_token_stops_sends_with_an_alarm(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, status: int
) -> None:
    clock = Clock(now=None)  # type: ignore[arg-type]
    clock.local(25, 10)
    seed_chats(engine, 5)
    publish(engine, "Thông báo", now=clock.now)
    alarms: list[tuple[str, str]] = []
    fake.fail_next(1_000, status=status)
    worker = _dispatcher(engine, client, clock, on_alarm=lambda p, why: alarms.append((p, why)))
    await worker.run_until_idle(limit_seconds=10)
    await worker.run_until_idle(limit_seconds=10)  # a second round tries nothing
    refused = [c for c in fake.calls if c == ("sendMessage", status)]
    assert 1 <= len(refused) <= 5  # the rows already in flight, then no more
    assert "telegram" in worker.refused
    assert alarms and alarms[0][0] == "telegram"
    assert worker.platforms == []  # nothing more is claimed for it: no retry loop
    assert states(engine) == {"pending": 5}  # kept for a restart with a good token
