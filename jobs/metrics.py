"""Prometheus metrics (prometheus_client): what the service counts, and the queue read at scrape.

Counters and histograms live in one registry that every layer may update (jobs/ and bot/
both import this module; it imports nothing of ours but storage). `/metrics` renders it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.deliveries import CHATS
from storage.deliveries import DELIVERIES as QUEUE
from storage.types import utcnow

log = logging.getLogger(__name__)

__all__ = ["CONTENT_TYPE_LATEST", "REGISTRY", "render"]

REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

POLLS = Counter(
    "portal_polls",
    "Polls of a source by outcome (ok, unchanged, failed, skipped).",
    ["source", "outcome"],
    registry=REGISTRY,
)
ARTICLES = Counter(
    "portal_articles_stored",
    "Articles stored by polls (kind: new or edited).",
    ["source", "kind"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "portal_deliveries",
    "Delivery attempts by platform and outcome (sent, failed, retry, ambiguous, unreachable).",
    ["platform", "state"],
    registry=REGISTRY,
)
SEND_SECONDS = Histogram(
    "portal_send_seconds",
    "Time of one send to a chat platform.",
    ["platform"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "portal_rate_limited",
    "Answers 429 (too many requests) from a chat platform.",
    ["platform"],
    registry=REGISTRY,
)
COMMAND_SECONDS = Histogram(
    "portal_command_seconds",
    "Time to answer one command (database work included, sending excluded).",
    ["command"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
# Commands are labelled by name only when known (a typed name must not grow the label set).
KNOWN_COMMANDS: set[str] = set()


def observe_command(name: str, seconds: float) -> None:
    """Record one command's latency; unknown names are counted as "other"."""
    COMMAND_SECONDS.labels(name if name in KNOWN_COMMANDS else "other").observe(seconds)


# A send's outcome (jobs.delivery.outbound's class names) as the state the metrics count.
_SEND_STATES = {
    "Sent": "sent",
    "RetryAfter": "rate_limited",
    "TemporaryFailure": "retry",
    "Ambiguous": "ambiguous",
    "RecipientGone": "unreachable",
    "PermanentFailure": "failed",
    "ConfigurationError": "refused",
}


def observe_send(platform: str, outcome: str, seconds: float) -> None:
    """Record one send: its latency, its outcome, and a 429 when it was refused for speed."""
    SEND_SECONDS.labels(platform).observe(seconds)
    state = _SEND_STATES.get(outcome, "failed")
    DELIVERIES.labels(platform, state).inc()
    if state == "rate_limited":
        RATE_LIMITED.labels(platform).inc()


def observe_poll(source: str, *, outcome: str, new: int = 0, edited: int = 0) -> None:
    """Record one poll's outcome and the articles it stored."""
    POLLS.labels(source, outcome).inc()
    if new:
        ARTICLES.labels(source, "new").inc(new)
    if edited:
        ARTICLES.labels(source, "edited").inc(edited)


class QueueCollector(Collector):
    """Queue depth by platform and state, and the age of the oldest due row, read at scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "portal_queue_depth", "Delivery rows not yet sent.", labels=["platform", "state"]
        )
        age = GaugeMetricFamily(
            "portal_queue_oldest_due_seconds",
            "Age of the oldest pending row that is due (0: none).",
            labels=["platform"],
        )
        try:
            rows, oldest = self._read(utcnow())
        except Exception as exc:  # a scrape during a database outage shows no queue, not a 500
            log.warning("metrics: cannot read the queue: %r", exc)
            return
        for (platform, state), n in sorted(rows.items()):
            depth.add_metric([platform, state], n)
        for platform, seconds in sorted(oldest.items()):
            age.add_metric([platform], seconds)
        yield depth
        yield age

    def _read(self, now: datetime) -> tuple[dict[tuple[str, str], int], dict[str, float]]:
        d, c = QUEUE.c, CHATS.c
        with session_scope(self.engine) as session:
            grouped = session.execute(
                select(c.platform, d.state, func.count())
                .join(CHATS, c.id == d.chat_id)
                .where(d.state.in_(("pending", "sending")))
                .group_by(c.platform, d.state)
            ).all()
            due = session.execute(
                select(c.platform, func.min(d.not_before))
                .join(CHATS, c.id == d.chat_id)
                .where(d.state == "pending", d.not_before <= now)
                .group_by(c.platform)
            ).all()
        rows = {(str(p), str(s)): int(n) for p, s, n in grouped}
        oldest = {str(p): max(0.0, (now - first).total_seconds()) for p, first in due if first}
        return rows, oldest


_queue: list[QueueCollector] = []


def watch_queue(engine: Engine) -> None:
    """Report this engine's queue at each scrape (the last call wins)."""
    for old in _queue:
        REGISTRY.unregister(old)
    _queue[:] = [QueueCollector(engine)]
    REGISTRY.register(_queue[0])


def render() -> bytes:
    """The registry in Prometheus' text format (blocking: reads the queue)."""
    return generate_latest(REGISTRY)
