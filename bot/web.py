"""The service's one HTTP server: /healthz always, /metrics, plus the routes each channel
mounts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jobs import metrics

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000  # a webhook update is a few kB; refuse anything absurd
STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 5.0

# A health check answers ok/not, or a JSON report whose "status" is "ok" when healthy (it
# names the failing parts otherwise: bot.service.make_health).
HealthCheck = Callable[[], Awaitable[bool | dict[str, Any]]]


def make_app(
    *,
    health: HealthCheck,
    routes: Sequence[BaseRoute] = (),
    alarms: Callable[[], dict[str, str]] | None = None,
) -> Starlette:
    """GET /healthz, then every channel's routes. A channel's alarm (e.g. a Zalo token an
    admin must renew) shows as "degraded" with its reason: restarting would not fix it."""

    async def healthz(_request: Request) -> Response:
        result = await health()
        if isinstance(result, bool):
            result = {"status": "ok" if result else "unavailable"}
        raised = alarms() if alarms is not None else {}
        ok = result.get("status") == "ok"
        if raised:
            result = {**result, "alarms": raised, "status": "degraded" if ok else result["status"]}
        return JSONResponse(result, 200 if ok else 503)

    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"]), *routes])


def metrics_route() -> Route:
    """GET /metrics: the Prometheus text format (jobs.metrics; reads the queue at scrape)."""

    async def page(_request: Request) -> Response:
        body = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)

    return Route("/metrics", page, methods=["GET"])


async def read_json_body(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    """The request's JSON body, read up to `limit` bytes; a Response (413/400) when it is not
    a JSON object of that size (for channels' webhooks)."""
    body = bytearray()
    async for chunk in request.stream():  # stop reading at the cap, not after it
        body += chunk
        if len(body) > limit:
            return Response(status_code=413)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # deep nesting ([[[[...) is bad input, not a 500
        return Response(status_code=400)
    if not isinstance(data, dict):
        return Response(status_code=400)
    return data


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port), so the port is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:  # e.g. the port is taken: do not leak the socket
        sock.close()
        raise
    return sock


class WebServer:
    """uvicorn serving `app` on a given socket inside the running event loop."""

    def __init__(self, app: Starlette, sock: socket.socket) -> None:
        self.sock = sock
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", log_config=None
        )  # log_config=None: uvicorn logs go through our redacting root handler
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.sock.getsockname()[1])

    async def start(self) -> None:
        """Serve in the background; returns once uvicorn is accepting connections."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self.sock]))
        async with asyncio.timeout(STARTUP_TIMEOUT_SECONDS):
            while not self._server.started:
                if self._task.done():
                    self._task.result()  # raises what went wrong
                    raise RuntimeError("web server stopped during start-up")
                await asyncio.sleep(0.01)  # uvicorn exposes no start-up event to await

    async def stop(self) -> None:
        """Stop accepting, finish in-flight requests (bounded), close the socket."""
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), SHUTDOWN_TIMEOUT_SECONDS)
            if not self._task.done():
                self._server.force_exit = True
                await self._task
        self.sock.close()
