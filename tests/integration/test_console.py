"""The console chat: the same commands in a terminal, fed through stdin."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.commands import Services
from bot.console.chat import chat_loop
from bot.console.sender import ConsoleSender
from bot.flood import RateLimiter
from bot.i18n import alert_words
from jobs.delivery.dispatcher import Dispatcher
from jobs.delivery.enqueue import make_on_stored
from storage.articles import store_articles
from storage.db import make_engine, session_scope, upgrade
from storage.models import ArticleBase
from storage.types import utcnow
from tests.bot_articles import seed_corpus

CLI = Path(sys.executable).with_name("portal-notifier")
PROCESS_TIMEOUT_SECONDS = 60
HUE = ZoneInfo("Asia/Ho_Chi_Minh")


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


def test_the_button_hint_follows_lang(sqlite_engine: Engine) -> None:
    seed_corpus(sqlite_engine, extra_meetings=25)
    out = converse(sqlite_engine, "/lang en", "/search hội nghị")
    assert "[:1] Next ›\nType :number to press a button, e.g. :1" in out
    assert "Gõ :số" not in out
    assert converse(sqlite_engine).startswith("Hello! This bot")  # remembered next time


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
        LISTEN_PORT="0",  # the service's HTTP server runs in console mode too
        **extra,
    )
    return env


def _seeded_db(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    upgrade(engine)
    seed_corpus(engine)
    engine.dispose()


def _cli(tmp_path: Path, command: str, *, stdin: str) -> subprocess.CompletedProcess[str]:
    """Runs `portal-notifier <command>` in the scratch folder with `stdin` as its input."""
    return subprocess.run(
        [str(CLI), command],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=PROCESS_TIMEOUT_SECONDS,
        check=False,
    )


def test_portal_notifier_chat_reads_stdin(tmp_path: Path) -> None:
    _seeded_db(tmp_path)
    done = _cli(
        tmp_path, "chat", stdin="/search quy che dan chu\n/subscribe dân chủ\n/subscriptions\n"
    )
    assert done.returncode == 0, done.stderr
    assert "Kết quả cho “quy che dan chu”: 1 bài" in done.stdout
    assert "Đã đăng ký chủ đề “dân chủ”." in done.stdout
    assert "• dân chủ" in done.stdout
    assert "Traceback" not in done.stderr


def test_run_without_token_starts_the_console_and_says_how_to_set_one(tmp_path: Path) -> None:
    done = _cli(tmp_path, "run", stdin="/latest\n")
    assert done.returncode == 0, done.stderr
    assert "TELEGRAM_BOT_TOKEN chưa được đặt" in done.stdout
    assert "Chưa có bài viết nào." in done.stdout
    assert "Traceback" not in done.stderr


def test_a_prompt_before_each_line_when_asked(sqlite_engine: Engine) -> None:
    out = io.StringIO()
    services = Services(engine=sqlite_engine, limiter=RateLimiter(burst=10_000))
    chat_loop(services, ["\n", "/latest\n"], out, prompt="> ")
    assert out.getvalue().endswith("\n> > Chưa có bài viết nào.\n\n> ")


async def test_console_chats_get_their_alerts_printed_once(sqlite_engine: Engine) -> None:
    converse(sqlite_engine, "/subscribe mưa lũ")
    published = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    article = ArticleBase(
        key="k-alert", source="tinh", url="https://thuathienhue.gov.vn/tin/1",
        title="Cảnh báo mưa lũ <b>&</b> sạt lở", body="Mưa lũ lớn ở vùng núi.",
        published_at=published, local_date=published.date(),
    )  # fmt: skip
    with session_scope(sqlite_engine) as session:
        result = store_articles(session, items=[(article, "h")], now=published)
        make_on_stored(tz=HUE)(session, result)
    out = io.StringIO()
    sender = ConsoleSender(out)
    worker = Dispatcher(
        words=alert_words, engine=sqlite_engine, senders=[sender], tz=HUE, clock=utcnow
    )
    await worker.run_until_idle()
    assert worker.sent == 1
    shown = out.getvalue()
    assert "Cảnh báo mưa lũ <b>&</b> sạt lở <https://thuathienhue.gov.vn/tin/1>" in shown
    assert "&amp;" not in shown and "<a href" not in shown
    # The unsubscribe button is a numbered choice, and ":1" in the chat presses it.
    assert "[:1] Hủy theo dõi chủ đề này" in shown
    assert [b.data for b in sender.screen.buttons] == ["unsub:1"]
    await worker.run_until_idle()
    assert worker.sent == 1  # printed once
