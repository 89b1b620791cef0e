"""The running service tells the truth on /healthz: a locked database, a refused bot token and
a stale source each answer 503 with a JSON body naming the part; all recover without a restart."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from pydantic import HttpUrl, SecretStr

from bot.service import serve
from bot.settings import Settings
from bot.web import bind
from storage.db import make_engine, upgrade
from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import publish, seed_chats

STOP_SECONDS = 40.0
WAIT_SECONDS = 30.0


def _port() -> int:
    sock = bind("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    sock.close()  # serve() binds LISTEN_PORT itself; this only picked a free port
    return port


async def _until(port: int, check: Any) -> dict[str, Any]:
    """GET /healthz until check(status code, body) holds; the last body."""
    async with httpx.AsyncClient(timeout=10.0) as client, asyncio.timeout(WAIT_SECONDS):
        while True:
            try:
                answer = await client.get(f"http://127.0.0.1:{port}/healthz")
            except httpx.ConnectError:
                answer = None
            if answer is not None and check(answer.status_code, answer.json()):
                return dict(answer.json())
            await asyncio.sleep(0.1)  # /healthz is polled as a load balancer would


def _parts(body: dict[str, Any]) -> list[str]:
    return [f["part"] for f in body["failing"]]


async def test_refused_token_and_locked_database_are_named(tmp_path: Path) -> None:
    db = tmp_path / "svc.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    seed_chats(engine, 3)
    port = _port()
    with FakeTelegram() as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=f"sqlite:///{db}",
            sources_file=tmp_path / "none.toml",
            telegram_bot_token=SecretStr(fake.token),
            telegram_api_url=HttpUrl(fake.url),
            listen_port=port,
        )
        stop = asyncio.Event()
        service = asyncio.create_task(serve(settings, stop=stop))
        try:
            ok = await _until(
                port, lambda code, body: "telegram:updates" in {t["task"] for t in body["tasks"]}
            )
            assert ok["status"] == "ok" and {t["task"] for t in ok["tasks"]} == {
                "dispatcher",
                "telegram:updates",
                "watch",
            }
            holder = sqlite3.connect(db, isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
            try:
                down = await _until(port, lambda code, body: code == 503)
                assert "database" in _parts(down)
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            await _until(port, lambda code, body: code == 200)  # no restart needed
            fake.fail_next(100, status=401)  # the token is revoked
            await asyncio.to_thread(publish, engine, "Thông báo", now=utcnow())
            refused = await _until(port, lambda code, body: "task:channel:telegram" in _parts(body))
            [alarm] = [f for f in refused["failing"] if f["part"] == "task:channel:telegram"]
            assert alarm["state"] == "failed" and alarm["error"]
            await asyncio.sleep(1.0)  # sends stay stopped: no retry loop against a bad token
            assert len([c for c in fake.calls if c == ("sendMessage", 401)]) <= 3
        finally:
            stop.set()
            assert await asyncio.wait_for(service, STOP_SECONDS) == 0
    engine.dispose()
