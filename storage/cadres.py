"""Looking up cadres and units for the admin commands, and recording leave."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, select, update

from storage.core_db import Executor
from storage.tables import cadres, units


async def cadre_by_phone(session: Executor, phone: str) -> Row[Any] | None:
    """The cadre with this (normalised) phone number: its row of the cadres table."""
    return (await session.execute(select(cadres).where(cadres.c.phone == phone))).first()


async def unit_by_path(session: Executor, path: str) -> Row[Any] | None:
    """The unit at this (normalised) path such as 博白县/顿谷镇: its row of the units table."""
    return (await session.execute(select(units).where(units.c.path == path))).first()


async def set_leave(session: Executor, cadre_id: int, until: date | None) -> None:
    """On leave through `until` (inclusive); None ends the leave."""
    await session.execute(update(cadres).where(cadres.c.id == cadre_id).values(leave_until=until))
