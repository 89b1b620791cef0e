"""The service's one HTTP server runs in every mode: /healthz (and /metrics) in console and
demo mode."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.demo_mode import serve_demo
from bot.service import serve
from bot.settings import Settings
from bot.web import bind

READY_SECONDS = 20.0
STOP_SECONDS = 40.0


def _free_port() -> int:
    sock = bind("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    sock.close()  # serve() binds LISTEN_PORT itself; this only picked a free port
    return port


async def _healthz(port: int) -> httpx.Response:
    """GET /healthz once the server accepts connections (it starts with the service)."""
    async with httpx.AsyncClient(timeout=2.0) as client, asyncio.timeout(READY_SECONDS):
        while True:
            try:
                return await client.get(f"http://127.0.0.1:{port}/healthz")
            except httpx.ConnectError:
                await asyncio.sleep(0.05)  # uvicorn offers no readiness event to a client


def _settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'svc.db'}",
        sources_file=tmp_path / "none.toml",  # no polling
        listen_port=port,
    )


async def test_healthz_answers_in_console_mode(tmp_path: Path) -> None:
    port = _free_port()
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, encoding="utf-8") as stdin:
        service = asyncio.create_task(serve(_settings(tmp_path, port), stdin=stdin))
        try:
            health = await _healthz(port)
            assert health.status_code == 200 and health.json()["status"] == "ok"
            async with httpx.AsyncClient(timeout=5.0) as client:
                page = await client.get(f"http://127.0.0.1:{port}/metrics")
            assert page.status_code == 200  # /metrics on the same server, in every mode
            names = {f.name for f in text_string_to_metric_families(page.text)}
            assert {"portal_polls", "portal_command_seconds", "portal_send_seconds"} <= names
        finally:
            os.close(write_end)  # end of console input ends the service
            assert await asyncio.wait_for(service, STOP_SECONDS) == 0


async def test_healthz_answers_in_demo_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo's database is ./data/demo/demo.db: not the clone's
    port = _free_port()
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, encoding="utf-8") as stdin:

        async def console_service(settings: Settings) -> int:
            return await serve(settings, stdin=stdin)

        demo = serve_demo(_settings(tmp_path, port), console_service, add_every_seconds=None)
        service = asyncio.create_task(demo)
        try:
            health = await _healthz(port)
            assert health.status_code == 200 and health.json()["status"] == "ok"
        finally:
            os.close(write_end)
            assert await asyncio.wait_for(service, STOP_SECONDS) == 0
