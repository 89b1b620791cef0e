"""HTML listing and article extraction: the fake portal, other layouts, hostile input."""

from __future__ import annotations

import os
import unicodedata
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jobs.ingest.errors import LayoutNotRecognised, ParseError, UnsafeDocument
from jobs.ingest.normalize import content_hash
from jobs.ingest.parse_html import parse_article, parse_listing
from jobs.ingest.sources import Selectors
from storage.text import normalize
from tests.fakes.portal_site import (
    CHROME_TEXTS,
    LISTING_PATH,
    SOURCE_LINE,
    build_site,
    seed_page_text,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOST = "https://dukcqt.thuathienhue.gov.vn"
DATA = Path(__file__).resolve().parent.parent / "fakes" / "data"
SEED_FIRST = "Chiều ngày 15/12, tại Văn phòng Tỉnh ủy, Đảng ủy Khối các cơ quan tỉnh tổ chức"
SEED_LAST_END = "để việc thực hiện ngày càng đi vào chiều sâu có hiệu quả thiết thực hơn."


def _seed_lines() -> list[str]:
    return seed_page_text().split("\n")


def test_seed_article_title_date_and_paragraphs_verbatim() -> None:
    site = build_site()
    seed = site.articles[0]
    parsed = parse_article(site.render_article(seed, counter=7), url=HOST + seed.path, tz=TZ)
    lines = _seed_lines()
    assert parsed.title == lines[13]
    assert parsed.published is not None
    assert parsed.published.astimezone(TZ).date() == date(2011, 12, 16)
    paragraphs = parsed.body.split("\n\n")
    assert paragraphs[0] == lines[16] and paragraphs[0].startswith(SEED_FIRST)
    assert paragraphs[-1] == normalize(lines[26]) and paragraphs[-1].endswith(SEED_LAST_END)
    # every seed paragraph, in order; the lone &nbsp; paragraph is dropped
    assert paragraphs == [normalize(line) for line in lines[15:27] if normalize(line)]
    assert unicodedata.is_normalized("NFC", parsed.body)


@pytest.mark.parametrize("chrome", [*CHROME_TEXTS, SOURCE_LINE, "9.696", "5.77"])
def test_seed_article_body_has_no_site_chrome(chrome: str) -> None:
    site = build_site()
    seed = site.articles[0]
    parsed = parse_article(site.render_article(seed), url=HOST + seed.path, tz=TZ)
    assert chrome not in parsed.body
    assert chrome not in parsed.title


@pytest.mark.parametrize("index", range(1, 9))
def test_generated_articles_recover_clean_text_and_date(index: int) -> None:
    site = build_site(n_articles=9)
    article = site.articles[index]
    html = site.render_article(article, counter=index)
    parsed = parse_article(html, url=HOST + article.path, tz=TZ)
    assert parsed.title == article.title
    assert parsed.published == article.published
    expected = [normalize(p) for p in article.paragraphs]
    assert parsed.body.split("\n\n")[: len(expected)] == expected
    assert unicodedata.is_normalized("NFC", parsed.body + parsed.title)
    assert "\u00a0" not in parsed.body and "Ð" not in parsed.body + parsed.title


def test_nfd_nbsp_and_eth_are_all_in_the_page_and_normalised_away() -> None:
    site = build_site(n_articles=9)
    tricky = [a for a in site.articles if a.nfd and a.nbsp and a.eth]
    assert tricky, "the fake portal must mix all three tricks in one article"
    article = tricky[0]
    html = site.render_article(article)
    assert "Ð" in html and ",&nbsp;" in html and not unicodedata.is_normalized("NFC", html)
    parsed = parse_article(html, url=HOST + article.path, tz=TZ)
    assert parsed.title == article.title
    assert parsed.body.split("\n\n") == [normalize(p) for p in article.paragraphs]
    assert "Đ" in parsed.title + parsed.body and "Ð" not in parsed.title + parsed.body


def test_attachments_are_kept_with_absolute_urls() -> None:
    site = build_site()
    article = site.articles[1]
    parsed = parse_article(site.render_article(article), url=HOST + article.path, tz=TZ)
    assert parsed.attachments == (
        ("Kế hoạch số 12-KH/ĐUK.pdf", HOST + "/Portals/0/Documents/ke-hoach-12-kh-duk.pdf"),
        ("Phụ lục kèm theo", HOST + "/LinkClick.aspx?fileticket=Xk3pQ%3d&tabid=93"),
    )
    assert "Tải về: Kế hoạch số 12-KH/ĐUK.pdf" in parsed.body


def test_content_hash_ignores_changing_visit_counters() -> None:
    site = build_site()
    seed = site.articles[0]
    first, second = (site.render_article(seed, counter=n) for n in (1, 2))
    assert first != second  # the page itself changes on every request
    a, b = (parse_article(page, url=HOST + seed.path, tz=TZ) for page in (first, second))
    assert content_hash(title=a.title, body=a.body) == content_hash(title=b.title, body=b.body)


def test_listing_items_dates_summaries_and_next_page() -> None:
    site = build_site(n_articles=12, per_page=5)
    listing = parse_listing(site.render_listing(1, counter=3), base_url=HOST + LISTING_PATH, tz=TZ)
    expected = site.page_articles(1)
    assert [item.url for item in listing.items] == [HOST + a.path for a in expected]
    assert [item.title for item in listing.items] == [a.title for a in expected]
    local_dates = [item.published.astimezone(TZ).date() for item in listing.items if item.published]
    assert local_dates == [a.published.astimezone(TZ).date() for a in expected]
    assert listing.items[1].summary == expected[1].summary
    assert listing.next_page == f"{HOST}{LISTING_PATH}?page=2"


def test_last_listing_page_has_no_next_page() -> None:
    site = build_site(n_articles=12, per_page=5)
    url = f"{HOST}{LISTING_PATH}?page=3"
    listing = parse_listing(site.render_listing(3), base_url=url, tz=TZ)
    assert len(listing.items) == 2
    assert listing.next_page is None


def test_other_layout_article_without_dnn_markup() -> None:
    html = (DATA / "other-layout-article.html").read_bytes()  # declares windows-1252, is UTF-8
    url = "https://snv.hue.gov.vn/tin-tuc/1250-cchc-2021.html"
    parsed = parse_article(html, url=url, tz=TZ)
    assert parsed.title == "Sở Nội vụ triển khai cải cách hành chính năm 2021"
    assert parsed.published is not None
    assert parsed.published.astimezone(TZ).strftime("%d/%m/%Y %H:%M:%S") == "16/07/2021 15:01:13"
    assert parsed.body.split("\n\n")[0].startswith("Chiều ngày 15/7, Sở Nội vụ")
    for chrome in (
        "Hôm nay",
        "In trang",
        "Tin liên quan",
        "Số lượt truy cập",
        "Nguồn",
        "Bản quyền",
    ):
        assert chrome not in parsed.body
    assert parsed.attachments == (
        ("Kế hoạch CCHC 2021", "https://snv.hue.gov.vn/uploads/ke-hoach-cchc-2021.docx"),
    )


def test_other_layout_listing_falls_back_to_the_main_list_of_links() -> None:
    html = (DATA / "other-layout-listing.html").read_bytes()
    listing = parse_listing(html, base_url="https://snv.hue.gov.vn/tin-tuc?trang=2", tz=TZ)
    assert [item.url.rsplit("/", 1)[1] for item in listing.items] == [
        "1250-cchc-2021.html", "1201-hoi-nghi-so-ket.html", "1188-tap-huan.html",
    ]  # fmt: skip
    assert listing.items[0].published is not None
    assert listing.items[0].published.astimezone(TZ).hour == 15
    assert listing.next_page == "https://snv.hue.gov.vn/tin-tuc?trang=3"


CUSTOM = """<html><body>
<div class="menu"><a href="/x/1">Một liên kết menu rất dài không phải bài</a></div>
<article class="post">
 <a class="t" href="/p/1">Bài một</a><em>ngày 03/01/2022</em><q>Tóm tắt một</q></article>
<article class="post">
 <a class="t" href="/p/2">Bài hai</a><em>04-01-2022</em><q>Tóm tắt hai</q></article>
<section id="main"><h4 class="ttl">Tiêu đề riêng</h4><i class="when">05/01/2022 10:00</i>
<div class="txt"><p>Đoạn một.</p><p>Đoạn hai.</p></div></section></body></html>"""


def test_selectors_override_the_defaults() -> None:
    sel = Selectors(
        item="article.post", link="a.t", date="em", summary="q",
        article_title="h4.ttl", article_date="i.when", article_body="div.txt",
    )  # fmt: skip
    listing = parse_listing(CUSTOM, base_url="http://cms.example.vn/list", selectors=sel, tz=TZ)
    assert [(i.url, i.title, i.summary) for i in listing.items] == [
        ("http://cms.example.vn/p/1", "Bài một", "Tóm tắt một"),
        ("http://cms.example.vn/p/2", "Bài hai", "Tóm tắt hai"),
    ]
    assert [i.published.astimezone(TZ).day for i in listing.items if i.published] == [3, 4]
    parsed = parse_article(CUSTOM, url="http://cms.example.vn/p/1", selectors=sel, tz=TZ)
    assert (parsed.title, parsed.body) == ("Tiêu đề riêng", "Đoạn một.\n\nĐoạn hai.")
    assert parsed.published is not None and parsed.published.astimezone(TZ).hour == 10


def test_selector_that_matches_nothing_is_a_layout_change() -> None:
    with pytest.raises(LayoutNotRecognised, match="matched nothing"):
        parse_article(CUSTOM, url="http://e.vn/", selectors=Selectors(article_body="#gone"), tz=TZ)


HOSTILE: dict[str, str | bytes] = {
    "nested_divs_100k": "<div>" * 100_000 + "x" + "</div>" * 100_000,
    "nested_lists_100k": "<ul><li>" * 100_000,
    "nested_spans_100k": "<span>" * 100_000 + "x",
    "binary_garbage": os.urandom(100_000),
    "empty": b"",
    "no_body": "<html><head><title></title></head></html>",
    "nul_bytes": b"\x00" * 1000 + b"<p>\x00</p>",
    "invalid_utf8_declared_utf8": b'<meta charset="utf-8"><h1>\xff\xfe\xfa</h1><p>\xc3</p>',
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_pages_raise_only_parse_errors(name: str) -> None:
    page = HOSTILE[name]
    with pytest.raises(ParseError):
        parse_article(page, url="http://e.vn/a", tz=TZ)
    try:
        listing = parse_listing(page, base_url="http://e.vn/list", tz=TZ)
    except ParseError:
        return
    assert listing.items == []


def test_deep_nesting_is_refused_as_unsafe() -> None:
    with pytest.raises(UnsafeDocument, match="nests"):
        parse_article(HOSTILE["nested_divs_100k"], url="http://e.vn/a", tz=TZ)


def test_page_with_title_but_no_body_is_a_layout_change() -> None:
    html = "<h1>Một tiêu đề đủ dài</h1><div>Ngày cập nhật 16/12/2011</div>"
    with pytest.raises(LayoutNotRecognised, match="body"):
        parse_article(html, url="http://e.vn/a", tz=TZ)


def test_inline_body_selector_and_missing_date_selector() -> None:
    html = (
        "<h1>Thông báo lịch tiếp công dân tháng 12</h1><div>Ngày cập nhật 16/12/2011</div>"
        "<div><span class='noi-dung'>Lãnh đạo tiếp công dân vào thứ Năm hằng tuần.</span></div>"
    )
    sel = Selectors(article_body="span.noi-dung", article_date="#khong-co")
    parsed = parse_article(html, url="http://e.vn/a", selectors=sel, tz=TZ)
    assert parsed.body == "Lãnh đạo tiếp công dân vào thứ Năm hằng tuần."
    assert parsed.published is not None
    assert parsed.published.astimezone(TZ).date() == date(2011, 12, 16)


def test_title_and_date_line_in_one_block() -> None:
    html = (
        "<div class='slogan-khac'>Chào mừng đến với cổng thông tin điện tử</div>"
        "<div><b>Hội nghị tổng kết công tác năm 2011</b><br>Cập nhật:16/12/2011 3:01:13 CH</div>"
        "<div><p>Sáng nay, hội nghị tổng kết công tác năm đã diễn ra tại hội trường lớn.</p></div>"
    )
    parsed = parse_article(html, url="http://e.vn/a", tz=TZ)
    assert parsed.title == "Hội nghị tổng kết công tác năm 2011"
    assert parsed.published is not None and parsed.published.astimezone(TZ).hour == 15


def test_category_tid_links_yield_to_newsid_links() -> None:
    html = (
        "<a href='/vi-vn/tin-tuc/tid/Hoat-dong/cid/1'>Hoạt động của các cơ quan trong khối</a>"
        f"<div><a href='/vi-vn/tin-tuc/tid/bai/newsid/{'a' * 8}-{'b' * 4}-{'c' * 4}-{'d' * 4}-"
        f"{'e' * 12}/cid/1'>Bài viết về cải cách hành chính</a> (16/12/2011)</div>"
    )
    listing = parse_listing(html, base_url="http://e.vn/vi-vn/tin-tuc", tz=TZ)
    assert [item.title for item in listing.items] == ["Bài viết về cải cách hành chính"]
