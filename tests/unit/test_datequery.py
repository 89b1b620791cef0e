"""Date expressions for /date: every documented form, and each kind of bad input."""

from __future__ import annotations

from datetime import date

import pytest

from storage.datequery import DateQueryError, DateRange, parse_date_query

TODAY = date(2024, 3, 14)  # a Thursday
D = date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("16/12/2011", D(2011, 12, 16), D(2011, 12, 16)),
        ("16-12-2011", D(2011, 12, 16), D(2011, 12, 16)),
        ("16.12.2011", D(2011, 12, 16), D(2011, 12, 16)),
        ("2011-12-16", D(2011, 12, 16), D(2011, 12, 16)),
        ("  ngày 16/12/2011 ", D(2011, 12, 16), D(2011, 12, 16)),
        ("16 tháng 12 năm 2011", D(2011, 12, 16), D(2011, 12, 16)),
        ("16/12/11", D(2011, 12, 16), D(2011, 12, 16)),
        ("16/12", D(2023, 12, 16), D(2023, 12, 16)),  # a yearless day ahead: last year
        ("14/03", TODAY, TODAY),
        ("01/03", D(2024, 3, 1), D(2024, 3, 1)),
        ("1/3", D(2024, 3, 1), D(2024, 3, 1)),
        ("hôm nay", TODAY, TODAY),
        ("hom nay", TODAY, TODAY),
        ("Hôm Nay", TODAY, TODAY),
        ("today", TODAY, TODAY),
        ("hôm qua", D(2024, 3, 13), D(2024, 3, 13)),
        ("hom qua", D(2024, 3, 13), D(2024, 3, 13)),
        ("yesterday", D(2024, 3, 13), D(2024, 3, 13)),
        ("tuần này", D(2024, 3, 11), TODAY),
        ("tuan nay", D(2024, 3, 11), TODAY),
        ("tuần trước", D(2024, 3, 4), D(2024, 3, 10)),
        ("tháng 12/2011", D(2011, 12, 1), D(2011, 12, 31)),
        ("tháng 2/2024", D(2024, 2, 1), D(2024, 2, 29)),
        ("thang 12 nam 2011", D(2011, 12, 1), D(2011, 12, 31)),
        ("12/2011", D(2011, 12, 1), D(2011, 12, 31)),
        ("tháng 2", D(2024, 2, 1), D(2024, 2, 29)),
        ("tháng này", D(2024, 3, 1), TODAY),
        ("tháng trước", D(2024, 2, 1), D(2024, 2, 29)),
        ("năm 2011", D(2011, 1, 1), D(2011, 12, 31)),
        ("01/12/2011-16/12/2011", D(2011, 12, 1), D(2011, 12, 16)),
        ("01/12/2011 - 16/12/2011", D(2011, 12, 1), D(2011, 12, 16)),
        ("01/12/2011 đến 16/12/2011", D(2011, 12, 1), D(2011, 12, 16)),
        ("01/12/2011 den 16/12/2011", D(2011, 12, 1), D(2011, 12, 16)),
        ("01/12/2011 to 16/12/2011", D(2011, 12, 1), D(2011, 12, 16)),
        ("01-12-2011-16-12-2011", D(2011, 12, 1), D(2011, 12, 16)),
        ("2011-12-01 – 2011-12-16", D(2011, 12, 1), D(2011, 12, 16)),
        ("01/12 - 16/12/2011", D(2011, 12, 1), D(2011, 12, 16)),
        ("1/3 đến hôm nay", D(2024, 3, 1), TODAY),
        ("tháng 11/2011 - tháng 12/2011", D(2011, 11, 1), D(2011, 12, 31)),
    ],
)
def test_forms(text: str, start: date, end: date) -> None:
    assert parse_date_query(text, today=TODAY) == DateRange(start, end)


@pytest.mark.parametrize(
    ("text", "code", "example"),
    [
        ("", "empty", "16/12/2011"),
        ("   ", "empty", "16/12/2011"),
        ("31/02/2020", "impossible", "29/02/2020"),
        ("29/02/2023", "impossible", "28/02/2023"),
        ("32/01/2020", "impossible", "31/01/2020"),
        ("00/01/2020", "impossible", "31/01/2020"),
        ("15/13/2020", "no_month", "16/12/2011"),
        ("tháng 13/2020", "no_month", "tháng 12/2020"),
        ("16/12/0001", "impossible", "16/12/2011"),
        ("31/02/2020-05/03/2020", "impossible", "29/02/2020"),
        ("16/12/2011-01/12/2011", "reversed", "01/12/2011-16/12/2011"),
        ("16/12/2011 đến 01/12/2011", "reversed", "01/12/2011-16/12/2011"),
        ("01/01/2010-01/01/2012", "too_long", "01/01/2010-31/01/2010"),
        ("ngày mai nữa", "invalid", "16/12/2011"),
        ("abc", "invalid", "16/12/2011"),
        ("16/12/2011; DROP TABLE articles", "invalid", "16/12/2011"),
        ("1" * 500, "invalid", "16/12/2011"),
    ],
)
def test_bad_input_gets_a_code_and_an_example(text: str, code: str, example: str) -> None:
    assert parse_date_query(text, today=TODAY) == DateQueryError(code, example)


def test_a_whole_year_is_not_too_long() -> None:
    assert parse_date_query("01/01/2024-31/12/2024", today=TODAY) == DateRange(
        D(2024, 1, 1), D(2024, 12, 31)
    )


def test_a_yearless_day_or_month_never_means_the_future() -> None:
    november = date(2026, 11, 29)
    assert parse_date_query("16/12", today=november) == DateRange(D(2025, 12, 16), D(2025, 12, 16))
    assert parse_date_query("tháng 12", today=november) == DateRange(
        D(2025, 12, 1), D(2025, 12, 31)
    )
    assert parse_date_query("16/11", today=november) == DateRange(D(2026, 11, 16), D(2026, 11, 16))
    assert parse_date_query("01/12-16/12", today=november) == DateRange(
        D(2025, 12, 1), D(2025, 12, 16)
    )
