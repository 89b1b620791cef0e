"""The dispatcher the chaos tests and benchmark run: the service's own, over the fake Bot API."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.telegram.client import TelegramClient
from jobs.delivery.dispatcher import Dispatcher
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import VN


def make_dispatcher(
    engine: Engine, fake: FakeTelegram, *, window: int, rate: float
) -> tuple[Dispatcher, TelegramClient]:
    """A dispatcher sending through a client of the fake Bot API (close the client after)."""
    client = TelegramClient(api_url=fake.url, token=fake.token)
    dispatcher = Dispatcher(
        engine=engine, client=client, tz=VN, global_rate=rate, window=window, idle_poll=0.1
    )
    return dispatcher, client
