"""Queries the WeCom channel needs: bound accounts and group robots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.batch import chunks
from storage.models import ChatAccount, SupervisorGroup

ROBOT_CHANNEL = "wecom_robot"


async def account_is_bound(session: AsyncSession, channel: str, account_id: str) -> bool:
    found = await session.scalar(
        select(ChatAccount.id).where(
            ChatAccount.channel == channel, ChatAccount.account_id == account_id
        )
    )
    return found is not None


async def register_robot_group(
    session: AsyncSession, *, unit_id: int, key: str, title: str, now: datetime
) -> tuple[SupervisorGroup, bool]:
    """Add (or re-point and re-activate) a unit's group robot; True when it is new."""
    group = await session.scalar(
        select(SupervisorGroup).where(
            SupervisorGroup.channel == ROBOT_CHANNEL, SupervisorGroup.chat_id == key
        )
    )
    if group is not None:
        group.unit_id = unit_id
        group.active = True
        if title:
            group.title = title
        await session.flush()
        return group, False
    group = SupervisorGroup(
        unit_id=unit_id,
        channel=ROBOT_CHANNEL,
        chat_id=key,
        title=title,
        bound_at=now,
        active=True,
    )
    session.add(group)
    await session.flush()
    return group, True


async def wecom_bound_cadres(session: AsyncSession, cadre_ids: list[int]) -> set[int]:
    """Cadres among these that already have a WeCom account bound."""
    out: set[int] = set()
    for part in chunks(cadre_ids):
        rows = await session.scalars(
            select(ChatAccount.cadre_id).where(
                ChatAccount.channel == "wecom", ChatAccount.cadre_id.in_(part)
            )
        )
        out.update(rows)
    return out


async def bind_wecom_users(
    session: AsyncSession, found: dict[int, str], *, now: datetime, language: str
) -> list[tuple[int, str]]:
    """Bind each cadre to their WeCom userid; returns (cadre, userid) already someone else's."""
    taken: dict[str, int] = {}
    for part in chunks(sorted(set(found.values()))):
        rows = await session.execute(
            select(ChatAccount.account_id, ChatAccount.cadre_id).where(
                ChatAccount.channel == "wecom", ChatAccount.account_id.in_(part)
            )
        )
        taken.update({a: c for a, c in rows})
    conflicts = [(c, u) for c, u in found.items() if u in taken and taken[u] != c]
    new: list[dict[str, object]] = [
        {
            "channel": "wecom",
            "account_id": u,
            "chat_id": u,  # app messages are one-to-one: the userid is the chat
            "cadre_id": c,
            "language": language,
            "bound_at": now,
        }
        for c, u in found.items()
        if u not in taken
    ]
    for batch in chunks(new):
        await session.execute(insert(ChatAccount), batch)
    return conflicts
