"""Deployment files agree with the code (no container runtime runs here: see README)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {name.upper() for name in Settings.model_fields}


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_compose_sets_only_real_settings_and_checks_healthz() -> None:
    compose = _read("compose.yaml")
    service = compose.split("  notifier:", 1)[1]
    env_block = service.split("environment:", 1)[1].split("ports:", 1)[0]
    names = set(re.findall(r"^\s+([A-Z_]+):", env_block, re.MULTILINE))
    assert names and names <= SETTINGS, names - SETTINGS
    assert "http://127.0.0.1:8080/healthz" in service and "pg_isready" in compose
    assert "condition: service_healthy" in service


def test_dockerfile_and_unit_run_the_console_script() -> None:
    scripts = tomllib.loads(_read("pyproject.toml"))["project"]["scripts"]
    assert "portal-notifier" in scripts
    docker = _read("Dockerfile")
    assert 'ENTRYPOINT ["portal-notifier"]' in docker and "/healthz" in docker
    assert f"LISTEN_PORT={Settings.model_fields['listen_port'].default}" in docker
    unit = _read("deploy/portal-notifier.service")
    assert "ExecStart=/opt/portal-notifier/.venv/bin/portal-notifier run" in unit
    assert set(re.findall(r"Environment=([A-Z_]+)=", unit)) <= SETTINGS
