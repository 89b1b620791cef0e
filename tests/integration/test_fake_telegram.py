"""The fake Bot API: routing, spec checks, HTML parse mode, keyboards, python-telegram-bot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, EndPointNotFound

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_testing import description, keyboard

CLIENT_TIMEOUT = 10.0


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server
        assert server.errors == []


# ----- routing and spec checks ---------------------------------------------------------------
def test_unknown_method_is_404(fake: FakeTelegram) -> None:
    resp = fake.call_api("sendTelepathy", chat_id=1)
    assert resp.status_code == 404
    assert resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_method_names_are_case_insensitive_like_telegram(fake: FakeTelegram) -> None:
    assert fake.call_api("GETME").json()["result"]["username"] == "fake_portal_bot"


def test_unknown_token_is_401_and_malformed_token_404(fake: FakeTelegram) -> None:
    unknown = httpx.post(f"{fake.base_url}999:other-token/getMe", timeout=CLIENT_TIMEOUT)
    assert unknown.status_code == 401
    assert unknown.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    malformed = httpx.post(f"{fake.base_url}not-a-token/getMe", timeout=CLIENT_TIMEOUT)
    assert malformed.status_code == 404


def test_missing_chat_id_is_400(fake: FakeTelegram) -> None:
    resp = fake.call_api("sendMessage", text="xin chào")
    assert resp.status_code == 400
    assert description(resp) == "Bad Request: chat_id is empty"


def test_missing_text_is_400_message_text_is_empty(fake: FakeTelegram) -> None:
    resp = fake.call_api("sendMessage", chat_id=1)
    assert (resp.status_code, description(resp)) == (400, "Bad Request: message text is empty")
    assert fake.sent == []


def test_missing_required_field_of_any_method_is_400(fake: FakeTelegram) -> None:
    resp = fake.call_api("setChatTitle", chat_id=-5)
    assert (resp.status_code, description(resp)) == (400, "Bad Request: title is empty")
    assert (
        fake.call_api("setChatTitle", chat_id=-5, title="Ban Tuyên giáo").json()["result"] is True
    )


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
    resp = fake.call_api("sendMessage", **params)
    assert resp.status_code == 400
    assert expected in description(resp)
    assert fake.sent == []


def test_string_chat_id_that_is_not_a_username_is_chat_not_found(fake: FakeTelegram) -> None:
    resp = fake.call_api("sendMessage", chat_id="abc", text="x")
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
    assert fake.call_api("close").json() == {"ok": True, "result": True}
    assert fake.call_api("logOut").json() == {"ok": True, "result": True}


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
    resp = fake.call_api("sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert resp.status_code == 400
    assert description(resp).startswith("Bad Request: can't parse entities: ")
    assert fake.sent == []


def test_good_html_is_parsed_into_text_and_entities(fake: FakeTelegram) -> None:
    text = (
        '<b>Quy chế</b> &lt;dân chủ&gt; &amp; <a href="https://hue.gov.vn/?a=1&amp;b=2">tin</a> '
        '<pre><code class="language-python">x</code></pre> <tg-spoiler>s</tg-spoiler> &#128512;'
    )
    resp = fake.call_api("sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert resp.status_code == 200
    sent = fake.messages_to(1)[0]
    assert sent.plain_text == "Quy chế <dân chủ> & tin x s 😀"
    kinds = {e["type"]: e for e in sent.entities}
    assert kinds["bold"]["length"] == 7
    assert kinds["text_link"]["url"] == "https://hue.gov.vn/?a=1&b=2"
    assert kinds["pre"]["language"] == "python"
    assert resp.json()["result"]["entities"] == list(sent.entities)


def test_4096_characters_pass_and_4097_are_too_long(fake: FakeTelegram) -> None:
    assert fake.call_api("sendMessage", chat_id=1, text="a" * 4096).status_code == 200
    resp = fake.call_api("sendMessage", chat_id=2, text="a" * 4097)
    assert (resp.status_code, description(resp)) == (400, "Bad Request: message is too long")


def test_length_counts_after_entity_parsing_in_utf16_units(fake: FakeTelegram) -> None:
    escaped = fake.call_api("sendMessage", chat_id=1, text="&lt;" * 4096, parse_mode="HTML")
    assert escaped.status_code == 200
    emoji = fake.call_api("sendMessage", chat_id=2, text="😀" * 2049)  # 4098 UTF-16 units
    assert description(emoji) == "Bad Request: message is too long"


def test_whitespace_only_text_is_empty(fake: FakeTelegram) -> None:
    resp = fake.call_api("sendMessage", chat_id=1, text="<b> </b>\n", parse_mode="HTML")
    assert description(resp) == "Bad Request: message text is empty"


# ----- inline keyboards -------------------------------------------------------------------------
def test_callback_data_of_64_bytes_passes_and_65_is_button_data_invalid(fake: FakeTelegram) -> None:
    ok = fake.call_api("sendMessage", chat_id=1, text="x", reply_markup=keyboard("a" * 64))
    assert ok.status_code == 200
    assert fake.sent[0].buttons()[0]["callback_data"] == "a" * 64
    too_long = fake.call_api("sendMessage", chat_id=2, text="x", reply_markup=keyboard("a" * 65))
    assert (too_long.status_code, description(too_long)) == (
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    )


def test_callback_data_is_counted_in_utf8_bytes(fake: FakeTelegram) -> None:
    resp = fake.call_api("sendMessage", chat_id=1, text="x", reply_markup=keyboard("đ" * 33))
    assert description(resp) == "Bad Request: BUTTON_DATA_INVALID"


def test_button_without_action_is_refused(fake: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "chỉ có chữ"}]]}
    resp = fake.call_api("sendMessage", chat_id=1, text="x", reply_markup=markup)
    assert resp.status_code == 400
    assert "Text buttons are unallowed" in description(resp)


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


async def test_ptb_link_preview_options_are_recorded(fake: FakeTelegram) -> None:
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        await bot.send_message(
            1, "https://hue.gov.vn", link_preview_options=LinkPreviewOptions(is_disabled=True)
        )
        await bot.send_message(2, "https://hue.gov.vn")
    with_preview_off, default = fake.sent
    assert with_preview_off.link_preview_options == {"is_disabled": True}
    assert with_preview_off.previews_disabled
    assert not default.previews_disabled


async def test_ptb_unknown_method_is_endpoint_not_found(fake: FakeTelegram) -> None:
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
