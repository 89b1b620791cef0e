"""Hostile input on the bot side: huge titles in lists, links with spaces, forged buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.commands.paging import DatePageRef, QueryStore, decode
from bot.presenting import date_reply, latest_reply, search_reply
from bot.telegram.format import to_messages
from jobs.delivery.reply import Button, Link

HUE = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class Item:
    title: str
    url: str
    local_date: date | None
    published_at: datetime | None
    source: str = "tinh"
    snippet: str = "«quy» chế"
    summary: str = "tóm tắt"


def _huge(n: int) -> list[Item]:
    return [
        Item("Tiêu đề rất dài " * 400, f"https://x.vn/{i}", date(2026, 11, 1), None)
        for i in range(n)
    ]


def test_titles_in_lists_are_capped_so_a_list_stays_one_or_two_messages() -> None:
    latest = latest_reply(_huge(20), lang="vi", tz=HUE)
    found = search_reply(
        _huge(10), query="q", total="10", page=1, pages=1, per_page=10, lang="vi", tz=HUE,
        buttons=[],
    )  # fmt: skip
    dated = date_reply(
        _huge(10), start=date(2026, 11, 1), end=date(2026, 11, 1), total=10, page=1, pages=1,
        per_page=10, lang="vi", tz=HUE, buttons=[], nearest=[],
    )  # fmt: skip
    assert len(to_messages(latest)) <= 2  # one /latest 20 used to be 61 messages
    assert len(to_messages(found)) <= 2
    assert len(to_messages(dated)) <= 2
    links = [run for line in latest.lines for run in line if isinstance(run, Link)]
    assert all(len(link.text) <= 300 for link in links)


def test_links_with_spaces_and_non_ascii_are_percent_encoded_once() -> None:
    link = Link("Bài viết", "https://x.vn/tin tuc/bài viết.html?q=a b#p 1")
    assert link.url == "https://x.vn/tin%20tuc/b%C3%A0i%20vi%E1%BA%BFt.html?q=a%20b#p%201"
    assert Link("x", link.url).url == link.url  # already encoded: unchanged
    assert Button("Mở", url="https://x.vn/a b").url == "https://x.vn/a%20b"
    html = to_messages(latest_reply([Item("T", "https://x.vn/tin tuc/a.html", None, None)],
                                    lang="vi", tz=HUE))  # fmt: skip
    assert "tin%20tuc" in html[0].text and "tin tuc/" not in html[0].text


def test_forged_date_buttons_keep_the_range_cap() -> None:
    store = QueryStore()
    assert decode("d:1:00010101:99991231", store) is None
    assert decode("d:1:20100101:20261231", store) is None
    assert decode("d:1:20261101:20261130", store) == DatePageRef(
        date(2026, 11, 1), date(2026, 11, 30), 1
    )


async def test_deeply_nested_json_on_a_webhook_is_a_400() -> None:
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from bot.web import read_json_body

    async def hook(request: Request) -> Response:
        data = await read_json_body(request)
        return data if isinstance(data, Response) else JSONResponse(data)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        deep = b"[" * 100_000 + b"]" * 100_000
        assert (await client.post("/hook", content=deep)).status_code == 400
        deep_object = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
        assert (await client.post("/hook", content=deep_object)).status_code == 400
        fine = await client.post("/hook", content=b'{"update_id": 1}')
        assert fine.status_code == 200 and fine.json() == {"update_id": 1}


def _services(engine: object, admins: dict[tuple[str, str], bool] | None = None) -> object:
    from bot.commands import Services
    from bot.commands.groupadmin import GroupAdmins
    from bot.flood import RateLimiter

    asked: list[tuple[str, str]] = []

    def ask(chat_id: str, user_id: str) -> bool:
        asked.append((chat_id, user_id))
        return (admins or {}).get((chat_id, user_id), False)

    svc = Services(engine=engine, limiter=RateLimiter(burst=10_000), group_admins=GroupAdmins(ask))  # type: ignore[arg-type]
    svc.asked = asked  # type: ignore[attr-defined]
    return svc


def _say(
    svc: object, text: str, *, chat: str = "-100", user: str = "5", kind: str = "supergroup"
) -> str:
    from bot.commands import Request, handle
    from bot.console.chat import render

    reply = handle(svc, Request("telegram", chat, text, chat_kind=kind, user_id=user))  # type: ignore[arg-type]
    return render(reply) if reply else ""


def test_group_wide_settings_need_a_group_administrator(sqlite_engine: object) -> None:
    svc = _services(sqlite_engine, {("-100", "1"): True})
    _say(svc, "/subscribe quy chế", user="1")
    for text in ("/unsubscribe all", "/digest daily 07:00", "/quiet 22:00-06:00", "/lang en"):
        assert "quản trị viên của nhóm" in _say(svc, text, user="5"), text
    assert "quy chế" in _say(svc, "/subscriptions", user="5")  # nothing was changed
    assert "quản trị viên của nhóm" not in _say(svc, "/digest daily 07:00", user="1")
    assert "quản trị viên của nhóm" not in _say(svc, "/digest off", user="1")
    assert svc.asked.count(("-100", "1")) == 1  # type: ignore[attr-defined]  # cached briefly
    assert "quản trị viên của nhóm" not in _say(svc, "/lang en", chat="5", kind="private")


def test_forged_unsub_buttons_answer_cleanly(sqlite_engine: object, caplog: object) -> None:
    from bot.commands import Request, press

    svc = _services(sqlite_engine)
    for data in ("unsub:99999999999999999999999", "unsub:2147483648", "unsub:0"):
        pressed = press(svc, Request("telegram", "7", data, user_id="7"))  # type: ignore[arg-type]
        assert pressed is not None
        assert "lỗi" not in str(pressed.reply.lines).lower()
    assert "Traceback" not in caplog.text  # type: ignore[attr-defined]


def test_any_message_makes_an_unreachable_chat_reachable_again(sqlite_engine: object) -> None:
    from storage import chats
    from storage.db import session_scope

    svc = _services(sqlite_engine)
    _say(svc, "/start", chat="9", user="9", kind="private")
    with session_scope(sqlite_engine) as s:  # type: ignore[arg-type]
        chat = chats.find_chat(s, platform="telegram", external_id="9")
        assert chat is not None and chat.id is not None
        chats.deactivate_chat(s, chat_id=chat.id, reason="blocked")
    _say(svc, "/latest", chat="9", user="9", kind="private")
    with session_scope(sqlite_engine) as s:  # type: ignore[arg-type]
        chat = chats.find_chat(s, platform="telegram", external_id="9")
        assert chat is not None and chat.active and chat.inactive_reason is None
