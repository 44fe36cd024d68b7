"""One small engine runs every flow: a flow is data — ordered steps, each with a prompt and
a parser/validator — and the engine does the bookkeeping. A flow is checked when it is
built, so a misnamed step fails at import, not in a cadre's chat."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.buttons import ButtonData, Menu
from core.i18n import t
from core.types import Button, Inbound, InboundKind, Reply
from handlers.context import Context
from storage.people import CadreView

DONE = "__done__"
STAY = "__stay__"
CONFIRM = "confirm"


class FlowError(ValueError):
    """A flow definition that cannot work; raised when the flow is built, at import."""


class Invalid(Exception):
    """The input does not fit this step: answer with `key`'s text and ask again."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass
class Turn:
    """One inbound message being handled for a bound cadre."""

    session: AsyncSession
    ctx: Context
    cadre: CadreView
    inbound: Inbound
    lang: str
    now: datetime
    draft: dict[str, Any] = field(default_factory=dict)
    notes: list[Reply] = field(default_factory=list)  # extra replies before the next prompt
    saved: dict[str, Any] | None = None  # set by a flow's finish: the record, for undo

    def t(self, key: str, **params: Any) -> str:
        return t(key, self.lang, **params)

    def button(self, key: str, data: str, **params: Any) -> Button:
        return Button(self.t(key, **params), data)

    @property
    def text(self) -> str:
        return self.inbound.text.strip() if self.inbound.kind == InboundKind.TEXT else ""

    @property
    def data(self) -> str:
        return self.inbound.data if self.inbound.kind == InboundKind.BUTTON else ""


Prompt = Callable[[Turn], Awaitable[Reply]]
Accept = Callable[[Turn], Awaitable[str | None]]  # next step name, STAY, DONE, or None = next
# A finish saves the draft; it may raise Invalid (before writing anything) to refuse it.
Finish = Callable[[Turn], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Step:
    name: str
    prompt: Prompt
    accept: Accept
    skip_if: Callable[[dict[str, Any]], bool] | None = None
    help_key: str = ""
    goes_to: tuple[str, ...] = ()  # steps `accept` may name next (edit targets)
    offers: tuple[type[ButtonData], ...] = ()  # the button kinds `prompt` shows
    reads: tuple[type[ButtonData], ...] = ()  # the button kinds `accept` understands


@dataclass(frozen=True)
class Anytime:
    """Input a flow keeps at whatever step it arrives (a report keeps a photo sent early)."""

    take: Callable[[Turn], bool]  # True when the input was one and is kept; may raise Invalid
    note_key: str  # told when it was kept, before the current step is asked again
    own_step: str = ""  # the step that asks for this input and takes it itself


@dataclass(frozen=True)
class Flow:
    name: str
    steps: tuple[Step, ...]
    finish: Finish
    anytime: Anytime | None = None

    def __post_init__(self) -> None:
        check_flow(self)

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def following(self, name: str, draft: dict[str, Any]) -> str:
        """The next step after `name` that the draft does not already answer."""
        names = [s.name for s in self.steps]
        for s in self.steps[names.index(name) + 1 :]:
            if s.skip_if is None or not s.skip_if(draft):
                return s.name
        return DONE

    def first(self, draft: dict[str, Any]) -> str:
        for s in self.steps:
            if s.skip_if is None or not s.skip_if(draft):
                return s.name
        return DONE


def check_flow(flow: Flow) -> None:
    """Refuse a flow that would strand a cadre: raise FlowError naming what is wrong."""
    names = [s.name for s in flow.steps]
    if not names:
        raise FlowError(f"flow {flow.name!r} has no steps")
    for name in names:
        if names.count(name) > 1 or name in (DONE, STAY):
            raise FlowError(f"flow {flow.name!r}: step name {name!r} is repeated or reserved")
    for step in flow.steps:
        for target in step.goes_to:
            if target not in names:
                raise FlowError(
                    f"flow {flow.name!r}: step {step.name!r} goes to {target!r}, not a step"
                )
        unread = [kind.__name__ for kind in step.offers if kind not in step.reads]
        if unread:
            raise FlowError(
                f"flow {flow.name!r}: step {step.name!r} shows {unread} buttons it does not read"
            )
    own = flow.anytime.own_step if flow.anytime is not None else ""
    if own and own not in names:
        raise FlowError(f"flow {flow.name!r}: anytime input's step {own!r} is not a step")


@dataclass
class Position:
    """Where the conversation is after a turn; the caller writes it to storage."""

    flow: str = ""
    step: str = ""
    draft: dict[str, Any] = field(default_factory=dict)


async def enter(flow: Flow, turn: Turn, step: str | None = None) -> tuple[Position, list[Reply]]:
    """Start `flow` (or jump to `step`) with turn.draft as the draft, and prompt."""
    turn.draft.setdefault("_id", secrets.token_hex(4))  # names this draft on its buttons
    name = step or flow.first(turn.draft)
    if name == DONE:
        return await _finish(flow, turn)
    current = flow.step(name)
    assert current is not None, name
    reply = await current.prompt(turn)
    return Position(flow.name, name, turn.draft), [*turn.notes, reply]


async def advance(flow: Flow, step_name: str, turn: Turn) -> tuple[Position, list[Reply]]:
    """Feed one inbound to the current step and move on."""
    current = flow.step(step_name)
    if current is None:  # the flow changed shape since this draft was saved
        return await enter(flow, turn)
    try:
        nxt = await current.accept(turn)
    except Invalid as bad:
        again = await current.prompt(turn)
        return Position(flow.name, step_name, turn.draft), [
            Reply(turn.t(bad.key, **bad.params)),
            again,
        ]
    if nxt == STAY:
        return await enter(flow, turn, step_name)
    if nxt is None:
        # Editing from the confirmation card returns there after the edited step.
        nxt = CONFIRM if turn.draft.pop("_edit", False) else flow.following(step_name, turn.draft)
    if nxt == DONE:
        # Saved by pressing the confirmation card's button: the card becomes the answer.
        pressed = step_name == CONFIRM and turn.inbound.kind == InboundKind.BUTTON
        return await _finish(flow, turn, card_pressed=pressed)
    return await enter(flow, turn, nxt)


async def _finish(
    flow: Flow, turn: Turn, *, card_pressed: bool = False
) -> tuple[Position, list[Reply]]:
    try:
        replies = await flow.finish(turn)
    except Invalid as bad:
        # Something changed since the card was shown (a pairing ended): keep the draft on
        # the confirmation card, where it can be changed or cancelled, rather than drop it.
        card = flow.step(CONFIRM)
        said = [*turn.notes, Reply(turn.t(bad.key, **bad.params))]
        if card is None:
            return Position(), said
        return Position(flow.name, CONFIRM, turn.draft), [*said, await card.prompt(turn)]
    if turn.saved is not None:
        turn.saved["flow"] = flow.name  # undo/correct reopens the record in this flow
    if replies:
        # Every save (销号 included) ends with the same next steps, under any button of its
        # own (销号's 回访); an offer may follow it. 撤销 only where there is a record to undo.
        replies[0] = _with_next_steps(replies[0], turn, undoable=turn.saved is not None)
        if card_pressed and not turn.notes:
            # The saved answer takes the card's place (where the channel can edit it): the
            # card's buttons cannot be pressed again, and the chat keeps one message.
            replies[0] = replace(replies[0], in_place=True)
    return Position(), [*turn.notes, *replies]


def _with_next_steps(saved: Reply, turn: Turn, *, undoable: bool) -> Reply:
    """After a save, the likely next taps: another report, my list, undo (when undoable)."""
    row = [
        turn.button("menu.report", Menu("report").pack()),
        turn.button("menu.mine", Menu("mine").pack()),
    ]
    if undoable:
        row.append(turn.button("menu.undo", Menu("undo").pack()))
    return Reply.with_buttons(saved.text, [*(list(r) for r in saved.buttons), row])


async def interject(flow: Flow, step_name: str, turn: Turn) -> tuple[Position, list[Reply]] | None:
    """Keep the flow's anytime input sent at another step; None when this was not one."""
    anytime = flow.anytime
    if anytime is None or step_name == anytime.own_step:
        return None
    try:
        if not anytime.take(turn):
            return None
        note = Reply(turn.t(anytime.note_key))
    except Invalid as bad:  # one too many: this runs outside advance()'s own checks
        note = Reply(turn.t(bad.key, **bad.params))
    return Position(flow.name, step_name, turn.draft), [note, await reprompt(flow, step_name, turn)]


async def reprompt(flow: Flow, step_name: str, turn: Turn) -> Reply:
    current = flow.step(step_name)
    if current is None:
        return Reply(turn.t("flow.menu_hint"))
    return await current.prompt(turn)
