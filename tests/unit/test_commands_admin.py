"""Admin commands on both databases: who is admin, broadcasts with a preview, access, stats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.commands import ADMIN_COMMANDS, Request, Services, handle, press
from bot.commands.router import ADMIN_BUTTONS
from bot.console.chat import render
from bot.flood import RateLimiter
from storage import chats
from storage.articles import save_source_state
from storage.backfill import save_backfill
from storage.db import session_scope
from storage.models import AuditEntry, Broadcast, Chat, Delivery
from tests.bot_articles import seed_corpus

NOW = datetime(2011, 12, 16, 5, 0, tzinfo=UTC)
ADMIN = "1"


@pytest.fixture
def svc(engine: Engine) -> Iterator[Services]:
    seed_corpus(engine)
    yield Services(
        engine=engine,
        clock=lambda: NOW,
        limiter=RateLimiter(burst=10_000),
        admin_ids=frozenset({ADMIN}),
    )


def ask(svc: Services, text: str, *, chat: str = ADMIN, lang: str = "vi") -> str:
    reply = handle(svc, Request("telegram", chat, text, user_id=chat, language_code=lang))
    assert reply is not None
    return render(reply)


def tap(svc: Services, data: str, *, chat: str = ADMIN, lang: str = "vi") -> str:
    pressed = press(svc, Request("telegram", chat, data, user_id=chat, language_code=lang))
    assert pressed is not None
    return render(pressed.reply)


def buttons(svc: Services, text: str, *, chat: str = ADMIN) -> list[str]:
    reply = handle(svc, Request("telegram", chat, text, user_id=chat))
    assert reply is not None
    return [b.data or "" for row in reply.buttons for b in row]


def rows(engine: Engine) -> list[Delivery]:
    """The delivery rows of announcements (not of notices such as progress messages)."""
    announcements = select(Broadcast.id).where(Broadcast.kind == "announcement")
    stmt = select(Delivery).where(col(Delivery.broadcast_id).in_(announcements))
    with session_scope(engine) as s:
        return list(s.exec(stmt.order_by(col(Delivery.id))).all())


def test_non_admin_is_refused_every_admin_command_and_button(svc: Services, engine: Engine) -> None:
    ask(svc, "/start", chat="50")
    [confirm, _cancel] = buttons(svc, "/broadcast hello")
    refused = "Lệnh này chỉ dành cho quản trị viên."
    for name in ADMIN_COMMANDS:
        for args in ("", " add 50", " cancel", " status", " pending", " text"):
            assert ask(svc, f"/{name}{args}", chat="50") == refused, name
    for prefix in ADMIN_BUTTONS:
        assert tap(svc, f"{prefix}1", chat="50") == refused, prefix
    assert tap(svc, confirm, chat="50") == refused
    assert rows(engine) == []  # nothing was queued by anyone's press
    assert "/broadcast" not in ask(svc, "/help", chat="50")
    # /sources is for everyone: the names to subscribe to; the health view is the admins'.
    assert ask(svc, "/sources", chat="50").startswith("Các nguồn tin:")
    assert "Lệnh quản trị:" in ask(svc, "/help") and "/stats" in ask(svc, "/help")
    assert "Text of the announcement" in ask(svc, "/help", lang="en")
    assert "Nội dung" not in ask(svc, "/help", lang="en")


def test_broadcast_preview_confirm_once_and_audit(svc: Services, engine: Engine) -> None:
    ask(svc, "/subscribe dân chủ", chat="10")
    ask(svc, "/start", chat="11")
    ask(svc, "/start", chat="12")
    with session_scope(engine) as s:
        gone = chats.find_chat(s, platform="telegram", external_id="12")
        assert gone is not None and gone.id is not None
        chats.deactivate_chat(s, chat_id=gone.id, reason="blocked")
        chats.ensure_chat(s, platform="console", external_id="local")
    preview = ask(svc, "/broadcast Họp <b>khẩn</b> & đúng giờ")
    assert preview.startswith("Xem trước thông báo gửi tới 3 cuộc trò chuyện:")
    assert "Họp <b>khẩn</b> & đúng giờ" in preview and "✅ Gửi" in preview
    assert rows(engine) == []  # nothing queued before Confirm
    [confirm, _cancel] = buttons(svc, "/broadcast [Dân Chủ] Chỉ cho chủ đề")
    assert tap(svc, confirm, lang="en").startswith("Announcement #2 queued to 1 chats.")
    assert tap(svc, confirm).startswith("Thông báo #2 đã được xử lý rồi (đang gửi)")
    assert [(d.kind, d.topic) for d in rows(engine)] == [("broadcast", "Dân Chủ")]
    assert ask(svc, "/broadcast [không ai] x") == "Không có cuộc trò chuyện nào nhận thông báo này."
    assert ask(svc, "/broadcast").startswith("Cách dùng: /broadcast")
    assert ask(svc, "/broadcast [dân chủ]   ").startswith("Cách dùng: /broadcast")
    assert "quá dài" in ask(svc, "/broadcast " + "x" * 3501)
    with session_scope(engine) as s:
        [entry] = s.exec(select(AuditEntry).where(AuditEntry.action == "broadcast")).all()
        assert entry.actor == "telegram:1" and entry.subject == "#2"
        assert json.loads(entry.detail) == {
            "text": "Chỉ cho chủ đề",
            "topic": "Dân Chủ",
            "audience": 1,
        }


def test_cancel_button_discards_the_draft(svc: Services, engine: Engine) -> None:
    ask(svc, "/start", chat="10")
    [confirm, cancel] = buttons(svc, "/broadcast hello")
    assert tap(svc, cancel) == "Đã hủy, không gửi thông báo #1."
    assert "đã hủy" in tap(svc, confirm)
    assert rows(engine) == []


def test_broadcast_cancel_and_status(svc: Services, engine: Engine) -> None:
    for chat in ("10", "11", "12"):
        ask(svc, "/start", chat=chat)
    [confirm, _] = buttons(svc, "/broadcast first")
    tap(svc, confirm)
    with session_scope(engine) as s:  # one row went out already
        first = s.get(Delivery, rows(engine)[0].id)
        assert first is not None
        first.state = "sent"
        s.add(first)
    assert ask(svc, "/broadcast cancel") == "Đã dừng: 3 tin chưa gửi sẽ không được gửi."
    assert ask(svc, "/broadcast cancel") == "Không có thông báo nào đang gửi."
    status = ask(svc, "/broadcast status", lang="en")
    assert "#1" in status and "(cancelled): first" in status
    assert "sent 1, failed 0, unreachable 0, left 3" in status
    assert [d.state for d in rows(engine)] == ["sent", "cancelled", "cancelled", "cancelled"]


def test_admin_add_remove_list_audited(svc: Services, engine: Engine) -> None:
    assert ask(svc, "/stats", chat="7") == "Lệnh này chỉ dành cho quản trị viên."
    assert ask(svc, "/admin add 7", lang="en") == "User 7 is now an admin."
    assert ask(svc, "/admin add 7") == "7 đã là quản trị viên."
    assert "Thống kê" in ask(svc, "/stats", chat="7")
    assert ask(svc, "/admin list", lang="en") == "Admins: 1 (settings); 7 (added with /admin add)"
    assert ask(svc, "/admin remove 1").startswith("1 là quản trị viên trong TELEGRAM_ADMIN_IDS")
    assert ask(svc, "/admin remove 7", chat="7") == "Đã bỏ quyền quản trị của 7."
    assert ask(svc, "/stats", chat="7") == "Lệnh này chỉ dành cho quản trị viên."
    assert ask(svc, "/admin add abc").startswith("Mã người dùng phải là một số")
    assert ask(svc, "/admin").startswith("Cách dùng: /admin add")
    with session_scope(engine) as s:
        log = s.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        assert [(e.actor, e.action, e.subject) for e in log] == [
            ("telegram:1", "admin_add", "telegram:7"),
            ("telegram:7", "admin_remove", "telegram:7"),
        ]


def test_approval_mode_from_request_to_approval(svc: Services, engine: Engine) -> None:
    ask(svc, "/start")  # the admin's own chat exists, so the admin can be told
    svc.access_mode = "approval"
    waiting = ask(svc, "/latest", chat="20", lang="en")
    assert waiting.startswith("Thank you! An administrator must approve this chat")
    assert ask(svc, "/search quy chế", chat="20").startswith("Cảm ơn bạn!")
    assert ask(svc, "/help", chat="20").startswith("Các lệnh")  # help is open to everyone
    assert ask(svc, "/subscribe", chat="20").startswith("Cảm ơn bạn!")
    pending = ask(svc, "/admin pending")
    assert pending.startswith("Chờ duyệt (1):") and "telegram 20" in pending
    with session_scope(engine) as s:
        [notice] = s.exec(select(Broadcast).where(Broadcast.kind == "notice")).all()
        assert notice.text == "Yêu cầu dùng bot mới: private (telegram 20)"
        assert notice.buttons is not None
        approve = notice.buttons[0][0]["data"]
        reject = notice.buttons[0][1]["data"]
        admin_chat = chats.find_chat(s, platform="telegram", external_id=ADMIN)
        assert admin_chat is not None
        queued = s.exec(select(Delivery).where(Delivery.broadcast_id == notice.id)).all()
        assert [d.chat_id for d in queued] == [admin_chat.id]
    assert tap(svc, approve) == "Đã duyệt private (telegram 20)."
    assert ask(svc, "/subscribe", chat="20") == "Đã đăng ký nhận mọi tin mới."
    assert ask(svc, "/admin pending") == "Không có cuộc trò chuyện nào chờ duyệt."
    # A second chat is rejected and told so politely, then every message gets that answer.
    ask(svc, "/start", chat="21")
    with session_scope(engine) as s:
        chat21 = chats.find_chat(s, platform="telegram", external_id="21")
        assert chat21 is not None
    assert reject == "ac:no:" + approve.removeprefix("ac:ok:")  # the button pair of chat 20
    assert tap(svc, f"ac:no:{chat21.id}", lang="en") == "Rejected: private (telegram 21)."
    assert ask(svc, "/latest", chat="21").startswith("Xin lỗi, quản trị viên chưa cho phép")
    with session_scope(engine) as s:
        actions = [e.action for e in s.exec(select(AuditEntry)).all()]
        assert actions == ["approve", "reject"]
        texts = [b.text for b in s.exec(select(Broadcast).where(Broadcast.kind == "notice"))]
        assert "Quản trị viên đã duyệt cuộc trò chuyện này. Gõ /help để xem các lệnh." in texts
        held = s.exec(select(Chat).where(Chat.access != "approved")).all()
        assert [(c.external_id, c.access) for c in held] == [("21", "rejected")]


def test_stats_in_the_chats_language(svc: Services, engine: Engine) -> None:
    ask(svc, "/subscribe", chat="5")
    stats = ask(svc, "/stats")
    assert "Bài viết: 3" in stats
    assert "Cuộc trò chuyện: 2 đang nhận, 0 không liên lạc được, 0 chờ duyệt" in stats
    assert "Đăng ký theo chủ đề: 1" in stats
    assert "Hàng đợi: trống" in stats
    assert "pending" not in stats and "sent" not in stats  # no English state names
    ask(svc, "/start", chat="6")
    [confirm, _] = buttons(svc, "/broadcast hi")
    tap(svc, confirm)
    # Three chats, and the admin's progress message.
    assert "Hàng đợi telegram: chờ gửi 4" in ask(svc, "/stats")
    en = ask(svc, "/stats", lang="en")
    assert "Queue telegram: pending 4" in en and "Deliveries in the last hour: pending 4" in en


def test_sources_explain_errors_in_words(svc: Services, engine: Engine) -> None:
    assert ask(svc, "/sources").startswith("Chưa nguồn nào được quét.")
    with session_scope(engine) as s:
        save_source_state(s, name="tinh", values={"last_success_at": NOW, "last_item_count": 12})
        save_source_state(
            s,
            name="dangbo",
            values={"consecutive_failures": 3, "last_error": "dns", "last_error_at": NOW},
        )
    out = ask(svc, "/sources", lang="en")
    assert "✅ tinh" in out and "Last success: 16/12/2011 12:00" in out
    assert "⚠️ dangbo" in out and "Error at 16/12/2011 12:00: cannot resolve the host name" in out
    assert "không phân giải được tên miền" in ask(svc, "/sources")
    with session_scope(engine) as s:
        values = {"skipped_items": 2, "last_skip_reason": "http://x/a: ValueError"}
        save_source_state(s, name="tinh", values=values)
    out = ask(svc, "/sources", lang="en")
    assert "2 unreadable items skipped by the last poll (latest reason: http://x/a" in out
    with session_scope(engine) as s:
        save_source_state(s, name="tinh", values={"ambiguous_dates": 2})
        save_backfill(s, source="tinh", values={"pages_done": 7, "articles_stored": 70})
    out = ask(svc, "/sources")
    assert "2 ngày mơ hồ (9/12 hay 12/9?) chưa lưu: khai báo date_order" in out
    assert "Lấy tin cũ: 7 trang, 70 bài, đang chạy" in out
