"""Fetching hostile places: the address guard on every hop, redirects, bad URLs, TLS names."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobs.ingest import errors
from jobs.ingest.errors import (
    REASONS,
    AddressNotAllowed,
    BadStatus,
    BadURL,
    FetchError,
    NetworkError,
    TooManyRedirects,
)
from jobs.ingest.fetch import MAX_REDIRECTS, Fetcher, FetchResult
from jobs.ingest.netguard import GuardedTransport
from tests.fakes.httpserver import METADATA_URL, FakeHTTPServer

PAGE = "<html><body><h1>Quy chế dân chủ</h1></body></html>"


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(deadline=10.0) as f:
        yield f


async def fetch_private(fetcher: Fetcher, url: str) -> FetchResult:
    """A fetch allowed to reach the fake server on loopback."""
    return await fetcher.fetch(url, allow_private=True)


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
    assert len(sources) == 12  # the tree in jobs/ingest/errors.py, BadStatus aside
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
