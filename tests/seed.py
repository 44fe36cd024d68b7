"""A tiny roster for flow tests: one village, two cadres, their households, invites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.db import Database
from storage.invites import create_invite
from storage.models import Cadre, Household, Pairing, Unit


@dataclass
class Seed:
    county_id: int
    village_id: int
    cadre_id: int
    other_cadre_id: int
    households: dict[str, int]  # head name -> id (mine)
    other_household_id: int
    code: str
    group_code: str


async def seed(db: Database, now: datetime) -> Seed:
    async with db.transaction() as s:
        county = Unit(name="博白县", path="博白县", depth=0)
        s.add(county)
        await s.flush()
        town = Unit(name="顿谷镇", path="博白县/顿谷镇", parent_id=county.id, depth=1)
        s.add(town)
        await s.flush()
        village = Unit(name="旧门村", path="博白县/顿谷镇/旧门村", parent_id=town.id, depth=2)
        s.add(village)
        await s.flush()
        me = Cadre(name="王建国", rank="正科", unit_id=town.id, phone="13800000001", created_at=now)
        other = Cadre(
            name="李卫东", rank="副科", unit_id=town.id, phone="13800000002", created_at=now
        )
        s.add_all([me, other])
        await s.flush()
        names = ["张三", "李四", "王小明", "陈美玲"]
        mine = [
            Household(head_name=n, village_id=village.id, created_at=now, phone="") for n in names
        ]
        stranger = Household(head_name="赵六", village_id=village.id, created_at=now, phone="")
        s.add_all([*mine, stranger])
        await s.flush()
        start = date(2024, 1, 1)
        s.add_all([Pairing(cadre_id=me.id, household_id=h.id, start_date=start) for h in mine])
        s.add(Pairing(cadre_id=other.id, household_id=stranger.id, start_date=start))
        code = await create_invite(
            s, kind="cadre", cadre_id=me.id, now=now, ttl=timedelta(hours=72)
        )
        group_code = await create_invite(
            s, kind="group", unit_id=town.id, now=now, ttl=timedelta(hours=72)
        )
        return Seed(
            county_id=county.id,
            village_id=village.id,
            cadre_id=me.id,
            other_cadre_id=other.id,
            households={h.head_name: h.id for h in mine},
            other_household_id=stranger.id,
            code=code,
            group_code=group_code,
        )
