"""The reminder as the sweep once built it from `Duty` objects: the reference the stored,
rendered-at-send-time reminders (core.reminder_text) are compared with."""

from __future__ import annotations

from datetime import date

from core.buttons import ReportFor
from core.daytext import day_label
from core.i18n import t
from core.reminder_text import MAX_BUTTONS, MAX_LINES
from core.types import Button, Reply
from reminders.duties import EVENT, Duty


def _fmt_date(day: date, lang: str) -> str:
    return day_label(day, lang)  # the one form cadres see everywhere: 11月27日（周五）


def _reason(duty: Duty, today: date, lang: str) -> str:
    due = _fmt_date(duty.due_on, lang)
    if duty.kind != EVENT:
        return t(f"reminders.{duty.kind}", lang, due=due, occasion=duty.label)
    try:
        event = t(f"reminders.event_kind.{duty.label}", lang)
    except KeyError:  # a kind added elsewhere and not yet named here
        event = duty.label
    key = "reminders.event_overdue" if today > duty.due_on else "reminders.event"
    return t(key, lang, event=event, due=due)


def build_reply(cadre_name: str, duties: list[Duty], today: date, lang: str) -> Reply:
    """One message listing every household with its due duties, and a report button each."""
    by_household: dict[int, list[Duty]] = {}
    for duty in sorted(duties, key=lambda d: (d.due_on, d.pairing.head_name, d.key)):
        by_household.setdefault(duty.household_id, []).append(duty)
    lines = [t("reminders.greeting", lang, name=cadre_name)]
    sep = t("reminders.sep", lang)
    for items in list(by_household.values())[:MAX_LINES]:
        p = items[0].pairing
        reasons = sep.join(_reason(d, today, lang) for d in items)
        lines.append(
            t("reminders.line", lang, household=p.head_name, village=p.village, reasons=reasons)
        )
    if len(by_household) > MAX_LINES:
        lines.append(t("reminders.more", lang, count=len(by_household) - MAX_LINES))
    lines.append(t("reminders.footer", lang))
    buttons = [
        Button(
            t("reminders.button", lang, household=items[0].pairing.head_name),
            ReportFor(hid).pack(),
        )
        for hid, items in list(by_household.items())[:MAX_BUTTONS]
    ]
    return Reply.with_buttons(
        "\n".join(lines), [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    )
