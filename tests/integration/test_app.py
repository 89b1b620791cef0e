"""The composition root end to end: the service against the fake Bot API (and a fake portal):
commands, /healthz, alerts from stored or polled articles, an admin's broadcast."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import HttpUrl, SecretStr

from bot.service import serve
from bot.settings import Settings
from bot.web import bind
from jobs.delivery.enqueue import make_on_stored
from jobs.ingest.fetch import Fetcher
from jobs.ingest.poll import poll_all
from jobs.ingest.sources import SourceConfig, load_sources
from storage import chats
from storage.articles import store_articles
from storage.db import make_engine, session_scope, upgrade
from storage.models import ArticleBase
from storage.types import utcnow
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, build_site, mount
from tests.fakes.telegram_api import FakeTelegram

USER = 3003
ADMIN = 3004
SERVE_STOP_SECONDS = 15.0
HUE = ZoneInfo("Asia/Ho_Chi_Minh")


async def _poll_once(db_url: str, sources: list[SourceConfig]) -> None:
    engine = make_engine(db_url)
    hook = make_on_stored(tz=HUE)
    async with Fetcher() as fetcher:
        reports = await poll_all(
            sources, fetcher=fetcher, engine=engine, tz=HUE, now=utcnow(), on_stored=hook
        )
    engine.dispose()
    assert [r.failed for r in reports] == [None] and reports[0].new == 6


def _store_article(db_url: str) -> None:
    engine = make_engine(db_url)
    published = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    article = ArticleBase(
        key="newsid:alert-1",
        source="tinh",
        url="https://thuathienhue.gov.vn/vi-vn/tin/newsid/alert-1",
        title="Hội nghị về Quy chế dân chủ ở cơ sở",
        body="Sáng nay tỉnh tổ chức hội nghị về quy chế dân chủ.",
        published_at=published,
        local_date=published.date(),
    )
    hook = make_on_stored(tz=Settings(_env_file=None).tz)  # type: ignore[call-arg]
    with session_scope(engine) as session:
        result = store_articles(session, items=[(article, "hash-1")], now=published)
        assert hook(session, result) == 1
    engine.dispose()


async def test_service_answers_commands_and_delivers_alerts(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'svc.db'}"
    with FakeTelegram() as fake:
        fake.limits.private_burst = 50
        sock = bind("127.0.0.1", 0)
        port = sock.getsockname()[1]
        sock.close()  # serve() binds LISTEN_PORT itself; this only picked a free port
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=db_url,
            sources_file=tmp_path / "none.toml",  # no polling: no network in tests
            telegram_bot_token=SecretStr(fake.token),
            telegram_api_url=HttpUrl(fake.url),
            listen_port=port,
            telegram_admin_ids=[ADMIN],
        )
        stop = asyncio.Event()
        service = asyncio.create_task(serve(settings, stop=stop))
        try:
            fake.push_message(USER, "/subscribe quy chế dân chủ")
            [reply] = await fake.wait_for_messages_async(1, chat_id=USER, timeout=15)
            assert reply.plain_text == "Đã đăng ký chủ đề “quy chế dân chủ”."
            async with httpx.AsyncClient() as client:
                health = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert health.json() == {"status": "ok"}
            await asyncio.to_thread(_store_article, db_url)
            alert = (await fake.wait_for_messages_async(2, chat_id=USER, timeout=15))[1]
            assert "Hội nghị về Quy chế dân chủ ở cơ sở" in (alert.plain_text or "")
            [button] = alert.buttons()
            fake.push_callback(USER, alert.message_id, button["callback_data"])
            [confirmed] = (await fake.wait_for_messages_async(3, chat_id=USER, timeout=15))[2:]
            assert confirmed.plain_text == "Đã bỏ theo dõi “quy chế dân chủ”."
            fake.push_message(USER, "/subscribe quy chế dân chủ")  # back, for the broadcast
            await fake.wait_for_messages_async(4, chat_id=USER, timeout=15)
            fake.push_message(ADMIN, "/broadcast [quy che dan chu] Họp lúc 14:00 <b>&")
            [queued] = await fake.wait_for_messages_async(1, chat_id=ADMIN, timeout=15)
            assert queued.plain_text == "Đã xếp hàng gửi thông báo tới 1 cuộc trò chuyện."
            notice = (await fake.wait_for_messages_async(5, chat_id=USER, timeout=15))[4]
            assert notice.plain_text == "Họp lúc 14:00 <b>&"
        finally:
            stop.set()
            assert await asyncio.wait_for(service, SERVE_STOP_SECONDS) == 0
        assert fake.errors == []


async def test_a_token_telegram_refuses_ends_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeTelegram() as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=f"sqlite:///{tmp_path / 'svc.db'}",
            sources_file=tmp_path / "none.toml",
            telegram_bot_token=SecretStr("999:not-a-token-the-fake-knows"),
            telegram_api_url=HttpUrl(fake.url),
            listen_port=0,
        )
        assert await serve(settings) == 1
    err = capsys.readouterr().err
    assert "cannot start the bot" in err and "not-a-token" not in err


async def test_a_listen_port_in_use_ends_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = bind("127.0.0.1", 0)  # listening: another program holds the port
    try:
        with FakeTelegram() as fake:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=f"sqlite:///{tmp_path / 'svc.db'}",
                sources_file=tmp_path / "none.toml",
                telegram_bot_token=SecretStr(fake.token),
                telegram_api_url=HttpUrl(fake.url),
                listen_port=taken.getsockname()[1],
            )
            assert await serve(settings) == 1
    finally:
        taken.close()
    err = capsys.readouterr().err
    assert "cannot start the bot" in err and "Address already in use" in err


async def test_scheduler_polls_a_portal_and_the_alert_reaches_telegram(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'svc.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:  # an official who follows "Lăng Cô" already
        chat = chats.ensure_chat(session, platform="telegram", external_id=str(USER))
        assert chat.id is not None
        chats.add_subscription(session, chat_id=chat.id, topic="Lăng Cô")
    engine.dispose()
    site = build_site(n_articles=6, per_page=5)
    sources = tmp_path / "sources.toml"
    with FakeHTTPServer() as portal, FakeTelegram() as fake:
        mount(portal, site)
        sources.write_text(
            f'[[source]]\nname = "portal"\nkind = "html"\nurls = ["{portal.url(LISTING_PATH)}"]\n'
            "pages = 2\nallow_private = true\n",
            encoding="utf-8",
        )
        # The first read of a source is its baseline (no alerts); the next new article alerts.
        await _poll_once(db_url, load_sources(sources))
        site.add_article(title="Phát triển du lịch biển Lăng Cô năm 2027")
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=db_url,
            sources_file=sources,
            telegram_bot_token=SecretStr(fake.token),
            telegram_api_url=HttpUrl(fake.url),
            listen_port=0,
        )
        stop = asyncio.Event()
        service = asyncio.create_task(serve(settings, stop=stop))
        try:
            [alert] = await fake.wait_for_messages_async(1, chat_id=USER, timeout=30)
            assert "Phát triển du lịch biển Lăng Cô năm 2027" in (alert.plain_text or "")
            fake.push_message(USER, "/search lang co")
            [found] = (await fake.wait_for_messages_async(2, chat_id=USER, timeout=15))[1:]
            assert "Kết quả cho “lang co”: 1 bài" in (found.plain_text or "")
        finally:
            stop.set()
            assert await asyncio.wait_for(service, SERVE_STOP_SECONDS) == 0
        assert fake.errors == []
