"""The audit log: who changed what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
    session.add(
        AuditLog(
            at=at,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail=detail,
        )
    )


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
