"""A household's programme status (脱贫 / 监测户 / 已消除风险 / 退出) and its date.

退出 also ends the household's pairings and marks it exited: no more duties, no coverage, no
score; its records stay. The other statuses are shown and exported, and change nothing else.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update

from storage.audit import audit_now
from storage.core_db import Executor
from storage.roster_changes import active_pairings, end_pairings
from storage.tables import households
from storage.tables.household import HOUSEHOLD_EXITED

# A household's standing in the programme, with the day it took effect. 退出 ends its duties.
HOUSEHOLD_STATUSES = ("脱贫", "监测户", "已消除风险", "退出")
HOUSEHOLD_EXIT = "退出"


async def set_household_status(
    session: Executor,
    household_id: int,
    label: str,
    *,
    on: date,
    now: datetime,
    actor: str,
    reason: str = "",
) -> int:
    """Record the status as of `on`; for 退出 end the pairings. Returns pairings ended."""
    ended = 0
    values: dict[str, Any] = {"poverty_status": label, "status_date": on}
    if label == HOUSEHOLD_EXIT:
        lines = await active_pairings(session, household_ids=[household_id])
        why = f"户退出：{reason}" if reason else "户退出"
        await end_pairings(session, [p.id for p in lines], on=on, reason=why)
        values["status"] = HOUSEHOLD_EXITED
        ended = len(lines)
    await session.execute(
        update(households).where(households.c.id == household_id).values(**values)
    )
    await audit_now(
        session,
        at=now,
        actor=actor,
        action="household.exit" if label == HOUSEHOLD_EXIT else "household.status",
        entity="household",
        entity_id=household_id,
        status=label,
        on=on.isoformat(),
        reason=reason,
        pairings_ended=ended,
    )
    return ended
