"""Migration 0006 agrees with the models; inbound events are taken in once (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage import inbound
from storage.db import session_scope

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
TABLES = {"zalo_tokens", "inbound_events"}
UNREACHABLE = {"unreachable_reason", "unreachable_since"}


def test_migration_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)

    def table_of(change: object) -> str | None:
        item = change[0] if isinstance(change, list) else change
        for part in item[1:] if isinstance(item, tuple) else ():
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None) in TABLES:
                return str(table.name)
            if name in TABLES:
                return str(name)
            if isinstance(part, str) and part in TABLES:
                return part
        return None

    def column_of(change: object) -> str | None:
        item = change[0] if isinstance(change, list) else change
        if not isinstance(item, tuple) or len(item) < 4:
            return None
        return str(getattr(item[3], "name", item[3]))

    ours = [c for c in diff if table_of(c) is not None or column_of(c) in UNREACHABLE]
    assert ours == []


def test_an_event_is_taken_in_once(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert inbound.first_time(s, platform="zalo", event_id="m1", now=NOW)
        assert not inbound.first_time(s, platform="zalo", event_id="m1", now=NOW)
        assert inbound.first_time(s, platform="zalo-bot", event_id="m1", now=NOW)
    with session_scope(engine) as s:  # the duplicate did not spoil the transaction
        assert not inbound.first_time(s, platform="zalo", event_id="m1", now=NOW)
        assert inbound.forget_older(s, now=NOW + timedelta(days=8)) == 2
        assert inbound.first_time(s, platform="zalo", event_id="m1", now=NOW)


def test_unreachable_chat_missed_alerts_reasons_and_admin_notices(engine: Engine) -> None:
    from sqlmodel import select

    from storage import reach
    from storage.deliveries import enqueue, new_row
    from storage.models import Chat, Delivery
    from tests.bot_articles import seed_corpus

    seed_corpus(engine)
    with session_scope(engine) as s:
        chat, admin = (
            Chat(platform="zalo", external_id="u1"),
            Chat(platform="zalo", external_id="a1"),
        )
        s.add_all([chat, admin])
        s.flush()
        assert chat.id is not None
        enqueue(s, rows=[new_row(chat_id=chat.id, kind="alert", now=NOW, article_id=n, topic="t")
                         for n in (1, 2, 3)])  # fmt: skip
        assert reach.mark_unreachable(s, platform="zalo", external_id="u1", reason="zalo -230: x",
                                      now=NOW)  # fmt: skip
        assert not reach.mark_unreachable(s, platform="zalo", external_id="u1",
                                          reason="zalo -230: x", now=NOW)  # fmt: skip
        rows = s.exec(select(Delivery).order_by(Delivery.id)).all()  # type: ignore[arg-type]
        rows[0].state, rows[0].error = "failed", "zalo -230: x"
        rows[1].state, rows[1].error = "failed", "zalo -230: x"
        rows[2].state, rows[2].error = "failed", "HTTP 500"
        s.add_all(rows)
    with session_scope(engine) as s:
        assert reach.unreachable_chats(s, platform="zalo") == {"u1": "zalo -230: x"}
        assert reach.undelivered_reasons(s, platforms=("zalo",)) == [
            ("zalo", "zalo -230: x", 2),
            ("zalo", "HTTP 500", 1),
        ]
        assert chat.id is not None
        missed = reach.come_back(s, chat_id=chat.id, reasons=("zalo -230", "zalo -213"))
        assert [m.article_id for m in missed] == [1, 2]
        assert reach.come_back(s, chat_id=chat.id, reasons=("zalo -230",)) == []  # once
        assert reach.unreachable_chats(s, platform="zalo") == {}
        queued = reach.notice_admins(
            s, text="Zalo OA: out of quota", admins=[("zalo", "a1"), ("telegram", "9")], now=NOW
        )
        assert queued == 1
