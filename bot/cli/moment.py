"""`--at` for commands that send: a past or present moment acts now; a future one is refused.

Sending "as of" a future moment would compute today's figures under that day's dedupe key
and hold them in the outbox until then, taking the place of the real run. A preview may look
ahead; a send may only look back (back-fill).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.config import Settings
from core.clock import Clock, SystemClock

# Seconds of clock skew between the admin's idea of "now" and ours that still count as now.
PRESENT = timedelta(minutes=1)


@dataclass(frozen=True)
class Moment:
    at: datetime  # as of when the command computes
    now: datetime  # the real moment the command runs

    @property
    def future(self) -> bool:
        return self.at > self.now + PRESENT


def clock_of(args: argparse.Namespace, settings: Settings) -> Clock:
    """The clock `main` was given (tests), else the real one in the configured zone."""
    clock = getattr(args, "clock", None)
    return clock if clock is not None else SystemClock(settings.tz)


def moment(args: argparse.Namespace, settings: Settings, at: datetime | None) -> Moment:
    """`at` (None: now) against now; a bare date of today means now, not later today."""
    now = clock_of(args, settings).now().astimezone(settings.tz)
    value = str(getattr(args, "at", "") or "")
    if at is None or (len(value) == 10 and date.fromisoformat(value) == now.date()):
        at = now
    return Moment(at=at, now=now)
