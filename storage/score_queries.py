"""What a cadre's 考核 score is computed from, read for many cadres at once (batched by id)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Cadre,
    Contact,
    Deed,
    DiaryEntry,
    Event,
    Household,
    Pairing,
    Problem,
    ProblemNote,
    ReminderMark,
    Unit,
)

# Off the programme: exited, or no longer on the roster; their history stays.
HOUSEHOLD_GONE = ("exited", "inactive")
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PairingFact:
    cadre_id: int
    household_id: int
    head_name: str
    start_date: date


@dataclass(frozen=True, slots=True)
class ContactFact:
    cadre_id: int
    household_id: int
    kind: str
    occurred_on: date


@dataclass(frozen=True, slots=True)
class EventFact:
    cadre_id: int
    household_id: int
    head_name: str
    kind: str
    occurred_on: date
    visit_due_on: date


@dataclass(frozen=True, slots=True)
class AppealFact:
    cadre_id: int
    head_name: str
    category: str
    due_on: date
    resolved_at: datetime | None
    stage: str


@dataclass
class ScoreFacts:
    """Everything about a set of cadres between two days that the score needs."""

    pairings: list[PairingFact]
    contacts: list[ContactFact]
    events: list[EventFact]
    appeals: list[AppealFact]
    diaries: dict[int, int]
    deeds: dict[int, int]
    answers: dict[int, list[str]]  # call-back notes' texts (satisfaction first) per cadre
    lapses: dict[int, int]  # escalated lapses: reminders left unanswered


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    ids = sorted(set(ids))
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


async def _rows(session: AsyncSession, ids: Sequence[int], build: Any) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(ids):
        out += (await session.execute(build(chunk))).all()
    return out


async def _counts(session: AsyncSession, ids: Sequence[int], build: Any) -> dict[int, int]:
    return {int(cid): int(n) for cid, n in await _rows(session, ids, build)}


def _live_pairings(chunk: list[int]) -> Select:  # type: ignore[type-arg]
    return (
        select(Pairing.cadre_id, Pairing.household_id, Household.head_name, Pairing.start_date)
        .join(Household, Household.id == Pairing.household_id)
        .where(Pairing.cadre_id.in_(chunk), Pairing.active.is_(True))
        .where(Household.status.not_in(HOUSEHOLD_GONE))
        .order_by(Pairing.cadre_id, Pairing.id)
    )


async def score_facts(
    session: AsyncSession,
    cadre_ids: Sequence[int],
    since: date,
    until: date,
    first: date,
    tz: tzinfo,
) -> ScoreFacts:
    """Facts for the cadres over [since, until] (local days in `tz`); contacts from `first`
    (a visit period may begin before the scored month)."""
    start_at = datetime.combine(since, time.min, tzinfo=tz)
    end_at = datetime.combine(until, time.max, tzinfo=tz)

    def contacts(chunk: list[int]) -> Select:  # type: ignore[type-arg]
        return select(
            Contact.cadre_id, Contact.household_id, Contact.kind, Contact.occurred_on
        ).where(
            Contact.cadre_id.in_(chunk),
            Contact.deleted_at.is_(None),
            Contact.occurred_on >= first,
            Contact.occurred_on <= until,
        )

    def events(chunk: list[int]) -> Select:  # type: ignore[type-arg]
        return (
            select(
                Pairing.cadre_id,
                Event.household_id,
                Household.head_name,
                Event.kind,
                Event.occurred_on,
                Event.visit_due_on,
            )
            .join(Pairing, Pairing.household_id == Event.household_id)
            .join(Household, Household.id == Event.household_id)
            .where(Pairing.cadre_id.in_(chunk), Pairing.active.is_(True))
            .where(Event.deleted_at.is_(None))
            .where(Event.visit_due_on >= since, Event.visit_due_on <= until)
        )

    def appeals(chunk: list[int]) -> Select:  # type: ignore[type-arg]
        return (
            select(
                Problem.cadre_id,
                Household.head_name,
                Problem.category,
                Problem.due_on,
                Problem.resolved_at,
                Problem.stage,
            )
            .join(Household, Household.id == Problem.household_id)
            .where(Problem.cadre_id.in_(chunk), Problem.deleted_at.is_(None))
            .where(Problem.due_on >= since, Problem.due_on <= until)
        )

    def diaries(chunk: list[int]) -> Select:  # type: ignore[type-arg]
        return (
            select(DiaryEntry.cadre_id, func.count())
            .where(DiaryEntry.cadre_id.in_(chunk), DiaryEntry.deleted_at.is_(None))
            .where(DiaryEntry.written_on >= since, DiaryEntry.written_on <= until)
            .group_by(DiaryEntry.cadre_id)
        )

    def deeds(chunk: list[int]) -> Select:  # type: ignore[type-arg]
        return (
            select(Deed.cadre_id, func.count())
            .where(Deed.cadre_id.in_(chunk), Deed.deleted_at.is_(None))
            .where(Deed.done_on >= since, Deed.done_on <= until)
            .group_by(Deed.cadre_id)
        )

    def answers(chunk: list[int]) -> Select:  # type: ignore[type-arg]
        return select(ProblemNote.cadre_id, ProblemNote.text).where(
            ProblemNote.cadre_id.in_(chunk),
            ProblemNote.kind.in_(("followup", "reopen")),
            ProblemNote.at >= start_at,
            ProblemNote.at <= end_at,
        )

    def lapses(chunk: list[int]) -> Select:  # type: ignore[type-arg]
        return (
            select(ReminderMark.cadre_id, func.count())
            .where(ReminderMark.cadre_id.in_(chunk))
            .where(func.substr(ReminderMark.key, 1, 4) == "esc:")
            .where(ReminderMark.stage_on >= since, ReminderMark.stage_on <= until)
            .group_by(ReminderMark.cadre_id)
        )

    said: dict[int, list[str]] = {}
    for cid, text in await _rows(session, cadre_ids, answers):
        said.setdefault(int(cid), []).append(text)
    return ScoreFacts(
        pairings=[PairingFact(*r) for r in await _rows(session, cadre_ids, _live_pairings)],
        contacts=[ContactFact(*r) for r in await _rows(session, cadre_ids, contacts)],
        events=[EventFact(*r) for r in await _rows(session, cadre_ids, events)],
        appeals=[AppealFact(*r) for r in await _rows(session, cadre_ids, appeals)],
        diaries=await _counts(session, cadre_ids, diaries),
        deeds=await _counts(session, cadre_ids, deeds),
        answers=said,
        lapses=await _counts(session, cadre_ids, lapses),
    )


async def cadres_in_unit(session: AsyncSession, path: str) -> list[tuple[int, str]]:
    """Active cadres whose unit is `path` or below it: (id, name), by name."""
    prefix = path + "/"
    stmt = (
        select(Cadre.id, Cadre.name)
        .join(Unit, Unit.id == Cadre.unit_id)
        .where(Cadre.active.is_(True))
        .where(or_(Unit.path == path, func.substr(Unit.path, 1, len(prefix)) == prefix))
        .order_by(Cadre.name, Cadre.id)
    )
    return [(int(i), n) for i, n in (await session.execute(stmt)).all()]


async def cadre_named(session: AsyncSession, cadre_id: int) -> str:
    return str(await session.scalar(select(Cadre.name).where(Cadre.id == cadre_id)) or "")


async def cadre_name_taken(session: AsyncSession, name: str) -> bool:
    """Whether some cadre has this name (a /score argument naming a person)."""
    return await session.scalar(select(Cadre.id).where(Cadre.name == name).limit(1)) is not None
