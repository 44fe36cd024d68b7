"""Event (有了困难 / 生老病死 / 出现纠纷): household → kind → date → note; creates a visit duty."""

from __future__ import annotations

from datetime import date, timedelta

from core.daytext import day_label
from core.policy import EVENT_KINDS
from core.types import Reply
from core.understand.choices import event_in
from handlers.engine import Flow, Invalid, Turn
from handlers.steps import choice_step, confirm_step, date_step, has, household_step, text_step
from storage.people import is_my_household
from storage.records import add_event


def _shown(turn: Turn) -> str:
    raw = turn.draft.get("date", "")
    return day_label(date.fromisoformat(raw), turn.lang, today=turn.now.date()) if raw else ""


def render(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "event.confirm",
        household=d.get("household", ""),
        kind=turn.t(f"event_kind.{d.get('kind', 'hardship')}"),
        date=_shown(turn),
        note=d.get("note", "") or "—",
    )


async def finish(turn: Turn) -> list[Reply]:
    d = turn.draft
    household_id = int(d["household_id"])
    if not await is_my_household(turn.session, turn.cadre.id, household_id):
        raise Invalid("flow.not_your_household")
    days = turn.ctx.policy.event_visit_days
    occurred = date.fromisoformat(d["date"])
    event = await add_event(
        turn.session,
        cadre_id=turn.cadre.id,
        household_id=household_id,
        kind=d["kind"],
        occurred_on=occurred,
        visit_within_days=days,
        note=d.get("note", ""),
        now=turn.now,
    )
    turn.saved = {"kind": "event", "id": event.id}
    due = day_label(occurred + timedelta(days=days), turn.lang, today=turn.now.date())
    return [
        Reply(
            turn.t(
                "event.saved",
                household=d["household"],
                due=due,
                minutes=turn.ctx.policy.undo_minutes,
            )
        )
    ]


EVENT = Flow(
    name="event",
    steps=(
        household_step(skip_if=has("household_id")),
        # An offer from a report's text may have answered these already.
        choice_step(
            "kind",
            "event.pick_kind",
            EVENT_KINDS,
            "event_kind",
            skip_if=has("kind"),
            reader=event_in,
        ),
        date_step(prompt_key="event.pick_date", skip_if=has("date")),
        text_step("note", "event.ask_note", optional=True),
        confirm_step(
            render,
            [
                ("household", "edit.household"),
                ("kind", "edit.kind"),
                ("date", "edit.date"),
                ("note", "edit.note"),
            ],
        ),
    ),
    finish=finish,
)
