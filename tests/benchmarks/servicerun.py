"""The real service (`portal-notifier run`) as a child process against the fakes.

A fake portal (tests.fakes.portal_site) is its one source, the fake Bot API (in this
process, with Telegram's limits) its Telegram. The child gets its settings from the
environment only (its working folder is a scratch folder: no developer .env).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, PortalSite, build_site, mount
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60.0


@dataclass
class Service:
    """A running service process and the fakes it talks to."""

    proc: subprocess.Popen[bytes]
    portal: FakeHTTPServer
    site: PortalSite
    fake: FakeTelegram
    log: Path

    def status(self, field: str) -> int:
        """A /proc/<pid>/status field in kB (VmRSS, VmHWM) or a count (Threads)."""
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(rf"^{field}:\s+(\d+)", text, re.M)
        return int(found.group(1)) if found else 0

    def alive(self) -> bool:
        """The process has not exited."""
        return self.proc.poll() is None


def sources_toml(portal: FakeHTTPServer, interval: int) -> str:
    """One HTML source: the fake portal's listing, two pages deep."""
    return (
        f'[[source]]\nname = "portal"\nkind = "html"\nurls = ["{portal.url(LISTING_PATH)}"]\n'
        f"pages = 2\nallow_private = true\ninterval_seconds = {interval}\n"
    )


@contextmanager
def running_service(
    workdir: Path, db_url: str, *, interval: int, rate: float, env: dict[str, str] | None = None
) -> Iterator[Service]:
    """Start the fakes and `portal-notifier run`; stop all at exit (SIGTERM, then kill)."""
    site = build_site(n_articles=6, per_page=5)
    with FakeHTTPServer() as portal, FakeTelegram() as fake:
        mount(portal, site)
        fake.limits.global_per_second = max(30, int(rate) + 5)
        sources = workdir / "sources.toml"
        sources.write_text(sources_toml(portal, interval), encoding="utf-8")
        child_env = {
            "PATH": os.environ.get("PATH", ""),
            # BENCH_SERVICE_PYTHONPATH: e.g. a sitecustomize.py that starts a profiler.
            "PYTHONPATH": os.pathsep.join(
                p for p in (os.environ.get("BENCH_SERVICE_PYTHONPATH"), str(ROOT)) if p
            ),
            "DATABASE_URL": db_url,
            "SOURCES_FILE": str(sources),
            "POLL_INTERVAL_SECONDS": str(max(30, interval)),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.url,
            "TELEGRAM_GLOBAL_RATE": str(rate),
            "LISTEN_PORT": "0",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        exe = shutil.which("portal-notifier", path=str(Path(sys.executable).parent))
        cmd = [exe, "run"] if exe else [sys.executable, "-m", "bot.cli", "run"]
        log = workdir / "service.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(cmd, cwd=workdir, env=child_env, stdout=out, stderr=out)
        service = Service(proc, portal, site, fake, log)
        try:
            yield service
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until(check: Callable[[], bool], timeout: float, every: float = 0.05) -> None:
    """Poll a condition of another process (no event crosses the process boundary)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(every)
