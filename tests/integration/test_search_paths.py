"""Every way search can find its matches (probe, walk, GIN count, GIN ranges) pages alike.

The corpus is small, so the probe, walk and window sizes are shrunk to make each path run
on a few hundred articles; the result must equal what a plain scan finds, on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

import storage.search as search_module
import storage.search_pg as pg
from storage.db import session_scope
from storage.models import Article
from storage.search import search
from storage.text import fold

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
N = 600
WORDS = {"alpha": 1, "beta": 3, "gamma": 10, "delta": 97}  # word: in every k-th article
PER_PAGE = 7


# Dense among the newest, absent just below them, common long ago: the walk below the probe
# for the rest of the window finds nothing and the GIN index has to serve it.
BURST = "epsilon"


def _body(i: int) -> str:
    words = [w for w, k in WORDS.items() if i % k == 0]
    if (i > N - 40 and i % 3 == 0) or (i <= 400 and i % 2 == 0):
        words.append(BURST)
    return " ".join(["tin", *words, "huế"])


@pytest.fixture
def spread(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    rows = []
    for i in range(1, N + 1):
        published = NOW - timedelta(hours=N - i)
        body = _body(i)
        rows.append(
            {
                "key": f"k{i}",
                "source": "tinh",
                "url": f"https://x/{i}",
                "title": "Tin",
                "summary": "",
                "body": body,
                "attachments": [],
                "published_at": published,
                "local_date": published.date(),
                "content_hash": f"h{i}",
                "title_folded": "tin",
                "body_folded": fold(body),
                "first_seen_at": NOW,
                "updated_at": NOW,
                "edit_count": 0,
            }
        )
    with session_scope(engine) as s:
        s.execute(insert(Article), rows)
    monkeypatch.setattr(pg, "PROBE_ROWS", 40)
    monkeypatch.setattr(pg, "WALK_ROWS", 120)
    monkeypatch.setattr(search_module, "RANK_WINDOW", 15)
    monkeypatch.setattr(search_module, "COUNT_CAP", 150)
    return engine


def _all_ids(engine: Engine, query: str, pages: int) -> tuple[list[int], int, bool]:
    seen: list[int] = []
    first = None
    for p in range(1, pages + 1):
        with session_scope(engine) as s:
            page = search(s, query=query, page=p, per_page=PER_PAGE, now=NOW)
        first = first or page
        seen += [h.article_id for h in page.hits]
    assert first is not None
    return seen, first.total, first.total_capped


@pytest.mark.parametrize("word", [*WORDS, BURST])
def test_every_path_pages_through_exactly_the_matches(spread: Engine, word: str) -> None:
    with session_scope(spread) as s:
        ids = s.execute(
            text("SELECT id FROM articles WHERE body_folded LIKE :p"), {"p": f"%{word}%"}
        )
        truth = sorted((int(r[0]) for r in ids), reverse=True)
    pages = -(-len(truth) // PER_PAGE)
    seen, total, capped = _all_ids(spread, word, pages)
    assert (total, capped) == (min(len(truth), 150), len(truth) > 150)
    assert len(seen) == len(set(seen)) and set(seen) == set(truth)
    window = search_module.RANK_WINDOW
    assert seen[window:] == truth[window:]  # past the ranked window: newest first
    with session_scope(spread) as s:  # nothing past the matches, and the planner given back
        assert search(s, query=word, page=pages + 1, per_page=PER_PAGE, now=NOW).hits == []
        if spread.dialect.name == "postgresql":
            assert s.execute(text("SHOW enable_indexscan")).scalar_one() == "on"


def test_phrases_are_checked_beyond_the_index(spread: Engine) -> None:
    with session_scope(spread) as s:
        page = search(s, query='"beta gamma"', per_page=50, now=NOW)
        reverse = search(s, query='"gamma beta"', per_page=50, now=NOW)
    assert page.total == len([i for i in range(1, N + 1) if i % 30 == 0])
    assert reverse.total == 0


def test_a_session_on_a_callers_connection_counts_in_line(spread: Engine) -> None:
    """The count past the window goes to a connection of its own only when the session has
    an engine to take one from; on a caller's connection it is counted in that transaction."""
    with session_scope(spread) as s:
        by_engine = search(s, query="beta", per_page=PER_PAGE, now=NOW)
    with spread.connect() as conn, Session(bind=conn) as s:
        on_conn = search(s, query="beta", per_page=PER_PAGE, now=NOW)
    assert (on_conn.total, on_conn.total_capped) == (by_engine.total, by_engine.total_capped)
    assert on_conn.total > search_module.RANK_WINDOW  # beyond the window: a real count
    assert [h.article_id for h in on_conn.hits] == [h.article_id for h in by_engine.hits]
