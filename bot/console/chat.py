"""The console chat: the bot's commands in a terminal, one line in, plain text out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TextIO

from bot.commands import Request, Services, handle, press
from bot.i18n import pick_language, t
from jobs.delivery.reply import Button, Link, Reply
from storage.chats import find_chat
from storage.db import session_scope

PLATFORM = "console"
QUIT = {"/quit", "/exit", "quit", "exit"}
_PRESS = re.compile(r":(\d{1,2})")


def buttons_of(reply: Reply | None) -> list[Button]:
    return [b for row in (reply.buttons if reply else []) for b in row if b.data]


@dataclass
class Screen:
    """What the chat loop and the console's sender share: the buttons shown last, so ":n"
    presses a button of the latest reply or alert."""

    buttons: list[Button] = field(default_factory=list)


def render(reply: Reply, lang: str = "vi") -> str:
    """The reply as plain text; links as "title <url>", buttons numbered for ":n"."""
    out = []
    for line in reply.lines:
        out.append("".join(f"{r.text} <{r.url}>" if isinstance(r, Link) else r.text for r in line))
    flat = buttons_of(reply)
    if flat:
        out.append("  ".join(f"[:{i}] {b.text}" for i, b in enumerate(flat, 1)))
        out.append(t(lang, "console_buttons"))
    return "\n".join(out).rstrip()


def _language(services: Services, chat_id: str, language_code: str | None) -> str:
    """The chat's language as the commands see it (its /lang setting, else the client's)."""
    with session_scope(services.engine) as session:
        chat = find_chat(session, platform=PLATFORM, external_id=chat_id)
        return pick_language(chat.language if chat else None, language_code)


def chat_loop(
    services: Services,
    lines: Iterable[str],
    out: TextIO,
    *,
    chat_id: str = "local",
    language_code: str | None = None,
    prompt: str = "",
    screen: Screen | None = None,
) -> int:
    """Answer each input line until end of input or /quit; returns the exit code."""
    screen = screen or Screen()
    lang = _language(services, chat_id, language_code)
    print(t(lang, "start"), file=out, end=f"\n{prompt}", flush=True)
    for raw in lines:
        reply = _answer(services, raw.strip(), screen.buttons, chat_id, language_code)
        if reply is _QUIT:
            break
        if reply is not None and reply.lines:
            screen.buttons = buttons_of(reply)
            lang = _language(services, chat_id, language_code)  # /lang may have changed it
            print(render(reply, lang), file=out, end="\n\n", flush=True)
        print(prompt, file=out, end="", flush=True)
    return 0


_QUIT = Reply()


def _answer(
    services: Services, text: str, buttons: list[Button], chat_id: str, language_code: str | None
) -> Reply | None:
    """The reply to one line: a command, a search, a button press (":n"), or _QUIT."""
    if not text:
        return None
    if text.lower() in QUIT:
        return _QUIT
    req = Request(
        platform=PLATFORM,
        chat_id=chat_id,
        text=text,
        language_code=language_code,
        is_admin=True,  # whoever runs the console runs the service
    )
    m = _PRESS.fullmatch(text)
    if m and 1 <= int(m[1]) <= len(buttons):
        pressed = press(services, replace(req, text=buttons[int(m[1]) - 1].data or ""))
        return pressed.reply if pressed else None
    return handle(services, req)
