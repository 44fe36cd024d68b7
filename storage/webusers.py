"""Office accounts of the web console: stored with a password hash, never the password."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Unit, WebUser

ROLES = ("admin", "supervisor", "viewer")


async def user_by_name(session: AsyncSession, name: str) -> WebUser | None:
    return await session.scalar(select(WebUser).where(WebUser.name == name))


async def user_with_unit(session: AsyncSession, user_id: int) -> tuple[WebUser, Unit] | None:
    """An active account and its unit, or None (unknown or disabled)."""
    row = (
        await session.execute(
            select(WebUser, Unit)
            .join(Unit, Unit.id == WebUser.unit_id)
            .where(WebUser.id == user_id, WebUser.active.is_(True))
        )
    ).first()
    return (row[0], row[1]) if row else None


async def add_user(
    session: AsyncSession, *, name: str, unit_id: int, role: str, password_hash: str, at: datetime
) -> WebUser:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = WebUser(
        name=name, unit_id=unit_id, role=role, password_hash=password_hash, created_at=at
    )
    session.add(user)
    await session.flush()
    return user


async def list_users(session: AsyncSession) -> list[tuple[WebUser, str]]:
    """Every account with its unit path, by unit then name."""
    rows = await session.execute(
        select(WebUser, Unit.path)
        .join(Unit, Unit.id == WebUser.unit_id)
        .order_by(Unit.path, WebUser.name)
    )
    return [(u, p) for u, p in rows]


async def set_active(session: AsyncSession, user_id: int, active: bool) -> None:
    await session.execute(update(WebUser).where(WebUser.id == user_id).values(active=active))


async def set_password_hash(session: AsyncSession, user_id: int, password_hash: str) -> None:
    await session.execute(
        update(WebUser).where(WebUser.id == user_id).values(password_hash=password_hash)
    )
