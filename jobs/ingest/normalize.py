"""From parsed values to storable articles: identity keys, canonical URLs, NFC text, hashes."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from jobs.ingest.items import ListingItem, ParsedArticle
from storage.models import ArticleBase
from storage.text import fold_words, normalize

# DNN article URLs carry a stable GUID: /newsid/<GUID>/ in the path or ?newsid=<GUID>.
_NEWSID = re.compile(
    r"[/?&;]newsid[/=]\{?([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})\}?",
    re.IGNORECASE,
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_TRACKING = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "zarsrc", "ref_src", "spm", "_hsenc",
        "_hsmi", "mkt_tok", "vero_id", "oly_enc_id", "oly_anon_id", "rb_clickid",
    }
)  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_BLANK_LINES = re.compile(r"\n\s*\n")


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port, fragment and tracking parameters dropped,
    query sorted, path percent-encoding made uniform."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{netloc}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(name)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING or lowered.startswith(_TRACKING_PREFIXES)


def newsid_of(url: str) -> str | None:
    """The DNN newsid GUID in an article URL, lower-case with dashes; None when absent."""
    match = _NEWSID.search(unquote(url))
    if match is None:
        return None
    digits = match.group(1).replace("-", "").lower()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def article_key(*, guid: str | None, url: str, title: str, published: datetime | None) -> str:
    """Stable identity: feed GUID, else DNN newsid, else canonical URL, else title+date hash.

    A GUID that is itself an http(s) URL (RSS permalinks) is keyed like a URL, so the same
    article read from a feed and from the HTML listing gets one key.
    """
    guid = (guid or "").strip()
    if guid and not guid.lower().startswith(("http://", "https://")):
        return "guid:" + guid[:500]
    for candidate in (url, guid):
        newsid = newsid_of(candidate) if candidate else None
        if newsid:
            return "newsid:" + newsid
    for candidate in (url, guid):
        if candidate and urlsplit(candidate.strip()).hostname:
            return ("url:" + canonical_url(candidate))[:512]
    stamp = published.astimezone(UTC).isoformat() if published else ""
    digest = hashlib.sha256(f"{fold_words(title)}|{stamp}".encode()).hexdigest()
    return "hash:" + digest


def clean_body(body: str) -> str:
    """NFC paragraphs (blank-line separated), each normalised, empty ones dropped."""
    paragraphs = (normalize(part) for part in _BLANK_LINES.split(body.replace("\r", "")))
    return "\n\n".join(part for part in paragraphs if part)


def content_hash(*, title: str, body: str) -> str:
    """sha256 of the normalised title and body only (never the page, whose counters change)."""
    return _digest(normalize(title), clean_body(body))


def _digest(title: str, body: str) -> str:
    """content_hash of a title and body that are already normalised and cleaned."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


def to_article(
    parsed: ParsedArticle, *, source: str, tz: ZoneInfo, listing: ListingItem | None = None
) -> tuple[ArticleBase, str]:
    """The storable article and its content hash; gaps filled from the listing item."""
    title = normalize(parsed.title) or normalize(listing.title if listing else "")
    summary = normalize(parsed.summary) or normalize(listing.summary if listing else "")
    published = parsed.published or (listing.published if listing else None)
    guid = parsed.guid or (listing.guid if listing else None)
    # The listing's URL wins: the poller keyed the item by it before fetching the page, and
    # the page's final URL may differ after redirects.
    url = (listing.url if listing else "") or parsed.url
    body = clean_body(parsed.body)
    published_at = published.astimezone(UTC) if published else None
    article = ArticleBase(
        key=article_key(guid=guid, url=url, title=title, published=published_at),
        source=source,
        url=url,
        title=title,
        summary=summary,
        body=body,
        attachments=[{"name": normalize(name), "url": link} for name, link in parsed.attachments],
        published_at=published_at,
        local_date=published_at.astimezone(tz).date() if published_at else None,
    )
    return article, _digest(title, body)  # both are clean already: no second pass
