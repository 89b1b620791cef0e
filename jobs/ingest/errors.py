"""Errors of reading a source: fetching it over HTTP, then parsing what came back.

Every error carries a short English message and a `.reason`, a short machine code that the
source health record stores ("timeout", "too_large", "blocked_address", "http_500", ...).

Our exception hierarchy:

* SourceError
  + FetchError
    - FetchTimeout        overall deadline, connect or read time-out        "timeout"
    - BodyTooLarge        body (or its Content-Length) above the cap        "too_large"
    - AddressNotAllowed   resolved address private, loopback, link-local    "blocked_address"
    - BadStatus           an answer other than 2xx or 304 (.status_code)    "http_<code>"
    - TooManyRedirects    more redirects than allowed                       "too_many_redirects"
    - NetworkError        refused or reset                                  "network"
                          truncated body, malformed HTTP                    "protocol_error"
                          undecodable (gzip) body                           "decoding"
                          host name does not resolve                        "dns"
    - BadURL              not an http(s) URL, or no host                    "bad_url"
                          a redirect to such a URL                          "bad_redirect"
  + ParseError
    - UnsafeDocument      entity bomb, DTD, external entities               "unsafe_document"
    - NotAFeed            neither RSS nor Atom                              "not_a_feed"
    - LayoutNotRecognised a page where the expected elements are missing    "layout_changed"
"""

from __future__ import annotations

__all__ = [
    "REASONS",
    "AddressNotAllowed",
    "BadStatus",
    "BadURL",
    "BodyTooLarge",
    "FetchError",
    "FetchTimeout",
    "LayoutNotRecognised",
    "NetworkError",
    "NotAFeed",
    "ParseError",
    "SourceError",
    "TooManyRedirects",
    "UnsafeDocument",
]

# Every `.reason` code except BadStatus's "http_<code>", for translating them all.
REASONS = frozenset(
    {
        "source_error", "fetch_error", "timeout", "too_large", "blocked_address",
        "too_many_redirects", "network", "protocol_error", "decoding", "dns", "bad_url",
        "bad_redirect", "parse_error", "unsafe_document", "not_a_feed", "layout_changed",
    }
)  # fmt: skip


class SourceError(Exception):
    """A source could not be read; the root of every error in this module."""

    reason: str = "source_error"
    default_message: str = "the source could not be read"

    def __init__(self, message: str | None = None, *, reason: str | None = None) -> None:
        self.message = message or self.default_message
        if reason is not None:
            self.reason = reason
        super().__init__(self.message)


class FetchError(SourceError):
    """The HTTP fetch failed."""

    reason = "fetch_error"
    default_message = "the source could not be fetched"


class FetchTimeout(FetchError):
    """No complete answer within the deadline, or a connect/read time-out."""

    reason = "timeout"
    default_message = "the source did not answer in time"


class BodyTooLarge(FetchError):
    """The body is larger than the size cap."""

    reason = "too_large"
    default_message = "the answer is larger than the size cap"


class AddressNotAllowed(FetchError):
    """The host resolves to an address the policy refuses (private, loopback, link-local)."""

    reason = "blocked_address"
    default_message = "the source's address is not allowed"


class BadStatus(FetchError):
    """The server answered with a status other than 2xx or 304."""

    reason = "http_error"
    default_message = "the server answered with an error status"

    def __init__(self, status_code: int, message: str | None = None) -> None:
        self.status_code = status_code
        super().__init__(message or f"HTTP status {status_code}", reason=f"http_{status_code}")


class TooManyRedirects(FetchError):
    """The redirect chain is longer than allowed."""

    reason = "too_many_redirects"
    default_message = "too many redirects"


class NetworkError(FetchError):
    """The connection failed: refused, reset, a truncated body or a protocol error."""

    reason = "network"
    default_message = "network error"


class BadURL(FetchError):
    """The URL is invalid, has no host, or uses a scheme other than http/https."""

    reason = "bad_url"
    default_message = "invalid URL"


class ParseError(SourceError):
    """The fetched document could not be parsed."""

    reason = "parse_error"
    default_message = "the document could not be parsed"


class UnsafeDocument(ParseError):
    """The document uses a DTD, entities or external references (entity bomb, XXE)."""

    reason = "unsafe_document"
    default_message = "the document declares entities or a DTD"


class NotAFeed(ParseError):
    """The document is neither an RSS nor an Atom feed."""

    reason = "not_a_feed"
    default_message = "the document is not an RSS or Atom feed"


class LayoutNotRecognised(ParseError):
    """The page lacks the elements the parser expects (the site's layout changed)."""

    reason = "layout_changed"
    default_message = "the page layout was not recognised"


# Each reason in words, for admins (/sources, alarms) and the CLI; {"vi": ..., "en": ...}.
REASON_WORDS: dict[str, dict[str, str]] = {
    "source_error": {"vi": "không đọc được nguồn", "en": "the source could not be read"},
    "fetch_error": {"vi": "không tải được nguồn", "en": "the source could not be fetched"},
    "timeout": {"vi": "quá thời gian chờ", "en": "the source did not answer in time"},
    "too_large": {
        "vi": "nội dung vượt giới hạn dung lượng",
        "en": "the answer is larger than the size cap",
    },
    "blocked_address": {
        "vi": "địa chỉ nội bộ bị chặn",
        "en": "the address is private or local and is refused",
    },
    "too_many_redirects": {"vi": "chuyển hướng quá nhiều lần", "en": "too many redirects"},
    "network": {"vi": "lỗi mạng", "en": "network error"},
    "protocol_error": {
        "vi": "máy chủ trả lời sai giao thức HTTP",
        "en": "the server broke the HTTP protocol",
    },
    "decoding": {"vi": "không giải mã được nội dung", "en": "the content could not be decoded"},
    "dns": {"vi": "không phân giải được tên miền", "en": "cannot resolve the host name"},
    "bad_url": {"vi": "địa chỉ URL không hợp lệ", "en": "invalid URL"},
    "bad_redirect": {
        "vi": "chuyển hướng tới địa chỉ không hợp lệ",
        "en": "redirected to an invalid address",
    },
    "parse_error": {"vi": "không phân tích được nội dung", "en": "the page could not be parsed"},
    "unsafe_document": {
        "vi": "tài liệu không an toàn (DTD/entity)",
        "en": "unsafe document (DTD or entities)",
    },
    "not_a_feed": {"vi": "không phải RSS/Atom", "en": "not an RSS or Atom feed"},
    "layout_changed": {
        "vi": "bố cục trang đã thay đổi (không thấy bài viết)",
        "en": "the page layout changed (no articles found)",
    },
}


def describe(reason: str, lang: str = "en") -> str:
    """A failure reason in words ("vi" or "en"); an unknown reason is shown as it is."""
    if reason.startswith("http_") and reason[5:].isdigit():
        code = reason[5:]
        return f"máy chủ trả lỗi HTTP {code}" if lang == "vi" else f"the server answered {code}"
    words = REASON_WORDS.get(reason)
    return words.get(lang, words["en"]) if words else reason
