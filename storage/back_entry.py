"""Records an administrator enters on a cadre's behalf, marked and audited as such."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import audit
from storage.models import Contact


async def add_back_entry(
    session: AsyncSession,
    *,
    cadre_id: int,
    household_id: int,
    kind: str,
    occurred_on: date,
    note: str,
    entered_by: str,
    now: datetime,
) -> Contact:
    """A call or visit the cadre could not report in time, entered by `entered_by`."""
    contact = Contact(
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
    session.add(contact)
    await session.flush()
    audit(
        session,
        at=now,
        actor=entered_by,
        action="contact.back_entry",
        entity="contact",
        entity_id=contact.id,
        cadre_id=cadre_id,
        household_id=household_id,
        kind=kind,
        occurred_on=occurred_on.isoformat(),
    )
    return contact
