"""A step that fails half-way: the cadre hears the apology, nothing half-written is stored,
the draft is intact, and sending again (or the platform redelivering) saves it once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

import handlers.flows.diary
import handlers.flows.event
import handlers.flows.leave
import handlers.flows.plan
import handlers.flows.problem
import handlers.flows.report
import handlers.steps
from core.types import InboundKind
from storage.db import Database
from storage.models import AuditLog, Conversation, ProcessedMessage
from tests.flowkit import (
    CRASH,
    bound_world,
    conversation,
    leave_of,
    saved_records,
    walk_to,
)


class Boom(RuntimeError):
    pass


def fail_once_after(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Make module.name run for real (writing what it writes) and then raise, once."""
    real = getattr(module, name)
    calls: list[int] = []

    def wrapper(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        result = real(*args, **kw)
        if len(calls) > 1:
            return result
        if hasattr(result, "__await__"):

            async def fail() -> Any:
                await result
                raise Boom(name)

            return fail()
        raise Boom(name)

    monkeypatch.setattr(module, name, wrapper)
    return calls


async def snapshot(db: Database, cadre_id: int) -> dict[str, Any]:
    """Everything a finish could write: records, leave, audit entries, the conversation."""
    async with db.transaction() as s:
        audits = await s.scalar(select(func.count()).select_from(AuditLog))
        conv = await s.scalar(select(Conversation))
        assert conv is not None
        row = (conv.flow, conv.step, conv.draft, conv.expires_at, conv.last_record)
    return {
        **(await saved_records(db, cadre_id)),
        "leave": await leave_of(db, cadre_id),
        "audit": audits,
        "conversation": row,
    }


async def processed(db: Database, message_id: str) -> bool:
    async with db.transaction() as s:
        return await s.get(ProcessedMessage, ("console", message_id)) is not None


# flow → where its finish writes (module, function patched to fail after writing)
FINISHERS = {
    "report": (handlers.flows.report, "add_contact"),
    "diary": (handlers.flows.diary, "add_diary"),
    "event": (handlers.flows.event, "add_event"),
    "problem": (handlers.flows.problem, "add_problem"),
    "resolve": (handlers.flows.problem, "settle"),
    "progress": (handlers.flows.problem, "add_progress"),
    "followup": (handlers.flows.problem, "follow_up"),
    "measure": (handlers.flows.plan, "add_measure"),
    "mprogress": (handlers.flows.plan, "report_progress"),
    "deed": (handlers.flows.plan, "add_deed"),
    "plan": (handlers.flows.plan, "set_plan"),
    "leave": (handlers.flows.leave, "audit"),  # after the cadre's leave_until is set
}


@pytest.mark.parametrize("flow", FINISHERS)
async def test_crash_while_saving_keeps_the_draft_and_stores_nothing(
    db, monkeypatch: pytest.MonkeyPatch, flow: str
) -> None:
    world = await bound_world(db)
    await walk_to(world, flow, "confirm")
    before = await snapshot(db, world.seed.cadre_id)
    assert before["conversation"][:2] == (flow, "confirm")
    calls = fail_once_after(monkeypatch, *FINISHERS[flow])

    replies = await world.chat.send(InboundKind.BUTTON, "tap-ok", data=world.chat.confirm_data())
    assert [r.text for r in replies] == [CRASH]  # "系统出错了，这条没有保存，草稿还在……"
    assert calls == [1]
    assert await snapshot(db, world.seed.cadre_id) == before
    assert not await processed(db, "tap-ok")  # so a redelivery is handled, not dropped

    # The platform redelivers the same tap (or the cadre taps again): saved, once.
    replies = await world.chat.send(InboundKind.BUTTON, "tap-ok", data=world.chat.confirm_data())
    assert CRASH not in replies[0].text and "✅" in replies[0].text
    after = await snapshot(db, world.seed.cadre_id)
    assert after != before and after["conversation"][:2] == ("", "")
    assert await world.chat.send(InboundKind.BUTTON, "tap-ok", data=world.chat.confirm_data()) == []
    assert await snapshot(db, world.seed.cadre_id) == after


async def test_crash_in_a_middle_step_keeps_the_step(db, monkeypatch: pytest.MonkeyPatch) -> None:
    """The household check fails once: the cadre is still asked for the household."""
    world = await bound_world(db)
    prompt = await walk_to(world, "report", "household")
    before = await conversation(db)
    fail_once_after(monkeypatch, handlers.steps, "is_my_household")
    mine = world.seed.households["张三"]

    assert [r.text for r in await world.chat.press(f"h:{mine}")] == [CRASH]
    assert await conversation(db) == before
    replies = await world.chat.tap(prompt.buttons[0][0].label)
    assert "联系方式" in replies[-1].text
    flow, step, draft = await conversation(db)
    assert (flow, step, draft["household_id"]) == ("report", "kind", mine)
