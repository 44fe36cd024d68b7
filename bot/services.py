"""What `bangfu run` starts besides the channels: the scheduled jobs and the dispatcher.

This module is the default entry of settings.services: `plug(host)` builds the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.host import Host
from bot.schedule import DIGEST, REVIEW, SWEEP, JobFn, SchedulingService
from handlers.expiry import expire_idle_drafts
from reminders.digest_send import enqueue_digests
from reminders.escalate import run_escalation
from reminders.rounds import open_round
from storage.conversations import forget_processed_before

# Platforms stop redelivering within hours; a month of ids is ample and keeps the table small.
PROCESSED_RETENTION = timedelta(days=30)


def jobs_for(host: Host) -> Mapping[str, JobFn]:
    """The cron jobs, each a function of its scheduled moment."""
    db, policy, tz = host.db, host.settings.policy, host.settings.tz

    async def sweep(at: datetime) -> dict[str, Any]:
        # The day's round: its reminders are derived by the dispatcher as it sends them.
        result = await open_round(db, at, policy, lang=host.settings.language, tz=tz)
        # Lapsed duties go to the supervisors' groups with the same daily rhythm.
        escalated = await run_escalation(db, at, policy, tz=tz)
        async with db.transaction() as s:
            pruned = await forget_processed_before(s, at - PROCESSED_RETENTION)
        return {
            **result.detail(),
            "escalation": escalated.detail(),
            "pruned_inbound_ids": pruned,
        }

    async def digest(at: datetime) -> dict[str, Any]:
        return {"groups": await enqueue_digests(db, at, policy, "weekly", tz=tz)}

    async def review(at: datetime) -> dict[str, Any]:
        return {"groups": await enqueue_digests(db, at, policy, "monthly", tz=tz)}

    return {SWEEP: sweep, DIGEST: digest, REVIEW: review}


def housekeeping_for(host: Host) -> JobFn:
    async def chores(at: datetime) -> int:
        return await expire_idle_drafts(host.db, at, host.settings.policy)

    return chores


def plug(host: Host) -> SchedulingService:
    """The dispatcher (through every channel's senders) and the cron jobs."""
    return SchedulingService(host, jobs_for(host), housekeeping_for(host))
