"""Pure rules of the fake Bot API: Telegram HTML parsing, sliding-window limits, param checks."""

from __future__ import annotations

import html
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.telegram_html import HtmlError, check_text, parse_html, utf16_len
from tests.fakes.telegram_limits import Limits, RateLimiter, Rule, max_in_window, retry_after
from tests.fakes.telegram_params import ApiError, check_call, check_value


@given(st.text())
def test_escaped_text_parses_back_to_itself(text: str) -> None:
    assert parse_html(html.escape(text)).text == text


@given(st.text(alphabet=st.sampled_from("<>&")))
def test_raw_markup_characters_are_refused_unless_only_gt(text: str) -> None:
    if "<" in text or "&" in text:
        with pytest.raises(HtmlError):
            parse_html(text)
    else:
        assert parse_html(text).text == text


def test_entity_offsets_count_utf16_units() -> None:
    parsed = parse_html("😀 <b>đ</b>")
    assert parsed.entities[0].offset == 3  # the emoji is two UTF-16 units
    assert utf16_len("😀") == 2


def test_nested_entities_and_expandable_blockquote() -> None:
    parsed = parse_html("<blockquote expandable><b>a<i>b</i></b></blockquote>")
    assert [(e.type, e.offset, e.length) for e in parsed.entities] == [
        ("expandable_blockquote", 0, 2),
        ("bold", 0, 2),
        ("italic", 1, 1),
    ]


def test_tg_links_only_when_allowed() -> None:
    with pytest.raises(HtmlError):
        parse_html('<a href="tg://user?id=1">x</a>')
    assert parse_html('<a href="tg://user?id=1">x</a>', allow_tg_links=True).entities


def test_unknown_parse_mode_is_refused_and_markdown_kept_as_is() -> None:
    with pytest.raises(HtmlError, match="unsupported parse_mode"):
        check_text("x", "BBCode")
    assert check_text("*x*", "MarkdownV2").text == "*x*"


def test_retry_after_is_the_wait_until_a_slot_frees() -> None:
    times = deque([10.0, 10.2, 10.9])
    assert retry_after(times, Rule(3, 1.0), 10.95) == 1
    assert retry_after(times, Rule(3, 1.0), 11.0) is None  # 10.0 left the half-open window
    assert retry_after(deque([0.0]), Rule(1, 60.0), 1.0) == 59


def test_limiter_counts_only_accepted_sends() -> None:
    limiter = RateLimiter(Limits(global_per_second=2))
    assert limiter.check(1, False, 0.0) is None
    limiter.accept(1, 0.0)
    assert limiter.check(1, False, 0.5) == 1  # per private chat
    assert limiter.check(2, False, 0.5) is None
    limiter.accept(2, 0.5)
    assert limiter.check(3, False, 0.6) == 1  # global
    assert limiter.check(3, False, 1.0) is None


def test_slack_shortens_every_window() -> None:
    limiter = RateLimiter(Limits(slack=0.05))
    limiter.accept(1, 0.0)
    assert limiter.check(1, False, 0.96) is None


def test_max_in_window_uses_half_open_windows() -> None:
    assert max_in_window([0.0, 1.0, 2.0], 1.0) == 1
    assert max_in_window([0.0, 0.5, 0.99, 1.2], 1.0) == 3
    assert max_in_window([], 1.0) == 0


def test_nested_objects_are_checked_against_the_spec() -> None:
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    assert check_value("InlineKeyboardMarkup", markup, "reply_markup") == markup
    with pytest.raises(ApiError, match='"inline_keyboard"'):
        check_value("InlineKeyboardMarkup", {"keyboard": []}, "reply_markup")
    scope = check_value("BotCommandScope", '{"type": "chat", "chat_id": 5}', "scope")
    assert scope == {"type": "chat", "chat_id": 5}
    with pytest.raises(ApiError, match="unsupported BotCommandScope"):
        check_value("BotCommandScope", {"type": "everyone"}, "scope")


def test_form_strings_are_decoded_to_spec_types() -> None:
    params = check_call("sendMessage", {"chat_id": "-100", "text": "x", "protect_content": "1"})
    assert params["chat_id"] == -100
    assert params["protect_content"] is True
