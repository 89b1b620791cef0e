"""The fake Bot API: updates, long polling, callbacks, edits, commands and the webhook."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import telegram
from telegram.error import Conflict

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_http import Request, Response, ThreadedHttpServer
from tests.fakes.telegram_testing import description, keyboard

CLIENT_TIMEOUT = 10.0


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server
        assert server.errors == []


# ----- updates ----------------------------------------------------------------------------------
def test_get_updates_honours_offset_and_limit(fake: FakeTelegram) -> None:
    first = fake.push_message(42, "/latest 5")
    fake.push_message(42, "quy chế dân chủ")
    fake.push_message(42, "/help")
    two = fake.call_api("getUpdates", limit=2).json()["result"]
    assert [u["message"]["text"] for u in two] == ["/latest 5", "quy chế dân chủ"]
    assert two[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 7}]
    assert "entities" not in two[1]["message"]
    assert two[0]["message"]["from"]["language_code"] == "vi"
    rest = fake.call_api("getUpdates", offset=first["update_id"] + 2).json()["result"]
    assert [u["message"]["text"] for u in rest] == ["/help"]
    assert fake.pending_updates == 1
    confirmed = fake.call_api("getUpdates", offset=rest[0]["update_id"] + 1, timeout=0)
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
    resp = fake.call_api("getUpdates", timeout=1)
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
    sent = fake.call_api("sendMessage", chat_id=42, text="trang 1", reply_markup=keyboard("p:2"))
    message_id = sent.json()["result"]["message_id"]
    query_id = fake.push_callback(42, message_id, "p:2")
    update = fake.call_api("getUpdates").json()["result"][0]
    assert update["callback_query"]["data"] == "p:2"
    assert update["callback_query"]["message"]["text"] == "trang 1"
    assert fake.call_api("answerCallbackQuery", callback_query_id=query_id).status_code == 200
    again = fake.call_api("answerCallbackQuery", callback_query_id=query_id)
    assert "query is too old" in description(again)
    assert len(fake.callback_answers) == 1


def test_edit_message_text_rules(fake: FakeTelegram) -> None:
    sent = fake.call_api("sendMessage", chat_id=42, text="trang 1").json()["result"]
    edit = fake.call_api(
        "editMessageText", chat_id=42, message_id=sent["message_id"], text="trang 2"
    )
    assert edit.json()["result"]["text"] == "trang 2"
    same = fake.call_api(
        "editMessageText", chat_id=42, message_id=sent["message_id"], text="trang 2"
    )
    assert description(same).startswith("Bad Request: message is not modified")
    missing = fake.call_api("editMessageText", chat_id=42, message_id=999, text="x")
    assert description(missing) == "Bad Request: message to edit not found"
    assert len(fake.edits) == 1


def test_set_my_commands_checks_names_descriptions_and_language(fake: FakeTelegram) -> None:
    good = [{"command": "latest", "description": "Tin mới nhất"}]
    assert fake.call_api("setMyCommands", commands=good, language_code="vi").status_code == 200
    assert fake.commands_for("vi") == good
    bad_name = [{"command": "Latest", "description": "x"}]
    assert description(fake.call_api("setMyCommands", commands=bad_name)).endswith(
        "BOT_COMMAND_INVALID"
    )
    bad_lang = fake.call_api("setMyCommands", commands=good, language_code="vie")
    assert description(bad_lang) == "Bad Request: invalid language code specified"
    got = fake.call_api("getMyCommands", language_code="vi").json()["result"]
    assert got == good
    assert fake.call_api("deleteMyCommands", language_code="vi").status_code == 200
    assert fake.commands_for("vi") == []


def test_send_chat_action_checks_the_action(fake: FakeTelegram) -> None:
    assert fake.call_api("sendChatAction", chat_id=1, action="typing").status_code == 200
    assert fake.call_api("sendChatAction", chat_id=1, action="dancing").status_code == 400
    assert fake.chat_actions == [(1, "typing")]


# ----- webhook ----------------------------------------------------------------------------------
@dataclass
class Receiver:
    """The bot's side of a webhook: records requests, answers `refuse` statuses first."""

    server: ThreadedHttpServer
    got: list[Request] = field(default_factory=list)
    accepted: threading.Event = field(default_factory=threading.Event)
    refuse: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    async def handle(request: Request) -> Response:
        rec.got.append(request)
        if rec.refuse:
            return Response(rec.refuse.pop(0), b"")
        rec.accepted.set()
        return Response(200, b"")

    rec = Receiver(ThreadedHttpServer(handle))
    rec.server.start()
    yield rec
    rec.server.stop()


def test_webhook_receives_updates_with_the_secret_header(
    fake: FakeTelegram, receiver: Receiver
) -> None:
    server, got, arrived = receiver.server, receiver.got, receiver.accepted
    hook = f"{server.url}/telegram/webhook"
    resp = fake.call_api("setWebhook", url=hook, secret_token="s3cr3t-_X")
    assert resp.json()["result"] is True
    fake.push_message(42, "/start")
    assert arrived.wait(CLIENT_TIMEOUT)
    assert got[0].path == "/telegram/webhook"
    assert got[0].headers["x-telegram-bot-api-secret-token"] == "s3cr3t-_X"
    assert json.loads(got[0].body)["message"]["text"] == "/start"
    conflict = fake.call_api("getUpdates")
    assert conflict.status_code == 409
    info = fake.call_api("getWebhookInfo").json()["result"]
    assert info["url"] == hook
    fake.wait_until(lambda: fake.pending_updates == 0)
    assert fake.call_api("deleteWebhook").status_code == 200
    assert fake.call_api("getUpdates").json()["result"] == []


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
    resp = fake.call_api("setWebhook", **params)
    assert resp.status_code == 400
    assert expected in description(resp)


def test_reply_to_a_pushed_message_and_delete(fake: FakeTelegram) -> None:
    pushed = fake.push_message(42, "/search quy chế")["message"]
    reply = {"message_id": pushed["message_id"]}
    ok = fake.call_api("sendMessage", chat_id=42, text="kết quả", reply_parameters=reply)
    assert ok.status_code == 200
    missing = fake.call_api(
        "sendMessage", chat_id=43, text="x", reply_parameters={"message_id": 999}
    )
    assert description(missing) == "Bad Request: message to be replied not found"
    sent_id = ok.json()["result"]["message_id"]
    assert fake.call_api("deleteMessage", chat_id=42, message_id=sent_id).json()["result"] is True
    again = fake.call_api("deleteMessage", chat_id=42, message_id=sent_id)
    assert description(again) == "Bad Request: message to delete not found"
    assert fake.message(42, sent_id) is None
    assert fake.deleted == [(42, sent_id)]


async def test_ptb_sees_conflict_while_webhook_is_set(fake: FakeTelegram) -> None:
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        assert await bot.set_webhook("https://bot.example.vn/hook", secret_token="abc")
        with pytest.raises(Conflict):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        assert info.url == "https://bot.example.vn/hook"
        assert await bot.delete_webhook()
        assert await bot.get_updates() == ()


def test_webhook_retries_after_a_refusal_and_reports_the_error(
    fake: FakeTelegram, receiver: Receiver
) -> None:
    receiver.refuse = [403, 500]
    fake.call_api("setWebhook", url=f"{receiver.server.url}/hook", secret_token="right")
    update = fake.push_message(1, "/start")
    assert receiver.accepted.wait(CLIENT_TIMEOUT)
    fake.wait_until(lambda: fake.pending_updates == 0)
    ids = [json.loads(r.body)["update_id"] for r in receiver.got]
    assert ids == [update["update_id"]] * 3  # the same update until the bot takes it
    assert [status for _id, status in fake.webhook_deliveries] == [403, 500, 200]
    info = fake.call_api("getWebhookInfo").json()["result"]
    assert info["last_error_message"] == "Wrong response from the webhook: 500"


async def test_stale_button_comes_as_an_inaccessible_message(fake: FakeTelegram) -> None:
    fake.push_callback(42, 77, "p:9")  # a message the fake never saw (or older than 48 h)
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        [update] = await bot.get_updates()
    assert update.callback_query is not None
    message = update.callback_query.message
    assert message is not None
    assert not message.is_accessible  # PTB's reading of date 0
    assert message.message_id == 77
