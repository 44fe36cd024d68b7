"""Reusable steps: pick a household, pick a date, write text, choose tags, confirm."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from core.buttons import (
    CANCEL,
    SKIP,
    Choice,
    Confirm,
    Day,
    DaysBack,
    Done,
    Edit,
    Household,
    NoHousehold,
    Page,
    Toggle,
)
from core.daytext import day_label
from core.types import Button, InboundKind, Reply
from core.understand.choices import about_someone_else
from core.understand.dates import read_date
from core.understand.text import normalise
from handlers.engine import CONFIRM, DONE, STAY, Invalid, Step, Turn
from handlers.inputs import check_report_date, prose
from handlers.names import pick_household
from handlers.words import CONFIRM_WORDS, says_done, says_nothing
from storage.people import household_name, is_my_household, my_households

PAGE = 8  # household buttons per page: fits a phone screen
# A typed answer to a button step is read like the button up to this length (a sentence with
# one clear choice); a longer text is not an answer there.
SHORT_ANSWER = 80
Skip = Callable[[dict[str, Any]], bool] | None


def cancel_row(turn: Turn) -> list[Button]:
    return [turn.button("common.cancel", CANCEL)]


# --- household ---------------------------------------------------------------------------


def household_step(
    name: str = "household", *, optional: bool = False, skip_if: Skip = None
) -> Step:
    async def prompt(turn: Turn) -> Reply:
        mine = await my_households(turn.session, turn.cadre.id)
        if not mine:
            return Reply(turn.t("flow.no_households"))
        candidates = [h for h in mine if h.id in set(turn.draft.get("_candidates") or ())]
        if candidates:  # a nickname that fits several: only those, to pick one
            rows = [
                [Button(f"{h.head_name}（{h.village}）", Household(h.id).pack())]
                for h in candidates
            ]
            rows.append([turn.button("flow.other_household", Page(0).pack())])
            rows.append(cancel_row(turn))
            names = "、".join(h.head_name for h in candidates)
            return Reply.with_buttons(turn.t("flow.which_household", names=names), rows)
        page = int(turn.draft.get("_page", 0))
        chunk = mine[page * PAGE : (page + 1) * PAGE]
        rows = [[Button(f"{h.head_name}（{h.village}）", Household(h.id).pack())] for h in chunk]
        nav = []
        if page > 0:
            nav.append(turn.button("flow.prev_page", Page(page - 1).pack()))
        if (page + 1) * PAGE < len(mine):
            nav.append(turn.button("flow.next_page", Page(page + 1).pack()))
        rows.append(nav)
        if optional:
            rows.append([turn.button("flow.no_household", NoHousehold().pack())])
        rows.append(cancel_row(turn))
        return Reply.with_buttons(turn.t("flow.pick_household"), rows)

    async def accept(turn: Turn) -> str | None:
        if page := Page.unpack(turn.data):
            await _turn_page(turn, page.page)
            return STAY
        if NoHousehold.unpack(turn.data) and optional:
            turn.draft["household_id"], turn.draft["household"] = None, ""
            return None
        if picked := Household.unpack(turn.data):
            await take_household(turn, picked.household_id)
        elif turn.text:
            await _household_by_name(turn)
        else:
            raise Invalid("flow.use_buttons_or_name")
        return None

    offers = (Household, Page, NoHousehold) if optional else (Household, Page)
    return Step(
        name,
        prompt,
        accept,
        skip_if=skip_if,
        help_key="help.household",
        offers=offers,
        reads=(Household, Page, NoHousehold),
    )


async def take_household(turn: Turn, household_id: int) -> None:
    if household_id <= 0 or not await is_my_household(turn.session, turn.cadre.id, household_id):
        raise Invalid("flow.not_your_household")
    turn.draft["household_id"] = household_id
    turn.draft["household"] = await household_name(turn.session, household_id)
    for key in ("_page", "_candidates", "households"):  # one household chosen: just this one
        turn.draft.pop(key, None)


async def _household_by_name(turn: Turn) -> None:
    mine = await my_households(turn.session, turn.cadre.id)
    found = pick_household(turn.text, mine)
    if not found:
        raise Invalid("flow.no_such_household", name=turn.text[:20])
    if len(found) > 1:
        turn.draft["_candidates"] = [h.id for h in found]  # the prompt offers just these
        raise Invalid("flow.ambiguous_household", names="、".join(h.head_name for h in found[:5]))
    await take_household(turn, found[0].id)


async def _turn_page(turn: Turn, page: int) -> None:
    # Stale or forged page buttons (pg:abc, pg:9999) must not leave an empty page behind.
    mine = await my_households(turn.session, turn.cadre.id)
    if page < 0 or (page > 0 and page * PAGE >= len(mine)):
        raise Invalid("flow.use_buttons_or_name")
    turn.draft["_page"] = page
    turn.draft.pop("_candidates", None)  # 其他户: the whole list


# --- date --------------------------------------------------------------------------------


def date_step(
    name: str = "date", *, prompt_key: str = "flow.pick_date", skip_if: Skip = None
) -> Step:
    async def prompt(turn: Turn) -> Reply:
        choices = turn.draft.get("_date_choices")
        if choices:  # the cadre named a time that is not one day: offer the likely days
            days = [date.fromisoformat(d) for d in choices]
            rows = [
                [
                    Button(day_label(d, turn.lang), Day(d.isoformat()).pack())
                    for d in days[i : i + 2]
                ]
                for i in range(0, len(days), 2)
            ]
            rows.append(cancel_row(turn))
            word = turn.draft.get("date_word", "")
            return Reply.with_buttons(turn.t("flow.pick_date_of", word=word), rows)
        rows = [
            [
                turn.button("flow.today", DaysBack(0).pack()),
                turn.button("flow.yesterday", DaysBack(1).pack()),
                turn.button("flow.day_before", DaysBack(2).pack()),
            ],
            cancel_row(turn),
        ]
        return Reply.with_buttons(turn.t(prompt_key, days=turn.ctx.policy.backdate_days), rows)

    async def accept(turn: Turn) -> str | None:
        today = turn.now.date()
        word = ""
        if days := DaysBack.unpack(turn.data):
            # Clamp before subtracting: an absurd offset would fall before year 1 and raise.
            if days.days < 0:
                raise Invalid("input.bad_date")
            day = today - timedelta(days=min(days.days, turn.ctx.policy.backdate_days + 1))
        elif one := Day.unpack(turn.data):
            day = _iso_day(one.iso)
        elif turn.text:
            day, word = _typed_day(turn, today)
        else:
            raise Invalid("input.bad_date")
        day = check_report_date(day, today, turn.ctx.policy)
        turn.draft[name] = day.isoformat()
        turn.draft[f"{name}_word"] = word
        turn.draft.pop("_date_choices", None)
        return None

    kinds = (DaysBack, Day)
    return Step(
        name, prompt, accept, skip_if=skip_if, help_key="help.date", offers=kinds, reads=kinds
    )


def _iso_day(iso: str) -> date:
    """A Day button's date; stale or forged data is "not a date"."""
    try:
        return date.fromisoformat(iso)
    except ValueError:
        raise Invalid("input.bad_date") from None


def _typed_day(turn: Turn, today: date) -> tuple[date, str]:
    """A typed date, read like a quick report's (上周五, 11.28, 前天…); a time that is not one
    day leaves its likely days on the draft and asks again."""
    found = read_date(normalise(turn.text), today)
    if found is None:
        raise Invalid("input.bad_date")
    if found.day is None:
        turn.draft["_date_choices"] = [d.isoformat() for d in found.choices[:4]]
        turn.draft["date_word"] = found.word
        raise Invalid("input.not_one_day", word=found.word)
    return found.day, found.word


# --- text --------------------------------------------------------------------------------


def text_step(name: str, prompt_key: str, *, optional: bool = False, skip_if: Skip = None) -> Step:
    async def prompt(turn: Turn) -> Reply:
        rows: list[list[Button]] = []
        if optional:
            rows.append([turn.button("common.skip", SKIP)])
        rows.append(cancel_row(turn))
        return Reply.with_buttons(turn.t(prompt_key), rows)

    async def accept(turn: Turn) -> str | None:
        if optional and says_nothing(turn):
            turn.draft[name] = ""
            return None
        if turn.inbound.kind != InboundKind.TEXT:
            raise Invalid("flow.need_text_here")
        turn.draft[name] = prose(turn.inbound.text)
        return None

    return Step(name, prompt, accept, skip_if=skip_if, help_key="help.text")


# --- choices -----------------------------------------------------------------------------


def choice_step(
    name: str,
    prompt_key: str,
    options: Sequence[str],
    label_prefix: str,
    *,
    skip_if: Skip = None,
    reader: Callable[[str], str | None] | None = None,
) -> Step:
    """One choice among fixed options, by button or by typing (part of) its label; `reader`
    understands a typed answer in the cadre's own words (打电话 for 电话联系)."""

    async def prompt(turn: Turn) -> Reply:
        rows = [[turn.button(f"{label_prefix}.{o}", Choice(o).pack())] for o in options]
        rows.append(cancel_row(turn))
        # The household chosen so far is named (a reminder's button opens at this step).
        return Reply.with_buttons(turn.t(prompt_key, household=turn.draft.get("household")), rows)

    async def accept(turn: Turn) -> str | None:
        chosen = Choice.unpack(turn.data)
        choice = chosen.option if chosen else _by_label(turn, options, label_prefix)
        if choice not in options and reader is not None and _short(turn):
            choice = reader(turn.text) or ""
        if choice not in options:
            raise _unclear(turn, options, label_prefix)
        turn.draft[name] = choice
        return None

    kinds = (Choice,)
    return Step(
        name, prompt, accept, skip_if=skip_if, help_key="help.choice", offers=kinds, reads=kinds
    )


def _unclear(turn: Turn, options: Sequence[str], prefix: str) -> Invalid:
    """Typed words that name no one choice: say so in one line, with the choices (the draft
    is kept); a button or photo gets the plain "tap a button"."""
    if not turn.text:
        return Invalid("flow.use_buttons")
    labels = "、".join(turn.t(f"{prefix}.{o}") for o in options)
    return Invalid("flow.unclear_choice", options=labels)


def _short(turn: Turn) -> bool:
    """An answer to a button step typed in words (打电话, 讲政策，帮卖货, or a sentence with
    one clear choice), not a whole report (of another household)."""
    text = turn.text
    household = str(turn.draft.get("household") or "")
    return 0 < len(text) <= SHORT_ANSWER and not about_someone_else(text, household)


def _by_label(turn: Turn, options: Sequence[str], prefix: str) -> str:
    """Accept a typed choice too: "电话" picks 电话联系."""
    typed = turn.text
    if not typed:
        return ""
    for o in options:
        if typed in turn.t(f"{prefix}.{o}") or turn.t(f"{prefix}.{o}").startswith(typed):
            return o
    return ""


def multi_step(
    name: str,
    prompt_key: str,
    options: Sequence[str],
    label_prefix: str,
    *,
    optional: bool = True,
    skip_if: Skip = None,
    reader: Callable[[str], list[str]] | None = None,
) -> Step:
    """Toggle several options; a Toggle button adds or removes one, Done moves on."""

    async def prompt(turn: Turn) -> Reply:
        chosen = set(turn.draft.get(name, []))
        buttons = [
            Button(("✅ " if o in chosen else "") + turn.t(f"{label_prefix}.{o}"), Toggle(o).pack())
            for o in options
        ]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        rows.append([turn.button("common.done", Done().pack()), *cancel_row(turn)])
        return Reply.with_buttons(turn.t(prompt_key), rows)

    async def accept(turn: Turn) -> str | None:
        chosen: list[str] = list(turn.draft.get(name, []))
        if says_done(turn):
            if not optional and not chosen:
                raise Invalid("flow.pick_at_least_one")
            turn.draft[name] = chosen
            return None
        toggled = Toggle.unpack(turn.data)
        option = toggled.option if toggled else _by_label(turn, options, label_prefix)
        if option not in options and reader is not None and _short(turn):
            named = [o for o in reader(turn.text) if o in options]
            if named:  # 讲政策，帮卖货: each named tag chosen, as if its button were pressed
                turn.draft[name] = [o for o in options if o in chosen or o in named]
                return STAY
        if option not in options:
            raise _unclear(turn, options, label_prefix)
        chosen.remove(option) if option in chosen else chosen.append(option)
        turn.draft[name] = [o for o in options if o in chosen]
        return STAY

    kinds = (Toggle, Done)
    return Step(
        name, prompt, accept, skip_if=skip_if, help_key="help.multi", offers=kinds, reads=kinds
    )


# --- confirmation ------------------------------------------------------------------------


def confirm_step(render: Callable[[Turn], str], editable: Sequence[tuple[str, str]]) -> Step:
    """Show the record; Confirm saves, Edit changes one field and comes back here."""

    async def prompt(turn: Turn) -> Reply:
        edits = [turn.button(label, Edit(step).pack()) for step, label in editable]
        rows = [[turn.button("common.confirm", confirm_data(turn.draft))]]
        rows += [edits[i : i + 3] for i in range(0, len(edits), 3)]
        rows.append(cancel_row(turn))
        return Reply.with_buttons(render(turn), rows)

    async def accept(turn: Turn) -> str | None:
        if turn.data == confirm_data(turn.draft) or turn.text in CONFIRM_WORDS:
            return DONE
        if Confirm.unpack(turn.data):
            # The 确认 of an older card: it must not save the draft now open.
            raise Invalid("flow.stale_button")
        edit = Edit.unpack(turn.data)
        if edit and edit.step in {s for s, _ in editable}:
            turn.draft["_edit"] = True
            return edit.step
        raise Invalid("flow.confirm_or_edit")

    return Step(
        CONFIRM,
        prompt,
        accept,
        help_key="help.confirm",
        goes_to=tuple(step for step, _ in editable),
        offers=(Confirm, Edit),
        reads=(Confirm, Edit),
    )


def confirm_data(draft: dict[str, Any]) -> str:
    """The confirm button names its draft, so an older card's 确认 cannot save this one."""
    return Confirm(str(draft.get("_id", ""))).pack()


def has(key: str) -> Callable[[dict[str, Any]], bool]:
    """skip_if helper: the draft already answers this step."""
    return lambda draft: draft.get(key) not in (None, "")
