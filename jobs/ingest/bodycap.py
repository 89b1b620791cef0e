"""Reading a body under a byte cap that holds on decompressed bytes, one bounded step at a time.

httpx decompresses each raw chunk whole before the caller sees it, so a 1.8 kB answer of
`Content-Encoding: gzip, gzip` inflated to gigabytes inside one chunk. Here the raw bytes
are read and inflated with zlib's `max_length`, never more than the room left under the cap;
one encoding at most (gzip or deflate) is accepted.
"""

from __future__ import annotations

import zlib

import httpx

from jobs.ingest.errors import BodyTooLarge, NetworkError

ACCEPT_ENCODING = "gzip, deflate"  # what we can inflate incrementally
_IDENTITY = frozenset({"", "identity"})


class _Inflater:
    """zlib inflation of a gzip or deflate stream (zlib-wrapped or raw), output bounded."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(wbits)
        self._first = encoding == "deflate"  # may still turn out to be raw deflate

    def inflate(self, data: bytes, room: int) -> bytes:
        """At most room + 1 bytes of output for data (BodyTooLarge when more would follow)."""
        out = bytearray()
        while data and not self._zlib.eof:
            try:
                piece = self._zlib.decompress(data, room + 1 - len(out))
            except zlib.error:
                if not self._first:
                    raise
                self._first = False  # "deflate" without its zlib header: raw deflate
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._first = False
            out += piece
            if len(out) > room:
                raise BodyTooLarge(f"decompressed body is above the cap of {room} bytes")
            data = self._zlib.unconsumed_tail
        return bytes(out)


def _encodings(response: httpx.Response) -> list[str]:
    """The response's content codings in order, identity left out."""
    found = response.headers.get_list("content-encoding", split_commas=True)
    return [name for name in (e.strip().lower() for e in found) if name not in _IDENTITY]


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body, or BodyTooLarge as soon as it passes max_bytes (decoded or raw);
    NetworkError("decoding") for stacked, unknown or corrupt encodings."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"Content-Length {declared} is above the cap of {max_bytes} bytes")
    encodings = _encodings(response)
    if len(encodings) > 1:
        raise NetworkError(
            f"stacked Content-Encoding {', '.join(encodings)} refused", reason="decoding"
        )
    if encodings and encodings[0] not in ("gzip", "x-gzip", "deflate"):
        raise NetworkError(f"unsupported Content-Encoding {encodings[0]!r}", reason="decoding")
    inflater = _Inflater(encodings[0]) if encodings else None
    body = bytearray()
    raw_total = 0
    async for raw in response.aiter_raw():
        raw_total += len(raw)
        if raw_total > max_bytes:
            raise BodyTooLarge(f"body is above the cap of {max_bytes} bytes")
        try:
            chunk = raw if inflater is None else inflater.inflate(raw, max_bytes - len(body))
        except BodyTooLarge:
            raise BodyTooLarge(f"decompressed body is above the cap of {max_bytes} bytes") from None
        except zlib.error as exc:
            raise NetworkError(
                f"undecodable {inflater and inflater.encoding} body: {exc}", reason="decoding"
            ) from exc
        body += chunk
        if len(body) > max_bytes:
            raise BodyTooLarge(f"body is above the cap of {max_bytes} bytes")
    return bytes(body)
