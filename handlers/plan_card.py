"""连心卡 in 我的: one household's plan — target, 主导产业, measures, 办实事, open appeals."""

from __future__ import annotations

from core.buttons import PlanCard
from core.types import Button, Reply
from handlers.engine import Invalid, Turn
from storage.appeals import OPEN_STAGES, my_appeals
from storage.people import MyHousehold, my_households
from storage.plans import plan_card

MAX_BUTTONS = 24


def card_buttons(turn: Turn, households: list[MyHousehold]) -> list[list[Button]]:
    """A button per household (three a row) opening its 连心卡."""
    buttons = [Button(h.head_name, PlanCard(h.id).pack()) for h in households[:MAX_BUTTONS]]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


def _yuan(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}元"


async def household_card(turn: Turn, wanted: int) -> Reply:
    """The card of one of my households (its PlanCard button)."""
    mine = {h.id: h for h in await my_households(turn.session, turn.cadre.id)}
    if wanted not in mine:
        raise Invalid("flow.not_your_household")
    h = mine[wanted]
    card = await plan_card(turn.session, h.id)
    lines = [turn.t("plan.card_title", household=h.head_name, village=h.village)]
    if card.plan is None and not card.measures and not card.deeds:
        lines.append(turn.t("plan.card_empty"))
    if card.plan is not None:
        lines.append(
            turn.t(
                "plan.card_target",
                target=_yuan(card.plan.income_target),
                industry=card.plan.main_industry or "—",
            )
        )
    if card.measures:
        lines.append(turn.t("plan.card_measures", count=len(card.measures)))
        for m in card.measures:
            progress = turn.t("plan.card_progress", progress=m.progress) if m.progress else ""
            lines.append(
                turn.t(
                    "plan.card_measure", kinds="、".join(m.kinds), text=m.text, progress=progress
                )
            )
    if card.deeds:
        total = sum(d.value or 0 for d in card.deeds)
        lines.append(turn.t("plan.card_deeds", count=len(card.deeds), total=_yuan(total)))
        for d in card.deeds:
            value = _yuan(d.value) if d.value is not None else ""
            lines.append(
                turn.t("plan.card_deed", date=f"{d.done_on:%m-%d}", what=d.what, value=value)
            )
    appeals = [
        a
        for a in await my_appeals(turn.session, turn.cadre.id, OPEN_STAGES, limit=1000)
        if a.household_id == h.id
    ]
    if appeals:
        lines.append(turn.t("plan.card_appeals", count=len(appeals)))
    return Reply("\n".join(lines).rstrip())
