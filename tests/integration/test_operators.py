"""Operators: /metrics and /healthz over HTTP (Prometheus text parser), source alarms once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import HttpUrl, SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.commands import Request, Services, handle, press
from bot.flood import RateLimiter
from bot.i18n import alert_words
from bot.service import make_health
from bot.settings import Settings
from bot.telegram.channel import TelegramChannel
from bot.telegram.client import TelegramClient
from bot.telegram.handlers import BotDeps
from bot.telegram.sender import TelegramSender
from bot.watch import watch_once
from bot.web import WebServer, bind, make_app, metrics_route
from jobs import metrics
from jobs.delivery.dispatcher import Dispatcher
from jobs.ingest.fetch import Fetcher
from jobs.scheduler import _poll_job
from storage.articles import save_source_state
from storage.db import session_scope
from storage.models import Broadcast
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import TZ, PortalSite
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.pollworld import NOW, html_source

ADMIN = 1001


@dataclass
class Hosted:
    """The channel and the HTTP server the service would mount its routes on."""

    channel: TelegramChannel
    web: WebServer


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        server.limits.private_burst = 50
        yield server
        assert server.errors == []


@pytest.fixture
async def bot(fake: FakeTelegram, sqlite_engine: Engine) -> AsyncIterator[Hosted]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(fake.token),
        telegram_api_url=HttpUrl(fake.url),
        listen_host="127.0.0.1",
        listen_port=0,
    )
    services = Services(engine=sqlite_engine, limiter=RateLimiter(burst=10_000))
    deps = BotDeps(services, admin_ids=frozenset({ADMIN}))
    channel = TelegramChannel(settings, deps)
    metrics.watch_queue(sqlite_engine)
    app = make_app(health=make_health(sqlite_engine), routes=[metrics_route()])
    web = WebServer(app, bind("127.0.0.1", 0))
    await web.start()
    await channel.start()
    yield Hosted(channel, web)
    await channel.stop()
    await web.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page: (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_and_healthz_over_http(
    fake: FakeTelegram,
    bot: Hosted,
    sqlite_engine: Engine,
    server: FakeHTTPServer,
    site: PortalSite,
) -> None:
    fake.push_message(ADMIN, "/start")
    fake.push_message(ADMIN, "/latest")
    await fake.wait_for_messages_async(2, chat_id=ADMIN)
    async with Fetcher(deadline=5, max_bytes=2_000_000) as fetcher:
        await _poll_job(
            html_source(server),
            fetcher=fetcher,
            engine=sqlite_engine,
            tz=TZ,
            clock=lambda: NOW,
            on_stored=None,
            default_interval=600,
        )
    base = f"http://127.0.0.1:{bot.web.port}"
    async with httpx.AsyncClient() as client:
        health = await client.get(f"{base}/healthz")
        page = await client.get(f"{base}/metrics")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    got = samples(page.text)
    assert got[("portal_command_seconds_count", (("command", "latest"),))] >= 1
    assert got[("portal_polls_total", (("outcome", "ok"), ("source", "portal")))] >= 1
    assert got[("portal_articles_stored_total", (("kind", "new"), ("source", "portal")))] >= 12
    # The queue is read at scrape time: one pending broadcast row shows up.
    svc = bot.channel.app.bot_data["deps"].services
    req = Request("telegram", str(ADMIN), "/broadcast hi", user_id=str(ADMIN), is_admin=True)
    preview = handle(svc, req)
    assert preview is not None
    press(svc, Request("telegram", str(ADMIN), preview.buttons[0][0].data or "", is_admin=True))
    async with httpx.AsyncClient() as client:
        got = samples((await client.get(f"{base}/metrics")).text)
    pending = ("portal_queue_depth", (("platform", "telegram"), ("state", "pending")))
    assert got[pending] == 2  # the broadcast and the admin's progress message
    assert ("portal_queue_oldest_due_seconds", (("platform", "telegram"),)) in got
    sent_key = ("portal_deliveries_total", (("platform", "telegram"), ("state", "sent")))
    before = got.get(sent_key, 0.0)
    async with TelegramClient(api_url=fake.url, token=fake.token) as tg:
        sender = TelegramSender(tg, global_rate=25)
        await Dispatcher(
            engine=sqlite_engine, senders=[sender], tz=TZ, words=alert_words
        ).run_until_idle()
    async with httpx.AsyncClient() as client:
        got = samples((await client.get(f"{base}/metrics")).text)
    assert got[sent_key] == before + 2 and pending not in got
    assert got[("portal_send_seconds_count", (("platform", "telegram"),))] >= 2


def test_source_alarms_once_when_failing_and_once_when_back(engine: Engine) -> None:
    svc = Services(engine=engine, admin_ids=frozenset({"7"}), platforms=("telegram",))
    handle(svc, Request("telegram", "7", "/lang en", user_id="7"))
    failing = {"consecutive_failures": 2, "last_error": "dns", "last_error_at": NOW}
    with session_scope(engine) as s:
        save_source_state(s, name="tinh", values=failing)
    assert watch_once(svc, alarm_failures=3) == 0  # two failures: not yet
    with session_scope(engine) as s:
        save_source_state(s, name="tinh", values={**failing, "consecutive_failures": 3})
    assert watch_once(svc, alarm_failures=3) == 1
    assert watch_once(svc, alarm_failures=3) == 0  # once, not at every round
    with session_scope(engine) as s:
        save_source_state(s, name="tinh", values={"consecutive_failures": 4})
    assert watch_once(svc, alarm_failures=3) == 0
    with session_scope(engine) as s:
        save_source_state(s, name="tinh", values={"consecutive_failures": 0})
    assert watch_once(svc, alarm_failures=3) == 1
    with session_scope(engine) as s:
        save_source_state(s, name="ward", values={"layout_changed": True, "last_item_count": 0})
    assert watch_once(svc, alarm_failures=3) == 1
    with session_scope(engine) as s:
        texts = [b.text for b in s.exec(select(Broadcast).order_by(col(Broadcast.id))).all()]
    assert texts == [
        "⚠️ Source “tinh” failed 3 polls in a row: cannot resolve the host name. See /sources",
        "✅ Source “tinh” works again.",
        "⚠️ Source “ward”: the page layout changed (no articles where there used to be some)."
        " See /sources",
    ]
