"""Prometheus metrics of the bot process, served as GET /metrics on its web port.

    bangfu_updates_total{channel}                updates (messages, presses) handled
    bangfu_reply_seconds{channel}                an update's arrival to its first answer accepted
                                                 by the platform (sent at once, or from the outbox)
    bangfu_outbox_messages{state}                outbox rows by state, read at each scrape
    bangfu_send_failures_total{platform,code}    sends a platform refused, or that failed
    bangfu_job_seconds{job}                      sweep, digest and review durations

Other modules record through the small functions below, so none of them imports
prometheus_client. Labels carry platform names and error codes only: never a chat id.
`bangfu run` serves the route through the `plug` below (a service part, in the default
`settings.services`) and counts updates through `MeteredCore`, the core every channel calls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import (  # the one module that imports it
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from core.types import Inbound, Reply
from handlers.gateway import Core
from storage.outbox import count_by_status

if TYPE_CHECKING:
    from bot.host import Host

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()
UPDATES = Counter(
    "bangfu_updates", "Updates (messages, button presses) handled", ["channel"], registry=REGISTRY
)
REPLY_SECONDS = Histogram(
    "bangfu_reply_seconds",
    "Seconds from an update's arrival until its first answer is accepted by the platform",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
OUTBOX = Gauge("bangfu_outbox_messages", "Outbox rows by state", ["state"], registry=REGISTRY)
SEND_FAILURES = Counter(
    "bangfu_send_failures",
    "Sends that failed, by platform and error code",
    ["platform", "code"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "bangfu_job_seconds",
    "Duration of scheduled jobs (sweep, digest, review)",
    ["job"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
OUTBOX_STATES = ("pending", "sending", "sent", "failed", "dead")
SCRAPE_TIMEOUT_SECONDS = 5.0

OutboxCounts = Callable[[], Awaitable[dict[str, int]]]


def update_handled(channel: str) -> None:
    """One update handled by the core."""
    UPDATES.labels(channel).inc()


def answer_sent(channel: str, seconds: float) -> None:
    """An update's first answer accepted by the platform, `seconds` after the update came."""
    REPLY_SECONDS.labels(channel).observe(max(0.0, seconds))


def send_failed(platform: str, code: str) -> None:
    SEND_FAILURES.labels(platform, code or "unknown").inc()


def error_code(exc: BaseException) -> str:
    """The platform's code on a SendError; the exception's type for anything else."""
    code = getattr(exc, "code", "")
    return code if isinstance(code, str) and code else type(exc).__name__


@contextmanager
def timed_job(job: str) -> Iterator[None]:
    """Observe how long a scheduled job's body took (also when it fails)."""
    started = time.monotonic()
    try:
        yield
    finally:
        JOB_SECONDS.labels(job).observe(time.monotonic() - started)


def metrics_route(outbox_counts: OutboxCounts) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /metrics: the registry in Prometheus' text format, outbox depth read now."""

    async def metrics(_request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(SCRAPE_TIMEOUT_SECONDS):
                counts = await outbox_counts()
        except Exception as exc:  # the other metrics are still worth serving
            log.warning("metrics: outbox not counted: %s", type(exc).__name__)
        else:
            for state in {*OUTBOX_STATES, *counts}:
                OUTBOX.labels(state).set(counts.get(state, 0))
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics


class MeteredCore(Core):
    """The core, counting each update it handles (the reply latency is measured where the
    answer is sent: bot/deliver.py and, for answers queued, bot/dispatch.py)."""

    async def handle(self, inbound: Inbound) -> list[Reply]:
        replies = await super().handle(inbound)
        update_handled(str(inbound.channel))
        return replies


class MetricsPart:
    """The /metrics route on the process's web app; nothing to start or stop."""

    def __init__(self, host: Host) -> None:
        self.db = host.db

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/metrics", metrics_route(self._outbox_counts))]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def _outbox_counts(self) -> dict[str, int]:
        async with self.db.transaction() as s:
            return await count_by_status(s)


def plug(host: Host) -> MetricsPart:
    return MetricsPart(host)
