"""The poll table and the Vietnamese failure descriptions the CLI prints."""

from __future__ import annotations

from bot.cli_verbs import describe, format_poll_table
from bot.i18n import REASONS as REASON_WORDS
from jobs.ingest.errors import REASONS
from jobs.ingest.poll import PollReport


def test_every_failure_reason_has_a_vietnamese_description() -> None:
    assert set(REASONS) <= set(REASON_WORDS)
    assert describe("http_503") == "máy chủ trả lỗi HTTP 503"
    assert describe("internal: TypeError") == "internal: TypeError"  # unknown: shown as is


def test_poll_table_lists_counts_failures_skips_and_failed_pages() -> None:
    reports = [
        PollReport("portal", fetched=15, new=12),
        PollReport("feed", failed="timeout"),
        PollReport("intranet", skipped="back-off"),
        PollReport("sub", fetched=4, new=2, article_errors=["http://a/1: http_500"]),
    ]
    lines = format_poll_table(reports).splitlines()
    assert lines[0].split() == ["source", "fetched", "new", "edited", "unchanged(304)", "failed"]
    assert lines[2].split() == ["portal", "15", "12", "0", "0", "-"]
    assert lines[3].split() == ["feed", "0", "0", "0", "0", "timeout"]
    assert lines[4].split()[-2:] == ["skipped", "(back-off)"]
    assert lines[-2:] == ["failed article pages:", "  sub: http://a/1: http_500"]
