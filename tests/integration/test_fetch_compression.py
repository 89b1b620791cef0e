"""Compressed answers: the cap holds on decompressed bytes, chunk by chunk; one encoding only."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import httpx
import pytest

from jobs.ingest.errors import BodyTooLarge, FetchError, NetworkError
from jobs.ingest.fetch import Fetcher
from tests.fakes.httpserver import FakeHTTPServer

CAP = 2_000_000
PAGE = "<html><body><p>Thông báo</p></body></html>".encode()


def _gzip_zeros(total: int) -> bytes:
    """gzip of `total` zero bytes, built in slices (a 1000:1 bomb, never held decompressed)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * 1_000_000
    out = [packer.compress(zeros) for _ in range(total // len(zeros))]
    return b"".join([*out, packer.flush()])


async def test_a_bomb_never_decompresses_far_beyond_the_cap(server: FakeHTTPServer) -> None:
    bomb = _gzip_zeros(200_000_000)  # ~200 kB on the wire
    server.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    async with Fetcher(deadline=10, max_bytes=CAP) as fetcher:
        tracemalloc.start()
        try:
            with pytest.raises(BodyTooLarge):
                await fetcher.fetch(server.url("/bomb"), allow_private=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 4 * CAP  # one raw chunk used to inflate to tens of MB at once


@pytest.mark.parametrize("header", ["gzip, gzip", "gzip,deflate", "deflate, gzip"])
async def test_stacked_encodings_are_refused(server: FakeHTTPServer, header: str) -> None:
    inner = gzip.compress(PAGE)
    server.route("/stacked", gzip.compress(inner), headers={"Content-Encoding": header})
    async with Fetcher(deadline=5, max_bytes=CAP) as fetcher:
        with pytest.raises(NetworkError, match="stacked") as err:
            await fetcher.fetch(server.url("/stacked"), allow_private=True)
    assert err.value.reason == "decoding"


@pytest.mark.parametrize("header", ["br", "x-unknown"])
async def test_unknown_encodings_are_a_decoding_error(server: FakeHTTPServer, header: str) -> None:
    server.route("/enc", b"\x1b\x2c\x00garbage", headers={"Content-Encoding": header})
    async with Fetcher(deadline=5, max_bytes=CAP) as fetcher:
        with pytest.raises(NetworkError) as err:
            await fetcher.fetch(server.url("/enc"), allow_private=True)
    assert err.value.reason == "decoding"


@pytest.mark.parametrize(
    ("header", "body"),
    [
        ("gzip", gzip.compress(PAGE)),
        ("deflate", zlib.compress(PAGE)),
        ("deflate", zlib.compress(PAGE)[2:-4]),  # raw deflate, as some servers send it
        ("identity", PAGE),
        ("gzip, identity", gzip.compress(PAGE)),
    ],
    # Named, not by their bytes: gzip stamps the time, and pytest-xdist's workers must
    # collect the same test ids.
    ids=["gzip", "zlib deflate", "raw deflate", "identity", "gzip, identity"],
)
async def test_single_encodings_decode(server: FakeHTTPServer, header: str, body: bytes) -> None:
    server.route("/ok", body, headers={"Content-Encoding": header})
    async with Fetcher(deadline=5, max_bytes=CAP) as fetcher:
        result = await fetcher.fetch(server.url("/ok"), allow_private=True)
    assert result.body == PAGE


async def test_corrupt_gzip_is_a_decoding_error(server: FakeHTTPServer) -> None:
    server.route(
        "/bad", b"\x1f\x8b\x08\x00garbage-not-deflate", headers={"Content-Encoding": "gzip"}
    )
    async with Fetcher(deadline=5, max_bytes=CAP) as fetcher:
        with pytest.raises(NetworkError) as err:
            await fetcher.fetch(server.url("/bad"), allow_private=True)
    assert err.value.reason == "decoding"


async def test_memory_error_leaves_fetch_as_a_fetch_error() -> None:
    def exhausted(_request: httpx.Request) -> httpx.Response:
        raise MemoryError

    async with Fetcher(deadline=5, transport=httpx.MockTransport(exhausted)) as fetcher:
        with pytest.raises(FetchError) as err:
            await fetcher.fetch("http://portal.example/list")
    assert err.value.reason == "too_large"
