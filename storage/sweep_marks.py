"""What the reminder sweep has said: its outbox rows, each the claim of the duties it lists.

A chunk of the sweep claims, in the transaction that enqueues its messages, each cadre's duty
keys not yet reminded that day: under one lock (PostgreSQL: an advisory lock; SQLite: its one
write lock) it reads the chunk's claims of the day — the cadres' reminder rows in the outbox
of that day (`outbox.stage_on`, their payloads listing the duty keys) — and enqueues the new
keys only. A rerun, or a concurrent sweep, finds them and says nothing twice; a duty that
appears later the same day is claimed, and reminded, alone.

Before migration 0018 a claim was also a row of `reminder_marks` (one per cadre and claim,
`duties` its keys one a line); those are still read, so a day swept before the upgrade is
not said again.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import Executable, Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import lines_digest
from storage.dialect import hold_write_lock, is_postgres
from storage.duties import CadreRange
from storage.models import ReminderMark
from storage.tables import outbox

LOCK = zlib.crc32(b"bangfu.sweep_marks")  # taken by every sweep's claims, whatever the day
_T: Table = ReminderMark.__table__  # type: ignore[assignment]
MARKS_TABLE = _T.name
MARKS_BY_CADRE = "ix_reminder_marks_cadre_stage"  # (cadre_id, stage_on)


def claim_digest(keys: Sequence[str]) -> str:
    """What names a claim of these (sorted) duty keys in its mark and its messages."""
    return lines_digest("\n".join(keys))


CLAIM_KEY = 2  # a duty's key in a reminder payload's duties (core.reminder_text.KEY)


async def reminded(
    session: AsyncSession, stage_on: date, cadres: CadreRange
) -> dict[int, set[str]]:
    """The duty keys reminded for stages on this day, by cadre (of a range of cadres)."""
    out: dict[int, set[str]] = {}
    claims = select(outbox.c.cadre_id, outbox.c.payload).where(
        outbox.c.cadre_id > cadres[0],
        outbox.c.cadre_id <= cadres[1],
        outbox.c.stage_on == stage_on,
    )
    for cadre_id, payload in (await session.execute(claims)).all():
        keys = out.setdefault(cadre_id, set())
        keys.update(str(d[CLAIM_KEY]) for d in payload["reminder"]["duties"])
    stmt: Executable = select(ReminderMark.cadre_id, ReminderMark.duties).where(
        ReminderMark.cadre_id > cadres[0],
        ReminderMark.cadre_id <= cadres[1],
        ReminderMark.stage_on == stage_on,
        ReminderMark.duties.is_not(None),
    )
    if not is_postgres(session):
        # SQLite would take the day's index and read every mark of the day for each chunk;
        # through (cadre_id, stage_on) it reads only the chunk's.
        stmt = text(
            f"SELECT cadre_id, duties FROM {_T.name} INDEXED BY {MARKS_BY_CADRE} WHERE cadre_id > :lo"
            " AND cadre_id <= :hi AND stage_on = :day AND duties IS NOT NULL"
        ).bindparams(lo=cadres[0], hi=cadres[1], day=stage_on.isoformat())
    for cadre_id, duties in (await session.execute(stmt)).all():
        out.setdefault(cadre_id, set()).update(str(duties).split("\n"))
    return out


async def claim_reminders(
    session: AsyncSession,
    duties: Mapping[int, Sequence[str]],
    *,
    stage_on: date,
    cadres: CadreRange,
) -> dict[int, tuple[list[str], str]]:
    """Each cadre's duty keys (cadres of the range) not reminded yet on this day, sorted,
    with their `claim_digest`, by cadre (cadres with none left out). Holds the claims' lock
    until the transaction ends: the caller enqueues their messages (with `stage_on`) in it,
    and those rows are the claims."""
    await hold_write_lock(session, LOCK, MARKS_TABLE)
    done = await reminded(session, stage_on, cadres)
    claimed: dict[int, tuple[list[str], str]] = {}
    for cadre_id, keys in sorted(duties.items()):
        seen = done.get(cadre_id)
        new = sorted(set(keys) if seen is None else {k for k in keys if k not in seen})
        if new:
            claimed[cadre_id] = (new, claim_digest(new))
    return claimed
