"""A small HTTP/1.1 server on 127.0.0.1 in its own thread and asyncio loop, for the fake Bot API.

Hand-written (not uvicorn) so a handler can close a connection without answering or answer
late, which is what dropped connections and read time-outs look like to a client. Supports
keep-alive, Content-Length and chunked request bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

T = TypeVar("T")
START_TIMEOUT = 10.0  # seconds to wait for the server thread to listen
STOP_TIMEOUT = 10.0
MAX_BODY = 60 * 1024 * 1024  # Telegram's upload cap is 50 MB
STREAM_LIMIT = 1024 * 1024  # longest request/header line


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The path without the query string."""
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        """The query string, parsed."""
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)


@dataclass
class Response:
    """An answer; drop=True closes the connection without answering."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


Handler = Callable[[Request], Awaitable[Response]]


class BadHttp(Exception):
    """The client sent something that is not HTTP/1.1 we understand."""


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts: list[bytes] = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()).strip():
                    pass  # trailers
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readline()
    length = int(headers.get("content-length", "0") or "0")
    if length < 0 or length > MAX_BODY:
        raise BadHttp("body too large")
    return await reader.readexactly(length) if length else b""


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on a connection, or None when the client closed it."""
    line = await reader.readline()
    while line in (b"\r\n", b"\n"):
        line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadHttp("bad request line")
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if parts[2] == "HTTP/1.0" and "connection" not in headers:
        headers["connection"] = "close"
    return Request(parts[0].upper(), parts[1], headers, await _read_body(reader, headers))


def encode_response(resp: Response, keep_alive: bool) -> bytes:
    """The response bytes, with Content-Length."""
    try:
        reason = HTTPStatus(resp.status).phrase
    except ValueError:
        reason = "Unknown"
    head = [
        f"HTTP/1.1 {resp.status} {reason}",
        f"Content-Type: {resp.content_type}",
        f"Content-Length: {len(resp.body)}",
        "Connection: keep-alive" if keep_alive else "Connection: close",
        *(f"{k}: {v}" for k, v in resp.headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + resp.body


class ThreadedHttpServer:
    """Serves `handler` on 127.0.0.1:<random port> from a background thread's event loop."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.host = host
        self.port = 0
        self.errors: list[str] = []  # handler crashes (tracebacks); tests can assert it is empty
        self.loop: asyncio.AbstractEventLoop | None = None  # made by start(), closed by stop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Listen and serve in a daemon thread; returns once the port is bound."""
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fake-http", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("fake HTTP server did not start")

    def _run(self) -> None:
        loop = self.loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, self.host, 0, limit=STREAM_LIMIT)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()
            loop.run_forever()
        finally:
            loop.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the server loop from another thread and return its result."""
        if self.loop is None:
            coro.close()
            raise RuntimeError("the server is not started")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule fn(*args) on the server loop (thread-safe)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn, *args)

    def stop(self) -> None:
        """Close every connection, cancel pending work, stop the thread."""
        if self._thread is None or self.loop is None or self.loop.is_closed():
            return
        with contextlib.suppress(Exception):
            self.run(self._shutdown(), STOP_TIMEOUT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(STOP_TIMEOUT)
        self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    request = await read_request(reader)
                except (BadHttp, ValueError):
                    writer.write(encode_response(Response(400, b"bad request"), False))
                    break
                if request is None:
                    break
                try:
                    response = await self.handler(request)
                except Exception:
                    self.errors.append(traceback.format_exc())
                    response = Response(500, b'{"ok":false,"error_code":500,"description":"fake"}')
                if response.drop:
                    writer.transport.abort()
                    break
                keep = request.headers.get("connection", "").lower() != "close"
                writer.write(encode_response(response, keep))
                await writer.drain()
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # only stop() cancels: end quietly instead of logging "task exception"
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()
