"""Zalo OA token pairs: single-use refresh tokens rotated under a lock, never lost.

Each refresh token works once. The refresher holds a lock for the whole refresh (a
PostgreSQL advisory transaction lock plus `SELECT ... FOR UPDATE`, or SQLite's
`BEGIN IMMEDIATE`), and stores the new pair in the same transaction that marks the old
one used, so two refreshes never race (also across replicas) and no request sees a new
access token before its pair is committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col, select

from storage.db import make_engine
from storage.locks import lock_key
from storage.models import ZaloToken


@dataclass(frozen=True)
class TokenPair:
    """The live pair (a copy: safe to hold outside the session)."""

    id: int
    access_token: str | None
    refresh_token: str
    expires_at: datetime | None
    failure: str | None

    def fresh(self, now: datetime, margin_seconds: float) -> bool:
        """True when the access token is set and outlives `now` by the margin."""
        if not self.access_token or self.expires_at is None:
            return False
        return (self.expires_at - now).total_seconds() > margin_seconds


def _pair(row: ZaloToken) -> TokenPair:
    assert row.id is not None
    return TokenPair(row.id, row.access_token, row.refresh_token, row.expires_at, row.failure)


def _live_stmt(app_id: str, *, for_update: bool = False) -> object:
    stmt = (
        select(ZaloToken)
        .where(ZaloToken.app_id == app_id, col(ZaloToken.used_at).is_(None))
        .order_by(col(ZaloToken.id).desc())
        .limit(1)
    )
    return stmt.with_for_update() if for_update else stmt


def live(session: Session, *, app_id: str) -> TokenPair | None:
    """The newest unspent pair of the app, or None before the first seed."""
    row = session.exec(_live_stmt(app_id)).first()  # type: ignore[call-overload]
    return _pair(row) if row is not None else None


def seed(session: Session, *, app_id: str, refresh_token: str, now: datetime) -> bool:
    """Store the configured first refresh token unless it is already known; True if stored.

    A token the database has seen (live or spent) is ignored: after a rotation the setting
    still holds the first, spent one. A new token in the setting replaces the live pair (an
    admin's fix after a refresh failed for good).
    """
    known = select(ZaloToken.id).where(
        ZaloToken.app_id == app_id, ZaloToken.refresh_token == refresh_token
    )
    if session.exec(known).first() is not None:
        return False
    current = session.exec(_live_stmt(app_id)).first()  # type: ignore[call-overload]
    if current is not None:
        current.used_at = now
        session.add(current)
    session.add(ZaloToken(app_id=app_id, refresh_token=refresh_token, created_at=now))
    session.flush()
    return True


class RefreshTxn:
    """What the lock holder may do: read the live pair, rotate it, or record a failure."""

    def __init__(self, session: Session, app_id: str) -> None:
        self.session, self.app_id = session, app_id

    def current(self) -> TokenPair | None:
        """The live pair, read under the lock."""
        stmt = _live_stmt(self.app_id, for_update=True)
        row = self.session.exec(stmt).first()  # type: ignore[call-overload]
        return _pair(row) if row is not None else None

    def rotate(
        self,
        *,
        old_id: int,
        access_token: str,
        refresh_token: str,
        expires_at: datetime,
        now: datetime,
    ) -> TokenPair:
        """Mark `old_id` used and add the new pair (committed together when the lock ends)."""
        old = self.session.get(ZaloToken, old_id)
        assert old is not None and old.used_at is None, "rotating a spent token"
        old.used_at = now
        new = ZaloToken(
            app_id=self.app_id,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            created_at=now,
        )
        self.session.add_all([old, new])
        self.session.flush()
        return _pair(new)

    def fail(self, *, token_id: int, reason: str) -> None:
        """Record a permanent refresh failure on the live pair (the configuration alarm)."""
        row = self.session.get(ZaloToken, token_id)
        if row is not None:
            row.failure = reason[:500]
            self.session.add(row)
            self.session.flush()


def _immediate_engine(engine: Engine) -> Engine:
    """A SQLite engine whose transactions start with BEGIN IMMEDIATE (SQLAlchemy's recipe)."""
    url = engine.url.render_as_string(hide_password=False)
    held = _IMMEDIATE.get(url)
    if held is not None:
        return held
    eng = make_engine(url, poolclass=NullPool)

    @event.listens_for(eng, "connect")
    def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # pysqlite would otherwise BEGIN (deferred) itself

    @event.listens_for(eng, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock before the first read

    _IMMEDIATE[url] = eng
    return eng


_IMMEDIATE: dict[str, Engine] = {}


@contextmanager
def refresh_lock(engine: Engine, *, app_id: str) -> Iterator[RefreshTxn]:
    """Hold the app's refresh lock for the block; what it wrote commits when it ends."""
    if engine.dialect.name == "sqlite":
        engine = _immediate_engine(engine)
    with Session(engine, expire_on_commit=False) as session:
        try:
            if engine.dialect.name == "postgresql":
                # The advisory lock also covers the first seed, when no row exists to lock.
                key = lock_key(f"zalo-token:{app_id}")
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            yield RefreshTxn(session, app_id)
            session.commit()
        except BaseException:
            session.rollback()
            raise
