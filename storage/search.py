"""Full-text search over articles, one API over SQLite FTS5 and PostgreSQL tsvector.

Ranking is bounded so the common case stays fast: the engine returns matches newest first
by id (the order they were stored: FTS5 walks its doclist by rowid, PostgreSQL the primary
key), the newest RANK_WINDOW of them are ranked in Python (phrase holders first, then title
and body hits, with a recency boost; storage.ranking, identical on both databases), and
pages past the window continue newest first. The total is counted up to COUNT_CAP matches;
past that `total_capped` is set and the bot shows "1000+". A common word over a million
articles therefore costs a short walk, never a bm25 over every match (about 0.5 s there).
On PostgreSQL the plans are chosen from a measured density (see _prepare_postgres), because
its estimate for a set of words is often off by 50 times either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import Article
from storage.query import MAX_QUERY_CHARS, Query, QueryError, parse_query, to_fts5, to_tsquery
from storage.ranking import SCORED_BODY_CHARS, Candidate, Ranker, snippet_phrase
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

PROBE_ROWS = 2000  # a word set in 1 article of 20 or more fills a window here
_PG_PROBE = (
    "SELECT id FROM (SELECT id, search_tsv FROM articles ORDER BY id DESC LIMIT :budget) AS r"
    " WHERE search_tsv @@ to_tsquery('simple', :q) ORDER BY id DESC"
)
_HIT_COLUMNS = ("id", "title", "url", "published_at", "local_date", "source", "body", "summary")
_SQL = {
    "sqlite": {
        "ids": "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q"
        " ORDER BY rowid DESC LIMIT :lim OFFSET :off",
        "count": "SELECT count(*) FROM (SELECT rowid FROM articles_fts"
        " WHERE articles_fts MATCH :q LIMIT :cap)",
    },
    "postgresql": {
        "ids": "SELECT id FROM articles WHERE search_tsv @@ to_tsquery('simple', :q)"
        " ORDER BY id DESC LIMIT :lim OFFSET :off",
        "count": "SELECT count(*) FROM (SELECT 1 FROM articles"
        " WHERE search_tsv @@ to_tsquery('simple', :q) LIMIT :cap) AS m",
        "count_dense": "SELECT count(*) FROM (SELECT 1 FROM articles"
        " WHERE search_tsv @@ to_tsquery('simple', :q) ORDER BY id DESC LIMIT :cap) AS m",
    },
}


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
    dialect = session.get_bind().dialect.name
    sql = _SQL[dialect]
    compiled = to_fts5(parsed) if dialect == "sqlite" else to_tsquery(parsed)
    probe = _prepare_postgres(session, compiled) if dialect == "postgresql" else []
    count_sql = sql["count_dense"] if probe else sql["count"]
    params = {"q": compiled, "cap": COUNT_CAP + 1}
    total = int(session.execute(text(count_sql), params).scalar_one())
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    empty = SearchPage(hits=[], total=total, page=page, per_page=per_page, total_capped=capped)
    offset = (page - 1) * per_page
    if total == 0 or (offset >= total and not capped):
        if dialect == "postgresql":  # the caller's next query gets the whole planner back
            session.execute(text(_PG_RESET))
        return empty
    if offset < RANK_WINDOW:
        window = probe[:RANK_WINDOW] or _ids(session, sql["ids"], compiled, RANK_WINDOW, 0)
        ranked = Ranker(parsed, now or utcnow()).rank(_candidates(session, window))
        ids = ranked[offset : offset + per_page]
        if len(ids) < per_page and len(window) == RANK_WINDOW:  # page straddles the window
            ids += _ids(session, sql["ids"], compiled, per_page - len(ids), RANK_WINDOW)
    else:
        ids = _ids(session, sql["ids"], compiled, per_page, offset)
    if dialect == "postgresql":
        session.execute(text(_PG_RESET))
    hits = _hits(session, ids, parsed)
    return SearchPage(hits=hits, total=total, page=page, per_page=per_page, total_capped=capped)


_PG_RESET = "; ".join(
    f"SET LOCAL enable_{name} = on" for name in ("bitmapscan", "indexscan", "seqscan")
)


def _prepare_postgres(session: Session, compiled: str) -> list[int]:
    """Pick the plans from a measured density; return the newest matches when dense.

    PostgreSQL estimates a word set's frequency by multiplying its words' frequencies and
    guesses rare words from a floor; both misses were measured (at 1M articles a rare word
    walked 100k rows of the primary key for 1.4 s; a common word set built a GIN bitmap of
    220k rows to count to 1001). So the newest PROBE_ROWS articles are checked first (about
    1-3 ms). Dense (a full window there): count and page by walking the primary key newest
    first, a few thousand rows at most. Sparse: go through the GIN index and sort the matches.
    """
    # psycopg prepares a statement after a few runs and PostgreSQL may then keep a generic
    # plan that cannot see how common the words are: ask for a plan per query.
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    params = {"q": compiled, "budget": PROBE_ROWS}
    probe = [int(r[0]) for r in session.execute(text(_PG_PROBE), params)]
    dense = len(probe) >= RANK_WINDOW
    off = ("bitmapscan", "seqscan") if dense else ("indexscan", "seqscan")
    session.execute(text("; ".join(f"SET LOCAL enable_{name} = off" for name in off)))
    return probe if dense else []


def _ids(session: Session, sql: str, compiled: str, limit: int, offset: int) -> list[int]:
    params: dict[str, Any] = {"q": compiled, "lim": limit, "off": offset}
    return [int(r[0]) for r in session.execute(text(sql), params)]


def _candidates(session: Session, ids: list[int]) -> list[Candidate]:
    if not ids:
        return []
    stmt = select(
        Article.id,
        Article.title_folded,
        func.substr(Article.body_folded, 1, SCORED_BODY_CHARS),
        Article.published_at,
    ).where(col(Article.id).in_(ids))
    return [Candidate(int(i), t, b or "", p) for i, t, b, p in session.execute(stmt)]


def _hits(session: Session, ids: list[int], query: Query) -> list[SearchHit]:
    if not ids:
        return []
    columns = [col(getattr(Article, name)) for name in _HIT_COLUMNS]
    stmt = sa_select(*columns).where(col(Article.id).in_(ids))
    by_id = {row[0]: row for row in session.execute(stmt)}
    phrase = snippet_phrase(query)
    hits = []
    for i in ids:
        row = by_id.get(i)
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
                snippet=make_snippet(body or summary or title, query.highlight, phrase),
            )
        )
    return hits
