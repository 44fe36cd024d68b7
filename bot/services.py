"""What `bangfu run` starts besides the channels: the scheduled jobs and the dispatcher."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.run import Runtime, ServiceStarter
from bot.schedule import DIGEST, REVIEW, SWEEP, JobFn, scheduling_service
from handlers.expiry import expire_idle_drafts
from reminders.digest_send import enqueue_digests
from reminders.escalate import run_escalation
from reminders.sweep import run_sweep
from storage.conversations import forget_processed_before

# Platforms stop redelivering within hours; a month of ids is ample and keeps the table small.
PROCESSED_RETENTION = timedelta(days=30)


def jobs_for(rt: Runtime) -> Mapping[str, JobFn]:
    """The cron jobs, each a function of its scheduled moment."""
    db, policy, tz = rt.db, rt.settings.policy, rt.settings.tz

    async def sweep(at: datetime) -> dict[str, Any]:
        result = await run_sweep(db, at, policy, lang=rt.settings.language, tz=tz, keep=False)
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


def housekeeping_for(rt: Runtime) -> JobFn:
    async def chores(at: datetime) -> int:
        return await expire_idle_drafts(rt.db, at, rt.settings.policy)

    return chores


def default_services() -> list[ServiceStarter]:
    # Telegram's sender is added by the service itself; WeCom's wait in rt.senders.
    return [
        scheduling_service(
            jobs_for,
            extra_senders=lambda rt: list(rt.senders.values()),
            housekeeping=housekeeping_for,
        )
    ]
