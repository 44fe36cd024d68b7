"""Small factories for roster data: units, cadres, households, pairings, accounts, reports.

Each takes an open session, adds one row, flushes (so ids are set) and returns it. Defaults
are plausible 博白 data; pass only what a test cares about.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Cadre,
    ChatAccount,
    Contact,
    Event,
    Household,
    Pairing,
    Unit,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # creation time of roster rows
_seq = itertools.count(1)


async def _add(session: AsyncSession, row: Any) -> Any:
    session.add(row)
    await session.flush()
    return row


async def unit(session: AsyncSession, path: str = "博白县/顿谷镇/旧门村") -> Unit:
    """The unit at `path`, creating it and its parents as needed."""
    parent: Unit | None = None
    parts = path.split("/")
    for depth in range(len(parts)):
        sub = "/".join(parts[: depth + 1])
        found = await session.scalar(select(Unit).where(Unit.path == sub))
        parent = found or await _add(
            session,
            Unit(
                name=parts[depth],
                path=sub,
                depth=depth,
                parent_id=parent.id if parent else None,
            ),
        )
    assert parent is not None
    return parent


async def cadre(
    session: AsyncSession, name: str = "", *, at: Unit | None = None, **kw: Any
) -> Cadre:
    n = next(_seq)
    owner = at or await unit(session, "博白县/县直/组织部")
    fields: dict[str, Any] = {
        "name": name or f"干部{n}",
        "rank": "一般干部",
        "unit_id": owner.id,
        "phone": f"139{n:08d}",
        "created_at": T0,
    }
    return await _add(session, Cadre(**{**fields, **kw}))


async def household(
    session: AsyncSession, head_name: str = "", *, village: Unit | None = None, **kw: Any
) -> Household:
    n = next(_seq)
    place = village or await unit(session)
    fields: dict[str, Any] = {
        "head_name": head_name or f"户主{n}",
        "village_id": place.id,
        "code": f"H{n:06d}",
        "created_at": T0,
    }
    return await _add(session, Household(**{**fields, **kw}))


async def pairing(
    session: AsyncSession, who: Cadre, hh: Household, *, start: date = date(2026, 1, 1), **kw: Any
) -> Pairing:
    return await _add(session, Pairing(cadre_id=who.id, household_id=hh.id, start_date=start, **kw))


async def account(
    session: AsyncSession, who: Cadre, channel: str = "telegram", **kw: Any
) -> ChatAccount:
    n = next(_seq)
    fields: dict[str, Any] = {
        "account_id": f"{channel}-{n}",
        "chat_id": str(100000 + n),
        "bound_at": T0,
        "language": "zh",
    }
    return await _add(session, ChatAccount(cadre_id=who.id, channel=channel, **{**fields, **kw}))


async def contact(
    session: AsyncSession, who: Cadre, hh: Household, kind: str, on: date, **kw: Any
) -> Contact:
    """A reported call or visit that happened on `on`."""
    reported = datetime(on.year, on.month, on.day, 12, tzinfo=UTC)
    fields: dict[str, Any] = {"reported_at": reported, "summary": "测试"}
    return await _add(
        session,
        Contact(cadre_id=who.id, household_id=hh.id, kind=kind, occurred_on=on, **{**fields, **kw}),
    )


async def event(
    session: AsyncSession, who: Cadre, hh: Household, kind: str, on: date, due: date, **kw: Any
) -> Event:
    reported = datetime(on.year, on.month, on.day, 12, tzinfo=UTC)
    return await _add(
        session,
        Event(
            cadre_id=who.id,
            household_id=hh.id,
            kind=kind,
            occurred_on=on,
            visit_due_on=due,
            reported_at=reported,
            **kw,
        ),
    )


async def county(
    session: AsyncSession, *, cadres: int, households_each: int, channel: str = "telegram"
) -> list[Cadre]:
    """`cadres` cadres, each paired with `households_each` new households and one account."""
    village = await unit(session)
    made = []
    for _ in range(cadres):
        who = await cadre(session)
        await account(session, who, channel)
        for _ in range(households_each):
            await pairing(session, who, await household(session, village=village))
        made.append(who)
    return made


async def clear_scope_counts(s: AsyncSession) -> None:
    """Empty the kept scope counts after every other table was emptied row by row (their
    triggers re-add what each deleted row took away)."""
    from sqlalchemy import text

    from storage.scope_counts import TABLES

    for name in TABLES:
        await s.execute(text(f"DELETE FROM {name}"))
