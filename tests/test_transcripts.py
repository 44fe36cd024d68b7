"""Golden transcripts (after RapidPro's runner tests): what the cadre
sends → what the bot must say → what must be stored, one JSON file per conversation.

A file in tests/transcripts/ holds:
  now           the bot's clock (ISO, aware)
  turns         [{send, expect?, buttons?}]: send is one of {"text": str | {"repeat", "times"}},
                {"command": name, "args"?}, {"tap": label part}, {"button": data},
                {"photo": ref}, {"location": [lat, lon]}, {"sticker": true};
                expect: substrings of the replies' text; buttons: labels that must be offered
  stored        table → rows (in id order) whose listed fields must match; "household" is
                the head's name; every listed table must hold exactly these rows
  conversation  the stored flow and step at the end
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.policy import Policy
from core.types import InboundKind, Reply
from handlers.context import Context
from storage.db import Database
from storage.models import Contact, DiaryEntry, Event, Household, Problem
from tests.chat import Chat, texts
from tests.flowkit import CRASH, conversation
from tests.seed import seed

SCRIPTS = {
    p.stem: json.loads(p.read_text(encoding="utf-8"))
    for p in sorted((Path(__file__).parent / "transcripts").glob("*.json"))
}
TABLES: dict[str, Any] = {
    "contacts": Contact,
    "diary_entries": DiaryEntry,
    "events": Event,
    "problems": Problem,
}


async def send(chat: Chat, what: dict[str, Any]) -> list[Reply]:
    (kind, value), *_ = what.items()
    if kind == "text":
        if isinstance(value, dict):
            value = value["repeat"] * value["times"]
        return await chat.say(value)
    if kind == "command":
        return await chat.command(value, what.get("args", ""))
    if kind == "tap":
        return await chat.tap(value)
    if kind == "button":
        return await chat.press(value)
    if kind == "photo":
        return await chat.send(InboundKind.PHOTO, photo_ref=value)
    if kind == "location":
        return await chat.send(InboundKind.LOCATION, latitude=value[0], longitude=value[1])
    if kind == "sticker":
        return await chat.send(InboundKind.UNSUPPORTED)
    raise ValueError(f"unknown send {what}")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


async def stored(db: Database, table: str) -> list[dict[str, Any]]:
    """The table's rows as plain dicts, with the household's head name as "household"."""
    model = TABLES[table]
    async with db.transaction() as s:
        rows = list(await s.scalars(select(model).order_by(model.id)))
        names = dict((await s.execute(select(Household.id, Household.head_name))).all())
    return [
        {
            **{c.key: _plain(getattr(row, c.key)) for c in model.__table__.columns},
            "household": names.get(row.household_id),
        }
        for row in rows
    ]


@pytest.mark.parametrize("name", SCRIPTS)
async def test_transcript(db, name: str) -> None:
    script = SCRIPTS[name]
    now = datetime.fromisoformat(script["now"])
    ctx = Context(db=db, clock=FixedClock(now), policy=Policy())
    chat = Chat(ctx)
    await chat.command("start", (await seed(db, now)).code)

    for n, turn in enumerate(script["turns"], 1):
        replies = await send(chat, turn["send"])
        said = texts(replies)
        where = f"{name} turn {n} {turn['send']}"
        assert replies and CRASH not in said, f"{where}: {said!r}"
        for part in turn.get("expect", []):
            assert part in said, f"{where}: {part!r} not in {said!r}"
        offered = chat.labels()
        for label in turn.get("buttons", []):
            assert label in offered, f"{where}: no button {label!r} in {offered}"

    for table, expected in script["stored"].items():
        rows = await stored(db, table)
        assert len(rows) == len(expected), f"{name}: {table} has {len(rows)} rows"
        for row, want in zip(rows, expected, strict=True):
            assert {k: row[k] for k in want} == want, f"{name}: {table}"
    flow, step, _ = await conversation(db)
    assert {"flow": flow, "step": step} == script["conversation"]
