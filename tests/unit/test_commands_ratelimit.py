"""Per-chat command rate limit with an injected clock."""

from __future__ import annotations

import pytest

from bot import commands as router
from bot.flood import RateLimiter, Verdict
from bot.i18n import ADMIN_COMMANDS, COMMANDS, MESSAGES, pick_language, t


def test_burst_then_one_warning_then_silence_then_recovery() -> None:
    rl = RateLimiter(burst=3, per_second=0.5)
    verdicts = [rl.check("chat", 100.0).verdict for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    decision = rl.check("chat", 100.0)
    assert decision.wait_seconds == 2
    assert rl.check("chat", 102.0).verdict is Verdict.ALLOW
    # After a fresh allow, a new flood is warned about again, once.
    assert rl.check("chat", 102.0).verdict is Verdict.WARN


def test_chats_are_independent_and_memory_is_bounded() -> None:
    rl = RateLimiter(burst=1, per_second=1.0, max_chats=2)
    assert rl.check("a", 0.0).verdict is Verdict.ALLOW
    assert rl.check("b", 0.0).verdict is Verdict.ALLOW
    assert rl.check("a", 0.0).verdict is Verdict.WARN
    rl.check("c", 0.0)  # forgets the least recently seen chat ("b")
    assert rl.check("b", 0.0).verdict is Verdict.ALLOW


def test_clock_going_backwards_grants_nothing() -> None:
    rl = RateLimiter(burst=1, per_second=1.0)
    rl.check("a", 10.0)
    assert rl.check("a", 5.0).verdict is Verdict.WARN


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        RateLimiter(burst=0)


def test_language_choice() -> None:
    assert pick_language(None, None) == "vi"
    assert pick_language(None, "en-US") == "en"
    assert pick_language(None, "vi") == "vi"
    assert pick_language(None, "de") == "vi"
    assert pick_language("vi", "en") == "vi"
    assert pick_language("en", "vi") == "en"


def test_catalogue_is_complete_in_both_languages() -> None:
    for key, entry in MESSAGES.items():
        assert set(entry) == {"vi", "en"}, key
    assert t("en", "unknown", name="x") == "There is no /x command. Send /help to see the commands."
    for _name, _example, descriptions in COMMANDS:
        assert set(descriptions) == {"vi", "en"}


def test_help_lists_exactly_the_commands_the_router_runs() -> None:
    # Two tables name the commands (dispatch, descriptions): one added alone is missing from
    # /help and the menu, or is advertised and then "unknown".
    assert {name for name, _ex, _desc in COMMANDS} == set(router.COMMANDS)
    assert {name for name, _ex, _desc in ADMIN_COMMANDS} == set(router.ADMIN_COMMANDS)
