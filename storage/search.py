"""Full-text search over articles, one API over SQLite FTS5 and PostgreSQL tsvector.

Ranking is bounded so the common case stays fast: the engine returns matches newest first
by id (the order they were stored: FTS5 walks its doclist by rowid, PostgreSQL the primary
key), the newest RANK_WINDOW of them are ranked in Python (phrase holders first, then title
and body hits, with a recency boost; storage.ranking, identical on both databases), and
pages past the window continue newest first. The total is counted up to COUNT_CAP matches;
past that `total_capped` is set and the bot shows "1000+". A common word over a million
articles therefore costs a short walk, never a bm25 over every match (about 0.5 s there).
On PostgreSQL the plans are chosen from a measured density (storage.search_pg), because
its estimate for a set of words is often off by 50 times either way, and a count past the
window (thousands of rows checked) runs on a connection of its own while the window is
ranked, read and cut into snippets here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import any_, bindparam, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.types import ARRAY, Integer
from sqlmodel import Session, col

from storage import dialects
from storage.models import Article
from storage.query import MAX_QUERY_CHARS, Query, QueryError, parse_query, to_fts5, to_tsquery
from storage.ranking import SCORED_BODY_CHARS, Candidate, Ranker, snippet_phrase
from storage.search_pg import PgMatches
from storage.snippets import MARK_CLOSE, MARK_OPEN, make_snippet
from storage.types import utcnow

__all__ = [
    "COUNT_CAP",
    "MARK_CLOSE",
    "MARK_OPEN",
    "MAX_QUERY_CHARS",
    "RANK_WINDOW",
    "SearchHit",
    "SearchPage",
    "search",
]

RANK_WINDOW = 100
COUNT_CAP = 1000
MAX_PER_PAGE = 50

_HIT_COLUMNS = ("id", "title", "url", "published_at", "local_date", "source", "body", "summary")
_FTS_IDS = text(
    "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q"
    " ORDER BY rowid DESC LIMIT :lim OFFSET :off"
)
_FTS_COUNT = text(
    "SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q LIMIT :cap)"
)


class FtsMatches:
    """The matches of one FTS5 expression, newest first (FTS5 walks its doclist by rowid)."""

    def __init__(self, session: Session, compiled: str) -> None:
        self.session = session
        self.q = compiled
        self.counted = 0

    def start(self, cap: int) -> int:
        """Matches, counted up to `cap` (FTS5 walks a doclist: counted at once)."""
        self.counted = int(self.session.execute(_FTS_COUNT, {"q": self.q, "cap": cap}).scalar_one())
        return self.counted

    def total(self) -> int:
        """The count `start` made."""
        return self.counted

    def newest(self, limit: int, offset: int = 0, *, total: int | None = None) -> list[int]:
        """Matching ids newest first, `limit` of them after `offset`."""
        params: dict[str, Any] = {"q": self.q, "lim": limit, "off": offset}
        return [int(r[0]) for r in self.session.execute(_FTS_IDS, params)]

    def candidates(self, ids: list[int]) -> list[Candidate]:
        """What ranking needs of `ids`: the folded title and the opening of the folded body."""
        if not ids:
            return []
        rows = self.session.connection().execute(_FTS_CANDIDATES, {"ids": ids})
        return [Candidate(int(i), title or "", text or "", at) for i, title, text, at in rows]

    def close(self) -> None:
        """Nothing to undo."""


@dataclass(frozen=True)
class SearchHit:
    """One result. `snippet` is plain text in the original spelling; matched words are
    wrapped in « and » (MARK_OPEN/MARK_CLOSE): escape it, then turn the markers into tags."""

    article_id: int
    title: str
    url: str
    published_at: datetime | None
    local_date: date | None
    source: str
    snippet: str


@dataclass(frozen=True)
class SearchPage:
    """One page of results. `error`: "empty", "too_long" or "no_terms" (nothing to look for).
    `total_capped`: there are more than `total` (= COUNT_CAP) matches."""

    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    error: str | None = None
    total_capped: bool = False

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))


def search(
    session: Session, *, query: str, page: int = 1, per_page: int = 10, now: datetime | None = None
) -> SearchPage:
    """Search articles; never raises on what the user typed."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    parsed = parse_query(query)
    if isinstance(parsed, QueryError):
        return SearchPage(hits=[], total=0, page=page, per_page=per_page, error=parsed.code)
    if dialects.is_pg(session):
        compiled = to_tsquery(parsed)
        matches: FtsMatches | PgMatches = PgMatches(session, compiled, window=RANK_WINDOW)
    else:
        matches = FtsMatches(session, to_fts5(parsed))
    try:
        return _page(session, matches, parsed, page, per_page, now or utcnow())
    finally:
        matches.close()


def _page(
    session: Session,
    matches: FtsMatches | PgMatches,
    parsed: Query,
    page: int,
    per_page: int,
    now: datetime,
) -> SearchPage:
    offset = (page - 1) * per_page
    hits: list[SearchHit] = []
    early = matches.start(COUNT_CAP + 1)  # None: more than the window, still being counted
    if offset < RANK_WINDOW and early != 0 and (early is None or offset < early):
        # The first pages are ranked, read and cut into snippets while a long count goes on.
        window = matches.newest(RANK_WINDOW, total=early)
        ranked = Ranker(parsed, now).rank(matches.candidates(window))
        ids = ranked[offset : offset + per_page]
        if len(ids) < per_page and len(window) == RANK_WINDOW:  # page straddles the window
            ids += matches.newest(per_page - len(ids), RANK_WINDOW, total=early)
        hits = _hits(_shown(session, ids), ids, parsed)
    total = matches.total()
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    found = SearchPage(hits=[], total=total, page=page, per_page=per_page, total_capped=capped)
    if total == 0 or (offset >= total and not capped):
        return found
    if offset >= RANK_WINDOW:
        ids = matches.newest(per_page, offset, total=None if capped else total)
        hits = _hits(_shown(session, ids), ids, parsed)
    return replace(found, hits=hits)


# FTS5's window: SQLite only (PostgreSQL reads it with its count, storage.search_pg).
_FTS_CANDIDATES = sa_select(
    col(Article.id),
    col(Article.title_folded),
    func.substr(col(Article.body_folded), 1, SCORED_BODY_CHARS),
    col(Article.published_at),
).where(col(Article.id).in_(bindparam("ids", expanding=True)))
_SHOWN_COLUMNS = sa_select(*(col(getattr(Article, name)) for name in _HIT_COLUMNS))
_SHOWN = {  # on PostgreSQL?
    # One array parameter on PostgreSQL: an IN list is a new statement text for the driver
    # to parse each time (0.4 ms of a search's 12 at 100k).
    True: _SHOWN_COLUMNS.where(col(Article.id) == any_(bindparam("ids", type_=ARRAY(Integer)))),
    False: _SHOWN_COLUMNS.where(col(Article.id).in_(bindparam("ids", expanding=True))),
}


def _shown(session: Session, ids: list[int]) -> dict[int, Any]:
    """What a page's hits show, by id (read for the page alone, after ranking)."""
    if not ids:
        return {}
    rows = session.connection().execute(_SHOWN[dialects.is_pg(session)], {"ids": ids})
    return {int(row[0]): row for row in rows}


def _hits(rows: dict[int, Any], ids: list[int], query: Query) -> list[SearchHit]:
    phrase = snippet_phrase(query)
    hits = []
    for i in ids:
        row = rows.get(i)
        if row is None:  # deleted between the two reads
            continue
        _, title, url, published_at, local_date, source, body, summary = row
        hits.append(
            SearchHit(
                article_id=i,
                title=title,
                url=url,
                published_at=published_at,
                local_date=local_date,
                source=source,
                snippet=make_snippet(
                    body or summary or title, query.highlight, phrase, stored=True
                ),
            )
        )
    return hits
