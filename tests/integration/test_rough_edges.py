"""A newcomer's rough edges (issue 11), each as it was seen: the CLI as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine, make_url

from bot.commands import Request, Services, handle
from bot.console.chat import render
from bot.flood import RateLimiter
from storage.articles import save_source_state
from storage.db import session_scope
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, PortalSite

SCRIPT = Path(sys.executable).with_name("portal-notifier")
TIMEOUT = 60  # a safety net only


def run_cli(*args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "LOG_LEVEL": "WARNING"}
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
    return subprocess.run(
        [*command, *args], env={**base, **env}, cwd=cwd, input=stdin, capture_output=True,
        text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("url", ["nonsense", "mysql://user@127.0.0.1/news", "sqlite+nope://x"])
def test_a_bad_database_url_is_invalid_configuration(tmp_path: Path, url: str) -> None:
    done = run_cli("sources", "list", cwd=tmp_path, DATABASE_URL=url)
    assert done.returncode == 2
    first = done.stderr.splitlines()[0]
    assert "Invalid configuration" in first and "database_url" in done.stderr.lower()
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) <= 5


@pytest.mark.postgres
def test_a_missing_postgres_database_is_invalid_configuration(
    tmp_path: Path, pg_server_url: str
) -> None:
    url = make_url(pg_server_url).set(database="pn_does_not_exist", password="pw-secret")
    shown = url.render_as_string(hide_password=False)
    done = run_cli("sources", "list", cwd=tmp_path, DATABASE_URL=shown)
    assert done.returncode == 2
    assert "Invalid configuration: cannot open DATABASE_URL" in done.stderr
    assert "pn_does_not_exist" in done.stderr and "pw-secret" not in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_no_arguments_print_help_that_speaks_to_users(tmp_path: Path) -> None:
    done = run_cli(cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: portal-notifier")
    assert "run the service: poll the portal, answer chats, send alerts" in done.stdout
    assert "portal-notifier chat --as 123456" in done.stdout
    assert "one sub-command per verb" not in done.stdout
    chat_help = run_cli("chat", "--help", cwd=tmp_path).stdout
    assert "--as ID" in chat_help and "TELEGRAM_ADMIN_IDS" in chat_help


def test_a_misspelled_setting_in_dotenv_is_warned(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("POLL_INTERVALL_SECONDS=60\nLOG_LEVEL=WARNING\n")
    done = run_cli("sources", "list", cwd=tmp_path, SOURCES_FILE=str(tmp_path / "none.toml"))
    assert (
        "Warning: .env:1: unknown setting POLL_INTERVALL_SECONDS is ignored; "
        "did you mean POLL_INTERVAL_SECONDS?"
    ) in done.stderr
    assert ".env:2" not in done.stderr


def test_poll_without_once_polls_once(
    tmp_path: Path, server: FakeHTTPServer, site: PortalSite
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "portal"\nkind = "html"\nurls = ["{server.url(LISTING_PATH)}"]\n'
        "pages = 1\nallow_private = true\n"
    )
    done = run_cli(
        "poll",
        cwd=tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}",
        SOURCES_FILE=str(sources),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split() == [
        "source", "fetched", "new", "edited", "unchanged(304)", "failed"
    ]  # fmt: skip
    assert done.stdout.splitlines()[2].split()[0] == "portal"


def test_the_cli_sees_the_demo_and_the_demo_never_touches_database_url(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    done = run_cli("sources", "list", "--demo", cwd=tmp_path, DATABASE_URL=f"sqlite:///{real}")
    assert done.returncode == 0, done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines()[2:]]
    assert names == ["demo-html", "demo-rss"]
    assert (tmp_path / "data" / "demo" / "demo.db").is_file() and not real.exists()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a poll stays in flight."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_service_ending_right_after_start_prints_no_cancelled_tracebacks(
    tmp_path: Path, silent_port: int
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        "".join(
            f'[[source]]\nname = "s{i}"\nkind = "rss"\n'
            f'urls = ["http://127.0.0.1:{silent_port}/rss{i}"]\nallow_private = true\n\n'
            for i in range(3)
        )
    )
    done = run_cli(
        "run",
        cwd=tmp_path,
        stdin="",  # input closed at once: the console ends, so does the service
        DATABASE_URL=f"sqlite:///{tmp_path / 'q.db'}",
        SOURCES_FILE=str(sources),
        LOG_LEVEL="INFO",
    )
    assert done.returncode == 0
    assert "CancelledError" not in done.stderr and "Traceback" not in done.stderr
    assert "scheduler started with 3 sources" in done.stderr


NOW = datetime(2011, 12, 16, 5, 0, tzinfo=UTC)


def ask(engine: Engine, text: str, lang: str = "vi") -> str:
    svc = Services(engine=engine, clock=lambda: NOW, limiter=RateLimiter(burst=10_000))
    reply = handle(svc, Request("telegram", "5", text, user_id="5", language_code=lang))
    assert reply is not None
    return render(reply)


def test_latest_with_no_articles_says_why(sqlite_engine: Engine) -> None:
    assert ask(sqlite_engine, "/latest", "en") == (
        "There are no articles yet: no source has been polled yet. Try again in a few minutes."
    )
    with session_scope(sqlite_engine) as s:
        save_source_state(
            s,
            name="thuathienhue",
            values={"last_error": "dns", "consecutive_failures": 1, "last_error_at": NOW},
        )
    assert ask(sqlite_engine, "/latest", "en") == (
        "There are no articles yet: the last poll of “thuathienhue” failed "
        "(cannot resolve the host name). See /sources"
    )
    assert "không phân giải được tên miền" in ask(sqlite_engine, "/latest")


def test_a_month_that_does_not_exist_is_named_a_month(sqlite_engine: Engine) -> None:
    assert ask(sqlite_engine, "/date tháng 13/2011").startswith(
        "Tháng này không có trên lịch (tháng từ 1 đến 12). Ví dụ: /date tháng 12/2011"
    )
    assert ask(sqlite_engine, "/date 13/2011", "en").startswith("That month does not exist")
    assert ask(sqlite_engine, "/date 31/02/2020", "en").startswith("That day does not exist")
