"""Alert and digest replies, their Telegram rendering, and Bot API answer classification."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import alert_words
from bot.telegram.client import classify
from bot.telegram.sender import Payload
from bot.telegram.sender import render as render_all
from jobs.delivery.alerts import AlertArticle, first_sentences
from jobs.delivery.alerts import alert_reply as make_alert
from jobs.delivery.alerts import digest_replies as make_digest
from jobs.delivery.outbound import (
    ConfigurationError,
    PermanentFailure,
    RecipientGone,
    RetryAfter,
    Sent,
    TemporaryFailure,
)
from jobs.delivery.reply import Link, Reply, Text

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def alert_reply(article: AlertArticle, *, language: str | None = None, **kw: Any) -> Reply:
    """An alert with the messages module's words for `language`."""
    return make_alert(article, words=alert_words(language), **kw)


def digest_replies(
    entries: list[tuple[int, AlertArticle, str]], *, language: str | None = None, **kw: Any
) -> list[tuple[Reply, list[int]]]:
    """Digest parts with the messages module's words for `language`."""
    return make_digest(entries, words=alert_words(language), **kw)


def render(reply: Reply) -> Payload:
    """The one Telegram message a reply must fit in."""
    [payload] = render_all(reply)
    return payload


def art(title: str = "Hội nghị", url: str = "https://thuathienhue.gov.vn/a", **kw: object):
    values: dict[str, object] = {"published_at": datetime(2026, 11, 24, 18, 30, tzinfo=UTC),
                                 "local_date": None, "summary": "", "body": ""}  # fmt: skip
    values.update(kw)
    return AlertArticle(title=title, url=url, **values)  # type: ignore[arg-type]


def test_alert_has_topic_link_local_date_snippet_and_button() -> None:
    reply = alert_reply(
        art(body="Câu một. Câu hai! " + "Dài " * 200), topic="dân chủ", subscription_id=42, tz=VN
    )
    assert reply.lines[0][1] == Text("dân chủ", bold=True)
    assert reply.lines[1] == [Link("Hội nghị", "https://thuathienhue.gov.vn/a")]
    assert reply.lines[2] == [Text("25/11/2026", italic=True)]  # 01:30 on the 25th in Hue
    assert reply.lines[3] == [Text("Câu một. Câu hai!")]
    [[button]] = reply.buttons
    assert (button.text, button.data) == ("Hủy theo dõi chủ đề này", "unsub:42")


def test_every_article_alert_and_english_labels() -> None:
    reply = alert_reply(art(), topic="", subscription_id=7, tz=VN, language="en")
    assert reply.lines[0][1] == Text("All new articles", bold=True)
    assert reply.buttons[0][0].text == "Unsubscribe from this topic"


def test_non_http_link_becomes_plain_bold_text() -> None:
    reply = alert_reply(art(url="javascript:alert(1)"), topic="x", subscription_id=1, tz=VN)
    assert reply.lines[1] == [Text("Hội nghị", bold=True)]


def test_date_falls_back_to_local_date_or_nothing() -> None:
    with_day = alert_reply(art(published_at=None, local_date=date(2011, 12, 16)), topic="a",
                           subscription_id=1, tz=VN)  # fmt: skip
    assert [Text("16/12/2011", italic=True)] in with_day.lines
    bare = alert_reply(art(published_at=None), topic="a", subscription_id=1, tz=VN)
    assert len(bare.lines) == 2


def test_alert_renders_escaped_html_in_one_message() -> None:
    reply = alert_reply(art(title="A < B & C", summary="x > y"), topic="<b>", subscription_id=1,
                        tz=VN)  # fmt: skip
    text, markup = render(reply)
    assert "A &lt; B &amp; C" in text and "&lt;b&gt;" in text and "x &gt; y" in text
    assert markup == {"inline_keyboard": [[{"text": "Hủy theo dõi chủ đề này",
                                            "callback_data": "unsub:1"}]]}  # fmt: skip


def test_huge_title_still_fits_one_message() -> None:
    text, _ = render(alert_reply(art(title="Tít " * 3000), topic="a", subscription_id=1, tz=VN))
    assert len(text) < 4096


def test_first_sentences_cut_at_a_word_when_no_sentence_fits() -> None:
    assert first_sentences("ngắn gọn") == "ngắn gọn"
    cut = first_sentences("chữ " * 200, limit=50)
    assert cut.endswith("…") and len(cut) <= 51 and not cut.startswith(" ")


def test_digest_splits_under_the_limit_and_keeps_every_row_once() -> None:
    entries = [(i, art(title=f"Tin {i} " + "x" * 80), "bão") for i in range(100)]
    parts = digest_replies(entries, day="25/11/2026", tz=VN, limit=1000)
    assert len(parts) > 1
    assert sorted(i for _reply, ids in parts for i in ids) == list(range(100))
    first, _ = parts[0]
    assert first.lines[0] == [Text("Bản tin ngày 25/11/2026 (100 tin)", bold=True)]
    for reply, _ids in parts:
        text, _markup = render(reply)
        assert sum(len(run.text) + 1 for line in reply.lines for run in line) <= 1100
        assert text


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (200, {"ok": True, "result": {"message_id": 9}}, Sent("9")),
        (429, {"ok": False, "description": "Too Many Requests: retry after 7",
               "parameters": {"retry_after": 7}}, RetryAfter(7.0, "chat",
                                                              "Too Many Requests: retry after 7")),
        (403, {"ok": False, "description": "Forbidden: bot was blocked by the user"},
         RecipientGone("Forbidden: bot was blocked by the user")),
        (400, {"ok": False, "description": "Bad Request: chat not found"},
         RecipientGone("Bad Request: chat not found")),
        (403, {"ok": False, "description": "Forbidden: user is deactivated"},
         RecipientGone("Forbidden: user is deactivated")),
        (400, {"ok": False, "description": "Bad Request: can't parse entities"},
         PermanentFailure("Bad Request: can't parse entities")),
        (500, {"ok": False, "description": "Internal Server Error"},
         TemporaryFailure("Internal Server Error")),
        (502, {}, TemporaryFailure("HTTP 502")),
        (401, {"ok": False, "description": "Unauthorized"}, ConfigurationError("Unauthorized")),
    ],
)  # fmt: skip
def test_classify_bot_api_answers(
    status: int, payload: dict[str, object], expected: object
) -> None:
    assert classify(status, payload) == expected


def test_429_without_retry_after_uses_a_default() -> None:
    outcome = classify(429, {"ok": False})
    assert isinstance(outcome, RetryAfter) and outcome.seconds > 0
