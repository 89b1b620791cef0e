"""Shared fixtures: a fresh real database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from storage.db import make_engine, upgrade

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_pg_problem: list[str] = []


def _pg_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per run)."""
    if _pg_problem:
        return _pg_problem[0] or None
    engine = make_engine(_pg_admin_url(), pool_pre_ping=False)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        _pg_problem.append("")
    except Exception as exc:  # any failure means "not reachable" for the skip message
        _pg_problem.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        engine.dispose()
    return _pg_problem[0] or None


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The admin URL of a reachable PostgreSQL, or skip (fail under REQUIRE_POSTGRES=1)."""
    problem = _pg_reachable()
    if problem:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable ({problem}); set TEST_POSTGRES_URL")
    return _pg_admin_url()


def _fresh_pg_database(admin_url: str) -> Iterator[str]:
    name = f"pn_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=False)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL of an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        yield from _fresh_pg_database(request.getfixturevalue("pg_server_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on a fresh database (both backends)."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated engine on a fresh SQLite file, for tests that need only one backend."""
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Under pytest-xdist the workers ask the server; the summary is printed here, so ask too.
    problem = _pg_reachable() or ""
    if problem:
        terminalreporter.write_line(
            f"NOTE: PostgreSQL tests were SKIPPED ({problem}). "
            "Start PostgreSQL or set TEST_POSTGRES_URL to cover both databases.",
            yellow=True,
        )
