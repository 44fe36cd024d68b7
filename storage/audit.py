"""The audit log: who changed what."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import execute_core
from storage.models import AuditLog


def audit(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str = "",
    entity_id: object = "",
    **detail: Any,
) -> None:
    """Note a change; the row is written with the session's other changes."""
    session.add(AuditLog(**_row(at, actor, action, entity, entity_id, detail)))


async def audit_now(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str = "",
    entity_id: object = "",
    **detail: Any,
) -> None:
    """`audit`, written at once by one prebuilt INSERT: no unit of work to flush at commit."""
    await execute_core(session, _insert(), _row(at, actor, action, entity, entity_id, detail))


def _row(
    at: datetime, actor: str, action: str, entity: str, entity_id: object, detail: dict[str, Any]
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "detail": detail,
    }


@functools.cache
def _insert() -> Any:
    # The columns named, so the statement's parameters are the same whatever it is run with.
    names = ("at", "actor", "action", "entity", "entity_id", "detail")
    return insert(cast(Table, AuditLog.__table__)).values({n: bindparam(n) for n in names})


async def recent(
    session: AsyncSession,
    *,
    action: str,
    since: datetime,
    actor: str | None = None,
    entity_id: str | None = None,
) -> tuple[int, datetime | None]:
    """How many `action` rows since `since` (by one actor, about one entity), and the last."""
    query = select(func.count(), func.max(AuditLog.at)).where(
        AuditLog.action == action, AuditLog.at >= since
    )
    if actor is not None:
        query = query.where(AuditLog.actor == actor)
    if entity_id is not None:
        query = query.where(AuditLog.entity_id == entity_id)
    count, last = (await session.execute(query)).one()
    return int(count), last
