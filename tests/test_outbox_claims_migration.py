"""Migration 0018: the sweep's outbox rows are its claims (`outbox.stage_on`). Marks written
before still hold; the downgrade gives each cadre and day's claims back as a mark holding
their keys, and upgraded again a rerun of that day says nothing twice."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import command

from core.policy import Policy
from reminders.sweep import run_sweep
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from tests import factories as f
from tests.conftest import _off_loop

TZ = ZoneInfo("Asia/Shanghai")
NOV_20 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # a monthly-contact stage day
BEFORE = "0017_lean_scope_triggers"


async def test_the_downgrade_writes_the_claims_as_marks_and_they_hold_after(db: Database) -> None:
    async with db.transaction() as s:
        cadres = await f.county(s, cadres=3, households_each=2)
    swept = await run_sweep(db, NOV_20, Policy(), keep=False)
    assert (swept.cadres, swept.duties) == (3, 6)
    preview = await run_sweep(db, NOV_20, Policy(), dry_run=True)
    assert preview.duties == 0  # the outbox rows claim them
    await db.dispose()
    _off_loop(command.downgrade, alembic_config(db.url, schema=db.schema), BEFORE)
    async with db.sessions() as s:
        rows = (await s.execute(sa.text("SELECT cadre_id, duties FROM reminder_marks"))).all()
    assert sorted(cadre for cadre, _ in rows) == sorted(c.id for c in cadres)
    assert len({k for _, duties in rows for k in duties.split("\n")}) == 6
    await db.dispose()
    _off_loop(upgrade, db.url, schema=db.schema)
    async with db.sessions() as s:  # the outbox rows are no claims any more: the marks are
        stages = (await s.execute(sa.text("SELECT stage_on FROM outbox"))).scalars().all()
    assert stages == [None, None, None]
    for keep in (False, True):
        rerun = await run_sweep(db, NOV_20.replace(hour=15), Policy(), keep=keep)
        assert (rerun.enqueued, rerun.duties) == (0, 0)
