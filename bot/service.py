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
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TextIO

from sqlalchemy.engine import Engine

from bot import memory
from bot.channel import Channel, ChannelContext, ChannelError
from bot.channels import CHANNELS, FALLBACK
from bot.commands import Services
from bot.console.channel import prompt_for
from bot.console.chat import chat_loop
from bot.console.inbox import deliver_to
from bot.flood import RateLimiter
from bot.i18n import CANNOT_START, alert_words
from bot.logs import redact
from bot.settings import Settings
from bot.watch import watch
from bot.web import WebServer, bind, make_app, metrics_route
from jobs import metrics
from jobs.delivery.dispatcher import Dispatcher
from jobs.delivery.enqueue import make_on_stored
from jobs.delivery.outbound import Sender
from jobs.delivery.pace import SharedPace
from jobs.ingest.fetch import Fetcher
from jobs.ingest.sources import load_sources
from jobs.liveness import Limits, Watched, report_async
from jobs.scheduler import build_scheduler
from jobs.supervisor import Supervisor
from storage.db import make_engine, upgrade
from storage.types import utcnow

log = logging.getLogger(__name__)

DISPATCHER_STOP_SECONDS = 35.0  # the dispatcher drains in-flight sends for up to 30 s
# A dispatcher loop silent this long is hung (a database call that never returns): /healthz
# says "stalled". Longer than SQLite's 30 s busy wait plus a slow claim.
DISPATCHER_STALL_SECONDS = 180.0


def make_health(
    engine: Engine,
    *,
    supervisor: Supervisor | None = None,
    sources: Sequence[Watched] = (),
    settings: Settings | None = None,
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """/healthz: the database answers (and takes SQLite's write lock), every supervised task
    runs, each source was read within its stale bound, the queue's oldest due row is young;
    the JSON names whatever fails (jobs.liveness)."""
    started_at = utcnow()
    limits = Limits()
    if settings is not None:
        limits = Limits(
            stale_intervals=settings.health_stale_intervals,
            queue_max_age_seconds=settings.health_queue_max_age_seconds,
        )

    async def health() -> dict[str, Any]:
        return await report_async(
            engine,
            now=utcnow(),
            started_at=started_at,
            supervisor=supervisor,
            sources=sources,
            limits=limits,
        )

    return health


def open_database(settings: Settings) -> Engine:
    """The engine, with migrations applied (idempotent)."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def services_for(
    settings: Settings,
    engine: Engine,
    *,
    flood_limited: bool = True,
    platforms: tuple[str, ...] | None = None,
) -> Services:
    """The command logic's services; the console's one user is never rate limited.

    Broadcasts and notices go to `platforms`, those this process delivers to (default:
    Telegram when a token is set, else the console).
    """
    unlimited = RateLimiter(burst=1_000_000, per_second=1_000_000.0)
    limiter = RateLimiter() if flood_limited else unlimited
    with contextlib.suppress(OSError, ValueError):  # the sources' display names, for /sources
        load_sources(settings.sources_file)  # a broken file is reported where polling starts
    if platforms is None:
        platforms = ("telegram",) if settings.telegram_bot_token is not None else ("console",)
    return Services(
        engine=engine,
        tz=settings.tz,
        limiter=limiter,
        admin_ids=frozenset(str(i) for i in settings.telegram_admin_ids),
        access_mode=settings.access_mode,
        platforms=platforms,
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
    telegram = ("telegram",) if settings.telegram_bot_token is not None else ()

    def inbox() -> None:
        deliver_to(engine, external_id=user_id, tz=settings.tz, out=out, now=utcnow())

    try:
        services = services_for(
            settings, engine, flood_limited=False, platforms=(*telegram, "console")
        )
        return chat_loop(
            services, stdin, out, chat_id=user_id, prompt=prompt_for(stdin), inbox=inbox
        )
    except KeyboardInterrupt:  # Ctrl-C at the prompt is a normal way to leave
        return 0
    finally:
        engine.dispose()


def run(settings: Settings, demo: bool = False) -> int:
    """`portal-notifier run`: the whole service until SIGINT/SIGTERM (or end of console input)."""
    try:
        if demo:  # the bundled demo portal on 127.0.0.1, its sources and ./data/demo/demo.db
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
    if engine.dialect.name == "postgresql":  # replicas share each platform's budget
        paces = {
            s.platform: SharedPace(engine, platform=s.platform, rate=s.limits.global_rate)
            for s in senders
            if s.platform != "console"  # one terminal: nothing to share
        }
        kw.setdefault("paces", paces)
    return Dispatcher(
        engine=engine,
        senders=senders,
        tz=settings.tz,
        words=alert_words,
        **kw,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def background_jobs(
    settings: Settings,
    engine: Engine,
    senders: list[Sender],
    supervisor: Supervisor | None = None,
    services: Services | None = None,
) -> AsyncIterator[list[Watched]]:
    """The scheduler (polls sources), the dispatcher (sends pushes) and the admins' watch
    (broadcast progress and reports, source alarms), under the supervisor: a failure is
    logged at once and retried with back-off; stopped on exit. Yields the sources polled,
    for /healthz."""
    supervisor = supervisor or Supervisor()
    async with contextlib.AsyncExitStack() as stack:
        watched = _start_scheduler(settings, engine, stack, supervisor)
        dispatcher = make_dispatcher(settings, engine, senders) if senders else None
        if dispatcher is not None:
            dispatcher.heartbeat = lambda: supervisor.beat("dispatcher")
            dispatcher.on_alarm = lambda platform, why: supervisor.alarm(f"channel:{platform}", why)
            supervisor.spawn("dispatcher", dispatcher.run, stall_after=DISPATCHER_STALL_SECONDS)
        metrics.watch_queue(engine)
        stop_watch = asyncio.Event()
        watched_services = services or services_for(settings, engine)
        supervisor.spawn(
            "watch",
            lambda: watch(
                watched_services, stop_watch, alarm_failures=settings.source_alarm_failures
            ),
        )
        try:
            yield watched
        finally:
            stop_watch.set()
            supervisor.stopping.set()  # first: the dispatcher run that ends next is no failure
            if dispatcher is not None:
                dispatcher.stop()
            try:
                await supervisor.stop(grace=DISPATCHER_STOP_SECONDS)
            except Exception as exc:  # shutting down: report, never hang or crash the exit
                log.warning("background tasks did not stop cleanly: %r", exc)
            if dispatcher is not None:
                await dispatcher.aclose()


def _start_scheduler(
    settings: Settings,
    engine: Engine,
    stack: contextlib.AsyncExitStack,
    supervisor: Supervisor | None = None,
) -> list[Watched]:
    """One poll job per source; the store hook queues alerts in the store's transaction."""
    try:
        sources = load_sources(settings.sources_file)
    except (OSError, ValueError) as exc:
        log.error("cannot read sources file %s: %s; no polling", settings.sources_file, exc)
        return []
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
        supervisor=supervisor,
    )
    scheduler.start()
    stack.callback(scheduler.shutdown, wait=False)  # runs before the fetcher closes
    log.info("scheduler started with %d sources", len(sources))
    interval = settings.poll_interval_seconds
    return [Watched(s.name, s.interval_seconds or interval) for s in sources]


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


def _editor(channels: list[Channel]) -> Callable[[str, str, str, str], None]:
    """Services.edit_message over the channels that can edit a sent message (Telegram)."""
    editors = {c.platform: e for c in channels if (e := getattr(c, "edit_message", None))}

    def edit(platform: str, chat_id: str, message_id: str, text: str) -> None:
        found = editors.get(platform)
        if found is not None:
            found(platform, chat_id, message_id, text)

    return edit


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
    memory.bounded_workers()
    engine = await asyncio.to_thread(open_database, settings)
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    trim = asyncio.create_task(memory.return_freed_memory(), name="malloc-trim")

    def services(flood_limited: bool = True) -> Services:
        return services_for(settings, engine, flood_limited=flood_limited)

    ctx = ChannelContext(settings=settings, engine=engine, services=services, stop=stop)
    ctx.stdin = stdin
    try:
        return await _serve(ctx)
    finally:
        trim.cancel()
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
    routes.append(metrics_route())
    supervisor = Supervisor()
    watched: list[Watched] = []  # filled once the scheduler has read the sources file
    health = make_health(engine, supervisor=supervisor, sources=watched, settings=settings)
    app = make_app(health=health, routes=routes, alarms=lambda: alarms_of(channels))
    web = WebServer(app, sock)
    senders = [s for channel in channels if (s := channel.sender()) is not None]
    watch_services = ctx.services(True)
    watch_services.edit_message = _editor(channels)
    async with contextlib.AsyncExitStack() as stack:
        await web.start()
        stack.push_async_callback(web.stop)
        log.info("HTTP server on port %s (/healthz, /metrics)", web.port)
        watched += await stack.enter_async_context(
            background_jobs(settings, engine, senders, supervisor, watch_services)
        )
        for channel in channels:
            stack.push_async_callback(channel.stop)
            try:
                await channel.start()
            except ChannelError as exc:
                print(str(exc), file=sys.stderr)
                return exc.exit_code
            # The channel's own pollers, supervised; cancelled before the channel stops.
            for name, factory in getattr(channel, "supervised", dict)().items():
                supervisor.spawn(name, factory)
                stack.push_async_callback(supervisor.cancel, name)
        memory.freeze_start_up()
        await ctx.stop.wait()
    return ctx.exit_code
