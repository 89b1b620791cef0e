"""The sliding-window limiter, driven by an injected clock."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.budget import SharedBudget
from jobs.delivery.pacing import (
    PRUNE_SECONDS,
    REPLY_PLACES,
    YIELD_CREDIT,
    RateLimiter,
    SlidingWindow,
)


def run(limiter: RateLimiter, chats: list[str], *, group: bool, until: float) -> list[float]:
    """Send round-robin to `chats` as fast as the limiter allows; the send times."""
    now, sent, i = 0.0, [], 0
    while now < until:
        chat = chats[i % len(chats)]
        delay = limiter.try_acquire(chat, group=group, now=now)
        if delay == 0:
            sent.append(now)
            i += 1
        else:
            now += delay
    return sent


def max_in_window(times: list[float], length: float) -> int:
    """The most events in any half-open window of `length` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - length:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_global_rate_holds_in_every_window_not_just_on_average() -> None:
    limiter = RateLimiter(global_rate=25)
    times = run(limiter, [f"c{i}" for i in range(1000)], group=False, until=20.0)
    assert max_in_window(times, 1.0) == 25
    assert len(times) >= 0.95 * 25 * 20


def test_one_per_second_in_a_private_chat() -> None:
    limiter = RateLimiter(global_rate=25)
    times = run(limiter, ["alone"], group=False, until=10.0)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.0
    assert len(times) >= 9


def test_twenty_per_minute_in_a_group_even_in_a_burst() -> None:
    limiter = RateLimiter(global_rate=25)
    times = run(limiter, ["group"], group=True, until=180.0)
    assert max_in_window(times, 60.0) == 20
    assert times[19] == 0.0  # the burst is allowed...
    assert times[20] >= 60.0  # ...and then the window is full for a minute


def test_fractional_rate_below_one_per_second() -> None:
    limiter = RateLimiter(global_rate=0.5)
    times = run(limiter, [f"c{i}" for i in range(10)], group=False, until=10.0)
    assert min(b - a for a, b in itertools.pairwise(times)) >= 2.0


def test_pause_chat_delays_only_that_chat() -> None:
    limiter = RateLimiter(global_rate=25)
    limiter.pause_chat("slow", until=30.0)
    assert limiter.try_acquire("slow", group=False, now=1.0) == 29.0
    assert limiter.try_acquire("other", group=False, now=1.0) == 0.0


def test_pause_all_delays_everyone() -> None:
    limiter = RateLimiter(global_rate=25)
    limiter.pause_all(until=12.0)
    assert limiter.wait("a", group=False, now=2.0) == 10.0
    assert limiter.wait("b", group=True, now=2.0) == 10.0
    assert limiter.wait("b", group=True, now=12.0) == 0.0


def test_idle_chats_are_forgotten() -> None:
    limiter = RateLimiter(global_rate=10_000)
    for i in range(5000):
        assert limiter.try_acquire(f"c{i}", group=False, now=i * 0.001) == 0.0
    for i in range(5000):
        limiter.try_acquire(f"d{i}", group=False, now=100.0 + i * 0.001)
    assert limiter.tracked_chats() < 5000


def test_a_long_fan_out_remembers_only_recent_chats() -> None:
    limiter = RateLimiter(global_rate=100)
    for i in range(10_000):  # 100 s at 100 sends a second, each to another chat
        limiter.begin(f"c{i}", group=False, now=i * 0.01, open_=False)
    assert limiter.tracked_chats() <= 100 * (PRUNE_SECONDS + 2)


def test_sliding_window_reports_the_exact_wait() -> None:
    window = SlidingWindow(2, 1.0)
    window.add(0.0)
    window.add(0.25)
    assert window.wait(0.5) == 0.5
    assert window.wait(1.0) == 0.0


@settings(max_examples=50, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=40),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_no_schedule_breaks_any_limit(rate: int, seed: int) -> None:
    rng = random.Random(seed)
    limiter = RateLimiter(global_rate=rate)
    now, sent = 0.0, []
    per_chat: dict[str, list[float]] = {}
    for _ in range(400):
        chat = f"c{rng.randrange(5)}"
        now += rng.random() * 0.2
        if limiter.try_acquire(chat, group=False, now=now) == 0:
            sent.append(now)
            per_chat.setdefault(chat, []).append(now)
    assert max_in_window(sent, 1.0) <= rate
    for times in per_chat.values():
        assert max_in_window(times, 1.0) <= 1


def test_replies_go_first_and_pushes_yield_on_one_budget() -> None:
    limiter = RateLimiter(global_rate=25)
    assert limiter.try_acquire("a", group=False, now=0.0) == 0.0
    # A reply to the same chat is not held by the per-chat pacing meant for pushes ...
    assert limiter.wait("a", group=False, now=0.1, priority=True) == 0.0
    assert limiter.wait("a", group=False, now=0.1) > 0.5
    # ... and while a reply waits for its turn, every push steps aside.
    limiter.person_waiting(now=0.1)
    assert limiter.wait("b", group=False, now=0.1) > 0
    assert limiter.wait("b", group=False, now=0.1, priority=True) == 0.0
    limiter.person_answered(now=0.1)
    assert limiter.wait("b", group=False, now=0.1) == 0.0


def test_pushes_step_aside_for_people_at_most_half_the_time() -> None:
    limiter = RateLimiter(global_rate=1000)
    limiter.person_waiting(now=0.0)  # someone always waits: a stream of commands
    sent, now = 0, 0.0
    while now < 20.0:
        if limiter.wait(f"c{sent}", group=False, now=now) == 0.0:
            limiter.begin(f"c{sent}", group=False, now=now, open_=False)
            sent += 1
        now += 0.01
    yielded = 1 - sent / 2000
    assert 0.4 < yielded <= 0.5 + YIELD_CREDIT / 20


def test_a_restart_remembers_the_sends_it_did_not_make() -> None:
    limiter = RateLimiter(global_rate=3)
    for chat in ("a", "b", "c"):  # the killed process's last second
        limiter.remember(chat, group=False, at=9.5)
    assert limiter.wait("d", group=False, now=10.0) > 0  # the global window is full
    limiter.remember("e", group=False, at=10.4)  # a row left in flight: sent "just now"
    assert limiter.wait("e", group=False, now=10.6) > 0  # e's second is not over
    assert limiter.wait("d", group=False, now=10.6) == 0.0


def test_pushes_leave_room_for_the_next_reply_while_people_are_answered() -> None:
    lim = RateLimiter(global_rate=10, margin=0.0)
    lim.begin("person", group=False, now=0.0, open_=False, reply=True)
    sent = [c for c in range(20) if lim.try_acquire(f"c{c}", group=False, now=0.1) == 0]
    assert len(sent) == 10 - 1 - REPLY_PLACES  # the reply's place, and places kept free
    for person in ("other person", "third person"):  # two more replies, at once
        assert lim.wait(person, group=False, now=0.1, priority=True) == 0
        lim.begin(person, group=False, now=0.1, open_=False, reply=True)
    # with no reply in the window, pushes use all of it again
    assert sum(lim.try_acquire(f"d{c}", group=False, now=1.2) == 0 for c in range(20)) == 10


def test_pushes_keep_places_for_a_person_waiting_once_they_stop_stepping_aside() -> None:
    lim = RateLimiter(global_rate=10, margin=0.0)
    lim.person_waiting(now=0.0)
    now = 0.0
    while lim.wait("c0", group=False, now=now) > 0:  # stepping aside until the credit is spent
        now += 0.01
    sent = [c for c in range(20) if lim.try_acquire(f"c{c}", group=False, now=now) == 0]
    assert len(sent) == 10 - REPLY_PLACES
    assert lim.wait("person", group=False, now=now, priority=True) == 0


def test_pushes_step_aside_while_a_persons_command_is_answered() -> None:
    pacer = RateLimiter(global_rate=25)
    budget = SharedBudget(pacer, monotonic=lambda: 1.0)
    with budget.answering():
        assert pacer.wait("push", group=False, now=1.0) > 0
        assert pacer.wait("person", group=False, now=1.0, priority=True) == 0.0
    assert pacer.wait("push", group=False, now=1.0) == 0.0
