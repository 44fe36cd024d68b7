"""Undo or correct my last record within the policy's window; end my leave."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.types import Reply
from handlers.engine import CONFIRM, Position, Turn, enter
from handlers.flows import FLOWS
from storage.audit import audit
from storage.models import Conversation
from storage.records import undo_record


def _undoable(conv: Conversation, turn: Turn) -> dict | None:
    last = conv.last_record or {}
    if not last.get("id"):
        return None
    at = datetime.fromisoformat(last["at"])
    if turn.now - at > timedelta(minutes=turn.ctx.policy.undo_minutes):
        return None
    return last


async def _undo_all(turn: Turn, last: dict) -> bool:
    """Undo the last record and the ones saved with it (several households in one line)."""
    ok = False
    for record_id in [last["id"], *(last.get("also") or [])]:
        ok = (
            await undo_record(
                turn.session,
                cadre_id=turn.cadre.id,
                kind=last["kind"],
                record_id=int(record_id),
                now=turn.now,
            )
            or ok
        )
    return ok


async def undo_last(conv: Conversation, turn: Turn) -> Reply:
    last = _undoable(conv, turn)
    if last is None:
        return Reply(turn.t("undo.nothing", minutes=turn.ctx.policy.undo_minutes))
    ok = await _undo_all(turn, last)
    conv.last_record = {}
    return Reply(
        turn.t("undo.done" if ok else "undo.nothing", minutes=turn.ctx.policy.undo_minutes)
    )


async def correct_last(conv: Conversation, turn: Turn) -> tuple[Position, list[Reply]]:
    """Withdraw the last record and reopen its draft at the confirmation card."""
    last = _undoable(conv, turn)
    flow = FLOWS.get(str(last.get("flow"))) if last else None
    if last is None or flow is None:
        return Position(), [Reply(turn.t("undo.nothing", minutes=turn.ctx.policy.undo_minutes))]
    await _undo_all(turn, last)
    conv.last_record = {}
    turn.draft = dict(last.get("draft") or {})
    turn.notes.append(Reply(turn.t("undo.correcting")))
    return await enter(flow, turn, CONFIRM)


async def end_leave(turn: Turn) -> Reply:
    if turn.cadre.leave_until is None:
        return Reply(turn.t("leave.not_on_leave"))
    turn.cadre.leave_until = None
    audit(
        turn.session,
        at=turn.now,
        actor=f"cadre:{turn.cadre.id}",
        action="cadre.back",
        entity="cadre",
        entity_id=turn.cadre.id,
    )
    return Reply(turn.t("leave.back"))
