"""PostgreSQL matching for storage.search: bounded work newest first, plans chosen by density.

PostgreSQL's estimate for a set of words is often off by 50 times either way (it multiplies
word frequencies; "du lịch" is a pair, not two independent words), so the plan is chosen
from a measured density instead: the newest PROBE_ROWS ids are checked first (2-3 ms).

- Dense (the rest of the count fits in a walk budget at that density): walk the primary
  key newest first from where the probe stopped, checking each row, until COUNT_CAP + 1
  matches. A word in half the articles costs about 2,000 rows, whatever the table size.
- Sparse: count through the GIN index (LIMIT, no ORDER: it stops at COUNT_CAP + 1 heap
  rows), and take the newest matches from the probe, or from the GIN index bounded to a
  range of the newest ids that grows until it holds them, so a word in 1% of a million
  articles never sorts 10,000 matches to show 100.

`ts_match_vq` is the function behind `@@`: the planner cannot use the GIN index for it,
which is what makes a walk a walk. The GIN statements run with index and sequential scans
off (SET LOCAL, reset by `close`), so the planner's guess cannot turn them into a scan.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

PROBE_ROWS = 2000
WALK_ROWS = 4000  # 5-10 ms of row checks; past that the GIN index is cheaper at 100k
# The GIN index's cost grows with the table (it reads every posting of every word), a
# walk's does not: a bigger table walks further before the index pays (16k rows at 1M).
WALK_PER_TABLE = 1 / 60
_TSQ = "to_tsquery('simple', :q)"
_PROBE = text(
    "SELECT t.top, array(SELECT id FROM articles WHERE id > t.top - :budget"
    f" AND ts_match_vq(search_tsv, {_TSQ}) ORDER BY id DESC)"
    " FROM (SELECT coalesce(max(id), 0) AS top FROM articles) AS t"
)
_WALK = text(
    f"SELECT id FROM articles WHERE id <= :below AND ts_match_vq(search_tsv, {_TSQ})"
    " ORDER BY id DESC LIMIT :lim OFFSET :off"
)
_GIN_COUNT = text(
    f"SELECT count(*) FROM (SELECT 1 FROM articles WHERE search_tsv @@ {_TSQ} LIMIT :cap) AS m"
)
_GIN_NEWEST = text(
    f"SELECT id FROM articles WHERE search_tsv @@ {_TSQ} AND id > :above"
    " ORDER BY id DESC LIMIT :lim OFFSET :off"
)
_GIN_ONLY = "SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off"
_GIN_RESET = "SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = on"
_GROWTH = 4


class PgMatches:
    """The matches of one compiled tsquery, newest first, with a capped count."""

    def __init__(self, session: Session, compiled: str) -> None:
        self.session = session
        self.q = compiled
        top, ids = session.execute(_PROBE, {"q": compiled, "budget": PROBE_ROWS}).one()
        self.top = int(top)
        self.probe = [int(i) for i in ids or []]
        self.gin = False
        self.walked: list[int] | None = None  # dense: the newest matches up to the cap

    def count(self, cap: int) -> int:
        """Matches, counted up to `cap`."""
        found = len(self.probe)
        density = found / PROBE_ROWS
        below = self.top - PROBE_ROWS
        if found >= cap or below <= 0:
            self.walked = self.probe[:cap]
            return len(self.walked)
        budget = max(WALK_ROWS, self.top * WALK_PER_TABLE)
        if density > 0 and (cap - found) / density <= budget:
            rest = self._rows(_WALK, below=below, lim=cap - found, off=0)
            self.walked = self.probe + rest
            return len(self.walked)
        self._gin_only()
        return int(self.session.execute(_GIN_COUNT, {"q": self.q, "cap": cap}).scalar_one())

    def newest(self, limit: int, offset: int = 0, *, total: int | None = None) -> list[int]:
        """Matching ids newest first, `limit` of them after `offset`."""
        if self.walked is not None and offset + limit <= len(self.walked):
            return self.walked[offset : offset + limit]
        if offset + limit <= len(self.probe):
            return self.probe[offset : offset + limit]
        if self.walked is not None:  # dense, past the counted matches
            return self._rows(_WALK, below=self.top, lim=limit, off=offset)
        self._gin_only()
        if total is not None and total < offset + limit:  # every match fits: no range
            return self._rows(_GIN_NEWEST, above=0, lim=limit, off=offset)
        # Grow a range of the newest ids until it holds offset + limit matches.
        density = max(len(self.probe), 0.5) / PROBE_ROWS
        span = math.ceil((offset + limit) * 1.5 / density)
        while True:
            above = max(0, self.top - span)
            ids = self._rows(_GIN_NEWEST, above=above, lim=limit, off=offset)
            if len(ids) == limit or above == 0:
                return ids
            span *= _GROWTH

    def close(self) -> None:
        """Give the caller's transaction its whole planner back."""
        if self.gin:
            self.session.execute(text(_GIN_RESET))
            self.gin = False

    def _gin_only(self) -> None:
        if not self.gin:
            self.session.execute(text(_GIN_ONLY))
            self.gin = True

    def _rows(self, stmt: Any, **params: int) -> list[int]:
        return [int(r[0]) for r in self.session.execute(stmt, {"q": self.q, **params})]
