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
