"""Help plans (帮扶计划 / 连心卡): target and 主导产业, measures with progress, 办实事 records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import audit
from storage.models import Deed, HelpMeasure, HelpPlan, Pairing


@dataclass(frozen=True, slots=True)
class PlanCard:
    """What a household's 连心卡 shows."""

    plan: HelpPlan | None
    measures: list[HelpMeasure]
    deeds: list[Deed]


def _audit(
    session: AsyncSession, cadre_id: int, action: str, entity: str, entity_id: object, now: datetime
) -> None:
    audit(
        session,
        at=now,
        actor=f"cadre:{cadre_id}",
        action=action,
        entity=entity,
        entity_id=entity_id,
    )


async def set_plan(
    session: AsyncSession,
    *,
    cadre_id: int,
    household_id: int,
    income_target: float | None,
    main_industry: str,
    now: datetime,
) -> HelpPlan:
    plan = await session.get(HelpPlan, household_id)
    if plan is None:
        plan = HelpPlan(household_id=household_id, updated_at=now)
        session.add(plan)
    plan.income_target, plan.main_industry, plan.updated_at = income_target, main_industry, now
    await session.flush()
    _audit(session, cadre_id, "plan.set", "household", household_id, now)
    return plan


async def add_measure(
    session: AsyncSession,
    *,
    cadre_id: int,
    household_id: int,
    kinds: list[str],
    text: str,
    now: datetime,
) -> HelpMeasure:
    measure = HelpMeasure(
        household_id=household_id,
        cadre_id=cadre_id,
        kinds=kinds,
        text=text,
        progress="",
        created_at=now,
        updated_at=now,
    )
    session.add(measure)
    await session.flush()
    _audit(session, cadre_id, "measure.add", "measure", measure.id, now)
    return measure


async def my_measures(session: AsyncSession, cadre_id: int, limit: int = 20) -> list[HelpMeasure]:
    """Measures in the plans of my households (whoever added them), newest first."""
    mine = select(Pairing.household_id).where(
        Pairing.cadre_id == cadre_id, Pairing.active.is_(True)
    )
    stmt = (
        select(HelpMeasure)
        .where(HelpMeasure.household_id.in_(mine), HelpMeasure.deleted_at.is_(None))
        .order_by(HelpMeasure.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def report_progress(
    session: AsyncSession, *, cadre_id: int, measure_id: int, progress: str, now: datetime
) -> bool:
    """The latest progress of a measure in one of my households' plans; False if not mine."""
    mine = {m.id: m for m in await my_measures(session, cadre_id, limit=1000)}
    measure = mine.get(measure_id)
    if measure is None:
        return False
    measure.progress, measure.updated_at = progress, now
    _audit(session, cadre_id, "measure.progress", "measure", measure_id, now)
    return True


async def add_deed(
    session: AsyncSession,
    *,
    cadre_id: int,
    household_id: int,
    what: str,
    done_on: date,
    value: float | None,
    now: datetime,
) -> Deed:
    deed = Deed(
        household_id=household_id,
        cadre_id=cadre_id,
        what=what,
        done_on=done_on,
        value=value,
        created_at=now,
    )
    session.add(deed)
    await session.flush()
    _audit(session, cadre_id, "deed.add", "deed", deed.id, now)
    return deed


async def plan_card(session: AsyncSession, household_id: int) -> PlanCard:
    measures = await session.scalars(
        select(HelpMeasure)
        .where(HelpMeasure.household_id == household_id, HelpMeasure.deleted_at.is_(None))
        .order_by(HelpMeasure.id)
    )
    deeds = await session.scalars(
        select(Deed)
        .where(Deed.household_id == household_id, Deed.deleted_at.is_(None))
        .order_by(Deed.done_on, Deed.id)
    )
    return PlanCard(await session.get(HelpPlan, household_id), list(measures), list(deeds))
