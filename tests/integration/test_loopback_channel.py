"""A platform is a plug-in: a "loopback" channel written only here (2 messages/s, 100
characters a message) gets alerts and broadcasts through the real dispatcher, with no change
to jobs/ or storage/; rows of a platform without a sender here stay pending."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.cli_verbs import queue_list
from bot.commands import Request, Services, handle
from bot.console.chat import render as console_text
from bot.flood import RateLimiter
from bot.i18n import alert_words
from bot.settings import Settings
from jobs.delivery.dispatcher import Dispatcher
from jobs.delivery.outbound import Limits, Outcome, Recipient, Sent
from jobs.delivery.reply import Link, Reply
from storage.db import session_scope
from storage.deliveries import enqueue
from storage.models import Broadcast
from storage.types import utcnow
from tests.integration.deliveryworld import VN, publish, seed_chats, states

MAX_CHARS = 100
RATE = 2.0


@dataclass
class LoopbackSender:
    """Renders a Reply as plain text in pieces of at most MAX_CHARS; records every send."""

    platform: str = "loopback"
    limits: Limits = field(default_factory=lambda: Limits(global_rate=RATE, chat_interval=0.0))
    sent: list[tuple[float, str, str]] = field(default_factory=list)  # (time, chat, text)

    def render(self, reply: Reply) -> list[Any]:
        lines = [
            "".join(f"{r.text} ({r.url})" if isinstance(r, Link) else r.text for r in line)
            for line in reply.lines
        ]
        lines += [f"[{b.data or b.url}] {b.text}" for row in reply.buttons for b in row]
        text = "\n".join(lines)
        return [text[i : i + MAX_CHARS] for i in range(0, len(text), MAX_CHARS)]

    async def send(self, recipient: Recipient, payload: Any) -> Outcome:
        self.sent.append((time.monotonic(), recipient.external_id, str(payload)))
        return Sent(message_id=str(len(self.sent)))

    async def aclose(self) -> None:
        pass


def _broadcast(engine: Engine, text: str, chat_ids: list[int]) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        note = Broadcast(text=text, author="admin")
        session.add(note)
        session.flush()
        base = {
            **dict.fromkeys(("article_id", "topic", "lease_owner", "lease_until", "message_id")),
            **dict.fromkeys(("error", "sent_at")),
            "kind": "broadcast", "state": "pending", "attempts": 0,
            "not_before": now, "created_at": now,
        }  # fmt: skip
        enqueue(session, rows=[{**base, "chat_id": c, "broadcast_id": note.id} for c in chat_ids])


async def test_a_test_only_platform_gets_alerts_and_broadcasts_within_its_limits(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    loop_chats = seed_chats(engine, 2, topic="lũ", platform="loopback")
    seed_chats(engine, 1, topic="lũ", first_ext=9000)  # a Telegram chat: no sender here
    publish(engine, "Cảnh báo lũ trên sông Hương " + "rất lớn " * 8, now=utcnow())
    _broadcast(engine, "Thông báo khẩn: " + "sơ tán " * 20, loop_chats)
    sender = LoopbackSender()
    worker = Dispatcher(words=alert_words, engine=engine, senders=[sender], tz=VN)
    await worker.run_until_done(limit_seconds=60)

    texts = {
        chat: "".join(t for _at, c, t in sender.sent if c == chat) for chat in ("1000", "1001")
    }
    for text in texts.values():
        assert "Cảnh báo lũ trên sông Hương" in text and "[unsub:" in text  # the alert
        assert "Thông báo khẩn: sơ tán" in text  # the broadcast
    assert all(len(t) <= MAX_CHARS for _at, _c, t in sender.sent)
    times = sorted(at for at, _c, _t in sender.sent)
    assert len(times) >= 8  # long replies were split under the platform's length limit
    # Never more than RATE sends in any one-second window (the sender's own limit).
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[2:], strict=False))
    # 2 alerts + 2 broadcasts sent; the Telegram chat's alert waits for a Telegram sender.
    assert states(engine) == {"sent": 4, "pending": 1}

    # The waiting row is visible to admins: /stats and `portal-notifier queue`.
    services = Services(engine=engine, limiter=RateLimiter(burst=100))
    ask = Request(platform="console", chat_id="admin", text="/stats", is_admin=True)
    reply = handle(services, ask)
    assert reply is not None
    assert "Đang chờ gửi theo nền tảng: telegram 1" in console_text(reply)
    url = engine.url.render_as_string(hide_password=False)
    assert queue_list(Settings(_env_file=None, database_url=url)) == 0  # type: ignore[call-arg]
    assert "telegram" in capsys.readouterr().out
