"""CLI verbs: `poll --once`, `sources list`, `sources test`, `backfill`, `queue`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import TextIO, TypeVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlmodel import Session

from bot.cli_dryrun import format_dry_run
from bot.i18n import describe_reason, t
from bot.settings import Settings
from jobs.ingest.backfill import BackfillBusy, HostGate, Progress, backfill_source
from jobs.ingest.dryrun import TEST_ARTICLES, DryRun, dry_run
from jobs.ingest.errors import SourceError
from jobs.ingest.fetch import Fetcher
from jobs.ingest.poll import OnStored, PollReport, poll_all
from jobs.ingest.sources import Selectors, SourceConfig, load_sources
from storage.articles import list_source_states
from storage.backfill import list_backfills
from storage.datequery import DAY_TIME_FORMAT
from storage.db import make_engine, session_scope, upgrade
from storage.deliveries import pending_by_platform
from storage.reach import undelivered_reasons
from storage.types import utcnow

T = TypeVar("T")
# The CLI speaks English, like its table headers and --help (issue 11: no mixing).
CLI_LANG = "en"


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime(DAY_TIME_FORMAT) if moment else "-"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _sources(settings: Settings) -> list[SourceConfig] | None:
    try:
        return load_sources(settings.sources_file)
    except (OSError, ValueError) as exc:
        print(
            t(CLI_LANG, "cli_sources_unreadable", path=settings.sources_file, error=exc),
            file=sys.stderr,
        )
        return None


def _fetcher(settings: Settings) -> Fetcher:
    return Fetcher(
        deadline=settings.http_deadline_seconds,
        max_bytes=settings.http_max_body_bytes,
        per_host=settings.http_per_host_concurrency,
        user_agent=settings.http_user_agent,
    )


def format_poll_table(reports: list[PollReport]) -> str:
    """The per-source table `poll --once` prints, then one line per failed article page."""
    rows = [
        [
            r.source,
            str(r.fetched),
            str(r.new),
            str(r.edited),
            str(r.unchanged_304),
            t(CLI_LANG, "cli_poll_skipped", n=r.skipped) if r.skipped else (r.failed or "-"),
        ]
        for r in reports
    ]
    text = _table(t(CLI_LANG, "cli_poll_header").split(","), rows)
    notes = [f"  {r.source}: {e}" for r in reports for e in r.article_errors]
    failed = t(CLI_LANG, "cli_poll_failed_pages")
    return text + (f"\n\n{failed}\n" + "\n".join(notes) if notes else "")


def poll_once(settings: Settings, *, on_stored: OnStored | None = None) -> int:
    """Poll every source once (back-off ignored); 0 when none failed, else 1.

    Like a scheduled poll, new articles queue alerts for matching chats (jobs.delivery.enqueue).
    """
    sources = _sources(settings)
    if sources is None:
        return 2
    if on_stored is None:
        from jobs.delivery.enqueue import make_on_stored

        on_stored = make_on_stored(tz=settings.tz)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)

        async def run() -> list[PollReport]:
            fetcher = _fetcher(settings)
            try:
                return await poll_all(
                    sources,
                    fetcher=fetcher,
                    engine=engine,
                    tz=settings.tz,
                    now=utcnow(),
                    on_stored=on_stored,
                    force=True,
                    default_interval=settings.poll_interval_seconds,
                )
            finally:
                await fetcher.aclose()

        reports = asyncio.run(run())
    finally:
        engine.dispose()
    print(format_poll_table(reports))
    return 1 if any(r.failed for r in reports) else 0


def _read(settings: Settings, query: Callable[[Session], T]) -> T:
    """One read of the (migrated) database, engine disposed after."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            return query(session)
    finally:
        engine.dispose()


def queue_list(settings: Settings, lang: str = CLI_LANG) -> int:
    """Print the pending deliveries of each platform (rows of a platform with no configured
    channel wait here until one is configured)."""
    pending = _read(settings, pending_by_platform)
    if not pending:
        print(t(lang, "cli_queue_empty"))
    else:
        header = t(lang, "cli_queue_header").split(",")
        print(_table(header, [[platform, str(n)] for platform, n in pending.items()]))
    undelivered = _read(settings, lambda session: undelivered_reasons(session))
    if undelivered:  # every delivery that did not go out, with its reason (Zalo's -230, ...)
        header = t(lang, "cli_undelivered_header").split(",")
        print()
        print(_table(header, [[p, r[:100], str(n)] for p, r, n in undelivered]))
    return 0


def sources_list(settings: Settings) -> int:
    """Print each configured source with its health record."""
    sources = _sources(settings)
    if sources is None:
        return 2
    states, backfills = _read(settings, lambda s: (list_source_states(s), list_backfills(s)))
    walks = {
        name: t(CLI_LANG, "cli_backfill_walk", pages=w.pages_done, articles=w.articles_stored)
        + (t(CLI_LANG, "cli_backfill_walk_done") if w.finished_at else "")
        for name, w in backfills.items()
    }
    tz = settings.tz
    rows = []
    for src in sources:
        st = states.get(src.name)
        if st is None:
            never = t(CLI_LANG, "cli_never_polled")
            rows.append([src.name, src.kind, never, "-", "0", "-", "", walks.get(src.name, "-")])
            continue
        notes = [t(CLI_LANG, "cli_layout_changed")] if st.layout_changed else []
        if st.ambiguous_dates:
            notes.append(t(CLI_LANG, "cli_ambiguous_dates", n=st.ambiguous_dates))
        error = (
            f"{st.last_error}: {describe_reason(st.last_error, CLI_LANG)} "
            f"({_when(st.last_error_at, tz)})"
            if st.last_error
            else "-"
        )
        rows.append(
            [
                src.name,
                src.kind,
                _when(st.last_success_at, tz),
                error,
                str(st.consecutive_failures),
                _when(st.next_attempt_at, tz),
                "; ".join(notes),
                walks.get(src.name, "-"),
            ]
        )
    print(_table(t(CLI_LANG, "cli_sources_header").split(","), rows))
    return 0


def sources_test(
    settings: Settings,
    url: str | None,
    kind: str | None,
    allow_private: bool,
    *,
    source_name: str | None = None,
    selectors: list[str] | None = None,
    articles: int = TEST_ARTICLES,
    lang: str = CLI_LANG,
) -> int:
    """Dry run of a URL or of a named source of SOURCES_FILE: the listing, then each tested
    article page's outcome (jobs.ingest.dryrun); touches no database. 0 when all read."""
    source = None
    if source_name is not None:
        sources = _sources(settings)
        if sources is None:
            return 2
        source = next((s for s in sources if s.name == source_name), None)
        if source is None:
            _no_source(settings, source_name, sources, lang)
            return 2
        url = url or source.urls[0]
        kind = kind or source.kind
    if url is None:
        print(t(lang, "cli_url_or_source"), file=sys.stderr)
        return 2
    try:
        chosen = _merge_selectors(source.selectors if source else Selectors(), selectors or [])
    except ValueError as exc:
        print(t(lang, "cli_bad_selector", error=exc), file=sys.stderr)
        return 2

    async def go() -> DryRun:
        fetcher = _fetcher(settings)
        try:
            return await dry_run(
                fetcher, url=url, tz=settings.tz, now=utcnow(), kind=kind, source=source,
                selectors=chosen, allow_private=allow_private, articles=articles,
            )  # fmt: skip
        finally:
            await fetcher.aclose()

    try:
        run = asyncio.run(go())
    except SourceError as exc:
        what = describe_reason(exc.reason, lang)
        print(
            t(lang, "cli_listing_failed", url=url, what=what, reason=exc.reason, error=exc),
            file=sys.stderr,
        )
        if exc.reason == "blocked_address" and not allow_private:
            print(t(lang, "cli_allow_private"), file=sys.stderr)
        return 1
    print(
        "\n".join(
            format_dry_run(
                run, tz=settings.tz, describe=lambda r: describe_reason(r, lang), lang=lang
            )
        )
    )
    return 0 if run.ok else 1


def _no_source(settings: Settings, name: str, sources: list[SourceConfig], lang: str) -> None:
    names = ", ".join(s.name for s in sources) or "-"
    path = settings.sources_file
    print(t(lang, "cli_no_source", name=name, path=path, names=names), file=sys.stderr)


def _merge_selectors(base: Selectors, pairs: list[str]) -> Selectors:
    """The source's selectors with `key=css` pairs from the command line on top."""
    values = base.model_dump()
    for pair in pairs:
        key, sep, css = pair.partition("=")
        if not sep or key.strip() not in values:
            raise ValueError(f"{pair!r}: key ∈ {', '.join(values)}")
        values[key.strip()] = css
    try:
        return Selectors.model_validate(values)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


def parse_day(text: str) -> date:
    """ "16/12/2011" or "2011-12-16" as a date; ValueError (its message for the user) otherwise."""
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()  # noqa: DTZ007 (a date only)
        except ValueError:
            continue
    raise ValueError(t("vi", "cli_bad_day", text=repr(text)))


def progress_bar(p: Progress, lang: str = CLI_LANG, width: int = 30) -> str:
    """ "dukcqt [#######-------] 12/50 trang · 230 bài mới · 130 yêu cầu" (no limit: a count)."""
    if p.pages_limit:
        filled = min(width, width * p.pages_done // max(1, p.pages_limit))
        pages = t(lang, "backfill_pages", done=p.pages_done, limit=p.pages_limit)
        bar = f"[{'#' * filled}{'-' * (width - filled)}] {pages}"
    else:
        bar = t(lang, "backfill_pages_open", done=p.pages_done)
    line = t(
        lang, "backfill_bar", source=p.source, bar=bar, articles=p.articles_stored,
        requests=p.requests,
    )  # fmt: skip
    if p.failures:
        line += t(lang, "backfill_failures", n=p.failures)
    return line + (t(lang, "backfill_finished") if p.finished else "")


def backfill(
    settings: Settings,
    name: str | None,
    *,
    pages: int | None,
    since: date | None,
    restart: bool = False,
    out: TextIO | None = None,
    lang: str = CLI_LANG,
) -> int:
    """Walk older listing pages of one source (or all) into the database, alerting no one;
    resumes where the last run stopped. 0 when every walk ended or reached its limit."""
    stream = out or sys.stderr
    sources = _sources(settings)
    if sources is None:
        return 2
    chosen = [s for s in sources if name is None or s.name == name]
    if not chosen:
        _no_source(settings, name or "", sources, lang)
        return 2
    engine = make_engine(settings.database_url)
    tty = stream.isatty()

    def show(p: Progress) -> None:
        line = progress_bar(p, lang)
        if tty:
            stream.write("\r" + line[:200].ljust(100))
        else:
            stream.write(f"{line} · {p.where}\n")
        for error in p.errors:
            stream.write(
                ("\n" if tty else "") + t(lang, "backfill_failed_page", error=error) + "\n"
            )
        stream.flush()

    async def go() -> int:
        fetcher = _fetcher(settings)
        gate = HostGate(settings.backfill_pause_seconds)
        failed = 0
        try:
            for source in chosen:
                try:
                    done = await backfill_source(
                        source, fetcher=fetcher, engine=engine, tz=settings.tz, clock=utcnow,
                        gate=gate, pages=pages, since=since, restart=restart, on_progress=show,
                    )  # fmt: skip
                except BackfillBusy:
                    failed += 1
                    stream.write(t(lang, "backfill_busy", source=source.name) + "\n")
                    continue
                except SourceError as exc:
                    failed += 1
                    what = describe_reason(exc.reason, lang)
                    stopped = t(lang, "backfill_stopped", source=source.name, what=what, error=exc)
                    stream.write(f"\n{stopped}\n")
                    continue
                stream.write(("\n" if tty else "") + progress_bar(done, lang) + "\n")
        finally:
            await fetcher.aclose()
        return 1 if failed else 0

    try:
        upgrade(engine)
        return asyncio.run(go())
    finally:
        engine.dispose()
