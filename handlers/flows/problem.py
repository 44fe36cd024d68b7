"""Problems and appeals: record one; pick one of my open ones and mark it resolved."""

from __future__ import annotations

from core.buttons import Problem
from core.types import Button, Reply
from handlers.engine import Flow, Invalid, Step, Turn
from handlers.steps import cancel_row, confirm_step, has, household_step, text_step
from storage.people import is_my_household
from storage.records import add_problem, open_problems, resolve_problem


def render_new(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "problem.confirm", household=d.get("household", ""), description=d.get("description", "")
    )


async def finish_new(turn: Turn) -> list[Reply]:
    d = turn.draft
    household_id = int(d["household_id"])
    if not await is_my_household(turn.session, turn.cadre.id, household_id):
        raise Invalid("flow.not_your_household")
    problem = await add_problem(
        turn.session,
        cadre_id=turn.cadre.id,
        household_id=household_id,
        description=d["description"],
        raised_on=turn.now.date(),
        now=turn.now,
    )
    turn.saved = {"kind": "problem", "id": problem.id}
    return [Reply(turn.t("problem.saved", minutes=turn.ctx.policy.undo_minutes))]


PROBLEM = Flow(
    name="problem",
    steps=(
        household_step(skip_if=has("household_id")),
        text_step("description", "problem.ask_description"),
        confirm_step(
            render_new, [("household", "edit.household"), ("description", "edit.description")]
        ),
    ),
    finish=finish_new,
)


async def _pick_prompt(turn: Turn) -> Reply:
    problems = await open_problems(turn.session, turn.cadre.id)
    if not problems:
        return Reply(turn.t("problem.none_open"))
    rows = [
        [Button(f"{p.raised_on:%m-%d} {p.description[:24]}", Problem(p.id).pack())]
        for p in problems
    ]
    rows.append(cancel_row(turn))
    return Reply.with_buttons(turn.t("problem.pick_open", count=len(problems)), rows)


async def _pick_accept(turn: Turn) -> str | None:
    picked = Problem.unpack(turn.data)
    if picked is None or picked.problem_id < 0:
        raise Invalid("flow.use_buttons")
    problem_id = picked.problem_id
    mine = {p.id: p for p in await open_problems(turn.session, turn.cadre.id, limit=1000)}
    if problem_id not in mine:
        raise Invalid("problem.not_yours_or_closed")
    turn.draft["problem_id"] = problem_id
    turn.draft["description"] = mine[problem_id].description[:200]
    return None


def render_resolve(turn: Turn) -> str:
    d = turn.draft
    return turn.t(
        "problem.confirm_resolve",
        description=d.get("description", ""),
        resolution=d.get("resolution", ""),
    )


async def finish_resolve(turn: Turn) -> list[Reply]:
    ok = await resolve_problem(
        turn.session,
        cadre_id=turn.cadre.id,
        problem_id=int(turn.draft["problem_id"]),
        resolution=turn.draft["resolution"],
        now=turn.now,
    )
    if ok:  # undo reopens it
        turn.saved = {"kind": "problem", "id": int(turn.draft["problem_id"]), "op": "resolve"}
    return [Reply(turn.t("problem.resolved" if ok else "problem.not_yours_or_closed"))]


RESOLVE = Flow(
    name="resolve",
    steps=(
        Step(
            "problem",
            _pick_prompt,
            _pick_accept,
            help_key="help.choice",
            offers=(Problem,),
            reads=(Problem,),
        ),
        text_step("resolution", "problem.ask_resolution"),
        confirm_step(render_resolve, [("resolution", "edit.resolution")]),
    ),
    finish=finish_resolve,
)
