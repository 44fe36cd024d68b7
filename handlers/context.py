"""What a handler needs from the process: the database, a clock, the policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from core.clock import Clock
from core.policy import Policy
from core.types import Reply
from storage.db import Database


class GroupCommands(Protocol):
    """Supervisor commands in a bound group, provided by the reminders package via bot/."""

    async def digest(self, unit_id: int, lang: str) -> list[Reply]: ...

    async def overdue(self, unit_id: int, lang: str) -> list[Reply]: ...


@dataclass
class Context:
    db: Database
    clock: Clock
    policy: Policy
    invite_ttl: timedelta = timedelta(hours=72)
    group_commands: GroupCommands | None = None
    bot_username: str = ""  # for Telegram deep links in texts
    # When the weekly digest goes out (the schedule's setting), for texts that describe it.
    digest_day: str = "mon"
    digest_time: str = "08:30"
