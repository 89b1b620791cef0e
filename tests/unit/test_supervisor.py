"""The supervisor: failures are logged at once, retried with back-off, states reported."""

from __future__ import annotations

import asyncio
import logging

import pytest

from jobs.supervisor import (
    BACKING_OFF,
    FAILED,
    RUNNING,
    STOPPED,
    ConfigurationError,
    Supervisor,
    backoff,
)


async def _until(sup: Supervisor, check: object) -> None:
    async with asyncio.timeout(5):
        while not check():  # type: ignore[operator]
            sup.changed.clear()
            await sup.changed.wait()


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 1.0, 8.0) for n in (1, 2, 3, 4, 5, 50)] == [1, 2, 4, 8, 8, 8]


async def test_a_failure_is_logged_at_once_retried_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sup = Supervisor(backoff_base=0.01, backoff_cap=0.05)
    runs: list[int] = []
    release = asyncio.Event()

    async def flaky() -> None:
        runs.append(1)
        if len(runs) <= 2:
            raise RuntimeError("database is locked")
        await release.wait()
        await sup.stopping.wait()

    with caplog.at_level(logging.ERROR):
        sup.spawn("dispatcher", flaky)
        await _until(sup, lambda: len(runs) == 3 and sup.states["dispatcher"].state == RUNNING)
    state = sup.states["dispatcher"]
    assert state.restarts == 2 and state.last_error == "RuntimeError: database is locked"
    assert "task dispatcher failed" in caplog.text and "database is locked" in caplog.text
    assert sup.unhealthy() == []
    release.set()
    await sup.stop(grace=1)
    assert sup.states["dispatcher"].state == STOPPED


async def test_while_backing_off_the_task_is_reported_unhealthy() -> None:
    sup = Supervisor(backoff_base=30, backoff_cap=30)

    async def broken() -> None:
        raise OSError("disk full")

    sup.spawn("dispatcher", broken)
    await _until(sup, lambda: sup.states["dispatcher"].state == BACKING_OFF)
    [down] = sup.unhealthy()
    assert down.as_json()["task"] == "dispatcher" and "disk full" in str(down.as_json()["error"])
    await sup.stop(grace=1)  # stop does not wait out the 30 s back-off


async def test_a_configuration_error_stops_the_task_with_an_alarm(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sup = Supervisor(backoff_base=0.01)
    runs: list[int] = []

    async def revoked() -> None:
        runs.append(1)
        raise ConfigurationError("Bot API answered 401 Unauthorized")

    with caplog.at_level(logging.CRITICAL):
        task = sup.spawn("dispatcher", revoked)
        await task
    assert runs == [1]  # not retried forever
    assert sup.states["dispatcher"].state == FAILED
    assert "configuration error" in caplog.text
    assert [s.name for s in sup.unhealthy()] == ["dispatcher"]


async def test_a_task_that_returns_on_its_own_is_restarted() -> None:
    sup = Supervisor(backoff_base=0.01)
    runs: list[int] = []

    async def quits() -> None:
        runs.append(1)
        if len(runs) > 1:
            await sup.stopping.wait()

    sup.spawn("poller", quits)
    await _until(sup, lambda: len(runs) == 2)
    assert sup.states["poller"].last_error == "exited without being asked to stop"
    await sup.stop(grace=1)


def test_reported_job_outcomes() -> None:
    sup = Supervisor()
    sup.report("poll:portal", error="storage: OperationalError")
    assert [s.name for s in sup.unhealthy()] == ["poll:portal"]
    sup.report("poll:portal", error=None)
    assert sup.unhealthy() == []


async def test_a_task_that_stops_beating_is_reported_stalled() -> None:
    clock = [100.0]
    sup = Supervisor(monotonic=lambda: clock[0])
    hang = asyncio.Event()

    async def loop() -> None:
        sup.beat("dispatcher")
        await hang.wait()  # a database call that never returns

    sup.spawn("dispatcher", loop, stall_after=30)
    await _until(sup, lambda: sup.states["dispatcher"].last_beat is not None)
    assert sup.unhealthy() == []
    clock[0] += 31
    [stalled] = sup.unhealthy()
    assert stalled.state == "stalled" and stalled.as_json()["state"] == "stalled"
    hang.set()
    await sup.stop(grace=1)


async def test_an_alarm_marks_a_part_failed_and_cancel_stops_one_task() -> None:
    sup = Supervisor()
    sup.alarm("channel:telegram", "Unauthorized")
    [down] = sup.unhealthy()
    assert (down.name, down.state, down.last_error) == ("channel:telegram", FAILED, "Unauthorized")

    async def forever() -> None:
        await asyncio.Event().wait()

    sup.spawn("telegram:updates", forever)
    await _until(sup, lambda: sup.states["telegram:updates"].state == RUNNING)
    await sup.cancel("telegram:updates")
    assert sup.states["telegram:updates"].state == STOPPED
    await sup.stop(grace=1)
