"""The real PTB Application against the fake Bot API over HTTP: every command, both languages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import HttpUrl, SecretStr
from sqlalchemy.engine import Engine

from bot.commands import Services
from bot.flood import RateLimiter
from bot.service import make_health
from bot.settings import Settings
from bot.telegram.channel import SECRET_HEADER, WEBHOOK_PATH, TelegramChannel
from bot.telegram.handlers import BotDeps
from bot.web import MAX_BODY_BYTES, WebServer, bind, make_app
from storage import chats
from storage.db import session_scope
from tests.bot_articles import seed_corpus
from tests.fakes.telegram_api import FakeTelegram, SentMessage

NOW = datetime(2011, 12, 16, 5, 0, tzinfo=UTC)
USER = 1001
SECRET = "s3cret-Header_value"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        # A conversation test, not a limits test: let one chat get quick answers in a row.
        server.limits.private_burst = 50
        yield server
        assert server.errors == []


def settings_for(fake: FakeTelegram, **kw: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(fake.token),
        telegram_api_url=HttpUrl(fake.url),
        listen_host="127.0.0.1",
        listen_port=0,
        **kw,
    )


class Hosted:
    """The channel with its routes on an HTTP server, as bot.service wires them."""

    def __init__(self, channel: TelegramChannel, web: WebServer) -> None:
        self.channel, self.web = channel, web

    async def start(self) -> None:
        await self.web.start()
        await self.channel.start()

    async def stop(self) -> None:
        await self.channel.stop()
        await self.web.stop()


def make_channel(fake: FakeTelegram, engine: Engine, **kw: Any) -> Hosted:
    sock = kw.pop("sock", None)
    limiter = kw.pop("limiter", RateLimiter(burst=10_000))
    services = Services(engine=engine, clock=lambda: NOW, limiter=limiter)
    deps = BotDeps(services, admin_ids=frozenset({USER}))
    channel = TelegramChannel(settings_for(fake, **kw), deps)  # refuses bad settings first
    sock = sock or bind("127.0.0.1", 0)
    app = make_app(health=make_health(engine), routes=channel.routes())
    return Hosted(channel, WebServer(app, sock))


@pytest.fixture
async def bot(fake: FakeTelegram, sqlite_engine: Engine) -> AsyncIterator[Hosted]:
    seed_corpus(sqlite_engine, extra_meetings=25)
    channel = make_channel(fake, sqlite_engine)
    await channel.start()
    yield channel
    await channel.stop()


async def ask(fake: FakeTelegram, text: str, lang: str | None = "vi", chat: int = USER) -> str:
    """Push a message and return the bot's (first) answer as the user sees it."""
    return (await ask_msg(fake, text, lang, chat)).plain_text or ""


async def ask_msg(
    fake: FakeTelegram, text: str, lang: str | None = "vi", chat: int = USER
) -> SentMessage:
    before = len(fake.messages_to(chat))
    fake.push_message(chat, text, language_code=lang)
    sent = await fake.wait_for_messages_async(before + 1, chat_id=chat)
    return sent[before]


async def test_start_and_help_in_both_languages(fake: FakeTelegram, bot: Hosted) -> None:
    assert (await ask(fake, "/start")).startswith("Xin chào! Bot gửi tin mới")
    assert (await ask(fake, "/start", lang="en-US", chat=2002)).startswith("Hello! This bot")
    help_vi = await ask(fake, "/help")
    assert "/search quy chế dân chủ — Tìm bài viết" in help_vi
    assert "/search quy chế dân chủ — Search articles" in await ask(fake, "/help", lang="en")


async def test_command_menu_in_vietnamese_and_english(fake: FakeTelegram, bot: Hosted) -> None:
    vi, en = fake.commands_for("vi"), fake.commands_for("en")
    assert {"command": "latest", "description": "Tin mới nhất (tối đa 20)"} in vi
    assert {"command": "latest", "description": "Newest articles (up to 20)"} in en
    assert fake.commands_for("") == vi


async def test_unknown_command(fake: FakeTelegram, bot: Hosted) -> None:
    assert await ask(fake, "/xyz") == "Không có lệnh /xyz. Gõ /help để xem các lệnh."
    assert await ask(fake, "/xyz", lang="en") == (
        "There is no /xyz command. Send /help to see the commands."
    )


async def test_latest_links_dates_and_no_preview(fake: FakeTelegram, bot: Hosted) -> None:
    msg = await ask_msg(fake, "/latest 3")
    assert msg.parse_mode == "HTML" and msg.previews_disabled
    assert (msg.plain_text or "").startswith("3 tin mới nhất:")
    assert "14/12/2011" in (msg.plain_text or "")
    assert "Cảnh báo mưa lũ <b>&</b> sạt lở đất" in (msg.plain_text or "")
    links = [e["url"] for e in msg.entities if e["type"] == "text_link"]
    assert links[0].endswith("/newsid/00000001") and len(links) == 3
    assert await ask(fake, "/latest abc") == "Số bài phải là một số từ 1 đến 20, ví dụ: /latest 5"
    assert (await ask(fake, "/latest abc", lang="en")).startswith("The number of articles")


async def test_search_bold_terms_paging_and_stale_button(fake: FakeTelegram, bot: Hosted) -> None:
    msg = await ask_msg(fake, "/search hội nghị")
    assert "Kết quả cho “hội nghị”: 26 bài (trang 1/3)" in (msg.plain_text or "")
    assert any(e["type"] == "bold" for e in msg.entities)
    [button] = msg.buttons()
    assert button["text"] == "Trang sau ›" and len(button["callback_data"].encode()) <= 64
    fake.push_callback(USER, msg.message_id, button["callback_data"])
    await fake.wait_until_async(lambda: len(fake.edits) == 1)
    assert "(trang 2/3)" in fake.edits[0]["text"]
    assert len(fake.callback_answers) == 1
    # A button from a list this process no longer knows: a sentence, not silence.
    before = len(fake.messages_to(USER))
    fake.push_callback(USER, msg.message_id, "S:2:unknown-token")
    [expired] = (await fake.wait_for_messages_async(before + 1, chat_id=USER))[before:]
    assert expired.plain_text == "Danh sách này đã hết hạn, hãy gửi lại lệnh."


async def test_long_query_button_fits_and_works(fake: FakeTelegram, bot: Hosted) -> None:
    query = "hội nghị " * 9  # 81 characters: too long to sit in callback data as is
    msg = await ask_msg(fake, f"/search {query}")
    [button] = msg.buttons()
    assert button["callback_data"].startswith("S:")
    fake.push_callback(USER, msg.message_id, button["callback_data"])
    await fake.wait_until_async(lambda: len(fake.edits) == 1)
    assert "(trang 2/3)" in fake.edits[0]["text"]


async def test_hostile_searches(fake: FakeTelegram, bot: Hosted) -> None:
    assert "quá dài" in await ask(fake, "/search " + "chủ " * 1250)
    assert await ask(fake, '/search "NEAR( *') == 'Không tìm thấy bài nào cho “"NEAR( *”.'
    out = await ask(fake, "/search <b>&")
    assert "Cảnh báo mưa lũ <b>&</b> sạt lở đất" in out
    assert "too long" in await ask(fake, "/search " + "x" * 5000, lang="en")


async def test_plain_text_searches_with_a_hint(fake: FakeTelegram, bot: Hosted) -> None:
    out = await ask(fake, "cai cach hanh chinh")
    assert out.startswith("Đang tìm kiếm nội dung bạn gửi. Gõ /help để xem các lệnh.")
    assert "Cải cách hành chính: kết quả năm 2011" in out
    assert (await ask(fake, "cai cach", lang="en")).startswith("Searching for what you sent.")


async def test_date_command(fake: FakeTelegram, bot: Hosted) -> None:
    assert "Tin ngày 16/12/2011: 1 bài" in await ask(fake, "/date 16/12/2011")
    assert "Articles from 14/12/2011 to 16/12/2011: 3" in await ask(
        fake, "/date 14/12/2011-16/12/2011", lang="en"
    )
    bad = await ask(fake, "/date 31/02/2020")
    assert bad.startswith("Ngày này không có trên lịch. Ví dụ: /date")
    assert "does not exist" in await ask(fake, "/date 31/02/2020", lang="en")
    empty = await ask_msg(fake, "/date 10/12/2011")
    assert (empty.plain_text or "").startswith("Không có bài nào ngày 10/12/2011.")
    assert [b["text"] for b in empty.buttons()] == ["01/12/2011", "14/12/2011"]


async def test_subscriptions_in_both_languages(
    fake: FakeTelegram, bot: Hosted, sqlite_engine: Engine
) -> None:
    assert await ask(fake, "/subscribe Quy chế dân chủ") == "Đã đăng ký chủ đề “Quy chế dân chủ”."
    assert await ask(fake, "/subscribe", lang="en") == "Subscribed to every new article."
    listed = await ask(fake, "/subscriptions")
    assert "• Quy chế dân chủ" in listed and "• (mọi tin mới)" in listed
    assert "Your topics:" in await ask(fake, "/subscriptions", lang="en")
    assert await ask(fake, "/unsubscribe quy che dan chu") == "Đã bỏ theo dõi “quy che dan chu”."
    assert await ask(fake, "/unsubscribe all", lang="en") == (
        "Unsubscribed from all topics (removed: 1)."
    )
    assert (await ask(fake, "/unsubscribe")).startswith("Hãy ghi chủ đề hoặc all")


async def test_digest_quiet_lang(fake: FakeTelegram, bot: Hosted, sqlite_engine: Engine) -> None:
    assert await ask(fake, "/digest daily 07:30") == "Sẽ gửi một bản tin mỗi ngày lúc 07:30."
    assert await ask(fake, "/digest now", lang="en") == (
        "Each article will be sent as soon as it is published."
    )
    assert "Giờ không hợp lệ" in await ask(fake, "/digest daily 7:99")
    assert (await ask(fake, "/quiet 22:00-06:00")).startswith("Giờ yên lặng từ 22:00 đến 06:00")
    assert await ask(fake, "/quiet off", lang="en") == "Quiet hours are off."
    assert await ask(fake, "/lang en") == "Language set to English."
    assert await ask(fake, "/lang xx", lang="vi") == "Usage: /lang vi or /lang en"
    assert await ask(fake, "/lang vi") == "Đã chuyển sang tiếng Việt."
    with session_scope(sqlite_engine) as s:
        chat = chats.find_chat(s, platform="telegram", external_id=str(USER))
        assert chat is not None
        assert (chat.language, chat.digest_mode, chat.quiet_start) == ("vi", "instant", None)


async def test_a_flood_gets_one_polite_answer(fake: FakeTelegram, sqlite_engine: Engine) -> None:
    channel = make_channel(fake, sqlite_engine, limiter=RateLimiter(burst=2, per_second=0.01))
    await channel.start()
    try:
        for _ in range(6):
            fake.push_message(USER, "/help")
        await fake.wait_for_messages_async(3, chat_id=USER)
        fake.push_message(USER + 1, "/help")  # another chat is served: the flood is over
        await fake.wait_for_messages_async(1, chat_id=USER + 1)
        texts = fake.texts_to(USER)
        assert len(texts) == 3
        assert sum(t.startswith("Bạn gửi lệnh quá nhanh") for t in texts) == 1
    finally:
        await channel.stop()


async def test_webhook_checks_the_secret_and_serves_healthz(
    fake: FakeTelegram, sqlite_engine: Engine
) -> None:
    seed_corpus(sqlite_engine)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    channel = make_channel(
        fake, sqlite_engine, sock=sock, telegram_webhook_url=url, telegram_webhook_secret=SECRET
    )
    await channel.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            assert health.status_code == 200 and health.json() == {"status": "ok"}
            forged = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/help",
                      "chat": {"id": 666, "type": "private"}}}  # fmt: skip
            for headers in ({}, {SECRET_HEADER: "wrong"}):
                refused = await client.post(WEBHOOK_PATH, json=forged, headers=headers)
                assert refused.status_code == 403
            good = {SECRET_HEADER: SECRET}
            garbled = await client.post(WEBHOOK_PATH, content=b"{not json", headers=good)
            assert garbled.status_code == 400
            huge = b" " * (MAX_BODY_BYTES + 1)
            too_big = await client.post(WEBHOOK_PATH, content=huge, headers=good)
            assert too_big.status_code == 413
            odd = await client.post(WEBHOOK_PATH, json={"message": 5}, headers=good)
            assert odd.status_code == 200  # dropped (logged), so Telegram does not retry it
        # Telegram (the fake) delivers a real update with the right secret.
        assert (await ask(fake, "/latest 1")).startswith("1 tin mới nhất:")
        assert fake.webhook_deliveries and all(s == 200 for _i, s in fake.webhook_deliveries)
        assert fake.messages_to(666) == []
    finally:
        await channel.stop()


async def test_set_my_commands_failure_is_not_fatal(
    fake: FakeTelegram, sqlite_engine: Engine
) -> None:
    fake.fail_next(3, 500, method="setMyCommands")
    channel = make_channel(fake, sqlite_engine)
    await channel.start()
    try:
        assert (await ask(fake, "/start")).startswith("Xin chào!")
    finally:
        await channel.stop()


async def test_a_reply_over_the_chat_limit_waits_and_is_sent(
    fake: FakeTelegram, bot: Hosted
) -> None:
    fake.limits.private_burst = 1  # Telegram's one message per second in one chat
    fake.push_message(USER, "/help")
    fake.push_message(USER, "/latest 1")
    sent = await fake.wait_for_messages_async(2, chat_id=USER)
    assert fake.count_429 >= 1
    assert sent[1].at - sent[0].at >= 0.9


async def test_a_failed_send_is_logged_without_token_and_answered(
    fake: FakeTelegram, bot: Hosted, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next(1, 500)
    assert await ask(fake, "/help") == "Xin lỗi, đã có lỗi khi xử lý yêu cầu. Vui lòng thử lại sau."
    assert "telegram handler failed" in caplog.text
    assert fake.token not in caplog.text and fake.token.split(":")[1] not in caplog.text


async def test_group_chats_answer_commands_only(fake: FakeTelegram, bot: Hosted) -> None:
    group = -100123
    fake.push_message(group, "xin chào mọi người", chat_type="supergroup")
    assert (await ask(fake, "/latest@fake_portal_bot 1", chat=group)).startswith("1 tin mới nhất")
    assert len(fake.texts_to(group)) == 1  # the chatter before the command got no answer


async def test_a_page_that_cannot_be_edited_is_sent_anew(fake: FakeTelegram, bot: Hosted) -> None:
    fake.push_callback(USER, 987654, "s:2:hội nghị")  # no such message to edit
    [page] = await fake.wait_for_messages_async(1, chat_id=USER)
    assert "(trang 2/3)" in (page.plain_text or "")
    assert fake.edits == []


async def test_pressing_the_page_already_shown_sends_no_copy(
    fake: FakeTelegram, bot: Hosted
) -> None:
    msg = await ask_msg(fake, "/search hội nghị")
    fake.push_callback(USER, msg.message_id, "s:1:hội nghị")  # page 1 is what it shows
    after = await ask(fake, "/start")  # answered after the press: one chat, one turn at a time
    assert after.startswith("Xin chào!")
    assert len(fake.callback_answers) == 1 and fake.edits == []


def test_webhook_mode_needs_a_secret(fake: FakeTelegram, sqlite_engine: Engine) -> None:
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        make_channel(fake, sqlite_engine, telegram_webhook_url="https://bot.example.vn/hook")


async def test_answers_keep_the_order_of_questions(fake: FakeTelegram, bot: Hosted) -> None:
    fake.push_message(USER, "/search hội nghị")  # the slowest command first
    fake.push_message(USER, "/lang en")
    fake.push_message(USER, "/help")
    sent = await fake.wait_for_messages_async(3, chat_id=USER)
    assert (sent[0].plain_text or "").startswith("Kết quả cho")
    assert sent[1].plain_text == "Language set to English."
    assert (sent[2].plain_text or "").startswith("Commands (with an example):")


async def test_a_button_nobody_handles_is_answered(fake: FakeTelegram, bot: Hosted) -> None:
    msg = await ask_msg(fake, "/latest 1")
    fake.push_callback(USER, msg.message_id, "zz:old-format-button")
    [answer] = (await fake.wait_for_messages_async(2, chat_id=USER))[1:]
    assert answer.plain_text == "Danh sách này đã hết hạn, hãy gửi lại lệnh."
    assert len(fake.callback_answers) == 1


async def test_groups_ignore_other_bots_commands(fake: FakeTelegram, bot: Hosted) -> None:
    group = -100777
    fake.push_message(group, "/help@some_other_bot", chat_type="supergroup")
    fake.push_message(group, "/weather", chat_type="group")  # not ours: silence, not an error
    assert (await ask(fake, "/help@fake_portal_bot", chat=group)).startswith("Các lệnh")
    assert len(fake.texts_to(group)) == 1
