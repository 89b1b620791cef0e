"""What differs between the two databases, asked of the session's own dialect.

Only the running database's dialect module is imported: a SQLite service never loads
SQLAlchemy's PostgreSQL dialect (2 MB resident, bench_memory).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlmodel import Session


def is_pg(session: Session) -> bool:
    """True when the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    if is_pg(session):
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
