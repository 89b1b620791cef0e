"""Day first or month first: settling a source's "a/b/yyyy" dates from evidence (pure).

"9/14/2026" can only be month first; "14/9/2026" only day first; "9/12/2026" is either. The
evidence, strongest first:
  1. the sources file's `date_order` (the admin knows);
  2. a number over 12 in the first place (day first) or the second (month first) among the
     dates read now;
  3. a date the source itself gives in another form for the same item (an ISO or RFC-822
     field, a stamp in the article URL) that agrees with one reading only;
  4. the order learnt from an earlier read of the same source (from evidence 2 or 3);
  5. a reading that lies in the future (the portal cannot publish tomorrow's news), or, on a
     poll, a reading far from the time the items are first seen while the other is close.
Nothing else (not the page's language) settles it: an unsettled ambiguous date is not stored
(the article keeps no date rather than a wrong one) and the source's health counts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jobs.ingest.dates import DateOrder, numeric_date_parts, parse_portal_datetime
from jobs.ingest.items import ListingItem

# A portal may stamp an item slightly ahead (clock skew, time zones); further is impossible.
FUTURE_SLACK = timedelta(days=1)
# On a poll, items seen for the first time were published within this window.
RECENT = timedelta(days=31)
# An anchor agrees with a reading when they fall this close.
ANCHOR_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class OrderVerdict:
    """The order to read this source's dates with (None: unsettled) and why."""

    order: DateOrder | None
    reason: str  # declared | day_over_12 | month_over_12 | anchor | learned | future | recent
    ambiguous: int = 0  # dates left empty because the order stayed unsettled

    @property
    def learnt(self) -> bool:
        """Whether this verdict came from the source's own dates (worth remembering)."""
        return self.order is not None and self.reason not in ("declared", "learned", "none")


def as_order(value: str | None) -> DateOrder | None:
    """A stored order ("dmy"/"mdy") as a DateOrder; anything else as None."""
    if value == "dmy":
        return "dmy"
    return "mdy" if value == "mdy" else None


def _readings(text: str, tz: ZoneInfo) -> tuple[datetime | None, datetime | None] | None:
    """(day-first, month-first) readings of an ambiguous date; None when not ambiguous."""
    parts = numeric_date_parts(text)
    if parts is None or parts[0] == parts[1] or max(parts) > 12:
        return None
    return parse_portal_datetime(text, tz=tz, order="dmy"), parse_portal_datetime(
        text, tz=tz, order="mdy"
    )


def decide_order(
    texts: Sequence[str],
    *,
    tz: ZoneInfo,
    now: datetime,
    declared: DateOrder | None = None,
    learned: DateOrder | None = None,
    anchors: Iterable[tuple[str, datetime]] = (),
    fresh: bool = True,
) -> OrderVerdict:
    """The verdict for one read of a source: `texts` are its items' date texts, `anchors`
    (text, the same item's date in an unambiguous form), `fresh` when the items are being
    seen for the first time now (a poll; a backfill walks old pages and is not fresh)."""
    if declared is not None:
        return OrderVerdict(declared, "declared")
    parts = [p for p in (numeric_date_parts(t) for t in texts) if p is not None]
    day_first = any(a > 12 for a, _b in parts)
    month_first = any(b > 12 for _a, b in parts)
    if day_first != month_first:
        return OrderVerdict(
            "dmy" if day_first else "mdy", "day_over_12" if day_first else "month_over_12"
        )
    votes = {"dmy": 0, "mdy": 0}
    for text, when in anchors:
        readings = _readings(text, tz)
        if readings is None:
            continue
        close = [r is not None and abs(r - when) <= ANCHOR_SLACK for r in readings]
        if close[0] != close[1]:
            votes["dmy" if close[0] else "mdy"] += 1
    if bool(votes["dmy"]) != bool(votes["mdy"]):
        return OrderVerdict("dmy" if votes["dmy"] else "mdy", "anchor")
    if learned is not None:
        return OrderVerdict(learned, "learned")
    ambiguous = [r for r in (_readings(t, tz) for t in texts) if r is not None]
    if not ambiguous:
        return OrderVerdict(None, "none")
    future = [
        any(r[i] is None or r[i] > now + FUTURE_SLACK for r in ambiguous)  # type: ignore[operator]
        for i in (0, 1)
    ]
    if future[0] != future[1]:
        return OrderVerdict("mdy" if future[0] else "dmy", "future")
    if fresh:
        recent = [
            all(r[i] is not None and now - r[i] <= RECENT for r in ambiguous)  # type: ignore[operator]
            for i in (0, 1)
        ]
        if recent[0] != recent[1]:
            return OrderVerdict("dmy" if recent[0] else "mdy", "recent")
    return OrderVerdict(None, "none")


def resolve_items(
    items: Sequence[ListingItem], verdict: OrderVerdict, *, tz: ZoneInfo
) -> tuple[list[ListingItem], OrderVerdict]:
    """The items with their "a/b/yyyy" dates read in the verdict's order (an ambiguous one
    left empty while the order is unsettled), and the verdict with that count."""
    out: list[ListingItem] = []
    ambiguous = 0
    for item in items:
        if not item.date_text or numeric_date_parts(item.date_text) is None:
            out.append(item)
            continue
        published = parse_portal_datetime(item.date_text, tz=tz, order=verdict.order)
        if published is None and verdict.order is None and _readings(item.date_text, tz):
            ambiguous += 1
            published = item.url_date  # the URL's own stamp is evidence, not a guess
        out.append(replace(item, published=published))
    return out, replace(verdict, ambiguous=ambiguous)


def anchors_of(items: Iterable[ListingItem]) -> list[tuple[str, datetime]]:
    """(date text, unambiguous date of the same item) pairs from the items' other fields."""
    found = []
    for item in items:
        other = item.other_date or item.url_date
        if item.date_text and other is not None:
            found.append((item.date_text, other))
    return found
