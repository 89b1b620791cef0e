"""Pure time rules in the portal's zone: quiet hours and the next daily digest time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DIGEST_TIME = time(7, 0)
_HHMM = re.compile(r"(\d{1,2})(?:[:h.](\d{2})?)?")  # the one grammar for a time of day


def parse_hhmm(value: str | None) -> time | None:
    """ "HH:MM", "H:MM", "7h30", "7.30" or "7" as a time; None for empty or invalid input."""
    match = _HHMM.fullmatch((value or "").strip().lower())
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2] or 0)
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


def _at(day: datetime, moment: time, tz: ZoneInfo) -> datetime:
    """The aware instant of `moment` on the local calendar day of `day`, in UTC."""
    local = datetime.combine(day.date(), moment, tzinfo=tz)
    return local.astimezone(UTC)


def in_quiet(now: datetime, start: time | None, end: time | None, tz: ZoneInfo) -> bool:
    """Whether `now` falls inside the daily quiet window [start, end) (may cross midnight)."""
    if start is None or end is None or start == end:
        return False
    local = now.astimezone(tz).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_release(
    now: datetime, start: time | None, end: time | None, tz: ZoneInfo
) -> datetime | None:
    """When the quiet window holding `now` ends (UTC), or None if `now` is not quiet."""
    if not in_quiet(now, start, end, tz):
        return None
    assert end is not None  # in_quiet is False without both bounds
    local_now = now.astimezone(tz)
    release = _at(local_now, end, tz)
    if release <= now:
        release = _at(local_now + timedelta(days=1), end, tz)
    return release


def next_digest_at(now: datetime, at: time | None, tz: ZoneInfo) -> datetime:
    """The first daily digest instant (UTC) at local time `at` that is not before `now`."""
    moment = at or DEFAULT_DIGEST_TIME
    local_now = now.astimezone(tz)
    due = _at(local_now, moment, tz)
    if due < now:
        due = _at(local_now + timedelta(days=1), moment, tz)
    return due
