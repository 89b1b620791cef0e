"""Result formatting: snippets with bold matches, dd/mm/yyyy dates, linked titles, pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.presenting import (
    article_day,
    date_reply,
    fmt_date,
    latest_reply,
    marked_runs,
    search_reply,
    span_text,
)
from bot.telegram.format import to_messages
from jobs.delivery.reply import Button, Link, Text

HUE = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class Item:
    title: str
    url: str
    local_date: date | None
    published_at: datetime | None
    source: str = "tinh"
    snippet: str = ""
    summary: str = ""


def test_marked_runs() -> None:
    assert marked_runs("Quy chế «dân chủ» ở «cơ sở».") == [
        Text("Quy chế "),
        Text("dân chủ", bold=True),
        Text(" ở "),
        Text("cơ sở", bold=True),
        Text("."),
    ]
    assert marked_runs("a «b c") == [Text("a b c")]  # an unclosed marker is dropped
    assert marked_runs("a » b «c»") == [Text("a  b "), Text("c", bold=True)]
    assert marked_runs("«»x") == [Text("x")]
    assert marked_runs("") == []


def test_dates() -> None:
    assert fmt_date(date(2011, 12, 6)) == "06/12/2011"
    late = datetime(2011, 12, 16, 18, 0, tzinfo=UTC)  # already 17/12 in Hue
    assert article_day(Item("t", "u", None, late), HUE) == date(2011, 12, 17)
    assert article_day(Item("t", "u", date(2011, 1, 1), late), HUE) == date(2011, 1, 1)
    assert article_day(Item("t", "u", None, None), HUE) is None
    assert span_text(date(2011, 12, 1), date(2011, 12, 1), "vi") == "ngày 01/12/2011"
    assert span_text(date(2011, 12, 1), date(2011, 12, 16), "en") == "from 01/12/2011 to 16/12/2011"


def test_latest_reply_links_titles_and_escapes_in_html() -> None:
    items = [Item("A <b> & B", "https://x.vn/1", date(2011, 12, 16), None)]
    reply = latest_reply(items, lang="vi", tz=HUE)
    assert reply.lines[2] == [Text("1. "), Link("A <b> & B", "https://x.vn/1")]
    assert reply.lines[3] == [Text("16/12/2011 · tinh", italic=True)]
    [msg] = to_messages(reply)
    assert '<a href="https://x.vn/1">A &lt;b&gt; &amp; B</a>' in msg.text
    assert latest_reply([], lang="en", tz=HUE).lines == [[Text("There are no articles yet.")]]


def test_untitled_and_undated_items_still_show() -> None:
    reply = latest_reply([Item("  ", "https://x.vn/2", None, None, source="")], lang="vi", tz=HUE)
    assert reply.lines[2] == [Text("1. "), Link("https://x.vn/2", "https://x.vn/2")]
    assert reply.lines[3] == []


def test_search_reply_numbers_across_pages_and_keeps_buttons() -> None:
    hits = [
        Item(f"T{i}", f"https://x.vn/{i}", date(2011, 1, 1), None, snippet="«a» b")
        for i in range(2)
    ]
    buttons = [Button("‹ Trang trước", data="s:1:a"), Button("Trang sau ›", data="s:3:a")]
    reply = search_reply(hits, query="a", total="1000+", page=2, pages=100, per_page=10,
                         lang="vi", tz=HUE, buttons=buttons)  # fmt: skip
    assert reply.lines[0] == [Text("Kết quả cho “a”: 1000+ bài (trang 2/100)", bold=True)]
    assert reply.lines[2][0] == Text("11. ")
    assert reply.lines[4] == [Text("a", bold=True), Text(" b")]
    assert reply.buttons == [buttons]
    empty = search_reply([], query="x" * 100, total="0", page=1, pages=1, per_page=10,
                         lang="vi", tz=HUE, buttons=[])  # fmt: skip
    assert empty.lines == [[Text("Không tìm thấy bài nào cho “" + "x" * 59 + "…”.")]]


def test_date_reply_offers_nearest_days_when_empty() -> None:
    near = [Button("01/12/2011", data="d:1:20111201:20111201")]
    day = date(2011, 12, 10)
    reply = date_reply([], start=day, end=day, total=0, page=1, pages=1, per_page=10,
                       lang="en", tz=HUE, buttons=[], nearest=near)  # fmt: skip
    assert reply.lines == [
        [Text("No articles on 10/12/2011.")],
        [Text("Nearest days with articles:")],
    ]
    assert reply.buttons == [near]
