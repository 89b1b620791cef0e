"""How `sources test` prints a dry run (jobs.ingest.dryrun): the listing, each tested article
page's outcome with the URL that failed, the first article read, or the selector help."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import t
from jobs.ingest.dryrun import DryRun
from jobs.ingest.items import ParsedArticle
from storage.datequery import DAY_TIME_FORMAT

TEST_ITEMS = 25  # listing items printed
TEST_BODY_CHARS = 3000  # body characters printed of the first article read
SELECTOR_KEYS = (
    "item", "link", "title", "date", "summary", "article_title", "article_date", "article_body",
)  # fmt: skip


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime(DAY_TIME_FORMAT) if moment else "-"


def format_dry_run(
    run: DryRun, *, tz: ZoneInfo, describe: Callable[[str], str], lang: str = "vi"
) -> list[str]:
    """The lines `sources test` prints."""
    lines = [t(lang, "dry_head", url=run.url, kind=run.kind, n=len(run.items))]
    if run.wrong_kind is not None:
        lines.append(
            t(lang, "dry_is_feed" if run.kind == "rss" else "dry_is_html", given=run.wrong_kind)
        )
    if run.feed_link:
        lines.append(t(lang, "dry_feed_link", url=run.feed_link))
    if run.verdict.order is not None:
        lines.append(t(lang, f"dry_order_{run.verdict.order}", reason=run.verdict.reason))
    if run.verdict.ambiguous:
        lines.append(t(lang, "dry_ambiguous", n=run.verdict.ambiguous))
    lines.append("")
    for item in run.items[:TEST_ITEMS]:
        lines.append(f"- {_when(item.published, tz):16}  {item.title}\n  {item.url}")
    if len(run.items) > TEST_ITEMS:
        lines.append(f"  … (+{len(run.items) - TEST_ITEMS})")
    if not run.items:
        return lines + _selector_help(run, lang)
    lines += ["", t(lang, "dry_articles", n=len(run.outcomes))]
    for outcome in run.outcomes:
        if outcome.article is None:
            reason = (outcome.error or "").split(":", 1)[0]
            failed = t(lang, "dry_failed")
            lines.append(f"  {failed} {outcome.url}\n       {describe(reason)} ({outcome.error})")
        else:
            a = outcome.article
            lines.append(
                f"  OK   {outcome.url}\n       {_when(a.published, tz)} | {a.title[:80]} | "
                + t(lang, "dry_chars", n=len(a.body))
            )
    first = next((o.article for o in run.outcomes if o.article is not None), None)
    if first is not None:
        lines += ["", t(lang, "dry_first"), *_article_lines(first, tz, lang)]
    return lines


def _selector_help(run: DryRun, lang: str) -> list[str]:
    lines = [t(lang, "dry_no_items"), "", t(lang, "dry_keys")]
    lines += [f"  {key:14} {t(lang, 'selector_' + key)}" for key in SELECTOR_KEYS]
    example = run.example
    if example is not None:
        lines += [
            "",
            t(lang, "dry_pattern", n=example.count, url=example.example_url),
            t(
                lang,
                "dry_try",
                command=f'portal-notifier sources test {run.url} --selector "link={example.css}"',
            ),
            t(lang, "dry_in_file"),
            "  [source.selectors]",
            f'  link = "{example.css}"',
        ]
    return lines


def _article_lines(article: ParsedArticle, tz: ZoneInfo, lang: str) -> list[str]:
    body = article.body
    if len(body) > TEST_BODY_CHARS:
        body = body[:TEST_BODY_CHARS] + t(lang, "cli_more_chars", n=len(body) - TEST_BODY_CHARS)
    lines = [f"title: {article.title}", f"date:  {_when(article.published, tz)}"]
    lines += [f"link:  {article.url}", "", body]
    lines += [f"attachment: {name} {link}" for name, link in article.attachments]
    return lines
