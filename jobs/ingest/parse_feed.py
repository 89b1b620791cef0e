"""RSS 2.0 and Atom feeds through feedparser, after refusing entities and capping fields."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree.ElementTree import ParseError as XMLSyntaxError
from zoneinfo import ZoneInfo

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

from jobs.ingest.dates import (
    DateOrder,
    date_in_url,
    numeric_date_parts,
    parse_portal_datetime,
    plausible,
)
from jobs.ingest.errors import NotAFeed, UnsafeDocument
from jobs.ingest.html_blocks import absolute, blocks_of, load_document
from jobs.ingest.items import ListingItem
from storage.text import normalize, storable

# feedparser 6.0.14 runs a quadratic e-mail regex over author-like fields (16 kB: ~4 s).
MAX_PERSON_FIELD = 256
MAX_TEXT_RUN = 1_000_000  # any other text run between tags
MAX_ENTRIES = 1_000
MAX_SUMMARY = 2_000
_PERSON_TAGS = "author|creator|contributor|publisher|managingeditor|webmaster|name|email|owner|uri"
_PERSON_TEXT = re.compile(
    rb"(<(?:[\w.-]+:)?(?:" + _PERSON_TAGS.encode() + rb")\b[^>]*>\s*(?:<!\[CDATA\[)?)"
    rb"([^<\]]{%d})[^<\]]*" % MAX_PERSON_FIELD,
    re.IGNORECASE,
)
_LONG_RUN = re.compile(rb"([^<]{%d})[^<]+" % MAX_TEXT_RUN)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[a-zA-Z/!]")


def _refuse_unsafe(data: bytes) -> None:
    """UnsafeDocument for entity declarations (billion laughs, XXE), in any encoding."""
    probe = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        probe = data.decode("utf-16", "replace").encode("utf-8")
    if _ENTITY_DECL.search(probe):
        raise UnsafeDocument("the feed declares XML entities")
    try:
        defusedxml.ElementTree.fromstring(
            data, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise UnsafeDocument(f"the feed is unsafe: {type(exc).__name__}") from exc
    except (XMLSyntaxError, ValueError, LookupError):
        pass  # malformed XML: feedparser's lenient parser decides whether it is still a feed


_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,12})|([0-9]{1,20}));")


def _defuse_charref(match: re.Match[bytes]) -> bytes:
    """A reference to a code point no text may hold (surrogate, beyond U+10FFFF) made U+FFFD
    (NUL dropped): feedparser raises on them, which failed the whole feed."""
    hexa, dec = match.group(1), match.group(2)
    code = int(hexa, 16) if hexa else int(dec)
    if code == 0:
        return b""  # storage.text.storable drops a NUL too
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"
    return match.group(0)


def cap_fields(data: bytes) -> bytes:
    """The feed with person fields cut to MAX_PERSON_FIELD and huge text runs cut short."""
    data = _PERSON_TEXT.sub(rb"\1\2", _CHARREF.sub(_defuse_charref, data))
    return _LONG_RUN.sub(rb"\1", data)


def _rfc_date(raw: str, tz: ZoneInfo) -> datetime | None:
    """RFC 822 or ISO dates with their zone; zone-less ones are the portal's local time."""
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is not None:
        return plausible(parsed if parsed.tzinfo else parsed.replace(tzinfo=tz))
    if numeric_date_parts(raw) is None:
        return parse_portal_datetime(raw, tz=tz)  # ISO, "ngày .. tháng ..": no order to guess
    return None


def _entry_date(
    entry: Any, tz: ZoneInfo, order: DateOrder | None
) -> tuple[datetime | None, str, datetime | None]:
    """(date, its text when it is "a/b/yyyy", the same date from an unambiguous field).

    feedparser's own *_parsed values are not used for "a/b/yyyy" texts: it guesses the order.
    """
    raws = [dict.get(entry, k) for k in ("published", "updated", "created")]  # no aliasing
    texts = [raw.strip() for raw in raws if isinstance(raw, str) and raw.strip()]
    clear = [found for raw in texts if (found := _rfc_date(raw, tz)) is not None]
    slashed = next((raw for raw in texts if numeric_date_parts(raw) is not None), "")
    if texts and not _rfc_date(texts[0], tz) and slashed == texts[0]:
        found = parse_portal_datetime(slashed, tz=tz, order=order)
        return found, slashed, clear[0] if clear else None
    if clear:
        return clear[0], "", None
    for key in ("published_parsed", "updated_parsed"):
        stamp = dict.get(entry, key)
        if stamp and not slashed:
            try:
                stamped = plausible(datetime.fromtimestamp(calendar.timegm(stamp), UTC))
            except (OverflowError, ValueError, OSError):
                stamped = None
            return stamped, "", None
    return None, slashed, None


def html_to_text(html: str) -> str:
    """Clean NFC paragraphs (joined by a blank line) of an HTML fragment or plain text."""
    if not _HTML_TAG.search(html):
        return "\n\n".join(p for p in (normalize(x) for x in html.split("\n\n")) if p)
    doc = load_document(html)
    root = doc.body or doc.root
    if root is None:
        return ""
    return "\n\n".join(line for block in blocks_of(root) for line in block.lines)


def parse_feed(
    data: bytes,
    *,
    base_url: str,
    tz: ZoneInfo,
    date_order: DateOrder | None = "dmy",
    skipped: list[str] | None = None,
) -> tuple[list[ListingItem], dict[str, str]]:
    """Items of an RSS/Atom feed and, keyed by GUID and by URL, the bodies the feed carries
    (clean NFC paragraphs). UnsafeDocument for entities, NotAFeed for anything else.

    "a/b/yyyy" dates are read in `date_order` (jobs.ingest.date_order settles it per source).
    An entry that cannot be read is left out and its reason appended to `skipped`.
    """
    _refuse_unsafe(data)
    # Imported on the first feed: a service whose sources are all HTML pages never loads it
    # (2 MB resident with its dependencies, bench_memory).
    import feedparser

    parsed = feedparser.parse(
        cap_fields(data),
        response_headers={"content-location": base_url, "content-type": "application/xml"},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        problem = parsed.get("bozo_exception")
        raise NotAFeed(f"not an RSS or Atom feed{f': {problem}' if problem else ''}")
    items: list[ListingItem] = []
    bodies: dict[str, str] = {}
    for entry in entries[:MAX_ENTRIES]:
        try:
            _read_entry(entry, base_url, tz, date_order, items, bodies)
        except Exception as exc:  # one hostile entry must not lose the feed's others
            if skipped is not None:
                skipped.append(f"entry: {type(exc).__name__}")
    if not items and parsed.get("bozo"):  # malformed, and nothing usable came out of it
        raise NotAFeed(f"malformed feed: {parsed.get('bozo_exception')}")
    return items, bodies


def _read_entry(
    entry: Any,
    base_url: str,
    tz: ZoneInfo,
    date_order: DateOrder | None,
    items: list[ListingItem],
    bodies: dict[str, str],
) -> None:
    guid = normalize(entry.get("id") or "") or None
    link = entry.get("link") or (guid if guid and guid.startswith("http") else "")
    url = absolute(base_url, storable(link)) if link else None
    if url is None:
        return
    title = html_to_text(entry.get("title") or "").replace("\n\n", " ")
    summary = html_to_text(entry.get("summary") or "").replace("\n\n", " ")[:MAX_SUMMARY]
    published, date_text, other = _entry_date(entry, tz, date_order)
    url_date = date_in_url(url, tz=tz)
    items.append(
        ListingItem(
            url=url,
            title=title,
            published=published or (url_date if not date_text else None),
            summary=summary,
            guid=guid,
            date_text=date_text,
            other_date=other,
            url_date=url_date,
        )
    )
    contents = entry.get("content") or []
    body = html_to_text(contents[0].get("value") or "") if contents else ""
    if body:
        bodies[url] = body
        if guid:
            bodies[guid] = body
