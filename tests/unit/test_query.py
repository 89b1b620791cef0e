"""Query parsing and compiling, snippets and ranking: pure functions on plain values."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from storage.query import (
    MAX_QUERY_CHARS,
    Query,
    QueryError,
    Term,
    parse_query,
    to_fts5,
    to_tsquery,
)
from storage.ranking import Candidate, Ranker
from storage.snippets import folded_with_map, make_snippet
from storage.text import fold


def parsed(text: str) -> Query:
    q = parse_query(text)
    assert isinstance(q, Query), q
    return q


def test_words_must_all_match_and_rank_as_a_phrase() -> None:
    q = parsed("Quy chế dân chủ")
    assert q.include == tuple(Term((t,)) for t in ("quy", "che", "dan", "chu"))
    assert q.rank_phrase == ("quy", "che", "dan", "chu")
    assert to_fts5(q) == '("quy" AND "che" AND "dan" AND "chu")'
    assert to_tsquery(q) == "('quy') & ('che') & ('dan') & ('chu')"


def test_spellings_fold_to_the_same_query() -> None:
    want = parsed("quy che dan chu")
    for text in ("QUY CHẾ DÂN CHỦ", unicodedata.normalize("NFD", "Quy chế dân chủ")):
        assert parsed(text) == want
    assert parsed("\u00d0à Nẵng") == parsed("da nang") == parsed("Đà Nẵng")


def test_quoted_phrases_and_exclusions() -> None:
    q = parsed('"cải cách hành chính" -"dân chủ" -Huế hội')
    assert q.include == (Term(("cai", "cach", "hanh", "chinh")), Term(("hoi",)))
    assert q.exclude == (Term(("dan", "chu")), Term(("hue",)))
    assert q.rank_phrase == ()  # a single loose word is no phrase
    assert to_fts5(q) == '("cai cach hanh chinh" AND "hoi") NOT ("dan chu" OR "hue")'
    assert to_tsquery(q) == (
        "('cai' <-> 'cach' <-> 'hanh' <-> 'chinh') & ('hoi') & !('dan' <-> 'chu') & !('hue')"
    )


def test_typographic_quotes_and_dashes_from_phones() -> None:
    assert parsed("“hà nội” –huế") == parsed('"ha noi" -hue')


def test_engine_syntax_is_only_ever_a_quoted_word() -> None:
    q = parsed("\"NEAR( * OR title_folded:x ^y '; DROP TABLE articles; --")
    compiled = to_fts5(q)
    assert q.include == (
        Term(("near", "or", "title", "folded", "x", "y", "drop", "table", "articles")),
    )
    assert compiled == '("near or title folded x y drop table articles")'
    assert "'" not in compiled and "*" not in compiled and ":" not in compiled


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        (" \t\n", "empty"),
        ("x" * (MAX_QUERY_CHARS + 1), "too_long"),
        ("a " * 40, "too_long"),  # more tokens than the engine is asked to intersect
        ("-quy -che", "no_terms"),
        ('-"dân chủ"', "no_terms"),
        ("?!... ()", "no_terms"),
        ('""', "no_terms"),
        ("😀", "no_terms"),
    ],
)
def test_unusable_queries_say_why(text: str, code: str) -> None:
    assert parse_query(text) == QueryError(code)


def test_duplicate_terms_are_asked_once() -> None:
    assert parsed("huế Huế HUẾ").include == (Term(("hue",)),)


def test_fold_map_points_back_to_original_characters() -> None:
    text = "Đà Nẵng ﬁ Straße"
    folded, index = folded_with_map(text)
    assert folded == fold(text)
    assert len(index) == len(folded)
    assert text[index[folded.index("nang")]] == "N"
    assert text[index[folded.index("strasse") + 5]] == "ß"


def test_snippet_marks_words_in_original_spelling_around_the_match() -> None:
    filler = " ".join(f"câu{i}" for i in range(40))
    text = f"{filler} Triển khai Quy chế dân chủ ở cơ sở. {filler}"
    q = parsed("quy che dan chu")
    snip = make_snippet(text, q.highlight, q.rank_phrase)
    assert "«Quy chế dân chủ»" in snip
    assert snip.startswith("…câu") and snip.endswith("…")
    assert len(snip.split()) <= 32


def test_snippet_keeps_markers_paired_when_the_text_has_guillemets() -> None:
    snip = make_snippet("Chiến dịch «Hà Nội» năm 1972", parsed("ha noi").highlight)
    assert snip == 'Chiến dịch "«Hà Nội»" năm 1972'
    assert snip.count("«") == snip.count("»") == 1


def test_snippet_without_a_body_match_shows_the_opening() -> None:
    assert make_snippet("Nội dung khác.", frozenset({"bao"})) == "Nội dung khác"
    assert make_snippet("", frozenset({"bao"})) == ""


NOW = datetime(2024, 6, 1, tzinfo=UTC)


def cand(i: int, title: str, body: str, days_ago: int) -> Candidate:
    return Candidate(i, fold(title), fold(body), NOW - timedelta(days=days_ago))


def test_phrase_holders_rank_first_then_title_then_recency() -> None:
    ranker = Ranker(parsed("quy che dan chu"), NOW)
    apart = cand(1, "Quy định chế độ", "dân số, chủ trương", 1)
    phrase_old = cand(2, "Tin cũ", "thực hiện quy chế dân chủ", 800)
    assert ranker.rank([apart, phrase_old]) == [2, 1]
    ranker = Ranker(parsed("bão"), NOW)
    body_new = cand(3, "Tin tức", "bão số 5", 1)
    title_old = cand(4, "Cảnh báo bão", "người dân chú ý", 10)
    same_old = cand(5, "Tin tức", "bão số 5", 400)
    assert ranker.rank([same_old, body_new, title_old]) == [4, 3, 5]


def test_phrase_match_ignores_punctuation_but_not_word_edges() -> None:
    ranker = Ranker(parsed("ha noi"), NOW)
    across_comma = cand(1, "x", "từ Hà, Nội bài", 1)
    inside_word = cand(2, "x", "chà noi", 1)  # "cha noi": "ha" is not a whole word
    assert ranker.key(across_comma)[0] == -1
    assert ranker.key(inside_word)[0] == 0
