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
