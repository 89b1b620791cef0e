"""The outbound half of a chat platform, as the delivery core sees it: a `Sender`.

A sender renders a neutral `Reply` into its platform's payloads (within the platform's
length, markup and button limits), sends one payload to one recipient, and answers with an
`Outcome` from the closed set below. Its rate limits are properties of the sender; the
dispatcher paces each platform by its own sender's `Limits`. The core never names a platform.

    Outcome                      what the dispatcher does with the delivery rows
    ├── Sent(message_id)         sent, with the platform's message id
    ├── RetryAfter(seconds)      back to pending after `seconds`; the chat (or, scope
    │                            "global", the whole platform) pauses; no attempt counted
    ├── TemporaryFailure         retried with back-off, failed after max attempts
    ├── Ambiguous                may have arrived: recorded as ambiguous, never resent
    ├── RecipientGone            chat inactive, its pending rows cancelled (/start revives)
    ├── PermanentFailure         this message is refused for good: failed
    └── ConfigurationError       the account/credentials are wrong: rows stay pending, the
                                 platform pauses for CONFIGURATION_PAUSE_SECONDS
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from jobs.delivery.reply import Reply


@dataclass(frozen=True)
class Sent:
    """The platform accepted the message."""

    message_id: str


@dataclass(frozen=True)
class RetryAfter:
    """Rate limited: wait `seconds`; `scope` says whether one chat or every send must wait."""

    seconds: float
    scope: str = "chat"  # chat | global
    reason: str = ""


@dataclass(frozen=True)
class Failed:
    """Not sent (or not known to be): why, in the platform's words. Never used bare."""

    reason: str


class TemporaryFailure(Failed):
    """Not delivered, and safe to send again (5xx, connection refused, connect time-out)."""


class Ambiguous(Failed):
    """The request left, no answer came: the message may have arrived; do not resend."""


class RecipientGone(Failed):
    """The chat cannot receive messages any more (blocked, deactivated, not found)."""


class PermanentFailure(Failed):
    """This message was refused (bad markup, too long): resending it cannot help."""


class ConfigurationError(Failed):
    """The platform refuses the account itself (bad token, missing permission)."""


Outcome = (
    Sent
    | RetryAfter
    | TemporaryFailure
    | Ambiguous
    | RecipientGone
    | PermanentFailure
    | ConfigurationError
)


@dataclass(frozen=True)
class Limits:
    """A platform's sending limits, as its sender declares them.

    `global_rate`: messages per second for the whole account; `chat_interval`: seconds
    between two messages to one private chat; `group_per_minute`: messages per minute to
    one group chat.
    """

    global_rate: float
    chat_interval: float = 1.0
    group_per_minute: int = 20


@dataclass(frozen=True)
class Recipient:
    """Where one delivery goes: the platform's chat id, and whether it is a group."""

    external_id: str
    group: bool = False


@runtime_checkable
class Sender(Protocol):
    """What a platform plugs into the dispatcher (one per bot account)."""

    @property
    def platform(self) -> str:
        """The `Chat.platform` value whose rows this sender delivers."""
        ...

    @property
    def limits(self) -> Limits:
        """The platform's rate limits for this account."""
        ...

    def render(self, reply: Reply) -> list[Any]:
        """The reply as the platform's payloads, one per message, each within its limits."""
        ...

    async def send(self, recipient: Recipient, payload: Any) -> Outcome:
        """Send one payload; never raises for a platform answer or a network fault."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
