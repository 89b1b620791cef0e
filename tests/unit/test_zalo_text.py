"""Zalo text: splitting at 2,000 characters, rendering replies, typed choices, command words."""

from __future__ import annotations

import re

import pytest

from bot.commands.words import as_command
from bot.zalo.render import ChoiceMemory, render
from bot.zalo.split import split_text
from jobs.delivery.reply import Button, Link, Reply, Text

URL = "https://thuathienhue.gov.vn/vi-vn/Thong-tin-tong-hop/tid/Quy-che-dan-chu/newsid/ABC123"


def test_short_text_is_one_message() -> None:
    assert split_text("Xin chào") == ["Xin chào"]
    assert split_text("   ") == []


def test_long_text_splits_on_lines_and_sentences_never_inside_words_or_links() -> None:
    sentence = "Hội nghị triển khai Quy chế dân chủ ở cơ sở năm 2024 đã diễn ra tại Huế. "
    text = "\n".join([sentence * 12 + URL, "Dòng hai " * 50, sentence * 30 + URL])
    parts = split_text(text, 2000)
    assert len(parts) > 1
    assert all(1 <= len(p) <= 2000 for p in parts)
    words_in = re.findall(r"\S+", text)
    assert re.findall(r"\S+", " ".join(parts)) == words_in  # nothing lost, no word cut
    assert sum(p.count(URL) for p in parts) == 2  # links whole


def test_a_line_without_sentences_splits_between_words() -> None:
    text = " ".join(["quy-chế"] * 700)  # 5,599 characters, no sentence end
    parts = split_text(text, 2000)
    assert all(len(p) <= 2000 for p in parts)
    assert all(w == "quy-chế" for p in parts for w in p.split(" "))


def test_render_spells_links_and_numbers_choices_on_the_bot_platform() -> None:
    reply = Reply(
        lines=[[Text("Kết quả:", bold=True)], [Link("Quy chế dân chủ", URL)]],
        buttons=[[Button("‹ Trước", data="s:1:dân chủ"), Button("Sau ›", data="s:3:dân chủ")]],
    )
    out = render(reply, "vi", oa_buttons=False)
    assert out.texts == [
        f"Kết quả:\nQuy chế dân chủ {URL}\n\nTrả lời bằng một số để chọn:\n1. ‹ Trước\n2. Sau ›"
    ]
    assert out.choices == ["s:1:dân chủ", "s:3:dân chủ"] and out.buttons == []


def test_render_uses_oa_buttons_when_they_fit() -> None:
    reply = Reply(lines=[[Text("🔔 Tin mới")]], buttons=[[Button("Hủy theo dõi", data="unsub:7")]])
    out = render(reply, "en", oa_buttons=True)
    assert out.texts == ["🔔 Tin mới"]
    assert [(b.title, b.payload) for b in out.buttons] == [("Hủy theo dõi", "unsub:7")]
    many = Reply(lines=[[Text("x")]], buttons=[[Button(str(i), data=f"d{i}")] for i in range(6)])
    assert render(many, "en", oa_buttons=True).buttons == []  # over 5: numbered fallback
    assert "Reply with a number to choose:" in render(many, "en", oa_buttons=True).texts[0]


def test_choice_memory_maps_numbers_per_chat() -> None:
    memory = ChoiceMemory(capacity=2)
    memory.remember("a", ["s:2:x", "unsub:1"])
    memory.remember("b", ["d:2:20111201:20111216"])
    assert memory.pick("a", "2") == "unsub:1"
    assert memory.pick("a", " 1. ") == "s:2:x"
    assert memory.pick("a", "3") is None and memory.pick("a", "hai") is None
    memory.remember("c", ["x"])
    assert memory.pick("a", "1") is None  # the oldest chat was forgotten (bounded)
    assert memory.pick("b", "1") == "d:2:20111201:20111216"


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("tin mới", "/latest"),
        ("Tin mới 5", "/latest 5"),
        ("tìm quy chế dân chủ", "/search quy chế dân chủ"),
        ("tim quy che dan chu", "/search quy che dan chu"),
        ("Tìm kiếm cải cách hành chính", "/search cải cách hành chính"),
        ("ngày 16/12/2011", "/date 16/12/2011"),
        ("hôm nay", "/date hôm nay"),
        ("theo dõi giáo dục", "/subscribe giáo dục"),
        ("hủy theo dõi", "/unsubscribe"),
        ("Hủy theo dõi giáo dục", "/unsubscribe giáo dục"),
        ("danh sách theo dõi", "/subscriptions"),
        ("trợ giúp", "/help"),
        ("ngày hội văn hóa", None),  # a search, not a day
        ("tin mới về lũ lụt", None),
        ("tìm", None),
        ("quy chế dân chủ", None),
        ("/search x", None),
    ],
)
def test_vietnamese_words_become_commands(typed: str, command: str | None) -> None:
    assert as_command(typed) == command


def test_telegram_and_the_console_understand_the_words_too(sqlite_engine: object) -> None:
    from sqlalchemy.engine import Engine

    from bot.commands import Request, Services, handle
    from bot.flood import RateLimiter
    from tests.bot_articles import seed_corpus

    assert isinstance(sqlite_engine, Engine)
    seed_corpus(sqlite_engine)
    services = Services(engine=sqlite_engine, limiter=RateLimiter(burst=100))
    for platform in ("telegram", "console"):
        reply = handle(
            services, Request(platform=platform, chat_id="1", text="tìm quy chế dân chủ")
        )
        assert reply is not None and "Quy chế dân chủ ở cơ sở" in str(reply.lines)
        help_reply = handle(services, Request(platform=platform, chat_id="1", text="trợ giúp"))
        assert help_reply is not None and "/latest" in str(help_reply.lines)
    group = Request(platform="telegram", chat_id="-5", text="tin mới", chat_kind="group")
    assert handle(services, group) is None  # in groups only slash commands are answered


def test_a_push_is_rendered_in_its_own_language() -> None:
    from bot.i18n import alert_words

    english = Reply(lines=[[Text("🔔 New")]], buttons=[[Button(alert_words("en")["unsub"], "u:1")]])
    assert "Reply with a number" in render(english, None, oa_buttons=False).texts[0]
    vietnamese = Reply(lines=[[Text("🔔")]], buttons=[[Button(alert_words("vi")["unsub"], "u:1")]])
    assert "Trả lời bằng một số" in render(vietnamese, None, oa_buttons=False).texts[0]
