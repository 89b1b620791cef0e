"""The store keeps planner statistics fresh, and start-up skips Alembic at the head."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.articles import store_articles
from storage.db import alembic_config, script_head, session_scope
from storage.models import ArticleBase
from storage.upkeep import ANALYZE_MIN_ROWS, refresh_statistics

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def _items(start: int, n: int) -> list[tuple[ArticleBase, str]]:
    return [
        (ArticleBase(key=f"k{i}", source="tinh", url=f"https://x/{i}", title=f"Tin {i}"), f"h{i}")
        for i in range(start, start + n)
    ]


def _analyzed_rows(engine: Engine, table: str = "articles") -> float:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            sql = f"SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass"
            return float(conn.execute(text(sql)).scalar_one())
        has = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"))
        if has.first() is None:
            return -1.0
        stat = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'articles'")).scalar()
        return float(str(stat).split()[0]) if stat else -1.0


def _flush_pg_counters(engine: Engine) -> None:
    # PostgreSQL publishes a backend's row counters about a second after its commits;
    # the next test step must not wait for the clock.
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_force_next_flush()"))


def test_a_big_store_analyzes_and_a_small_one_does_not(engine: Engine) -> None:
    with session_scope(engine) as s:
        store_articles(s, items=_items(0, 20), now=NOW)
    assert _analyzed_rows(engine) <= 0  # a few rows: no statistics needed yet
    done = 20
    while done < ANALYZE_MIN_ROWS + 50:
        with session_scope(engine) as s:
            if engine.dialect.name == "postgresql":
                s.execute(text("SELECT pg_stat_force_next_flush()"))
            store_articles(s, items=_items(done, 100), now=NOW)
        done += 100
    _flush_pg_counters(engine)
    with session_scope(engine) as s:  # the next store (or this call) sees the counters
        refresh_statistics(s)
    assert _analyzed_rows(engine) >= ANALYZE_MIN_ROWS
    if engine.dialect.name == "postgresql":
        assert _analyzed_rows(engine, "article_search") >= ANALYZE_MIN_ROWS
    with session_scope(engine) as s:
        assert not refresh_statistics(s)  # nothing changed since: no second ANALYZE


def test_the_head_is_read_from_the_files_as_alembic_reads_it(engine: Engine) -> None:
    assert script_head() == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
