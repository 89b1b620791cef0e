"""Fetch one source URL defensively: conditional GET, overall deadline, size cap, address check.

httpx has no total deadline (a server trickling a byte per second never trips the read
time-out), so every fetch, redirects and body included, runs under one asyncio deadline, and
the body is streamed against a byte cap that holds on decompressed bytes
(jobs.ingest.bodycap). Redirects are followed here, hop by hop, so each
target's scheme is checked, and each connection goes through the address guard of
jobs.ingest.netguard. Every failure leaves as a jobs.ingest.errors.FetchError, never as an
httpx exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from types import TracebackType

import httpx

from jobs.ingest.bodycap import ACCEPT_ENCODING, read_capped
from jobs.ingest.errors import (
    BadStatus,
    BadURL,
    BodyTooLarge,
    FetchTimeout,
    NetworkError,
    TooManyRedirects,
)
from jobs.ingest.netguard import GuardedTransport

log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 20.0  # seconds for a whole fetch: connect, redirects, body
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 15.0  # between two reads; the deadline bounds the total
WRITE_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 10_000_000
MAX_REDIRECTS = 5
DEFAULT_PER_HOST = 2  # concurrent fetches to one host
DEFAULT_USER_AGENT = "portal-notifier/0.1 (+https://github.com/portal-notifier)"
ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.8"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class Validators:
    """What a server said about a version of a URL, for the next conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def request_headers(self) -> dict[str, str]:
        """If-None-Match / If-Modified-Since headers for these validators."""
        headers = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        # A non-ASCII value cannot be sent back as a header; that fetch is then unconditional.
        return {name: value for name, value in headers.items() if value and value.isascii()}

    def updated(self, headers: httpx.Headers) -> Validators:
        """These validators with any new ETag / Last-Modified from response headers."""
        return Validators(
            etag=headers.get("etag") or self.etag,
            last_modified=headers.get("last-modified") or self.last_modified,
        )


@dataclass(frozen=True)
class FetchResult:
    """One successful fetch: 2xx with a body, or 304 (not modified) with an empty body."""

    url: str  # final URL after redirects
    status: int  # 200 (any 2xx) or 304
    body: bytes
    content_type: str  # media type only, lower-case ("text/html"); "" when absent
    charset: str | None
    validators: Validators
    elapsed: float  # seconds, from the first byte sent to the last byte read

    @property
    def not_modified(self) -> bool:
        """True for a 304: nothing to parse."""
        return self.status == 304

    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 when absent or unknown)."""
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def parse_source_url(url: str) -> httpx.URL:
    """The URL parsed, or BadURL when it is not an absolute http(s) URL with a host."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BadURL(f"invalid URL: {exc}") from exc
    if parsed.scheme not in _SCHEMES:
        raise BadURL(f"unsupported URL scheme {parsed.scheme or '(none)'!r}")
    if not parsed.host:
        raise BadURL("URL has no host")
    return parsed


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    """The absolute URL a Location header points to, checked like a source URL."""
    try:
        target = current.join(location)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BadURL(f"invalid redirect target: {exc}", reason="bad_redirect") from exc
    try:
        return parse_source_url(str(target))
    except BadURL as exc:
        raise BadURL(f"redirect refused: {exc.message}", reason="bad_redirect") from exc


@contextlib.contextmanager
def _mapped_httpx_errors() -> Iterator[None]:
    """Turns httpx exceptions into our FetchError subclasses."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise FetchTimeout(f"{type(exc).__name__}: the source did not answer in time") from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise BadURL(f"invalid URL: {exc}") from exc
    except httpx.RemoteProtocolError as exc:
        raise NetworkError(f"protocol error: {exc}", reason="protocol_error") from exc
    except httpx.DecodingError as exc:
        raise NetworkError(f"undecodable body: {exc}", reason="decoding") from exc
    except httpx.HTTPError as exc:
        raise NetworkError(f"{type(exc).__name__}: {exc}") from exc


class Fetcher:
    """Fetches source URLs; one instance is shared by all polls (it holds the connections)."""

    def __init__(
        self,
        *,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        per_host: int = DEFAULT_PER_HOST,
        user_agent: str = DEFAULT_USER_AGENT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.deadline, self.max_bytes, self.per_host = deadline, max_bytes, per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}
        timeout = httpx.Timeout(
            connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, write=WRITE_TIMEOUT, pool=deadline
        )
        headers = {"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}

        def client(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                transport=transport,
                timeout=timeout,
                headers=headers,
                follow_redirects=False,
                trust_env=False,
            )

        if transport is not None:  # test seam: one transport for both policies
            self._guarded = self._relaxed = client(transport)
        else:
            self._guarded = client(GuardedTransport(allow_private=False))
            # Intranet sources may reach private and loopback addresses, never link-local.
            self._relaxed = client(GuardedTransport(allow_private=True))

    async def fetch(
        self, url: str, *, validators: Validators | None = None, allow_private: bool = False
    ) -> FetchResult:
        """Fetches url (conditionally when validators are given); FetchError on any failure."""
        target = parse_source_url(url)
        client = self._relaxed if allow_private else self._guarded
        # Waiting for a free slot of this host is not part of the deadline: the slots are
        # held by fetches that each end within theirs.
        async with self._host_slot(target):
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.deadline):
                    with _mapped_httpx_errors():
                        result = await self._follow(client, target, validators, started)
            except TimeoutError as exc:
                raise FetchTimeout(f"no complete answer within {self.deadline:g} s") from exc
            except MemoryError as exc:  # fetch promises FetchError only, whatever the answer
                raise BodyTooLarge("the answer exhausted the memory available") from exc
        log.debug("fetched %s: %s, %d bytes", url, result.status, len(result.body))
        return result

    async def _follow(
        self,
        client: httpx.AsyncClient,
        url: httpx.URL,
        validators: Validators | None,
        started: float,
    ) -> FetchResult:
        """Sends the GET, following up to MAX_REDIRECTS redirects, and reads the answer."""
        headers = validators.request_headers() if validators else {}
        for _hop in range(MAX_REDIRECTS + 1):
            request = client.build_request("GET", url, headers=headers)
            response = await client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    log.debug("redirect %s -> %s", url, location)
                    url = _redirect_target(url, location)
                    continue
                return await self._result(response, validators, started)
            finally:
                await response.aclose()
        raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")

    async def _result(
        self, response: httpx.Response, validators: Validators | None, started: float
    ) -> FetchResult:
        """The FetchResult of a final (non-redirect) answer, or BadStatus."""
        status = response.status_code
        conditional = validators is not None and bool(validators.request_headers())
        if status == 304 and conditional:
            assert validators is not None
            return FetchResult(
                url=str(response.url),
                status=304,
                body=b"",
                content_type="",
                charset=None,
                validators=validators.updated(response.headers),
                elapsed=time.monotonic() - started,
            )
        if not 200 <= status < 300:
            raise BadStatus(status)
        body = await read_capped(response, self.max_bytes)
        content_type = response.headers.get("content-type", "").partition(";")[0]
        return FetchResult(
            url=str(response.url),
            status=status,
            body=body,
            content_type=content_type.strip().lower(),
            charset=response.charset_encoding,
            validators=Validators().updated(response.headers),
            elapsed=time.monotonic() - started,
        )

    @contextlib.asynccontextmanager
    async def _host_slot(self, url: httpx.URL) -> AsyncIterator[None]:
        """Holds one of the host's per_host slots, so one slow host never starves others."""
        key = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
        semaphore = self._hosts.setdefault(key, asyncio.Semaphore(self.per_host))
        async with semaphore:
            yield

    async def aclose(self) -> None:
        """Closes the connection pools."""
        await self._guarded.aclose()
        if self._relaxed is not self._guarded:
            await self._relaxed.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
