"""The service with both Zalo channels registered (no Telegram): commands, alerts, /healthz,
and a refused OA token raised as an alarm to the admins and in /healthz."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import HttpUrl, SecretStr

from bot.service import serve
from bot.settings import Settings
from bot.web import bind
from jobs.delivery.enqueue import make_on_stored
from storage.articles import store_articles
from storage.db import make_engine, session_scope
from storage.models import ArticleBase
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.fakes.zalo_oa import FakeZaloOA

STOP_SECONDS = 15.0


@pytest.fixture
def fakes() -> Iterator[tuple[FakeZaloBot, FakeZaloOA]]:
    with FakeZaloBot() as bot, FakeZaloOA() as oa:
        yield bot, oa


def _settings(tmp: Path, bot: FakeZaloBot, oa: FakeZaloOA, refresh: str) -> Settings:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # serve() binds LISTEN_PORT itself
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp / 'zalo.db'}",
        sources_file=tmp / "none.toml",
        listen_port=port,
        zalo_bot_token=SecretStr(bot.token),
        zalo_bot_api_url=HttpUrl(bot.url),
        zalo_app_id=oa.app_id,
        zalo_app_secret=SecretStr(oa.app_secret),
        zalo_oa_secret_key=SecretStr(oa.oa_secret_key),
        zalo_refresh_token=SecretStr(refresh),
        zalo_api_url=HttpUrl(oa.url),
        zalo_oauth_url=HttpUrl(oa.url),
        zalo_admin_ids=["admin-1"],
    )


def _store_article(db_url: str) -> None:
    engine = make_engine(db_url)
    published = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    article = ArticleBase(
        key="newsid:zalo-1",
        source="tinh",
        url="https://thuathienhue.gov.vn/vi-vn/tin/newsid/zalo-1",
        title="Hội nghị về Quy chế dân chủ ở cơ sở",
        body="Sáng nay tỉnh tổ chức hội nghị về quy chế dân chủ.",
        published_at=published,
        local_date=published.date(),
    )
    hook = make_on_stored(tz=Settings(_env_file=None).tz)  # type: ignore[call-arg]
    with session_scope(engine) as session:
        assert hook(session, store_articles(session, items=[(article, "h")], now=published)) == 2
    engine.dispose()


async def test_both_zalo_channels_answer_and_deliver(
    tmp_path: Path, fakes: tuple[FakeZaloBot, FakeZaloOA]
) -> None:
    bot, oa = fakes
    settings = _settings(tmp_path, bot, oa, oa.issue_refresh_token())
    base = f"http://127.0.0.1:{settings.listen_port}"
    stop = asyncio.Event()
    service = asyncio.create_task(serve(settings, stop=stop))
    try:
        bot.push_text("c1", "theo dõi quy chế dân chủ")  # long polling: no webhook set
        assert await asyncio.to_thread(bot.wait_for_sent, 1, 15.0)
        assert "quy chế dân chủ" in bot.texts_to("c1")[0]
        event = oa.text_event("u1", "theo dõi quy chế dân chủ")
        oa.follow("u1")
        # The bot's answer came, so the HTTP server (started before the channels) is up.
        answer = await asyncio.to_thread(oa.post_event, f"{base}/zalo/webhook", event)
        assert answer.status_code == 200
        assert await asyncio.to_thread(oa.wait_for_sent, 1, 15.0)
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{base}/healthz")
        assert health.json()["status"] == "ok"
        await asyncio.to_thread(_store_article, settings.database_url)
        assert await asyncio.to_thread(bot.wait_for_sent, 2, 15.0)
        assert await asyncio.to_thread(oa.wait_for_sent, 2, 15.0)
        assert "Hội nghị về Quy chế dân chủ" in bot.texts_to("c1")[1]
        assert oa.sent[1].buttons[0]["payload"].startswith("unsub:")
    finally:
        stop.set()
        assert await asyncio.wait_for(service, STOP_SECONDS) == 0


async def test_a_refused_refresh_token_is_an_alarm_for_admins_and_healthz(
    tmp_path: Path, fakes: tuple[FakeZaloBot, FakeZaloOA]
) -> None:
    bot, oa = fakes
    spent = oa.issue_refresh_token()
    oa.refresh_tokens[spent] = (oa.refresh_tokens[spent][0], True)
    settings = _settings(tmp_path, bot, oa, spent)
    base = f"http://127.0.0.1:{settings.listen_port}"
    stop = asyncio.Event()
    service = asyncio.create_task(serve(settings, stop=stop))
    try:
        bot.push_text("admin-1", "trợ giúp")  # the admin's bot chat exists
        assert await asyncio.to_thread(bot.wait_for_sent, 1, 15.0)
        oa.follow("u1")
        event = oa.text_event("u1", "tin mới")  # the reply needs a token: the alarm rises
        assert (
            await asyncio.to_thread(oa.post_event, f"{base}/zalo/webhook", event)
        ).status_code == 200
        assert await asyncio.to_thread(bot.wait_for_sent, 2, 15.0)
        assert "Invalid refresh token" in bot.texts_to("admin-1")[1]
        async with httpx.AsyncClient() as client:
            health = (await client.get(f"{base}/healthz")).json()
        assert health["status"] == "degraded" and "zalo-token" in health["alarms"]
        assert oa.sent == []
    finally:
        stop.set()
        assert await asyncio.wait_for(service, STOP_SECONDS) == 0
