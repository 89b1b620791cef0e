"""Dispatcher wiring: `run_dispatcher(settings, engine, stop)` for the composition root, and
`python -m jobs.delivery.dispatch` as a process (SIGTERM/SIGINT stop it gracefully; SIGKILL loses
nothing: rows in flight are requeued on restart or when their lease expires).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.engine import Engine

from bot.settings import Settings
from bot.telegram.client import TelegramClient
from jobs.delivery.dispatcher import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_WINDOW,
    IDLE_POLL_SECONDS,
    Dispatcher,
    backoff,
    default_owner,
)
from jobs.delivery.pace import SharedPace

__all__ = ["DEFAULT_WINDOW", "Dispatcher", "backoff", "default_owner", "main", "make_dispatcher",
           "run_dispatcher"]  # fmt: skip

log = logging.getLogger(__name__)


def make_dispatcher(settings: Settings, engine: Engine, **kw: Any) -> Dispatcher:
    """A Dispatcher wired from settings (the Bot API URL, token, rate and retention)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    client = TelegramClient(
        api_url=str(settings.telegram_api_url),
        token=settings.telegram_bot_token.get_secret_value(),
    )
    kw.setdefault("retention_days", settings.delivery_retention_days)
    if engine.dialect.name == "postgresql":  # replicas share one budget (SQLite: one process)
        kw.setdefault("pace", SharedPace(engine, rate=settings.telegram_global_rate))
    return Dispatcher(
        engine=engine,
        client=client,
        tz=settings.tz,
        global_rate=settings.telegram_global_rate,
        **kw,
    )


async def run_dispatcher(settings: Settings, engine: Engine, stop: asyncio.Event) -> None:
    """Run the dispatcher until `stop` is set (the composition root's entry point)."""
    dispatcher = make_dispatcher(settings, engine)
    watcher = asyncio.create_task(_relay(stop, dispatcher))
    try:
        await dispatcher.run()
    finally:
        watcher.cancel()
        await dispatcher.client.aclose()


async def _relay(stop: asyncio.Event, dispatcher: Dispatcher) -> None:
    await stop.wait()
    dispatcher.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m jobs.delivery.dispatch`: run a dispatcher process until SIGTERM/SIGINT."""
    import argparse
    import signal

    from bot.logs import setup_logging
    from storage.db import make_engine, upgrade

    parser = argparse.ArgumentParser(prog="python -m jobs.delivery.dispatch")
    parser.add_argument("--owner", help="lease owner name (same name: resume its rows)")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    parser.add_argument("--lease-seconds", type=float, default=DEFAULT_LEASE_SECONDS)
    parser.add_argument("--idle-poll", type=float, default=IDLE_POLL_SECONDS)
    parser.add_argument(
        "--own-pace", action="store_true", help="pace this process alone (a baseline for tests)"
    )
    args = parser.parse_args(argv)
    settings = Settings()
    setup_logging(
        settings.log_level, settings.secrets, settings.log_format
    )  # every secret, as bot.cli does
    engine = make_engine(settings.database_url)
    upgrade(engine)

    async def _run() -> None:
        dispatcher = make_dispatcher(
            settings,
            engine,
            owner=args.owner,
            window=args.window,
            lease_seconds=args.lease_seconds,
            idle_poll=args.idle_poll,
            **({"pace": None} if args.own_pace else {}),
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, dispatcher.stop)
        log.info("dispatcher %s started", dispatcher.owner)
        try:
            await dispatcher.run()
        finally:
            await dispatcher.client.aclose()

    asyncio.run(_run())
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
