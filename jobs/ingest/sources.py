"""The sources file: which portal pages or feeds to poll, as validated plain values."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from storage import source_names

MAX_PAGES = 50  # pagination depth; deeper would hammer a portal on every poll
MIN_INTERVAL_SECONDS = 30
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)
_PROBE = LexborHTMLParser("<p></p>")


class SourcesFileError(ValueError):
    """The sources file is missing, not TOML, or a source in it is invalid (message says where)."""


class Selectors(BaseModel):
    """Optional CSS selectors overriding the default listing and article extraction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str | None = None
    link: str | None = None
    title: str | None = None
    date: str | None = None
    summary: str | None = None
    article_title: str | None = None
    article_date: str | None = None
    article_body: str | None = None

    @field_validator("*")
    @classmethod
    def _valid_css(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("empty CSS selector")
        try:
            _PROBE.css(value)
        except SelectolaxError as exc:
            raise ValueError(f"invalid CSS selector {value!r}") from exc
        return value


class SourceConfig(BaseModel):
    """One [[source]] entry of the sources file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    title: str | None = Field(default=None, max_length=200)  # display name shown to users
    kind: Literal["html", "rss"]
    urls: list[str] = Field(min_length=1)
    pages: int = Field(default=1, ge=1, le=MAX_PAGES)
    interval_seconds: int | None = Field(default=None, ge=MIN_INTERVAL_SECONDS)
    allow_private: bool = False
    fetch_articles: bool = True
    # "a/b/yyyy" dates: day first or month first; unset = settled from the source's dates.
    date_order: Literal["dmy", "mdy"] | None = None
    # The portal's "Xem tin theo ngày" page for one day, for backfill: {dd} {mm} {yyyy}.
    by_date_url: str | None = None
    selectors: Selectors = Selectors()
    # Host moves: {"new.host" = "old.host"} keys articles on new.host as on old.host, so a
    # portal's domain move re-stores and re-alerts nothing (scheme and `www.` never matter).
    aliases: dict[str, str] = Field(default_factory=dict)

    @field_validator("aliases")
    @classmethod
    def _hosts(cls, value: dict[str, str]) -> dict[str, str]:
        def host(name: str) -> str:
            name = name.strip().lower().rstrip(".")
            if not name or any(ch in name for ch in "/@ "):
                raise ValueError(f"not a host name: {name!r}")
            return name[4:] if name.startswith("www.") else name

        return {host(new): host(old) for new, old in value.items()}

    @property
    def display_name(self) -> str:
        """What users see: the title when the file gives one, else the name."""
        return self.title or self.name

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("empty name")
        return value

    @field_validator("by_date_url")
    @classmethod
    def _day_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "{dd}" not in value or "{mm}" not in value or "{yyyy}" not in value:
            raise ValueError("by_date_url needs {dd}, {mm} and {yyyy}")
        _HTTP_URL.validate_python(value.format(dd="01", mm="01", yyyy="2020"))
        return value.strip()

    @field_validator("urls", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            _HTTP_URL.validate_python(url)  # raises with pydantic's own clear message
        return [url.strip() for url in value]


_MESSAGES = {
    "missing": "thiếu (bắt buộc) / missing",
    "extra_forbidden": "trường không được hỗ trợ (gõ sai tên?) / unknown field",
}


def _describe(path: Path, index: int, raw: object, error: ValidationError) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    where = f"{path}: nguồn #{index}" + (f" '{name}'" if isinstance(name, str) else "")
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(entry)"
        message = _MESSAGES.get(item["type"], item["msg"])
        if item["type"] == "literal_error":
            expected = (item.get("ctx") or {}).get("expected", "")
            message = f"phải là {expected} / must be {expected}"
        lines.append(f"{where}, trường '{field}': {message}")
    return "\n".join(lines)


def parse_sources(data: dict[str, object], *, path: Path) -> list[SourceConfig]:
    """Validates the decoded TOML document; SourcesFileError names the file, source and field."""
    unknown = sorted(set(data) - {"source"})
    if unknown:
        raise SourcesFileError(f"{path}: khoá không hợp lệ {unknown} (dùng bảng [[source]])")
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list):
        raise SourcesFileError(f"{path}: 'source' phải là các bảng [[source]]")
    sources: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_sources, start=1):
        try:
            source = SourceConfig.model_validate(raw)
        except ValidationError as exc:
            raise SourcesFileError(_describe(path, index, raw, exc)) from None
        if source.name in seen:
            raise SourcesFileError(
                f"{path}: nguồn #{index} '{source.name}' trùng tên với nguồn #{seen[source.name]}"
                " / duplicate source name"
            )
        seen[source.name] = index
        sources.append(source)
    return sources


def remember_titles(sources: list[SourceConfig]) -> None:
    """Make these sources' display names the ones shown (storage.source_names)."""
    source_names.remember_titles((s.name, s.display_name) for s in sources)


def load_sources(path: Path) -> list[SourceConfig]:
    """Reads and validates a sources TOML file ([[source]] tables); duplicate names refused."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesFileError(f"{path}: không tìm thấy tệp nguồn / file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesFileError(f"{path}: không đọc được tệp nguồn: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourcesFileError(f"{path}: TOML không hợp lệ / invalid TOML: {exc}") from None
    sources = parse_sources(data, path=path)
    remember_titles(sources)
    return sources
