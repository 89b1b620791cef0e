"""One PostgreSQL statement sent on a connection of its own and read later, without a thread.

The caller goes on with its own work (Python, or statements on its session) while the server
runs this one on another core; `result()` then reads the answer. libpq sends the statement
and hands back at once, and the answer is read from the socket when it is wanted, so the
interpreter lock is never waited for (a thread waits for it for up to 5 ms at a time while
the caller computes). Autocommit: a lone read needs no BEGIN or ROLLBACK.
"""

from __future__ import annotations

import contextlib
import select
from typing import Any

from psycopg import DatabaseError, pq
from sqlalchemy.engine import Connection, Engine


class SideQuery:
    """`sql` (positional $1..$n parameters, as text) running beside the caller."""

    def __init__(self, engine: Engine, sql: str, params: list[Any]) -> None:
        self._conn: Connection | None = engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        )
        self._pg = self._conn.connection.dbapi_connection.pgconn  # type: ignore[union-attr]
        try:
            values = [None if p is None else str(p).encode() for p in params]
            self._pg.send_query_params(sql.encode(), values)
        except BaseException:
            self.abandon()
            raise

    def result(self) -> list[tuple[str | None, ...]]:
        """The rows, each value as text (waits for the server); the connection goes back."""
        if self._conn is None:
            raise RuntimeError("the side query was read or abandoned already")
        rows: list[tuple[str | None, ...]] = []
        error = None
        try:
            while (res := self._next()) is not None:
                if res.status == pq.ExecStatus.TUPLES_OK:
                    rows += [
                        tuple(_text(res.get_value(r, c)) for c in range(res.nfields))
                        for r in range(res.ntuples)
                    ]
                elif res.status != pq.ExecStatus.COMMAND_OK:
                    error = (res.error_message or b"").decode(errors="replace").strip()
        except BaseException:
            self.abandon()
            raise
        self._conn.close()
        self._conn = None
        if error is not None:
            raise DatabaseError(error)
        return rows

    def abandon(self) -> None:
        """Cancel the statement and drop its connection (the pool opens another). A cancel
        that reaches the server before the statement is ignored: the statement then runs to
        its end, which a capped count bounds."""
        if self._conn is not None:
            with contextlib.suppress(Exception):  # best effort: the server may be gone
                self._pg.get_cancel().cancel()
            self._conn.invalidate()
            self._conn.close()
            self._conn = None

    def _next(self) -> pq.abc.PGresult | None:
        while True:
            self._pg.consume_input()
            if not self._pg.is_busy():
                return self._pg.get_result()
            select.select([self._pg.socket], [], [])  # releases the interpreter lock


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()
