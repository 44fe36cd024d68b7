"""Queries the WeCom channel needs: bound accounts and group robots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
