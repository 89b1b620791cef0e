"""Plain values that the parsers hand to normalisation and storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ListingItem:
    """One entry of a listing page or a feed."""

    url: str  # absolute
    title: str
    published: datetime | None  # aware
    summary: str = ""
    guid: str | None = None  # feed GUID/id when known
    date_text: str = ""  # the date as the page printed it (jobs.ingest.date_order re-reads it)
    other_date: datetime | None = None  # the same item's date in an unambiguous field
    url_date: datetime | None = None  # a stamp in the article URL (jobs.ingest.dates)


@dataclass(frozen=True)
class Listing:
    """The items of one listing page and the link to the next page, if any."""

    items: list[ListingItem]
    next_page: str | None  # absolute URL of the next listing page


@dataclass(frozen=True)
class ParsedArticle:
    """What an article page yields before normalisation into storage.models.ArticleBase."""

    url: str
    title: str
    published: datetime | None  # aware
    body: str  # clean NFC paragraphs joined by "\n\n"
    summary: str = ""
    # (name, absolute url) for pdf/doc/docx/xls/xlsx/zip/rar links
    attachments: tuple[tuple[str, str], ...] = ()
    guid: str | None = None
    date_text: str = ""  # the date line as printed (re-read once the day/month order is known)
