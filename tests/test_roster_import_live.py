"""A real roster import beside a live bot: committed batch by batch so the bot keeps
answering, and all or nothing: a failure half-way takes back every batch already written."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bench.roster_rows import county_rows
from bot.roster.files import read_roster, write_rows_csv
from bot.roster.importer import import_roster
from core.policy import Policy
from storage.db import Database
from storage.models import Cadre, Household
from tests.flowkit import CRASH, bound_world
from tests.test_roster_import import counts

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def roster_file(tmp_path: Path, rows: list[list[str]], name: str) -> Path:
    path = tmp_path / name
    write_rows_csv(path, rows)
    return path


async def test_a_live_bot_answers_while_a_large_import_runs(db, tmp_path):
    bot_db = Database(db.url, schema=db.schema)  # the bot's own connections, as in its process
    try:
        world = await bound_world(bot_db)
        path = roster_file(tmp_path, list(county_rows(12_000)), "big.csv")
        writing = asyncio.Event()

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "cadres":  # the cadres are committed; households and pairings follow
                writing.set()

        raw = read_roster(path)
        importing = asyncio.create_task(
            import_roster(db, raw, policy=Policy(), now=NOW, progress=progress)
        )
        await asyncio.wait_for(writing.wait(), 120)
        # The cadre starts a report (a write: the draft) and opens 我的 (reads).
        replies = [*await world.chat.say("今天去李四家走访了"), *await world.chat.say("我的")]
        answered_during_import = not importing.done()
        report = await importing
    finally:
        await bot_db.dispose()
    assert report.ok and report.counts is not None
    assert replies and all(CRASH not in r.text for r in replies)
    assert answered_during_import  # not after the import let go of the database


async def refuse_pairings(db: Database) -> None:
    """The database refuses new pairings (as a full disk or a killed connection would)."""
    async with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON pairings "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
                )
            )
            await conn.execute(
                text("CREATE TRIGGER refuse BEFORE INSERT ON pairings EXECUTE FUNCTION refuse()")
            )


async def accept_pairings(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(
            text("DROP TRIGGER refuse" + (" ON pairings" if db.dialect != "sqlite" else ""))
        )
        if db.dialect != "sqlite":
            await conn.execute(text("DROP FUNCTION refuse()"))


async def test_an_import_failing_half_way_leaves_nothing_applied(db, tmp_path):
    rows = list(county_rows(600))
    first = await import_roster(
        db, read_roster(roster_file(tmp_path, rows, "a.csv")), policy=Policy(), now=NOW
    )
    assert first.ok
    async with db.transaction() as s:
        before_cadre = (
            await s.execute(select(Cadre.id, Cadre.name, Cadre.rank).order_by(Cadre.id))
        ).all()
        before_households = (
            await s.execute(
                select(Household.id, Household.head_name, Household.members).order_by(Household.id)
            )
        ).all()
    before = await counts(db)
    # A bigger file: renamed cadres and changed households (updates), 1,400 new households
    # (several committed batches) and their pairings, which the database then refuses.
    more = [list(r) for r in county_rows(2_000)]
    for r in more[:100]:
        r[1] = r[1] + "甲"
        r[8] = "7"
    await refuse_pairings(db)
    try:
        with pytest.raises(Exception, match="disk full"):
            await import_roster(
                db, read_roster(roster_file(tmp_path, more, "b.csv")), policy=Policy(), now=NOW
            )
    finally:
        await accept_pairings(db)
    assert await counts(db) == before
    async with db.transaction() as s:
        assert (
            await s.execute(select(Cadre.id, Cadre.name, Cadre.rank).order_by(Cadre.id))
        ).all() == before_cadre
        assert (
            await s.execute(
                select(Household.id, Household.head_name, Household.members).order_by(Household.id)
            )
        ).all() == before_households
