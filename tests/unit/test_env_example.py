"""`.env.example` lists every setting, in the order the settings class declares them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def _example_entries() -> list[tuple[str, str, str]]:
    """(name, value, comment above it) for each assignment line, commented-out ones included."""
    entries, comment = [], ""
    for raw in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("# ") and "=" not in line.split()[1]:
            comment = line[2:]
        elif "=" in line:
            name, _, value = line.lstrip("# ").partition("=")
            entries.append((name, value, comment))
            comment = ""
    return entries


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where no developer's .env can leak into the defaults."""
    monkeypatch.chdir(tmp_path)


def test_every_setting_in_declaration_order() -> None:
    names = [name for name, _, _ in _example_entries()]
    assert names == [field.upper() for field in Settings.model_fields]


def test_each_setting_has_an_explanation() -> None:
    assert all(comment for _, _, comment in _example_entries())


def test_example_values_are_the_defaults() -> None:
    values: dict[str, Any] = {n.lower(): v for n, v, _ in _example_entries() if v}
    values["sources_file"] = EXAMPLE.parent / values["sources_file"]  # relative to the repo
    shown, defaults = Settings(**values), Settings()
    assert values.keys() <= Settings.model_fields.keys()
    for name in values:
        assert getattr(shown, name) == getattr(defaults, name), name
