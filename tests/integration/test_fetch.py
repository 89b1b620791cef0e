"""The fetch stage against a fake HTTP server speaking real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from jobs import errors
from jobs.errors import (
    REASONS,
    AddressNotAllowed,
    BadStatus,
    BadURL,
    BodyTooLarge,
    FetchError,
    FetchTimeout,
    NetworkError,
    TooManyRedirects,
)
from jobs.fetch import DEFAULT_USER_AGENT, MAX_REDIRECTS, Fetcher, FetchResult, Validators
from jobs.netguard import GuardedTransport
from tests.fakes.httpserver import METADATA_URL, FakeHTTPServer, Request, Response

SHORT_DEADLINE = 1.5  # seconds, for the time-out tests
MARGIN = 1.0  # how late past the deadline a time-out may still count as "at the deadline"
SMALL_CAP = 100_000
ETAG = '"v1"'
LAST_MODIFIED = "Fri, 16 Dec 2011 08:30:00 GMT"
PAGE = "<html><body><h1>Quy chế dân chủ</h1></body></html>"


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as srv:
        yield srv


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(deadline=10.0) as f:
        yield f


async def fetch_private(fetcher: Fetcher, url: str, **kwargs: object) -> FetchResult:
    """A fetch allowed to reach the fake server on loopback."""
    return await fetcher.fetch(url, allow_private=True, **kwargs)  # type: ignore[arg-type]


async def test_200_returns_body_type_charset_and_validators(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.route("/tin", PAGE, etag=ETAG, last_modified=LAST_MODIFIED)
    result = await fetch_private(fetcher, server.url("/tin"))
    assert result.status == 200
    assert result.body == PAGE.encode()
    assert result.text() == PAGE
    assert (result.content_type, result.charset) == ("text/html", "utf-8")
    assert result.validators == Validators(etag=ETAG, last_modified=LAST_MODIFIED)
    assert result.url == server.url("/tin")
    assert result.elapsed >= 0
    assert server.requests[0][2]["user-agent"] == DEFAULT_USER_AGENT


async def test_query_string_reaches_the_server(server: FakeHTTPServer, fetcher: Fetcher) -> None:
    server.route_fn("/list", lambda req: Response(body=f"page {req.query['page']}"))
    result = await fetch_private(fetcher, server.url("/list?page=2"))
    assert result.body == b"page 2"
    assert server.count("/list?page=2") == 1


async def test_etag_conditional_get_gives_304_and_keeps_validators(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.route("/feed", PAGE, etag=ETAG, last_modified=LAST_MODIFIED)
    first = await fetch_private(fetcher, server.url("/feed"))
    second = await fetch_private(fetcher, server.url("/feed"), validators=first.validators)
    assert second.status == 304
    assert second.not_modified
    assert second.body == b""
    assert second.validators == first.validators
    assert server.requests[-1][2]["if-none-match"] == ETAG
    assert server.requests[-1][2]["if-modified-since"] == LAST_MODIFIED


async def test_last_modified_alone_gives_304(server: FakeHTTPServer, fetcher: Fetcher) -> None:
    server.route("/feed", PAGE, last_modified=LAST_MODIFIED)
    old = Validators(last_modified=LAST_MODIFIED)
    result = await fetch_private(fetcher, server.url("/feed"), validators=old)
    assert result.status == 304
    assert "if-none-match" not in server.requests[-1][2]


async def test_changed_content_gives_200_with_new_validators(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.route("/feed", "new", etag='"v2"')
    result = await fetch_private(fetcher, server.url("/feed"), validators=Validators(etag=ETAG))
    assert result.status == 200
    assert result.body == b"new"
    assert result.validators.etag == '"v2"'


async def test_unconditional_304_is_a_bad_status(server: FakeHTTPServer, fetcher: Fetcher) -> None:
    server.route("/odd", "", status=304)
    with pytest.raises(BadStatus) as caught:
        await fetch_private(fetcher, server.url("/odd"))
    assert caught.value.status_code == 304


@pytest.mark.parametrize(("path", "code"), [("/500", 500), ("/missing", 404)])
async def test_error_status_is_bad_status(
    server: FakeHTTPServer, fetcher: Fetcher, path: str, code: int
) -> None:
    server.fault("/500", "500")
    with pytest.raises(BadStatus) as caught:
        await fetch_private(fetcher, server.url(path))
    assert caught.value.status_code == code
    assert caught.value.reason == f"http_{code}"


@pytest.mark.parametrize("kind", ["trickle", "timeout"])
async def test_slow_or_silent_server_fails_at_the_deadline(
    server: FakeHTTPServer, kind: str
) -> None:
    server.fault("/slow", kind)  # type: ignore[arg-type]
    async with Fetcher(deadline=SHORT_DEADLINE) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchTimeout) as caught:
            await fetch_private(fetcher, server.url("/slow"))
        elapsed = time.monotonic() - started
    assert caught.value.reason == "timeout"
    assert SHORT_DEADLINE <= elapsed < SHORT_DEADLINE + MARGIN


async def test_deadline_covers_redirects(server: FakeHTTPServer) -> None:
    server.fault("/start", "redirect", location="/slow")
    server.fault("/slow", "trickle")
    async with Fetcher(deadline=SHORT_DEADLINE) as fetcher:
        with pytest.raises(FetchTimeout):
            await fetch_private(fetcher, server.url("/start"))
    assert server.count("/slow") == 1


@pytest.mark.parametrize(("kind", "reason"), [("truncated", "protocol_error"), ("reset", None)])
async def test_broken_connection_is_network_error(
    server: FakeHTTPServer, fetcher: Fetcher, kind: str, reason: str | None
) -> None:
    server.fault("/broken", kind)  # type: ignore[arg-type]
    with pytest.raises(NetworkError) as caught:
        await fetch_private(fetcher, server.url("/broken"))
    if reason:
        assert caught.value.reason == reason


async def test_refused_connection_is_network_error(fetcher: Fetcher) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NetworkError):
        await fetch_private(fetcher, f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize("kind", ["huge", "huge_sized"])
async def test_huge_body_is_refused_by_a_small_cap(server: FakeHTTPServer, kind: str) -> None:
    server.fault("/huge", kind)  # type: ignore[arg-type]
    async with Fetcher(deadline=10.0, max_bytes=SMALL_CAP) as fetcher:
        with pytest.raises(BodyTooLarge) as caught:
            await fetch_private(fetcher, server.url("/huge"))
    assert caught.value.reason == "too_large"


@pytest.mark.parametrize("kind", ["huge", "huge_sized"])
async def test_huge_body_is_refused_by_the_default_cap(
    server: FakeHTTPServer, fetcher: Fetcher, kind: str
) -> None:
    server.fault("/huge", kind)  # type: ignore[arg-type]
    with pytest.raises(BodyTooLarge):
        await fetch_private(fetcher, server.url("/huge"))


async def test_a_compression_bomb_is_refused_by_the_decoded_size(
    server: FakeHTTPServer,
) -> None:
    bomb = gzip.compress(b"\0" * (SMALL_CAP * 50))
    assert len(bomb) < SMALL_CAP  # small on the wire, large once decoded
    server.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    async with Fetcher(deadline=10.0, max_bytes=SMALL_CAP) as fetcher:
        with pytest.raises(BodyTooLarge):
            await fetch_private(fetcher, server.url("/bomb"))


async def test_gzip_bodies_are_decoded(server: FakeHTTPServer, fetcher: Fetcher) -> None:
    server.route("/gz", gzip.compress(PAGE.encode()), headers={"Content-Encoding": "gzip"})
    result = await fetch_private(fetcher, server.url("/gz"))
    assert result.body == PAGE.encode()


async def test_a_non_ascii_validator_is_not_sent(server: FakeHTTPServer, fetcher: Fetcher) -> None:
    server.route("/feed", PAGE)
    result = await fetch_private(fetcher, server.url("/feed"), validators=Validators(etag='"bản"'))
    assert result.status == 200
    assert "if-none-match" not in server.requests[-1][2]


async def test_body_at_the_cap_is_accepted(server: FakeHTTPServer) -> None:
    server.route("/exact", b"x" * SMALL_CAP, content_type="application/octet-stream")
    async with Fetcher(deadline=10.0, max_bytes=SMALL_CAP) as fetcher:
        result = await fetch_private(fetcher, server.url("/exact"))
    assert len(result.body) == SMALL_CAP


async def test_redirect_is_followed_to_the_final_url(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.fault("/old", "redirect", location="/new", status=301)
    server.route("/new", PAGE)
    result = await fetch_private(fetcher, server.url("/old"))
    assert result.url == server.url("/new")
    assert result.body == PAGE.encode()


async def test_redirect_to_metadata_is_refused_even_for_private_sources(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.fault("/meta", "redirect_metadata")
    with pytest.raises(AddressNotAllowed) as caught:
        await fetch_private(fetcher, server.url("/meta"))
    assert "169.254.169.254" in caught.value.message
    assert server.count("/meta") == 1


async def test_metadata_url_is_refused_directly(fetcher: Fetcher) -> None:
    with pytest.raises(AddressNotAllowed):
        await fetch_private(fetcher, METADATA_URL)


async def test_loopback_is_refused_without_allow_private(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.route("/", PAGE)
    with pytest.raises(AddressNotAllowed) as caught:
        await fetcher.fetch(server.url("/"))
    assert caught.value.reason == "blocked_address"
    assert server.requests == []  # refused before connecting


async def test_a_name_resolving_to_loopback_is_refused(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.route("/", PAGE)
    with pytest.raises(AddressNotAllowed):
        await fetcher.fetch(f"http://localhost:{server.port}/")
    assert server.requests == []


async def test_a_name_is_sent_as_host_while_the_checked_address_is_used(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.route("/", PAGE)
    result = await fetch_private(fetcher, f"http://localhost:{server.port}/")
    assert result.body == PAGE.encode()
    assert server.requests[0][2]["host"] == f"localhost:{server.port}"


async def test_too_many_redirects(server: FakeHTTPServer, fetcher: Fetcher) -> None:
    server.fault("/loop", "redirect", location="/loop")
    with pytest.raises(TooManyRedirects):
        await fetch_private(fetcher, server.url("/loop"))
    assert server.count("/loop") == MAX_REDIRECTS + 1


async def test_redirect_to_another_scheme_is_refused(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.fault("/file", "redirect", location="file:///etc/passwd")
    with pytest.raises(BadURL) as caught:
        await fetch_private(fetcher, server.url("/file"))
    assert caught.value.reason == "bad_redirect"


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/x", "javascript:alert(1)", "no scheme", "http://"],
)
async def test_bad_urls_are_refused(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(BadURL) as caught:
        await fetcher.fetch(url, allow_private=True)
    assert caught.value.reason == "bad_url"


async def test_a_hung_host_does_not_delay_another_host(server: FakeHTTPServer) -> None:
    server.fault("/hang", "timeout")
    server.route("/ok", "same host")
    with FakeHTTPServer(host="127.0.0.2") as other:
        other.route("/ok", "other host")
        async with Fetcher(deadline=60.0, per_host=1) as fetcher:
            hung = asyncio.create_task(fetch_private(fetcher, server.url("/hang")))
            assert await server.arrived("/hang")
            queued = asyncio.create_task(fetch_private(fetcher, server.url("/ok")))
            result = await fetch_private(fetcher, other.url("/ok"))
            assert result.body == b"other host"
            assert not hung.done()
            assert not queued.done()  # waits for the hung fetch's slot (per_host=1)
            assert server.count("/ok") == 0
            hung.cancel()
            assert (await queued).body == b"same host"
    with pytest.raises(asyncio.CancelledError):
        await hung


async def test_only_fetch_errors_with_listed_reasons_escape(
    server: FakeHTTPServer, fetcher: Fetcher
) -> None:
    server.fault("/file", "redirect", location="file:///etc/passwd")
    for kind in ("500", "truncated", "reset", "redirect_metadata"):
        server.fault(f"/{kind}", kind)
    for path in ("/500", "/truncated", "/reset", "/redirect_metadata", "/file"):
        with pytest.raises(FetchError) as caught:
            await fetch_private(fetcher, server.url(path))
        assert caught.value.reason in REASONS or caught.value.reason == "http_500"


def test_every_error_class_has_a_listed_reason() -> None:
    classes = [value for value in vars(errors).values() if isinstance(value, type)]
    sources = [c for c in classes if issubclass(c, errors.SourceError) and c is not BadStatus]
    assert len(sources) == 12  # the tree in jobs/errors.py, BadStatus aside
    assert {c.reason for c in sources} <= REASONS


# -- TLS: the guard connects to the checked address, TLS still verifies the host name --------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_uses_the_host_name_for_sni_and_verification(
    tls_files: tuple[Path, Path],
) -> None:
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_ctx.sni_callback = lambda _sock, name, _ctx: names.append(name)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    transport = GuardedTransport(allow_private=True, verify=client_ctx)
    with FakeHTTPServer(ssl_context=server_ctx) as server:
        server.route("/", "secure")
        async with Fetcher(deadline=10.0, transport=transport) as fetcher:
            result = await fetcher.fetch(f"https://localhost:{server.port}/")
            assert result.body == b"secure"
            assert names[-1] == "localhost"
            with pytest.raises(NetworkError):  # the certificate names localhost, not the IP
                await fetcher.fetch(f"https://127.0.0.1:{server.port}/")


def test_fake_server_answers_500_when_a_handler_fails(server: FakeHTTPServer) -> None:
    def broken(_req: Request) -> Response:
        raise RuntimeError("bug in a test handler")

    server.route_fn("/broken", broken)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /broken HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 500")
    assert [str(e) for e in server.errors] == ["bug in a test handler"]


def test_fake_server_serves_sync_clients(server: FakeHTTPServer) -> None:
    server.route_fn("/echo", lambda req: Response.json({"n": len(server.requests)}))
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert answer.endswith(b'{"n": 1}')
    assert isinstance(server.received[0], Request)
