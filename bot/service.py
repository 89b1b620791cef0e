"""The composition root: builds every service once, runs the channels, closes all at exit.

    run(settings)  -> database, HTTP server (/healthz + channels' routes), scheduler
                      (polling), dispatcher (pushes through every channel's sender), channels
    chat(settings) -> database and the console chat only

The channels come from bot.channels (one line per platform).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TextIO

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.channel import Channel, ChannelContext, ChannelError
from bot.channels import CHANNELS, FALLBACK
from bot.commands import Services
from bot.console.channel import prompt_for
from bot.console.chat import chat_loop
from bot.flood import RateLimiter
from bot.i18n import CANNOT_START, alert_words
from bot.logs import redact
from bot.settings import Settings
from bot.web import WebServer, bind, make_app
from jobs.delivery.dispatcher import Dispatcher
from jobs.delivery.enqueue import make_on_stored
from jobs.delivery.outbound import Sender
from jobs.ingest.fetch import Fetcher
from jobs.ingest.sources import load_sources
from jobs.scheduler import build_scheduler
from storage.db import make_engine, upgrade

log = logging.getLogger(__name__)

DISPATCHER_STOP_SECONDS = 35.0  # the dispatcher drains in-flight sends for up to 30 s


def make_health(engine: Engine) -> Callable[[], Awaitable[bool]]:
    """/healthz: the database answers a trivial query."""

    def ping() -> bool:
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            return True
        except Exception as exc:  # any failure means "unhealthy"; say why in the log
            log.warning("health check: database unavailable: %r", exc)
            return False

    async def health() -> bool:
        return await asyncio.to_thread(ping)

    return health


def open_database(settings: Settings) -> Engine:
    """The engine, with migrations applied (idempotent)."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def services_for(settings: Settings, engine: Engine, *, flood_limited: bool = True) -> Services:
    """The command logic's services; the console's one user is never rate limited."""
    unlimited = RateLimiter(burst=1_000_000, per_second=1_000_000.0)
    limiter = RateLimiter() if flood_limited else unlimited
    return Services(engine=engine, tz=settings.tz, limiter=limiter)


def chat(settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """`portal-notifier chat`: the bot's commands in the terminal, on the real database."""
    engine = open_database(settings)
    stdin = stdin or sys.stdin
    try:
        services = services_for(settings, engine, flood_limited=False)
        return chat_loop(services, stdin, stdout or sys.stdout, prompt=prompt_for(stdin))
    except KeyboardInterrupt:  # Ctrl-C at the prompt is a normal way to leave
        return 0
    finally:
        engine.dispose()


def run(settings: Settings, demo: bool = False) -> int:
    """`portal-notifier run`: the whole service until SIGINT/SIGTERM (or end of console input)."""
    try:
        if demo:  # the bundled demo portal on 127.0.0.1, its sources and ./data/demo.db
            from bot.demo_mode import serve_demo

            return asyncio.run(serve_demo(settings, serve))
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 0


def make_dispatcher(
    settings: Settings, engine: Engine, senders: list[Sender], **kw: object
) -> Dispatcher:
    """A Dispatcher over `senders`, with the settings' zone and retention."""
    kw.setdefault("retention_days", settings.delivery_retention_days)
    return Dispatcher(
        engine=engine,
        senders=senders,
        tz=settings.tz,
        words=alert_words,
        **kw,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def background_jobs(
    settings: Settings, engine: Engine, senders: list[Sender]
) -> AsyncIterator[None]:
    """The scheduler (polls sources) and the dispatcher (sends pushes), stopped on exit."""
    async with contextlib.AsyncExitStack() as stack:
        _start_scheduler(settings, engine, stack)
        dispatcher = make_dispatcher(settings, engine, senders) if senders else None
        task = asyncio.create_task(dispatcher.run(), name="dispatcher") if dispatcher else None
        try:
            yield
        finally:
            if dispatcher is not None and task is not None:
                dispatcher.stop()
                try:
                    await asyncio.wait_for(task, DISPATCHER_STOP_SECONDS)
                except Exception as exc:  # shutting down: report, never hang or crash the exit
                    log.warning("dispatcher did not stop cleanly: %r", exc)
                await dispatcher.aclose()


def _start_scheduler(settings: Settings, engine: Engine, stack: contextlib.AsyncExitStack) -> None:
    """One poll job per source; the store hook queues alerts in the store's transaction."""
    try:
        sources = load_sources(settings.sources_file)
    except (OSError, ValueError) as exc:
        log.error("cannot read sources file %s: %s; no polling", settings.sources_file, exc)
        return
    fetcher = Fetcher(
        deadline=settings.http_deadline_seconds,
        max_bytes=settings.http_max_body_bytes,
        per_host=settings.http_per_host_concurrency,
        user_agent=settings.http_user_agent,
    )
    stack.push_async_callback(fetcher.aclose)
    on_stored = make_on_stored(tz=settings.tz)
    scheduler = build_scheduler(
        sources,
        fetcher=fetcher,
        engine=engine,
        tz=settings.tz,
        on_stored=on_stored,
        default_interval=settings.poll_interval_seconds,
    )
    scheduler.start()
    stack.callback(scheduler.shutdown, wait=False)  # runs before the fetcher closes
    log.info("scheduler started with %d sources", len(sources))


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def alarms_of(channels: list[Channel]) -> dict[str, str]:
    """Raised alarms of the channels that keep some (a channel may offer `alarms()`)."""
    raised: dict[str, str] = {}
    for channel in channels:
        alarms = getattr(channel, "alarms", None)
        if callable(alarms):
            raised.update(alarms())
    return raised


def build_channels(ctx: ChannelContext) -> list[Channel]:
    """Every configured channel of bot.channels, else the fallback (the console)."""
    channels = [c for register in CHANNELS if (c := register(ctx)) is not None]
    if not channels:
        fallback = FALLBACK(ctx)
        channels = [fallback] if fallback is not None else []
    return channels


def _say_cannot_start(settings: Settings, exc: BaseException) -> int:
    """Say why the service could not start (never quoting a secret); the exit code."""
    why = str(exc)
    for secret in settings.secrets:
        why = why.replace(secret, "<secret>")
    print(CANNOT_START.format(why=redact(why)), file=sys.stderr)
    return 1


async def serve(
    settings: Settings, stdin: TextIO | None = None, stop: asyncio.Event | None = None
) -> int:
    """Run everything until a signal or `stop` is set, or (console mode) the end of input."""
    engine = await asyncio.to_thread(open_database, settings)
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)

    def services(flood_limited: bool = True) -> Services:
        return services_for(settings, engine, flood_limited=flood_limited)

    ctx = ChannelContext(settings=settings, engine=engine, services=services, stop=stop)
    ctx.stdin = stdin
    try:
        return await _serve(ctx)
    finally:
        engine.dispose()


async def _serve(ctx: ChannelContext) -> int:
    settings, engine = ctx.settings, ctx.engine
    try:
        channels = build_channels(ctx)
    except ChannelError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    try:
        sock = bind(settings.listen_host, settings.listen_port)
    except OSError as exc:  # the listen port is taken
        return _say_cannot_start(settings, exc)
    routes = [route for channel in channels for route in channel.routes()]
    app = make_app(health=make_health(engine), routes=routes, alarms=lambda: alarms_of(channels))
    web = WebServer(app, sock)
    senders = [s for channel in channels if (s := channel.sender()) is not None]
    async with contextlib.AsyncExitStack() as stack:
        await web.start()
        stack.push_async_callback(web.stop)
        log.info("HTTP server on port %s (/healthz)", web.port)
        await stack.enter_async_context(background_jobs(settings, engine, senders))
        for channel in channels:
            stack.push_async_callback(channel.stop)
            try:
                await channel.start()
            except ChannelError as exc:
                print(str(exc), file=sys.stderr)
                return exc.exit_code
        await ctx.stop.wait()
    return ctx.exit_code
