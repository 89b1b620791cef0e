"""From parsed values to storable articles: identity keys, canonical URLs, NFC text, hashes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import (
    SplitResult,
    parse_qsl,
    quote,
    unquote,
    urlencode,
    urlsplit,
    urlunsplit,
)
from zoneinfo import ZoneInfo

from jobs.ingest.dates import plausible
from jobs.ingest.items import ListingItem, ParsedArticle
from storage.models import ArticleBase
from storage.text import fold_words, normalize, storable

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
# Clocks differ a little: a date this far ahead of first sight is not yet "in the future".
FUTURE_SLACK = timedelta(minutes=10)


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port, credentials, fragment and tracking parameters
    dropped, query sorted, path percent-encoding made uniform (spaces become %20)."""
    parts = urlsplit(storable(url).strip())
    scheme = parts.scheme.lower()
    return urlunsplit((scheme, _host_port(parts), *_path_query(parts), ""))


def public_url(url: str) -> str:
    """url without its user:password@ part (for anything stored, logged or sent)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _host_port(parts: SplitResult) -> str:
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    return host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"


def _path_query(parts: SplitResult) -> tuple[str, str]:
    path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(name)
    ]
    return path, urlencode(sorted(query))


def identity_url(url: str, aliases: Mapping[str, str] | None = None) -> str:
    """What identifies a page across moves: host (no scheme, no `www.`, a declared alias
    mapped to its target) + port + path + query; credentials and fragments never."""
    parts = urlsplit(storable(url).strip())
    host = _host_port(parts)
    host = host[4:] if host.startswith("www.") else host
    host = (aliases or {}).get(host, host)
    path, query = _path_query(parts)
    return f"{host}{path}{'?' + query if query else ''}"


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


def article_key(
    *,
    source: str,
    guid: str | None,
    url: str,
    title: str,
    published: datetime | None,
    aliases: Mapping[str, str] | None = None,
) -> str:
    """Stable identity: feed GUID (scoped to its source), else DNN newsid, else the page's
    identity URL (scheme, `www.`, declared host moves and credentials ignored), else a
    title+date hash.

    A GUID that is itself an http(s) URL (RSS permalinks) is keyed like a URL, so the same
    article read from a feed and from the HTML listing gets one key.
    """
    guid = storable(guid or "").strip()
    url = storable(url)
    if guid and not guid.lower().startswith(("http://", "https://")):
        return f"guid:{source}:{guid}"[:512]
    for candidate in (url, guid):
        newsid = newsid_of(candidate) if candidate else None
        if newsid:
            return "newsid:" + newsid
    for candidate in (url, guid):
        if candidate and urlsplit(candidate.strip()).hostname:
            return ("url:" + identity_url(candidate, aliases))[:512]
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
    parsed: ParsedArticle,
    *,
    source: str,
    tz: ZoneInfo,
    listing: ListingItem | None = None,
    aliases: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> tuple[ArticleBase, str]:
    """The storable article and its content hash; gaps filled from the listing item.

    A publication date later than `now` (the time the article is first seen) is clamped to
    `now` and the row says so (published_clamped): a typo must not top /latest for years.
    """
    title = normalize(parsed.title) or normalize(listing.title if listing else "")
    summary = normalize(parsed.summary) or normalize(listing.summary if listing else "")
    published = plausible(parsed.published) or plausible(listing.published if listing else None)
    guid = parsed.guid or (listing.guid if listing else None)
    # The listing's URL wins: the poller keyed the item by it before fetching the page, and
    # the page's final URL may differ after redirects.
    url = (listing.url if listing else "") or parsed.url
    key = article_key(
        source=source, guid=guid, url=url, title=title, published=published, aliases=aliases
    )
    clamped = now is not None and published is not None and published > now + FUTURE_SLACK
    if clamped:
        published = now
    body = clean_body(parsed.body)
    local_date = published.astimezone(tz).date() if published else None
    article = ArticleBase(
        key=key,
        source=source,
        url=public_url(storable(url)),
        title=title,
        summary=summary,
        body=body,
        attachments=[
            {"name": normalize(name), "url": public_url(storable(link))}
            for name, link in parsed.attachments
        ],
        published_at=published,
        local_date=local_date,
        published_clamped=clamped,
    )
    return article, _digest(title, body)  # both are clean already: no second pass
