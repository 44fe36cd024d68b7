"""What the reminder sweep has said: one mark row per cadre and claim, holding its duty keys.

A chunk of the sweep claims, in the transaction that enqueues its messages, each cadre's duty
keys not yet reminded that day: under one lock (PostgreSQL: an advisory lock; SQLite: its one
write lock) it reads the chunk's claims of the day and writes one row per cadre with new
keys. A rerun, or a concurrent sweep, finds them and says nothing twice; a duty that appears
later the same day is claimed, and reminded, alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import Executable, Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import lines_digest
from storage.dialect import hold_write_lock, insert_many_ignore, is_postgres
from storage.duties import CadreRange
from storage.models import ReminderMark

LOCK = zlib.crc32(b"bangfu.sweep_marks")  # taken by every sweep's claims, whatever the day
_T: Table = ReminderMark.__table__  # type: ignore[assignment]
MARKS_TABLE = _T.name
MARKS_BY_CADRE = "ix_reminder_marks_cadre_stage"  # (cadre_id, stage_on)


def claim_digest(keys: Sequence[str]) -> str:
    """What names a claim of these (sorted) duty keys in its mark and its messages."""
    return lines_digest("\n".join(keys))


async def reminded(
    session: AsyncSession, stage_on: date, cadres: CadreRange
) -> dict[int, set[str]]:
    """The duty keys reminded for stages on this day, by cadre (of a range of cadres)."""
    stmt: Executable = select(ReminderMark.cadre_id, ReminderMark.duties).where(
        ReminderMark.cadre_id > cadres[0],
        ReminderMark.cadre_id <= cadres[1],
        ReminderMark.stage_on == stage_on,
        ReminderMark.duties.is_not(None),
    )
    if not is_postgres(session):
        # SQLite would take the day's index and read every mark of the day for each chunk
        # (a sweep's chunks then read its own marks over and over: 8 million at 1M
        # pairings); through (cadre_id, stage_on) it reads only the chunk's.
        stmt = text(
            f"SELECT cadre_id, duties FROM {_T.name} INDEXED BY {MARKS_BY_CADRE} WHERE cadre_id > :lo"
            " AND cadre_id <= :hi AND stage_on = :day AND duties IS NOT NULL"
        ).bindparams(lo=cadres[0], hi=cadres[1], day=stage_on.isoformat())
    out: dict[int, set[str]] = {}
    for cadre_id, duties in (await session.execute(stmt)).all():
        out.setdefault(cadre_id, set()).update(str(duties).split("\n"))
    return out


async def claim_reminders(
    session: AsyncSession,
    duties: Mapping[int, Sequence[str]],
    *,
    stage_on: date,
    now: datetime,
    cadres: CadreRange,
) -> dict[int, tuple[list[str], str]]:
    """Claim each cadre's duty keys (cadres of the range) not reminded yet on this day;
    returns the keys claimed now, sorted, with their `claim_digest`, by cadre (cadres with
    none left out)."""
    await hold_write_lock(session, LOCK, MARKS_TABLE)
    done = await reminded(session, stage_on, cadres)
    rows = []
    claimed: dict[int, tuple[list[str], str]] = {}
    for cadre_id, keys in sorted(duties.items()):
        seen = done.get(cadre_id)
        new = sorted(set(keys) if seen is None else {k for k in keys if k not in seen})
        if not new:
            continue
        text = "\n".join(new)
        digest = lines_digest(text)
        rows.append(
            {
                "key": f"remind:{cadre_id}:{stage_on}:{digest}",
                "cadre_id": cadre_id,
                "stage_on": stage_on,
                "created_at": now,
                "duties": text,
            }
        )
        claimed[cadre_id] = (new, digest)
    await insert_many_ignore(session, _T, rows, ["key"])
    return claimed
