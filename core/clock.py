"""Injected time: logic asks a Clock, never datetime.now()."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    tz: tzinfo

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, aware in the configured timezone."""

    def __init__(self, tz: tzinfo = DEFAULT_TZ) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class FixedClock:
    """A clock tests and `--at` previews move by hand."""

    def __init__(self, at: datetime, tz: tzinfo | None = None) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.tz = tz or at.tzinfo
        self._at = at.astimezone(self.tz)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(self.tz)

    def advance(self, delta: timedelta) -> None:
        self._at = self._at + delta


def today(clock: Clock) -> date:
    return clock.now().date()
