"""The fake Bot API itself: spec checks, HTML parsing, limits, updates, webhook, faults, PTB."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_http import Request, Response, ThreadedHttpServer

CLIENT_TIMEOUT = 10.0


class ManualClock:
    """The fake's clock for limit tests: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server
        assert server.errors == []


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def timed_fake(clock: ManualClock) -> Iterator[FakeTelegram]:
    with FakeTelegram(clock=clock) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def http() -> Iterator[httpx.Client]:
    """One keep-alive client for the raw calls (a new client per call costs ~50 ms)."""
    with httpx.Client(timeout=CLIENT_TIMEOUT) as client:
        _client.append(client)
        yield client
        _client.clear()


_client: list[httpx.Client] = []


def call(fake: FakeTelegram, method: str, **params: Any) -> httpx.Response:
    """One raw Bot API call with a JSON body."""
    return _client[0].post(f"{fake.base_url}{fake.token}/{method}", json=params)


def description(resp: httpx.Response) -> str:
    return str(resp.json()["description"])


# ----- routing and spec checks ---------------------------------------------------------------
def test_unknown_method_is_404(fake: FakeTelegram) -> None:
    resp = call(fake, "sendTelepathy", chat_id=1)
    assert resp.status_code == 404
    assert resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_method_names_are_case_insensitive_like_telegram(fake: FakeTelegram) -> None:
    assert call(fake, "GETME").json()["result"]["username"] == "fake_portal_bot"


def test_unknown_token_is_401_and_malformed_token_404(fake: FakeTelegram) -> None:
    unknown = httpx.post(f"{fake.base_url}999:other-token/getMe", timeout=CLIENT_TIMEOUT)
    assert unknown.status_code == 401
    assert unknown.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    malformed = httpx.post(f"{fake.base_url}not-a-token/getMe", timeout=CLIENT_TIMEOUT)
    assert malformed.status_code == 404


def test_missing_chat_id_is_400(fake: FakeTelegram) -> None:
    resp = call(fake, "sendMessage", text="xin chào")
    assert resp.status_code == 400
    assert description(resp) == "Bad Request: chat_id is empty"


def test_missing_text_is_400_message_text_is_empty(fake: FakeTelegram) -> None:
    resp = call(fake, "sendMessage", chat_id=1)
    assert (resp.status_code, description(resp)) == (400, "Bad Request: message text is empty")
    assert fake.sent == []


def test_missing_required_field_of_any_method_is_400(fake: FakeTelegram) -> None:
    resp = call(fake, "setChatTitle", chat_id=-5)
    assert (resp.status_code, description(resp)) == (400, "Bad Request: title is empty")
    assert call(fake, "setChatTitle", chat_id=-5, title="Ban Tuyên giáo").json()["result"] is True


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"chat_id": 1, "text": "x", "disable_notification": "maybe"}, "disable_notification"),
        ({"chat_id": 1, "text": "x", "message_thread_id": "abc"}, "message_thread_id"),
        ({"chat_id": 1, "text": "x", "reply_markup": "{not json"}, "reply_markup"),
        (
            {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"url": "x"}]]}},
            "text",
        ),
    ],
)
def test_wrong_types_are_400(fake: FakeTelegram, params: dict[str, Any], expected: str) -> None:
    resp = call(fake, "sendMessage", **params)
    assert resp.status_code == 400
    assert expected in description(resp)
    assert fake.sent == []


def test_string_chat_id_that_is_not_a_username_is_chat_not_found(fake: FakeTelegram) -> None:
    resp = call(fake, "sendMessage", chat_id="abc", text="x")
    assert description(resp) == "Bad Request: chat not found"


def test_form_multipart_and_query_string_bodies_are_accepted(fake: FakeTelegram) -> None:
    url = f"{fake.base_url}{fake.token}/sendMessage"
    form = httpx.post(url, data={"chat_id": "7", "text": "form", "disable_notification": "true"})
    multi = httpx.post(url, files={"chat_id": (None, "8"), "text": (None, "multipart")})
    query = httpx.get(url, params={"chat_id": "9", "text": "query"})
    assert [r.status_code for r in (form, multi, query)] == [200, 200, 200]
    assert [(m.chat_id, m.text) for m in fake.sent] == [(7, "form"), (8, "multipart"), (9, "query")]
    assert fake.sent[0].params["disable_notification"] is True


def test_generic_method_answers_true_after_checks(fake: FakeTelegram) -> None:
    assert call(fake, "close").json() == {"ok": True, "result": True}
    assert call(fake, "logOut").json() == {"ok": True, "result": True}


# ----- HTML parse mode and text length -------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "<b>&</b>",
        "a < b",
        "<script>alert(1)</script>",
        "<b><i>x</b></i>",
        "<b>unclosed",
        "stray</b>",
        "&nbsp;",
        '<a href="javascript:alert(1)">x</a>',
        "<span>no spoiler class</span>",
    ],
)
def test_bad_html_is_400_cant_parse_entities(fake: FakeTelegram, text: str) -> None:
    resp = call(fake, "sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert resp.status_code == 400
    assert description(resp).startswith("Bad Request: can't parse entities: ")
    assert fake.sent == []


def test_good_html_is_parsed_into_text_and_entities(fake: FakeTelegram) -> None:
    text = (
        '<b>Quy chế</b> &lt;dân chủ&gt; &amp; <a href="https://hue.gov.vn/?a=1&amp;b=2">tin</a> '
        '<pre><code class="language-python">x</code></pre> <tg-spoiler>s</tg-spoiler> &#128512;'
    )
    resp = call(fake, "sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert resp.status_code == 200
    sent = fake.messages_to(1)[0]
    assert sent.plain_text == "Quy chế <dân chủ> & tin x s 😀"
    kinds = {e["type"]: e for e in sent.entities}
    assert kinds["bold"]["length"] == 7
    assert kinds["text_link"]["url"] == "https://hue.gov.vn/?a=1&b=2"
    assert kinds["pre"]["language"] == "python"
    assert resp.json()["result"]["entities"] == list(sent.entities)


def test_4096_characters_pass_and_4097_are_too_long(fake: FakeTelegram) -> None:
    assert call(fake, "sendMessage", chat_id=1, text="a" * 4096).status_code == 200
    resp = call(fake, "sendMessage", chat_id=2, text="a" * 4097)
    assert (resp.status_code, description(resp)) == (400, "Bad Request: message is too long")


def test_length_counts_after_entity_parsing_in_utf16_units(fake: FakeTelegram) -> None:
    escaped = call(fake, "sendMessage", chat_id=1, text="&lt;" * 4096, parse_mode="HTML")
    assert escaped.status_code == 200
    emoji = call(fake, "sendMessage", chat_id=2, text="😀" * 2049)  # 4098 UTF-16 units
    assert description(emoji) == "Bad Request: message is too long"


def test_whitespace_only_text_is_empty(fake: FakeTelegram) -> None:
    resp = call(fake, "sendMessage", chat_id=1, text="<b> </b>\n", parse_mode="HTML")
    assert description(resp) == "Bad Request: message text is empty"


# ----- inline keyboards -------------------------------------------------------------------------
def keyboard(data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "Trang sau ›", "callback_data": data}]]}


def test_callback_data_of_64_bytes_passes_and_65_is_button_data_invalid(fake: FakeTelegram) -> None:
    ok = call(fake, "sendMessage", chat_id=1, text="x", reply_markup=keyboard("a" * 64))
    assert ok.status_code == 200
    assert fake.sent[0].buttons()[0]["callback_data"] == "a" * 64
    too_long = call(fake, "sendMessage", chat_id=2, text="x", reply_markup=keyboard("a" * 65))
    assert (too_long.status_code, description(too_long)) == (
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    )


def test_callback_data_is_counted_in_utf8_bytes(fake: FakeTelegram) -> None:
    resp = call(fake, "sendMessage", chat_id=1, text="x", reply_markup=keyboard("đ" * 33))
    assert description(resp) == "Bad Request: BUTTON_DATA_INVALID"


def test_button_without_action_is_refused(fake: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "chỉ có chữ"}]]}
    resp = call(fake, "sendMessage", chat_id=1, text="x", reply_markup=markup)
    assert resp.status_code == 400
    assert "Text buttons are unallowed" in description(resp)


# ----- sending limits ---------------------------------------------------------------------------
def test_second_message_to_a_private_chat_within_a_second_is_429(
    timed_fake: FakeTelegram, clock: ManualClock
) -> None:
    assert call(timed_fake, "sendMessage", chat_id=42, text="1").status_code == 200
    clock.now += 0.5
    resp = call(timed_fake, "sendMessage", chat_id=42, text="2")
    assert resp.status_code == 429
    assert resp.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert timed_fake.count_429 == 1
    assert timed_fake.texts_to(42) == ["1"]
    clock.now += 0.5
    assert call(timed_fake, "sendMessage", chat_id=42, text="3").status_code == 200
    assert timed_fake.max_per_window(1.0, chat_id=42) == 1


def test_private_burst_is_configurable(timed_fake: FakeTelegram, clock: ManualClock) -> None:
    timed_fake.limits.private_burst = 3
    codes = [call(timed_fake, "sendMessage", chat_id=42, text=str(i)).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_global_limit_is_30_per_second_across_chats(
    timed_fake: FakeTelegram, clock: ManualClock
) -> None:
    codes = [call(timed_fake, "sendMessage", chat_id=i, text="x").status_code for i in range(1, 32)]
    assert codes.count(200) == 30
    assert codes[-1] == 429
    assert timed_fake.max_per_window(1.0) == 30
    clock.now += 1.0
    assert call(timed_fake, "sendMessage", chat_id=99, text="x").status_code == 200


def test_group_limit_is_20_per_minute(timed_fake: FakeTelegram, clock: ManualClock) -> None:
    for _ in range(20):
        clock.now += 1.0
        assert call(timed_fake, "sendMessage", chat_id=-100, text="x").status_code == 200
    resp = call(timed_fake, "sendMessage", chat_id=-100, text="x")
    assert resp.status_code == 429
    assert resp.json()["parameters"]["retry_after"] == 41  # the first send leaves the window
    clock.now += 41
    assert call(timed_fake, "sendMessage", chat_id=-100, text="x").status_code == 200


async def test_ptb_gets_retry_after(fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (an error under -W error) when building RetryAfter unless opted in to timedelta
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        await bot.send_message(5, "một")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(5, "hai")
    assert info.value.retry_after == dt.timedelta(seconds=1)
    assert fake.texts_to(5) == ["một"]


# ----- updates ----------------------------------------------------------------------------------
def test_get_updates_honours_offset_and_limit(fake: FakeTelegram) -> None:
    first = fake.push_message(42, "/latest 5")
    fake.push_message(42, "quy chế dân chủ")
    fake.push_message(42, "/help")
    two = call(fake, "getUpdates", limit=2).json()["result"]
    assert [u["message"]["text"] for u in two] == ["/latest 5", "quy chế dân chủ"]
    assert two[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 7}]
    assert "entities" not in two[1]["message"]
    assert two[0]["message"]["from"]["language_code"] == "vi"
    rest = call(fake, "getUpdates", offset=first["update_id"] + 2).json()["result"]
    assert [u["message"]["text"] for u in rest] == ["/help"]
    assert fake.pending_updates == 1
    confirmed = call(fake, "getUpdates", offset=rest[0]["update_id"] + 1, timeout=0)
    assert confirmed.json()["result"] == []


async def test_long_poll_waits_for_an_update_without_blocking_other_calls(
    fake: FakeTelegram,
) -> None:
    async with httpx.AsyncClient(base_url=f"{fake.base_url}{fake.token}/") as client:
        poll = asyncio.create_task(client.post("getUpdates", json={"timeout": 30}))
        me = await client.post("getMe")  # answered while the poll is waiting
        assert me.json()["ok"] is True
        assert not poll.done()
        await asyncio.to_thread(fake.push_message, 7, "/start", language_code="en")
        result = (await poll).json()["result"]
    assert result[0]["message"]["text"] == "/start"
    assert result[0]["message"]["from"]["language_code"] == "en"


def test_long_poll_times_out_empty(fake: FakeTelegram) -> None:
    resp = call(fake, "getUpdates", timeout=1)
    assert resp.json() == {"ok": True, "result": []}


async def test_a_second_poller_terminates_the_first_with_409(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient(base_url=f"{fake.base_url}{fake.token}/") as client:
        first = asyncio.create_task(client.post("getUpdates", json={"timeout": 30}))
        await fake.wait_until_async(lambda: fake.polls_waiting == 1)
        second = asyncio.create_task(client.post("getUpdates", json={"timeout": 30}))
        old = await first
        assert old.status_code == 409
        assert "terminated by other getUpdates request" in old.json()["description"]
        await asyncio.to_thread(fake.push_message, 1, "x")
        assert (await second).json()["result"][0]["message"]["text"] == "x"


def test_callback_query_update_and_answer(fake: FakeTelegram) -> None:
    sent = call(fake, "sendMessage", chat_id=42, text="trang 1", reply_markup=keyboard("p:2"))
    message_id = sent.json()["result"]["message_id"]
    query_id = fake.push_callback(42, message_id, "p:2")
    update = call(fake, "getUpdates").json()["result"][0]
    assert update["callback_query"]["data"] == "p:2"
    assert update["callback_query"]["message"]["text"] == "trang 1"
    assert call(fake, "answerCallbackQuery", callback_query_id=query_id).status_code == 200
    again = call(fake, "answerCallbackQuery", callback_query_id=query_id)
    assert "query is too old" in description(again)
    assert len(fake.callback_answers) == 1


def test_edit_message_text_rules(fake: FakeTelegram) -> None:
    sent = call(fake, "sendMessage", chat_id=42, text="trang 1").json()["result"]
    edit = call(fake, "editMessageText", chat_id=42, message_id=sent["message_id"], text="trang 2")
    assert edit.json()["result"]["text"] == "trang 2"
    same = call(fake, "editMessageText", chat_id=42, message_id=sent["message_id"], text="trang 2")
    assert description(same).startswith("Bad Request: message is not modified")
    missing = call(fake, "editMessageText", chat_id=42, message_id=999, text="x")
    assert description(missing) == "Bad Request: message to edit not found"
    assert len(fake.edits) == 1


def test_set_my_commands_checks_names_descriptions_and_language(fake: FakeTelegram) -> None:
    good = [{"command": "latest", "description": "Tin mới nhất"}]
    assert call(fake, "setMyCommands", commands=good, language_code="vi").status_code == 200
    assert fake.commands_for("vi") == good
    bad_name = [{"command": "Latest", "description": "x"}]
    assert description(call(fake, "setMyCommands", commands=bad_name)).endswith(
        "BOT_COMMAND_INVALID"
    )
    bad_lang = call(fake, "setMyCommands", commands=good, language_code="vie")
    assert description(bad_lang) == "Bad Request: invalid language code specified"
    got = call(fake, "getMyCommands", language_code="vi").json()["result"]
    assert got == good
    assert call(fake, "deleteMyCommands", language_code="vi").status_code == 200
    assert fake.commands_for("vi") == []


def test_send_chat_action_checks_the_action(fake: FakeTelegram) -> None:
    assert call(fake, "sendChatAction", chat_id=1, action="typing").status_code == 200
    assert call(fake, "sendChatAction", chat_id=1, action="dancing").status_code == 400
    assert fake.chat_actions == [(1, "typing")]


# ----- webhook ----------------------------------------------------------------------------------
@pytest.fixture
def receiver() -> Iterator[tuple[ThreadedHttpServer, list[Request], threading.Event]]:
    got: list[Request] = []
    arrived = threading.Event()

    async def handle(request: Request) -> Response:
        got.append(request)
        arrived.set()
        return Response(200, b"")

    server = ThreadedHttpServer(handle)
    server.start()
    yield server, got, arrived
    server.stop()


def test_webhook_receives_updates_with_the_secret_header(
    fake: FakeTelegram, receiver: tuple[ThreadedHttpServer, list[Request], threading.Event]
) -> None:
    server, got, arrived = receiver
    hook = f"{server.url}/telegram/webhook"
    resp = call(fake, "setWebhook", url=hook, secret_token="s3cr3t-_X")
    assert resp.json()["result"] is True
    fake.push_message(42, "/start")
    assert arrived.wait(CLIENT_TIMEOUT)
    assert got[0].path == "/telegram/webhook"
    assert got[0].headers["x-telegram-bot-api-secret-token"] == "s3cr3t-_X"
    assert json.loads(got[0].body)["message"]["text"] == "/start"
    conflict = call(fake, "getUpdates")
    assert conflict.status_code == 409
    info = call(fake, "getWebhookInfo").json()["result"]
    assert info["url"] == hook
    fake.wait_until(lambda: fake.pending_updates == 0)
    assert call(fake, "deleteWebhook").status_code == 200
    assert call(fake, "getUpdates").json()["result"] == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"url": "http://example.com/hook"}, "An HTTPS URL must be provided"),
        ({"url": "https://example.com/hook", "secret_token": "có dấu"}, "secret token"),
        ({"url": "https://example.com/hook", "secret_token": "x" * 257}, "secret token"),
    ],
)
def test_bad_webhook_settings_are_400(
    fake: FakeTelegram, params: dict[str, Any], expected: str
) -> None:
    resp = call(fake, "setWebhook", **params)
    assert resp.status_code == 400
    assert expected in description(resp)


# ----- faults -----------------------------------------------------------------------------------
async def test_blocked_and_unknown_chats(fake: FakeTelegram) -> None:
    fake.block(5)
    fake.known_chats = {5, 6}
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(5, "x")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(7, "x")
        assert (await bot.send_message(6, "x")).chat.id == 6
    assert [m.chat_id for m in fake.sent] == [6]


async def test_injected_5xx_then_success(fake: FakeTelegram) -> None:
    fake.fail_next(1, status=500)
    fake.fail_next(1, status=502)
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        for _ in range(2):
            with pytest.raises(NetworkError):
                await bot.send_message(1, "x")
        await bot.get_me()  # faults target sendMessage only
        assert (await bot.send_message(1, "x")).text == "x"
    assert [code for method, code in fake.calls if method == "sendMessage"] == [500, 502, 200]


def test_delayed_answer_times_out_but_the_message_arrived(fake: FakeTelegram) -> None:
    fake.delay_next(1, 2.0)
    url = f"{fake.base_url}{fake.token}/sendMessage"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, json={"chat_id": 1, "text": "có tới không?"}, timeout=0.3)
    assert fake.texts_to(1) == ["có tới không?"]


@pytest.mark.parametrize(("after_record", "recorded"), [(False, []), (True, ["x"])])
def test_dropped_connection(fake: FakeTelegram, after_record: bool, recorded: list[str]) -> None:
    fake.drop_next(1, after_record=after_record)
    with pytest.raises(httpx.TransportError):
        call(fake, "sendMessage", chat_id=1, text="x")
    assert fake.texts_to(1) == recorded
    assert call(fake, "sendMessage", chat_id=2, text="y").status_code == 200


def test_keep_alive_connection_is_reused(fake: FakeTelegram) -> None:
    with httpx.Client(base_url=f"{fake.base_url}{fake.token}/") as client:
        replies = [
            client.post("sendMessage", json={"chat_id": i, "text": "x"}) for i in range(1, 21)
        ]
        codes = [r.status_code for r in replies]
    assert codes == [200] * 20
    assert len(fake.sent) == 20


# ----- python-telegram-bot against the fake ---------------------------------------------------
async def test_ptb_bot_send_message_and_get_me(fake: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Trang sau ›", callback_data="p:2")]])
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        me = await bot.get_me()
        msg = await bot.send_message(
            42, "<b>Tin mới</b> &amp; <i>nóng</i>", parse_mode="HTML", reply_markup=markup
        )
        with pytest.raises(BadRequest, match="parse entities"):
            await bot.send_message(43, "<b>Tin", parse_mode="HTML")
    assert me.username == "fake_portal_bot"
    assert msg.text == "Tin mới & nóng"
    assert msg.entities[0].type == "bold"
    sent = fake.wait_for_messages(1)[0]
    assert sent.parse_mode == "HTML"
    assert sent.buttons()[0]["callback_data"] == "p:2"


async def test_ptb_application_polls_and_replies(fake: FakeTelegram) -> None:
    from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Xin chào!")

    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        fake.push_message(42, "/start")
        sent = await fake.wait_for_messages_async(1, chat_id=42)
        await app.updater.stop()
        await app.stop()
    assert sent[0].text == "Xin chào!"


async def test_ptb_sees_conflict_while_webhook_is_set(fake: FakeTelegram) -> None:
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        assert await bot.set_webhook("https://bot.example.vn/hook", secret_token="abc")
        with pytest.raises(Conflict):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        assert info.url == "https://bot.example.vn/hook"
        assert await bot.delete_webhook()
        assert await bot.get_updates() == ()


def test_reply_to_a_pushed_message_and_delete(fake: FakeTelegram) -> None:
    pushed = fake.push_message(42, "/search quy chế")["message"]
    reply = {"message_id": pushed["message_id"]}
    ok = call(fake, "sendMessage", chat_id=42, text="kết quả", reply_parameters=reply)
    assert ok.status_code == 200
    missing = call(fake, "sendMessage", chat_id=43, text="x", reply_parameters={"message_id": 999})
    assert description(missing) == "Bad Request: message to be replied not found"
    sent_id = ok.json()["result"]["message_id"]
    assert call(fake, "deleteMessage", chat_id=42, message_id=sent_id).json()["result"] is True
    again = call(fake, "deleteMessage", chat_id=42, message_id=sent_id)
    assert description(again) == "Bad Request: message to delete not found"
    assert fake.message(42, sent_id) is None
    assert fake.deleted == [(42, sent_id)]


def test_window_statistics_and_clear(timed_fake: FakeTelegram, clock: ManualClock) -> None:
    timed_fake.limits.enabled = False
    for chat in (1, 1, 2):
        call(timed_fake, "sendMessage", chat_id=chat, text="x")
    clock.now += 1.0
    call(timed_fake, "sendMessage", chat_id=1, text="x")
    assert timed_fake.max_per_window(1.0) == 3
    assert timed_fake.max_per_chat_window(1.0) == 2
    assert timed_fake.max_per_window(1.0, chat_id=2) == 1
    timed_fake.clear()
    assert (timed_fake.sent, timed_fake.calls, timed_fake.count_429) == ([], [], 0)
