"""Property tests: any text as a query or a date never raises and returns in bounded time.

Time is bounded by hypothesis' per-example deadline, not by a timed assertion.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from storage import ranking
from storage.datequery import MAX_RANGE_DAYS, DateQueryError, DateRange, parse_date_query
from storage.db import make_engine, session_scope, upgrade
from storage.models import Article
from storage.query import Query, parse_query, to_fts5
from storage.search import SearchPage, search
from storage.snippets import MARK_CLOSE, MARK_OPEN, make_snippet
from storage.text import fold, normalize

NOW = datetime(2024, 6, 1, tzinfo=UTC)
FRAGMENTS = [
    '"', "-", "-\"", "NEAR(", "*", "OR", "AND", "NOT", "'", ";", "(", ")", ":", "^", "{", "}",
    "quy chế", "dân chủ", "Hà Nội", "ĐÀ NẴNG", "\u00d0", "\u0301", "hoá", " ", "\x00", "\\",
    "«", "»", "“", "”", "–", "title_folded", "rowid", "!", "&", "|", "<->",
]  # fmt: skip
queries = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=20).map(" ".join),
)
DATE_BITS = ["/", "-", ".", " ", "đến", "tháng", "năm", "hôm", "nay", "qua", "tuần", "ngày"]
dates = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(DATE_BITS) | st.integers(0, 3000).map(str), max_size=12).map(" ".join),
    st.lists(st.sampled_from(DATE_BITS) | st.integers(0, 40).map(str), max_size=12).map("".join),
)
ERRORS = {None, "empty", "too_long", "no_terms"}
FTS5_TERM = r'"[^"\s]+(?: [^"\s]+)*"'


def _article(i: int, title: str, body: str) -> Article:
    return Article(
        key=f"k{i}",
        source="tinh",
        url=f"https://thuathienhue.gov.vn/{i}",
        title=normalize(title),
        body=normalize(body),
        content_hash=str(i),
        title_folded=fold(normalize(title)),
        body_folded=fold(normalize(body)),
        published_at=NOW - timedelta(days=i),
        local_date=(NOW - timedelta(days=i)).date(),
    )


def _pg_engine(admin_url: str) -> Iterator[Engine]:
    name = f"pn_prop_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=False)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(make_url(admin_url).set(database=name).render_as_string(False))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One small corpus per backend, shared by every generated example."""
    if request.param == "sqlite":
        gen: Iterator[Engine] = iter(
            [make_engine(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}")]
        )
    else:
        gen = _pg_engine(request.getfixturevalue("pg_server_url"))
    eng = next(gen)
    upgrade(eng)
    with session_scope(eng) as s:
        s.add(_article(1, "Triển khai Quy chế dân chủ", "Hội nghị tại Hà Nội và Đà Nẵng."))
        s.add(_article(2, "Cải cách hành chính", "NEAR OR AND NOT \"quoted\" 'x' * title"))
        s.add(_article(3, "Thông báo «khẩn»", "Bão số 5; người dân chú ý."))
    yield eng
    eng.dispose()
    next(gen, None)


@settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(query=queries, page=st.integers(-3, 5))
def test_any_query_returns_a_page_never_an_exception(corpus: Engine, query: str, page: int) -> None:
    with session_scope(corpus) as s:
        result = search(s, query=query, page=page, now=NOW)
    assert isinstance(result, SearchPage)
    assert result.error in ERRORS
    assert len(result.hits) <= result.per_page and result.page >= 1
    assert result.error is None or (result.hits == [] and result.total == 0)
    for hit in result.hits:
        assert hit.snippet.count(MARK_OPEN) == hit.snippet.count(MARK_CLOSE)


@settings(max_examples=300, deadline=timedelta(milliseconds=500))
@given(query=queries)
def test_compiled_fts5_is_only_quoted_words_and_our_operators(query: str) -> None:
    q = parse_query(query)
    if isinstance(q, Query):
        grammar = rf"\(({FTS5_TERM})( AND {FTS5_TERM})*\)( NOT \({FTS5_TERM}( OR {FTS5_TERM})*\))?"
        assert re.fullmatch(grammar, to_fts5(q))


@settings(max_examples=500, deadline=timedelta(milliseconds=200))
@given(raw=dates, today=st.dates(date(2000, 1, 1), date(2090, 12, 31)))
def test_any_date_text_gives_a_range_or_a_coded_error(raw: str, today: date) -> None:
    result = parse_date_query(raw, today=today)
    if isinstance(result, DateRange):
        assert result.start <= result.end
        assert (result.end - result.start).days < MAX_RANGE_DAYS
    else:
        assert isinstance(result, DateQueryError)
        assert result.code in {"empty", "invalid", "impossible", "no_month", "reversed", "too_long"}
        assert result.example


@settings(max_examples=300, deadline=timedelta(milliseconds=500))
@given(body=st.text(max_size=400), query=queries)
def test_snippet_is_the_original_text_with_paired_markers(body: str, query: str) -> None:
    q = parse_query(query)
    highlight = q.highlight if isinstance(q, Query) else frozenset(fold(body).split()[:2])
    snip = make_snippet(body, highlight)
    assert snip.count(MARK_OPEN) == snip.count(MARK_CLOSE)
    plain = snip.replace(MARK_OPEN, "").replace(MARK_CLOSE, "").strip("…")
    assert plain in normalize(body).replace("«", '"').replace("»", '"')


@settings(max_examples=300, deadline=timedelta(milliseconds=500))
@given(body=st.text(max_size=400), query=queries)
def test_a_stored_texts_snippet_is_the_one_its_raw_text_gives(body: str, query: str) -> None:
    stored = "\n\n".join(normalize(p) for p in body.split("\n\n"))  # as the store keeps bodies
    q = parse_query(query)
    highlight = q.highlight if isinstance(q, Query) else frozenset(fold(body).split()[:2])
    assert make_snippet(stored, highlight, stored=True) == make_snippet(stored, highlight)


def _text_words(folded: str) -> str:
    """The ranking's words as text alone (before its ASCII fast path): the reference."""
    return " " + " ".join(folded.translate(ranking._PUNCT).split()) + " "


ascii_or_not = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=127), max_size=300),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=30).map(" ".join),
)


@settings(max_examples=300, deadline=timedelta(milliseconds=500))
@given(title=ascii_or_not, body=ascii_or_not, query=queries)
def test_ranking_scores_ascii_text_as_it_scores_any_text(title: str, body: str, query: str) -> None:
    q = parse_query(query)
    if not isinstance(q, Query):
        return
    title, body = fold(normalize(title)), fold(normalize(body))
    words = ranking._words(body)
    assert (words.decode() if isinstance(words, bytes) else words) == _text_words(body)
    fast = ranking.Ranker(q, NOW)
    candidate = ranking.Candidate(1, title, body, NOW - timedelta(days=3))
    # The same key from needles looked for in the words as text.
    text_only = ranking.Ranker(q, NOW)
    text_only.terms[bytes] = text_only.terms[str]
    text_only.phrase[bytes] = text_only.phrase[str]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ranking, "_words", _text_words)
        expected = text_only.key(candidate)
    assert fast.key(candidate) == expected
