"""A TCP proxy on 127.0.0.1 in a background thread, for database outages in chaos tests.

`pause()` cuts every open connection and refuses new ones (a database whose listener is
down); `resume()` accepts again. Bytes are relayed untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

DEFAULT_WAIT = 10.0


class TcpProxy:
    """Relays 127.0.0.1:<port> to target_host:target_port until paused."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._paused = False
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(DEFAULT_WAIT)
        self._loop.close()

    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(DEFAULT_WAIT)  # type: ignore[arg-type]

    def pause(self) -> None:
        """Cut every connection and refuse new ones."""
        self._call(self._pause())

    def resume(self) -> None:
        """Accept connections again."""
        self._paused = False

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        await self._pause()
        if self._server is not None:
            self._server.close()

    async def _pause(self) -> None:
        self._paused = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)  # from the first moment, so a pause always reaches it
        upstream: asyncio.StreamWriter | None = None
        try:
            if self._paused:
                return
            try:
                up_reader, upstream = await asyncio.open_connection(*self.target)
            except OSError:
                return
            self._writers.add(upstream)
            if self._paused:  # paused while connecting upstream
                return
            await asyncio.wait(
                [
                    asyncio.ensure_future(self._pipe(reader, upstream)),
                    asyncio.ensure_future(self._pipe(up_reader, writer)),
                ],
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:  # one side ended: both go, as a real cut would take them
            for side in (writer, upstream):
                if side is not None:
                    side.transport.abort()
                    self._writers.discard(side)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
