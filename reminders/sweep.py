"""The reminder sweep: duties whose stage is today → one outbox message per cadre and account.

The cadres are swept in chunks of consecutive ids (keyset pagination), each chunk set-based in
SQL and in its own transaction, so memory stays bounded however many counties share the
database. Idempotent: every duty-stage is claimed once in `reminder_marks` (one row per cadre
and claim holding its duty keys, storage.sweep_marks) in the same transaction that enqueues its
message, so a rerun, or a second process sweeping at the same time, finds nothing new to say.
In quiet hours the sweep still runs, but its messages carry not_before = the end of the quiet
hours (the dispatcher waits).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from typing import Any

from core.buttons import SEP, ReportFor
from core.daytext import day_label
from core.i18n import normalize_lang, t
from core.payload import reply_to_payload
from core.policy import Policy, quiet_until
from core.types import Button, Reply
from reminders.duties import EVENT, DayPlan, Duty, day_plan, staged_duties
from storage.db import Database
from storage.duties import (
    AccountRow,
    CadreRange,
    PairingRow,
    accounts_in,
    cadre_chunk,
    prune_marks,
    reachable_accounts,
)
from storage.outbox import NewMessage, enqueue
from storage.sweep_marks import claim_reminders, reminded

MAX_LINES = 30  # households listed in one message; the rest are counted
MAX_BUTTONS = 24  # Telegram allows 100, a phone screen far fewer
MARK_KEEP_DAYS = 400  # stages older than this can never be due again
MAX_UNREACHABLE_IDS = 100  # ids listed with keep=False (an admin's first leads; all counted)
CHUNK_CADRES = 2000  # cadres per chunk: bounds the sweep's memory whatever the county's size
EVENTS_ONLY_CHUNK = 1_000_000  # cadres per chunk on a day when only events can be due


@dataclass(frozen=True, slots=True)
class CadreReminder:
    """What one cadre is told in one sweep: the duties and the message to each account."""

    cadre_id: int
    cadre_name: str
    duties: tuple[Duty, ...]
    messages: tuple[NewMessage, ...]


@dataclass(frozen=True, slots=True)
class SweepResult:
    at: datetime
    day: date  # the local day whose stages were swept
    not_before: datetime | None  # set when the sweep ran in quiet hours
    reminders: tuple[CadreReminder, ...]  # empty when the sweep ran with keep=False
    unreachable: tuple[int, ...]  # cadres with due duties but no account (keep=False: the first)
    enqueued: int  # outbox rows actually inserted (0 for a preview)
    dry_run: bool = False
    cadres: int = 0  # cadres reminded (counted even when the reminders are not kept)
    duties: int = 0
    message_count: int = 0
    unreachable_count: int = 0

    @property
    def messages(self) -> list[NewMessage]:
        return [m for r in self.reminders for m in r.messages]

    def detail(self) -> dict[str, object]:
        """Counts for a job-run record or a log line (no names, no chat ids)."""
        return {
            "day": self.day.isoformat(),
            "cadres": self.cadres,
            "duties": self.duties,
            "enqueued": self.enqueued,
            "unreachable": self.unreachable_count,
            "deferred_to": self.not_before.isoformat() if self.not_before else None,
        }


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


@cache
def _reason_text(kind: str, label: str, due_on: date, overdue: bool, lang: str) -> str:
    """`_reason` for one (kind, label, due day) — a sweep has few of them, so each once."""
    duty = Duty(kind, "", _NO_PAIRING, due_on, label)
    return _reason(duty, due_on + timedelta(days=1) if overdue else due_on, lang)


_NO_PAIRING = PairingRow(0, 0, "", 0, "", "")


@cache
def _texts(lang: str) -> tuple[str, str, str, str, str, str]:
    """The reminder's templates in `lang`: greeting, line, more, footer, button, separator."""
    keys = ("greeting", "line", "more", "footer", "button", "sep")
    return tuple(t(f"reminders.{k}", lang) for k in keys)  # type: ignore[return-value]


def render_reply(cadre_name: str, duties: list[Duty], today: date, lang: str) -> dict[str, Any]:
    """`reply_to_payload(build_reply(...))`, the same payload, built with each template and
    reason looked up once per sweep rather than once per line (the sweep's hot path)."""
    greeting, line, more, footer, button, sep = _texts(lang)
    by_household: dict[int, list[Duty]] = {}
    for duty in sorted(duties, key=lambda d: (d.due_on, d.pairing.head_name, d.key)):
        by_household.setdefault(duty.household_id, []).append(duty)
    lines = [greeting.format(name=cadre_name)]
    groups = list(by_household.items())
    for _, items in groups[:MAX_LINES]:
        p = items[0].pairing
        reasons = sep.join(
            _reason_text(d.kind, d.label, d.due_on, today > d.due_on, lang) for d in items
        )
        lines.append(line.format(household=p.head_name, village=p.village, reasons=reasons))
    if len(groups) > MAX_LINES:
        lines.append(more.format(count=len(groups) - MAX_LINES))
    lines.append(footer)
    payload: dict[str, Any] = {"text": "\n".join(lines)}
    buttons = [
        {
            "label": button.format(household=items[0].pairing.head_name),
            "data": f"{ReportFor.prefix}{SEP}{hid}",  # ReportFor(hid).pack(): an int fits
        }
        for hid, items in groups[:MAX_BUTTONS]
    ]
    if buttons:
        payload["buttons"] = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return payload


Render = Callable[[str, list[Duty], date, str], dict[str, Any]]


def _reference_render(
    cadre_name: str, duties: list[Duty], today: date, lang: str
) -> dict[str, Any]:
    return reply_to_payload(build_reply(cadre_name, duties, today, lang))


def _messages(
    cadre_id: int,
    payload_for: dict[str, dict[str, Any]],
    accounts: list[tuple[AccountRow, str]],
    keys: list[str],
    today: date,
    not_before: datetime | None,
    due_on: date,
) -> tuple[NewMessage, ...]:
    # The duty keys in the dedupe key: a later sweep that day may add new duties only.
    digest = hashlib.sha1("\n".join(sorted(keys)).encode()).hexdigest()[:12]
    return tuple(
        NewMessage(
            dedupe_key=f"remind:{cadre_id}:{today}:{a.channel}:{a.account_id}:{digest}",
            channel=a.channel,
            chat_id=a.chat_id,
            kind="reminder",
            payload=payload_for[language],
            cadre_id=cadre_id,
            not_before=not_before,
            due_on=due_on,  # the round goes out most overdue first
        )
        for a, language in accounts
    )


def _group(
    duties: list[Duty],
    accounts: dict[int, list[AccountRow]],
    today: date,
    lang: str,
    not_before: datetime | None,
    render: Render = render_reply,
) -> list[CadreReminder]:
    by_cadre: dict[int, list[Duty]] = {}
    for duty in duties:
        by_cadre.setdefault(duty.cadre_id, []).append(duty)
    out = []
    for cadre_id, items in sorted(by_cadre.items()):
        accs = [(a, normalize_lang(a.language or lang)) for a in accounts[cadre_id]]
        name = items[0].pairing.cadre_name
        payloads = {language: render(name, items, today, language) for _, language in accs}
        keys = [d.key for d in items]
        # The message carries its earliest due date.
        earliest = min(d.due_on for d in items)
        msgs = _messages(cadre_id, payloads, accs, keys, today, not_before, earliest)
        out.append(CadreReminder(cadre_id, name, tuple(items), msgs))
    return out


@dataclass(slots=True)
class _Tally:
    """What the chunks found so far (the reminders themselves only when kept)."""

    kept: list[CadreReminder] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)
    unreachable_count: int = 0
    cadres: int = 0
    duties: int = 0
    messages: int = 0
    enqueued: int = 0

    def add(self, reminders: list[CadreReminder], unreachable: list[int], keep: bool) -> None:
        self.cadres += len(reminders)
        self.duties += sum(len(r.duties) for r in reminders)
        self.messages += sum(len(r.messages) for r in reminders)
        self.unreachable_count += len(unreachable)
        if keep:
            self.kept += reminders
        room = len(unreachable) if keep else MAX_UNREACHABLE_IDS - len(self.unreachable)
        self.unreachable += unreachable[: max(room, 0)]


async def _sweep_chunk(
    db: Database,
    cadres: CadreRange,
    at: datetime,
    plan: DayPlan,
    policy: Policy,
    lang: str,
    not_before: datetime | None,
    dry_run: bool,
) -> tuple[list[CadreReminder], list[int], int]:
    """One range of cadres: their reminders, the unreachable ones, and the rows enqueued."""
    today = plan.today
    async with db.sessions() as session:
        duties = await staged_duties(session, today, policy, cadres, plan=plan)
        ids = {d.cadre_id for d in duties}
        # When many of a chunk's cadres owe something (a stage day), read its accounts by
        # range; when few do (only events), by their ids.
        by_range = len(ids) * 4 > cadres[1] - cadres[0]
        accounts = await (
            accounts_in(session, cadres) if by_range else reachable_accounts(session, ids)
        )
        if dry_run:
            done = await reminded(session, today, cadres)
            duties = [d for d in duties if d.key not in done.get(d.cadre_id, ())]
    unreachable = sorted({d.cadre_id for d in duties if not accounts.get(d.cadre_id)})
    duties = [d for d in duties if accounts.get(d.cadre_id)]
    if dry_run:
        return _group(duties, accounts, today, lang, not_before), unreachable, 0
    # Each chunk claims and enqueues in its own transaction: a crash loses no claimed duty
    # (its messages commit with the marks), and a rerun resumes with the chunks not done.
    async with db.transaction() as session:
        keys: dict[int, list[str]] = {}
        for d in duties:
            keys.setdefault(d.cadre_id, []).append(d.key)
        claimed = await claim_reminders(session, keys, stage_on=today, now=at, cadres=cadres)
        duties = [d for d in duties if d.key in claimed.get(d.cadre_id, ())]
        reminders = _group(duties, accounts, today, lang, not_before)
        enqueued = await enqueue(session, [m for r in reminders for m in r.messages], now=at)
    return reminders, unreachable, enqueued


async def run_sweep(
    db: Database,
    at: datetime,
    policy: Policy,
    *,
    lang: str = "zh",
    dry_run: bool = False,
    tz: tzinfo | None = None,
    keep: bool = True,
    each: Callable[[CadreReminder], None] | None = None,
    chunk: int = CHUNK_CADRES,
) -> SweepResult:
    """Remind every cadre of the duties whose stage falls on the local day of `at`.

    `at` must be aware; its own zone gives the local day unless `tz` is given. `lang` is the
    language for accounts that have none. `dry_run` computes what would be sent, writes nothing.
    The cadres are swept `chunk` at a time, so memory does not grow with the county; with
    `keep=False` the result holds counts and the first unreachable ids only (`each` still sees
    every reminder, in cadre order).
    """
    if at.tzinfo is None:
        raise ValueError("run_sweep needs an aware datetime")
    local = at.astimezone(tz or at.tzinfo)
    today = local.date()
    not_before = quiet_until(local, policy)
    tally = _Tally()
    async with db.sessions() as session:  # the calendar and the day's events, once
        plan = await day_plan(session, today, policy)
    after = 0
    # With only events to remind, a chunk holds their pairings only: one chunk will do.
    size = chunk if plan.reads_all else max(chunk, EVENTS_ONLY_CHUNK)
    while not plan.idle:
        async with db.sessions() as session:
            cadres = await cadre_chunk(session, after=after, size=size)
        if cadres is None:
            break
        reminders, unreachable, enqueued = await _sweep_chunk(
            db, cadres, at, plan, policy, lang, not_before, dry_run
        )
        tally.add(reminders, unreachable, keep)
        tally.enqueued += enqueued
        if each is not None:
            for reminder in reminders:
                each(reminder)
        after = cadres[1]
    if not dry_run:
        async with db.transaction() as session:
            await prune_marks(session, before=today - timedelta(days=MARK_KEEP_DAYS))
    return SweepResult(
        at,
        today,
        not_before,
        tuple(tally.kept),
        tuple(tally.unreachable),
        tally.enqueued,
        dry_run=dry_run,
        cadres=tally.cadres,
        duties=tally.duties,
        message_count=tally.messages,
        unreachable_count=tally.unreachable_count,
    )


async def preview_sweep(
    db: Database, at: datetime, policy: Policy, *, lang: str = "zh"
) -> SweepResult:
    """What `run_sweep` at `at` would send now, without writing anything."""
    return await run_sweep(db, at, policy, lang=lang, dry_run=True)
