"""The composition root: builds every service once, runs the channels, closes all at exit.

    run(settings)  -> database, scheduler (polling), dispatcher (alerts), Telegram or console
    chat(settings) -> database and the console chat only

Wiring points for other parts are marked "WIRING" below.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TextIO

from sqlalchemy import text
from sqlalchemy.engine import Engine
from telegram.error import TelegramError

from bot.commands import Services
from bot.console import chat_loop
from bot.console_alerts import POLL_SECONDS as CONSOLE_ALERT_POLL_SECONDS
from bot.console_alerts import deliver_due
from bot.logs import redact
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from bot.watch import watch
from jobs import metrics
from jobs.delivery.dispatch import run_dispatcher
from jobs.delivery.enqueue import make_on_stored
from jobs.ingest.fetch import Fetcher
from jobs.ingest.sources import load_sources
from jobs.scheduler import build_scheduler
from storage.chats import find_chat
from storage.db import make_engine, session_scope, upgrade
from storage.types import utcnow

log = logging.getLogger(__name__)

NO_TOKEN_HELP = (
    "TELEGRAM_BOT_TOKEN chưa được đặt: đang chạy bot trong cửa sổ dòng lệnh.\n"
    "Để chạy trên Telegram: tạo bot với @BotFather, ghi TELEGRAM_BOT_TOKEN=<token> vào tệp "
    ".env (xem .env.example) rồi chạy lại `make run`.\n"
    "No TELEGRAM_BOT_TOKEN: the bot runs in this terminal. Put TELEGRAM_BOT_TOKEN=<token> "
    "(from @BotFather) in .env and run `make run` again."
)
DISPATCHER_STOP_SECONDS = 35.0  # the dispatcher drains in-flight sends for up to 30 s
WATCH_STOP_SECONDS = 5.0


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


def _prompt(stdin: TextIO) -> str:
    """A "> " prompt for a person at a terminal; none when input is piped."""
    return "> " if stdin.isatty() else ""


def open_database(settings: Settings) -> Engine:
    """The engine, with migrations applied (idempotent)."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def services_for(settings: Settings, engine: Engine, *, console: bool = False) -> Services:
    """The command logic's services; the console's one user is never rate limited.

    Broadcasts and notices go to the platforms this process can deliver to: Telegram when a
    token is set, the console when it runs.
    """
    limiter = RateLimiter(burst=1_000_000, per_second=1_000_000.0) if console else RateLimiter()
    platforms = ("telegram",) if settings.telegram_bot_token is not None else ()
    return Services(
        engine=engine,
        tz=settings.tz,
        limiter=limiter,
        admin_ids=frozenset(str(i) for i in settings.telegram_admin_ids),
        access_mode=settings.access_mode,
        platforms=(*platforms, "console") if console else platforms,
        send_rate=settings.telegram_global_rate,
    )


def chat(
    settings: Settings,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    *,
    user_id: str = "local",
) -> int:
    """`portal-notifier chat [--as ID]`: the bot's commands in the terminal, as user `user_id`;
    broadcasts and alerts for that user are printed after each answer."""
    engine = open_database(settings)
    stdin, out = stdin or sys.stdin, stdout or sys.stdout

    def inbox() -> None:
        with session_scope(engine) as session:
            found = find_chat(session, platform="console", external_id=user_id)
            pk = found.id if found is not None else None
        if pk is not None:
            deliver_due(engine, now=utcnow(), tz=settings.tz, out=out, chat_id=pk)

    try:
        services = services_for(settings, engine, console=True)
        return chat_loop(services, stdin, out, chat_id=user_id, prompt=_prompt(stdin), inbox=inbox)
    except KeyboardInterrupt:  # Ctrl-C at the prompt is a normal way to leave
        return 0
    finally:
        engine.dispose()


def run(settings: Settings, demo: bool = False) -> int:
    """`portal-notifier run`: the whole service until SIGINT/SIGTERM (or end of console input)."""
    try:
        if demo:  # the bundled demo portal on 127.0.0.1, its sources and ./data/demo/demo.db
            from jobs.demo.mode import serve_demo

            return asyncio.run(serve_demo(settings, serve))
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 0


@contextlib.asynccontextmanager
async def background_jobs(settings: Settings, engine: Engine) -> AsyncIterator[Services]:
    """The scheduler (polls sources) and the dispatcher (sends alerts), stopped on exit."""
    async with contextlib.AsyncExitStack() as stack:
        _start_scheduler(settings, engine, stack)
        stop = asyncio.Event()
        dispatcher = _start_dispatcher(settings, engine, stop)
        metrics.watch_queue(engine)
        console = settings.telegram_bot_token is None
        services = services_for(settings, engine, console=console)
        watcher = asyncio.create_task(
            watch(services, stop, alarm_failures=settings.source_alarm_failures), name="watch"
        )
        try:
            yield services  # the channel's too: its hooks (message edits) serve the watch
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(watcher, WATCH_STOP_SECONDS)
            if dispatcher is not None:
                try:
                    await asyncio.wait_for(dispatcher, DISPATCHER_STOP_SECONDS)
                except Exception as exc:  # shutting down: report, never hang or crash the exit
                    log.warning("dispatcher did not stop cleanly: %r", exc)


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


def _start_dispatcher(
    settings: Settings, engine: Engine, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """Sends queued alerts, broadcasts and digests; without a token there is nowhere to send."""
    if settings.telegram_bot_token is None:
        return None
    return asyncio.create_task(run_dispatcher(settings, engine, stop), name="dispatcher")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def serve(
    settings: Settings, stdin: TextIO | None = None, stop: asyncio.Event | None = None
) -> int:
    """Run everything until a signal or `stop` is set, or (console mode) the end of input."""
    engine = await asyncio.to_thread(open_database, settings)
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    try:
        async with background_jobs(settings, engine) as services:
            if settings.telegram_bot_token is not None:
                return await _run_telegram(settings, engine, stop, services)
            print(NO_TOKEN_HELP, flush=True)
            return await _run_console(settings, engine, stop, stdin or sys.stdin, services)
    finally:
        engine.dispose()


async def _run_telegram(
    settings: Settings, engine: Engine, stop: asyncio.Event, services: Services | None = None
) -> int:
    assert settings.telegram_bot_token is not None
    from bot.telegram.app import TelegramChannel
    from bot.telegram.handlers import BotDeps

    services = services or services_for(settings, engine)
    deps = BotDeps(services, frozenset(settings.telegram_admin_ids))
    try:
        channel = TelegramChannel(settings, deps, health=make_health(engine))
    except ValueError as exc:
        print(f"Invalid configuration: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the listen port is taken: the channel binds it when built
        return _cannot_start(settings, exc)
    try:
        await channel.start()
    except (TelegramError, OSError) as exc:  # bad token, unreachable API
        code = _cannot_start(settings, exc)
        await channel.stop()
        return code
    try:
        await stop.wait()
    finally:
        await channel.stop()
    return 0


def _cannot_start(settings: Settings, exc: BaseException) -> int:
    """Say why the bot could not start (never quoting the token); the exit code."""
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    why = redact(str(exc).replace(token, "<token>"))  # PTB quotes a rejected token
    print(f"Không khởi động được bot Telegram / cannot start the bot: {why}", file=sys.stderr)
    return 1


async def _run_console(
    settings: Settings,
    engine: Engine,
    stop: asyncio.Event,
    stdin: TextIO,
    services: Services | None = None,
) -> int:
    services = services or services_for(settings, engine, console=True)
    finished = _chat_in_thread(services, stdin)
    stopper = asyncio.create_task(stop.wait())
    alerts = asyncio.create_task(_console_alerts(settings, engine))
    waiters: list[asyncio.Future[Any]] = [finished, stopper]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    alerts.cancel()
    return finished.result() if finished.done() else 0


def _chat_in_thread(services: Services, stdin: TextIO) -> asyncio.Future[int]:
    """The console chat in a thread; its exit code (or its exception) as a future."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[int] = loop.create_future()

    def settle(result: int, error: BaseException | None = None) -> None:
        def apply() -> None:
            if finished.done():
                return
            if error is not None:
                finished.set_exception(error)
            else:
                finished.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop closed first: nobody waits
            loop.call_soon_threadsafe(apply)

    def read() -> None:
        try:
            settle(chat_loop(services, stdin, sys.stdout, prompt=_prompt(stdin)))
        except BaseException as exc:  # handed to the loop, which re-raises it
            settle(1, exc)

    # A daemon thread: a blocking read of stdin must not keep a stopping process alive.
    threading.Thread(target=read, name="console", daemon=True).start()
    return finished


async def _console_alerts(settings: Settings, engine: Engine) -> None:
    """Print alerts for console chats as they fall due (the console's own dispatcher)."""
    while True:
        try:
            await asyncio.to_thread(
                deliver_due, engine, now=utcnow(), tz=settings.tz, out=sys.stdout
            )
        except Exception as exc:  # a bad row must not end the console; the next round retries
            log.warning("console alerts: %r", exc)
        await asyncio.sleep(CONSOLE_ALERT_POLL_SECONDS)
