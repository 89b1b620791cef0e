"""Every hostile source, polled for real in a memory-capped subprocess: it stays under 200 MB,
the ordinary source beside it keeps being polled and stored, and the hostile one's health
says what happened. Peak memory per case is printed (README: "Faults survived")."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hostile_cases import CASES, SECRET

ROOT = Path(__file__).resolve().parents[2]
PEAK_LIMIT_MB = 200
ADDRESS_CAP = 1_500_000_000  # the kernel stops the process long before the machine suffers
PEAKS: dict[str, float] = {}


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_CAP, ADDRESS_CAP))


def _run_case(case: str, tmp_path: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.hostile_cases", case, str(tmp_path / "h.db")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_cap_memory,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_source_is_survived_under_a_memory_cap(case: str, tmp_path: Path) -> None:
    result = _run_case(case, tmp_path)
    PEAKS[case] = result["peak_mb"]
    print(f"\nhostile case {case}: peak {result['peak_mb']} MB ({CASES[case][0]})")
    assert result["peak_mb"] < PEAK_LIMIT_MB
    for reports in result["polls"]:  # both polls: the ordinary source is read every time
        portal = next(r for r in reports if r["source"] == "portal")
        assert portal["failed"] is None, portal
    assert len([a for a in result["articles"] if a["source"] == "portal"]) >= 5
    if case == "baseline":
        return
    state = result["states"]["hostile"]  # a health row is always written
    assert state["last_attempt_at"] is not None
    hostile = [a for a in result["articles"] if a["source"] == "hostile"]
    if case == "feed_bad_chars":
        assert state["last_error"] is None and len(hostile) == 7
        future = next(a for a in hostile if a["url"].endswith("/future"))
        assert future["published_clamped"] is True
    elif case == "credentials_in_url":
        assert state["last_error"] is None and len(hostile) >= 5
        assert SECRET not in json.dumps(result["articles"]) + json.dumps(result["states"])
    else:
        assert state["last_error"] in {"unsafe_document", "too_large", "decoding"}, state
