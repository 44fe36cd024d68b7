"""The database round trips of one update: a one-line report and its confirmation.

Each statement is a round trip (PostgreSQL) or a turn on SQLite's single writer; a change
that adds one to the commonest update shows up here, whatever the machine's speed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from storage.db import Database
from storage.models import AuditLog, Contact
from tests.flowkit import bound_world, count

# BEGIN is implicit on both drivers and not counted by SQLAlchemy's cursor events; COMMIT
# is counted separately by the "commit" event. On PostgreSQL the confirmation's contact and
# its audit row are one statement (a data-modifying CTE), and so are the processed-message
# mark and the account's read.
REPORT_STATEMENTS = {"sqlite": 4, "postgresql": 3}
CONFIRM_STATEMENTS = {"sqlite": 5, "postgresql": 3}


class Trips:
    def __init__(self, db: Database) -> None:
        self.statements: list[str] = []
        self.commits = 0
        for engine in db.engines():
            event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
            event.listen(engine.sync_engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, sql: str, *_a: Any) -> None:
        self.statements.append(sql.split("\n")[0][:100])

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def take(self) -> tuple[list[str], int]:
        taken, commits = self.statements, self.commits
        self.statements, self.commits = [], 0
        return taken, commits


async def test_a_one_line_report_and_its_confirmation_take_few_round_trips(
    db: Database,
) -> None:
    w = await bound_world(db)
    await w.chat.say("菜单")  # the conversation row exists from here on, as it nearly always does
    trips = Trips(db)
    card = await w.chat.say("今天去李四家走访，看了新房")
    assert any("确认保存" in b.label for r in card for row in r.buttons for b in row)
    report, report_commits = trips.take()
    saved = await w.chat.tap("确认保存")
    assert any("已保存" in r.text for r in saved)
    confirm, confirm_commits = trips.take()
    print("report", *report, "confirm", *confirm, sep="\n  ")
    assert await count(db, Contact, cadre_id=w.seed.cadre_id) == 1
    assert (report_commits, confirm_commits) == (1, 1)  # one transaction each
    assert len(report) <= REPORT_STATEMENTS[db.dialect], report
    assert len(confirm) <= CONFIRM_STATEMENTS[db.dialect], confirm
    # The record's audit row names it, whichever way it was written.
    async with db.transaction() as s:
        contact_id = await s.scalar(select(Contact.id).where(Contact.cadre_id == w.seed.cadre_id))
        rows = (await s.execute(select(AuditLog).where(AuditLog.action == "contact.add"))).scalars()
        [row] = list(rows)
    assert (row.entity, row.entity_id, row.actor) == (
        "contact",
        str(contact_id),
        f"cadre:{w.seed.cadre_id}",
    )
    assert row.detail["household_id"] == w.seed.households["李四"]
    assert row.detail["kind"] in ("call", "visit")
