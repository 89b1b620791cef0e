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
import ssl
import threading

from tests.fakes.httpwire import (
    METADATA_URL,
    FaultKind,
    Handler,
    Request,
    Responder,
    Response,
    fault_responder,
    not_modified,
    read_request,
    send_answer,
)

__all__ = ["METADATA_URL", "FakeHTTPServer", "FaultKind", "Handler", "Request", "Response"]

HEAD_LIMIT = 65_536  # request line plus headers
START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
DEFAULT_WAIT = 5.0


class FakeHTTPServer:
    """HTTP/1.1 on host:port (port 0 picks a free one), served from a background thread."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.host, self.port, self._ssl = host, port, ssl_context
        self.received: list[Request] = []
        self.errors: list[BaseException] = []  # exceptions raised by route_fn handlers
        self._responders: dict[str, Responder] = {}
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
            if not_modified(req, etag, last_modified):
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
            await send_answer(w, req, resp, close=close)
            return not close

        self._responders[path] = respond

    def fault(
        self, path: str, kind: FaultKind, *, location: str | None = None, status: int = 302
    ) -> None:
        """Makes path misbehave; "redirect" sends `status` to `location`."""
        self._responders[path] = fault_responder(kind, location, status)

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

    def __exit__(self, *exc_info: object) -> None:
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
            while (req := await read_request(reader)) is not None:
                with self._seen:
                    self.received.append(req)
                    self._seen.notify_all()
                responder = self._responders.get(req.target) or self._responders.get(req.path)
                if responder is None:
                    await send_answer(w, req, Response(404, "Not Found"), close=False)
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
