"""PostgreSQL matching for storage.search: bounded work newest first, plans chosen by density.

PostgreSQL's estimate for a set of words is often off by 50 times either way (it multiplies
word frequencies; "du lịch" is a pair, not two independent words), so the plan is chosen
from a measured density instead, by the server-side function search_matches() (migrations
0008 and 0009), in one round trip: the newest PROBE_ROWS ids are checked first (2-3 ms).

- Dense (the rest of the count fits in a walk budget at that density): walk the primary
  key newest first from where the probe stopped, checking each row, until the cap. A word
  in half the articles costs about 2,000 rows, whatever the table size.
- Sparse: count through the GIN index (LIMIT, no ORDER: it stops at the cap), and take the
  newest matches from the probe, or from the GIN index bounded to a range of the newest ids
  that grows until it holds them, so a word in 1% of a million articles never sorts 10,000
  matches to show 100.

`ts_match_vq` is the function behind `@@`: the planner cannot use the GIN index for it,
which is what makes a walk a walk. The GIN statements run with index and sequential scans
off, so the planner's guess cannot turn them into a scan; the function turns them back on.
Pages past the first window (rare) run their own statement here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.ranking import SCORED_BODY_CHARS, Candidate

if TYPE_CHECKING:
    from storage.sidequery import SideQuery

PROBE_ROWS = 2000
WALK_ROWS = 8000  # 10-15 ms of row checks: a phrase through GIN rechecks rows for longer
# The GIN index's cost grows with the table (it reads every posting of every word), a
# walk's does not: a bigger table walks further before the index pays (16.7k rows at 1M).
WALK_PER_TABLE = 1 / 60
_TSQ = "to_tsquery('simple', :q)"
# What ranking needs of a candidate (storage.ranking.Candidate): octet_length reads a stored
# length where substr would walk the characters of every body.
_CANDIDATE = (
    "a.id, a.title_folded, CASE WHEN octet_length(a.body_folded) <= :chars THEN a.body_folded"
    " ELSE substr(a.body_folded, 1, :chars) END, a.published_at"
)
# The count and the newest matches, read, in one round trip (a row each; no match: one row
# of nulls). The ids are not selected: they are the rows' own, newest (highest) first.
_MATCHES = text(
    f"SELECT m.total, m.dense, {_CANDIDATE}"
    f" FROM search_matches({_TSQ}, :want, :cap, :probe, :walk, :per, true) AS m"
    " LEFT JOIN articles a ON a.id = ANY(m.ids)"
)
_CANDIDATES = text(f"SELECT {_CANDIDATE} FROM articles a WHERE a.id = ANY(:ids)")
_COUNT = "SELECT total, dense FROM search_matches(to_tsquery('simple', {}), 0, {}, {}, {}, {})"
_COUNT_PARAMS = ("q", "cap", "probe", "walk", "per")  # in the order of _COUNT's places
_COUNT_SIDE = _COUNT.format(*(f"${n}" for n in range(1, 6)))  # libpq's own parameters
_COUNT_INLINE = text(_COUNT.format(*(f":{name}" for name in _COUNT_PARAMS)))
_WALK = text(
    f"SELECT id FROM article_search WHERE ts_match_vq(tsv, {_TSQ})"
    " ORDER BY id DESC LIMIT :lim OFFSET :off"
)
_GIN_NEWEST = text(
    f"SELECT id FROM article_search WHERE tsv @@ {_TSQ} ORDER BY id DESC LIMIT :lim OFFSET :off"
)
_GIN_ONLY = "SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off"
_GIN_RESET = "SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = on"


class PgMatches:
    """The matches of one compiled tsquery, newest first, with a capped count."""

    def __init__(self, session: Session, compiled: str, *, window: int) -> None:
        self.session = session
        self.q = compiled
        self.want = window
        self.window: list[int] = []
        self.read: list[Candidate] = []
        self.dense = True
        self.gin = False
        self.counted: int | None = None
        self.counting: SideQuery | None = None

    def start(self, cap: int) -> int | None:
        """Read the newest `window` matches, and their count up to `cap` when it came with
        them; else None: the probe filled the window first, and the count (thousands of rows
        checked) runs beside the caller's ranking and snippets, on a connection of its own
        (storage.sidequery), for `total`."""
        count = dict(
            zip(_COUNT_PARAMS, (self.q, cap, PROBE_ROWS, WALK_ROWS, WALK_PER_TABLE), strict=True)
        )
        params = count | {"want": self.want, "chars": SCORED_BODY_CHARS}
        rows = self.session.connection().execute(_MATCHES, params).all()
        self.dense = bool(rows[0][1])
        self.read = sorted(
            (_candidate(r[2:]) for r in rows if r[2] is not None),
            key=lambda c: c.article_id,
            reverse=True,
        )
        self.window = [c.article_id for c in self.read]
        if rows[0][0] is not None:  # counted with the window (it ended short, or GIN counted)
            self.counted = int(rows[0][0])
            return self.counted
        bind = self.session.get_bind()
        if isinstance(bind, Engine):
            from storage.sidequery import SideQuery  # psycopg: never loaded on SQLite

            self.counting = SideQuery(bind, _COUNT_SIDE, [count[k] for k in _COUNT_PARAMS])
        else:  # a session on a caller's own connection: counted in line
            total, dense = self.session.execute(_COUNT_INLINE, count).one()
            self.counted, self.dense = int(total), bool(dense)
        return None

    def total(self) -> int:
        """Matches, counted up to the cap given to `start` (waits for the count)."""
        if self.counting is not None:
            ((total, dense),) = self.counting.result()  # as text
            self.counting = None
            self.counted, self.dense = int(total or 0), dense == "t"
        assert self.counted is not None, "start() first"
        return self.counted

    def candidates(self, ids: list[int]) -> list[Candidate]:
        """What ranking needs of `ids`: read with the count when they are the window."""
        if ids == self.window:
            return self.read
        rows = self.session.connection().execute(
            _CANDIDATES, {"ids": ids, "chars": SCORED_BODY_CHARS}
        )
        return [_candidate(r) for r in rows]

    def newest(self, limit: int, offset: int = 0, *, total: int | None = None) -> list[int]:
        """Matching ids newest first, `limit` of them after `offset`."""
        if offset + limit <= len(self.window) or (total is not None and total <= self.want):
            return self.window[offset : offset + limit]
        if self.dense:
            return self._rows(_WALK, lim=limit, off=offset)
        if not self.gin:
            self.session.execute(text(_GIN_ONLY))
            self.gin = True
        return self._rows(_GIN_NEWEST, lim=limit, off=offset)

    def close(self) -> None:
        """Give the caller's transaction its whole planner back; a count not read is dropped."""
        if self.counting is not None:
            self.counting.abandon()
            self.counting = None
        if self.gin:
            self.session.execute(text(_GIN_RESET))
            self.gin = False

    def _rows(self, stmt: Any, **params: int) -> list[int]:
        return [int(r[0]) for r in self.session.execute(stmt, {"q": self.q, **params})]


def _candidate(row: Any) -> Candidate:
    return Candidate(int(row[0]), row[1] or "", row[2] or "", row[3])
