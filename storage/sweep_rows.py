"""What the reminder sweep reads: each live pairing once, with its kept dates.

One query per chunk of cadres returns the live pairings that may owe something today (a
superset: the caller decides each duty kind from the row), each with the pairing's kept
last call / visit / contact (storage.contact_state) and its household's occasion dates.
The stage day's events are read once per sweep; the contacts themselves are read only for
pairs whose kept date lies after a duty's window (a past day swept again), to settle it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import is_postgres
from storage.duties import CadreRange, _last_on
from storage.models import Cadre, Contact, ContactState, Event, Household, Pairing, Unit
from storage.models.household import HOUSEHOLD_EXITED
from storage.occasions import _month_day

# Positions in a sweep row after the six PairingRow fields.
LAST_CALL, LAST_VISIT, LAST_CONTACT, BIRTH_DATE, PARTY_DATE, PARTY_MEMBER = range(6, 12)
MAX_LISTED = 5000  # event households named in the query; more are matched by a subquery
LAST_FOR = {("call",): LAST_CALL, ("visit",): LAST_VISIT, ("call", "visit"): LAST_CONTACT}


@dataclass(frozen=True, slots=True)
class Window:
    """A duty fulfilled by a contact of `kinds` between since and until (inclusive)."""

    kinds: tuple[str, ...]
    since: date
    until: date

    @property
    def last(self) -> int:
        """The row position of the kept date that answers for these kinds."""
        return LAST_FOR[tuple(sorted(set(self.kinds)))]


@dataclass(frozen=True, slots=True)
class OnDay:
    """Households whose birthday (or 入党纪念日) falls on `on` (29 Feb counts on 28 Feb
    in other years), of party members only if `members_only`."""

    column: int  # BIRTH_DATE | PARTY_DATE
    on: date
    members_only: bool

    def matches(self, row: Sequence[Any]) -> bool:
        day = row[self.column]
        if day is None or (self.members_only and not row[PARTY_MEMBER]):
            return False
        if day.month == self.on.month and day.day == self.on.day:
            return True
        leap_day = self.on.month == 2 and self.on.day == 28 and not _leap(self.on.year)
        return leap_day and day.month == 2 and day.day == 29

    def clause(self) -> ColumnElement[bool]:
        col = Household.birth_date if self.column == BIRTH_DATE else Household.party_date
        found = and_(col.is_not(None), _month_day(col, self.on))  # type: ignore[arg-type]
        return and_(found, Household.party_member.is_(True)) if self.members_only else found


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


async def sweep_rows(
    session: AsyncSession,
    *,
    today: date,
    duties: Iterable[tuple[Window, OnDay | None]],
    event_households: Collection[int],
    event_days: Iterable[date] = (),
    cadres: CadreRange | None = None,
) -> Sequence[Any]:
    """Live pairings (of `cadres`) that may owe a duty today, by cadre and pairing id.

    A row: pairing id, cadre id, cadre name, household id, head name, village, then the kept
    last call, last visit and last contact, the household's birth date, 入党日期 and whether
    a party member. A pairing comes back when, for one of `duties`, its household's day is
    the duty's (if it names one) and the window's kept date is missing, before the window or
    after it; or when its household is one of `event_households` (those with an event on one
    of `event_days`, the stage days).

    Two steps in one statement: the pairings that may owe something are found from the
    pairings and their kept state alone (materialized), and only those are joined to the
    names — most pairings owe nothing on most days, and looking their households up first
    cost several times the rest.
    """
    maybe: list[ColumnElement[bool]] = []
    for w, on in dict.fromkeys(duties):  # each distinct duty once, in a stable order
        last = _last_on(w.kinds)
        open_ = or_(last.is_(None), last < w.since, last > w.until)
        if on is not None:
            open_ = and_(open_, exists().where(Household.id == Pairing.household_id, on.clause()))
        maybe.append(open_)
    if len(event_households) > MAX_LISTED:  # past SQLite's bound-parameter limit: no list
        maybe.append(
            exists().where(
                Event.household_id == Pairing.household_id,
                Event.deleted_at.is_(None),
                Event.occurred_on.in_(sorted({d for d in event_days if d <= today})),
            )
        )
    elif event_households:
        # The households by id (a day has few events), so on a day with no other stage they
        # lead the query through the pairings' household index.
        maybe.append(Pairing.household_id.in_(sorted(set(event_households))))
    if not maybe:
        return []
    state_household: Any = ContactState.household_id
    if not is_postgres(session):
        # SQLite would probe the kept state through its (household, cadre) index, one random
        # page each; read by its primary key (cadre, household) instead, a chunk's cadres'
        # states lie together (a million pairings: 3.9 s of SQLite → 3.3 s).
        state_household = ContactState.household_id + 0
    due = (
        select(
            Pairing.id.label("pairing_id"),
            Pairing.cadre_id,
            Pairing.household_id,
            ContactState.last_call_on,
            ContactState.last_visit_on,
            ContactState.last_contact_on,
        )
        .select_from(Cadre)
        .join(Pairing, Pairing.cadre_id == Cadre.id)
        .outerjoin(
            ContactState,
            and_(
                ContactState.cadre_id == Pairing.cadre_id,
                state_household == Pairing.household_id,
            ),
        )
        .where(
            Pairing.active.is_(True),
            Pairing.start_date <= today,
            or_(Pairing.end_date.is_(None), Pairing.end_date >= today),
            Cadre.active.is_(True),
            or_(Cadre.leave_until.is_(None), Cadre.leave_until < today),
            or_(*maybe),
        )
    )
    if cadres is not None:  # on every table, so each is read by range
        lo, hi = cadres
        due = due.where(
            Cadre.id > lo,
            Cadre.id <= hi,
            Pairing.cadre_id > lo,
            Pairing.cadre_id <= hi,
            or_(
                ContactState.cadre_id.is_(None),
                and_(ContactState.cadre_id > lo, ContactState.cadre_id <= hi),
            ),
        )
    d = due.cte("due").prefix_with("MATERIALIZED")
    stmt = (
        select(
            d.c.pairing_id,
            d.c.cadre_id,
            Cadre.name,
            d.c.household_id,
            Household.head_name,
            Unit.name,
            d.c.last_call_on,
            d.c.last_visit_on,
            d.c.last_contact_on,
            Household.birth_date,
            Household.party_date,
            Household.party_member,
        )
        .select_from(d)
        .join(Cadre, Cadre.id == d.c.cadre_id)
        .join(Household, Household.id == d.c.household_id)
        .join(Unit, Unit.id == Household.village_id)
        .where(Household.status != HOUSEHOLD_EXITED)
        .order_by(d.c.cadre_id, d.c.pairing_id)
    )
    return (await session.execute(stmt)).all()


async def events_on(session: AsyncSession, days: Iterable[date], today: date) -> Sequence[Any]:
    """Live events that occurred on these days (none after `today`), by id: id, household
    id, kind, occurred on, visit due on."""
    wanted = sorted({d for d in days if d <= today})
    if not wanted:
        return []
    stmt = (
        select(Event.id, Event.household_id, Event.kind, Event.occurred_on, Event.visit_due_on)
        .where(Event.deleted_at.is_(None), Event.occurred_on.in_(wanted))
        .order_by(Event.id)
    )
    return (await session.execute(stmt)).all()


async def contacts_between(
    session: AsyncSession,
    *,
    kinds: Iterable[str],
    since: date,
    until: date,
    cadres: CadreRange | None = None,
) -> Sequence[Any]:
    """Live contacts of `kinds` (of `cadres`) between since and until: cadre id, household
    id, kind, day."""
    stmt = select(Contact.cadre_id, Contact.household_id, Contact.kind, Contact.occurred_on).where(
        Contact.deleted_at.is_(None),
        Contact.kind.in_(sorted(set(kinds))),
        Contact.occurred_on >= since,
        Contact.occurred_on <= until,
    )
    if cadres is not None:
        stmt = stmt.where(Contact.cadre_id > cadres[0], Contact.cadre_id <= cadres[1])
    return (await session.execute(stmt)).all()
