"""Channel-neutral command logic on a real database: every command, both languages, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot.commands import Request, Services, handle, is_paging, press
from bot.commands.base import normalize_hhmm, split_command
from bot.commands.paging import QueryStore, SearchPageRef, date_data, decode, search_data
from bot.console.chat import render
from bot.flood import RateLimiter
from jobs.delivery.reply import Reply, Text
from storage import chats
from storage.db import session_scope
from tests.bot_articles import seed_corpus

NOW = datetime(2011, 12, 16, 5, 0, tzinfo=UTC)


@pytest.fixture
def svc(engine: Engine) -> Iterator[Services]:
    seed_corpus(engine, extra_meetings=25)
    yield Services(engine=engine, clock=lambda: NOW, limiter=RateLimiter(burst=10_000))


def ask(svc: Services, text: str, lang: str | None = None, kind: str = "private") -> str:
    reply = handle(svc, Request("telegram", "100", text, chat_kind=kind, language_code=lang))
    assert reply is not None
    return render(reply)


def test_start_help_and_unknown_in_both_languages(svc: Services) -> None:
    assert "Gõ /help" in ask(svc, "/start")
    assert "Send /help" in ask(svc, "/start", lang="en-GB")
    help_vi = ask(svc, "/help")
    for cmd in ("/latest 5", "/search quy chế dân chủ", "/date 16/12/2011", "/subscribe",
                "/unsubscribe all", "/subscriptions", "/digest daily 07:30",
                "/quiet 22:00-06:00", "/lang en"):  # fmt: skip
        assert cmd in help_vi
    assert "Newest articles" in ask(svc, "/help", lang="en")
    assert ask(svc, "/nope") == "Không có lệnh /nope. Gõ /help để xem các lệnh."
    assert ask(svc, "/nope@SomeBot x", lang="en").startswith("There is no /nope command")
    assert "Các lệnh" in ask(svc, "/")


def test_latest(svc: Services) -> None:
    out = ask(svc, "/latest 2")
    assert out.startswith("2 tin mới nhất:")
    assert "1. Hội nghị triển khai Quy chế dân chủ" in out and "16/12/2011" in out
    assert "newsid/00000001>" in out
    for bad in ("abc", "0", "21", "-1", "2.5", "²"):  # "²".isdigit(), yet int() refuses it
        assert ask(svc, f"/latest {bad}") == "Số bài phải là một số từ 1 đến 20, ví dụ: /latest 5"
    assert ask(svc, "/latest abc", lang="en").startswith("The number of articles must be")


def test_search_pages_and_buttons(svc: Services) -> None:
    reply = handle(svc, Request("telegram", "100", "/search hoi nghi"))
    assert reply is not None
    text = render(reply)
    assert "Kết quả cho “hoi nghi”: 26 bài (trang 1/3)" in text
    [[nxt]] = reply.buttons
    assert nxt.text == "Trang sau ›" and nxt.data == "s:2:hoi nghi"
    pressed = press(svc, Request("telegram", "100", nxt.data))
    assert pressed is not None and pressed.replace
    assert "(trang 2/3)" in render(pressed.reply)
    assert [b.text for b in pressed.reply.buttons[0]] == ["‹ Trang trước", "Trang sau ›"]


def test_search_marks_matched_words_bold(svc: Services) -> None:
    reply = handle(svc, Request("telegram", "100", "/search quy che dan chu"))
    assert reply is not None
    bold = [r.text for line in reply.lines for r in line if isinstance(r, Text) and r.bold]
    assert any("Quy chế dân chủ" in b or "chế" in b for b in bold)
    assert "«" not in render(reply)


def test_search_bad_input_gets_clear_answers(svc: Services) -> None:
    assert ask(svc, "/search") == "Hãy nhập từ cần tìm, ví dụ: /search quy chế dân chủ"
    assert "quá dài" in ask(svc, "/search " + "ả" * 5000)
    assert "too long" in ask(svc, "/search " + "x" * 5000, lang="en")
    assert ask(svc, '/search "NEAR( *') == 'Không tìm thấy bài nào cho “"NEAR( *”.'
    assert "Không có từ nào để tìm" in ask(svc, "/search ?! ***")
    assert "Cảnh báo mưa lũ <b>&</b> sạt lở đất" in ask(svc, "/search <b>&")


def test_plain_text_is_a_search_in_private_chats_only(svc: Services) -> None:
    out = ask(svc, "cải cách hành chính")
    assert out.startswith("Đang tìm kiếm nội dung bạn gửi. Gõ /help")
    assert "Cải cách hành chính: kết quả năm 2011" in out
    assert handle(svc, Request("telegram", "-5", "xin chào", chat_kind="group")) is None
    assert handle(svc, Request("telegram", "-5", "/weather", chat_kind="group")) is None
    for chatter in ("/path/to/file", "/", "/ ok"):  # not commands: silence in a group
        assert handle(svc, Request("telegram", "-5", chatter, chat_kind="supergroup")) is None
    assert ask(svc, "/path/to/file").startswith("Không có lệnh /path/to/file")  # private
    assert ask(svc, "/latest abc", kind="group").startswith("Số bài phải là")


def test_date(svc: Services) -> None:
    assert "Tin ngày 16/12/2011: 1 bài" in ask(svc, "/date 16/12/2011")
    assert "Articles on 16/12/2011" in ask(svc, "/date 16/12", lang="en")
    assert "Tin ngày 16/12/2011" in ask(svc, "/date hôm nay")
    assert "từ 14/12/2011 đến 16/12/2011: 3 bài" in ask(svc, "/date 14/12/2011-16/12/2011")
    assert ask(svc, "/date 31/02/2020").startswith("Ngày này không có trên lịch. Ví dụ: /date")
    assert "does not exist" in ask(svc, "/date 31/02/2020", lang="en")
    assert "Ngày bắt đầu phải trước" in ask(svc, "/date 16/12/2011-01/12/2011")
    assert "Hãy nhập ngày" in ask(svc, "/date")
    assert "Không hiểu ngày này" in ask(svc, "/date ngày mai trời đẹp")
    reply = handle(svc, Request("telegram", "100", "/date 10/12/2011"))
    assert reply is not None
    assert "Không có bài nào ngày 10/12/2011." in render(reply)
    assert [b.text for b in reply.buttons[0]] == ["01/12/2011", "14/12/2011"]
    pressed = press(svc, Request("telegram", "100", reply.buttons[0][1].data or ""))
    assert pressed is not None and "Tin ngày 14/12/2011" in render(pressed.reply)


def test_stale_buttons_answer_sensibly(svc: Services) -> None:
    expired = press(svc, Request("telegram", "100", "S:2:forgotten-token"))
    assert expired is not None and not expired.replace
    assert render(expired.reply) == "Danh sách này đã hết hạn, hãy gửi lại lệnh."
    garbage = press(svc, Request("telegram", "100", "d:1:20110231:20110301", language_code="en"))
    assert garbage is not None and render(garbage.reply).startswith("This list has expired")
    for odd in ("s:²:hoi nghi", "unsub:²"):  # digits to str.isdigit, not to int()
        stale = press(svc, Request("telegram", "100", odd))
        assert stale is not None and render(stale.reply).startswith("Danh sách này đã hết hạn")
    beyond = press(svc, Request("telegram", "100", "s:99:hoi nghi"))
    assert beyond is not None and "(trang 3/3)" in render(beyond.reply)


def test_subscriptions_flow(svc: Services, engine: Engine) -> None:
    assert ask(svc, "/subscriptions").startswith("Bạn chưa theo dõi chủ đề nào")
    assert ask(svc, "/subscribe Quy chế dân chủ") == "Đã đăng ký chủ đề “Quy chế dân chủ”."
    assert ask(svc, "/subscribe quy che dan chu") == "Bạn đã đăng ký “quy che dan chu” rồi."
    assert ask(svc, "/subscribe") == "Đã đăng ký nhận mọi tin mới."
    assert (
        ask(svc, "/subscribe", lang="en") == "You are already subscribed to “(every new article)”."
    )
    assert "tối đa 100 ký tự" in ask(svc, "/subscribe " + "a" * 101)
    assert "cần có chữ hoặc số" in ask(svc, "/subscribe ???")
    listed = ask(svc, "/subscriptions")
    assert "• Quy chế dân chủ" in listed and "• (mọi tin mới)" in listed
    assert ask(svc, "/unsubscribe").startswith("Hãy ghi chủ đề hoặc all")
    assert ask(svc, "/unsubscribe QUY CHE DAN CHU") == "Đã bỏ theo dõi “QUY CHE DAN CHU”."
    assert "Bạn chưa đăng ký “xyz”" in ask(svc, "/unsubscribe xyz")
    assert ask(svc, "/unsubscribe all", lang="en") == "Unsubscribed from all topics (removed: 1)."
    with session_scope(engine) as s:
        chat = chats.find_chat(s, platform="telegram", external_id="100")
        assert chat is not None and chat.id is not None
        assert chats.list_subscriptions(s, chat_id=chat.id) == []


def test_topic_limit_message(svc: Services) -> None:
    for i in range(30):
        ask(svc, f"/subscribe chủ đề {i}")
    assert "tối đa 30 chủ đề" in ask(svc, "/subscribe thêm nữa")


def test_digest_quiet_and_lang(svc: Services, engine: Engine) -> None:
    assert ask(svc, "/digest daily 7h30") == "Sẽ gửi một bản tin mỗi ngày lúc 07:30."
    assert "Giờ không hợp lệ: “25:00”" in ask(svc, "/digest daily 25:00")
    assert ask(svc, "/digest").startswith("Cách dùng: /digest now")
    assert ask(svc, "/quiet 22:00 - 6:00") == (
        "Giờ yên lặng từ 22:00 đến 06:00: tin đến sẽ chờ đến hết giờ này."
    )
    assert "Giờ không hợp lệ" in ask(svc, "/quiet 22:00-99")
    assert "phải khác nhau" in ask(svc, "/quiet 06:00-06:00")
    assert ask(svc, "/quiet").startswith("Cách dùng: /quiet")
    assert "bản tin hằng ngày lúc 07:30" in ask(svc, "/subscriptions")
    with session_scope(engine) as s:
        chat = chats.find_chat(s, platform="telegram", external_id="100")
        assert chat is not None
        assert (chat.digest_mode, chat.digest_time) == ("daily", "07:30")
        assert (chat.quiet_start, chat.quiet_end) == ("22:00", "06:00")
    assert ask(svc, "/digest off") == "Đã tắt bản tin hằng ngày; sẽ gửi từng tin ngay khi có."
    assert ask(svc, "/digest now").startswith("Sẽ gửi từng tin ngay khi có")
    assert ask(svc, "/quiet off") == "Đã tắt giờ yên lặng."
    assert ask(svc, "/lang fr") == "Cách dùng: /lang vi hoặc /lang en"
    assert ask(svc, "/lang en") == "Language set to English."
    # The chat's choice beats the client's language from now on.
    assert ask(svc, "/latest abc", lang="vi").startswith("The number of articles")
    assert ask(svc, "/lang vi", lang="en") == "Đã chuyển sang tiếng Việt."


def test_start_reactivates_an_inactive_chat(svc: Services, engine: Engine) -> None:
    ask(svc, "/start")
    with session_scope(engine) as s:
        chat = chats.find_chat(s, platform="telegram", external_id="100")
        assert chat is not None and chat.id is not None
        chats.deactivate_chat(s, chat_id=chat.id, reason="blocked")
    assert ask(svc, "/start").startswith("Chào mừng bạn trở lại!")
    with session_scope(engine) as s:
        chat = chats.find_chat(s, platform="telegram", external_id="100")
        assert chat is not None and chat.active


def test_flood_gets_one_polite_answer_then_silence(engine: Engine) -> None:
    clock = [0.0]
    svc = Services(engine=engine, limiter=RateLimiter(burst=2, per_second=0.5),
                   monotonic=lambda: clock[0])  # fmt: skip
    req = Request("telegram", "7", "/help")
    for _ in range(2):
        served = handle(svc, req)
        assert served is not None and render(served).startswith("Các lệnh")
    warn = handle(svc, req)
    assert warn is not None and render(warn).startswith("Bạn gửi lệnh quá nhanh")
    assert handle(svc, req) is None
    clock[0] = 2.0
    again = handle(svc, req)  # one token back: served, not warned a second time
    assert again is not None and render(again).startswith("Các lệnh")


def test_a_failing_command_answers_politely(caplog: pytest.LogCaptureFixture) -> None:
    # A database that cannot be opened: the command fails for real, the user gets a sentence.
    broken = Services(engine=create_engine("sqlite:////nonexistent-dir/for/sure/x.db"))
    reply = handle(broken, Request("telegram", "1", "/latest", language_code="en"))
    assert reply == Reply.plain("Sorry, something went wrong. Please try again later.")
    assert "command failed for telegram chat 1" in caplog.text


def test_parsers() -> None:
    assert split_command("/Latest@Portal_bot  5 ") == ("latest", "5")
    assert split_command("/latest5") == ("latest5", "")
    assert split_command("hello /latest") is None
    assert [normalize_hhmm(x) for x in ("7", "7:05", "07h30", "23:59", "24:00", "7:5", "x")] == [
        "07:00", "07:05", "07:30", "23:59", None, None, None,
    ]  # fmt: skip


def test_callback_data_fits_64_bytes() -> None:
    store = QueryStore(capacity=2)
    short = search_data("dân chủ", 2, store)
    assert short == "s:2:dân chủ" and decode(short, store) == SearchPageRef("dân chủ", 2)
    long_query = "quy chế dân chủ ở cơ sở " * 10
    data = search_data(long_query, 9999, store)
    assert len(data.encode()) <= 64 and data.startswith("S:")
    ref = decode(data, store)
    assert ref is not None and getattr(ref, "query", None) == long_query
    search_data("a" * 80, 1, store)
    search_data("b" * 80, 1, store)
    assert decode(data, store) is None  # forgotten: the button is expired
    assert len(date_data(NOW.date(), NOW.date(), 9999).encode()) <= 64
    assert is_paging("s:1:x") and not is_paging("unsub:3")
    for bad in ("", "s", "s:0:x", "s:x:y", "s:1:", "d:1:2011:2012", "q:1:x", "s:99999:x"):
        assert decode(bad, store) is None


def test_the_alerts_unsubscribe_button(svc: Services, engine: Engine) -> None:
    ask(svc, "/subscribe dân chủ")
    ask(svc, "/subscribe", lang="en")
    with session_scope(engine) as s:
        chat = chats.find_chat(s, platform="telegram", external_id="100")
        assert chat is not None and chat.id is not None
        topic, every = chats.list_subscriptions(s, chat_id=chat.id)
    stranger = press(svc, Request("telegram", "200", f"unsub:{topic.id}"))
    assert stranger is not None and render(stranger.reply).startswith("Chủ đề này đã được bỏ")
    done = press(svc, Request("telegram", "100", f"unsub:{topic.id}"))
    assert done is not None and not done.replace
    assert render(done.reply) == "Đã bỏ theo dõi “dân chủ”."
    again = press(svc, Request("telegram", "100", f"unsub:{topic.id}", language_code="en"))
    assert again is not None and render(again.reply).startswith("That topic was already removed")
    every_done = press(svc, Request("telegram", "100", f"unsub:{every.id}"))
    assert every_done is not None and render(every_done.reply) == "Đã bỏ theo dõi “(mọi tin mới)”."
    assert ask(svc, "/subscriptions").startswith("Bạn chưa theo dõi chủ đề nào")
    odd = press(svc, Request("telegram", "100", "unsub:abc"))
    assert odd is not None and render(odd.reply).startswith("Danh sách này đã hết hạn")
