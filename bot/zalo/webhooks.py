"""The two Zalo webhooks on the service's HTTP server; each answers at once and queues the work.

    POST /zalo-bot/webhook   Bot Platform: X-Bot-Api-Secret-Token (constant time); the body
                             is the update or {"ok": true, "result": update}
    POST /zalo/webhook       OA: X-ZEvent-Signature over the raw body, stale events refused

Zalo wants a 200 within 2 seconds or it retries and finally disables the webhook, so the
request only checks and queues; workers run the commands (Inbound.take, once per event).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.web import read_json_body
from bot.zalo.inbound import Incoming, from_bot_update, from_oa_event
from bot.zalo.signature import (
    BOT_SECRET_HEADER,
    SIGNATURE_HEADER,
    Verdict,
    bot_secret_ok,
    check_oa_event,
    unwrap_bot_update,
)

log = logging.getLogger(__name__)

BOT_WEBHOOK_PATH = "/zalo-bot/webhook"
OA_WEBHOOK_PATH = "/zalo/webhook"
MAX_BODY_BYTES = 256_000  # an event is a few kB
QUEUE_SIZE = 10_000
WORKERS = 4


class EventQueue:
    """Bounded lanes of Incoming events, one worker each; a chat always uses the same lane,
    so its events are handled in the order they came (/lang en, then /help)."""

    def __init__(
        self,
        take: Callable[[Incoming], Awaitable[None]],
        *,
        size: int = QUEUE_SIZE,
        lanes: int = WORKERS,
    ) -> None:
        self.take = take
        self.lanes: list[asyncio.Queue[Incoming]] = [
            asyncio.Queue(max(1, size // lanes)) for _ in range(lanes)
        ]
        self._workers: list[asyncio.Task[None]] = []

    @property
    def pending(self) -> int:
        """Events waiting in all lanes."""
        return sum(lane.qsize() for lane in self.lanes)

    def put(self, inc: Incoming) -> bool:
        """Queue an event; False when its lane is full (the webhook then answers 503)."""
        lane = self.lanes[zlib.crc32(inc.chat_id.encode()) % len(self.lanes)]
        try:
            lane.put_nowait(inc)
        except asyncio.QueueFull:
            return False
        return True

    def start(self) -> None:
        """Start one worker per lane on the running loop."""
        self._workers = [
            asyncio.create_task(self._work(lane), name="zalo-events") for lane in self.lanes
        ]

    async def stop(self) -> None:
        """Stop the workers (queued events not yet started stay unhandled)."""
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def join(self) -> None:
        """Wait until every queued event was handled (tests)."""
        for lane in self.lanes:
            await lane.join()

    async def _work(self, lane: asyncio.Queue[Incoming]) -> None:
        while True:
            inc = await lane.get()
            try:
                await self.take(inc)
            except Exception:  # Inbound.take logs its own failures; this is the last guard
                log.exception("zalo event worker failed")
            finally:
                lane.task_done()


async def _raw_body(request: Request) -> bytes | None:
    """The raw bytes (the OA signs them as sent), or None past MAX_BODY_BYTES."""
    body = bytearray()
    async for chunk in request.stream():  # stop reading at the cap, not after it
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def bot_webhook_route(*, secret: str, queue: EventQueue, platform: str) -> Route:
    """POST /zalo-bot/webhook."""

    async def webhook(request: Request) -> Response:
        if not bot_secret_ok(request.headers.get(BOT_SECRET_HEADER), secret):
            log.warning("zalo bot webhook refused: wrong or missing secret header")
            return Response(status_code=403)
        data = await read_json_body(request, MAX_BODY_BYTES)
        if isinstance(data, Response):
            return data  # 413 or 400
        update = unwrap_bot_update(data)
        if update is None:
            return Response(status_code=400)
        inc = from_bot_update(update, platform)
        if inc is not None and not queue.put(inc):
            return Response(status_code=503)
        return JSONResponse({"ok": True})

    return Route(BOT_WEBHOOK_PATH, webhook, methods=["POST"])


def oa_webhook_route(
    *,
    app_id: str,
    oa_secret_key: str,
    queue: EventQueue,
    platform: str,
    now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
) -> Route:
    """POST /zalo/webhook."""

    async def webhook(request: Request) -> Response:
        body = await _raw_body(request)
        if body is None:
            return Response(status_code=413)
        checked = check_oa_event(
            header=request.headers.get(SIGNATURE_HEADER),
            body=body,
            app_id=app_id,
            oa_secret_key=oa_secret_key,
            now_ms=now_ms(),
        )
        if checked.verdict is not Verdict.OK or checked.event is None:
            log.warning("zalo OA webhook refused: %s", checked.verdict.value)
            status = 400 if checked.verdict is Verdict.MALFORMED else 401
            return JSONResponse({"error": checked.verdict.value}, status_code=status)
        inc = from_oa_event(checked.event, platform)
        if inc is not None and not queue.put(inc):
            return Response(status_code=503)
        return JSONResponse({"ok": True})

    return Route(OA_WEBHOOK_PATH, webhook, methods=["POST"])
