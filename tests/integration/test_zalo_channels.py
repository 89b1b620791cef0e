"""Both Zalo channels end to end over real HTTP: webhooks, commands, choices, errors, tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.zalo.results import Kind
from jobs.delivery.reply import Reply
from storage.db import session_scope
from storage.models import Chat
from tests.bot_articles import seed_corpus
from tests.fakes.zalo_oa import WINDOW
from tests.integration.zaloworld import BOT_SECRET, ZaloWorld, zalo_world


@pytest.fixture
async def world(sqlite_engine: Engine) -> AsyncIterator[ZaloWorld]:
    seed_corpus(sqlite_engine, extra_meetings=12)
    async with zalo_world(sqlite_engine) as w:
        yield w


async def oa_says(w: ZaloWorld, user: str, text: str, **kw: object) -> int:
    event = w.oa.text_event(user, text, **kw)  # type: ignore[arg-type]
    response = await asyncio.to_thread(w.oa.post_event, w.url("/zalo/webhook"), event)
    await w.settle()
    return response.status_code


async def test_a_follower_gets_the_welcome_and_searches_in_words(world: ZaloWorld) -> None:
    w = world
    event = w.oa.follow_event("u1")
    response = await asyncio.to_thread(w.oa.post_event, w.url("/zalo/webhook"), event)
    assert response.status_code == 200
    await w.settle()
    assert "Xin chào" in w.oa.texts_to("u1")[0]
    assert await oa_says(w, "u1", "tìm quy chế dân chủ") == 200
    answer = w.oa.texts_to("u1")[-1]
    assert "Quy chế dân chủ ở cơ sở năm 2011" in answer and "https://" in answer


async def test_oa_buttons_and_numbered_choices_page_results(world: ZaloWorld) -> None:
    w = world
    w.oa.follow("u1")
    await oa_says(w, "u1", "tìm hội nghị")
    first = w.oa.sent[-1]
    assert [b["type"] for b in first.buttons] == ["oa.query.hide"]
    await oa_says(w, "u1", first.buttons[0]["payload"])  # the press returns as the payload
    assert "(trang 1/2)" in first.text
    second = w.oa.sent[-1]
    assert "(trang 2/2)" in second.text and second.buttons[0]["payload"].startswith("s:1:")
    await oa_says(w, "u1", "1")  # numbered fallback: choice 1 of the last message
    assert w.oa.sent[-1].text == first.text


async def test_forged_stale_and_repeated_oa_events(world: ZaloWorld) -> None:
    w = world
    w.oa.follow("u1")
    event = w.oa.text_event("u1", "trợ giúp", msg_id="dup-1")
    url = w.url("/zalo/webhook")
    forged = await asyncio.to_thread(w.oa.post_event, url, event, signature="mac=" + "0" * 64)
    assert forged.status_code == 401
    stale = w.oa.text_event("u1", "trợ giúp", at_ms=w.clock.ms() - 11 * 60_000)
    assert (await asyncio.to_thread(w.oa.post_event, url, stale)).status_code == 401
    await w.settle()
    assert w.oa.sent == []
    for _ in range(3):  # Zalo retries with the same msg_id
        assert (await asyncio.to_thread(w.oa.post_event, url, event)).status_code == 200
    await w.settle()
    assert len(w.oa.sent) == 1 and w.oa_inbound.handled == 1


async def test_unreachable_chat_keeps_its_reason_and_gets_a_digest_back(
    world: ZaloWorld,
) -> None:
    w = world
    w.oa.follow("u1")
    await oa_says(w, "u1", "trợ giúp")
    w.clock.now += WINDOW + 60  # eight days of silence
    result = await w.oa_sender.send_reply("u1", Reply.plain("🔔 Tin mới"), "vi")
    assert (result.kind, result.code) == (Kind.GONE, -230)
    with session_scope(w.engine) as s:
        chat = s.exec(select(Chat).where(Chat.external_id == "u1")).one()
        assert chat.active and "7-day" in (chat.unreachable_reason or "")
    calls = len(w.oa.errors)
    again = await w.oa_sender.send_reply("u1", Reply.plain("🔔 Tin khác"), "vi")
    assert again.kind is Kind.GONE and len(w.oa.errors) == calls  # no call wasted on Zalo
    before = len(w.oa.texts_to("u1"))
    await oa_says(w, "u1", "tin mới")
    assert len(w.oa.texts_to("u1")) == before + 1  # answered: the user is back
    with session_scope(w.engine) as s:
        assert s.exec(select(Chat).where(Chat.external_id == "u1")).one().unreachable_reason is None
    assert (await w.oa_sender.send_reply("u1", Reply.plain("ok"), "vi")).ok


async def test_unfollow_stops_and_a_message_reactivates(world: ZaloWorld) -> None:
    w = world
    url = w.url("/zalo/webhook")
    await asyncio.to_thread(w.oa.post_event, url, w.oa.follow_event("u2"))
    await asyncio.to_thread(w.oa.post_event, url, w.oa.follow_event("u2", follow=False))
    await w.settle()
    with session_scope(w.engine) as s:
        chat = s.exec(select(Chat).where(Chat.external_id == "u2")).one()
        assert not chat.active and chat.inactive_reason == "zalo: unfollowed the OA"
    w.oa.follow("u2")
    await oa_says(w, "u2", "trợ giúp")
    with session_scope(w.engine) as s:
        assert s.exec(select(Chat).where(Chat.external_id == "u2")).one().active


async def test_token_expiry_refreshes_once_and_resends(world: ZaloWorld) -> None:
    w = world
    w.oa.follow("u1")
    assert (await w.oa_sender.send_reply("u1", Reply.plain("một"), "vi")).ok
    w.oa.expire_access_tokens()
    assert (await w.oa_sender.send_reply("u1", Reply.plain("hai"), "vi")).ok
    assert w.oa.texts_to("u1") == ["một", "hai"] and w.oa.refresh_calls == 2
    assert [code for _u, code in w.oa.errors] == [-220]


async def test_quota_holds_the_queue_and_tells_the_admins_once(world: ZaloWorld) -> None:
    w = world
    w.oa.follow("u1")
    w.oa.quota = 1
    assert (await w.oa_sender.send_reply("u1", Reply.plain("a"), "vi")).ok
    results = [await w.oa_sender.send_reply("u1", Reply.plain(x), "vi") for x in "bcd"]
    assert [r.kind for r in results] == [Kind.QUOTA] * 3
    assert len(w.oa.errors) == 1  # held: one -211, then no more calls
    assert len([m for m in w.alarms.told if "quota" in m]) == 1
    w.oa_sender.quota_until = 0.0  # an hour later Zalo is asked again: still out
    assert (await w.oa_sender.send_reply("u1", Reply.plain("b"), "vi")).kind is Kind.QUOTA
    assert len([m for m in w.alarms.told if "quota" in m]) == 1  # not told twice
    w.oa.quota = 10
    w.oa_sender.quota_until = 0.0  # the hold is over
    assert (await w.oa_sender.send_reply("u1", Reply.plain("e"), "vi")).ok
    assert "zalo-quota" not in w.alarms.active


async def test_bot_platform_webhook_both_body_shapes_and_secret(world: ZaloWorld) -> None:
    w = world
    w.bot.webhook = {"url": w.url("/zalo-bot/webhook"), "secret_token": BOT_SECRET}
    upd = w.bot.update("c1", "tìm quy chế dân chủ")
    assert (await asyncio.to_thread(w.bot.deliver, upd)).status_code == 200
    w.bot.wrap_webhook = True
    assert (await asyncio.to_thread(w.bot.deliver, upd)).status_code == 200  # same message_id
    w.bot.webhook["secret_token"] = "not-the-secret"
    assert (await asyncio.to_thread(w.bot.deliver, w.bot.update("c1", "x"))).status_code == 403
    await w.settle()
    texts = w.bot.texts_to("c1")
    assert len(texts) == 1 and "Quy chế dân chủ" in texts[0]


async def test_bot_platform_paging_by_typed_number(world: ZaloWorld) -> None:
    w = world
    w.bot.webhook = {"url": w.url("/zalo-bot/webhook"), "secret_token": BOT_SECRET}
    await asyncio.to_thread(w.bot.deliver, w.bot.update("c1", "tìm hội nghị"))
    await w.settle()
    first = w.bot.texts_to("c1")[-1]
    assert "Trả lời bằng một số để chọn:" in first and "1. " in first
    await asyncio.to_thread(w.bot.deliver, w.bot.update("c1", "1"))
    await w.settle()
    assert w.bot.texts_to("c1")[-1] != first


async def test_bot_platform_long_polling_handles_a_redelivered_update_once(
    world: ZaloWorld,
) -> None:
    from bot.zalo.bot_client import ZaloBotClient
    from bot.zalo.polling import poll_updates
    from bot.zalo.senders import BOT_PLATFORM

    w = world
    client = ZaloBotClient(token=w.bot.token, api_url=w.bot.url)
    stop = asyncio.Event()
    poller = asyncio.create_task(
        poll_updates(client, w.bot_inbound.take, stop, platform=BOT_PLATFORM, hold_seconds=1)
    )
    upd = w.bot.push_text("c9", "trợ giúp")
    w.bot.redeliver(upd)  # no offset on this platform: the same update again
    w.bot.push_text("c9", "tin mới")
    assert await asyncio.to_thread(w.bot.wait_for_sent, 2)
    w.bot.fail_next("getUpdates", 502, "Bad Gateway")  # a failed poll backs off, then goes on
    w.bot.push_text("c9", "tìm quy chế dân chủ")
    assert await asyncio.to_thread(w.bot.wait_for_sent, 3, 15.0)
    stop.set()
    await asyncio.wait_for(poller, 5)  # a held long poll ends on stop
    await client.aclose()
    texts = w.bot.texts_to("c9")
    assert len(texts) == 3 and "Quy chế dân chủ" in texts[2]
    assert w.bot_inbound.handled == 3


async def test_a_signed_event_is_answered_at_once_even_when_work_is_stuck(
    world: ZaloWorld,
) -> None:
    w = world
    await w.oa_queue.stop()  # nobody takes events in: the request must not wait for them
    w.oa.follow("u1")
    event = w.oa.text_event("u1", "tin mới")
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await asyncio.to_thread(w.oa.post_event, w.url("/zalo/webhook"), event)
    assert response.status_code == 200 and loop.time() - started < 2.0
    assert w.oa_queue.pending == 1
    w.oa_queue.start()
    await w.settle()
    assert len(w.oa.texts_to("u1")) == 1


def test_zalo_secrets_are_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import Settings

    monkeypatch.chdir(tmp_path)  # no developer's .env

    env = {
        "ZALO_BOT_TOKEN": "123:bot-secret",
        "ZALO_APP_SECRET": "app-secret",
        "ZALO_OA_SECRET_KEY": "oa-key",
        "ZALO_REFRESH_TOKEN": "rt-1",
        "ZALO_BOT_WEBHOOK_SECRET": "hook-secret",
        "ZALO_ADMIN_IDS": "84901, 84902",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert {"123:bot-secret", "app-secret", "oa-key", "rt-1", "hook-secret"} <= set(s.secrets)
    assert s.zalo_admin_ids == ["84901", "84902"] and not s.zalo_oa_configured
    monkeypatch.setenv("ZALO_APP_ID", "1")
    assert Settings().zalo_oa_configured


async def test_a_rate_limited_reply_waits_and_is_sent_not_dropped(world: ZaloWorld) -> None:
    from tests.fakes.zalo_bot_api import Limits

    w = world
    w.bot.limits = Limits(global_per_second=200, chat_per_second=1)
    w.bot.webhook = {"url": w.url("/zalo-bot/webhook"), "secret_token": BOT_SECRET}
    for text in ("trợ giúp", "tin mới"):
        assert (await asyncio.to_thread(w.bot.deliver, w.bot.update("c5", text))).status_code == 200
    await w.settle()
    assert len(w.bot.texts_to("c5")) == 2
    assert [code for _m, code, _d in w.bot.rejected] == [429]  # the second waited its turn


async def test_bad_webhook_bodies_get_clear_statuses(world: ZaloWorld) -> None:
    import httpx

    w = world
    secret = {"X-Bot-Api-Secret-Token": BOT_SECRET}
    async with httpx.AsyncClient() as client:
        bot_url, oa_url = w.url("/zalo-bot/webhook"), w.url("/zalo/webhook")
        assert (await client.post(bot_url, content=b"{", headers=secret)).status_code == 400
        assert (await client.post(bot_url, json=[1], headers=secret)).status_code == 400
        big = b"x" * 300_000
        assert (await client.post(bot_url, content=big, headers=secret)).status_code == 413
        assert (await client.post(oa_url, content=big)).status_code == 413
        garbage = {"X-ZEvent-Signature": "mac=" + "0" * 64}
        assert (await client.post(oa_url, content=b"not json", headers=garbage)).status_code == 400
        assert (await client.post(oa_url, content=b"{}")).status_code == 401  # no signature
    await w.settle()
    assert w.oa.sent == [] and w.bot.sent == []


async def test_a_chats_events_are_handled_in_order(world: ZaloWorld) -> None:
    w = world
    w.bot.webhook = {"url": w.url("/zalo-bot/webhook"), "secret_token": BOT_SECRET}
    for text in ("/lang en", "/help", "/lang vi", "/help"):
        assert (await asyncio.to_thread(w.bot.deliver, w.bot.update("c7", text))).status_code == 200
    await w.settle()
    texts = w.bot.texts_to("c7")
    assert len(texts) == 4
    assert "Commands" in texts[1] and "Các lệnh" in texts[3]
