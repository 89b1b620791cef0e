"""HTTP/1.1 on asyncio streams for the fake servers: parse, answer, misbehave on purpose."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qsl

FaultKind = Literal[
    "500", "trickle", "timeout", "truncated", "huge", "huge_sized", "redirect_metadata",
    "redirect", "reset",
]  # fmt: skip
METADATA_URL = "http://169.254.169.254/latest/meta-data/"
TRICKLE_INTERVAL = 0.5  # seconds between the bytes of a "trickle" body
HUGE_BYTES = 20_000_000
CHUNK_BYTES = 65_536


@dataclass(frozen=True)
class Request:
    """One parsed request as the server saw it (header names lower-case)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        """The path without the query string."""
        return self.target.partition("?")[0]

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (last value wins)."""
        return dict(parse_qsl(self.target.partition("?")[2], keep_blank_values=True))

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


@dataclass
class Response:
    """What a handler answers; str bodies are sent as UTF-8."""

    status: int = 200
    body: bytes | str = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """A JSON answer."""
        body = json.dumps(data, ensure_ascii=False)
        return cls(status, body, "application/json; charset=utf-8", dict(headers or {}))

    def payload(self) -> bytes:
        """The body as bytes."""
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


Handler = Callable[[Request], "Response | Awaitable[Response]"]
# A responder writes the whole answer itself and says whether the connection stays open.
Responder = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


def not_modified(req: Request, etag: str | None, last_modified: str | None) -> bool:
    """True when the request's validators match (If-None-Match wins over If-Modified-Since)."""
    if_none_match = req.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return etag is not None and ("*" in tags or etag.removeprefix("W/") in tags)
    since = req.headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


async def write_head(
    writer: asyncio.StreamWriter, status: int, headers: dict[str, str], *, close: bool
) -> None:
    """Writes the status line and headers."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [f"HTTP/1.1 {status} {phrase}"] + [f"{k}: {v}" for k, v in headers.items()]
    if close:
        lines.append("Connection: close")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()


async def send_answer(
    writer: asyncio.StreamWriter, req: Request, resp: Response, *, close: bool
) -> None:
    """Writes a complete answer."""
    body = b"" if resp.status in (204, 304) else resp.payload()
    headers = {"Content-Length": str(len(body))} if resp.status not in (204, 304) else {}
    if resp.content_type and body:
        headers["Content-Type"] = resp.content_type
    overridden = {name.lower() for name in resp.headers}  # the handler's headers win
    headers = {k: v for k, v in headers.items() if k.lower() not in overridden} | resp.headers
    await write_head(writer, resp.status, headers, close=close)
    if req.method != "HEAD" and body:
        writer.write(body)
        await writer.drain()


async def stream_bytes(writer: asyncio.StreamWriter, total: int, *, chunked: bool) -> None:
    """Sends `total` bytes in chunks, stopping quietly when the client goes away."""
    block = b"x" * CHUNK_BYTES
    sent = 0
    while sent < total and not writer.is_closing():
        piece = block[: total - sent]
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        await writer.drain()
        sent += len(piece)
    if chunked:
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def fault_responder(kind: FaultKind, location: str | None, status: int) -> Responder:
    """The responder that misbehaves as `kind` says."""

    async def respond(req: Request, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        html = {"Content-Type": "text/html; charset=utf-8"}
        if kind == "500":
            await send_answer(w, req, Response(500, "Internal Server Error"), close=False)
            return True
        if kind in ("redirect", "redirect_metadata"):
            target = METADATA_URL if kind == "redirect_metadata" else (location or "/")
            await send_answer(
                w, req, Response(status, b"", headers={"Location": target}), close=False
            )
            return True
        if kind == "trickle":
            await write_head(w, 200, html | {"Transfer-Encoding": "chunked"}, close=True)
            while not reader.at_eof() and not w.is_closing():  # no end: one byte at a time
                w.write(b"1\r\nx\r\n")
                await w.drain()
                await asyncio.sleep(TRICKLE_INTERVAL)
        elif kind == "timeout":
            while await reader.read(CHUNK_BYTES):  # hold the line until the client leaves
                pass
        elif kind == "truncated":
            body = "<html><body><h1>Tin tức</h1><p>Nội dung bị cắt".encode()
            await write_head(w, 200, html | {"Content-Length": str(len(body) + 1000)}, close=True)
            w.write(body)
            await w.drain()
        elif kind in ("huge", "huge_sized"):
            size = {"Content-Length": str(HUGE_BYTES)} if kind == "huge_sized" else {}
            chunked = {"Transfer-Encoding": "chunked"} if kind == "huge" else {}
            await write_head(w, 200, html | size | chunked, close=True)
            await stream_bytes(w, HUGE_BYTES, chunked=kind == "huge")
        elif kind == "reset":
            sock = w.get_extra_info("socket")  # linger 0: close() sends RST, not FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            w.transport.abort()
        return False

    return respond


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection, or None when the client closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    request_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, _version = request_line.split(" ", 2)  # ValueError ends the connection
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")  # no trailers expected
    elif length := int(headers.get("content-length", "0") or 0):
        body = await reader.readexactly(length)
    return Request(method.upper(), target, headers, body)
