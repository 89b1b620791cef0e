"""A fake HTTP/1.1 server on 127.0.0.1 that speaks real HTTP, in its own thread and loop.

Sync and async tests can both use it, and the fetcher under test talks to it over a socket:

    with FakeHTTPServer() as server:  # or FakeHTTPServer(host="127.0.0.2")
        server.route("/feed.rss", rss_bytes, content_type="application/rss+xml", etag='"v1"')
        server.route_fn("/news", lambda req: Response(body=f"page {req.query.get('page')}"))
        server.fault("/broken", "500")
        fetch(server.url("/feed.rss")); assert server.count("/feed.rss") == 1

Faults (`server.fault(path, kind)`): "500"; "trickle" (headers, then one byte every 0.5 s
until the client leaves); "timeout" (never answers); "truncated" (Content-Length larger than
the body, then close); "huge" (20 MB, chunked) and "huge_sized" (20 MB with Content-Length);
"redirect_metadata" (302 to 169.254.169.254); "redirect" (to `location`); "reset" (TCP RST).

A fixture is two lines: `with FakeHTTPServer() as server: yield server`. To wait for a request
without sleeping: `server.wait_for(path)` (sync) or `await server.arrived(path)` (async).
Handlers run on the server's thread: keep shared state simple (counters, lists, events).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import socket
import ssl
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
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
HEAD_LIMIT = 65_536  # request line plus headers
START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
DEFAULT_WAIT = 5.0


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
_Responder = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


def _not_modified(req: Request, etag: str | None, last_modified: str | None) -> bool:
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


async def _write_head(
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


async def _send(writer: asyncio.StreamWriter, req: Request, resp: Response, *, close: bool) -> None:
    """Writes a complete answer."""
    body = b"" if resp.status in (204, 304) else resp.payload()
    headers = {"Content-Length": str(len(body))} if resp.status not in (204, 304) else {}
    if resp.content_type and body:
        headers["Content-Type"] = resp.content_type
    overridden = {name.lower() for name in resp.headers}  # the handler's headers win
    headers = {k: v for k, v in headers.items() if k.lower() not in overridden} | resp.headers
    await _write_head(writer, resp.status, headers, close=close)
    if req.method != "HEAD" and body:
        writer.write(body)
        await writer.drain()


async def _stream(writer: asyncio.StreamWriter, total: int, *, chunked: bool) -> None:
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


def _fault(kind: FaultKind, location: str | None, status: int) -> _Responder:
    """The responder that misbehaves as `kind` says."""

    async def respond(req: Request, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        html = {"Content-Type": "text/html; charset=utf-8"}
        if kind == "500":
            await _send(w, req, Response(500, "Internal Server Error"), close=False)
            return True
        if kind in ("redirect", "redirect_metadata"):
            target = METADATA_URL if kind == "redirect_metadata" else (location or "/")
            await _send(w, req, Response(status, b"", headers={"Location": target}), close=False)
            return True
        if kind == "trickle":
            await _write_head(w, 200, html | {"Transfer-Encoding": "chunked"}, close=True)
            while not reader.at_eof() and not w.is_closing():  # no end: one byte at a time
                w.write(b"1\r\nx\r\n")
                await w.drain()
                await asyncio.sleep(TRICKLE_INTERVAL)
        elif kind == "timeout":
            while await reader.read(CHUNK_BYTES):  # hold the line until the client leaves
                pass
        elif kind == "truncated":
            body = "<html><body><h1>Tin tức</h1><p>Nội dung bị cắt".encode()
            await _write_head(w, 200, html | {"Content-Length": str(len(body) + 1000)}, close=True)
            w.write(body)
            await w.drain()
        elif kind in ("huge", "huge_sized"):
            size = {"Content-Length": str(HUGE_BYTES)} if kind == "huge_sized" else {}
            chunked = {"Transfer-Encoding": "chunked"} if kind == "huge" else {}
            await _write_head(w, 200, html | size | chunked, close=True)
            await _stream(w, HUGE_BYTES, chunked=kind == "huge")
        elif kind == "reset":
            sock = w.get_extra_info("socket")  # linger 0: close() sends RST, not FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            w.transport.abort()
        return False

    return respond


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
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


class FakeHTTPServer:
    """HTTP/1.1 on host:port (port 0 picks a free one), served from a background thread."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.host, self.port, self._ssl = host, port, ssl_context
        self.received: list[Request] = []
        self.errors: list[BaseException] = []  # exceptions raised by route_fn handlers
        self._responders: dict[str, _Responder] = {}
        self._seen = threading.Condition()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._start_error: BaseException | None = None
        self._connections: set[asyncio.Task[None]] = set()

    # -- configuration -------------------------------------------------------------------
    def url(self, path: str = "/") -> str:
        """The absolute URL of path on this server."""
        return f"{'https' if self._ssl else 'http'}://{self.host}:{self.port}{path}"

    def route(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Serves a fixed body at path (a path with "?query" matches that query only)."""
        extra = dict(headers or {})
        validators = {"ETag": etag or "", "Last-Modified": last_modified or ""}
        validators = {name: value for name, value in validators.items() if value}

        def answer(req: Request) -> Response:
            if _not_modified(req, etag, last_modified):
                return Response(304, b"", None, extra | validators)
            return Response(status, body, content_type, extra | validators)

        self.route_fn(path, answer)

    def route_fn(self, path: str, fn: Handler) -> None:
        """Serves path with fn(request) -> Response (or an awaitable of one), per request."""

        async def respond(req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
            try:
                result = fn(req)
                resp = await result if inspect.isawaitable(result) else result
            except Exception as exc:  # a broken handler is reported, not a dropped connection
                self.errors.append(exc)
                resp = Response(500, f"handler failed: {exc!r}", "text/plain; charset=utf-8")
            close = req.headers.get("connection", "").lower() == "close"
            await _send(w, req, resp, close=close)
            return not close

        self._responders[path] = respond

    def fault(
        self, path: str, kind: FaultKind, *, location: str | None = None, status: int = 302
    ) -> None:
        """Makes path misbehave; "redirect" sends `status` to `location`."""
        self._responders[path] = _fault(kind, location, status)

    def clear(self, path: str) -> None:
        """Removes the route or fault at path (it then answers 404)."""
        self._responders.pop(path, None)

    # -- observation ---------------------------------------------------------------------
    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path with query, lower-case headers) of every request, in order."""
        return [(r.method, r.target, r.headers) for r in list(self.received)]

    def count(self, path: str) -> int:
        """Requests seen for path (exact target when path has a query, else any query)."""
        exact = "?" in path
        return sum(1 for r in list(self.received) if (r.target if exact else r.path) == path)

    def wait_for(self, path: str, count: int = 1, timeout: float = DEFAULT_WAIT) -> bool:
        """Blocks until `count` requests for path arrived; False on timeout."""
        with self._seen:
            return self._seen.wait_for(lambda: self.count(path) >= count, timeout)

    async def arrived(self, path: str, count: int = 1, within: float = DEFAULT_WAIT) -> bool:
        """Async wait_for, for tests running their own event loop."""
        return await asyncio.to_thread(self.wait_for, path, count, within)

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> FakeHTTPServer:
        """Starts serving; returns once the port is bound."""
        self._thread = threading.Thread(target=self._run, name=f"fake-http-{self.host}")
        self._thread.daemon = True
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("fake HTTP server did not start")
        if self._start_error is not None:
            raise self._start_error
        return self

    def stop(self) -> None:
        """Closes every connection (hung ones too) and the listening socket."""
        if self._loop is not None and self._stopping is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(STOP_TIMEOUT)

    def __enter__(self) -> FakeHTTPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        try:
            server = await asyncio.start_server(
                self._on_connection, self.host, self.port, ssl=self._ssl, limit=HEAD_LIMIT
            )
        except OSError as exc:
            self._start_error = exc
            self._ready.set()
            return
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopping.wait()
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def _on_connection(self, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while (req := await _read_request(reader)) is not None:
                with self._seen:
                    self.received.append(req)
                    self._seen.notify_all()
                responder = self._responders.get(req.target) or self._responders.get(req.path)
                if responder is None:
                    await _send(w, req, Response(404, "Not Found"), close=False)
                elif not await responder(req, reader, w):
                    break
        except (
            ConnectionError,
            ValueError,
            asyncio.LimitOverrunError,
            asyncio.IncompleteReadError,
        ):
            pass  # a client that hangs up or sends garbage only ends its own connection
        except asyncio.CancelledError:
            pass  # stop() cancels hung handlers; ending quietly avoids 3.11's streams warning
        finally:
            self._connections.discard(task)
            w.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await w.wait_closed()
