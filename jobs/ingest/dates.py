"""Dates as the portal prints them: "Ngày cập nhật 16/12/2011", "Cập nhật:16/07/2021 3:01:13 CH"."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from storage.text import fold, normalize

MAX_DATE_LINE = 500  # a date line is short; longer text is cut before the regexes run
MIN_YEAR, MAX_YEAR = 1900, 2999  # outside: a typo or a hostile feed, not a publication date
# Order of the two leading numbers of "9/12/2026": day first (Vietnamese, the default) or
# month first (.NET en-US feeds). None: refuse a date whose order matters (both <= 12).
DateOrder = Literal["dmy", "mdy"]

_TIME = (
    r"(?P<{p}h>\d{{1,2}})\s*[:hg]\s*(?P<{p}mi>\d{{2}})(?:\s*:\s*(?P<{p}s>\d{{2}}))?"
    r"(?:\s*(?P<{p}ampm>sa|ch|am|pm)\b)?"
)
# dd/mm/yyyy (or - .), optionally followed or preceded by a time of day.
_DMY = re.compile(
    r"(?:" + _TIME.format(p="b") + r"[\s,\-–|]*(?:ngay\s*)?)?"
    r"\b(?P<d>\d{1,2})\s*(?P<sep>[/.\-])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<y>\d{4})\b"
    r"(?:[\s,\-–|]*(?:luc\s*)?" + _TIME.format(p="a") + r")?"
)
# "ngày 16 tháng 12 năm 2011" (folded: "ngay 16 thang 12 nam 2011")
_WORDS = re.compile(r"\b(?P<d>\d{1,2})\s+thang\s+(?P<m>\d{1,2})\s*(?:,\s*)?nam\s+(?P<y>\d{4})\b")
_ISO = re.compile(
    r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T\s](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<z>Z|[+-]\d{2}:?\d{2})?)?",
    re.IGNORECASE,
)


def _hour(h: int, ampm: str | None) -> int | None:
    """24-hour clock from .NET vi-VN "SA" (AM) / "CH" (PM): 12 SA is midnight, 12 CH noon."""
    if ampm is None:
        return h if 0 <= h <= 23 else None
    if not 1 <= h <= 12:
        return h if ampm in ("ch", "pm") and 13 <= h <= 23 else None
    if ampm in ("sa", "am"):
        return 0 if h == 12 else h
    return 12 if h == 12 else h + 12


def plausible(value: datetime | None) -> datetime | None:
    """value in UTC when it is a date an article can carry (years 1900-2999), else None.

    Year 1 or 9999 cannot even be moved to another zone (OverflowError) without this guard.
    """
    if value is None or not MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _build(y: int, m: int, d: int, h: int, mi: int, s: int, tz: ZoneInfo) -> datetime | None:
    try:
        local = datetime(y, m, d, h, mi, s, tzinfo=tz)
    except ValueError:
        return None
    return plausible(local)


def _from_dmy(match: re.Match[str], tz: ZoneInfo, order: DateOrder | None) -> datetime | None:
    g = match.groupdict()
    first, second = int(g["d"]), int(g["m"])
    if order is None and first != second and first <= 12 and second <= 12:
        return None  # 9/12/2026: 9 December or 12 September, and nothing says which
    if order == "mdy" or (order is None and second > 12):
        first, second = second, first
    prefix = "a" if g["ah"] is not None else "b" if g["bh"] is not None else None
    h = mi = s = 0
    if prefix is not None:
        hour = _hour(int(g[prefix + "h"]), g[prefix + "ampm"])
        mi, s = int(g[prefix + "mi"]), int(g[prefix + "s"] or 0)
        if hour is None or mi > 59 or s > 59:
            hour, mi, s = 0, 0, 0  # a nonsense time keeps the date, not the time
        h = hour
    return _build(int(g["y"]), second, first, h, mi, s, tz)


def _from_iso(match: re.Match[str], tz: ZoneInfo, _order: DateOrder | None) -> datetime | None:
    g = match.groupdict()
    h, mi, s = int(g["h"] or 0), int(g["mi"] or 0), int(g["s"] or 0)
    if g["z"]:
        text = f"{g['y']}-{g['m']}-{g['d']}T{h:02d}:{mi:02d}:{s:02d}{g['z'].upper()}"
        try:
            return plausible(datetime.fromisoformat(text))
        except ValueError:
            return None
    if h > 23 or mi > 59 or s > 59:
        h = mi = s = 0
    return _build(int(g["y"]), int(g["m"]), int(g["d"]), h, mi, s, tz)


def numeric_date_parts(text: str) -> tuple[int, int] | None:
    """The two leading numbers of the first "a/b/yyyy" date in `text` (evidence of order);
    None when the text has none, or when an ISO or "ngày .. tháng" date comes first."""
    folded = fold(normalize(text[:MAX_DATE_LINE]))
    slash = _DMY.search(folded)
    if slash is None:
        return None
    others = [m.start() for m in (_ISO.search(folded), _WORDS.search(folded)) if m is not None]
    if others and min(others) < slash.start():
        return None
    return int(slash["d"]), int(slash["m"])


def parse_portal_datetime(
    text: str, *, tz: ZoneInfo, order: DateOrder | None = "dmy"
) -> datetime | None:
    """The first valid date (and time) in a date line, as aware UTC; None when there is none.

    Times without a zone are local to `tz` (the portal prints Asia/Ho_Chi_Minh wall time).
    `order` reads "a/b/yyyy" day first or month first; None refuses the ambiguous ones.
    """
    folded = fold(normalize(text[:MAX_DATE_LINE]))
    found: list[tuple[int, datetime]] = []
    for pattern, build in ((_ISO, _from_iso), (_DMY, _from_dmy)):
        for match in pattern.finditer(folded):
            value = build(match, tz, order)
            if value is not None:
                found.append((match.start(), value))
                break
    words = _WORDS.search(folded)
    if words:
        value = _build(int(words["y"]), int(words["m"]), int(words["d"]), 0, 0, 0, tz)
        if value is not None:
            found.append((words.start(), value))
    return min(found, key=lambda pair: pair[0])[1] if found else None


# A date-time stamp in an article URL: "...-20221224012650880.htm" (yyyymmddHHMMSS + ms).
_URL_STAMP = re.compile(
    r"[-_/](?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})(?P<h>\d{2})?(?P<mi>\d{2})?(?P<s>\d{2})?"
    r"\d{0,6}(?:\.(?:html?|aspx|php|ecml|vnp)|/?$)",
    re.IGNORECASE,
)


def date_in_url(url: str, *, tz: ZoneInfo) -> datetime | None:
    """The publication stamp some portals put in article URLs, as aware UTC; else None."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    match = _URL_STAMP.search(path)
    if match is None:
        return None
    g = match.groupdict()
    h, mi, s = int(g["h"] or 0), int(g["mi"] or 0), int(g["s"] or 0)
    if h > 23 or mi > 59 or s > 59:
        h = mi = s = 0
    return _build(int(g["y"]), int(g["m"]), int(g["d"]), h, mi, s, tz)
