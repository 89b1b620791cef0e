"""The console chat: the same commands in a terminal, fed through stdin."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.commands import Services
from bot.console import chat_loop
from bot.ratelimit import RateLimiter
from storage.db import make_engine, upgrade
from tests.bot_articles import seed_corpus

CLI = Path(sys.executable).with_name("portal-notifier")
PROCESS_TIMEOUT_SECONDS = 60


def converse(engine: Engine, *lines: str, lang: str | None = None) -> str:
    out = io.StringIO()
    services = Services(engine=engine, limiter=RateLimiter(burst=10_000))
    assert chat_loop(services, [f"{line}\n" for line in lines], out, language_code=lang) == 0
    return out.getvalue()


def test_commands_and_buttons_in_the_console(sqlite_engine: Engine) -> None:
    seed_corpus(sqlite_engine, extra_meetings=25)
    out = converse(sqlite_engine, "/latest 2", "/search hội nghị", ":1", ":2", "/quit", "/help")
    assert "2 tin mới nhất:" in out
    assert "Hội nghị triển khai Quy chế dân chủ ở cơ sở năm 2011 <https://" in out
    assert "Kết quả cho “hội nghị”: 26 bài (trang 1/3)" in out
    assert "[:1] Trang sau ›" in out
    assert "(trang 2/3)" in out and "[:1] ‹ Trang trước  [:2] Trang sau ›" in out
    assert "(trang 3/3)" in out
    assert "Các lệnh (ví dụ)" not in out  # nothing is read after /quit


def test_console_bad_input_and_english(sqlite_engine: Engine) -> None:
    out = converse(sqlite_engine, "/latest abc", "/date 31/02/2020", ":7", "/nope", lang="en")
    assert out.startswith("Hello! This bot")
    assert "The number of articles must be between 1 and 20" in out
    assert "That day does not exist." in out
    # ":7" presses no button: it is searched as text, which finds nothing.
    assert "Searching for what you sent." in out
    assert "There is no /nope command." in out


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        SOURCES_FILE=str(tmp_path / "no-sources.toml"),  # no polling: no network in tests
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def _seeded_db(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    upgrade(engine)
    seed_corpus(engine)
    engine.dispose()


def test_portal_notifier_chat_reads_stdin(tmp_path: Path) -> None:
    _seeded_db(tmp_path)
    done = subprocess.run(
        [str(CLI), "chat"],
        input="/search quy che dan chu\n/subscribe dân chủ\n/subscriptions\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=PROCESS_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Kết quả cho “quy che dan chu”: 1 bài" in done.stdout
    assert "Đã đăng ký chủ đề “dân chủ”." in done.stdout
    assert "• dân chủ" in done.stdout
    assert "Traceback" not in done.stderr


def test_run_without_token_starts_the_console_and_says_how_to_set_one(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(CLI), "run"],
        input="/latest\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=PROCESS_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "TELEGRAM_BOT_TOKEN chưa được đặt" in done.stdout
    assert "Chưa có bài viết nào." in done.stdout
    assert "Traceback" not in done.stderr


def test_a_prompt_before_each_line_when_asked(sqlite_engine: Engine) -> None:
    out = io.StringIO()
    services = Services(engine=sqlite_engine, limiter=RateLimiter(burst=10_000))
    chat_loop(services, ["\n", "/latest\n"], out, prompt="> ")
    assert out.getvalue().endswith("\n> > Chưa có bài viết nào.\n\n> ")
