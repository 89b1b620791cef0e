"""A neutral Reply as Zalo text: links spelled out, buttons as numbered choices or OA buttons."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from bot.i18n import DEFAULT_LANG, alert_words, t
from bot.zalo.oa_client import MAX_BUTTON_PAYLOAD, MAX_BUTTON_TITLE, MAX_BUTTONS, OAButton
from bot.zalo.split import ZALO_MAX_TEXT, split_text
from jobs.delivery.reply import Button, Link, Reply, Text

MAX_REMEMBERED_CHATS = 50_000


@dataclass(frozen=True)
class Rendered:
    """Messages to send in order, and the button data a typed number picks."""

    texts: list[str]
    choices: list[str] = field(default_factory=list)  # choice n is choices[n - 1]
    buttons: list[OAButton] = field(default_factory=list)  # OA: on the last message


def _inline(run: Text | Link) -> str:
    if isinstance(run, Link):
        return run.url if run.text.strip() in ("", run.url) else f"{run.text} {run.url}"
    return run.text


def plain_text(reply: Reply) -> str:
    """The reply's lines as plain text (Zalo shows no markup; it links URLs by itself)."""
    return "\n".join("".join(_inline(run) for run in line) for line in reply.lines)


def _data_buttons(reply: Reply) -> list[Button]:
    return [b for row in reply.buttons for b in row if b.data]


def _url_lines(reply: Reply) -> list[str]:
    return [f"{b.text}: {b.url}" for row in reply.buttons for b in row if b.url and not b.data]


def language_of(reply: Reply) -> str:
    """The language a push was written in, told by its button labels (a Sender renders
    without the chat's language; the labels came from the messages module in it)."""
    english = {t("en", "next"), t("en", "prev"), alert_words("en")["unsub"]}
    labels = {b.text for row in reply.buttons for b in row}
    return "en" if labels & english else DEFAULT_LANG


def render(
    reply: Reply, lang: str | None, *, oa_buttons: bool, limit: int = ZALO_MAX_TEXT
) -> Rendered:
    """Split text plus choices. On the OA, up to MAX_BUTTONS buttons carry the choices (a
    press comes back as the user's message); everywhere the number typed works too."""
    lang = lang or language_of(reply)
    body = "\n".join([plain_text(reply), *_url_lines(reply)]).strip()
    pressable = _data_buttons(reply)
    choices = [b.data for b in pressable if b.data]
    buttons: list[OAButton] = []
    if oa_buttons and pressable and len(pressable) <= MAX_BUTTONS:
        fits = all(len(b.data or "") <= MAX_BUTTON_PAYLOAD for b in pressable)
        if fits:
            buttons = [OAButton(b.text[:MAX_BUTTON_TITLE], b.data or "") for b in pressable]
    if pressable and not buttons:
        menu = [t(lang, "zalo_choices")]
        menu += [f"{n}. {b.text}" for n, b in enumerate(pressable, start=1)]
        body = "\n".join([body, "", *menu]).strip()
    return Rendered(split_text(body, limit), choices, buttons)


class ChoiceMemory:
    """The choices last offered to each chat, so "2" means that chat's second button."""

    def __init__(self, capacity: int = MAX_REMEMBERED_CHATS) -> None:
        self.capacity = capacity
        self._choices: OrderedDict[str, list[str]] = OrderedDict()

    def remember(self, chat_id: str, choices: list[str]) -> None:
        """Offer `choices` to the chat (an empty list keeps the previous offer)."""
        if not choices:
            return
        self._choices[chat_id] = choices
        self._choices.move_to_end(chat_id)
        while len(self._choices) > self.capacity:
            self._choices.popitem(last=False)

    def pick(self, chat_id: str, text: str) -> str | None:
        """The button data a typed number stands for, or None when it is not a choice."""
        text = text.strip().rstrip(".")
        if not text.isdecimal() or len(text) > 2:
            return None
        choices = self._choices.get(chat_id) or []
        n = int(text)
        return choices[n - 1] if 1 <= n <= len(choices) else None
