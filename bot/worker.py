"""`python -m bot.worker`: a dispatcher process of its own (SIGTERM/SIGINT stop it gracefully;
SIGKILL loses nothing: rows in flight are requeued on restart or when their lease expires).

It sends through the senders of every configured channel of bot.channels (no fallback: a
worker has no terminal).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from bot.channel import ChannelContext
from bot.channels import CHANNELS
from bot.logs import setup_logging
from bot.service import make_dispatcher, services_for
from bot.settings import Settings
from jobs.delivery.dispatcher import DEFAULT_LEASE_SECONDS, DEFAULT_WINDOW, IDLE_POLL_SECONDS
from storage.db import make_engine, upgrade

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Run a dispatcher process until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m bot.worker")
    parser.add_argument("--owner", help="lease owner name (same name: resume its rows)")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    parser.add_argument("--lease-seconds", type=float, default=DEFAULT_LEASE_SECONDS)
    parser.add_argument("--idle-poll", type=float, default=IDLE_POLL_SECONDS)
    args = parser.parse_args(argv)
    settings = Settings()
    setup_logging(settings.log_level, settings.secrets)  # every secret, as bot.cli does
    engine = make_engine(settings.database_url)
    upgrade(engine)

    async def _run() -> int:
        ctx = ChannelContext(
            settings=settings,
            engine=engine,
            services=lambda limited: services_for(settings, engine, flood_limited=limited),
            stop=asyncio.Event(),
        )
        channels = [c for register in CHANNELS if (c := register(ctx)) is not None]
        senders = [s for c in channels if (s := c.sender()) is not None]
        if not senders:
            log.error("no channel is configured: nothing to send with")
            return 2
        dispatcher = make_dispatcher(
            settings,
            engine,
            senders,
            owner=args.owner,
            window=args.window,
            lease_seconds=args.lease_seconds,
            idle_poll=args.idle_poll,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, dispatcher.stop)
        log.info("dispatcher %s started for %s", dispatcher.owner, ", ".join(dispatcher.platforms))
        try:
            await dispatcher.run()
        finally:
            await dispatcher.aclose()
            for channel in channels:
                await channel.stop()  # releases what building it took (HTTP clients)
        return 0

    code = asyncio.run(_run())
    engine.dispose()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
