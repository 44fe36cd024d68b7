"""Queries behind escalation: which supervisors' group covers a unit, and who is on leave."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cadre, SupervisorGroup, Unit

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    unit_id: int
    channel: str
    chat_id: str


def _ancestors(path: str) -> list[str]:
    """ "a/b/c" → ["a/b/c", "a/b", "a"]: the unit itself first, then upwards."""
    parts = path.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]


async def nearest_groups(
    session: AsyncSession, unit_ids: Iterable[int]
) -> dict[int, list[GroupRow]]:
    """For each unit, the active groups of the nearest unit at or above it that has any."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    paths = {u.id: u.path for u in await session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    wanted = sorted({p for path in paths.values() for p in _ancestors(path)})
    by_path: dict[str, list[GroupRow]] = {}
    for start in range(0, len(wanted), _CHUNK):
        stmt = (
            select(Unit.path, SupervisorGroup.id, Unit.id, SupervisorGroup.channel)
            .add_columns(SupervisorGroup.chat_id)
            .join(SupervisorGroup, SupervisorGroup.unit_id == Unit.id)
            .where(Unit.path.in_(wanted[start : start + _CHUNK]))
            .where(SupervisorGroup.active.is_(True))
            .order_by(SupervisorGroup.id)
        )
        for path, gid, uid, channel, chat_id in (await session.execute(stmt)).all():
            by_path.setdefault(path, []).append(GroupRow(gid, uid, channel, chat_id))
    out: dict[int, list[GroupRow]] = {}
    for uid, path in paths.items():
        for p in _ancestors(path):
            if p in by_path:
                out[uid] = by_path[p]
                break
    return out


async def cadre_units_and_leave(
    session: AsyncSession, cadre_ids: Iterable[int]
) -> dict[int, tuple[int, date | None]]:
    """cadre id → (unit id, on leave through this day or None)."""
    ids = sorted(set(cadre_ids))
    out: dict[int, tuple[int, date | None]] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = select(Cadre.id, Cadre.unit_id, Cadre.leave_until).where(
            Cadre.id.in_(ids[start : start + _CHUNK])
        )
        for cid, uid, leave in (await session.execute(stmt)).all():
            out[cid] = (uid, leave)
    return out
