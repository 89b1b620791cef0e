"""Date expressions for /date ("Xem tin theo ngày"): pure parsing, `today` passed in.

Forms: 16/12/2011, 16-12-2011, 16.12.2011, 2011-12-16, 16/12 (this year), "16 tháng 12 năm
2011", hôm nay / today, hôm qua / yesterday, hôm kia, tuần này / this week (Monday..today),
tuần trước, tháng 12/2011, tháng 12 (this year), tháng này, tháng trước, năm 2011, năm nay,
and a range of any two of these joined by "-", "đến", "tới" or "to". Diacritics and case
are optional. Days are the portal's local (Asia/Ho_Chi_Minh) days; the caller computes
`today` in that zone.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from storage.text import fold

MAX_INPUT_CHARS = 64
MAX_RANGE_DAYS = 366  # a whole year fits; more is refused as "too_long"
MIN_YEAR, MAX_YEAR = 1900, 2100
EXAMPLE = "16/12/2011"


@dataclass(frozen=True)
class DateRange:
    """Inclusive range of local days."""

    start: date
    end: date


@dataclass(frozen=True)
class DateQueryError:
    """Why the text is not a usable date: "empty", "invalid", "impossible", "reversed" or
    "too_long" (range over MAX_RANGE_DAYS); `example` is a form to suggest instead."""

    code: str
    example: str


class _Impossible(Exception):
    """A well-formed date that does not exist (31/02/2020); carries a suggestion."""

    def __init__(self, example: str) -> None:
        super().__init__(example)
        self.example = example


_DAY = [
    re.compile(r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{4}|\d{2}))?"),
    re.compile(r"(?P<y>\d{4})[/.-](?P<m>\d{1,2})[/.-](?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2}) thang (?P<m>\d{1,2})(?:,? nam (?P<y>\d{4}))?"),
]
_MONTH = [
    re.compile(r"thang (?P<m>\d{1,2})(?:(?:[/.-]| nam |,? )(?P<y>\d{4}))?"),
    re.compile(r"(?P<m>\d{1,2})[/.-](?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})[/.-](?P<m>\d{1,2})"),
]
_YEAR = re.compile(r"(?:nam|year) (?P<y>\d{4})")
_SEPARATOR = re.compile(r"\s*(?:-|–|—|\.\.|~)\s*|\s+(?:den|toi|to|until)\s+")
_PREFIX = re.compile(r"^(?:ngay|tu ngay|tu|from|date)\s+")


DAY_FORMAT = "%d/%m/%Y"  # how the portal, and so the bot, writes a day
DAY_TIME_FORMAT = f"{DAY_FORMAT} %H:%M"


def fmt(day: date) -> str:
    """A day as the portal writes it (dd/mm/yyyy)."""
    return day.strftime(DAY_FORMAT)


def parse_date_query(text: str, *, today: date) -> DateRange | DateQueryError:
    """Parse what the user typed after /date; never raises."""
    if not text or not text.strip():
        return DateQueryError("empty", EXAMPLE)
    if len(text) > MAX_INPUT_CHARS:
        return DateQueryError("invalid", EXAMPLE)
    cleaned = " ".join(fold(text).split()).strip(" .,;:!?")
    try:
        span = _single(cleaned, today, today.year) or _range(cleaned, today)
    except _Impossible as exc:
        return DateQueryError("impossible", exc.example)
    if isinstance(span, DateQueryError):
        return span
    if span is None:
        return DateQueryError("invalid", EXAMPLE)
    if (span.end - span.start).days + 1 > MAX_RANGE_DAYS:
        shorter = span.start + timedelta(days=30)
        return DateQueryError("too_long", f"{fmt(span.start)}-{fmt(shorter)}")
    return span


def _range(text: str, today: date) -> DateRange | DateQueryError | None:
    # Every separator position is tried, since "-" also sits inside 16-12-2011; a split that
    # reads as an impossible date is reported only when no other split reads as a range.
    impossible: _Impossible | None = None
    for sep in _SEPARATOR.finditer(text):
        left, right = text[: sep.start()], text[sep.end() :]
        if not left or not right:
            continue
        try:
            second = _single(right, today, today.year)
            first = _single(left, today, second.end.year) if second else None
        except _Impossible as exc:
            impossible = impossible or exc
            continue
        if first is None or second is None:
            continue
        if first.start > second.end:
            return DateQueryError("reversed", f"{fmt(second.start)}-{fmt(first.end)}")
        return DateRange(first.start, second.end)
    if impossible is not None:
        raise impossible
    return None


def _single(text: str, today: date, year: int) -> DateRange | None:
    text = _PREFIX.sub("", text)
    keyword = _keyword(text, today)
    if keyword is not None:
        return keyword
    for pat in _DAY:
        m = pat.fullmatch(text)
        if m:
            day = _day(int(m["d"]), int(m["m"]), _year(m["y"], year))
            return DateRange(day, day)
    for pat in _MONTH:
        m = pat.fullmatch(text)
        if m:
            return _month(int(m["m"]), _year(m["y"], year))
    m = _YEAR.fullmatch(text)
    if m:
        y = _year(m["y"], year)
        return DateRange(date(y, 1, 1), date(y, 12, 31))
    return None


def _keyword(text: str, today: date) -> DateRange | None:
    one = {"hom nay": 0, "today": 0, "hom qua": 1, "yesterday": 1, "hom kia": 2}
    if text in one:
        day = today - timedelta(days=one[text])
        return DateRange(day, day)
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    spans = {
        "tuan nay": (monday, today),
        "this week": (monday, today),
        "tuan truoc": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "tuan roi": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "last week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "thang nay": (first, today),
        "this month": (first, today),
        "thang truoc": (last_month_end.replace(day=1), last_month_end),
        "thang roi": (last_month_end.replace(day=1), last_month_end),
        "last month": (last_month_end.replace(day=1), last_month_end),
        "nam nay": (date(today.year, 1, 1), today),
        "this year": (date(today.year, 1, 1), today),
    }
    if text in spans:
        return DateRange(*spans[text])
    return None


def _year(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    year = int(raw) + (2000 if len(raw) == 2 else 0)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _Impossible(EXAMPLE)
    return year


def _month(month: int, year: int) -> DateRange:
    if not 1 <= month <= 12:
        raise _Impossible(f"tháng 12/{year}")
    return DateRange(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def _day(day: int, month: int, year: int) -> date:
    if not 1 <= month <= 12:
        raise _Impossible(EXAMPLE)
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise _Impossible(fmt(date(year, month, last)))
    return date(year, month, day)
