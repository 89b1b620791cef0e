"""Both Zalo channels wired on a real HTTP server, against the fake Zalo servers (tests)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from bot.commands import Services
from bot.flood import RateLimiter
from bot.web import WebServer, bind
from bot.zalo.alarms import Alarms
from bot.zalo.bot_client import ZaloBotClient
from bot.zalo.inbound import Inbound
from bot.zalo.oa_client import ZaloOAClient
from bot.zalo.render import ChoiceMemory
from bot.zalo.senders import BOT_PLATFORM, OA_PLATFORM, ZaloBotSender, ZaloOASender
from bot.zalo.tokens import TokenKeeper
from bot.zalo.webhooks import EventQueue, bot_webhook_route, oa_webhook_route
from tests.fakes.zalo_bot_api import FakeZaloBot, Limits
from tests.fakes.zalo_oa import FakeZaloOA

BOT_SECRET = "zalo-bot-webhook-secret"


class Clock:
    """One clock for the fake OA (epoch seconds) and our side (aware datetimes)."""

    def __init__(self) -> None:
        self.now = time.time()

    def epoch(self) -> float:
        return self.now

    def dt(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    def ms(self) -> int:
        return int(self.now * 1000)


@dataclass
class ZaloWorld:
    """Everything a Zalo test talks to."""

    engine: Engine
    clock: Clock
    oa: FakeZaloOA
    bot: FakeZaloBot
    keeper: TokenKeeper
    alarms: Alarms
    oa_sender: ZaloOASender
    bot_sender: ZaloBotSender
    oa_inbound: Inbound
    bot_inbound: Inbound
    oa_queue: EventQueue
    bot_queue: EventQueue
    web: WebServer

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web.port}{path}"

    async def settle(self) -> None:
        """Wait until every queued webhook event was handled."""
        await self.oa_queue.join()
        await self.bot_queue.join()


@contextlib.asynccontextmanager
async def zalo_world(
    engine: Engine, *, oa_per_minute: int = 4000, bot_limits: Limits | None = None
) -> AsyncIterator[ZaloWorld]:
    """Fakes, clients, senders, inbound halves and webhooks on 127.0.0.1."""
    clock = Clock()
    with (
        FakeZaloOA(clock=clock.epoch, per_minute=oa_per_minute) as oa,
        FakeZaloBot(limits=bot_limits or Limits(global_per_second=200, chat_per_second=50)) as bot,
    ):
        keeper = TokenKeeper(
            engine,
            app_id=oa.app_id,
            app_secret=oa.app_secret,
            oauth_url=oa.url,
            first_refresh_token=oa.issue_refresh_token(),
            clock=clock.dt,
        )
        keeper.seed()
        alarms = Alarms()
        oa_client, bot_client = (
            ZaloOAClient(api_url=oa.url),
            ZaloBotClient(token=bot.token, api_url=bot.url),
        )
        oa_choices, bot_choices = ChoiceMemory(), ChoiceMemory()
        oa_sender = ZaloOASender(
            oa_client, keeper, engine=engine, alarms=alarms, choices=oa_choices, clock=clock.dt
        )
        bot_sender = ZaloBotSender(bot_client, bot_choices)
        services = Services(engine=engine, clock=clock.dt, limiter=RateLimiter(burst=10**6))
        oa_inbound = Inbound(
            services,
            oa_sender,
            choices=oa_choices,
            on_reachable=oa_sender.reachable_again,
            clock=clock.dt,
        )
        bot_inbound = Inbound(services, bot_sender, choices=bot_choices, clock=clock.dt)
        oa_queue, bot_queue = EventQueue(oa_inbound.take), EventQueue(bot_inbound.take)
        app = Starlette(
            routes=[
                bot_webhook_route(secret=BOT_SECRET, queue=bot_queue, platform=BOT_PLATFORM),
                oa_webhook_route(
                    app_id=oa.app_id,
                    oa_secret_key=oa.oa_secret_key,
                    queue=oa_queue,
                    platform=OA_PLATFORM,
                    now_ms=clock.ms,
                ),
            ]
        )
        web = WebServer(app, bind("127.0.0.1", 0))
        await web.start()
        oa_queue.start()
        bot_queue.start()
        try:
            yield ZaloWorld(
                engine, clock, oa, bot, keeper, alarms, oa_sender, bot_sender,
                oa_inbound, bot_inbound, oa_queue, bot_queue, web,
            )  # fmt: skip
        finally:
            await oa_queue.stop()
            await bot_queue.stop()
            await web.stop()
            await oa_client.aclose()
            await bot_client.aclose()
