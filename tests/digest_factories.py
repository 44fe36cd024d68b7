"""A small county built row by row for the digest tests (kept apart from tests/factories.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Cadre,
    ChatAccount,
    Contact,
    DiaryEntry,
    Event,
    Household,
    Pairing,
    Problem,
    SupervisorGroup,
    Unit,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class CountyBuilder:
    """Adds units, cadres, households and records to one session; flushes to get ids."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        self.units: dict[str, Unit] = {}
        self._phone = 13800000000

    async def _add(self, obj: object) -> None:
        self.s.add(obj)
        await self.s.flush()

    async def unit(self, path: str) -> Unit:
        """The unit at `path`, creating it and its parents as needed."""
        if path in self.units:
            return self.units[path]
        found = await self.s.scalar(select(Unit).where(Unit.path == path))
        if found is not None:
            self.units[path] = found
            return found
        parent = await self.unit(path.rsplit("/", 1)[0]) if "/" in path else None
        u = Unit(
            name=path.rsplit("/", 1)[-1],
            path=path,
            parent_id=parent.id if parent else None,
            depth=path.count("/"),
        )
        await self._add(u)
        self.units[path] = u
        return u

    async def cadre(
        self,
        name: str,
        unit_path: str,
        *,
        leave_until: date | None = None,
        account: bool = True,
        blocked: bool = False,
    ) -> Cadre:
        self._phone += 1
        unit = await self.unit(unit_path)
        c = Cadre(
            name=name,
            unit_id=unit.id,
            phone=str(self._phone),
            leave_until=leave_until,
            created_at=T0,
        )
        await self._add(c)
        if account:
            await self._add(
                ChatAccount(
                    channel="telegram",
                    account_id=f"u{c.id}",
                    chat_id=f"u{c.id}",
                    cadre_id=c.id,
                    bound_at=T0,
                    blocked_at=T0 if blocked else None,
                )
            )
        return c

    async def household(
        self, head: str, village_path: str, *cadres: Cadre, status: str = "active"
    ) -> Household:
        village = await self.unit(village_path)
        h = Household(head_name=head, village_id=village.id, status=status, created_at=T0)
        await self._add(h)
        for c in cadres:
            await self._add(Pairing(cadre_id=c.id, household_id=h.id, start_date=date(2026, 1, 1)))
        return h

    async def contact(
        self, cadre: Cadre, h: Household, kind: str, day: date, *, deleted: bool = False
    ) -> Contact:
        c = Contact(
            cadre_id=cadre.id,
            household_id=h.id,
            kind=kind,
            occurred_on=day,
            reported_at=T0,
            deleted_at=T0 if deleted else None,
        )
        await self._add(c)
        return c

    async def diary(self, cadre: Cadre, day: date, opinion: str = "") -> None:
        await self._add(
            DiaryEntry(cadre_id=cadre.id, written_on=day, created_at=T0, opinion=opinion)
        )

    async def event(self, cadre: Cadre, h: Household, kind: str, day: date, due: date) -> Event:
        e = Event(
            household_id=h.id,
            cadre_id=cadre.id,
            kind=kind,
            occurred_on=day,
            visit_due_on=due,
            reported_at=T0,
        )
        await self._add(e)
        return e

    async def problem(
        self, cadre: Cadre, h: Household, raised: date, resolved_at: datetime | None = None
    ) -> Problem:
        p = Problem(
            household_id=h.id,
            cadre_id=cadre.id,
            description="饮水",
            raised_on=raised,
            status="resolved" if resolved_at else "open",
            resolved_at=resolved_at,
            created_at=T0,
        )
        await self._add(p)
        return p

    async def group(self, unit_path: str, channel: str, chat_id: str) -> SupervisorGroup:
        g = SupervisorGroup(
            unit_id=(await self.unit(unit_path)).id, channel=channel, chat_id=chat_id, bound_at=T0
        )
        await self._add(g)
        return g


async def sample_county(db: object) -> dict[str, int]:
    """博白县 with two townships, a department and an empty township; ids by short name.

    As of Monday 2026-11-23 (the week is 11-17 … 11-23): see tests/test_digest_stats.py for
    the figures this data must give.
    """
    d = date
    async with db.transaction() as s:  # type: ignore[attr-defined]
        b = CountyBuilder(s)
        await b.unit("博白县/空镇")
        zhang = await b.cadre("张三", "博白县/财政局")
        li = await b.cadre("李四", "博白县/顿谷镇")
        wang = await b.cadre("王五", "博白县/沙河镇", leave_until=d(2026, 11, 30))
        zhao = await b.cadre("赵六", "博白县/沙河镇", account=False)
        sun = await b.cadre("孙七", "博白县/沙河镇", blocked=True)
        h1 = await b.household("陈一", "博白县/顿谷镇/旧门村", zhang)
        h2 = await b.household("陈二", "博白县/顿谷镇/旧门村", zhang)
        h3 = await b.household("陈三", "博白县/顿谷镇/新村", zhang)
        h4 = await b.household("陈四", "博白县/顿谷镇/新村", li)
        await b.household("黄五", "博白县/沙河镇/河口村", wang)
        h6 = await b.household("黄六", "博白县/沙河镇/河口村", zhao)
        h7 = await b.household("黄七", "博白县/沙河镇/河口村", zhao)
        h8 = await b.household("黄八", "博白县/沙河镇/河口村", sun)
        await b.household("陈九", "博白县/顿谷镇/旧门村", zhang)
        # Out of the programme: no duty, not counted (as storage.duties does).
        await b.household("陈十", "博白县/顿谷镇/旧门村", zhang, status="exited")
        await b.contact(zhang, h1, "call", d(2026, 11, 20))
        await b.contact(zhang, h2, "visit", d(2026, 11, 5))
        await b.contact(zhang, h3, "call", d(2026, 10, 15))
        await b.contact(zhang, h3, "other", d(2026, 11, 21))  # "other" is no duty contact
        await b.contact(li, h4, "visit", d(2026, 10, 10))
        await b.contact(li, h4, "call", d(2026, 11, 22), deleted=True)  # undone
        await b.contact(zhao, h6, "call", d(2026, 11, 18))
        await b.contact(sun, h8, "call", d(2026, 11, 21))
        await b.contact(sun, h8, "call", d(2026, 11, 24))  # after the digest's day
        await b.diary(zhang, d(2026, 11, 20), opinion="希望修路")
        await b.diary(li, d(2026, 11, 19))
        await b.diary(zhang, d(2026, 11, 10))
        await b.event(zhang, h3, "illness", d(2026, 11, 10), d(2026, 11, 17))
        await b.event(zhao, h7, "dispute", d(2026, 11, 20), d(2026, 11, 27))
        await b.event(li, h4, "hardship", d(2026, 10, 5), d(2026, 10, 12))
        await b.problem(zhang, h1, d(2026, 11, 18))
        await b.problem(zhao, h6, d(2026, 11, 2), datetime(2026, 11, 19, 2, 0, tzinfo=UTC))
        # 00:30 on 11-17 in Shanghai: inside the week although 11-16 in UTC.
        await b.problem(sun, h8, d(2026, 11, 10), datetime(2026, 11, 16, 16, 30, tzinfo=UTC))
        ids = {k: v.id for k, v in b.units.items()}
        ids |= {"zhang": zhang.id, "li": li.id, "wang": wang.id, "zhao": zhao.id, "sun": sun.id}
    return ids
