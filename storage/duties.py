"""Queries behind reminders: set-based over all pairings, never one query per household.

A pairing is "live" on a day when it is active and within its dates, its household has not
exited, and its cadre is active and not on leave (a cadre on leave is paused). A duty is
fulfilled only by that pairing's own cadre: contacts count per (cadre, household).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Exists, Select, and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from storage.dialect import insert_many_ignore_returning
from storage.models import (
    Cadre,
    ChatAccount,
    Contact,
    ContactState,
    Event,
    Household,
    Pairing,
    ReminderMark,
    Unit,
)
from storage.models.household import HOUSEHOLD_EXITED

CONTACT_KINDS = ("call", "visit")  # a visit also counts as the month's contact
VISIT_KINDS = ("visit",)
_CHUNK = 500  # stay under SQLite's bound-parameter limit

CadreRange = tuple[int, int]  # cadre ids in (after, upto]: one slice of a chunked sweep


@dataclass(frozen=True, slots=True)
class PairingRow:
    """A live pairing with what a reminder needs to name the household."""

    pairing_id: int
    cadre_id: int
    cadre_name: str
    household_id: int
    head_name: str
    village: str


@dataclass(frozen=True, slots=True)
class EventRow:
    """A live pairing whose household has an event still waiting for this cadre's visit."""

    pairing: PairingRow
    event_id: int
    event_kind: str
    occurred_on: date
    visit_due_on: date


@dataclass(frozen=True, slots=True)
class AccountRow:
    account_id: int  # chat_accounts.id
    cadre_id: int
    channel: str
    chat_id: str
    language: str


def _live_pairings(today: date, cadres: CadreRange | None = None) -> Select:
    stmt = (
        select(
            Pairing.id,
            Pairing.cadre_id,
            Cadre.name,
            Pairing.household_id,
            Household.head_name,
            Unit.name,
        )
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .join(Household, Household.id == Pairing.household_id)
        .join(Unit, Unit.id == Household.village_id)
        .where(
            Pairing.active.is_(True),
            Pairing.start_date <= today,
            or_(Pairing.end_date.is_(None), Pairing.end_date >= today),
            Household.status != HOUSEHOLD_EXITED,
            Cadre.active.is_(True),
            or_(Cadre.leave_until.is_(None), Cadre.leave_until < today),
        )
    )
    if cadres is not None:  # on both sides of the join, so each table is read by range
        lo, hi = cadres
        stmt = stmt.where(
            Pairing.cadre_id > lo, Pairing.cadre_id <= hi, Cadre.id > lo, Cadre.id <= hi
        )
    return stmt


def _contact_exists(
    kinds: Sequence[str],
    since: date | ColumnElement[date] | QueryableAttribute[date],
    cadres: CadreRange | None = None,
) -> Exists:
    """Whether the pairing's cadre reported a contact of `kinds` with its household since a day."""
    found = exists().where(
        Contact.cadre_id == Pairing.cadre_id,
        Contact.household_id == Pairing.household_id,
        Contact.kind.in_(kinds),
        Contact.deleted_at.is_(None),
        Contact.occurred_on >= since,
    )
    if cadres is not None:
        # Repeated on contacts: PostgreSQL does not carry a range across the join's equality,
        # and would otherwise hash the whole period's contacts for every chunk.
        found = found.where(Contact.cadre_id > cadres[0], Contact.cadre_id <= cadres[1])
    return found


def _last_on(kinds: Sequence[str]) -> QueryableAttribute[date | None]:
    """The kept column holding the last live contact of `kinds` (storage.contact_state)."""
    columns = {
        ("call", "visit"): ContactState.last_contact_on,
        ("visit",): ContactState.last_visit_on,
        ("call",): ContactState.last_call_on,
    }
    return columns[tuple(sorted(set(kinds)))]


def _with_state(stmt: Select, cadres: CadreRange | None = None) -> Select:
    """Live pairings joined (outer) to their (cadre, household)'s kept contact state."""
    stmt = stmt.outerjoin(
        ContactState,
        and_(
            ContactState.cadre_id == Pairing.cadre_id,
            ContactState.household_id == Pairing.household_id,
        ),
    )
    if cadres is not None:
        stmt = stmt.where(
            or_(
                ContactState.cadre_id.is_(None),
                and_(ContactState.cadre_id > cadres[0], ContactState.cadre_id <= cadres[1]),
            )
        )
    return stmt


def _uncontacted(
    kinds: Sequence[str], since: date, until: date, cadres: CadreRange | None = None
) -> ColumnElement[bool]:
    """No contact of `kinds` between since and until, read from the kept state (by key).

    The last contact before `since` (or none) settles it; a last contact after `until` (a
    sweep of a past day, or a later date entered) falls back to the contacts themselves.
    """
    last = _last_on(kinds)
    in_range = _contact_exists(kinds, since, cadres).where(Contact.occurred_on <= until)
    return or_(last.is_(None), last < since, and_(last > until, ~in_range))


def _row(r: Sequence[object]) -> PairingRow:
    return PairingRow(*r[:6])  # type: ignore[arg-type]


async def pairings_without_contact(
    session: AsyncSession,
    *,
    today: date,
    since: date,
    until: date,
    kinds: Sequence[str],
    cadres: CadreRange | None = None,
    started_by: date | None = None,
) -> list[PairingRow]:
    """Live pairings (of `cadres` if given) with no contact of `kinds` between since and until.

    `started_by` keeps only pairings that had begun by that day (a whole period to do it).
    """
    stmt = (
        _with_state(_live_pairings(today, cadres), cadres)
        .where(_uncontacted(kinds, since, until, cadres))
        .order_by(Pairing.cadre_id, Pairing.id)
    )
    if started_by is not None:
        stmt = stmt.where(Pairing.start_date <= started_by)
    return [_row(r) for r in (await session.execute(stmt)).all()]


async def events_without_visit(
    session: AsyncSession,
    *,
    today: date,
    occurred_on: Iterable[date] | None = None,
    cadres: CadreRange | None = None,
) -> list[EventRow]:
    """Live pairings whose household has an event (not deleted) with no visit on/after it.

    `occurred_on` limits the events to those days (the reminder stages); None means all.
    """
    visited = _last_on(VISIT_KINDS)  # a visit on or after the day: the last one tells
    stmt = (
        _with_state(_live_pairings(today, cadres), cadres)
        .add_columns(Event.id, Event.kind, Event.occurred_on, Event.visit_due_on)
        .join(Event, Event.household_id == Pairing.household_id)
        .where(Event.deleted_at.is_(None), Event.occurred_on <= today)
        .where(or_(visited.is_(None), visited < Event.occurred_on))
        .order_by(Pairing.cadre_id, Pairing.id, Event.id)
    )
    if occurred_on is not None:
        stmt = stmt.where(Event.occurred_on.in_(sorted(set(occurred_on))))
    rows = (await session.execute(stmt)).all()
    return [EventRow(_row(r), r[6], r[7], r[8], r[9]) for r in rows]


def _unblocked_accounts() -> Select:
    """The AccountRow columns of chat accounts that have not blocked the bot, by id."""
    return (
        select(
            ChatAccount.id,
            ChatAccount.cadre_id,
            ChatAccount.channel,
            ChatAccount.chat_id,
            ChatAccount.language,
        )
        .where(ChatAccount.blocked_at.is_(None))
        .order_by(ChatAccount.id)
    )


async def reachable_accounts(
    session: AsyncSession, cadre_ids: Iterable[int]
) -> dict[int, list[AccountRow]]:
    """The chat accounts of these cadres that have not blocked the bot, by cadre."""
    ids = sorted(set(cadre_ids))
    out: dict[int, list[AccountRow]] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = _unblocked_accounts().where(ChatAccount.cadre_id.in_(ids[start : start + _CHUNK]))
        for row in (await session.execute(stmt)).all():
            out.setdefault(row[1], []).append(AccountRow(*row))
    return out


async def accounts_in(session: AsyncSession, cadres: CadreRange) -> dict[int, list[AccountRow]]:
    """`reachable_accounts` of every cadre in a range, read by range (one query, no id list)."""
    stmt = _unblocked_accounts().where(
        ChatAccount.cadre_id > cadres[0], ChatAccount.cadre_id <= cadres[1]
    )
    out: dict[int, list[AccountRow]] = {}
    for row in (await session.execute(stmt)).all():
        out.setdefault(row[1], []).append(AccountRow(*row))
    return out


async def cadre_chunk(session: AsyncSession, *, after: int, size: int) -> CadreRange | None:
    """The next `size` active cadres after id `after` as an id range, or None past the last.

    Keyset pagination: each chunk's queries are bounded by its range, whatever the total.
    """
    stmt = (
        select(Cadre.id)
        .where(Cadre.id > after, Cadre.active.is_(True))
        .order_by(Cadre.id)
        .offset(size - 1)
        .limit(1)
    )
    upto = await session.scalar(stmt)
    if upto is None:  # fewer than `size` left: the last chunk runs to the highest id
        upto = await session.scalar(select(func.max(Cadre.id)).where(Cadre.id > after))
    return None if upto is None else (after, int(upto))


async def claim_marks(
    session: AsyncSession, marks: Iterable[tuple[str, int]], *, stage_on: date, now: datetime
) -> set[str]:
    """Insert (key, cadre_id) marks; returns the keys this call inserted (others had them).

    Keys go in sorted order so two concurrent sweeps wait on each other instead of deadlocking.
    """
    rows = [
        {"key": key, "cadre_id": cadre_id, "stage_on": stage_on, "created_at": now}
        for key, cadre_id in sorted(set(marks))
    ]
    if not rows:
        return set()
    table = ReminderMark.__table__
    return set(await insert_many_ignore_returning(session, table, rows, ["key"], "key"))  # type: ignore[arg-type]


async def prune_marks(session: AsyncSession, *, before: date) -> int:
    """Forget marks of stages before a day (they can never be due again)."""
    result = await session.execute(delete(ReminderMark).where(ReminderMark.stage_on < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
