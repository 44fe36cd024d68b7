"""Writing what cadres report: contacts, diary entries, events, problems; and undoing them."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, exists, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import audit, audit_now
from storage.core_db import execute_core
from storage.dialect import is_postgres
from storage.models import (
    AuditLog,
    Contact,
    Deed,
    DiaryEntry,
    Event,
    HelpMeasure,
    Pairing,
    Problem,
)


async def _record(
    session: AsyncSession, record: Any, *, now: datetime, cadre_id: int, action: str, **detail: Any
) -> None:
    """Store a new record (its id assigned) and note who added it in the audit log."""
    session.add(record)
    await session.flush()
    await _audit_added(session, record.id, now=now, cadre_id=cadre_id, action=action, **detail)


async def _audit_added(
    session: AsyncSession,
    record_id: int,
    *,
    now: datetime,
    cadre_id: int,
    action: str,
    **detail: Any,
) -> None:
    entity = action.split(".")[0]
    await audit_now(
        session,
        at=now,
        actor=f"cadre:{cadre_id}",
        action=action,
        entity=entity,
        entity_id=record_id,
        **detail,
    )


RECORD_MODELS: dict[str, Any] = {
    "contact": Contact,
    "diary": DiaryEntry,
    "event": Event,
    "problem": Problem,
    "measure": HelpMeasure,
    "deed": Deed,
}


async def add_contact(
    session: AsyncSession,
    *,
    cadre_id: int,
    household_id: int,
    kind: str,
    occurred_on: date,
    now: datetime,
    help_tags: list[str],
    summary: str,
    problems_raised: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    photo_refs: list[str] | None = None,
    source_channel: str = "",
    source_message_id: str = "",
    problem_days: int = 30,
    paired: bool = False,
) -> int | None:
    """Store a call or a visit (and the problem it raised); the new contact's id.

    With `paired`, only while the cadre's pairing with the household is active, checked by
    the insert itself: None when it is not, and nothing is written. Core statements, not
    the unit of work: every confirmed report runs this.
    """
    row = {
        "cadre_id": cadre_id,
        "household_id": household_id,
        "kind": kind,
        "occurred_on": occurred_on,
        "reported_at": now,
        "help_tags": help_tags,
        "summary": summary,
        "problems_raised": problems_raised,
        "latitude": latitude,
        "longitude": longitude,
        "photo_refs": photo_refs or [],
        "source_channel": source_channel,
        "source_message_id": source_message_id,
    }
    if paired and is_postgres(session):
        # The contact and its audit row in one statement (one round trip less).
        row.update(
            at=now,
            actor=f"cadre:{cadre_id}",
            action="contact.add",
            entity="contact",
            detail={"household_id": household_id, "kind": kind},
        )
        added = await execute_core(session, _insert_contact_audited(), row)
        entity_id = added.scalar_one_or_none()
        if entity_id is None:
            return None
        contact_id = int(entity_id)
    else:
        inserted = await execute_core(session, _insert_contact(paired), row)
        contact_id = inserted.scalar_one_or_none()
        if contact_id is None:
            return None
        await _audit_added(
            session,
            contact_id,
            now=now,
            cadre_id=cadre_id,
            action="contact.add",
            household_id=household_id,
            kind=kind,
        )
    if problems_raised:
        # A problem raised on a visit is followed up like any other (协调解决突出问题).
        await add_problem(
            session,
            cadre_id=cadre_id,
            household_id=household_id,
            description=problems_raised,
            raised_on=occurred_on,
            now=now,
            contact_id=contact_id,
            due_on=occurred_on + timedelta(days=problem_days),
        )
    return contact_id


@functools.cache
def _insert_contact(paired: bool) -> Any:
    table = cast(Table, Contact.__table__)
    if not paired:
        named: dict[str, Any] = {c: bindparam(c) for c in _CONTACT_COLUMNS}
        return insert(table).values(named).returning(table.c.id)
    # INSERT … SELECT the values WHERE the pairing is active: the check and the write in
    # one statement. Typed parameters: PostgreSQL reads an untyped one in a select list
    # as text.
    columns = list(_CONTACT_COLUMNS)
    pairings = cast(Table, Pairing.__table__)
    active = exists().where(
        pairings.c.cadre_id == bindparam("cadre_id"),
        pairings.c.household_id == bindparam("household_id"),
        pairings.c.active.is_(True),
    )
    values = select(*(bindparam(c, type_=table.c[c].type) for c in columns)).where(active)
    return insert(table).from_select(columns, values).returning(table.c.id)


@functools.cache
def _insert_contact_audited() -> Any:
    """PostgreSQL: `_insert_contact(paired=True)` and its audit row as one statement, the
    contact's insert a data-modifying CTE whose id the audit row takes (no row, no audit:
    the pairing was not active). Returns the audit row's entity_id (the contact's id)."""
    added = _insert_contact(True).cte("added")
    audit = cast(Table, AuditLog.__table__)
    names = ("at", "actor", "action", "entity")
    values = select(
        *(bindparam(n, type_=audit.c[n].type) for n in names),
        sql_cast(added.c.id, String),
        bindparam("detail", type_=audit.c.detail.type),
    ).select_from(added)
    columns = [*names, "entity_id", "detail"]
    return insert(audit).from_select(columns, values).returning(audit.c.entity_id)


_CONTACT_COLUMNS = (
    "cadre_id",
    "household_id",
    "kind",
    "occurred_on",
    "reported_at",
    "help_tags",
    "summary",
    "problems_raised",
    "latitude",
    "longitude",
    "photo_refs",
    "source_channel",
    "source_message_id",
)


async def add_diary(
    session: AsyncSession,
    *,
    cadre_id: int,
    household_id: int | None,
    written_on: date,
    now: datetime,
    done: str,
    seen: str,
    thoughts: str,
    opinion_topics: list[str],
    opinion: str,
) -> DiaryEntry:
    entry = DiaryEntry(
        cadre_id=cadre_id,
        household_id=household_id,
        written_on=written_on,
        created_at=now,
        done=done,
        seen=seen,
        thoughts=thoughts,
        opinion_topics=opinion_topics,
        opinion=opinion,
    )
    await _record(session, entry, now=now, cadre_id=cadre_id, action="diary.add")
    return entry


async def add_event(
    session: AsyncSession,
    *,
    cadre_id: int,
    household_id: int,
    kind: str,
    occurred_on: date,
    visit_within_days: int,
    note: str,
    now: datetime,
) -> Event:
    event = Event(
        cadre_id=cadre_id,
        household_id=household_id,
        kind=kind,
        occurred_on=occurred_on,
        visit_due_on=occurred_on + timedelta(days=visit_within_days),
        note=note,
        reported_at=now,
    )
    await _record(session, event, now=now, cadre_id=cadre_id, action="event.add", kind=kind)
    return event


async def add_problem(
    session: AsyncSession,
    *,
    cadre_id: int,
    household_id: int,
    description: str,
    raised_on: date,
    now: datetime,
    contact_id: int | None = None,
    category: str = "其他",
    handler_unit_id: int | None = None,
    due_on: date | None = None,
) -> Problem:
    problem = Problem(
        cadre_id=cadre_id,
        household_id=household_id,
        description=description,
        raised_on=raised_on,
        created_at=now,
        contact_id=contact_id,
        category=category,
        handler_unit_id=handler_unit_id,
        due_on=due_on,
        stage="accepted",
    )
    await _record(
        session, problem, now=now, cadre_id=cadre_id, action="problem.add", category=category
    )
    return problem


async def open_problems(session: AsyncSession, cadre_id: int, limit: int = 20) -> list[Problem]:
    result = await session.scalars(
        select(Problem)
        .where(Problem.cadre_id == cadre_id, Problem.status == "open", Problem.deleted_at.is_(None))
        .order_by(Problem.raised_on, Problem.id)
        .limit(limit)
    )
    return list(result)


async def _own(session: AsyncSession, kind: str, record_id: int, cadre_id: int) -> Any:
    model = RECORD_MODELS.get(kind)
    if model is None:
        return None
    return await session.scalar(
        select(model).where(model.id == record_id, model.cadre_id == cadre_id)
    )


async def undo_record(
    session: AsyncSession,
    *,
    cadre_id: int,
    kind: str,
    record_id: int,
    now: datetime,
    action: str = "undo",
) -> bool:
    """Soft-delete one of my records (and problems raised with a contact)."""
    record = await _own(session, kind, record_id, cadre_id)
    if record is None or record.deleted_at is not None:
        return False
    record.deleted_at = now
    if kind == "contact":
        raised = await session.scalars(
            select(Problem).where(Problem.contact_id == record_id, Problem.deleted_at.is_(None))
        )
        for problem in raised:
            problem.deleted_at = now
    audit(
        session,
        at=now,
        actor=f"cadre:{cadre_id}",
        action=f"{kind}.{action}",
        entity=kind,
        entity_id=record_id,
    )
    return True


async def restore_record(
    session: AsyncSession, *, cadre_id: int, kind: str, record_id: int, now: datetime
) -> bool:
    """Bring back one of my withdrawn records (and the problems withdrawn with it)."""
    record = await _own(session, kind, record_id, cadre_id)
    if record is None or record.deleted_at is None:
        return False
    withdrawn_at = record.deleted_at
    record.deleted_at = None
    if kind == "contact":
        # Only the problems that went with this contact, not ones withdrawn on their own.
        raised = await session.scalars(
            select(Problem).where(
                Problem.contact_id == record_id, Problem.deleted_at == withdrawn_at
            )
        )
        for problem in raised:
            problem.deleted_at = None
    audit(
        session,
        at=now,
        actor=f"cadre:{cadre_id}",
        action=f"{kind}.restore",
        entity=kind,
        entity_id=record_id,
    )
    return True


async def reopen_problem(
    session: AsyncSession, *, cadre_id: int, problem_id: int, now: datetime
) -> bool:
    """Take back a 销号: my resolved problem is open again; False if it is not resolved."""
    problem = await _own(session, "problem", problem_id, cadre_id)
    if problem is None or problem.deleted_at is not None or problem.status != "resolved":
        return False
    problem.status, problem.resolution, problem.resolved_at = "open", "", None
    problem.stage = "handling"  # back to 办理中: the 办结 is taken back
    audit(
        session,
        at=now,
        actor=f"cadre:{cadre_id}",
        action="problem.reopen",
        entity="problem",
        entity_id=problem_id,
    )
    return True
