"""`portal-notifier run --demo`: the whole service pointed at the bundled demo portal, offline.

The composition root calls `serve_demo(settings, serve)`: the demo portal starts on
127.0.0.1, its sources are written to a temporary sources file, and `serve` runs with
settings pointing at that file and (unless DATABASE_URL is set) at ./data/demo.db.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import make_url

from bot.settings import Settings
from jobs.demo.server import ADD_EVERY_SECONDS, DemoPortal, start_demo_portal
from jobs.demo.site import build_site
from jobs.ingest.sources import SourceConfig

__all__ = ["DEMO_DATABASE_URL", "banner", "demo_settings", "serve_demo", "sources_toml"]

DEMO_DATABASE_URL = "sqlite:///./data/demo.db"
SOURCES_FILE_NAME = "demo-sources.toml"


def sources_toml(sources: list[SourceConfig]) -> str:
    """The sources as a sources file ([[source]] tables) for jobs.ingest.sources.load_sources."""
    out: list[str] = []
    for source in sources:
        values = source.model_dump(mode="json", exclude_defaults=True)
        tables = {k: v for k, v in values.items() if isinstance(v, dict)}
        out.append("[[source]]")
        out += [f"{k} = {_toml(v)}" for k, v in values.items() if k not in tables]
        for name, table in tables.items():
            out.append(f"[source.{name}]")
            out += [f"{k} = {_toml(v)}" for k, v in table.items() if v is not None]
        out.append("")
    return "\n".join(out)


def _toml(value: Any) -> str:
    # JSON strings (\uXXXX escapes), numbers, booleans and arrays are valid TOML values too.
    return json.dumps(value)


def demo_settings(settings: Settings, *, sources_file: Path) -> Settings:
    """Settings for demo mode: the demo sources file; ./data/demo.db unless DATABASE_URL set."""
    update: dict[str, Any] = {"sources_file": sources_file}
    if "database_url" not in settings.model_fields_set:  # neither environment nor .env set it
        update["database_url"] = DEMO_DATABASE_URL
    return settings.model_copy(update=update)


def _shown_url(url: str) -> str:
    """The database URL without its password (the banner is printed to a terminal or log)."""
    return make_url(url).render_as_string(hide_password=True)


def banner(portal: DemoPortal, settings: Settings, every: float | None) -> str:
    """What demo mode prints at start: where the portal is and what to try."""
    new = (
        f"Cổng demo đăng một bài mới mỗi {every:g} giây / a new article every {every:g} s."
        if every
        else "Cổng demo không tự đăng bài mới / no new articles will be published."
    )
    return "\n".join(
        [
            f"Chế độ demo / demo mode: cổng thử nghiệm tại {portal.base_url}",
            f"Cơ sở dữ liệu / database: {_shown_url(settings.database_url)}",
            new,
            "Thử / try: /latest, /search quy che dan chu, /date 16/12/2011, "
            "/subscribe cải cách hành chính",
        ]
    )


async def serve_demo(
    settings: Settings,
    serve: Callable[[Settings], Awaitable[int]],
    *,
    add_every_seconds: float | None = ADD_EVERY_SECONDS,
    out: TextIO | None = None,
) -> int:
    """Run `serve` against the demo portal; the portal stops when `serve` returns."""
    site = build_site()
    site.rng = random.Random()  # new articles differ from those of earlier runs in demo.db
    portal = await start_demo_portal(site=site, add_every_seconds=add_every_seconds)
    try:
        with tempfile.TemporaryDirectory(prefix="portal-notifier-demo-") as folder:
            path = Path(folder) / SOURCES_FILE_NAME
            path.write_text(sources_toml(portal.sources), encoding="utf-8")
            demo = demo_settings(settings, sources_file=path)
            print(banner(portal, demo, add_every_seconds), file=out or sys.stdout, flush=True)
            return await serve(demo)
    finally:
        await portal.aclose()
