"""The sample county behind `bangfu demo`: loaded through the real roster import."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.sample import load_sample_county
from storage.models import AuditLog, Cadre, Contact, Household, Pairing, Unit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def test_sample_county_loads_cadres_households_pairings_and_contacts(db):
    info = await load_sample_county(db, NOW)

    async with db.transaction() as s:
        count = {
            m.__tablename__: await s.scalar(select(func.count()).select_from(m))
            for m in (Cadre, Household, Pairing, Contact, AuditLog)
        }
        villages = set(await s.scalars(select(Unit.path).where(Unit.depth == 2)))
        demo = await s.get(Cadre, info.demo_cadre_id)
        heads = list(
            await s.scalars(
                select(Household.head_name)
                .where(Household.id.in_(info.demo_household_ids))
                .order_by(Household.id)
            )
        )
        last_contact = await s.scalar(select(func.max(Contact.occurred_on)))
    assert count == {"cadres": 8, "households": 30, "pairings": 30, "contacts": 5, "audit_log": 1}
    assert {"博白县/顿谷镇/旧门村", "博白县/东平镇/大坡村"} <= villages
    assert demo is not None and (demo.name, demo.phone) == ("李明", info.demo_cadre_phone)
    assert heads[0] == "张三" and len(heads) == 5
    assert last_contact is not None and last_contact < NOW.date()
    assert set(info.township_ids) == {"博白县/顿谷镇", "博白县/东平镇"}
