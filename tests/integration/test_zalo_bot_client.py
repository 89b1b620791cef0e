"""The Zalo Bot Platform client against the fake Bot API over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.logs import setup_logging
from bot.zalo.bot_client import ZaloBotClient, ZaloBotError
from bot.zalo.results import Kind
from tests.fakes.zalo_bot_api import FakeZaloBot, Limits


@pytest.fixture
def fake() -> Iterator[FakeZaloBot]:
    with FakeZaloBot(limits=Limits(global_per_second=50, chat_per_second=3)) as f:
        yield f


@pytest.fixture
async def client(fake: FakeZaloBot) -> AsyncIterator[ZaloBotClient]:
    c = ZaloBotClient(token=fake.token, api_url=fake.url)
    yield c
    await c.aclose()


async def test_get_me_and_send(fake: FakeZaloBot, client: ZaloBotClient) -> None:
    me = await client.get_me()
    assert me["id"] == fake.token.split(":")[0]
    fake.known_chats.add("c1")
    result = await client.send_message("c1", "Xin chào")
    assert result.kind is Kind.SENT and result.message_id.startswith("zm-")
    assert fake.texts_to("c1") == ["Xin chào"]


async def test_get_updates_answers_one_update_or_none(
    fake: FakeZaloBot, client: ZaloBotClient
) -> None:
    fake.push_text("c1", "tin mới")
    fake.push_text("c2", "trợ giúp")
    first = await client.get_updates(hold_seconds=1)
    assert first is not None and first["message"]["text"] == "tin mới"
    second = await client.get_updates(hold_seconds=1)
    assert second is not None and second["message"]["chat"]["id"] == "c2"
    assert await client.get_updates(hold_seconds=0) is None  # 408: nothing, not an error


async def test_webhook_methods(fake: FakeZaloBot, client: ZaloBotClient) -> None:
    await client.set_webhook("https://bot.example.vn/zalo-bot/webhook", "secret-token-123")
    assert (await client.get_webhook_info())["url"].endswith("/zalo-bot/webhook")
    with pytest.raises(ZaloBotError) as err:
        await client.get_updates(hold_seconds=0)
    assert err.value.code == 409
    with pytest.raises(ZaloBotError) as err:
        await client.set_webhook("https://bot.example.vn/hook", "short")
    assert err.value.code == 400
    await client.delete_webhook()
    assert (await client.get_webhook_info())["url"] == ""


async def test_send_errors_map_to_outcomes(fake: FakeZaloBot, client: ZaloBotClient) -> None:
    assert (await client.send_message("stranger", "x")).kind is Kind.GONE  # chat not found
    fake.known_chats.update({"c1", "c2"})
    fake.block("c2")
    assert (await client.send_message("c2", "x")).kind is Kind.GONE
    assert (await client.send_message("c1", "x" * 2001)).kind is Kind.PERMANENT
    fake.fail_next("sendMessage", 500, "Internal Server Error")
    assert (await client.send_message("c1", "x")).kind is Kind.TEMPORARY
    results = [await client.send_message("c1", f"{i}") for i in range(4)]
    assert [r.kind for r in results] == [Kind.SENT] * 3 + [Kind.RETRY_AFTER]
    assert results[-1].retry_after >= 1
    assert fake.texts_to("c1") == ["0", "1", "2"]  # the refused one was not recorded


async def test_wrong_token_is_a_configuration_error_and_never_logged(
    fake: FakeZaloBot, caplog: pytest.LogCaptureFixture
) -> None:
    setup_logging("DEBUG", secrets=["9999:wrong-token"])
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # even if someone turns it up
    wrong = ZaloBotClient(token="9999:wrong-token", api_url=fake.url)
    try:
        fake.known_chats.add("c1")
        result = await wrong.send_message("c1", "x")
        assert result.kind is Kind.CONFIG
        with pytest.raises(ZaloBotError) as err:
            await wrong.get_me()
        assert "wrong-token" not in str(err.value)
    finally:
        await wrong.aclose()
        setup_logging("INFO")
    assert "wrong-token" not in caplog.text


async def test_the_fake_refuses_undocumented_fields(fake: FakeZaloBot) -> None:
    c = ZaloBotClient(token=fake.token, api_url=fake.url)
    try:
        with pytest.raises(ZaloBotError) as err:
            await c.call("sendMessage", {"chat_id": "c1", "text": "x", "parse_mode": "HTML"})
        assert err.value.code == 400 and "parse_mode" in err.value.description
        with pytest.raises(ZaloBotError) as err:
            await c.call("editMessageText", {})
        assert err.value.code == 404
    finally:
        await c.aclose()
