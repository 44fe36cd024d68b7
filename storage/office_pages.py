"""Look-ups behind the console's pages: a unit's trend and villages, a cadre, a household."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    Cadre,
    ChatAccount,
    Contact,
    DiaryComment,
    DiaryEntry,
    Event,
    Household,
    OutboxMessage,
    Pairing,
    Problem,
    Unit,
    VillageMonth,
    WebUser,
)
from storage.office_scope import units_under
from storage.stats_scope import DUTY_KINDS

RECENT = 300  # rows per list on a page; exports have everything


async def monthly_coverage(
    session: AsyncSession, path: str, since: date, today: date
) -> dict[tuple[int, int], int]:
    """Households of the subtree with a call or visit, per (year, month), since `since`.

    Summed from `village_months` (each village's households contacted per month, kept by
    triggers on every contact written, undone or moved), a row per village and month,
    instead of a year of contacts or a row per household and month.
    """
    vm = VillageMonth
    rows = await session.execute(
        select(vm.month, func.sum(vm.households))
        .where(
            vm.village_id.in_(units_under(path)),
            vm.month >= since.replace(day=1),
            vm.month <= today,
        )
        .group_by(vm.month)
    )
    return {(r[0].year, r[0].month): int(r[1]) for r in rows if r[1]}


async def child_units(session: AsyncSession, unit_id: int) -> list[Unit]:
    return list(
        await session.scalars(select(Unit).where(Unit.parent_id == unit_id).order_by(Unit.path))
    )


@dataclass(frozen=True)
class VillageHousehold:
    id: int
    head_name: str
    category: str
    cadres: list[tuple[int, str]]  # (id, name) of the current cadres
    last_contact: date | None


async def village_households(
    session: AsyncSession, village_id: int, today: date
) -> list[VillageHousehold]:
    """A village's households with their current cadres and last call or visit."""
    last = (
        select(Contact.household_id, func.max(Contact.occurred_on).label("last"))
        .join(Household, Household.id == Contact.household_id)
        .where(
            Household.village_id == village_id,
            Contact.deleted_at.is_(None),
            Contact.kind.in_(DUTY_KINDS),
            Contact.occurred_on <= today,
        )
        .group_by(Contact.household_id)
        .subquery("last")
    )
    rows = await session.execute(
        select(Household.id, Household.head_name, Household.category, last.c.last)
        .outerjoin(last, last.c.household_id == Household.id)
        .where(Household.village_id == village_id)
        .order_by(last.c.last.is_not(None), last.c.last, Household.head_name)
    )
    names = await _current_cadres(session, village_id)
    return [
        VillageHousehold(r.id, r.head_name, r.category, names.get(r.id, []), r.last) for r in rows
    ]


async def _current_cadres(
    session: AsyncSession, village_id: int
) -> dict[int, list[tuple[int, str]]]:
    rows = await session.execute(
        select(Pairing.household_id, Cadre.id, Cadre.name)
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .join(Household, Household.id == Pairing.household_id)
        .where(Household.village_id == village_id, Pairing.active.is_(True))
        .order_by(Cadre.name)
    )
    out: dict[int, list[tuple[int, str]]] = {}
    for hid, cid, name in rows:
        out.setdefault(hid, []).append((cid, name))
    return out


@dataclass
class Record:
    """Everything shown on a cadre's or a household's page."""

    pairings: list[Any] = field(default_factory=list)
    contacts: list[Any] = field(default_factory=list)
    diaries: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)
    reminders: list[Any] = field(default_factory=list)
    accounts: list[Any] = field(default_factory=list)


def _household_filter(col: Any, path: str | None) -> Any:
    """True, or `col` (a household id) lies in the subtree at `path`."""
    if path is None:
        return and_(True)
    return col.in_(select(Household.id).where(Household.village_id.in_(units_under(path))))


async def cadre_record(session: AsyncSession, cadre_id: int, only_under: str | None) -> Record:
    """A cadre's households, contacts, diaries, events, problems, reminders and accounts.

    `only_under`: when the cadre works outside the viewer's subtree, keep only records
    about households in it.
    """
    rec = Record()
    hh = _household_filter
    rec.pairings = list(
        await session.execute(
            select(Pairing, Household.head_name, Unit.name.label("village"))
            .join(Household, Household.id == Pairing.household_id)
            .join(Unit, Unit.id == Household.village_id)
            .where(Pairing.cadre_id == cadre_id, hh(Pairing.household_id, only_under))
            .order_by(Pairing.active.desc(), Household.head_name)
        )
    )
    rec.contacts = list(
        await session.execute(
            select(Contact, Household.head_name)
            .join(Household, Household.id == Contact.household_id)
            .where(
                Contact.cadre_id == cadre_id,
                Contact.deleted_at.is_(None),
                hh(Contact.household_id, only_under),
            )
            .order_by(Contact.occurred_on.desc(), Contact.id.desc())
            .limit(RECENT)
        )
    )
    diary_scope = (
        and_(True)
        if only_under is None
        else DiaryEntry.household_id.in_(
            select(Household.id).where(Household.village_id.in_(units_under(only_under)))
        )
    )
    rec.diaries = list(
        await session.scalars(
            select(DiaryEntry)
            .where(DiaryEntry.cadre_id == cadre_id, DiaryEntry.deleted_at.is_(None), diary_scope)
            .order_by(DiaryEntry.written_on.desc(), DiaryEntry.id.desc())
            .limit(RECENT)
        )
    )
    rec.events = list(
        await session.execute(
            select(Event, Household.head_name)
            .join(Household, Household.id == Event.household_id)
            .where(
                Event.cadre_id == cadre_id,
                Event.deleted_at.is_(None),
                hh(Event.household_id, only_under),
            )
            .order_by(Event.occurred_on.desc())
            .limit(RECENT)
        )
    )
    rec.problems = list(
        await session.execute(
            select(Problem, Household.head_name)
            .join(Household, Household.id == Problem.household_id)
            .where(
                Problem.cadre_id == cadre_id,
                Problem.deleted_at.is_(None),
                hh(Problem.household_id, only_under),
            )
            .order_by(Problem.raised_on.desc())
            .limit(RECENT)
        )
    )
    if only_under is None:  # reminders and accounts are the cadre's own business
        rec.reminders = list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.cadre_id == cadre_id, OutboxMessage.kind == "reminder")
                .order_by(OutboxMessage.created_at.desc())
                .limit(50)
            )
        )
        rec.accounts = list(
            await session.scalars(
                select(ChatAccount).where(ChatAccount.cadre_id == cadre_id).order_by(ChatAccount.id)
            )
        )
    return rec


async def household_record(session: AsyncSession, household_id: int) -> Record:
    """一户一档: who is and was responsible, and every contact, event, problem and diary."""
    rec = Record()
    rec.pairings = list(
        await session.execute(
            select(Pairing, Cadre.name, Cadre.phone, Cadre.id.label("cadre_id"))
            .join(Cadre, Cadre.id == Pairing.cadre_id)
            .where(Pairing.household_id == household_id)
            .order_by(Pairing.active.desc(), Pairing.start_date.desc())
        )
    )
    rec.contacts = list(
        await session.execute(
            select(Contact, Cadre.name)
            .join(Cadre, Cadre.id == Contact.cadre_id)
            .where(Contact.household_id == household_id, Contact.deleted_at.is_(None))
            .order_by(Contact.occurred_on.desc(), Contact.id.desc())
            .limit(RECENT)
        )
    )
    rec.events = list(
        await session.execute(
            select(Event, Cadre.name)
            .join(Cadre, Cadre.id == Event.cadre_id)
            .where(Event.household_id == household_id, Event.deleted_at.is_(None))
            .order_by(Event.occurred_on.desc())
        )
    )
    handler = aliased(Unit)
    rec.problems = list(
        await session.execute(
            select(Problem, Cadre.name, func.coalesce(handler.name, ""))
            .join(Cadre, Cadre.id == Problem.cadre_id)
            .outerjoin(handler, handler.id == Problem.handler_unit_id)
            .where(Problem.household_id == household_id, Problem.deleted_at.is_(None))
            .order_by(Problem.raised_on.desc())
        )
    )
    rec.diaries = list(
        await session.execute(
            select(DiaryEntry, Cadre.name)
            .join(Cadre, Cadre.id == DiaryEntry.cadre_id)
            .where(DiaryEntry.household_id == household_id, DiaryEntry.deleted_at.is_(None))
            .order_by(DiaryEntry.written_on.desc())
            .limit(RECENT)
        )
    )
    return rec


async def contact_photo_ref(
    session: AsyncSession, contact_id: int, index: int
) -> tuple[int, str] | None:
    """(household id, photo ref) of a contact's `index`-th photo, or None."""
    row = (
        await session.execute(
            select(Contact.household_id, Contact.photo_refs).where(
                Contact.id == contact_id, Contact.deleted_at.is_(None)
            )
        )
    ).first()
    if row is None or not (0 <= index < len(row.photo_refs or [])):
        return None
    return int(row.household_id), str(row.photo_refs[index])


async def diary_comments(session: AsyncSession, diary_ids: list[int]) -> dict[int, list[Any]]:
    if not diary_ids:
        return {}
    rows = await session.execute(
        select(DiaryComment, WebUser.name)
        .join(WebUser, WebUser.id == DiaryComment.user_id)
        .where(DiaryComment.diary_id.in_(diary_ids))
        .order_by(DiaryComment.id)
    )
    out: dict[int, list[Any]] = {}
    for comment, name in rows:
        out.setdefault(comment.diary_id, []).append((comment, name))
    return out
