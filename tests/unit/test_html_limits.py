"""Bounded memory and time for any nesting: every tag counts, NUL bytes change nothing."""

from __future__ import annotations

import contextlib
import tracemalloc
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from jobs.ingest.errors import UnsafeDocument
from jobs.ingest.html_blocks import MAX_DEPTH, MAX_NODES, blocks_of, load_document
from jobs.ingest.parse_html import parse_article, parse_listing

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _peak_mb(fn: Callable[[], object]) -> float:
    """Peak Python allocation (MB) while fn runs; UnsafeDocument is expected and swallowed."""
    tracemalloc.start()
    try:
        with contextlib.suppress(UnsafeDocument):
            fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "page",
    [
        "<table><tr><td>" * 3_000 + "x",  # 45 kB: 758 MB before the fix
        "<ta\x00ble><t\x00r><t\x00d>" * 3_000 + "x",  # NUL bytes the parser drops
        "<d\x00iv>" * 10_000 + "x",
        "<section><blockquote><span><font>" * 2_000 + "x",
    ],
    ids=["tables", "tables_nul", "divs_nul", "mixed"],
)
def test_deep_nesting_of_any_tag_is_refused_with_little_memory(page: str) -> None:
    with pytest.raises(UnsafeDocument, match="nest"):
        load_document(page)
    assert _peak_mb(lambda: parse_article(page, url="http://e.vn/a", tz=TZ)) < 30
    assert _peak_mb(lambda: parse_listing(page, base_url="http://e.vn/l", tz=TZ)) < 30


def test_nul_bytes_in_bytes_input_do_not_bypass_the_guard() -> None:
    page = ("<d\x00iv>" * 10_000).encode() + b"x"
    with pytest.raises(UnsafeDocument):
        load_document(page)


def test_too_many_elements_are_refused_even_when_flat() -> None:
    with pytest.raises(UnsafeDocument, match="elements"):
        load_document("<b>x</b>" * (MAX_NODES + 1))


def test_nesting_just_under_the_limit_parses_in_linear_memory() -> None:
    depth = MAX_DEPTH - 20
    page = "<html><body>" + "<div><p>đoạn văn bản</p>" * depth + "</div>" * depth + "</body></html>"
    doc = load_document(page)
    assert doc.body is not None
    tracemalloc.start()
    try:
        blocks = blocks_of(doc.body)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    assert len(blocks) == depth
    assert len(blocks[-1].path) >= depth  # the path still knows every block ancestor
    assert blocks[0].path[-2] in blocks[-1].path  # the outermost div holds the last block
    assert blocks[0].path[-1] not in blocks[-1].path
    assert blocks[-1].path[-3:] == blocks[-1].path.tail(3)
    assert peak < 20  # tuples per node would need depth**2 / 2 = ~125k entries per level


def test_real_looking_nested_tables_still_parse() -> None:
    cell = "<table><tr><td>"
    page = (
        "<html><body>"
        + cell * 40
        + "<h1>Hội nghị triển khai Quy chế dân chủ</h1><div>Ngày cập nhật 16/12/2011</div>"
        + "<p>"
        + "Nội dung bài viết về quy chế dân chủ ở cơ sở. " * 10
        + "</p>"
        + "</td></tr></table>" * 40
        + "</body></html>"
    )
    parsed = parse_article(page, url="http://e.vn/a", tz=TZ)
    assert parsed.title == "Hội nghị triển khai Quy chế dân chủ"
    assert "quy chế dân chủ ở cơ sở" in parsed.body
