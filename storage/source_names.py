"""Display names of the configured sources (the sources file's `title`), for every layer.

The sources file is read by jobs.ingest.sources, which records the names here; alerts
(jobs.delivery), /latest and /sources (bot) show them. Kept in the bottom layer so ingestion
and delivery, which must not import each other, both reach it. An unknown name shows as itself.
"""

from __future__ import annotations

from collections.abc import Iterable

_TITLES: dict[str, str] = {}


def display_name(name: str) -> str:
    """The display name the sources file gives `name`, else the name itself."""
    return _TITLES.get(name, name)


def remember_titles(pairs: Iterable[tuple[str, str]]) -> None:
    """Make these (name, display name) pairs the ones shown, replacing any earlier ones."""
    _TITLES.clear()
    _TITLES.update(pairs)


def known_sources() -> dict[str, str]:
    """name -> display name of every source loaded, in file order."""
    return dict(_TITLES)
