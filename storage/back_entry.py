"""Records an administrator enters on a cadre's behalf, marked and audited as such."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, select

from storage.audit import audit_now
from storage.core_db import Executor
from storage.tables import contacts, pairings


async def pairing_ends(session: Executor, cadre_id: int, household_id: int) -> list[date | None]:
    """The end dates of every pairing, current (None) or ended, of this cadre and household."""
    found = await session.execute(
        select(pairings.c.end_date).where(
            pairings.c.cadre_id == cadre_id, pairings.c.household_id == household_id
        )
    )
    return [end for (end,) in found]


def paired_on(ends: list[date | None], day: date) -> bool:
    """A pairing of `pairing_ends` had not ended before `day` (its start is the import
    date, often later than the records it is meant to hold)."""
    return any(end is None or day <= end for end in ends)


async def add_back_entry(
    session: Executor,
    *,
    cadre_id: int,
    household_id: int,
    kind: str,
    occurred_on: date,
    note: str,
    entered_by: str,
    now: datetime,
) -> int:
    """A call or visit the cadre could not report in time, entered by `entered_by`; the new
    contact's id."""
    result = await session.execute(
        insert(contacts).values(
            cadre_id=cadre_id,
            household_id=household_id,
            kind=kind,
            occurred_on=occurred_on,
            reported_at=now,
            help_tags=[],
            summary=note,
            source_channel="admin",
            entered_by=entered_by,
        )
    )
    contact_id = int(result.inserted_primary_key[0])  # type: ignore[attr-defined]
    await audit_now(
        session,
        at=now,
        actor=entered_by,
        action="contact.back_entry",
        entity="contact",
        entity_id=contact_id,
        cadre_id=cadre_id,
        household_id=household_id,
        kind=kind,
        occurred_on=occurred_on.isoformat(),
    )
    return contact_id
