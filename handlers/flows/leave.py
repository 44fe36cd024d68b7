"""Leave (请假): reminders pause until the given day; the digest shows it."""

from __future__ import annotations

import re
from datetime import date, timedelta

from core.daytext import day_label
from core.types import Reply
from handlers.engine import Flow, Invalid, Step, Turn
from handlers.inputs import find_date
from handlers.steps import cancel_row, confirm_step
from storage.audit import audit

MAX_LEAVE_DAYS = 180


async def _until_prompt(turn: Turn) -> Reply:
    return Reply.with_buttons(turn.t("leave.ask_until"), [cancel_row(turn)])


FORWARD_WORDS = {"明天": 1, "后天": 2, "tomorrow": 1}
_DAYS = re.compile(r"^(\d{1,3})\s*天$")


def leave_until(text: str, today: date) -> date | None:
    """明天, 后天, "5天" (five days from today), or a date such as 12月5日 / 2026-12-05."""
    text = text.strip()
    for word, ahead in FORWARD_WORDS.items():
        if word in text.lower():
            return today + timedelta(days=ahead)
    if m := _DAYS.match(text):
        return today + timedelta(days=int(m[1]))
    day = find_date(text, today)
    if day is not None and day < today and "月" in text and not re.search(r"\d{4}", text):
        try:
            day = day.replace(year=day.year + 1)  # "1月5日" said in December means next year
        except ValueError:  # 2月29日 said after it passed in a leap year: none next year
            raise Invalid("input.bad_date") from None
    return day


async def _until_accept(turn: Turn) -> str | None:
    today = turn.now.date()
    day = leave_until(turn.text, today) if turn.text else None
    if day is None:
        raise Invalid("input.bad_date")
    if day < today or day > today + timedelta(days=MAX_LEAVE_DAYS):
        raise Invalid("leave.bad_until", days=MAX_LEAVE_DAYS)
    turn.draft["until"] = day.isoformat()
    return None


def render(turn: Turn) -> str:
    raw = turn.draft.get("until", "")
    until = day_label(date.fromisoformat(raw), turn.lang, today=turn.now.date()) if raw else ""
    return turn.t("leave.confirm", until=until)


async def finish(turn: Turn) -> list[Reply]:
    until = date.fromisoformat(turn.draft["until"])
    turn.cadre.leave_until = until
    audit(
        turn.session,
        at=turn.now,
        actor=f"cadre:{turn.cadre.id}",
        action="cadre.leave",
        entity="cadre",
        entity_id=turn.cadre.id,
        until=until.isoformat(),
    )
    return [Reply(turn.t("leave.saved", until=day_label(until, turn.lang, today=turn.now.date())))]


LEAVE = Flow(
    name="leave",
    steps=(
        Step("until", _until_prompt, _until_accept, help_key="help.date"),
        confirm_step(render, [("until", "edit.date")]),
    ),
    finish=finish,
)
