"""The per-month household counts behind the console's trend stay equal to a year of
contacts counted directly, whatever writes the contacts: new reports, undo, a corrected
date or kind, a deleted row, a household moved to another village."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, extract, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Contact, Household
from storage.office_pages import monthly_coverage
from storage.office_scope import units_under
from storage.stats_scope import DUTY_KINDS
from tests import factories as f

SINCE, TODAY = date(2025, 12, 1), date(2026, 11, 30)
PATHS = ("博白县", "博白县/顿谷镇", "博白县/顿谷镇/旧门村", "博白县/沙河镇/石桥村")


async def _counted_from_contacts(s: AsyncSession, path: str) -> dict[tuple[int, int], int]:
    """The reference: distinct households per month straight from the contacts."""
    y, m = extract("year", Contact.occurred_on), extract("month", Contact.occurred_on)
    rows = await s.execute(
        select(y, m, func.count(func.distinct(Contact.household_id)))
        .join(Household, Household.id == Contact.household_id)
        .where(
            Contact.deleted_at.is_(None),
            Contact.kind.in_(DUTY_KINDS),
            Contact.occurred_on >= SINCE,
            Contact.occurred_on <= TODAY,
            Household.village_id.in_(units_under(path)),
        )
        .group_by(y, m)
    )
    return {(int(a), int(b)): int(n) for a, b, n in rows if n}


async def _same(db: Database) -> dict[tuple[int, int], int]:
    async with db.sessions() as s:
        for path in PATHS:
            assert await monthly_coverage(s, path, SINCE, TODAY) == await _counted_from_contacts(
                s, path
            ), path
        return await monthly_coverage(s, "博白县", SINCE, TODAY)


async def test_trend_counts_follow_every_write(db: Database) -> None:
    async with db.transaction() as s:
        v1 = await f.unit(s, "博白县/顿谷镇/旧门村")
        v2 = await f.unit(s, "博白县/沙河镇/石桥村")
        cadre = await f.cadre(s, "王建国", at=v1)
        a = await f.household(s, "黄大福", village=v1)
        b = await f.household(s, "陈阿婆", village=v1)
        c = await f.household(s, "周小明", village=v2)
        first = await f.contact(s, cadre, a, "visit", date(2026, 11, 3))
        second = await f.contact(s, cadre, a, "call", date(2026, 11, 20))  # same month
        await f.contact(s, cadre, b, "call", date(2026, 10, 31))
        await f.contact(s, cadre, c, "visit", date(2026, 11, 1))
        await f.contact(s, cadre, c, "other", date(2026, 9, 1))  # not a duty contact
        await f.contact(s, cadre, b, "call", date(2025, 11, 30))  # before the year
    assert await _same(db) == {(2026, 10): 1, (2026, 11): 2}

    async with db.transaction() as s:  # undo one of two November contacts: still contacted
        await s.execute(
            update(Contact)
            .where(Contact.id == first.id)
            .values(deleted_at=datetime(2026, 11, 21, tzinfo=UTC))
        )
    assert (await _same(db))[(2026, 11)] == 2
    async with db.transaction() as s:  # the other one corrected to October
        await s.execute(
            update(Contact).where(Contact.id == second.id).values(occurred_on=date(2026, 10, 9))
        )
    assert await _same(db) == {(2026, 10): 2, (2026, 11): 1}
    async with db.transaction() as s:  # 周小明 moves to 旧门村; the visit was a call after all
        await s.execute(update(Household).where(Household.id == c.id).values(village_id=v1.id))
        await s.execute(update(Contact).where(Contact.household_id == c.id).values(kind="call"))
    async with db.sessions() as s:
        assert await monthly_coverage(s, "博白县/沙河镇", SINCE, TODAY) == {}
        assert (await monthly_coverage(s, "博白县/顿谷镇", SINCE, TODAY))[(2026, 11)] == 1
    assert await _same(db) == {(2026, 9): 1, (2026, 10): 2, (2026, 11): 1}
    async with db.transaction() as s:  # undone undo, then a row deleted outright
        await s.execute(update(Contact).where(Contact.id == first.id).values(deleted_at=None))
        await s.execute(delete(Contact).where(Contact.household_id == c.id))
    assert await _same(db) == {(2026, 10): 2, (2026, 11): 1}
