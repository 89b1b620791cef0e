"""The fetch stage against a fake HTTP server speaking real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import AsyncIterator

import pytest

from jobs.ingest.errors import (
    BadStatus,
    BodyTooLarge,
    FetchTimeout,
    NetworkError,
)
from jobs.ingest.fetch import DEFAULT_USER_AGENT, Fetcher, FetchResult, Validators
from tests.fakes.httpserver import FakeHTTPServer, Request, Response

SHORT_DEADLINE = 1.5  # seconds, for the time-out tests
MARGIN = 1.0  # how late past the deadline a time-out may still count as "at the deadline"
SMALL_CAP = 100_000
ETAG = '"v1"'
LAST_MODIFIED = "Fri, 16 Dec 2011 08:30:00 GMT"
PAGE = "<html><body><h1>Quy chế dân chủ</h1></body></html>"


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(deadline=10.0) as f:
        yield f


async def fetch_private(
    fetcher: Fetcher, url: str, validators: Validators | None = None
) -> FetchResult:
    """A fetch allowed to reach the fake server on loopback."""
    return await fetcher.fetch(url, validators=validators, allow_private=True)


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
