"""Quiet hours and digest times in Asia/Ho_Chi_Minh, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from jobs.delivery.enqueue import plan_delivery
from jobs.delivery.quiet import in_quiet, next_digest_at, parse_hhmm, quiet_release

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant given as local time on 2026-11-<day>."""
    return datetime(2026, 11, day, hour, minute, tzinfo=VN).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("22:00", time(22, 0)), ("7:05", time(7, 5)), ("7h30", time(7, 30)), ("6", time(6, 0))],
)
def test_parse_hhmm_accepts_common_forms(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize("text", [None, "", "24:00", "7:60", "abc", "07:5", "-1:00"])
def test_parse_hhmm_refuses_nonsense(text: str | None) -> None:
    assert parse_hhmm(text) is None


def test_quiet_window_across_midnight() -> None:
    start, end = time(22, 0), time(6, 0)
    assert in_quiet(local(25, 23), start, end, VN)
    assert in_quiet(local(26, 5, 59), start, end, VN)
    assert not in_quiet(local(26, 6), start, end, VN)
    assert not in_quiet(local(25, 21, 59), start, end, VN)


def test_quiet_window_within_one_day() -> None:
    start, end = time(12, 0), time(13, 30)
    assert in_quiet(local(25, 12, 45), start, end, VN)
    assert not in_quiet(local(25, 13, 30), start, end, VN)


def test_no_quiet_without_both_bounds_or_when_equal() -> None:
    assert not in_quiet(local(25, 23), None, time(6, 0), VN)
    assert not in_quiet(local(25, 23), time(6, 0), time(6, 0), VN)
    assert quiet_release(local(25, 23), None, None, VN) is None


def test_release_is_the_end_of_the_current_quiet_period() -> None:
    start, end = time(22, 0), time(6, 0)
    assert quiet_release(local(25, 23), start, end, VN) == local(26, 6)
    assert quiet_release(local(26, 1), start, end, VN) == local(26, 6)
    assert quiet_release(local(26, 7), start, end, VN) is None


def test_next_digest_today_or_tomorrow() -> None:
    assert next_digest_at(local(25, 6, 59), time(7, 0), VN) == local(25, 7)
    assert next_digest_at(local(25, 7), time(7, 0), VN) == local(25, 7)
    assert next_digest_at(local(25, 7, 1), time(7, 0), VN) == local(26, 7)
    # 23:30 local is 16:30 UTC of the same day: the zone, not UTC, decides "today".
    assert next_digest_at(local(25, 23, 30), time(18, 0), VN) == local(26, 18)


def test_digest_without_time_uses_the_default_hour() -> None:
    assert next_digest_at(local(25, 8), None, VN) == local(26, 7)


def plan(mode: str, now: datetime, digest_time: str | None = None) -> tuple[str, datetime]:
    return plan_delivery(
        digest_mode=mode,
        digest_time=digest_time,
        quiet_start="22:00",
        quiet_end="06:00",
        now=now,
        tz=VN,
    )


def test_plan_delivery_instant_quiet_and_daily() -> None:
    assert plan("instant", local(25, 10)) == ("alert", local(25, 10))
    assert plan("instant", local(25, 23)) == ("alert", local(26, 6))
    assert plan("daily", local(25, 23), "18:30") == ("digest", local(26, 18, 30))
