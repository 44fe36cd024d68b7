"""Clocks for tests that run real processes: time starts where the test says, never at the wall clock."""

from __future__ import annotations

import time
from datetime import datetime, timedelta


class RunningClock:
    """Starts at `start` and runs with real (monotonic) time: rate limits need time to pass."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("RunningClock needs an aware datetime")
        self.tz, self._start, self._t0 = start.tzinfo, start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)
