"""Portal date lines to aware UTC: the seed's format, .NET vi-VN SA/CH times, ISO, bare dates."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from jobs.ingest.dates import date_in_url, numeric_date_parts, parse_portal_datetime

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ngày cập nhật 16/12/2011", local(2011, 12, 16)),
        ("Cập nhật:16/07/2021 3:01:13 CH", local(2021, 7, 16, 15, 1, 13)),
        ("Cập nhật:16/07/2021 3:01:13 SA", local(2021, 7, 16, 3, 1, 13)),
        ("Cập nhật:16/07/2021 12:00:00 CH", local(2021, 7, 16, 12, 0, 0)),  # noon
        ("Cập nhật:16/07/2021 12:30:00 SA", local(2021, 7, 16, 0, 30, 0)),  # after midnight
        ("Cập nhật:16/07/2021 11:59:59 CH", local(2021, 7, 16, 23, 59, 59)),
        ("16/12/2011 08:30", local(2011, 12, 16, 8, 30)),
        ("16-12-2011", local(2011, 12, 16)),
        ("Ngày đăng: 1.2.2012 lúc 9h05", local(2012, 2, 1, 9, 5)),
        ("Thứ Sáu, 16/12/2011, 08:30 (GMT+7)", local(2011, 12, 16, 8, 30)),
        ("08:30 16/12/2011", local(2011, 12, 16, 8, 30)),
        ("Ngày 16 tháng 12 năm 2011", local(2011, 12, 16)),
        ("2011-12-16", local(2011, 12, 16)),
        ("2011-12-16T08:30:00+07:00", datetime(2011, 12, 16, 1, 30, tzinfo=UTC)),
        ("2011-12-16T01:30:00Z", datetime(2011, 12, 16, 1, 30, tzinfo=UTC)),
        ("Ca\u0302\u0323p nha\u0323\u0302t:16/07/2021 3:01:13 CH", local(2021, 7, 16, 15, 1, 13)),
    ],
)
def test_date_lines(text: str, expected: datetime) -> None:
    found = parse_portal_datetime(text, tz=TZ)
    assert found == expected
    assert found is not None and found.tzinfo is UTC


def test_local_date_of_an_early_morning_article_is_the_portal_day() -> None:
    found = parse_portal_datetime("Cập nhật:16/07/2021 1:00:00 SA", tz=TZ)
    assert found is not None
    assert found.date().day == 15  # still the 15th in UTC
    assert found.astimezone(TZ).date().day == 16


@pytest.mark.parametrize(
    "text", ["", "Không có ngày", "Tổng truy câp 9.696.992", "32/13/2011", "Chỉ thị 30/CT-TW"]
)
def test_no_date(text: str) -> None:
    assert parse_portal_datetime(text, tz=TZ) is None


def test_invalid_time_keeps_the_date() -> None:
    assert parse_portal_datetime("16/12/2011 25:99", tz=TZ) == local(2011, 12, 16)


def test_invalid_date_is_skipped_for_the_next_one() -> None:
    assert parse_portal_datetime("31/02/2011 hoặc 01/03/2011", tz=TZ) == local(2011, 3, 1)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("9/14/2026 6:44:00 PM", "mdy", local(2026, 9, 14, 18, 44)),
        ("9/14/2026 6:44:00 PM", "dmy", None),  # no 14th month
        ("9/14/2026 6:44:00 PM", None, local(2026, 9, 14, 18, 44)),  # only one reading
        ("9/12/2026 6:44:00 PM", "mdy", local(2026, 9, 12, 18, 44)),
        ("9/12/2026 6:44:00 PM", "dmy", local(2026, 12, 9, 18, 44)),
        ("9/12/2026 6:44:00 PM", None, None),  # either: refused, not guessed
        ("9/9/2026", None, local(2026, 9, 9)),  # the same either way
        ("2026-09-12", None, local(2026, 9, 12)),  # ISO has no order question
    ],
)
def test_day_month_order(text: str, order: str | None, expected: datetime | None) -> None:
    assert parse_portal_datetime(text, tz=TZ, order=order) == expected  # type: ignore[arg-type]


def test_numeric_parts_and_url_stamps() -> None:
    assert numeric_date_parts("Cập nhật: 05/11/2026 3:01 CH") == (5, 11)
    assert numeric_date_parts("2026-11-05 và 05/11/2026") is None  # ISO first
    assert numeric_date_parts("Thứ Năm") is None
    url = "https://baochinhphu.vn/thu-tuong-chu-tri-hoi-nghi-20221224012650880.htm"
    assert date_in_url(url, tz=TZ) == local(2022, 12, 24, 1, 26, 50)
    assert date_in_url("https://x.vn/tin/2022/12/24/a.htm", tz=TZ) is None
    assert date_in_url("https://x.vn/bai-viet-4901234.html", tz=TZ) is None
    assert date_in_url("https://x.vn/a-20221399000000.htm", tz=TZ) is None  # month 13
