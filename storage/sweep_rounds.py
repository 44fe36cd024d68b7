"""A day's reminder round, its messages derived as they are sent.

The daily sweep does not write a day's reminders at once (on a stage day 100,000s of rows,
while the bot sends ~30 a second): it opens the day's round, one row of `sweep_rounds`. The
dispatcher derives the round's messages a batch of cadres at a time as its queue runs low
(reminders.rounds): each batch finds, claims and enqueues its cadres' duties as the sweep of
that day would (storage.sweep_sql, under the claims' lock; the outbox rows are the claims),
so what a message says is read when it is about to be sent.

Most overdue first: a round goes through the day's due days in order (a pass each,
`pass_due`), each pass through the cadres in id order (`after_cadre`, the last one done); a
pass writes the cadres whose earliest unclaimed duty is due by its day, all their duties in
one message. The round's row moves on in the batch's transaction: a batch is derived once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from storage.core_db import Executor
from storage.tables import sweep_rounds

_T = sweep_rounds


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    stage_on: date
    lang: str
    opened_at: datetime
    not_before: datetime | None
    pass_due: date | None
    after_cadre: int


async def open_round(
    session: Executor, *, stage_on: date, lang: str, at: datetime, not_before: datetime | None
) -> int:
    """Open the round of `stage_on` (the id); a round of that day not begun yet is reused,
    so opening it again adds nothing. A round already under way gets a new round beside it,
    which says only what the day's claims do not hold yet (a duty that appeared since)."""
    waiting = await session.execute(
        select(_T.c.id).where(
            _T.c.stage_on == stage_on, _T.c.done_at.is_(None), _T.c.pass_due.is_(None)
        )
    )
    found = waiting.scalar()
    if found is not None:
        return int(found)
    values = {
        "stage_on": stage_on,
        "lang": lang,
        "opened_at": at,
        "not_before": not_before,
        "pass_due": None,
        "after_cadre": 0,
        "done_at": None,
    }
    result = await session.execute(insert(_T).values(**values).returning(_T.c.id))
    return int(result.scalar_one())


def _round(row: object) -> Round:
    r = row._mapping  # type: ignore[attr-defined]
    return Round(
        int(r["id"]),
        r["stage_on"],
        str(r["lang"]),
        r["opened_at"],
        r["not_before"],
        r["pass_due"],
        int(r["after_cadre"]),
    )


_COLUMNS = (
    _T.c.id,
    _T.c.stage_on,
    _T.c.lang,
    _T.c.opened_at,
    _T.c.not_before,
    _T.c.pass_due,
    _T.c.after_cadre,
)


def _open_oldest_first() -> Any:
    return select(*_COLUMNS).where(_T.c.done_at.is_(None)).order_by(_T.c.stage_on, _T.c.id)


async def next_open(session: Executor) -> Round | None:
    """The oldest round not done (the earliest day first). Read under the claims' lock, so
    two dispatchers never derive the same batch."""
    row = (await session.execute(_open_oldest_first().limit(1))).first()
    return None if row is None else _round(row)


async def any_open(session: Executor) -> bool:
    """Whether some round is not done yet."""
    found = await session.execute(select(_T.c.id).where(_T.c.done_at.is_(None)).limit(1))
    return found.first() is not None


async def open_rounds(session: Executor) -> list[Round]:
    """Every round not done, oldest first (for `bangfu outbox status`)."""
    return [_round(row) for row in (await session.execute(_open_oldest_first())).all()]


async def advance(session: Executor, round_id: int, *, pass_due: date, after_cadre: int) -> None:
    """The round's batches are done up to cadre `after_cadre` of the pass of `pass_due`."""
    await session.execute(
        update(_T).where(_T.c.id == round_id).values(pass_due=pass_due, after_cadre=after_cadre)
    )


async def finish(session: Executor, round_id: int, *, now: datetime) -> None:
    await session.execute(update(_T).where(_T.c.id == round_id).values(done_at=now))


async def prune(session: Executor, *, before: date) -> int:
    """Forget finished rounds of days before `before`."""
    result = await session.execute(
        delete(_T).where(_T.c.stage_on < before, _T.c.done_at.is_not(None))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
