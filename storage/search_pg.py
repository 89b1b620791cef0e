"""PostgreSQL matching for storage.search: bounded work newest first, plans chosen by density.

PostgreSQL's estimate for a set of words is often off by 50 times either way (it multiplies
word frequencies; "du lịch" is a pair, not two independent words), so the plan is chosen
from a measured density instead, by the server-side function search_matches() (migration
0008), in one round trip: the newest PROBE_ROWS ids are checked first (2-3 ms).

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

from typing import Any

from sqlalchemy import text
from sqlmodel import Session

PROBE_ROWS = 2000
WALK_ROWS = 8000  # 10-15 ms of row checks: a phrase through GIN rechecks rows for longer
# The GIN index's cost grows with the table (it reads every posting of every word), a
# walk's does not: a bigger table walks further before the index pays (16.7k rows at 1M).
WALK_PER_TABLE = 1 / 60
_TSQ = "to_tsquery('simple', :q)"
_MATCHES = text(
    f"SELECT total, ids, dense FROM search_matches({_TSQ}, :want, :cap, :probe, :walk, :per)"
)
_WALK = text(
    f"SELECT id FROM articles WHERE ts_match_vq(search_tsv, {_TSQ})"
    " ORDER BY id DESC LIMIT :lim OFFSET :off"
)
_GIN_NEWEST = text(
    f"SELECT id FROM articles WHERE search_tsv @@ {_TSQ} ORDER BY id DESC LIMIT :lim OFFSET :off"
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
        self.dense = True
        self.gin = False

    def count(self, cap: int) -> int:
        """Matches, counted up to `cap`; the newest `window` of them are kept."""
        params = {"q": self.q, "want": self.want, "cap": cap, "probe": PROBE_ROWS}
        params |= {"walk": WALK_ROWS, "per": WALK_PER_TABLE}
        total, ids, dense = self.session.execute(_MATCHES, params).one()
        self.window, self.dense = [int(i) for i in ids or []], bool(dense)
        return int(total)

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
        """Give the caller's transaction its whole planner back."""
        if self.gin:
            self.session.execute(text(_GIN_RESET))
            self.gin = False

    def _rows(self, stmt: Any, **params: int) -> list[int]:
        return [int(r[0]) for r in self.session.execute(stmt, {"q": self.q, **params})]
