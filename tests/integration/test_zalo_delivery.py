"""Zalo chats in the delivery core: alerts, broadcasts beside Telegram, token expiry mid
fan-out, the 7-day window, the quota (real Dispatcher, fake Zalo and Telegram servers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.cli_verbs import queue_list
from bot.commands import Request, Services, handle, press
from bot.flood import RateLimiter
from bot.i18n import alert_words
from bot.settings import Settings
from bot.telegram.client import TelegramClient
from bot.telegram.sender import TelegramSender
from bot.zalo.channel import BotPushSender, OAPushSender
from jobs.delivery.dispatcher import Dispatcher
from storage.db import session_scope
from storage.models import Broadcast, Chat, Delivery
from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_oa import WINDOW
from tests.integration.deliveryworld import VN, publish, seed_chats, states
from tests.integration.zaloworld import ZaloWorld, zalo_world


@pytest.fixture
async def world(engine: Engine) -> AsyncIterator[ZaloWorld]:
    async with zalo_world(engine) as w:
        yield w


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def dispatcher(w: ZaloWorld, *extra: object) -> Dispatcher:
    senders = [OAPushSender(w.oa_sender), BotPushSender(w.bot_sender), *extra]
    return Dispatcher(engine=w.engine, senders=senders, tz=VN, words=alert_words)  # type: ignore[arg-type]


BOT_FIRST = 6000  # seed_chats finds rows by external id: keep the surfaces' ids apart


def oa_dispatcher(w: ZaloWorld, *, later: float = 0.0) -> Dispatcher:
    """A dispatcher for the OA; `later` seconds ahead of the wall clock."""
    return Dispatcher(
        engine=w.engine,
        senders=[OAPushSender(w.oa_sender)],
        tz=VN,
        words=alert_words,
        clock=lambda: utcnow() + timedelta(seconds=later),
    )


def zalo_chats(w: ZaloWorld, n: int, *, topic: str = "") -> None:
    """n OA followers (5000..) and n bot-platform chats (6000..), each subscribed to `topic`."""
    seed_chats(w.engine, n, topic=topic, first_ext=5000, platform="zalo")
    seed_chats(w.engine, n, topic=topic, first_ext=BOT_FIRST, platform="zalo_bot")
    for i in range(n):
        w.oa.follow(str(5000 + i))
        w.bot.known_chats.add(str(BOT_FIRST + i))


async def test_a_subscriber_gets_an_alert_on_both_surfaces_and_can_unsubscribe(
    world: ZaloWorld,
) -> None:
    w = world
    zalo_chats(w, 1, topic="quy chế dân chủ")
    publish(w.engine, "Hội nghị triển khai Quy chế dân chủ ở cơ sở", now=utcnow())
    await dispatcher(w).run_until_done(limit_seconds=60)
    assert states(w.engine) == {"sent": 2}
    oa_alert = w.oa.sent[-1]
    assert "Quy chế dân chủ" in oa_alert.text and oa_alert.buttons[0]["payload"].startswith(
        "unsub:"
    )
    bot_alert = w.bot.texts_to(str(BOT_FIRST))[-1]
    assert "Quy chế dân chủ" in bot_alert and "1. " in bot_alert  # the numbered choice
    url = w.url("/zalo/webhook")
    event = w.oa.text_event("5000", oa_alert.buttons[0]["payload"])  # the press
    assert (await asyncio.to_thread(w.oa.post_event, url, event)).status_code == 200
    await w.settle()
    assert "quy chế dân chủ" in w.oa.texts_to("5000")[-1].lower()


async def test_a_broadcast_reaches_telegram_and_zalo_chats_alike(
    world: ZaloWorld, telegram: FakeTelegram
) -> None:
    w = world
    zalo_chats(w, 3)
    seed_chats(w.engine, 3, first_ext=7000)  # Telegram chats
    services = Services(engine=w.engine, tz=VN, limiter=RateLimiter(burst=100))
    ask = Request(
        platform="zalo", chat_id="5000", text="/broadcast Họp khẩn lúc 14h", is_admin=True
    )
    preview = handle(services, ask)
    assert preview is not None and preview.buttons  # nothing is queued before Confirm
    assert states(w.engine) == {}
    confirm = preview.buttons[0][0].data or ""
    assert press(services, Request(platform="zalo", chat_id="5000", text=confirm, is_admin=True))
    async with TelegramClient(api_url=telegram.url, token=telegram.token) as client:
        worker = dispatcher(w, TelegramSender(client, global_rate=25))
        await worker.run_until_done(limit_seconds=60)
    announced = Broadcast.kind == "announcement"
    with session_scope(w.engine) as s:
        ids = set(s.exec(select(Broadcast.id).where(announced)).all())
        rows = s.exec(select(Delivery).where(col(Delivery.broadcast_id).in_(ids))).all()
    assert sorted(r.state for r in rows) == ["sent"] * 9  # besides the author's progress notes
    for n in range(3):
        assert any("Họp khẩn lúc 14h" in m for m in w.oa.texts_to(str(5000 + n)))
        assert any("Họp khẩn lúc 14h" in m for m in w.bot.texts_to(str(BOT_FIRST + n)))
    assert len(telegram.sent) == 3


async def test_token_expiry_mid_fan_out_loses_and_duplicates_nothing(world: ZaloWorld) -> None:
    w = world
    n = 300
    seed_chats(w.engine, n, first_ext=5000, platform="zalo")
    for i in range(n):
        w.oa.follow(str(5000 + i))
    w.oa.expire_tokens_after = 120
    publish(w.engine, "Thông báo của Tỉnh ủy", now=utcnow())
    worker = Dispatcher(
        engine=w.engine, senders=[OAPushSender(w.oa_sender)], tz=VN, words=alert_words
    )
    await worker.run_until_done(limit_seconds=120)
    assert states(w.engine) == {"sent": n}
    assert sorted(m.user_id for m in w.oa.sent) == sorted(str(5000 + i) for i in range(n))
    assert -220 in {code for _u, code in w.oa.errors}
    assert w.oa.refresh_calls == 2  # the first token, and one refresh for the whole fan-out


async def test_outside_the_window_alerts_keep_their_reason_and_come_back_as_a_digest(
    world: ZaloWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    w = world
    seed_chats(w.engine, 1, first_ext=5000, platform="zalo", topic="lũ")
    w.oa.follow("5000", interacted_at=w.clock.now - WINDOW - 3600)
    publish(w.engine, "Cảnh báo lũ trên sông Hương", now=utcnow())
    publish(w.engine, "Lũ đã rút, các trường học mở cửa lại", now=utcnow())
    await dispatcher(w).run_until_done(limit_seconds=60)
    with session_scope(w.engine) as s:
        rows = s.exec(select(Delivery)).all()
        chat = s.exec(select(Chat)).one()
    assert [r.state for r in rows] == ["failed", "failed"]
    assert all("7-day" in (r.error or "") for r in rows)
    assert chat.active and chat.unreachable_reason is not None
    assert len(w.oa.errors) == 1  # the second alert did not cost a call
    url = w.url("/zalo/webhook")
    assert (
        await asyncio.to_thread(w.oa.post_event, url, w.oa.text_event("5000", "tin mới"))
    ).status_code == 200
    await w.settle()
    digest = w.oa.texts_to("5000")[-1]
    assert "2 thông báo" in digest and "Cảnh báo lũ" in digest and "Lũ đã rút" in digest
    services = Services(engine=w.engine, tz=VN, limiter=RateLimiter(burst=100))
    stats = handle(services, Request(platform="zalo", chat_id="x", text="/stats", is_admin=True))
    assert stats is not None and "zalo: offered in a digest: zalo -230" in str(stats.lines)
    url = w.engine.url.render_as_string(hide_password=False)
    assert queue_list(Settings(_env_file=None, database_url=url)) == 0  # type: ignore[call-arg]
    assert "outside the 7-day interaction window" in capsys.readouterr().out


async def test_quota_holds_the_zalo_queue_and_resumes_by_itself(world: ZaloWorld) -> None:
    w = world
    seed_chats(w.engine, 5, first_ext=5000, platform="zalo")
    for i in range(5):
        w.oa.follow(str(5000 + i))
    w.oa.quota = 2
    w.oa_sender.quota_hold_seconds = 1.0
    publish(w.engine, "Thông báo", now=utcnow())
    worker = Dispatcher(
        engine=w.engine, senders=[OAPushSender(w.oa_sender)], tz=VN, words=alert_words
    )
    await worker.run_until_idle(limit_seconds=30)
    assert states(w.engine) == {"sent": 2, "pending": 3}  # held, not lost
    assert len([m for m in w.alarms.told if "quota" in m]) == 1
    w.oa.quota = 100  # the quota resets
    await worker.run_until_done(limit_seconds=60)
    assert states(w.engine) == {"sent": 5}
    assert len([m for m in w.alarms.told if "quota" in m]) == 1  # told once


async def test_replies_and_a_fan_out_share_one_budget_without_429(engine: Engine) -> None:
    from tests.fakes.zalo_bot_api import Limits
    from tests.integration.zaloworld import BOT_SECRET

    async with zalo_world(engine, bot_limits=Limits(global_per_second=22, chat_per_second=5)) as w:
        seed_chats(w.engine, 150, first_ext=BOT_FIRST, platform="zalo_bot")
        w.bot.known_chats.update(str(BOT_FIRST + i) for i in range(150))
        push = BotPushSender(w.bot_sender)
        w.bot_inbound.pacer = push.pacer  # as ZaloBotChannel wires it
        w.bot.webhook = {"url": w.url("/zalo-bot/webhook"), "secret_token": BOT_SECRET}
        publish(w.engine, "Thông báo của Tỉnh ủy", now=utcnow())
        worker = Dispatcher(engine=w.engine, senders=[push], tz=VN, words=alert_words)
        fan_out = asyncio.create_task(worker.run_until_done(limit_seconds=120))
        assert await asyncio.to_thread(w.bot.wait_for_sent, 40)  # mid fan-out
        users = [f"user-{i}" for i in range(20)]
        for user in users:
            update = w.bot.update(user, "trợ giúp")
            assert (await asyncio.to_thread(w.bot.deliver, update)).status_code == 200
        await w.settle()
        assert all(len(w.bot.texts_to(u)) == 1 for u in users)  # every command answered
        await fan_out
        assert states(w.engine) == {"sent": 150}
        assert [code for _m, code, _d in w.bot.rejected] == []  # 0 x 429 in total


async def test_a_refused_refresh_keeps_every_delivery_until_a_new_token(world: ZaloWorld) -> None:
    from bot.zalo.tokens import TokenKeeper

    w = world
    seed_chats(w.engine, 3, first_ext=5000, platform="zalo")
    for i in range(3):
        w.oa.follow(str(5000 + i))
    for token in w.oa.live_refresh_tokens():  # the stored token was spent elsewhere
        w.oa.refresh_tokens[token] = (w.oa.refresh_tokens[token][0], True)
    publish(w.engine, "Thông báo", now=utcnow())
    await oa_dispatcher(w).run_until_idle(limit_seconds=30)
    assert states(w.engine) == {"pending": 3}  # nothing lost, nothing failed
    assert "zalo-token" in w.alarms.active and w.oa.sent == []
    fixed = TokenKeeper(  # the admin pastes a new ZALO_REFRESH_TOKEN and restarts
        w.engine,
        app_id=w.oa.app_id,
        app_secret=w.oa.app_secret,
        oauth_url=w.oa.url,
        first_refresh_token=w.oa.issue_refresh_token(),
        clock=w.clock.dt,
    )
    fixed.seed()
    w.oa_sender.keeper = fixed
    # A refused account stops its platform until the restart; the restarted dispatcher sends.
    await oa_dispatcher(w).run_until_done(limit_seconds=30)
    assert states(w.engine) == {"sent": 3} and len(w.oa.sent) == 3
    assert "zalo-token" not in w.alarms.active
