"""`bangfu outbox status` and `bangfu outbox requeue`: look at and revive queued messages."""

from __future__ import annotations

import argparse
from datetime import datetime

from bot.cli.adminkit import admin_command, open_core_db, say
from bot.cli.moment import clock_of
from bot.config import Settings, load_settings
from core.clock import SystemClock
from core.i18n import t
from core.policy import Policy
from storage import outbox, sweep_rounds


@admin_command
async def _status(args: argparse.Namespace) -> int:
    settings = load_settings()
    async with open_core_db(settings) as db, db.transaction() as s:
        counts = await outbox.count_by_status(s)
        waits = await outbox.pending_waits(s)
        jobs = await outbox.scheduled_jobs(s)
        rounds = await sweep_rounds.open_rounds(s)
    if not counts and not jobs and not rounds:
        say("outbox_cli.empty")
    for day in dict.fromkeys(r.stage_on for r in rounds):
        say("outbox_cli.round_open", day=day.isoformat())
    for job in jobs:
        say(
            "outbox_cli.job_scheduled",
            job=t(f"outbox_cli.job_{job.job}", settings.language),
            at=f"{job.at.astimezone(settings.tz):%Y-%m-%d %H:%M}",
            state=t(f"outbox_cli.job_{job.status}", settings.language),
        )
    for status in (outbox.PENDING, outbox.SENDING, outbox.SENT, outbox.FAILED, outbox.DEAD):
        if status in counts:
            say("outbox_cli.status_line", status=status, count=counts[status])
        if status == outbox.PENDING:
            _say_waits(waits, clock_of(args, settings).now(), settings)
    return 0


def why_waiting(w: outbox.Waiting, now: datetime, policy: Policy) -> str:
    """Why pending rows have not gone: due, quiet hours, retry, rate, or scheduled."""
    if w.next_attempt_at <= now:
        return "due"
    local = w.next_attempt_at.astimezone(now.tzinfo)
    if local.time() == policy.quiet_end:
        return "quiet"
    if w.retried:
        return "retry"
    return "rate" if w.handled else "scheduled"


def _say_waits(waits: list[outbox.Waiting], now: datetime, settings: Settings) -> None:
    """One line per reason: how many, from when, and the last error of retried rows."""
    now = now.astimezone(settings.tz)
    groups: dict[str, list[outbox.Waiting]] = {}
    for w in waits:
        groups.setdefault(why_waiting(w, now, settings.policy), []).append(w)
    for reason, ws in groups.items():
        first = min(w.next_attempt_at for w in ws).astimezone(settings.tz)
        error = next((w.last_error for w in ws if w.last_error), "")
        say(
            f"outbox_cli.wait_{reason}",
            count=sum(w.count for w in ws),
            at=f"{first:%Y-%m-%d %H:%M}",
            error=error[:80],
        )


@admin_command
async def _requeue(args: argparse.Namespace) -> int:
    settings = load_settings()
    statuses = [outbox.DEAD, outbox.FAILED] if args.failed else [outbox.DEAD]
    async with open_core_db(settings) as db, db.transaction() as s:
        n = await outbox.requeue(s, statuses, now=SystemClock(settings.tz).now())
    say("outbox_cli.requeued", count=n)
    return 0
