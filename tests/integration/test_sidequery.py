"""A statement sent on a connection of its own runs while the caller works, and cleans up."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from psycopg import DatabaseError
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from storage.db import make_engine
from storage.sidequery import SideQuery

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_server_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_server_url)
    yield engine
    engine.dispose()


def test_the_statement_runs_while_the_caller_does_its_own(pg: Engine) -> None:
    started = time.monotonic()
    side = SideQuery(pg, "SELECT pg_sleep(0.3), $1::int + 1, $2::text", [41, None])
    sent = time.monotonic() - started
    with pg.connect() as conn:  # the caller's own statements meanwhile
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    rows = side.result()
    assert rows == [("", "42", None)]
    assert sent < 0.3 <= time.monotonic() - started  # sent without waiting, then waited for
    assert pg.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_an_error_is_raised_when_read_and_the_connection_returns(pg: Engine) -> None:
    side = SideQuery(pg, "SELECT 1 / $1::int", [0])
    with pytest.raises(DatabaseError, match="division by zero"):
        side.result()
    assert pg.pool.checkedout() == 0  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        side.result()


def _running(conn: Connection, query: str, *, want: bool) -> None:
    """Wait until the server shows `query` running (want) or no longer running."""
    seen = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = :q"
    for _ in range(100):  # 2 s, well within the 5 s the statement would sleep
        if bool(conn.execute(text(seen), {"q": query}).scalar_one()) == want:
            return
        time.sleep(0.02)  # the server's own view, read again: nothing to await
    pytest.fail(f"{query!r} {'never started' if want else 'still runs'}")


def test_an_abandoned_statement_takes_its_connection_with_it(pg: Engine) -> None:
    query = "SELECT pg_sleep(5) AS abandoned"
    side = SideQuery(pg, query, [])
    # Autocommit: each look at pg_stat_activity is its own transaction (within one, the
    # server shows the snapshot its first look took: a stopped statement would still run).
    with pg.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # A cancel that reaches the server before the statement is ignored (the statement
        # then runs to its end: the product's counts are bounded), so cancel a running one.
        _running(conn, query, want=True)
        started = time.monotonic()
        side.abandon()
        assert time.monotonic() - started < 2  # not waited for
        assert conn.execute(text("SELECT 2")).scalar_one() == 2  # the pool still serves
        _running(conn, query, want=False)  # the server stopped the statement
    assert pg.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_statement_that_cannot_be_sent_gives_its_connection_back(pg: Engine) -> None:
    class Unsayable:
        def __str__(self) -> str:
            raise ValueError("no text for this parameter")

    with pytest.raises(ValueError, match="no text"):
        SideQuery(pg, "SELECT $1::text", [Unsayable()])
    assert pg.pool.checkedout() == 0  # type: ignore[attr-defined]
