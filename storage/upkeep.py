"""Planner statistics kept fresh by the store itself, so plans hold as the archive grows.

Neither database keeps them fresh for us everywhere: SQLite never analyzes on its own, and
PostgreSQL's autovacuum may be off or lag behind a first poll that stores a whole archive.
Without statistics PostgreSQL took 49 ms (p50) for /date at 100k articles instead of 1.5.
So after a store that inserted rows, the store compares the rows changed since the last
ANALYZE with the rows counted then, and analyzes the articles table past the same
threshold autovacuum uses by default (ANALYZE_MIN_ROWS + ANALYZE_FRACTION of the table).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from storage import dialects

ANALYZE_MIN_ROWS = 500
ANALYZE_FRACTION = 0.1
SQLITE_ANALYSIS_LIMIT = 1000  # rows sampled per index: approximate, milliseconds at 1M

_PG_STATE = (
    "SELECT c.reltuples, s.n_mod_since_analyze FROM pg_class c"
    " JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = 'articles'::regclass"
)


def _due(rows_then: float, changed: float) -> bool:
    return changed > ANALYZE_MIN_ROWS + ANALYZE_FRACTION * max(rows_then, 0.0)


def refresh_statistics(session: Session) -> bool:
    """Analyze the articles table when it changed enough since the last time; True if so."""
    if dialects.is_pg(session):
        found = session.execute(text(_PG_STATE)).first()
        if found is None or not _due(float(found[0]), float(found[1] or 0)):
            return False
        # The search vectors' own table (migration 0009) grows with the articles.
        session.execute(text("ANALYZE articles, article_search"))
        return True
    return _refresh_sqlite(session)


def _refresh_sqlite(session: Session) -> bool:
    # sqlite_stat1 exists once any ANALYZE ran; its first number is the row count then.
    has_stats = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
    ).first()
    rows_then = 0.0
    if has_stats:
        stat = session.execute(
            text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'articles' LIMIT 1")
        ).scalar()
        rows_then = float(str(stat).split()[0]) if stat else 0.0
    # Ids only grow, so the highest is an upper bound of the rows, read from the index.
    top = session.execute(text("SELECT coalesce(max(id), 0) FROM articles")).scalar_one()
    rows_now = float(top)
    if not _due(rows_then, rows_now - rows_then):
        return False
    session.execute(text(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"))
    session.execute(text("ANALYZE articles"))
    return True
