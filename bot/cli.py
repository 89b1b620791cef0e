"""portal-notifier: news from a provincial government portal, pushed to Telegram chats.

Settings come from the environment or a .env file (see .env.example).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from bot.i18n import DATABASE_UP_TO_DATE, INVALID_CONFIGURATION
from bot.logs import setup_logging
from bot.settings import Settings, unknown_env_lines

EPILOG = """examples:
  portal-notifier run                 the service (console chat when no bot token is set)
  portal-notifier run --demo          everything offline, against a bundled demo portal
  portal-notifier chat --as 123456    talk to the bot as Telegram user 123456
  portal-notifier poll                poll every source once and show what was found
  portal-notifier sources list        the health of each source
  portal-notifier sources test URL    what a new portal page would yield (nothing stored)
  portal-notifier backfill SOURCE     store a source's older articles (no alerts)
  portal-notifier queue               messages waiting to be sent, per platform
"""


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: cần số nguyên dương / a positive integer")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="portal-notifier",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    run = sub.add_parser("run", help="run the service: poll the portal, answer chats, send alerts")
    run.add_argument(
        "--demo",
        action="store_true",
        help="use a bundled demo portal and ./data/demo/demo.db (no network, no real data)",
    )
    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument(
        "--as",
        dest="as_user",
        metavar="ID",
        default="local",
        help="speak as this user id (admin only if it is in TELEGRAM_ADMIN_IDS or was added "
        "with /admin add); default: local",
    )
    chat.add_argument("--demo", action="store_true", help="use the demo database")
    poll = sub.add_parser("poll", help="poll every source once and show what was found")
    poll.add_argument("--once", action="store_true", help=argparse.SUPPRESS)  # the default
    sources = sub.add_parser("sources", help="check the portal sources").add_subparsers(
        dest="sources_cmd", metavar="ACTION", required=True
    )
    listing = sources.add_parser("list", help="each source: last success, last error, failures")
    listing.add_argument("--demo", action="store_true", help="the demo's sources and database")
    test = sources.add_parser("test", help="dry run: what a URL or a source would yield")
    test.add_argument("url", nargs="?", default=None, help="a listing page or an RSS/Atom feed")
    test.add_argument("--source", default=None, help="a source of SOURCES_FILE, by name")
    test.add_argument(
        "--kind", choices=["html", "rss"], default=None, help="default: guessed from the answer"
    )
    test.add_argument(
        "--selector", action="append", default=[], metavar="KEY=CSS", help="try a selector"
    )
    test.add_argument("--articles", type=int, default=5, help="article pages to fetch (0: none)")
    test.add_argument(
        "--allow-private", action="store_true", help="allow intranet (private) addresses"
    )
    back = sub.add_parser("backfill", help="store a source's older pages (no alerts)")
    back.add_argument("source", nargs="?", default=None, help="a source's name (default: all)")
    limit = back.add_mutually_exclusive_group()
    limit.add_argument("--pages", type=_positive, default=None, help="listing pages to walk")
    limit.add_argument("--since", default=None, help="walk back to this day (dd/mm/yyyy)")
    back.add_argument("--restart", action="store_true", help="forget progress, start over")
    sub.add_parser("queue", help="messages waiting to be sent, per platform")
    db = sub.add_parser("db", help="the database").add_subparsers(
        dest="db_cmd", metavar="ACTION", required=True
    )
    db.add_parser("upgrade", help="apply migrations (start-up applies them too)")
    return p


def _database_problem(settings: Settings, exc: Exception) -> int:
    """A database that cannot be opened is a configuration problem: say so, exit 2."""
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    why = f"cannot open DATABASE_URL {shown}: {first[0] if first else type(exc).__name__}"
    print(INVALID_CONFIGURATION.format(why=why), file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.cmd is None:
        parser.print_help()
        return 0
    if args.cmd == "run":
        from bot.memory import fewer_malloc_arenas

        fewer_malloc_arenas()  # before any thread starts
    try:
        settings = Settings()
    except ValidationError as exc:
        print(INVALID_CONFIGURATION.format(why=f"\n{exc}"), file=sys.stderr)
        return 2
    for warning in unknown_env_lines():
        print(f"Warning: {warning}", file=sys.stderr)
    setup_logging(settings.log_level, settings.secrets, settings.log_format)
    try:
        return _dispatch(args, settings)
    except (OperationalError, ArgumentError, ModuleNotFoundError) as exc:
        return _database_problem(settings, exc)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "demo", False) and args.cmd != "run":
        with tempfile.TemporaryDirectory(prefix="portal-notifier-demo-") as folder:
            from bot.demo_mode import demo_settings, write_demo_sources

            path = write_demo_sources(Path(folder))
            return _command(args, demo_settings(settings, sources_file=path))
    return _command(args, settings)


def _command(args: argparse.Namespace, settings: Settings) -> int:
    if args.cmd == "db":
        from storage.db import make_engine, upgrade

        upgrade(make_engine(settings.database_url))
        print(DATABASE_UP_TO_DATE)
        return 0
    if args.cmd == "poll":
        from bot import cli_verbs as commands

        return commands.poll_once(settings)
    if args.cmd == "backfill":
        from bot import cli_verbs

        try:
            since = cli_verbs.parse_day(args.since) if args.since else None
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        return cli_verbs.backfill(
            settings, args.source, pages=args.pages, since=since, restart=args.restart
        )
    if args.cmd == "queue":
        from bot import cli_verbs

        return cli_verbs.queue_list(settings)
    if args.cmd == "sources":
        from bot import cli_verbs as commands

        if args.sources_cmd == "list":
            return commands.sources_list(settings)
        return commands.sources_test(
            settings,
            args.url,
            args.kind,
            args.allow_private,
            source_name=args.source,
            selectors=args.selector,
            articles=args.articles,
        )
    from bot import service

    if args.cmd == "chat":
        return service.chat(settings, user_id=args.as_user)
    return service.run(settings, demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
