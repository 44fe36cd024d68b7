"""Button data: every button's payload is packed and parsed here, and nowhere else.

A payload is a prefix and typed fields joined by ":" ("h:12", "rep:h:12", "e:summary").
`pack()` checks the result fits every channel's limit (Telegram's callback_data holds 64
bytes, a WeCom card button's key 1024), so a button too long fails where it is made, not
when a platform refuses the message. `unpack()` answers None when the data is not of its
kind. Data can be stale or forged: an int field that is not a plain number parses as -1,
which no id, page or day offset is.

A few buttons carry a bare word the person could also type or send as a command:
CANCEL, SKIP, RESUME.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Self, get_type_hints

from core.types import Channel

SEP = ":"
# The most one button's data may hold, in UTF-8 bytes, per channel.
DATA_LIMITS: dict[Channel, int] = {Channel.TELEGRAM: 64, Channel.WECOM: 1024}
MAX_BYTES = min(DATA_LIMITS.values())  # handlers do not know the channel: fit them all
MAX_DIGITS = 18  # an id past 64 bits would make the database driver fail

CANCEL = "x"
SKIP = "skip"
RESUME = "resume"


class ButtonDataError(ValueError):
    """Button data that cannot be packed: too long, or a field holding the separator."""


def _number(text: str) -> int:
    """ "²".isdigit() is true but int() refuses it; a sign or spaces are not ours either."""
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        return -1
    return int(text)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # per payload kind, looked up once
# Per payload kind, looked up once: which fields are ints (`get_type_hints` evaluates the
# annotations' text on every call).
_INT_FIELDS: dict[type, tuple[bool, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _int_fields(cls: type) -> tuple[bool, ...]:
    ints = _INT_FIELDS.get(cls)
    if ints is None:
        hints = get_type_hints(cls)
        ints = _INT_FIELDS[cls] = tuple(hints[name] is int for name in _field_names(cls))
    return ints


@dataclass(frozen=True)
class ButtonData:
    """The base of every payload kind: a prefix and typed (int or str) fields."""

    prefix: ClassVar[str]

    def pack(self) -> str:
        values = [str(getattr(self, name)) for name in _field_names(type(self))]
        if any(SEP in v for v in values[:-1]):
            raise ButtonDataError(f"{self!r}: only the last field may hold {SEP!r}")
        data = SEP.join([self.prefix, *values])
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise ButtonDataError(f"{data!r} is over {MAX_BYTES} bytes")
        return data

    @classmethod
    def unpack(cls, data: str) -> Self | None:
        names = _field_names(cls)
        if not names:
            return cls() if data == cls.prefix else None
        head = cls.prefix + SEP
        if not data.startswith(head):
            return None
        parts = data[len(head) :].split(SEP, len(names) - 1)
        if len(parts) != len(names):
            return None
        ints = _int_fields(cls)
        values = [_number(p) if is_int else p for is_int, p in zip(ints, parts, strict=True)]
        return cls(*values)


@dataclass(frozen=True)
class Menu(ButtonData):
    """A main-menu entry: a flow to start or an action ("report", "mine", "undo"...)."""

    prefix: ClassVar[str] = "m"
    action: str


@dataclass(frozen=True)
class ReportFor(ButtonData):
    """A reminder's button: report a contact with this household."""

    prefix: ClassVar[str] = "rep:h"
    household_id: int


@dataclass(frozen=True)
class Household(ButtonData):
    prefix: ClassVar[str] = "h"
    household_id: int


@dataclass(frozen=True)
class NoHousehold(ButtonData):
    """Not about one household (an optional household step)."""

    prefix: ClassVar[str] = "h:none"


@dataclass(frozen=True)
class Page(ButtonData):
    prefix: ClassVar[str] = "pg"
    page: int


@dataclass(frozen=True)
class DaysBack(ButtonData):
    """A day by its distance from today: 0 today, 1 yesterday."""

    prefix: ClassVar[str] = "d"
    days: int


@dataclass(frozen=True)
class Choice(ButtonData):
    prefix: ClassVar[str] = "c"
    option: str


@dataclass(frozen=True)
class Toggle(ButtonData):
    """Adds or removes one option of a several-choice step."""

    prefix: ClassVar[str] = "t"
    option: str


@dataclass(frozen=True)
class Done(ButtonData):
    """Finished choosing (toggles) or adding (photos)."""

    prefix: ClassVar[str] = "t:done"


@dataclass(frozen=True)
class Edit(ButtonData):
    """Change one step's answer from the confirmation card."""

    prefix: ClassVar[str] = "e"
    step: str


@dataclass(frozen=True)
class Confirm(ButtonData):
    """Save: names its draft, so an older card's 确认 cannot save the draft open now."""

    prefix: ClassVar[str] = "ok"
    draft_id: str


@dataclass(frozen=True)
class Problem(ButtonData):
    prefix: ClassVar[str] = "p"
    problem_id: int


# --- appeals, help plans (handlers/flows/problem.py, plan.py; handlers/plan_card.py) -------


@dataclass(frozen=True)
class FollowUp(ButtonData):
    """Under a settled appeal: record the household's call-back (回访) now."""

    prefix: ClassVar[str] = "fu"
    appeal_id: int


@dataclass(frozen=True)
class PlanCard(ButtonData):
    """In 我的: show this household's 连心卡."""

    prefix: ClassVar[str] = "mh"
    household_id: int


@dataclass(frozen=True)
class Day(ButtonData):
    """One particular day (ISO), offered when the cadre named a time that is not one day."""

    prefix: ClassVar[str] = "day"
    iso: str


@dataclass(frozen=True)
class RecordEvent(ButtonData):
    """Record the 五必访 event a message named: household, event kind, its day (ISO or "")."""

    prefix: ClassVar[str] = "qe"
    household_id: int
    kind: str
    day: str


@dataclass(frozen=True)
class RecordProblem(ButtonData):
    """Record the problem a message named, for this household."""

    prefix: ClassVar[str] = "qp"
    household_id: int


@dataclass(frozen=True)
class UnitPick(ButtonData):
    """The unit that handles an appeal."""

    prefix: ClassVar[str] = "u"
    unit_id: int


@dataclass(frozen=True)
class DuePolicy(ButtonData):
    """The appeal's deadline as the policy sets it for its category."""

    prefix: ClassVar[str] = "due:policy"


@dataclass(frozen=True)
class HelpKind(ButtonData):
    """Toggle a help kind (by its index in the policy's list) on a plan measure."""

    prefix: ClassVar[str] = "k"
    index: int


@dataclass(frozen=True)
class HelpKindsDone(ButtonData):
    prefix: ClassVar[str] = "k:done"


@dataclass(frozen=True)
class Measure(ButtonData):
    """A measure in one of my households' plans."""

    prefix: ClassVar[str] = "ms"
    measure_id: int


@dataclass(frozen=True)
class StepByStep(ButtonData):
    """After a voice message: fill the report in step by step instead of a line of text."""

    prefix: ClassVar[str] = "line:steps"


KINDS: tuple[type[ButtonData], ...] = (
    Menu,
    ReportFor,
    NoHousehold,
    Household,
    Page,
    DaysBack,
    Done,
    Choice,
    Toggle,
    Edit,
    Confirm,
    Problem,
    FollowUp,
    PlanCard,
    UnitPick,
    DuePolicy,
    HelpKindsDone,  # before HelpKind: "k:done" is not a kind's index
    HelpKind,
    Measure,
    Day,
    RecordEvent,
    RecordProblem,
    StepByStep,
)


def parse(data: str) -> ButtonData | None:
    """The payload `data` carries, whatever its kind; None for a bare word or unknown data."""
    for kind in KINDS:
        found = kind.unpack(data)
        if found is not None:
            return found
    return None
