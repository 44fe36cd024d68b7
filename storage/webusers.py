"""Office accounts of the web console: stored with a password hash, never the password."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, insert, select, update

from storage.core_db import Executor
from storage.tables import units, web_users

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.models import Unit, WebUser

ROLES = ("admin", "supervisor", "viewer")


async def user_by_name(session: Executor, name: str) -> Row[Any] | None:
    """The account of this name: its row of the web_users table."""
    return (await session.execute(select(web_users).where(web_users.c.name == name))).first()


async def user_with_unit(session: AsyncSession, user_id: int) -> tuple[WebUser, Unit] | None:
    """An active account and its unit, or None (unknown or disabled)."""
    from storage.models import Unit, WebUser

    row = (
        await session.execute(
            select(WebUser, Unit)
            .join(Unit, Unit.id == WebUser.unit_id)
            .where(WebUser.id == user_id, WebUser.active.is_(True))
        )
    ).first()
    return (row[0], row[1]) if row else None


async def add_user(
    session: Executor, *, name: str, unit_id: int, role: str, password_hash: str, at: datetime
) -> int:
    """A new account; its id."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    result = await session.execute(
        insert(web_users).values(
            name=name, unit_id=unit_id, role=role, password_hash=password_hash, created_at=at
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[attr-defined]


async def list_users(session: Executor) -> list[tuple[Row[Any], str]]:
    """Every account (its row of web_users) with its unit path, by unit then name."""
    rows = await session.execute(
        select(web_users, units.c.path.label("unit_path"))
        .join(units, units.c.id == web_users.c.unit_id)
        .order_by(units.c.path, web_users.c.name)
    )
    return [(row, row.unit_path) for row in rows]


async def set_active(session: Executor, user_id: int, active: bool) -> None:
    await session.execute(update(web_users).where(web_users.c.id == user_id).values(active=active))


async def set_password_hash(session: Executor, user_id: int, password_hash: str) -> None:
    await session.execute(
        update(web_users).where(web_users.c.id == user_id).values(password_hash=password_hash)
    )
