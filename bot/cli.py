"""The `portal-notifier` command: one sub-command per verb, each a few lines."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from bot.i18n import DATABASE_UP_TO_DATE, INVALID_CONFIGURATION
from bot.logs import setup_logging
from bot.settings import Settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="portal-notifier", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the service (scheduler, bot or console chat)")
    run.add_argument("--demo", action="store_true", help="serve a bundled demo portal offline")
    sub.add_parser("chat", help="talk to the bot in this terminal")
    poll = sub.add_parser("poll", help="poll the sources")
    poll.add_argument("--once", action="store_true", required=True, help="poll once and exit")
    sources = sub.add_parser("sources", help="inspect sources").add_subparsers(
        dest="sources_cmd", required=True
    )
    sources.add_parser("list", help="each source with its health")
    test = sources.add_parser("test", help="dry run: what a URL would yield")
    test.add_argument("url")
    test.add_argument("--kind", choices=["html", "rss"], default=None)
    test.add_argument("--allow-private", action="store_true", help="allow intranet addresses")
    sub.add_parser("queue", help="pending deliveries per platform")
    db = sub.add_parser("db", help="database").add_subparsers(dest="db_cmd", required=True)
    db.add_parser("upgrade", help="apply migrations")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(INVALID_CONFIGURATION.format(why=f"\n{exc}"), file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.secrets)
    if args.cmd == "db":
        from storage.db import make_engine, upgrade

        upgrade(make_engine(settings.database_url))
        print(DATABASE_UP_TO_DATE)
        return 0
    if args.cmd == "poll":
        from bot import cli_verbs as commands

        return commands.poll_once(settings)
    if args.cmd == "queue":
        from bot import cli_verbs

        return cli_verbs.queue_list(settings)
    if args.cmd == "sources":
        from bot import cli_verbs as commands

        if args.sources_cmd == "list":
            return commands.sources_list(settings)
        return commands.sources_test(settings, args.url, args.kind, args.allow_private)
    from bot import service

    if args.cmd == "chat":
        return service.chat(settings)
    return service.run(settings, demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
