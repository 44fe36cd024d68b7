"""The benchmark county loader fills the kept tables as the triggers would have.

bench/make_county.py loads contacts with the contact_state / contact_months triggers off,
then runs the migrations' backfill and puts the triggers back: the result must be the same
database a row-by-row, trigger-kept load gives, with live triggers afterwards.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

from bench.county_rows import Sizes, generate
from bench.make_county import load_sqlite
from storage.contact_state import drift, household_drift, month_drift, village_drift
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Contact

AT = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
TINY = Sizes(households=300, cadres=100, pairings=400, contacts=4_000)
MONTHS = """
    SELECT c.household_id, date(c.occurred_on, 'start of month'), h.village_id, count(*),
           sum(CASE WHEN c.kind = 'visit' THEN 1 ELSE 0 END)
    FROM contacts c JOIN households h ON h.id = c.household_id
    WHERE c.deleted_at IS NULL AND c.kind IN ('call', 'visit')
    GROUP BY 1, 2, 3
"""


def _triggers(path: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    finally:
        con.close()
    return sorted(rows)


async def test_loaded_county_has_kept_state_and_live_triggers(tmp_path: Path) -> None:
    path, fresh = tmp_path / "county.db", tmp_path / "fresh.db"
    # Both run Alembic, which runs its own event loop: off this test's loop.
    await asyncio.to_thread(load_sqlite, path, generate(TINY, AT, 7))
    await asyncio.to_thread(upgrade, f"sqlite:///{fresh}")
    assert _triggers(path) == _triggers(fresh) != []

    db = Database(f"sqlite:///{path}")
    try:
        async with db.sessions() as s:
            assert await drift(s) == [] and await month_drift(s) == []
            assert await household_drift(s) == [] and await village_drift(s) == []
            kept = sorted((await s.execute(text("SELECT * FROM contact_months"))).all())
            assert kept == sorted((await s.execute(text(MONTHS))).all()) != []
        # The triggers are back: a new visit moves the pair's kept dates and month count.
        async with db.transaction() as s:
            row = (await s.execute(text("SELECT id, cadre_id, household_id FROM contacts"))).first()
            assert row is not None
            s.add(
                Contact(
                    cadre_id=row[1],
                    household_id=row[2],
                    kind="visit",
                    occurred_on=date(2026, 11, 22),
                    reported_at=AT,
                )
            )
        async with db.sessions() as s:
            assert await drift(s) == [] and await household_drift(s) == []
            last = await s.scalar(
                text(
                    "SELECT last_visit_on FROM contact_state"
                    " WHERE cadre_id = :c AND household_id = :h"
                ),
                {"c": row[1], "h": row[2]},
            )
            assert str(last) == "2026-11-22"
            assert sorted((await s.execute(text("SELECT * FROM contact_months"))).all()) == sorted(
                (await s.execute(text(MONTHS))).all()
            )
    finally:
        await db.dispose()
