"""The hot path's statements on the driver's connection (storage/compiled.py) read and write
what SQLAlchemy's own execution does, fail as it does, and stay in the transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import exc

from storage.conversations import _account_and_conversation, account_and_conversation
from storage.core_db import execute_core
from storage.db import Database, is_sqlite
from storage.models import Contact
from storage.people import _my_households, my_households
from storage.records import _insert_contact, add_contact
from tests.flowkit import NOW, bound_world, count


async def test_rows_equal_sqlalchemys_own(db: Database) -> None:
    w = await bound_world(db)
    await w.chat.say("今天去李四家走访，看了新房")
    await w.chat.tap("确认保存")
    channel, account = str(w.chat.channel), w.chat.account
    # On a SQLite file: the in-place connection, then aiosqlite's threaded one.
    for begin in (db.short_transaction, db.transaction):
        await _compare(begin, channel, account, w.seed.cadre_id, postgres=not is_sqlite(db.url))


async def _compare(
    begin: Any, channel: str, account: str, cadre_id: int, *, postgres: bool
) -> None:
    async with begin() as s:
        params = {"channel": channel, "account_id": account}
        statement = _account_and_conversation(postgres)
        ours = (await execute_core(s, statement, params)).first()
        theirs = (await (await s.connection()).execute(statement, params)).first()
        assert ours == tuple(theirs)  # datetimes, JSON drafts, booleans read alike
        params = {"cadre_id": cadre_id}
        ours_all = list(await execute_core(s, _my_households(), params))
        theirs_all = [
            tuple(r) for r in await (await s.connection()).execute(_my_households(), params)
        ]
        assert ours_all == theirs_all and ours_all
        view, conv = await account_and_conversation(s, channel, account)
        assert view is not None and view.cadre is not None and conv is not None
        assert conv.last_record and conv.updated_at == NOW
        assert await my_households(s, cadre_id)


async def test_a_write_is_in_the_transaction_and_an_error_is_sqlalchemys(db: Database) -> None:
    w = await bound_world(db)
    household = w.seed.households["李四"]
    with pytest.raises(RuntimeError):
        async with db.short_transaction() as s:
            added = await add_contact(
                s,
                cadre_id=w.seed.cadre_id,
                household_id=household,
                kind="call",
                occurred_on=date(2026, 11, 23),
                now=NOW,
                help_tags=[],
                summary="回滚",
                paired=True,
            )
            assert added is not None
            raise RuntimeError  # rolls back: the contact is gone with it
    assert await count(db, Contact, summary="回滚") == 0
    row = {
        "cadre_id": 10**9,  # no such cadre: the foreign key refuses it
        "household_id": household,
        "kind": "call",
        "occurred_on": date(2026, 11, 23),
        "reported_at": NOW,
        "help_tags": [],
        "summary": "",
        "problems_raised": "",
        "latitude": None,
        "longitude": None,
        "photo_refs": [],
        "source_channel": "",
        "source_message_id": "",
    }
    with pytest.raises(exc.IntegrityError):
        async with db.short_transaction() as s:
            await execute_core(s, _insert_contact(False), row)
