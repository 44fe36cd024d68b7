"""Flow definitions are checked when they are built: a mistake fails at import, not in a chat."""

from __future__ import annotations

import pytest

from core.buttons import CANCEL, SKIP, Confirm, DaysBack, Edit, Toggle, parse
from core.types import Reply
from handlers.engine import Anytime, Flow, FlowError, Step, Turn, check_flow
from handlers.flows import FLOWS
from handlers.steps import confirm_step, date_step, text_step
from storage.db import Database
from tests.flowkit import WALKS, bound_world, do


async def _prompt(turn: Turn) -> Reply:
    return Reply("?")


async def _accept(turn: Turn) -> str | None:
    return None


async def _finish(turn: Turn) -> list[Reply]:
    return []


def _render(turn: Turn) -> str:
    return ""


def test_every_flow_is_built_and_passes_its_checks() -> None:
    assert set(FLOWS) == {"report", "diary", "event", "problem", "resolve", "leave"}
    for flow in FLOWS.values():
        check_flow(flow)
        assert flow.step("confirm") is not None  # every flow ends on a confirmation card


def test_an_edit_target_that_is_not_a_step_fails_when_the_flow_is_built() -> None:
    with pytest.raises(FlowError, match="'note', not a step"):
        Flow("bad", (date_step(), confirm_step(_render, [("note", "edit.note")])), _finish)


def test_a_repeated_step_name_fails() -> None:
    with pytest.raises(FlowError, match="'summary' is repeated"):
        Flow("bad", (text_step("summary", "k"), text_step("summary", "k")), _finish)


def test_a_button_without_a_handler_fails() -> None:
    shows_days = Step("when", _prompt, _accept, offers=(DaysBack,), reads=(Toggle,))
    with pytest.raises(FlowError, match=r"shows \['DaysBack'\] buttons it does not read"):
        Flow("bad", (shows_days,), _finish)


def test_anytime_input_must_name_a_real_step() -> None:
    anytime = Anytime(lambda turn: False, "report.evidence_kept", own_step="evidence")
    with pytest.raises(FlowError, match="'evidence' is not a step"):
        Flow("bad", (date_step(),), _finish, anytime=anytime)


def test_a_flow_without_steps_fails() -> None:
    with pytest.raises(FlowError, match="no steps"):
        Flow("bad", (), _finish)


def test_the_confirmation_card_declares_its_edit_targets_and_buttons() -> None:
    card = confirm_step(_render, [("date", "edit.date")])
    assert card.goes_to == ("date",) and set(card.offers) == {Confirm, Edit}


@pytest.mark.parametrize("name", sorted(WALKS))
async def test_every_button_a_step_shows_is_a_kind_it_reads(db: Database, name: str) -> None:
    """Walk the flow; at each step, the buttons really shown match what the step declares."""
    world = await bound_world(db)
    flow, walk = FLOWS[name], WALKS[name]
    prompt = (await do(world, walk.start))[-1]
    for stage in walk.stages:
        step = flow.step(stage.step)
        assert step is not None, stage.step
        data = [b.data for row in prompt.buttons for b in row]
        assert data, f"{name}.{stage.step} shows no buttons"
        kinds = {type(p) for p in map(parse, data) if p is not None}
        assert kinds <= set(step.offers) <= set(step.reads), (name, stage.step, kinds)
        assert {d for d in data if parse(d) is None} <= {CANCEL, SKIP}
        for act in stage.go:
            prompt = (await do(world, act))[-1]
