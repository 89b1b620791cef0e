"""RSS 2.0 and Atom parsing, and the refusals (ParseError subclasses): entity bombs, XXE,
malformed documents and non-feeds."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from jobs.ingest.errors import NotAFeed, UnsafeDocument
from jobs.ingest.normalize import article_key
from jobs.ingest.parse_feed import MAX_PERSON_FIELD, cap_fields, parse_feed
from storage.text import normalize
from tests.fakes.portal_site import build_site

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = "https://dukcqt.thuathienhue.gov.vn"


def _rss(items: str, extra_head: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{extra_head}<rss version="2.0"><channel>'
        f"<title>Cổng</title><link>{BASE}/</link><description>d</description>{items}"
        "</channel></rss>"
    ).encode()


def test_rss_items_bodies_and_keys_match_the_html_variant() -> None:
    site = build_site(n_articles=8)
    items, bodies = parse_feed(site.render_rss(BASE).encode(), base_url=BASE + "/rss.aspx", tz=TZ)
    expected = site.ordered()
    assert [i.url for i in items] == [BASE + a.path for a in expected]
    assert [i.title for i in items] == [a.title for a in expected]
    assert [i.published for i in items] == [a.published.astimezone(UTC) for a in expected]
    seed = site.articles[0]
    assert bodies[BASE + seed.path] == "\n\n".join(
        p for p in (normalize(x) for x in seed.paragraphs) if p
    )
    first = items[0]  # guid is the permalink: keyed by newsid like the HTML listing
    key = article_key(source="s", guid=first.guid, url=first.url, title=first.title, published=None)
    assert key == "newsid:" + expected[0].guid


def test_atom_relative_links_ids_and_no_bodies() -> None:
    site = build_site(n_articles=4)
    data = site.render_atom(BASE).encode()
    items, bodies = parse_feed(data, base_url=BASE + "/atom.xml", tz=TZ)
    assert [i.url for i in items] == [BASE + a.path for a in site.ordered()]
    assert [i.guid for i in items] == [f"urn:uuid:{a.guid}" for a in site.ordered()]
    assert items[1].summary == site.ordered()[1].summary
    assert items[0].published == site.ordered()[0].published.astimezone(UTC)
    assert bodies == {}


def test_zone_less_feed_dates_are_portal_local_time() -> None:
    data = _rss(
        "<item><title>A</title><link>/a</link><pubDate>16/12/2011 08:30</pubDate></item>"
        "<item><title>B</title><link>/b</link><pubDate>Fri, 16 Dec 2011 08:30:00</pubDate></item>"
        "<item><title>C</title><link>/c</link>"
        "<pubDate>Fri, 16 Dec 2011 08:30:00 +0700</pubDate></item>"
    )
    items, _ = parse_feed(data, base_url=BASE + "/rss.aspx", tz=TZ)
    assert {i.published for i in items} == {datetime(2011, 12, 16, 1, 30, tzinfo=UTC)}
    assert [i.url for i in items] == [f"{BASE}/a", f"{BASE}/b", f"{BASE}/c"]


def test_html_in_titles_and_summaries_becomes_clean_text() -> None:
    data = _rss(
        "<item><title>Ðảng ủy &amp; &lt;b&gt;Khối&lt;/b&gt;</title><link>/a</link>"
        "<description>&lt;p&gt;Tóm&amp;nbsp;tắt&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;"
        "</description></item>"
    )
    items, _ = parse_feed(data, base_url=BASE + "/", tz=TZ)
    assert (items[0].title, items[0].summary) == ("Đảng ủy & Khối", "Tóm tắt")


def test_unescaped_ampersand_is_still_read() -> None:
    data = _rss("<item><title>Sở Nội vụ & Sở Tư pháp</title><link>/a?x=1&y=2</link></item>")
    items, _ = parse_feed(data, base_url=BASE + "/", tz=TZ)
    assert [i.title for i in items] == ["Sở Nội vụ & Sở Tư pháp"]


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>'
    '<rss version="2.0"><channel><title>&lol2;</title></channel></rss>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<rss version="2.0"><channel><item><title>&x;</title><link>/a</link></item></channel></rss>'
)


@pytest.mark.parametrize("doc", [BOMB.encode(), XXE.encode(), BOMB.encode("utf-16")])
def test_entity_declarations_are_refused(doc: bytes) -> None:
    with pytest.raises(UnsafeDocument):
        parse_feed(doc, base_url=BASE + "/", tz=TZ)


def test_plain_doctype_without_entities_is_accepted() -> None:
    head = '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "rss-0.91.dtd">'
    items, _ = parse_feed(
        _rss("<item><title>A</title><link>/a</link></item>", head), base_url=BASE + "/", tz=TZ
    )
    assert [i.title for i in items] == ["A"]


@pytest.mark.parametrize(
    "doc",
    [
        b"<rss version='2.0'><channel><item><title>x</title",  # truncated
        b"\x00\xff\xfe\x89PNG garbage",
        b"",
        b"<html><body><p>Trang web, kh\xc3\xb4ng ph\xe1\xba\xa3i RSS</p></body></html>",
        b"<?xml version='1.0'?><note><to>A</to></note>",
    ],
)
def test_malformed_and_non_feed_documents(doc: bytes) -> None:
    with pytest.raises(NotAFeed):
        parse_feed(doc, base_url=BASE + "/", tz=TZ)


def test_empty_but_valid_feed_has_no_items() -> None:
    assert parse_feed(_rss(""), base_url=BASE + "/", tz=TZ) == ([], {})


def test_long_author_field_is_capped_before_feedparser() -> None:
    author = "a." * 200_000  # uncapped, feedparser's e-mail regex would run for minutes
    data = _rss(f"<item><title>A</title><link>/a</link><author>{author}</author></item>")
    capped = cap_fields(data)
    assert len(capped) < len(data) - 390_000
    assert b"<author>" + b"a." * (MAX_PERSON_FIELD // 2) + b"</author>" in capped
    items, _ = parse_feed(data, base_url=BASE + "/", tz=TZ)
    assert [i.title for i in items] == ["A"]


def test_long_cdata_creator_is_capped_too() -> None:
    creator = "x" * 50_000
    data = _rss(
        f"<item><title>A</title><link>/a</link><dc:creator><![CDATA[{creator}]]></dc:creator>"
        "</item>"
    ).replace(b"<rss ", b'<rss xmlns:dc="http://purl.org/dc/elements/1.1/" ')
    assert len(cap_fields(data)) < 1_000
    items, _ = parse_feed(data, base_url=BASE + "/", tz=TZ)
    assert [i.title for i in items] == ["A"]
