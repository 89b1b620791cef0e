"""Migrations build the whole schema on both databases and are idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from storage.db import current_revision, session_scope, upgrade
from storage.models import Article, SourceState


def test_upgrade_creates_tables_and_is_idempotent(engine: Engine) -> None:
    upgrade(engine)  # second run must be a no-op, not an error
    tables = set(inspect(engine).get_table_names())
    assert {"articles", "source_states", "http_cache", "chats", "subscriptions"} <= tables
    assert {"broadcasts", "deliveries", "alembic_version"} <= tables
    assert current_revision(engine) is not None


def test_timestamps_round_trip_as_aware_utc(engine: Engine) -> None:
    local = datetime(2011, 12, 16, 8, 30, tzinfo=timezone(timedelta(hours=7)))
    with session_scope(engine) as s:
        s.add(
            Article(key="k", source="s", url="u", title="t", content_hash="h", published_at=local)
        )
        s.add(SourceState(name="s"))
    with session_scope(engine) as s:
        art = s.get(Article, 1)
        assert art is not None and art.published_at is not None
        assert art.published_at.tzinfo is not None
        assert art.published_at == datetime(2011, 12, 16, 1, 30, tzinfo=UTC)


def test_issue_11_tables_and_columns_match_the_models(engine: Engine) -> None:
    """Migration 0007 and the SQLModel models agree (admins, audit, pace, new columns)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    mine = {"admins", "audit_log", "send_pace"}
    columns = {("chats", "access"), ("source_states", "alarmed")}
    columns |= {("broadcasts", name) for name in (
        "kind", "state", "author_chat_id", "audience", "confirmed_at", "finished_at", "sent",
        "failed", "unreachable", "left", "buttons", "parent_id", "lang",
    )}  # fmt: skip
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)

    def concerns(diff: object) -> bool:
        text = repr(diff)
        return any(f"'{t}'" in text for t in mine) or any(
            f"'{t}'" in text and f"'{c}'" in text for t, c in columns
        )

    flat = [d for item in diffs for d in (item if isinstance(item, list) else [item])]
    assert [d for d in flat if concerns(d)] == []
    tables = set(inspect(engine).get_table_names())
    assert mine <= tables
