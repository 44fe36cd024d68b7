"""Help plans by chat: a measure (tagged with the policy's help kinds), its progress, an
办实事 (what, when, value), and the plan's income target and 主导产业."""

from __future__ import annotations

import re
from datetime import date

from core.buttons import SKIP, HelpKind, HelpKindsDone
from core.buttons import Measure as MeasureButton
from core.daytext import day_label
from core.types import Button, Reply
from handlers.engine import STAY, Flow, Invalid, Step, Turn
from handlers.steps import (
    cancel_row,
    confirm_step,
    date_step,
    has,
    household_step,
    text_step,
)
from storage.people import household_name, is_my_household
from storage.plans import add_deed, add_measure, my_measures, report_progress, set_plan

MAX_YUAN = 10_000_000  # a typo guard: no household's deed or target is worth more
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(万)?\s*元?\s*$")


def parse_yuan(text: str) -> float | None:
    """ "3000", "3000元", "1.5万" → yuan; None if it is not an amount."""
    m = _NUMBER.match(text)
    if m is None:
        return None
    value = float(m[1]) * (10_000 if m[2] else 1)
    return value if value <= MAX_YUAN else None


def _yuan(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}元"


async def _mine(turn: Turn) -> int:
    household_id = int(turn.draft["household_id"])
    if not await is_my_household(turn.session, turn.cadre.id, household_id):
        raise Invalid("flow.not_your_household")
    return household_id


# --- help kinds (the policy's list: 六帮, 四包, or a county's own) -------------------------


def kinds_step() -> Step:
    """Toggle help kinds; data "k:<index>" toggles, "k:done" moves on (at least one)."""

    async def prompt(turn: Turn) -> Reply:
        kinds = turn.ctx.policy.plans.kinds()
        chosen = set(turn.draft.get("kinds", []))
        buttons = [
            Button(("✅ " if k in chosen else "") + k, HelpKind(i).pack())
            for i, k in enumerate(kinds)
        ]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        rows.append([turn.button("common.done", HelpKindsDone().pack()), *cancel_row(turn)])
        return Reply.with_buttons(turn.t("plan.pick_kinds"), rows)

    async def accept(turn: Turn) -> str | None:
        kinds = turn.ctx.policy.plans.kinds()
        chosen: list[str] = list(turn.draft.get("kinds", []))
        if HelpKindsDone.unpack(turn.data) is not None or turn.text in ("完成", "好了", "done"):
            if not chosen:
                raise Invalid("flow.pick_at_least_one")
            return None
        picked = HelpKind.unpack(turn.data)
        if picked is not None:
            kind = kinds[picked.index] if 0 <= picked.index < len(kinds) else None
        else:
            kind = next((k for k in kinds if turn.text and k.startswith(turn.text)), None)
        if kind is None:
            raise Invalid("plan.unknown_kind", known="、".join(kinds))
        chosen.remove(kind) if kind in chosen else chosen.append(kind)
        turn.draft["kinds"] = [k for k in kinds if k in chosen]
        return STAY

    return Step(
        "kinds",
        prompt,
        accept,
        help_key="help.multi",
        offers=(HelpKind, HelpKindsDone),
        reads=(HelpKind, HelpKindsDone),
    )


# --- a measure ---------------------------------------------------------------------------


def render_measure(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "plan.confirm_measure",
        household=d.get("household", ""),
        kinds="、".join(d.get("kinds", [])),
        text=d.get("text", ""),
    )


async def finish_measure(turn: Turn) -> list[Reply]:
    household_id = await _mine(turn)
    measure = await add_measure(
        turn.session,
        cadre_id=turn.cadre.id,
        household_id=household_id,
        kinds=list(turn.draft["kinds"]),
        text=turn.draft["text"],
        now=turn.now,
    )
    turn.saved = {"kind": "measure", "id": measure.id}
    return [Reply(turn.t("plan.measure_saved", household=turn.draft["household"]))]


MEASURE = Flow(
    name="measure",
    steps=(
        household_step(skip_if=has("household_id")),
        kinds_step(),
        text_step("text", "plan.ask_measure"),
        confirm_step(
            render_measure,
            [("household", "edit.household"), ("kinds", "edit.kinds"), ("text", "edit.measure")],
        ),
    ),
    finish=finish_measure,
)


# --- progress of a measure -----------------------------------------------------------------


async def _measure_prompt(turn: Turn) -> Reply:
    measures = await my_measures(turn.session, turn.cadre.id)
    if not measures:
        return Reply(turn.t("plan.no_measures"))
    names = await _household_names(turn, {m.household_id for m in measures})
    rows = [
        [Button(f"{names[m.household_id]}·{m.text[:16]}", MeasureButton(m.id).pack())]
        for m in measures
    ]
    rows.append(cancel_row(turn))
    return Reply.with_buttons(turn.t("plan.pick_measure"), rows)


async def _household_names(turn: Turn, ids: set[int]) -> dict[int, str]:
    return {i: await household_name(turn.session, i) for i in ids}


async def _measure_accept(turn: Turn) -> str | None:
    picked = MeasureButton.unpack(turn.data)
    if picked is None:
        raise Invalid("flow.use_buttons")
    wanted = picked.measure_id
    mine = {m.id: m for m in await my_measures(turn.session, turn.cadre.id, limit=1000)}
    if wanted not in mine:
        raise Invalid("plan.not_your_measure")
    turn.draft["measure_id"], turn.draft["text"] = wanted, mine[wanted].text[:200]
    return None


def render_progress(turn: Turn) -> str:
    d = turn.draft
    return turn.t("plan.confirm_progress", text=d.get("text", ""), progress=d.get("progress", ""))


async def finish_progress(turn: Turn) -> list[Reply]:
    ok = await report_progress(
        turn.session,
        cadre_id=turn.cadre.id,
        measure_id=int(turn.draft["measure_id"]),
        progress=turn.draft["progress"],
        now=turn.now,
    )
    return [Reply(turn.t("plan.progress_saved" if ok else "plan.not_your_measure"))]


MEASURE_PROGRESS = Flow(
    name="mprogress",
    steps=(
        Step(
            "measure",
            _measure_prompt,
            _measure_accept,
            help_key="help.choice",
            offers=(MeasureButton,),
            reads=(MeasureButton,),
        ),
        text_step("progress", "plan.ask_progress"),
        confirm_step(render_progress, [("progress", "edit.progress")]),
    ),
    finish=finish_progress,
)


# --- 办实事 --------------------------------------------------------------------------------


def amount_step(name: str, prompt_key: str) -> Step:
    """An amount in yuan ("3000", "1.5万"); 跳过 leaves it unknown."""

    async def prompt(turn: Turn) -> Reply:
        rows = [[turn.button("common.skip", SKIP)], cancel_row(turn)]
        return Reply.with_buttons(turn.t(prompt_key), rows)

    async def accept(turn: Turn) -> str | None:
        if turn.data == SKIP or turn.text in ("跳过", "无", "没有"):
            turn.draft[name] = None
            return None
        value = parse_yuan(turn.text) if turn.text else None
        if value is None:
            raise Invalid("plan.bad_amount", limit=f"{MAX_YUAN:,}")
        turn.draft[name] = value
        return None

    return Step(name, prompt, accept, help_key="help.amount")


def render_deed(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "plan.confirm_deed",
        household=d.get("household", ""),
        what=d.get("what", ""),
        date=_day_text(turn, d.get("date")),
        value=_yuan(d.get("value")),
    )


async def finish_deed(turn: Turn) -> list[Reply]:
    household_id = await _mine(turn)
    deed = await add_deed(
        turn.session,
        cadre_id=turn.cadre.id,
        household_id=household_id,
        what=turn.draft["what"],
        done_on=date.fromisoformat(turn.draft["date"]),
        value=turn.draft.get("value"),
        now=turn.now,
    )
    turn.saved = {"kind": "deed", "id": deed.id}
    return [
        Reply(
            turn.t(
                "plan.deed_saved",
                household=turn.draft["household"],
                minutes=turn.ctx.policy.undo_minutes,
            )
        )
    ]


DEED = Flow(
    name="deed",
    steps=(
        household_step(skip_if=has("household_id")),
        text_step("what", "plan.ask_deed"),
        date_step(prompt_key="plan.pick_deed_date"),
        amount_step("value", "plan.ask_value"),
        confirm_step(
            render_deed,
            [
                ("household", "edit.household"),
                ("what", "edit.deed"),
                ("date", "edit.date"),
                ("value", "edit.value"),
            ],
        ),
    ),
    finish=finish_deed,
)


# --- the plan's target and 主导产业 ---------------------------------------------------------


def render_plan(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "plan.confirm_plan",
        household=d.get("household", ""),
        target=_yuan(d.get("target")),
        industry=d.get("industry", "") or "—",
    )


async def finish_plan(turn: Turn) -> list[Reply]:
    household_id = await _mine(turn)
    await set_plan(
        turn.session,
        cadre_id=turn.cadre.id,
        household_id=household_id,
        income_target=turn.draft.get("target"),
        main_industry=turn.draft.get("industry", ""),
        now=turn.now,
    )
    return [Reply(turn.t("plan.plan_saved", household=turn.draft["household"]))]


PLAN = Flow(
    name="plan",
    steps=(
        household_step(skip_if=has("household_id")),
        amount_step("target", "plan.ask_target"),
        text_step("industry", "plan.ask_industry", optional=True),
        confirm_step(
            render_plan,
            [("target", "edit.target"), ("industry", "edit.industry")],
        ),
    ),
    finish=finish_plan,
)


def _day_text(turn: Turn, iso: object) -> str:
    """The deed's day in the one form the cards use (11月27日（周五））."""
    try:
        return day_label(date.fromisoformat(str(iso)), turn.lang, today=turn.now.date())
    except ValueError:
        return ""
