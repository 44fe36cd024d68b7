"""Quick report in one line: "今天给张三打了电话，他家玉米收成不错" → a filled draft."""

from __future__ import annotations

from typing import Any

from handlers.engine import Invalid, Turn
from handlers.inputs import MAX_TEXT, check_report_date, find_date
from handlers.names import pick_household
from storage.people import my_households

VISIT_WORDS = ("走访", "入户", "去了", "到了", "看望", "探望", "家访", "上门", "去他家", "去她家")
CALL_WORDS = ("电话", "打了", "通话", "联系了", "微信")
# A plan is not a report: "明天去李四家走访" must not be saved as done today.
FUTURE_WORDS = ("明天", "后天", "下周", "下个月", "准备", "打算", "计划", "将要")


def contact_kind(text: str) -> str | None:
    if any(w in text for w in VISIT_WORDS):
        return "visit"
    if any(w in text for w in CALL_WORDS):
        return "call"
    return None


async def draft_from_text(turn: Turn) -> dict[str, Any] | None:
    """A report draft if the text names one of my households and a call or visit.

    Raises Invalid when it looks like a report but something in it is wrong (a future date,
    a name that is not one of mine), so the cadre hears why instead of seeing the menu.
    """
    text = turn.inbound.text.strip()
    kind = contact_kind(text)
    if kind is None:
        return None
    if len(text) > MAX_TEXT:  # a report, but too long to keep: say so, not the menu hint
        raise Invalid("input.too_long", limit=MAX_TEXT, got=len(text))
    if any(w in text for w in FUTURE_WORDS):
        raise Invalid("quick.plan_not_report")
    found = pick_household(text, await my_households(turn.session, turn.cadre.id))
    if not found:
        raise Invalid("quick.no_household")
    if len(found) > 1:
        raise Invalid("flow.ambiguous_household", names="、".join(h.head_name for h in found[:5]))
    today = turn.now.date()
    day = check_report_date(find_date(text, today) or today, today, turn.ctx.policy)
    return {
        "household_id": found[0].id,
        "household": found[0].head_name,
        "kind": kind,
        "date": day.isoformat(),
        "tags": [],
        "summary": text,
        "problems": "",
        "quick": True,
    }
