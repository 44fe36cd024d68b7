"""Steps of an appeal (诉求): its category, the unit that handles it, its deadline."""

from __future__ import annotations

from datetime import date, timedelta

from core.buttons import Choice, DuePolicy, UnitPick
from core.daytext import short_day
from core.types import Button, Reply
from handlers.engine import Invalid, Step, Turn
from handlers.flows.leave import leave_until
from handlers.steps import cancel_row
from storage.appeals import household_township, units_by_id, units_named
from storage.models import Unit

UNIT_BUTTONS = 6


# --- category ----------------------------------------------------------------------------


async def _category_prompt(turn: Turn) -> Reply:
    names = list(turn.ctx.policy.appeals.categories)
    buttons = [Button(n, Choice(n).pack()) for n in names]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append(cancel_row(turn))
    return Reply.with_buttons(turn.t("appeal.pick_category"), rows)


def category_named(typed: str, names: list[str]) -> str | None:
    """A category by its name, or by a unique beginning of it ("低保" → 低保/救助)."""
    if typed in names:
        return typed
    found = [n for n in names if typed and n.startswith(typed)]
    return found[0] if len(found) == 1 else None


async def _category_accept(turn: Turn) -> str | None:
    names = list(turn.ctx.policy.appeals.categories)
    chosen = Choice.unpack(turn.data)
    typed = chosen.option if chosen is not None else turn.text
    if not typed:
        raise Invalid("flow.use_buttons")
    found = category_named(typed, names)
    if found is None:
        raise Invalid("appeal.unknown_category", known="、".join(names))
    if turn.draft.get("category") != found:
        turn.draft.pop("due", None)  # a new category brings its own deadline
    turn.draft["category"] = found
    return None


def category_step() -> Step:
    return Step(
        "category",
        _category_prompt,
        _category_accept,
        help_key="help.appeal_category",
        offers=(Choice,),
        reads=(Choice,),
    )


# --- handling unit -----------------------------------------------------------------------


async def _offered_units(turn: Turn) -> list[Unit]:
    """The cadre's unit, the household's township, then the policy's list (departments)."""
    ids = [turn.cadre.unit_id]
    household = turn.draft.get("household_id")
    if household:
        town = await household_township(turn.session, int(household))
        if town is not None:
            ids.append(town)
    found = await units_by_id(turn.session, ids)
    offered = [found[i] for i in dict.fromkeys(ids) if i in found]
    for name in turn.ctx.policy.appeals.handling_units:
        for unit in await units_named(turn.session, name, limit=1):
            if unit.id not in {u.id for u in offered}:
                offered.append(unit)
    return offered[:UNIT_BUTTONS]


async def _unit_prompt(turn: Turn) -> Reply:
    rows = [[Button(u.name, UnitPick(u.id).pack())] for u in await _offered_units(turn)]
    rows.append(cancel_row(turn))
    return Reply.with_buttons(turn.t("appeal.pick_unit"), rows)


def _take_unit(turn: Turn, unit: Unit) -> None:
    turn.draft["unit_id"], turn.draft["unit"] = unit.id, unit.name


async def _unit_accept(turn: Turn) -> str | None:
    picked = UnitPick.unpack(turn.data)
    if picked is not None:
        wanted = picked.unit_id
        offered = {u.id: u for u in await _offered_units(turn)}
        if wanted not in offered:
            raise Invalid("flow.stale_button")
        _take_unit(turn, offered[wanted])
        return None
    if not turn.text:
        raise Invalid("appeal.unit_by_name")
    found = await units_named(turn.session, turn.text)
    if not found:
        raise Invalid("appeal.unknown_unit", name=turn.text[:20])
    if len(found) > 1:
        raise Invalid("appeal.ambiguous_unit", names="、".join(u.path for u in found[:5]))
    _take_unit(turn, found[0])
    return None


def unit_step() -> Step:
    return Step(
        "unit",
        _unit_prompt,
        _unit_accept,
        help_key="help.appeal_unit",
        offers=(UnitPick,),
        reads=(UnitPick,),
    )


# --- deadline ----------------------------------------------------------------------------


def default_due(turn: Turn) -> date:
    days = turn.ctx.policy.appeals.categories.get(
        turn.draft.get("category", ""), turn.ctx.policy.appeals.default_days()
    )
    return turn.now.date() + timedelta(days=days)


def due_of(turn: Turn) -> date:
    """The draft's deadline: typed by the cadre, or the category's by policy."""
    due = turn.draft.get("due")
    return date.fromisoformat(due) if due else default_due(turn)


async def _due_prompt(turn: Turn) -> Reply:
    due = default_due(turn)
    days = (due - turn.now.date()).days
    rows = [
        [
            turn.button(
                "appeal.due_default",
                DuePolicy().pack(),
                date=short_day(due, turn.lang),
                days=days,
            )
        ],
        cancel_row(turn),
    ]
    return Reply.with_buttons(turn.t("appeal.ask_due"), rows)


async def _due_accept(turn: Turn) -> str | None:
    if DuePolicy.unpack(turn.data) is not None:
        turn.draft.pop("due", None)
        return None
    today = turn.now.date()
    day = leave_until(turn.text, today) if turn.text else None
    if day is None:
        raise Invalid("appeal.bad_due")
    if day <= today:
        raise Invalid("appeal.due_past")
    limit = turn.ctx.policy.appeals.max_days
    if day > today + timedelta(days=limit):
        raise Invalid("appeal.due_far", days=limit)
    turn.draft["due"] = day.isoformat()
    return None


def due_step() -> Step:
    return Step(
        "due",
        _due_prompt,
        _due_accept,
        help_key="help.appeal_due",
        offers=(DuePolicy,),
        reads=(DuePolicy,),
    )
