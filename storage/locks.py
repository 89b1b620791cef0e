"""Cross-replica locks: only one replica polls a given source at a time (PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a name (PostgreSQL bigint)."""
    digest = hashlib.blake2b(f"portal-notifier:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def try_xact_lock(session: Session, *, name: str) -> bool:
    """Take a lock held until this session's transaction ends; False if another holds it.

    SQLite has one writer at a time and no replicas: always True there.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    got = session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_key(name)})
    return bool(got.scalar())


@contextmanager
def source_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Hold a session-level lock on `name` for the block; yields False if another replica has it.

    The lock lives on a dedicated connection, so it spans the block's own transactions, and
    PostgreSQL releases it by itself if the process dies.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
