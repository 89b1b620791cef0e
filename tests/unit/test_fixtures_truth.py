"""Real-shaped pages and feeds (tests/fixtures/): what each must yield, without selectors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jobs.ingest.date_order import anchors_of, decide_order, resolve_items
from jobs.ingest.items import ListingItem
from jobs.ingest.parse_feed import parse_feed
from jobs.ingest.parse_html import parse_article, parse_listing

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ).astimezone(UTC)


def _feed(name: str, base: str) -> tuple[list[ListingItem], dict[str, str]]:
    return parse_feed((FIXTURES / name).read_bytes(), base_url=base, tz=TZ)


def test_baochinhphu_month_first_feed_is_read_month_first() -> None:
    items, _ = _feed("baochinhphu_feed.xml", "https://baochinhphu.example.vn/rss/x.rss")
    assert len(items) == 5
    verdict = decide_order(
        [i.date_text for i in items], tz=TZ, now=local(2026, 9, 14, 20), anchors=anchors_of(items)
    )
    assert (verdict.order, verdict.reason) == ("mdy", "month_over_12")
    resolved, verdict = resolve_items(items, verdict, tz=TZ)
    assert [i.published for i in resolved] == [
        local(2026, 9, 14, 18, 44),
        local(2026, 9, 13, 9, 15),
        local(2026, 9, 12, 16, 0),  # not 9 December
        local(2026, 9, 10, 10, 30),  # not 9 October
        local(2026, 9, 1, 7, 5),  # not 9 January
    ]
    assert verdict.ambiguous == 0
    assert resolved[0].title == "Quy định mới về chế độ làm việc của cán bộ, công chức cấp xã"
    assert resolved[0].summary.startswith("Chính phủ ban hành nghị định")


def test_ambiguous_feed_is_not_guessed_but_flagged() -> None:
    items, _ = _feed("baochinhphu_feed_ambiguous.xml", "https://baochinhphu.example.vn/r.rss")
    assert len(items) == 3
    # Seen in November: 5 March and 3 May are both past and both months away.
    verdict = decide_order([i.date_text for i in items], tz=TZ, now=local(2026, 11, 29))
    assert verdict.order is None
    resolved, verdict = resolve_items(items, verdict, tz=TZ)
    assert [i.published for i in resolved] == [None, None, local(2026, 3, 3, 14)]
    assert verdict.ambiguous == 2


def test_distance_from_first_seen_settles_the_order() -> None:
    texts = ["5/3/2026 8:00:00 PM", "5/2/2026 9:30:00 AM"]
    # Polled on 4 May: 3 and 2 May are fresh news, 5 March and 5 February are not.
    recent = decide_order(texts, tz=TZ, now=local(2026, 5, 4, 9))
    assert (recent.order, recent.reason) == ("mdy", "recent")
    # Polled on 6 March: "3 May" has not happened yet, so it is day first.
    future = decide_order(texts, tz=TZ, now=local(2026, 3, 6, 9))
    assert (future.order, future.reason) == ("dmy", "future")
    # A backfill walks old pages: distance proves nothing, and a learnt order wins.
    assert decide_order(texts, tz=TZ, now=local(2026, 5, 4), fresh=False).order is None
    learned = decide_order(texts, tz=TZ, now=local(2026, 5, 4), learned="mdy", fresh=False)
    assert (learned.order, learned.reason) == ("mdy", "learned")
    declared = decide_order(["14/9/2026"], tz=TZ, now=local(2026, 9, 14), declared="mdy")
    assert (declared.order, declared.reason) == ("mdy", "declared")


def test_an_unambiguous_field_of_the_same_item_settles_the_order() -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<channel><title>t</title><link>https://x.example.vn/</link><description>d</description>"
        "<item><title>Tin một</title><link>https://x.example.vn/a.htm</link>"
        "<pubDate>3/4/2026 8:00:00 AM</pubDate><dc:date>2026-03-04T08:00:00+07:00</dc:date>"
        "</item></channel></rss>"
    ).encode()
    items, _ = parse_feed(feed, base_url="https://x.example.vn/rss", tz=TZ)
    verdict = decide_order(
        [i.date_text for i in items], tz=TZ, now=local(2026, 11, 1), anchors=anchors_of(items)
    )
    assert (verdict.order, verdict.reason) == ("mdy", "anchor")
    resolved, _ = resolve_items(items, verdict, tz=TZ)
    assert resolved[0].published == local(2026, 3, 4, 8)


def test_vnexpress_feed_rfc822_dates_and_summaries() -> None:
    items, bodies = _feed("vnexpress_feed.xml", "https://vnexpress.example.net/rss/thoi-su.rss")
    assert [i.title for i in items] == [
        "Hà Nội mở thêm ba tuyến xe buýt điện nối các khu đô thị",
        "Quốc hội thông qua luật sửa đổi về tổ chức chính quyền địa phương",
        "Miền Trung chuẩn bị ứng phó bão số 13",
    ]
    assert [i.published for i in items] == [
        local(2026, 11, 29, 9, 41, 14),
        local(2026, 11, 29, 8, 2),
        local(2026, 11, 28, 21, 30),
    ]
    assert items[0].url.endswith("-4901234.html")
    assert items[0].summary.startswith("Từ ngày 1/12, ba tuyến xe buýt")
    assert all(not i.date_text for i in items)  # RFC 822: no order to settle
    assert bodies == {}


def test_tuoitre_feed_gmt_plus_7_dates_and_guids() -> None:
    items, _ = _feed("tuoitre_feed.xml", "https://tuoitre.example.vn/rss/thoi-su.rss")
    assert len(items) == 2
    assert items[0].title == "Thừa Thiên Huế khánh thành cầu vượt sông Hương mới"
    assert items[0].published == local(2026, 11, 28, 15, 30, 12)
    assert items[1].published == local(2026, 11, 28, 8, 15)
    assert items[0].guid == "20261128153012345"
    assert items[0].url_date == local(2026, 11, 28, 15, 30, 12)


def test_vpcp_home_keeps_lead_story_sub_leads_list_and_videos() -> None:
    html = (FIXTURES / "vpcp_home.html").read_bytes()
    listing = parse_listing(html, base_url="https://vpcp.example.vn/", tz=TZ)
    titles = [i.title for i in listing.items]
    assert len(listing.items) == 13
    assert titles[0].startswith("Lãnh đạo Văn phòng Chính phủ làm việc với tỉnh Thừa Thiên Huế")
    assert "Hội nghị trực tuyến về chuyển đổi số quốc gia năm 2026" in titles
    assert "Kỷ niệm ngày truyền thống Văn phòng Chính phủ" in titles
    assert "Phóng sự: Một ngày tại bộ phận một cửa" in titles
    assert "Chuyển đổi số trong cơ quan nhà nước" in titles
    urls = [i.url for i in listing.items]
    assert len(set(urls)) == 13
    assert all(u.startswith("https://vpcp.example.vn/") and u.endswith(".htm") for u in urls)
    assert "https://vpcp.example.vn/" not in urls  # the home page itself, "#"
    assert "https://vpcp.example.vn/tin-hoat-dong.htm" not in urls  # a section, not an article
    dated = {i.title: i.published for i in listing.items if i.published}
    assert dated["Triển khai Hệ thống thông tin báo cáo Chính phủ đến cấp xã"] == local(
        2026, 11, 24
    )
    assert len(dated) == 6
    assert listing.items[0].summary.startswith("Đoàn công tác ghi nhận")


def test_baochinhphu_article_drops_captions_and_dates_from_the_url() -> None:
    url = "https://baochinhphu.example.vn/thu-tuong-chu-tri-hoi-nghi-20221224012650880.htm"
    html = (FIXTURES / "baochinhphu_article.html").read_bytes()
    article = parse_article(html, url=url, tz=TZ)
    assert article.title == "Thủ tướng chủ trì hội nghị trực tuyến với các địa phương"
    assert article.published == local(2022, 12, 24, 1, 26, 50)
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("Dự hội nghị tại điểm cầu Chính phủ")
    assert "Ảnh: VGP" not in article.body
    assert "Điểm cầu tỉnh Thừa Thiên Huế tham dự" not in article.body
    assert "Tin liên quan" not in article.body


def test_dnn_listing_items_dates_and_next_page() -> None:
    html = (FIXTURES / "dnn_listing.html").read_bytes()
    base = "https://dukcqt.example.gov.vn/vi-vn/tin-tuc-su-kien"
    listing = parse_listing(html, base_url=base, tz=TZ)
    assert [i.title for i in listing.items] == [
        "Hội nghị tổng kết công tác Đảng năm 2026",
        "Thực hiện Quy chế dân chủ ở cơ sở trong các cơ quan tỉnh",
        "Đẩy mạnh cải cách hành chính năm 2026",
    ]
    assert [i.published for i in listing.items] == [
        local(2026, 11, 27),
        local(2026, 11, 5),
        local(2026, 10, 16),
    ]
    assert "newsid/6B1E2F0A" in listing.items[0].url
    assert listing.items[1].summary.startswith("Ban Chỉ đạo thực hiện Quy chế dân chủ")
    assert listing.next_page == base + "?page=2"


def test_dnn_article_title_date_body_without_captions_or_chrome() -> None:
    html = (FIXTURES / "dnn_article.html").read_bytes()
    url = "https://dukcqt.example.gov.vn/vi-vn/tin-tuc-su-kien/tid/x/newsid/6B1E2F0A-1C3D-4E5F-8A9B-0C1D2E3F4A5B"
    article = parse_article(html, url=url, tz=TZ)
    assert article.title == "Hội nghị tổng kết công tác Đảng năm 2026"
    assert article.published == local(2026, 11, 27, 15, 1, 13)
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 3
    assert (
        paragraphs[-1]
        == "Hội nghị đã khen thưởng 15 tập thể và 30 cá nhân có thành tích xuất sắc trong năm."
    )
    for gone in ("Quang cảnh hội nghị", "phát biểu", "Nguồn", "Các tin khác", "truy cập"):
        assert gone not in article.body
