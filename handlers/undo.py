"""Undo or correct my last action within the policy's window; end my leave.

The last action is a small state machine kept on the conversation (`last_record`):

- ``add``: a record was saved (or several, one line naming several households). Undo
  withdraws them; correct reopens their draft.
- ``correct``: a corrected draft replaced a record. Undo withdraws the new one and brings
  back the one it replaced; correct reopens the corrected draft again.
- ``resolve``: a problem was marked resolved (销号). Undo reopens the problem.

A correction leaves the original in place until the corrected draft is saved, so cancelling
it (or letting it expire) loses nothing. Every undo says what it undid.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from core.daytext import day_label
from core.types import Reply
from handlers.engine import CONFIRM, Position, Turn, enter
from handlers.flows import FLOWS
from storage.audit import audit
from storage.cadres import set_leave
from storage.conversations import ConversationState
from storage.records import reopen_problem, restore_record, undo_record

CORRECTS = "_corrects"  # draft key: the record a corrected draft will replace when saved


def _undoable(conv: ConversationState, turn: Turn) -> dict | None:
    last = conv.last_record or {}
    if not last.get("id"):
        return None
    at = datetime.fromisoformat(last["at"])
    if turn.now - at > timedelta(minutes=turn.ctx.policy.undo_minutes):
        return None
    return last


def _nothing(turn: Turn) -> Reply:
    return Reply(turn.t("undo.nothing", minutes=turn.ctx.policy.undo_minutes))


def _day(turn: Turn, iso: str) -> str:
    try:
        return day_label(date.fromisoformat(iso[:10]), turn.lang, today=turn.now.date())
    except ValueError:
        return ""


def _ids(last: dict) -> list[int]:
    """The records one action saved: the first, and the others saved with it."""
    return [int(last["id"]), *(int(i) for i in last.get("also") or [])]


async def _withdraw(turn: Turn, kind: str, ids: list[int], action: str = "undo") -> bool:
    ok = False
    for record_id in ids:
        done = await undo_record(
            turn.session,
            cadre_id=turn.cadre.id,
            kind=kind,
            record_id=record_id,
            now=turn.now,
            action=action,
        )
        ok = done or ok
    return ok


def describe(turn: Turn, flow: str, draft: dict[str, Any], at: str) -> str:
    """The record a draft saved, in a few words: 11月30日 入户走访 李四."""
    household = str(draft.get("household", ""))
    if flow == "report":
        kind = turn.t(f"kind.{draft.get('kind', 'other')}")
        return turn.t(
            "undo.what_contact",
            date=_day(turn, str(draft.get("date", at))),
            kind=kind,
            household=household,
        )
    if flow == "event":
        kind = turn.t(f"event_kind.{draft.get('kind', 'hardship')}")
        return turn.t(
            "undo.what_event",
            date=_day(turn, str(draft.get("date", at))),
            kind=kind,
            household=household,
        )
    if flow == "diary":
        return turn.t("undo.what_diary", date=_day(turn, at))
    if flow == "measure":
        return turn.t(
            "undo.what_measure", text=str(draft.get("text", ""))[:40], household=household
        )
    if flow == "deed":
        return turn.t(
            "undo.what_deed",
            what=str(draft.get("what", ""))[:40],
            date=_day(turn, str(draft.get("date", at))),
            household=household,
        )
    description = str(draft.get("description", ""))[:40]
    key = "undo.what_problem_of" if household else "undo.what_problem"
    return turn.t(key, description=description, household=household)


async def undo_last(conv: ConversationState, turn: Turn) -> Reply:
    """Take back my last action; the answer names what was taken back."""
    last = _undoable(conv, turn)
    if last is None:
        return _nothing(turn)
    op, kind = last.get("op", "add"), str(last["kind"])
    me, now = turn.cadre.id, turn.now
    what = describe(turn, str(last.get("flow", "")), last.get("draft") or {}, last["at"])
    if op == "resolve":
        ok = await reopen_problem(turn.session, cadre_id=me, problem_id=int(last["id"]), now=now)
        key = "undo.reopened"
    else:
        ok = await _withdraw(turn, kind, _ids(last))
        key = "undo.done"
        if ok and op == "correct":
            for replaced in last.get("replaced") or []:
                await restore_record(
                    turn.session, cadre_id=me, kind=kind, record_id=int(replaced), now=now
                )
            was = last.get("was") or {}
            what = describe(turn, str(last.get("flow", "")), was, last["at"])
            key = "undo.restored"
    conv.last_record = {}
    return Reply(turn.t(key, what=what)) if ok else _nothing(turn)


async def correct_last(conv: ConversationState, turn: Turn) -> tuple[Position, list[Reply]]:
    """Reopen my last record's draft at the confirmation card; the record stays until the
    corrected draft is saved (then it is replaced), so a cancelled correction loses nothing."""
    last = _undoable(conv, turn)
    flow = FLOWS.get(str(last.get("flow"))) if last else None
    if last is None or flow is None:
        return Position(), [_nothing(turn)]
    if last.get("op") == "resolve":
        return Position(), [Reply(turn.t("undo.resolve_not_correctable"))]
    draft = dict(last.get("draft") or {})
    turn.draft = {**draft, CORRECTS: {"kind": last["kind"], "ids": _ids(last), "was": draft}}
    turn.notes.append(Reply(turn.t("undo.correcting")))
    return await enter(flow, turn, CONFIRM)


async def settle_correction(turn: Turn) -> None:
    """After a corrected draft is saved: withdraw the record it replaces, and remember both."""
    corrects = turn.draft.get(CORRECTS)
    if turn.saved is None or not isinstance(corrects, dict):
        return
    replaced = [int(i) for i in corrects.get("ids") or []]
    await _withdraw(turn, str(corrects["kind"]), replaced, action="correct")
    turn.saved.update(op="correct", replaced=replaced, was=corrects.get("was") or {})


async def end_leave(turn: Turn) -> Reply:
    if turn.cadre.leave_until is None:
        return Reply(turn.t("leave.not_on_leave"))
    turn.cadre.leave_until = None
    await set_leave(turn.session, turn.cadre.id, None)
    audit(
        turn.session,
        at=turn.now,
        actor=f"cadre:{turn.cadre.id}",
        action="cadre.back",
        entity="cadre",
        entity_id=turn.cadre.id,
    )
    return Reply(turn.t("leave.back"))
