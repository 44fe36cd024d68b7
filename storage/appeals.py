"""Appeals (诉求): category, handling unit, deadline; progress, settling, call-back, reopening.

Stages: accepted (受理) → handling (办理中) → done (已办结) → followed (已回访). `status` stays
open | resolved for the figures that only ask whether a problem is solved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.audit import audit
from storage.models import Cadre, Household, Problem, ProblemNote, Unit
from storage.unit_paths import in_subtree

ACCEPTED, HANDLING, DONE, FOLLOWED = "accepted", "handling", "done", "followed"
OPEN_STAGES = (ACCEPTED, HANDLING)
REOPENING = "不满意"


@dataclass(frozen=True, slots=True)
class AppealRow:
    """An appeal with the names a list needs."""

    id: int
    cadre_id: int
    cadre: str
    cadre_unit_id: int
    household_id: int
    household: str
    category: str
    description: str
    stage: str
    due_on: date | None
    raised_on: date
    handler_unit_id: int | None
    handler: str
    round: int


def _rows() -> Select:  # type: ignore[type-arg]
    handler = aliased(Unit)
    return (
        select(
            Problem.id,
            Problem.cadre_id,
            Cadre.name,
            Cadre.unit_id,
            Problem.household_id,
            Household.head_name,
            Problem.category,
            Problem.description,
            Problem.stage,
            Problem.due_on,
            Problem.raised_on,
            Problem.handler_unit_id,
            func.coalesce(handler.name, ""),
            Problem.round,
        )
        .join(Cadre, Cadre.id == Problem.cadre_id)
        .join(Household, Household.id == Problem.household_id)
        .outerjoin(handler, handler.id == Problem.handler_unit_id)
        .where(Problem.deleted_at.is_(None))
    )


async def _fetch(session: AsyncSession, stmt: Select) -> list[AppealRow]:  # type: ignore[type-arg]
    return [AppealRow(*r) for r in (await session.execute(stmt)).all()]


async def my_appeals(
    session: AsyncSession, cadre_id: int, stages: tuple[str, ...], limit: int = 20
) -> list[AppealRow]:
    """My appeals at these stages, oldest first, with the household's name."""
    stmt = (
        _rows()
        .where(Problem.cadre_id == cadre_id, Problem.stage.in_(stages))
        .order_by(Problem.raised_on, Problem.id)
        .limit(limit)
    )
    return await _fetch(session, stmt)


async def my_appeal(
    session: AsyncSession, cadre_id: int, appeal_id: int, stages: tuple[str, ...]
) -> AppealRow | None:
    stmt = _rows().where(
        Problem.id == appeal_id, Problem.cadre_id == cadre_id, Problem.stage.in_(stages)
    )
    found = await _fetch(session, stmt)
    return found[0] if found else None


async def overdue_appeals(
    session: AsyncSession, today: date, *, cadres: tuple[int, int] | None = None
) -> list[AppealRow]:
    """Open appeals past their deadline (not deleted), by deadline; of cadre ids in
    (after, upto] when `cadres` is given (a chunk of the escalation run)."""
    stmt = (
        _rows()
        .where(Problem.stage.in_(OPEN_STAGES), Problem.due_on < today)
        .order_by(Problem.due_on, Problem.id)
    )
    if cadres is not None:
        stmt = stmt.where(Problem.cadre_id > cadres[0], Problem.cadre_id <= cadres[1])
    return await _fetch(session, stmt)


async def overdue_appeals_in(
    session: AsyncSession, unit_path: str, today: date, limit: int = 30
) -> tuple[int, list[AppealRow]]:
    """Open appeals past their deadline whose cadre or handling unit is in the subtree."""
    cadre_unit, handler_unit = aliased(Unit), aliased(Unit)
    stmt = (
        _rows()
        .join(cadre_unit, cadre_unit.id == Cadre.unit_id)
        .outerjoin(handler_unit, handler_unit.id == Problem.handler_unit_id)
        .where(Problem.stage.in_(OPEN_STAGES), Problem.due_on < today)
        .where(
            or_(in_subtree(cadre_unit.path, unit_path), in_subtree(handler_unit.path, unit_path))
        )
    )
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await _fetch(session, stmt.order_by(Problem.due_on, Problem.id).limit(limit))
    return int(total or 0), rows


async def _mine(
    session: AsyncSession, cadre_id: int, appeal_id: int, stages: tuple[str, ...]
) -> Problem | None:
    return await session.scalar(
        select(Problem).where(
            Problem.id == appeal_id,
            Problem.cadre_id == cadre_id,
            Problem.stage.in_(stages),
            Problem.deleted_at.is_(None),
        )
    )


def _note(
    session: AsyncSession, problem: Problem, cadre_id: int, kind: str, text: str, now: datetime
) -> None:
    session.add(ProblemNote(problem_id=problem.id, cadre_id=cadre_id, kind=kind, text=text, at=now))
    audit(
        session,
        at=now,
        actor=f"cadre:{cadre_id}",
        action=f"problem.{kind}",
        entity="problem",
        entity_id=problem.id,
    )


async def add_progress(
    session: AsyncSession, *, cadre_id: int, appeal_id: int, text: str, now: datetime
) -> bool:
    """A progress note on one of my open appeals; 受理 becomes 办理中. False if not mine/open."""
    problem = await _mine(session, cadre_id, appeal_id, OPEN_STAGES)
    if problem is None:
        return False
    problem.stage = HANDLING
    _note(session, problem, cadre_id, "progress", text, now)
    return True


async def settle(
    session: AsyncSession, *, cadre_id: int, appeal_id: int, resolution: str, now: datetime
) -> bool:
    """办结: one of my open appeals is resolved and awaits its call-back."""
    problem = await _mine(session, cadre_id, appeal_id, OPEN_STAGES)
    if problem is None:
        return False
    problem.status, problem.stage = "resolved", DONE
    problem.resolution, problem.resolved_at = resolution, now
    _note(session, problem, cadre_id, "done", resolution, now)
    return True


async def follow_up(
    session: AsyncSession,
    *,
    cadre_id: int,
    appeal_id: int,
    satisfaction: str,
    note: str,
    now: datetime,
    reopen_due: date | None = None,
) -> str | None:
    """回访: record the household's answer; 不满意 reopens it (with a new deadline, when
    given). The new stage, or None if it is not mine or not awaiting a call-back."""
    problem = await _mine(session, cadre_id, appeal_id, (DONE,))
    if problem is None:
        return None
    problem.satisfaction, problem.followed_at = satisfaction, now
    text = f"{satisfaction} {note}".strip()
    if satisfaction == REOPENING:
        problem.status, problem.stage, problem.round = "open", HANDLING, problem.round + 1
        problem.resolved_at = None
        if reopen_due is not None:
            problem.due_on = reopen_due
        _note(session, problem, cadre_id, "reopen", text, now)
    else:
        problem.stage = FOLLOWED
        _note(session, problem, cadre_id, "followup", text, now)
    return problem.stage


async def notes_of(session: AsyncSession, appeal_id: int) -> list[ProblemNote]:
    stmt = select(ProblemNote).where(ProblemNote.problem_id == appeal_id).order_by(ProblemNote.id)
    return list(await session.scalars(stmt))


async def units_named(session: AsyncSession, text: str, limit: int = 6) -> list[Unit]:
    """Units whose name or path matches what was typed: exact first, then containing it."""
    text = text.strip()
    exact = list(
        await session.scalars(
            select(Unit).where(or_(Unit.name == text, Unit.path == text)).order_by(Unit.id)
        )
    )
    if exact:
        return exact[:limit]
    like = list(
        await session.scalars(
            select(Unit)
            .where(Unit.name.contains(text, autoescape=True))
            .order_by(Unit.depth, Unit.id)
            .limit(limit)
        )
    )
    return like


async def units_by_id(session: AsyncSession, ids: list[int]) -> dict[int, Unit]:
    if not ids:
        return {}
    return {u.id: u for u in await session.scalars(select(Unit).where(Unit.id.in_(ids)))}


async def household_township(session: AsyncSession, household_id: int) -> int | None:
    """The parent unit of the household's village (its township), if any."""
    village = await session.scalar(
        select(Unit)
        .join(Household, Household.village_id == Unit.id)
        .where(Household.id == household_id)
    )
    return village.parent_id if village is not None else None
