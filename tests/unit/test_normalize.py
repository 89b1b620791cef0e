"""Identity keys, canonical URLs, NFC normalisation and content hashes of articles."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from jobs.ingest.items import ListingItem, ParsedArticle
from jobs.ingest.normalize import article_key, canonical_url, content_hash, newsid_of, to_article
from jobs.ingest.parse_html import parse_article
from tests.fakes.portal_site import build_site

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
GUID = "5D1C2A8E-6F0B-4C1E-9A51-3F2B7C9D0E11"
DNN = f"https://thuathienhue.gov.vn/vi-vn/tin-tuc/tid/quy-che/newsid/{GUID}/cid/ABC"


def test_feed_guid_wins() -> None:
    key = article_key(source="s", guid="tag:portal,2011:42", url=DNN, title="t", published=None)
    assert key == "guid:s:tag:portal,2011:42"


def test_newsid_from_the_url_when_no_guid() -> None:
    assert (
        article_key(source="s", guid=None, url=DNN, title="t", published=None)
        == "newsid:" + GUID.lower()
    )


def test_newsid_is_the_same_across_url_spellings() -> None:
    spellings = [
        DNN,
        DNN.replace("https://thuathienhue.gov.vn", "HTTP://ThuaThienHue.gov.vn:80") + "#top",
        f"https://thuathienhue.gov.vn/vi-vn/khac/tid/slug-moi/newsid/{GUID.lower()}/cid/X",
        f"https://thuathienhue.gov.vn/Default.aspx?tabid=93&newsid={GUID}&utm_source=zalo",
    ]
    keys = {
        article_key(source="s", guid=None, url=url, title="t", published=None) for url in spellings
    }
    assert keys == {"newsid:" + GUID.lower()}


def test_permalink_guid_is_keyed_like_its_url() -> None:
    # RSS guid isPermaLink: the same article from the feed and from the HTML listing.
    from_feed = article_key(source="s", guid=DNN, url=DNN, title="t", published=None)
    assert from_feed == article_key(source="s", guid=None, url=DNN, title="t", published=None)


def test_canonical_url_rules() -> None:
    url = "HTTPS://Portal.Hue.GOV.vn:443/tin-tuc/a%20b?utm_source=fb&b=2&fbclid=X&a=1&gclid=Y#c"
    assert canonical_url(url) == "https://portal.hue.gov.vn/tin-tuc/a%20b?a=1&b=2"
    assert canonical_url("http://x.vn:8080/p") == "http://x.vn:8080/p"
    assert canonical_url("http://x.vn") == "http://x.vn/"
    assert canonical_url("http://x.vn/tin-t%E1%BB%A9c") == canonical_url("http://x.vn/tin-tức")


def test_same_article_via_two_url_spellings_gives_one_url_key() -> None:
    a = article_key(
        source="s", guid=None, url="http://x.vn/bai?id=7&utm_medium=email", title="", published=None
    )
    b = article_key(
        source="s", guid=None, url="HTTP://X.VN:80/bai?id=7#binh-luan", title="", published=None
    )
    assert a == b == "url:x.vn/bai?id=7"


def test_hash_key_when_there_is_no_url() -> None:
    when = datetime(2011, 12, 16, tzinfo=UTC)
    one = article_key(source="s", guid=None, url="", title="Quy chế dân chủ", published=when)
    two = article_key(source="s", guid=" ", url="", title="QUY CHE DAN CHU", published=when)
    assert one.startswith("hash:") and one == two  # folded title: case and marks ignored
    assert one != article_key(
        source="s", guid=None, url="", title="Quy chế dân chủ", published=None
    )


def test_newsid_of_rejects_non_guids() -> None:
    assert newsid_of("https://x.vn/newsid/12345/") is None


def test_content_hash_looks_at_title_and_body_only() -> None:
    base = content_hash(title="Tiêu đề", body="Đoạn một.\n\nĐoạn hai.")
    nfd = unicodedata.normalize("NFD", "Tiêu đề")
    assert content_hash(title=nfd + " ", body="Đoạn\u00a0một.\n\n\n\nĐoạn hai.") == base
    assert content_hash(title="Tiêu đề", body="Ðoạn một.\n\nĐoạn hai.") == base  # Ð for Đ
    assert content_hash(title="Tiêu đề mới", body="Đoạn một.\n\nĐoạn hai.") != base
    assert content_hash(title="Tiêu đề", body="Đoạn một.\n\nĐoạn ba.") != base


def test_to_article_from_the_seed_page() -> None:
    site = build_site()
    seed = site.articles[0]
    url = "https://dukcqt.thuathienhue.gov.vn" + seed.path
    parsed = parse_article(site.render_article(seed, counter=5), url=url, tz=TZ)
    article, digest = to_article(parsed, source="dukcqt", tz=TZ)
    assert article.key == "newsid:" + seed.guid
    assert article.local_date == date(2011, 12, 16)
    assert article.published_at == datetime(2011, 12, 15, 17, tzinfo=UTC)
    assert article.source == "dukcqt" and article.title == seed.title
    again = parse_article(site.render_article(seed, counter=6), url=url, tz=TZ)
    assert to_article(again, source="dukcqt", tz=TZ)[1] == digest  # counters do not count


def test_to_article_fills_gaps_from_the_listing_and_normalises() -> None:
    when = datetime(2021, 7, 16, 8, 1, tzinfo=UTC)
    parsed = ParsedArticle(
        url="https://x.vn/redirected",
        title=unicodedata.normalize("NFD", "Ðảng ủy  Khối"),
        published=None,
        body="  Đoạn\u00a0một. \n\n\n  \n Đoạn hai.",
        attachments=(("Kế hoạch.pdf", "https://x.vn/k.pdf"),),
    )
    item = ListingItem(
        url="https://x.vn/bai", title="x", published=when, summary="Tóm tắt", guid="g-1"
    )
    article, _ = to_article(parsed, source="s", tz=TZ, listing=item)
    assert article.title == "Đảng ủy Khối" and unicodedata.is_normalized("NFC", article.title)
    assert article.body == "Đoạn một.\n\nĐoạn hai."
    assert (article.summary, article.key, article.url) == ("Tóm tắt", "guid:s:g-1", item.url)
    assert article.published_at == when and article.local_date == date(2021, 7, 16)
    assert article.attachments == [{"name": "Kế hoạch.pdf", "url": "https://x.vn/k.pdf"}]


@pytest.mark.parametrize("hour_utc", [16, 17])
def test_local_date_is_in_the_portal_zone(hour_utc: int) -> None:
    parsed = ParsedArticle(
        url="https://x.vn/a", title="T", published=datetime(2011, 12, 15, hour_utc, tzinfo=UTC),
        body="B",
    )  # fmt: skip
    article, _ = to_article(parsed, source="s", tz=TZ)
    assert article.local_date == date(2011, 12, 15 if hour_utc == 16 else 16)


def _url_key(url: str, **kw: object) -> str:
    return article_key(source="s", guid=None, url=url, title="", published=None, **kw)  # type: ignore[arg-type]


def test_url_keys_survive_scheme_and_www_changes() -> None:
    spellings = [
        "http://portal.hue.gov.vn/tin/bai-1",
        "https://portal.hue.gov.vn/tin/bai-1",
        "https://WWW.portal.hue.gov.vn:443/tin/bai-1#x",
        "http://www.portal.hue.gov.vn/tin/bai-1?utm_source=zalo",
    ]
    assert {_url_key(url) for url in spellings} == {"url:portal.hue.gov.vn/tin/bai-1"}


def test_a_declared_domain_move_keeps_the_keys() -> None:
    aliases = {"cchc.hue.gov.vn": "cchc.thuathienhue.gov.vn"}
    old = _url_key("http://cchc.thuathienhue.gov.vn/tin/bai-1", aliases=aliases)
    new = _url_key("https://www.cchc.hue.gov.vn/tin/bai-1", aliases=aliases)
    assert old == new == "url:cchc.thuathienhue.gov.vn/tin/bai-1"
    assert _url_key("https://cchc.hue.gov.vn/tin/bai-1") != old  # undeclared: another site


def test_feed_guids_are_scoped_to_their_source() -> None:
    one = article_key(source="a", guid="1", url="http://a.vn/1", title="", published=None)
    two = article_key(source="b", guid="1", url="http://b.vn/1", title="", published=None)
    assert one != two


def test_credentials_never_reach_keys_or_articles() -> None:
    url = "https://user:s3cret@portal.hue.gov.vn/tin/bai-1"
    assert "s3cret" not in _url_key(url) and "user" not in _url_key(url)
    assert "s3cret" not in canonical_url(url)
    parsed = ParsedArticle(
        url=url,
        title="Tiêu đề",
        published=None,
        body="Nội dung",
        attachments=(("Tệp", "https://user:s3cret@portal.hue.gov.vn/f.pdf"),),
    )
    article, _ = to_article(parsed, source="s", tz=TZ)
    assert "s3cret" not in article.model_dump_json()
    assert article.url == "https://portal.hue.gov.vn/tin/bai-1"


def test_a_future_date_is_clamped_to_first_sight_and_flagged() -> None:
    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    future = ParsedArticle(
        url="http://x.vn/a", title="T", published=datetime(2031, 1, 1, tzinfo=UTC), body="b"
    )
    article, _ = to_article(future, source="s", tz=TZ, now=now)
    assert article.published_at == now and article.published_clamped
    assert article.local_date == date(2026, 11, 25)
    past = ParsedArticle(url="http://x.vn/a", title="T", published=now, body="b")
    article, _ = to_article(past, source="s", tz=TZ, now=now)
    assert article.published_at == now and not article.published_clamped


@pytest.mark.parametrize("year", [1, 9999])
def test_impossible_years_become_no_date(year: int) -> None:
    when = datetime(year, 1, 1, tzinfo=UTC) if year == 1 else datetime(year, 12, 31, 23, tzinfo=UTC)
    parsed = ParsedArticle(url="http://x.vn/a", title="T", published=when, body="b")
    article, _ = to_article(parsed, source="s", tz=TZ)
    assert article.published_at is None and article.local_date is None


def test_hostile_characters_are_cleaned_once_for_storage() -> None:
    parsed = ParsedArticle(
        url="http://x.vn/a\x00b",
        title="Tin \x00có\ud800 ký tự\x1b lạ",
        published=None,
        body="Đoạn\x00 một.\n\nĐoạn \udfff hai.",
        guid="g\x00\ud800",
    )
    article, _ = to_article(parsed, source="s", tz=TZ)
    dumped = article.model_dump_json()
    assert "\\u0000" not in dumped and "\\ud800" not in dumped
    assert article.title == "Tin có\ufffd ký tự lạ"
    article.key.encode("utf-8")  # no lone surrogate left anywhere
    article.body.encode("utf-8")
