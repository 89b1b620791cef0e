"""Admin commands on both databases: only admins, broadcast queueing, stats, sources."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.commands import Request, Services, handle
from bot.console.chat import render
from bot.flood import RateLimiter
from storage import chats
from storage.articles import save_source_state
from storage.db import session_scope
from storage.models import Broadcast, Delivery
from tests.bot_articles import seed_corpus

NOW = datetime(2011, 12, 16, 5, 0, tzinfo=UTC)


@pytest.fixture
def svc(engine: Engine) -> Iterator[Services]:
    seed_corpus(engine)
    yield Services(engine=engine, clock=lambda: NOW, limiter=RateLimiter(burst=10_000))


def ask(svc: Services, text: str, *, admin: bool = True, chat: str = "1", lang: str = "vi") -> str:
    reply = handle(svc, Request("telegram", chat, text, is_admin=admin, language_code=lang))
    assert reply is not None
    return render(reply)


def test_admin_commands_need_an_admin(svc: Services) -> None:
    for cmd in ("/broadcast hi", "/stats", "/sources"):
        assert ask(svc, cmd, admin=False) == "Lệnh này chỉ dành cho quản trị viên."
    assert "/broadcast" not in ask(svc, "/help", admin=False)
    assert "Lệnh quản trị:" in ask(svc, "/help") and "/stats" in ask(svc, "/help")


def test_broadcast_to_everyone_and_to_a_topic(svc: Services, engine: Engine) -> None:
    ask(svc, "/subscribe dân chủ", chat="10")
    ask(svc, "/start", chat="11")
    ask(svc, "/start", chat="12")
    with session_scope(engine) as s:
        gone = chats.find_chat(s, platform="telegram", external_id="12")
        assert gone is not None and gone.id is not None
        chats.deactivate_chat(s, chat_id=gone.id, reason="blocked")
        chats.ensure_chat(s, platform="console", external_id="local")
    # Chats 1 (the admin), 10 and 11 are active Telegram chats; 12 is blocked.
    assert ask(svc, "/broadcast Họp <b>khẩn</b> & đúng giờ") == (
        "Đã xếp hàng gửi thông báo tới 3 cuộc trò chuyện."
    )
    assert ask(svc, "/broadcast [Dân Chủ] Chỉ cho chủ đề", lang="en") == (
        "Announcement queued; chats to receive it: 1."
    )
    assert ask(svc, "/broadcast [không ai] x") == "Không có cuộc trò chuyện nào nhận thông báo này."
    assert ask(svc, "/broadcast").startswith("Cách dùng: /broadcast")
    assert ask(svc, "/broadcast [dân chủ]   ").startswith("Cách dùng: /broadcast")
    assert "quá dài" in ask(svc, "/broadcast " + "x" * 3501)
    with session_scope(engine) as s:
        rows = s.exec(select(Delivery).order_by(Delivery.id)).all()  # type: ignore[arg-type]
        assert [(d.kind, d.state, d.topic) for d in rows] == [
            ("broadcast", "pending", None)
        ] * 3 + [("broadcast", "pending", "Dân Chủ")]
        texts = [b.text for b in s.exec(select(Broadcast)).all()]
        assert texts == ["Họp <b>khẩn</b> & đúng giờ", "Chỉ cho chủ đề"]


def test_stats_and_sources(svc: Services, engine: Engine) -> None:
    ask(svc, "/subscribe", chat="5")
    stats = ask(svc, "/stats")
    assert "Bài viết: 3" in stats
    assert "Cuộc trò chuyện: 2 đang nhận, 0 đã dừng" in stats
    assert "Chủ đề đăng ký: 1" in stats
    assert "pending 0" in stats
    assert ask(svc, "/sources") == "Chưa nguồn nào được quét."
    with session_scope(engine) as s:
        save_source_state(s, name="tinh", values={"last_success_at": NOW, "last_item_count": 12})
        save_source_state(
            s,
            name="dangbo",
            values={"consecutive_failures": 3, "last_error": "timeout", "last_error_at": NOW},
        )
    out = ask(svc, "/sources", lang="en")
    assert "✅ tinh" in out and "Last success: 16/12/2011 12:00" in out
    assert "⚠️ dangbo" in out and "16/12/2011 12:00: timeout" in out
