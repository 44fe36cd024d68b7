"""Looking up cadres and units for the admin commands, and recording leave."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cadre, Unit


async def cadre_by_phone(session: AsyncSession, phone: str) -> Cadre | None:
    """The cadre with this (normalised) phone number."""
    return await session.scalar(select(Cadre).where(Cadre.phone == phone))


async def unit_by_path(session: AsyncSession, path: str) -> Unit | None:
    """The unit at this (normalised) path such as 博白县/顿谷镇."""
    return await session.scalar(select(Unit).where(Unit.path == path))


async def set_leave(session: AsyncSession, cadre_id: int, until: date | None) -> None:
    """On leave through `until` (inclusive); None ends the leave."""
    await session.execute(update(Cadre).where(Cadre.id == cadre_id).values(leave_until=until))
