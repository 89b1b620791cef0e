"""Log records never carry the bot token or other secrets."""

from __future__ import annotations

import logging

import pytest

from bot.logs import RedactingFilter, redact


def test_redact_bot_api_url() -> None:
    url = "https://api.telegram.org/bot123456:AAH-x_yZ/sendMessage"
    assert redact(url) == "https://api.telegram.org/bot<redacted>/sendMessage"


def test_redact_token_query_values() -> None:
    assert "abc" not in redact("POST /oa?access_token=abc&x=1")


def test_filter_rewrites_formatted_message(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.redact")
    log.addFilter(RedactingFilter(["plain-secret"]))
    with caplog.at_level(logging.INFO, logger="test.redact"):
        log.info("GET %s with %s", "https://x/bot42:TOKEN/getMe", "plain-secret")
    text = caplog.text
    assert "TOKEN" not in text and "plain-secret" not in text
    assert "bot<redacted>" in text


def test_filter_redacts_the_traceback_of_log_exception(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.redact.exc")
    log.addFilter(RedactingFilter(["plain-secret"]))
    with caplog.at_level(logging.ERROR, logger="test.redact.exc"):
        try:
            raise RuntimeError("POST https://x/bot42:TOKEN/sendMessage plain-secret")
        except RuntimeError:
            log.exception("send failed")
    text = caplog.text
    assert "RuntimeError: POST https://x/bot<redacted>/sendMessage <redacted>" in text
    assert "TOKEN" not in text and "plain-secret" not in text
