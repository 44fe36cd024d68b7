"""Appeals (诉求): record one; note progress; settle it (办结); call the household back (回访)."""

from __future__ import annotations

from core.buttons import Choice, FollowUp, Problem
from core.daytext import day_label, short_day
from core.programme import SATISFACTION
from core.types import Button, Reply
from handlers.engine import Flow, Invalid, Step, Turn
from handlers.flows.appeal_steps import (
    category_step,
    default_due,
    due_of,
    due_step,
    unit_step,
)
from handlers.steps import (
    cancel_row,
    choice_step,
    confirm_step,
    has,
    household_step,
    text_step,
)
from handlers.words import KEEP_WORDS
from storage.appeals import (
    DONE,
    OPEN_STAGES,
    AppealRow,
    add_progress,
    follow_up,
    my_appeal,
    my_appeals,
    settle,
)
from storage.people import is_my_household
from storage.records import add_problem

PICK_LIMIT = 20


def render_new(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "appeal.confirm",
        household=d.get("household", ""),
        category=d.get("category", ""),
        unit=d.get("unit", ""),
        due=day_label(due_of(turn), turn.lang, today=turn.now.date()),
        description=d.get("description", ""),
    )


async def finish_new(turn: Turn) -> list[Reply]:
    d = turn.draft
    household_id = int(d["household_id"])
    if not await is_my_household(turn.session, turn.cadre.id, household_id):
        raise Invalid("flow.not_your_household")
    due = due_of(turn)
    if due <= turn.now.date():  # the card waited past its deadline (a day went by)
        d.pop("due", None)
        raise Invalid("appeal.due_past")
    problem = await add_problem(
        turn.session,
        cadre_id=turn.cadre.id,
        household_id=household_id,
        description=d["description"],
        raised_on=turn.now.date(),
        now=turn.now,
        category=d["category"],
        handler_unit_id=int(d["unit_id"]),
        due_on=due,
    )
    turn.saved = {"kind": "problem", "id": problem.id}
    return [
        Reply(
            turn.t(
                "appeal.saved",
                unit=d["unit"],
                due=day_label(due, turn.lang, today=turn.now.date()),
                minutes=turn.ctx.policy.undo_minutes,
            )
        )
    ]


PREFILL = "_prefill"  # the problem's words taken from the cadre's message (漏雨, 想申请低保)


def _description_step() -> Step:
    """The description; when the problem came from a message, its words are offered as
    the description: kept with one tap (or 好/可以), or replaced by typing another."""
    plain = text_step("description", "problem.ask_description")

    async def prompt(turn: Turn) -> Reply:
        words = str(turn.draft.get(PREFILL) or "")
        if not words:
            return await plain.prompt(turn)
        rows = [[turn.button("problem.use_prefill", Choice("prefill").pack())], cancel_row(turn)]
        return Reply.with_buttons(turn.t("problem.ask_description_prefilled", words=words), rows)

    async def accept(turn: Turn) -> str | None:
        words = str(turn.draft.get(PREFILL) or "")
        keep = Choice.unpack(turn.data) == Choice("prefill") or turn.text in KEEP_WORDS
        if words and keep:
            turn.draft["description"] = words
            return None
        return await plain.accept(turn)

    return Step("description", prompt, accept, help_key="help.text")


PROBLEM = Flow(
    name="problem",
    steps=(
        household_step(skip_if=has("household_id")),
        category_step(),
        unit_step(),
        due_step(),
        _description_step(),
        confirm_step(
            render_new,
            [
                ("household", "edit.household"),
                ("category", "edit.category"),
                ("unit", "edit.unit"),
                ("due", "edit.due"),
                ("description", "edit.description"),
            ],
        ),
    ),
    finish=finish_new,
)


# --- picking one of my appeals -------------------------------------------------------------


def appeal_label(turn: Turn, a: AppealRow) -> str:
    """A button naming the household, category and deadline: "张三·住房 12-23 危房…"."""
    due = short_day(a.due_on, turn.lang) if a.due_on else "—"
    return turn.t(
        "appeal.button",
        household=a.household,
        category=a.category,
        due=due,
        text=a.description[:12],
    )


def pick_step(stages: tuple[str, ...], title_key: str, none_key: str) -> Step:
    async def prompt(turn: Turn) -> Reply:
        appeals = await my_appeals(turn.session, turn.cadre.id, stages, limit=PICK_LIMIT)
        if not appeals:
            return Reply(turn.t(none_key))
        rows = [[Button(appeal_label(turn, a), Problem(a.id).pack())] for a in appeals]
        rows.append(cancel_row(turn))
        return Reply.with_buttons(turn.t(title_key, count=len(appeals)), rows)

    async def accept(turn: Turn) -> str | None:
        picked = Problem.unpack(turn.data)
        if picked is None:
            raise Invalid("flow.use_buttons")
        wanted = picked.problem_id
        found = await my_appeal(turn.session, turn.cadre.id, wanted, stages) if wanted > 0 else None
        if found is None:
            raise Invalid("problem.not_yours_or_closed")
        turn.draft["problem_id"] = found.id
        turn.draft["description"] = found.description[:200]
        turn.draft["household"] = found.household
        turn.draft["category"] = found.category
        return None

    return Step(
        "problem", prompt, accept, help_key="help.choice", offers=(Problem,), reads=(Problem,)
    )


# --- 办结 (resolve) ------------------------------------------------------------------------


def render_resolve(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "problem.confirm_resolve",
        household=d.get("household", ""),
        description=d.get("description", ""),
        resolution=d.get("resolution", ""),
    )


async def finish_resolve(turn: Turn) -> list[Reply]:
    appeal_id = int(turn.draft["problem_id"])
    ok = await settle(
        turn.session,
        cadre_id=turn.cadre.id,
        appeal_id=appeal_id,
        resolution=turn.draft["resolution"],
        now=turn.now,
    )
    if not ok:
        return [Reply(turn.t("problem.not_yours_or_closed"))]
    turn.saved = {"kind": "problem", "id": appeal_id, "op": "resolve"}  # undo reopens it
    # 办结 is not the end: the household is called back and asked whether it is satisfied.
    ask = turn.t("appeal.call_back", household=turn.draft.get("household", ""))
    return [
        Reply.with_buttons(
            turn.t("problem.resolved") + "\n" + ask,
            [[turn.button("appeal.call_back_now", FollowUp(appeal_id).pack())]],
        )
    ]


RESOLVE = Flow(
    name="resolve",
    steps=(
        pick_step(OPEN_STAGES, "problem.pick_open", "problem.none_open"),
        text_step("resolution", "problem.ask_resolution"),
        confirm_step(render_resolve, [("resolution", "edit.resolution")]),
    ),
    finish=finish_resolve,
)


# --- progress (办理中) ---------------------------------------------------------------------


def render_progress(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "appeal.confirm_progress",
        household=d.get("household", ""),
        description=d.get("description", ""),
        note=d.get("note", ""),
    )


async def finish_progress(turn: Turn) -> list[Reply]:
    ok = await add_progress(
        turn.session,
        cadre_id=turn.cadre.id,
        appeal_id=int(turn.draft["problem_id"]),
        text=turn.draft["note"],
        now=turn.now,
    )
    return [Reply(turn.t("appeal.progress_saved" if ok else "problem.not_yours_or_closed"))]


PROGRESS = Flow(
    name="progress",
    steps=(
        pick_step(OPEN_STAGES, "appeal.pick_progress", "problem.none_open"),
        text_step("note", "appeal.ask_progress"),
        confirm_step(render_progress, [("note", "edit.note")]),
    ),
    finish=finish_progress,
)


# --- 回访 (call-back) ----------------------------------------------------------------------


def render_followup(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "appeal.confirm_followup",
        household=d.get("household", ""),
        description=d.get("description", ""),
        satisfaction=turn.t(f"satisfaction.{d.get('satisfaction', '')}"),
        note=d.get("note", "") or "—",
    )


async def finish_followup(turn: Turn) -> list[Reply]:
    d = turn.draft
    stage = await follow_up(
        turn.session,
        cadre_id=turn.cadre.id,
        appeal_id=int(d["problem_id"]),
        satisfaction=d["satisfaction"],
        note=d.get("note", ""),
        now=turn.now,
        reopen_due=default_due(turn),
    )
    if stage is None:
        return [Reply(turn.t("appeal.not_awaiting_call"))]
    key = "appeal.reopened" if stage != "followed" else "appeal.followed"
    return [Reply(turn.t(key, household=d.get("household", "")))]


FOLLOWUP = Flow(
    name="followup",
    steps=(
        pick_step((DONE,), "appeal.pick_followup", "appeal.none_to_call"),
        choice_step("satisfaction", "appeal.ask_satisfaction", SATISFACTION, "satisfaction"),
        text_step("note", "appeal.ask_followup_note", optional=True),
        confirm_step(
            render_followup, [("satisfaction", "edit.satisfaction"), ("note", "edit.note")]
        ),
    ),
    finish=finish_followup,
)
