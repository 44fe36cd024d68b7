"""Quick report in one line: "今天给张三打了电话，他家玉米收成不错" → a filled draft.

The message is read once (core.understand); what it leaves open is asked for, never guessed:
a household that is not named or is ambiguous, a time that is not one day, the means of
contact. Several households in one line become one draft saved as one record each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.buttons import RecordEvent, RecordProblem
from core.types import Button, Reply
from core.understand.message import Reading
from core.understand.text import without_fillers
from handlers.engine import Invalid, Turn
from handlers.inputs import MAX_TEXT, check_report_date
from handlers.reading import read_for
from storage.people import MyHousehold


@dataclass
class Quick:
    """What a message gives: a report draft, or a note (and perhaps offers) to answer."""

    draft: dict[str, Any] | None = None
    replies: list[Reply] | None = None


async def read_message(turn: Turn, text: str) -> tuple[Reading, list[MyHousehold]]:
    return await read_for(turn.session, turn.cadre.id, text, turn.now.date())


async def from_text(turn: Turn, text: str) -> Quick:
    """A report draft from one line, a note for what is not a report, or nothing."""
    reading, mine = await read_message(turn, text)
    if reading.kind != "report":
        return Quick(replies=not_report_replies(turn, reading, mine))
    if len(text) > MAX_TEXT:  # a report, but too long to keep: say so, not the menu hint
        raise Invalid("input.too_long", limit=MAX_TEXT, got=len(text))
    return Quick(draft=draft_of(turn, reading, mine, text))


def draft_of(turn: Turn, reading: Reading, mine: list[MyHousehold], text: str) -> dict[str, Any]:
    """The report draft: what the reading settled, and markers for what must be asked."""
    by_name = {h.head_name: h for h in mine}
    draft: dict[str, Any] = {"tags": [], "summary": without_fillers(text), "quick": True}
    chosen = [by_name[n] for n in reading.households if n in by_name]
    if reading.ambiguous:
        draft["_candidates"] = [h.id for h in chosen]
    elif len(chosen) == 1:
        draft["household_id"], draft["household"] = chosen[0].id, chosen[0].head_name
    elif chosen:
        draft["households"] = [[h.id, h.head_name] for h in chosen]
        draft["household_id"] = chosen[0].id
        draft["household"] = "、".join(h.head_name for h in chosen)
    if reading.method:
        draft["kind"] = reading.method
    _settle_date(turn, reading, draft)
    # A problem named in a report is recorded with it (the card shows it and can clear it).
    draft["problems"] = reading.problem if len(chosen) <= 1 else ""
    if reading.event:
        draft["_event"] = reading.event
        draft["_event_date"] = reading.event_date.isoformat() if reading.event_date else ""
    return draft


def _settle_date(turn: Turn, reading: Reading, draft: dict[str, Any]) -> None:
    today = turn.now.date()
    if reading.ask_date:
        draft["_date_choices"] = [d.isoformat() for d in reading.date_choices[:4]]
        draft["date_word"] = reading.date_word
        turn.notes.append(Reply(turn.t("quick.which_day", word=reading.date_word)))
        return
    day = reading.date or today
    try:
        check_report_date(day, today, turn.ctx.policy)
    except Invalid as bad:  # the true date was read, but it cannot be reported as such
        turn.notes.append(Reply(turn.t("quick.date_refused", word=reading.date_word or "")))
        turn.notes.append(Reply(turn.t(bad.key, **bad.params)))
        return
    draft["date"] = day.isoformat()
    draft["date_word"] = reading.date_word


def not_report_replies(turn: Turn, reading: Reading, mine: list[MyHousehold]) -> list[Reply]:
    """A plan gets a polite note; an event or a problem of one household, an offer to record
    it. Anything else: no answer here (the caller shows the menu hint)."""
    by_name = {h.head_name: h for h in mine}
    one = by_name.get(reading.households[0]) if len(reading.households) == 1 else None
    offers = offer_rows(turn, reading, one)
    if one is not None and reading.problem:
        # Kept until the next message: the 记录问题 button opens the appeal prefilled with it.
        turn.draft[OFFERED] = {str(one.id): problem_words(reading.problem, one.head_name)}
    if reading.plan and not offers:
        return [Reply(turn.t("quick.plan_note"))]
    if offers and one is not None:
        what = _offer_text(turn, reading)
        return [
            Reply.with_buttons(turn.t("quick.offer", household=one.head_name, what=what), offers)
        ]
    return []


OFFERED = "_offered"  # household id → the problem words offered for it


_LEADS = re.compile(
    r"^(?:听说|听人说|据说|听讲)?(?:{name})?(?:家里|家的|家)?(?:他|她)?(?:们)?(?:说)?"
)


def problem_words(words: str, household: str) -> str:
    """The problem as the message put it, for the appeal's description: fillers, hearsay
    words and the household's own name in front dropped (听说李四家房子漏雨 → 房子漏雨)."""
    text = without_fillers(words).strip(" ，,。")
    lead = re.compile(_LEADS.pattern.replace("{name}", re.escape(household)))
    rest = lead.sub("", text, count=1).lstrip("，, ")
    return (rest if len(rest) >= 2 else text)[:200]


def _offer_text(turn: Turn, reading: Reading) -> str:
    parts = []
    if reading.event:
        parts.append(turn.t("quick.offer_event", kind=turn.t(f"event_kind.{reading.event}")))
    if reading.problem:
        parts.append(turn.t("quick.offer_problem", words=reading.problem[:40]))
    return "；".join(parts)


def offer_rows(turn: Turn, reading: Reading, household: MyHousehold | None) -> list[list[Button]]:
    """Buttons to record the event and the problem the text names, for one household."""
    if household is None:
        return []
    rows = []
    if reading.event:
        day = reading.event_date.isoformat() if reading.event_date else ""
        data = RecordEvent(household.id, reading.event, day).pack()
        rows.append([turn.button("quick.record_event", data)])
    if reading.problem:
        rows.append([turn.button("quick.record_problem", RecordProblem(household.id).pack())])
    return rows


def event_offer_after_save(turn: Turn, draft: dict[str, Any]) -> Reply | None:
    """After a report that mentions a 五必访 event: offer to record the event too."""
    kind = draft.get("_event")
    if not kind or draft.get("households"):
        return None
    data = RecordEvent(int(draft["household_id"]), kind, draft.get("_event_date", "")).pack()
    return Reply.with_buttons(
        turn.t(
            "quick.offer_after",
            household=draft.get("household", ""),
            kind=turn.t(f"event_kind.{kind}"),
        ),
        [[turn.button("quick.record_event", data)]],
    )


def offered_day(iso: str) -> str | bool:
    """The day a RecordEvent button carries: ISO, "" when none, False when malformed."""
    if not iso:
        return ""
    try:
        return date.fromisoformat(iso).isoformat()
    except ValueError:
        return False
