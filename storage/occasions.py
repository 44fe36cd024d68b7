"""Personal occasions (保康): live pairings whose household's birthday or 入党纪念日 falls on a day."""

from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import extract, or_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.duties import (
    VISIT_KINDS,
    CadreRange,
    PairingRow,
    _live_pairings,
    _row,
    _uncontacted,
    _with_state,
)
from storage.models import Household, Pairing

BIRTHDAY, PARTY_DAY = "birthday", "party_day"


def _month_day(column: object, day: date) -> object:
    """The column's month and day are `day`'s (29 February counts on the 28th otherwise)."""
    same = (extract("month", column) == day.month) & (extract("day", column) == day.day)  # type: ignore[arg-type]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        leap = (extract("month", column) == 2) & (extract("day", column) == 29)  # type: ignore[arg-type]
        return or_(same, leap)
    return same


async def pairings_with_occasion(
    session: AsyncSession,
    *,
    today: date,
    kind: str,
    on: date,
    members_only: bool,
    since: date,
    until: date,
    cadres: CadreRange | None = None,
) -> list[PairingRow]:
    """Live pairings whose household's birthday (or 入党纪念日) is on `on`, not yet visited
    by the pairing's cadre between since and until."""
    column = Household.birth_date if kind == BIRTHDAY else Household.party_date
    stmt = (
        _with_state(_live_pairings(today, cadres), cadres)
        .where(column.is_not(None), _month_day(column, on))  # type: ignore[arg-type]
        .where(_uncontacted(VISIT_KINDS, since, until, cadres))
        .order_by(Pairing.cadre_id, Pairing.id)
    )
    if members_only or kind == PARTY_DAY:
        stmt = stmt.where(Household.party_member.is_(True))
    return [_row(r) for r in (await session.execute(stmt)).all()]
