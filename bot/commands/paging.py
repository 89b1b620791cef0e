"""Compact callback data for paging buttons (at most 64 bytes), and the store for long queries.

Formats: ``s:<page>:<query>`` when the query fits, ``S:<page>:<token>`` when it does not
(the query is kept in memory under a hash), ``d:<page>:<yyyymmdd>:<yyyymmdd>`` for dates.
Anything else, or a token this process no longer knows, decodes to None: "expired".
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from jobs.delivery.reply import MAX_CALLBACK_BYTES

MAX_PAGE = 9999
MAX_STORED_QUERIES = 10_000
PREFIXES = ("s:", "S:", "d:")
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


@dataclass(frozen=True)
class SearchPageRef:
    """Page `page` of the search for `query`."""

    query: str
    page: int


@dataclass(frozen=True)
class DatePageRef:
    """Page `page` of the articles from `start` to `end`."""

    start: date
    end: date
    page: int


class QueryStore:
    """Long queries by short token; bounded, oldest forgotten first (their buttons expire)."""

    def __init__(self, capacity: int = MAX_STORED_QUERIES) -> None:
        self.capacity = capacity
        self._queries: OrderedDict[str, str] = OrderedDict()

    def put(self, query: str) -> str:
        """The token for `query`, remembered."""
        digest = hashlib.sha256(query.encode()).digest()
        token = base64.urlsafe_b64encode(digest[:12]).decode()
        self._queries.pop(token, None)
        self._queries[token] = query
        while len(self._queries) > self.capacity:
            self._queries.popitem(last=False)
        return token

    def get(self, token: str) -> str | None:
        """The query behind `token`, or None when it was never seen or forgotten."""
        return self._queries.get(token)


def _fits(data: str) -> bool:
    return len(data.encode()) <= MAX_CALLBACK_BYTES


def search_data(query: str, page: int, store: QueryStore) -> str:
    """Callback data for a search page: the query inline when it fits, else a token."""
    inline = f"s:{page}:{query}"
    return inline if _fits(inline) else f"S:{page}:{store.put(query)}"


def date_data(start: date, end: date, page: int) -> str:
    """Callback data for a page of a date range."""
    return f"d:{page}:{start:%Y%m%d}:{end:%Y%m%d}"


def is_paging(data: str) -> bool:
    """True when `data` belongs to this codec (other handlers own other prefixes)."""
    return data.startswith(PREFIXES)


def _page(text: str) -> int | None:
    return int(text) if text.isdecimal() and 1 <= int(text) <= MAX_PAGE else None


def _day(text: str) -> date | None:
    m = _DATE.fullmatch(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def decode(data: str, store: QueryStore) -> SearchPageRef | DatePageRef | None:
    """What a button asks for, or None when it is unknown or expired."""
    kind, _, rest = data.partition(":")
    page_text, _, tail = rest.partition(":")
    page = _page(page_text)
    if page is None or not tail:
        return None
    if kind == "s":
        return SearchPageRef(tail, page)
    if kind == "S":
        query = store.get(tail)
        return SearchPageRef(query, page) if query is not None else None
    if kind == "d":
        first, _, last = tail.partition(":")
        start, end = _day(first), _day(last)
        if start is None or end is None or start > end:
            return None
        return DatePageRef(start, end, page)
    return None
