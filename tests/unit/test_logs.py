"""Log records never carry the bot token or other secrets."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import RedactingFilter, redact, setup_logging


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


def test_json_lines_are_redacted_and_parse(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", ["plain-secret"], "json")
        log = logging.getLogger("test.json")
        log.info("GET %s with %s", "https://x/bot42:TOKEN/getMe", "plain-secret")
        try:
            raise RuntimeError("https://x/bot42:TOKEN/sendMessage plain-secret")
        except RuntimeError:
            log.exception("send failed: %s", "plain-secret")
        lines = capsys.readouterr().err.splitlines()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "test.json"
    assert first["message"] == "GET https://x/bot<redacted>/getMe with <redacted>"
    assert first["time"].endswith("+00:00")
    assert second["message"] == "send failed: <redacted>"
    assert "TOKEN" not in second["exc_info"] and "plain-secret" not in second["exc_info"]
    assert "RuntimeError" in second["exc_info"]
    assert all("TOKEN" not in line and "plain-secret" not in line for line in lines)


def test_text_lines_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", ["plain-secret"])
        logging.getLogger("test.text").warning("token bot42:TOKEN and plain-secret")
        err = capsys.readouterr().err
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert "WARNING test.text: token bot<redacted> and <redacted>" in err
