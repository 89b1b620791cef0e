"""Reply -> Telegram HTML: escaping, links, splitting at 4096 visible characters, buttons."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.telegram.format import MAX_MESSAGE_CHARS, escape, to_messages, utf16_len
from jobs.delivery.reply import Button, Inline, Link, Reply, Text

ALLOWED = {"b", "i", "a"}


class _Visible(HTMLParser):
    """Parses like Telegram would for our subset: collects visible text, checks tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED, tag
        if tag == "a":
            href = dict(attrs)["href"] or ""
            assert href.startswith(("http://", "https://")), href
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    return "".join(parser.text)


def test_escape_order() -> None:
    assert escape("<b>&amp;") == "&lt;b&gt;&amp;amp;"


def test_every_run_is_escaped_and_styled() -> None:
    reply = Reply(
        lines=[
            [Text("a < b & c > d"), Text(" <i>bold</i>", bold=True)],
            [Text("x&y", italic=True), Link('Tiêu đề "<b>"', "https://a.vn/?x=1&y=<2>")],
        ]
    )
    [msg] = to_messages(reply)
    assert msg.text == (
        "a &lt; b &amp; c &gt; d<b> &lt;i&gt;bold&lt;/i&gt;</b>\n"
        '<i>x&amp;y</i><a href="https://a.vn/?x=1&amp;y=&lt;2&gt;">Tiêu đề "&lt;b&gt;"</a>'
    )
    assert visible(msg.text) == 'a < b & c > d <i>bold</i>\nx&yTiêu đề "<b>"'
    assert msg.preview is False


@pytest.mark.parametrize("url", ["javascript:alert(1)", "tg://user?id=1", "ftp://x", "https://"])
def test_only_web_links_become_links(url: str) -> None:
    [msg] = to_messages(Reply(lines=[[Link("bấm <đây>", url)]]))
    assert msg.text == "bấm &lt;đây&gt;"


def test_long_reply_splits_between_lines_under_the_limit() -> None:
    lines: list[list[Inline]] = [[Text(f"{i:04d} " + "ấ&" * 40)] for i in range(300)]
    msgs = to_messages(Reply(lines=lines))
    assert len(msgs) > 1
    seen = []
    for m in msgs:
        shown = visible(m.text)
        assert 1 <= utf16_len(shown) <= MAX_MESSAGE_CHARS
        seen.extend(shown.split("\n"))
    assert seen == [f"{i:04d} " + "ấ&" * 40 for i in range(300)]


def test_one_huge_line_is_cut_inside_runs_keeping_links_and_astral_chars() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    reply = Reply(lines=[[Link(text, "https://a.vn/x")], [Text("cuối")]])
    msgs = to_messages(reply)
    shown = [visible(m.text) for m in msgs]
    assert all(utf16_len(s) <= MAX_MESSAGE_CHARS for s in shown)
    assert "".join(shown).replace("\n", "") == text + "cuối"
    assert all(m.text.startswith('<a href="https://a.vn/x">') for m in msgs[:2])


def test_buttons_only_on_last_message_and_callback_limit() -> None:
    rows = [[Button("‹ Trang trước", data="s:1:a"), Button("Trang sau ›", data="s:3:a")]]
    msgs = to_messages(Reply(lines=[[Text("x" * 4000)], [Text("y" * 4000)]], buttons=rows))
    assert [m.reply_markup is not None for m in msgs] == [False, True]
    markup = msgs[-1].reply_markup
    assert markup is not None
    assert [b.callback_data for b in markup.inline_keyboard[0]] == ["s:1:a", "s:3:a"]
    with pytest.raises(ValueError):
        to_messages(Reply(lines=[[Text("x")]], buttons=[[Button("b", data="đ" * 33)]]))


def test_url_buttons_need_web_urls() -> None:
    reply = Reply(lines=[[Text("x")]], buttons=[[Button("a", url="https://a.vn")]])
    [msg] = to_messages(reply)
    assert msg.reply_markup is not None
    assert msg.reply_markup.inline_keyboard[0][0].url == "https://a.vn"
    [bad] = to_messages(Reply(lines=[[Text("x")]], buttons=[[Button("a", url="file:///etc")]]))
    assert bad.reply_markup is None


def test_blank_and_empty_replies() -> None:
    assert to_messages(Reply()) == []
    assert to_messages(Reply(lines=[[], [Text("  ")]])) == []
    [msg] = to_messages(Reply(lines=[[], [Text("a")], [], [Text("b")], []]))
    assert msg.text == "a\n\nb"


def test_preview_flag_follows_reply() -> None:
    [msg] = to_messages(Reply(lines=[[Text("a")]], preview=True))
    assert msg.preview is True


@given(st.lists(st.text(min_size=0, max_size=700), min_size=1, max_size=30))
def test_any_text_stays_valid_and_within_limit(texts: list[str]) -> None:
    reply = Reply(lines=[[Text(t, bold=i % 2 == 0)] for i, t in enumerate(texts)])
    for m in to_messages(reply, limit=1000):
        shown = visible(m.text)
        assert shown.strip()
        assert utf16_len(shown) <= 1000
