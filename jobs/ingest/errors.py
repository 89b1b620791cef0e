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
