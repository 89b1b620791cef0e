"""Admins end to end: the real PTB Application, dispatcher and watch against the fake Bot API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from pydantic import HttpUrl, SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.commands import ADMIN_COMMANDS, Request, Services, handle, press
from bot.commands.router import ADMIN_BUTTONS
from bot.flood import RateLimiter
from bot.i18n import alert_words
from bot.settings import Settings
from bot.telegram.channel import TelegramChannel
from bot.telegram.client import TelegramClient
from bot.telegram.handlers import BotDeps
from bot.telegram.sender import TelegramSender
from bot.watch import progress_once, watch_once
from jobs.delivery.dispatcher import Dispatcher
from storage.db import session_scope
from storage.models import Broadcast
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.integration.deliveryworld import VN, publish, seed_chats, states, wait_for_db

ADMIN, USER, OTHER = 1001, 2002, 3003
REFUSED = "Lệnh này chỉ dành cho quản trị viên."


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        server.limits.private_burst = 50  # a conversation, not a limits test
        yield server
        assert server.errors == []


def services(engine: Engine, **kw: Any) -> Services:
    return Services(
        engine=engine,
        limiter=RateLimiter(burst=10_000),
        admin_ids=frozenset({str(ADMIN)}),
        platforms=("telegram",),
        **kw,
    )


@pytest.fixture
async def bot(fake: FakeTelegram, sqlite_engine: Engine) -> AsyncIterator[TelegramChannel]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(fake.token),
        telegram_api_url=HttpUrl(fake.url),
        telegram_admin_ids=[ADMIN],
        listen_host="127.0.0.1",
        listen_port=0,
    )
    deps = BotDeps(services(sqlite_engine), admin_ids=frozenset({ADMIN}))
    channel = TelegramChannel(settings, deps)
    await channel.start()
    yield channel
    await channel.stop()


@pytest.fixture
async def client(fake: FakeTelegram) -> AsyncIterator[TelegramClient]:
    tg = TelegramClient(api_url=fake.url, token=fake.token, timeout=httpx.Timeout(2.0))
    yield tg
    await tg.aclose()


async def ask(fake: FakeTelegram, chat: int, text: str, lang: str = "vi") -> SentMessage:
    before = len(fake.messages_to(chat))
    fake.push_message(chat, text, language_code=lang)
    return (await fake.wait_for_messages_async(before + 1, chat_id=chat))[before]


async def deliver(engine: Engine, client: TelegramClient, rate: float = 25) -> None:
    sender = TelegramSender(client, global_rate=rate)
    dispatcher = Dispatcher(engine=engine, senders=[sender], tz=VN, words=alert_words)
    await dispatcher.run_until_idle()


def menu(fake: FakeTelegram, chat: int | None, lang: str = "") -> list[str]:
    scope = {"type": "default"} if chat is None else {"type": "chat", "chat_id": chat}
    found = fake.commands.get((json.dumps(scope, sort_keys=True), lang), [])
    return [c["command"] for c in found]


async def test_admin_menus_refusals_and_a_confirmed_broadcast_with_report(
    fake: FakeTelegram, bot: TelegramChannel, sqlite_engine: Engine, client: TelegramClient
) -> None:
    assert "broadcast" not in menu(fake, None) and "latest" in menu(fake, None)
    assert {"broadcast", "stats", "sources", "admin", "latest"} <= set(menu(fake, ADMIN, "en"))
    for chat in (ADMIN, USER, OTHER):
        await ask(fake, chat, "/start")
    # A non-admin: every admin command and every admin button payload is refused.
    for name in ADMIN_COMMANDS:
        for args in ("", " status", " add 2002", " pending", " cancel", " hello"):
            assert (await ask(fake, USER, f"/{name}{args}")).plain_text == REFUSED
    shown = await ask(fake, USER, "/help")
    for prefix in ADMIN_BUTTONS:
        before = len(fake.messages_to(USER))
        fake.push_callback(USER, shown.message_id, f"{prefix}1")
        [answer] = (await fake.wait_for_messages_async(before + 1, chat_id=USER))[before:]
        assert answer.plain_text == REFUSED
    # The admin: a preview, nothing queued; Confirm queues it once.
    preview = await ask(fake, ADMIN, "/broadcast Họp lúc 8 giờ\nPhòng <2>", lang="en")
    assert (preview.plain_text or "").startswith("Preview of the announcement to 3 chats:")
    confirm, cancel = (b["callback_data"] for b in preview.buttons())
    assert states(sqlite_engine) == {}
    fake.push_callback(ADMIN, preview.message_id, cancel[:-1] + "999", language_code="en")
    fake.push_callback(ADMIN, preview.message_id, confirm, language_code="en")
    await fake.wait_until_async(lambda: any("queued" in e["text"] for e in fake.edits))
    fake.push_callback(ADMIN, preview.message_id, confirm, language_code="en")
    await fake.wait_until_async(lambda: any("already" in e["text"] for e in fake.edits))
    assert states(sqlite_engine) == {"pending": 4}  # the 3 chats and the progress message
    await deliver(sqlite_engine, client)
    assert fake.texts_to(OTHER)[-1] == "Họp lúc 8 giờ\nPhòng <2>"
    progress = fake.messages_to(ADMIN)[-1]  # queued with the broadcast, sent before it ends
    assert progress.plain_text == (
        "Announcement #1: sent 0, failed 0, unreachable 0, left 3; about 1 s to go."
    )  # in the language the admin wrote the broadcast in
    # The final report reaches the admin once; the progress message shows the end.
    svc = bot.app.bot_data["deps"].services
    svc.edit_message = bot.edit_message  # as the service wires its watch to the channels
    assert watch_once(svc, alarm_failures=3) == 1
    assert watch_once(svc, alarm_failures=3) == 0
    texts: dict[int, str] = {}
    assert await asyncio.to_thread(progress_once, svc, texts) == 1
    assert await asyncio.to_thread(progress_once, svc, texts) == 0  # unchanged: no edit
    [last] = [e for e in fake.edits if e["message_id"] == progress.message_id]
    assert last["text"] == "Announcement #1 finished: sent 3, failed 0, unreachable 0, left 0."
    await deliver(sqlite_engine, client)
    report = fake.texts_to(ADMIN)[-1]
    assert report == "Report of announcement #1: sent 3, failed 0, unreachable 0, left 0."
    # /admin add shows the admin menu to the new admin; remove takes it away.
    assert (await ask(fake, ADMIN, "/admin add 3003")).plain_text == "Đã thêm quản trị viên 3003."
    await fake.wait_until_async(lambda: "broadcast" in menu(fake, OTHER, "vi"))
    assert (await ask(fake, OTHER, "/broadcast status")).plain_text != REFUSED
    await ask(fake, ADMIN, "/admin remove 3003")
    await fake.wait_until_async(lambda: menu(fake, OTHER, "vi") == [])
    assert (await ask(fake, OTHER, "/stats")).plain_text == REFUSED


async def test_approval_mode_from_request_to_alert(
    fake: FakeTelegram, bot: TelegramChannel, sqlite_engine: Engine, client: TelegramClient
) -> None:
    svc = bot.app.bot_data["deps"].services
    await ask(fake, ADMIN, "/start")
    svc.access_mode = "approval"
    waiting = await ask(fake, USER, "/start", lang="en")
    assert (waiting.plain_text or "").startswith("Thank you! An administrator must approve")
    assert (await ask(fake, USER, "/subscribe")).plain_text == waiting_vi()
    await deliver(sqlite_engine, client)
    request = fake.messages_to(ADMIN)[-1]
    assert request.plain_text == "Yêu cầu dùng bot mới: Cán bộ (telegram 2002)"
    approve = request.buttons()[0]["callback_data"]
    fake.push_callback(ADMIN, request.message_id, approve)
    await fake.wait_until_async(lambda: any("Đã duyệt" in e["text"] for e in fake.edits))
    await deliver(sqlite_engine, client)
    assert fake.texts_to(USER)[-1].startswith("Quản trị viên đã duyệt cuộc trò chuyện này.")
    assert (await ask(fake, USER, "/subscribe dân chủ")).plain_text == (
        "Đã đăng ký chủ đề “dân chủ”."
    )
    await ask(fake, OTHER, "/subscribe dân chủ")  # pending: nothing stored, nothing sent
    publish(sqlite_engine, "Quy chế dân chủ ở cơ sở", now=svc.clock())
    await deliver(sqlite_engine, client)
    assert "Quy chế dân chủ ở cơ sở" in fake.texts_to(USER)[-1]
    assert all("Quy chế dân chủ ở cơ sở" not in t for t in fake.texts_to(OTHER))


def waiting_vi() -> str:
    return (
        "Cảm ơn bạn! Quản trị viên cần duyệt cuộc trò chuyện này trước khi bot trả lời và gửi "
        "tin. Bạn sẽ nhận được thông báo khi được duyệt."
    )


async def test_broadcast_to_1000_chats_some_unreachable_cancelled_half_way(
    fake: FakeTelegram, engine: Engine, client: TelegramClient
) -> None:
    fake.limits.global_per_second = 400
    svc = services(engine)
    seed_chats(engine, 1000, first_ext=10_000)
    for ext in range(10_000, 10_100, 10):  # ten chats blocked the bot
        fake.block(ext)
    admin = Request("telegram", str(ADMIN), "/start", user_id=str(ADMIN))
    await asyncio.to_thread(handle, svc, admin)
    reply = await asyncio.to_thread(
        handle, svc, Request(**{**admin.__dict__, "text": "/broadcast x"})
    )
    assert reply is not None
    confirm = reply.buttons[0][0].data or ""
    assert confirm.startswith("bc:ok:")
    await asyncio.to_thread(press, svc, replace(admin, text=confirm))
    sender = TelegramSender(client, global_rate=300)
    dispatcher = Dispatcher(engine=engine, senders=[sender], tz=VN, words=alert_words, window=50)
    running = asyncio.create_task(dispatcher.run())
    try:
        await fake.wait_until_async(lambda: len(fake.sent) >= 300, timeout=30)
        svc.edit_message = lambda _p, chat, message_id, text: edit(fake, chat, message_id, text)
        shown: dict[int, str] = {}
        assert await asyncio.to_thread(progress_once, svc, shown) == 1
        midway = fake.edits[-1]["text"]
        assert midway.startswith("Thông báo #1: đã gửi ") and "còn khoảng" in midway
        await fake.wait_until_async(lambda: len(fake.sent) >= 500, timeout=30)
        cancel = replace(admin, text="/broadcast cancel")
        stopped = await asyncio.to_thread(handle, svc, cancel)
        assert stopped is not None and "Đã dừng" in stopped.lines[0][0].text
        # The rows in flight when it was cancelled finish; nothing else is sent.
        await asyncio.to_thread(
            wait_for_db, lambda: not ({"pending", "sending"} & set(+states(engine))), 30
        )
    finally:
        dispatcher.stop()
        await running
    with session_scope(engine) as s:
        [row] = s.exec(select(Broadcast).where(Broadcast.kind == "announcement")).all()
        assert row.audience == 1001  # every seeded chat and the admin's own
    assert watch_once(svc, alarm_failures=3) == 1
    with session_scope(engine) as s:
        [row] = s.exec(select(Broadcast).where(Broadcast.kind == "announcement")).all()
        sent, failed, unreachable, left = row.sent, row.failed, row.unreachable, row.left
    got = states(engine)
    # The fake also accepted the progress message, sent first.
    assert sent + 1 == got["sent"] == len(fake.sent) and 500 <= sent < 1001
    assert unreachable == got["failed"] <= 10 and failed == 0
    assert sent + unreachable + left == 1001 and left == got["cancelled"] > 0
    assert got["pending"] == 1 and got["sending"] == 0  # only the report is left to send
    await deliver(engine, client)
    report = fake.texts_to(ADMIN)[-1]
    assert report == (
        f"Báo cáo thông báo #{row.id}: đã gửi {sent}, lỗi 0, "
        f"không liên lạc được {unreachable}, còn lại {left}."
    )


def edit(fake: FakeTelegram, chat: str, message_id: str, text: str) -> None:
    """editMessageText on the fake, as a channel's edit hook would call it."""
    url = f"{fake.url}/bot{fake.token}/editMessageText"
    body = {"chat_id": int(chat), "message_id": int(message_id), "text": text}
    httpx.post(url, json=body, timeout=5).raise_for_status()
