"""The import contract (pyproject's [tool.importlinter]) holds, and fails on an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `make lint` installs import-linter in a venv of its own (pyproject's "lint" extra).
LINT_IMPORTS = next(
    (
        p
        for p in (ROOT / ".venv" / "lint" / "bin" / "lint-imports",
                  Path(sys.executable).with_name("lint-imports"))
        if p.exists()
    ),
    ROOT / ".venv" / "lint" / "bin" / "lint-imports",
)  # fmt: skip
TIMEOUT_SECONDS = 120


def _copy_tree(dest: Path) -> None:
    """The three packages' sources and the contract, without caches or data."""
    for package in ("bot", "jobs", "storage"):
        for source in (ROOT / package).rglob("*.py"):
            target = dest / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    shutil.copyfile(ROOT / "pyproject.toml", dest / "pyproject.toml")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}  # the copy, not the installed packages
    command = [str(LINT_IMPORTS), "--no-cache"]
    run = partial(subprocess.run, capture_output=True, text=True, check=False)
    return run(command, cwd=tree, env=env, timeout=TIMEOUT_SECONDS)


def test_the_house_keeps_its_layers(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    done = _lint(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" not in done.stdout.lower().replace("0 broken", "")


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    match = tmp_path / "jobs" / "delivery" / "match.py"
    match.write_text(match.read_text(encoding="utf-8") + "\nimport bot.settings\n", "utf-8")
    done = _lint(tmp_path)
    assert done.returncode != 0
    assert "jobs.delivery.match -> bot.settings" in done.stdout


def test_one_platform_may_not_import_another(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    sender = tmp_path / "bot" / "console" / "sender.py"
    bad = sender.read_text(encoding="utf-8") + "\nimport bot.telegram.format\n"
    sender.write_text(bad, encoding="utf-8")
    done = _lint(tmp_path)
    assert done.returncode != 0
    assert "bot.console.sender -> bot.telegram.format" in done.stdout
