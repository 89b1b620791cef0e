"""Injected faults of the fake Bot API: 5xx answers, late answers, dropped connections."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass

from tests.fakes.telegram_http import Response

# Telegram's front end (nginx) answers a 502 with an HTML page, not JSON.
BAD_GATEWAY_HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@dataclass(frozen=True)
class Fault:
    """One injected fault for the next matching call."""

    kind: str  # "fail" | "delay" | "drop"
    method: str | None  # None: any method
    status: int = 500
    seconds: float = 0.0
    after_record: bool = False


class FaultQueue:
    """Faults in the order they were asked for; each call takes the first one for its method."""

    def __init__(self) -> None:
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()

    def add(self, n: int, fault: Fault) -> None:
        """Apply `fault` to the next n matching calls."""
        with self._lock:
            self._faults.extend([fault] * n)

    def take(self, method: str) -> Fault | None:
        """The first fault for `method`, removed from the queue."""
        with self._lock:
            for fault in self._faults:
                if fault.method is None or fault.method == method:
                    self._faults.remove(fault)
                    return fault
        return None

    def __len__(self) -> int:
        return len(self._faults)


def server_error(status: int) -> Response:
    """A 5xx answer: 502 as nginx's HTML page, others as Bot API JSON."""
    if status == 502:
        return Response(502, BAD_GATEWAY_HTML, content_type="text/html")
    body = {"ok": False, "error_code": status, "description": "Internal Server Error"}
    return Response(status, json.dumps(body).encode())
