"""A reminder's text, rendered when it is sent.

The sweep stores in each outbox row what the message says — the cadre's name, the day swept,
the account's language and each duty (due day, household head, duty key, household id,
village, kind, label), as they stood when the sweep ran — not the text. The dispatcher
renders it just before sending (`core.payload.payload_to_reply`): a bot sends ~30 messages a
second whatever the sweep does, while the sweep of a stage day would otherwise render 100,000s
of messages at once. The text is the one the sweep built before (tests/reminder_reference.py; tests compare).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any, Final

from core.buttons import SEP, ReportFor
from core.daytext import day_label
from core.i18n import t

REMINDER = "reminder"  # the payload key holding a reminder to render at send time
MAX_LINES = 30  # households listed in one message; the rest are counted
MAX_BUTTONS = 24  # Telegram allows 100, a phone screen far fewer
EVENT = "event"  # reminders.duties.EVENT: its reason names the event and whether overdue

# A duty in the payload: [due day (ISO), head name, duty key, household id, village, kind,
# label]; the first three order the lines.
DUE: Final = 0
HEAD: Final = 1
KEY: Final = 2
HOUSEHOLD: Final = 3
VILLAGE: Final = 4
KIND: Final = 5
LABEL: Final = 6


@cache
def reason_text(kind: str, label: str, due_on: date, overdue: bool, lang: str) -> str:
    """Why one household is listed: the duty and its last day (few distinct per sweep)."""
    due = day_label(due_on, lang)
    if kind != EVENT:
        return t(f"reminders.{kind}", lang, due=due, occasion=label)
    try:
        event = t(f"reminders.event_kind.{label}", lang)
    except KeyError:  # a kind added elsewhere and not yet named here
        event = label
    key = "reminders.event_overdue" if overdue else "reminders.event"
    return t(key, lang, event=event, due=due)


@cache
def _texts(lang: str) -> tuple[str, str, str, str, str, str]:
    """The reminder's templates in `lang`: greeting, line, more, footer, button, separator."""
    keys = ("greeting", "line", "more", "footer", "button", "sep")
    return tuple(t(f"reminders.{k}", lang) for k in keys)  # type: ignore[return-value]


@cache
def _day(iso: str) -> date:
    return date.fromisoformat(iso)


def reminder_data(
    cadre_name: str, day: date, lang: str, duties: list[list[Any]] | list[tuple[Any, ...]]
) -> dict[str, Any]:
    """The payload of one reminder to render at send time (`duties` as described above)."""
    return {REMINDER: {"name": cadre_name, "day": day.isoformat(), "lang": lang, "duties": duties}}


def render_reminder(data: dict[str, Any]) -> dict[str, Any]:
    """The text-and-buttons payload of a stored reminder (`reminder_data`'s inner dict)."""
    lang = str(data["lang"])
    today = str(data["day"])
    greeting, line, more, footer, button, sep = _texts(lang)
    by_household: dict[int, list[Any]] = {}
    for duty in sorted(data["duties"], key=lambda d: (d[DUE], d[HEAD], d[KEY])):
        by_household.setdefault(int(duty[HOUSEHOLD]), []).append(duty)
    lines = [greeting.format(name=data["name"])]
    groups = list(by_household.items())
    for _, items in groups[:MAX_LINES]:
        first = items[0]
        reasons = sep.join(
            reason_text(d[KIND], d[LABEL], _day(d[DUE]), today > d[DUE], lang) for d in items
        )
        lines.append(line.format(household=first[HEAD], village=first[VILLAGE], reasons=reasons))
    if len(groups) > MAX_LINES:
        lines.append(more.format(count=len(groups) - MAX_LINES))
    lines.append(footer)
    payload: dict[str, Any] = {"text": "\n".join(lines)}
    buttons = [
        {
            "label": button.format(household=items[0][HEAD]),
            "data": f"{ReportFor.prefix}{SEP}{hid}",  # ReportFor(hid).pack(): an int fits
        }
        for hid, items in groups[:MAX_BUTTONS]
    ]
    if buttons:
        payload["buttons"] = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return payload
