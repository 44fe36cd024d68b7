"""Migration 0013: the sweep's marks of one duty a row become one row per cadre and day
holding the duty keys, so a sweep rerun on a day reminded before the upgrade says nothing
twice; escalation marks stay as they are; the downgrade gives the rows of one duty back."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import command

from core.policy import Policy
from reminders.sweep import run_sweep
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models._base import Stamp
from tests import factories as f
from tests.conftest import _off_loop

TZ = ZoneInfo("Asia/Shanghai")
NOV_20 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # a monthly-contact stage day
BEFORE = "0012_household_state"
OLD_MARKS = sa.table(
    "reminder_marks",
    sa.column("key", sa.String),
    sa.column("cadre_id", sa.Integer),
    sa.column("stage_on", sa.Date),
    sa.column("created_at", Stamp()),
)


def _downgrade(db: Database) -> None:
    _off_loop(command.downgrade, alembic_config(db.url, schema=db.schema), BEFORE)


async def _old_marks(db: Database) -> list[tuple[str, int]]:
    async with db.sessions() as s:
        rows = await s.execute(sa.select(OLD_MARKS.c.key, OLD_MARKS.c.cadre_id))
        return sorted((key, cadre) for key, cadre in rows.all())


async def test_old_marks_are_grouped_by_cadre_and_a_rerun_sends_nothing_twice(db):
    async with db.transaction() as s:
        cadres = await f.county(s, cadres=3, households_each=2)
    preview = await run_sweep(db, NOV_20, Policy(), dry_run=True)
    said = sorted((d.key, r.cadre_id) for r in preview.reminders for d in r.duties)
    assert len(said) == 6
    lapse = ("esc:contact:1:2026-10", cadres[0].id)
    await db.dispose()
    _downgrade(db)
    # Before the upgrade a sweep reminded every duty (a row each) and escalated one lapse.
    async with db.transaction() as s:
        stamp = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
        await s.execute(
            OLD_MARKS.insert(),
            [
                {"key": k, "cadre_id": c, "stage_on": NOV_20.date(), "created_at": stamp}
                for k, c in [*said, lapse]
            ],
        )
    await db.dispose()
    _off_loop(upgrade, db.url, schema=db.schema)

    async with db.sessions() as s:
        rows = (await s.execute(sa.text("SELECT key, cadre_id, duties FROM reminder_marks"))).all()
    grouped = {cadre: duties for key, cadre, duties in rows if duties is not None}
    assert sorted(grouped) == sorted(c.id for c in cadres)  # one row a cadre
    assert sorted((k, c) for c, d in grouped.items() for k in d.split("\n")) == said
    assert [(key, cadre) for key, cadre, duties in rows if duties is None] == [lapse]
    rerun = await run_sweep(db, NOV_20.replace(hour=15), Policy())
    assert (rerun.enqueued, rerun.duties) == (0, 0)

    await db.dispose()
    _downgrade(db)
    assert await _old_marks(db) == sorted([*said, lapse])
    await db.dispose()
    _off_loop(upgrade, db.url, schema=db.schema)
