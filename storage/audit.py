"""The audit log: who changed what."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select

from storage.core_db import Executor, execute_core
from storage.tables import audit_log

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


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
    """Note a change; the row is written with the session's other changes (an ORM session's
    unit of work: `audit_now` writes it at once, on any `Executor`)."""
    from storage.models import AuditLog

    session.add(AuditLog(**_row(at, actor, action, entity, entity_id, detail)))


async def audit_now(
    session: Executor,
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
    return insert(audit_log).values({n: bindparam(n) for n in names})


async def recent(
    session: Executor,
    *,
    action: str,
    since: datetime,
    actor: str | None = None,
    entity_id: str | None = None,
) -> tuple[int, datetime | None]:
    """How many `action` rows since `since` (by one actor, about one entity), and the last."""
    query = select(func.count(), func.max(audit_log.c.at)).where(
        audit_log.c.action == action, audit_log.c.at >= since
    )
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if entity_id is not None:
        query = query.where(audit_log.c.entity_id == entity_id)
    count, last = (await session.execute(query)).one()
    return int(count), last
