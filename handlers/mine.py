"""我的: my households with last call and visit, and what is due this month and quarter."""

from __future__ import annotations

from datetime import date

from core.daytext import day_label
from core.types import Reply
from handlers.engine import Turn
from storage.people import my_households_with_contacts

MAX_LINES = 40  # a phone screen's worth; the rest is counted


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


async def my_overview(turn: Turn) -> list[Reply]:
    households = await my_households_with_contacts(turn.session, turn.cadre.id)
    if not households:
        return [Reply(turn.t("flow.no_households"))]
    today = turn.now.date()
    month_start, q_start = today.replace(day=1), quarter_start(today)
    lines, call_due, visit_due = [], 0, 0
    for h in households:
        last_any = max(filter(None, (h.last_call, h.last_visit)), default=None)
        needs_call = last_any is None or last_any < month_start
        needs_visit = h.last_visit is None or h.last_visit < q_start
        call_due += needs_call
        visit_due += needs_visit
        marks = " ".join(
            m
            for m, on in (
                (turn.t("mine.call_due"), needs_call),
                (turn.t("mine.visit_due"), needs_visit),
            )
            if on
        )
        lines.append(
            turn.t(
                "mine.line",
                name=h.head_name,
                village=h.village,
                call=_fmt(h.last_call, turn),
                visit=_fmt(h.last_visit, turn),
                marks=marks,
            ).rstrip()
        )
    shown = lines[:MAX_LINES]
    if len(lines) > MAX_LINES:
        shown.append(turn.t("mine.more", count=len(lines) - MAX_LINES))
    head = turn.t("mine.title", count=len(households), call_due=call_due, visit_due=visit_due)
    return [Reply("\n".join([head, *shown]))]


def _fmt(day: date | None, turn: Turn) -> str:
    return day_label(day, turn.lang, today=turn.now.date()) if day else turn.t("mine.never")
