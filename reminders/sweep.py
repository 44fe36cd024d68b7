"""The reminder sweep: duties whose stage is today → one outbox message per cadre and account.

The cadres are swept in chunks of consecutive ids (keyset pagination), each chunk set-based in
SQL and in its own transaction, so memory stays bounded however many counties share the
database. Idempotent: every duty-stage is claimed once, by the outbox rows that remind it
(their `stage_on` is the day swept; their payloads list the duty keys, storage.sweep_marks),
enqueued under the claims' lock, so a rerun, or a second process sweeping at the same time,
finds nothing new to say.
In quiet hours the sweep still runs, but its messages carry not_before = the end of the quiet
hours (the dispatcher waits).

A message's row holds the cadre's claimed duties, not their text (core.reminder_text): the
dispatcher renders it when it sends, as tests/reminder_reference.py's `build_reply` would.
The sweep handles the found duties as plain tuples, one pass per cadre; `Duty` and
`NewMessage` objects are made only for a caller that keeps the reminders or sees each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from core.i18n import DEFAULT_LANG, normalize_lang
from core.policy import Policy, quiet_until
from core.reminder_text import DUE, KEY, reminder_data
from reminders.duties import DayPlan, Duty, Found, day_plan, staged_rows
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
from storage.outbox import NewMessage, enqueue_rows, pending_row
from storage.sweep_marks import claim_digest, claim_reminders, reminded
from storage.sweep_sql import sweep_chunk_in_db

REMINDER_KIND = "reminder"  # the outbox rows' kind
MARK_KEEP_DAYS = 400  # stages older than this can never be due again
MAX_UNREACHABLE_IDS = 100  # ids listed with keep=False (an admin's first leads; all counted)
CHUNK_CADRES = 2000  # cadres per chunk: bounds the sweep's memory whatever the county's size
# Cadres per chunk when the database decides and writes (nothing held in Python): fewer,
# larger statements; a chunk holds the claims' lock for its statement only.
CHUNK_CADRES_IN_DB = 10_000
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


# A duty as the sweep carries it and the outbox row stores it (core.reminder_text): due day
# (ISO), head name, duty key, household id, village, kind, label.
Item = tuple[str, str, str, int, str, str, str]


@dataclass(slots=True)
class _Chunk:
    """What one chunk found: each cadre's name and items, and (when the caller wants
    `CadreReminder`s) the sweep row of each duty key."""

    rows: Any
    day: date
    names: dict[int, str] = field(default_factory=dict)
    items: dict[int, list[Item]] = field(default_factory=dict)
    dates: dict[str, date] = field(default_factory=dict)  # due days, ISO → date
    row_of: dict[str, int] | None = None


def _collect(day: date, rows: Any, groups: list[list[Found]], objects: bool) -> _Chunk:
    """The found duties by cadre, each once as an `Item` (no `Duty`, no `PairingRow`)."""
    chunk = _Chunk(rows, day)
    iso: dict[date, str] = {}
    names, by_cadre = chunk.names, chunk.items
    for group in groups:
        for i, kind, key, due_on, label in group:
            r = rows[i]
            cadre_id = r[1]
            due = iso.get(due_on)
            if due is None:
                due = iso[due_on] = due_on.isoformat()
            items = by_cadre.get(cadre_id)
            if items is None:
                items = by_cadre[cadre_id] = []
                names[cadre_id] = r[2]
            items.append((due, r[4], key, r[3], r[5], kind, label))
    chunk.dates = {text: day for day, text in iso.items()}
    if objects:
        chunk.row_of = {key: i for group in groups for i, _, key, _, _ in group}
    return chunk


def _reminder(
    chunk: _Chunk,
    cadre_id: int,
    items: list[Item],
    rows: list[dict[str, Any]],
    not_before: datetime | None,
) -> CadreReminder:
    """A `CadreReminder` of one cadre's items and outbox rows (for callers that keep them)."""
    assert chunk.row_of is not None
    duties = []
    for day, _, key, _, _, kind, label in items:
        pairing = PairingRow(*chunk.rows[chunk.row_of[key]][:6])
        duties.append(Duty(kind, key, pairing, chunk.dates[day], label))
    messages = tuple(
        NewMessage(
            dedupe_key=r["dedupe_key"],
            channel=r["channel"],
            chat_id=r["chat_id"],
            kind=REMINDER_KIND,
            payload=r["payload"],
            cadre_id=cadre_id,
            not_before=not_before,
            due_on=r["due_on"],
            stage_on=r["stage_on"],
        )
        for r in rows
    )
    return CadreReminder(cadre_id, chunk.names[cadre_id], tuple(duties), messages)


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

    def add(
        self, reminders: list[CadreReminder], unreachable: list[int], counts: _Counts, keep: bool
    ) -> None:
        self.cadres += counts.cadres
        self.duties += counts.duties
        self.messages += counts.messages
        self.enqueued += counts.enqueued
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
    objects: bool,
) -> tuple[list[CadreReminder], list[int], _Counts]:
    """One range of cadres: one outbox row per cadre and account holding the cadre's new
    duties (rendered when sent), the cadres with none, the counts; the reminders themselves
    only with `objects`."""
    today = plan.today
    if not (dry_run or objects):  # decided and written in SQL: counts come back
        return [], *(await _sweep_chunk_in_db(db, cadres, at, plan, lang, not_before))
    async with db.sessions() as session:
        rows, groups = await staged_rows(session, today, policy, cadres, plan=plan)
        chunk = _collect(today, rows, groups, objects)
        ids = chunk.items.keys()
        # When many of a chunk's cadres owe something (a stage day), read its accounts by
        # range; when few do (only events), by their ids.
        by_range = len(ids) * 4 > cadres[1] - cadres[0]
        accounts = await (
            accounts_in(session, cadres) if by_range else reachable_accounts(session, ids)
        )
        done = await reminded(session, today, cadres) if dry_run else {}
    for cadre_id, said in done.items():  # a preview leaves out what was said today
        items = chunk.items.get(cadre_id)
        if items is not None:
            chunk.items[cadre_id] = [d for d in items if d[KEY] not in said]
    unreachable = sorted(c for c, items in chunk.items.items() if items and c not in accounts)
    keys = {c: [d[KEY] for d in items] for c, items in chunk.items.items() if c in accounts}
    if dry_run:
        said_now = {c: sorted(set(k)) for c, k in keys.items() if k}
        claimed = {c: (k, claim_digest(k)) for c, k in said_now.items()}
        out, _, counts = _outbox_rows(chunk, claimed, accounts, at, lang, not_before)
        return out, unreachable, counts
    # Each chunk claims and enqueues in its own transaction: a crash loses no claimed duty
    # (its messages commit with the marks), and a rerun resumes with the chunks not done.
    async with db.transaction() as session:
        claimed = await claim_reminders(session, keys, stage_on=today, cadres=cadres)
        out, rows, counts = _outbox_rows(chunk, claimed, accounts, at, lang, not_before)
        counts.enqueued = await enqueue_rows(session, rows)
    return out, unreachable, counts


async def _sweep_chunk_in_db(
    db: Database,
    cadres: CadreRange,
    at: datetime,
    plan: DayPlan,
    lang: str,
    not_before: datetime | None,
) -> tuple[list[int], _Counts]:
    """`_sweep_chunk` of a sweep that keeps no reminders, in SQL (storage.sweep_sql)."""
    async with db.transaction() as session:
        done = await sweep_chunk_in_db(
            session,
            today=plan.today,
            cadres=cadres,
            checks=(*plan.before, *plan.after),
            event_days=plan.event_days,
            event_households=plan.events.keys(),
            now=at,
            not_before=not_before,
            lang=(normalize_lang(lang), DEFAULT_LANG),
            kind=REMINDER_KIND,
        )
    return list(done.unreachable), _Counts(done.cadres, done.duties, done.messages, done.enqueued)


@dataclass(slots=True)
class _Counts:
    cadres: int = 0
    duties: int = 0
    messages: int = 0
    enqueued: int = 0


def _outbox_rows(
    chunk: _Chunk,
    claimed: dict[int, tuple[list[str], str]],
    accounts: dict[int, list[AccountRow]],
    at: datetime,
    lang: str,
    not_before: datetime | None,
) -> tuple[list[CadreReminder], list[dict[str, Any]], _Counts]:
    """One outbox row per claiming cadre and account: the claimed items, to render when
    sent, most overdue first in the round (due_on: the earliest due day)."""
    day = chunk.day
    out: list[CadreReminder] = []
    rows: list[dict[str, Any]] = []
    counts = _Counts()
    for cadre_id, (new, digest) in sorted(claimed.items()):
        items = chunk.items[cadre_id]
        if len(new) != len(items):  # some were said earlier today
            wanted = set(new)
            items = [d for d in items if d[KEY] in wanted]
        earliest = chunk.dates[min(d[DUE] for d in items)]
        name = chunk.names[cadre_id]
        mine = []
        for a in accounts[cadre_id]:
            language = normalize_lang(a.language or lang)
            mine.append(
                pending_row(
                    f"remind:{cadre_id}:{day}:{a.channel}:{a.account_id}:{digest}",
                    a.channel,
                    a.chat_id,
                    REMINDER_KIND,
                    reminder_data(name, day, language, items),
                    now=at,
                    cadre_id=cadre_id,
                    not_before=not_before,
                    due_on=earliest,  # the round goes out most overdue first
                    stage_on=day,  # the row is the claim of its duties
                )
            )
        counts.cadres += 1
        counts.duties += len(items)
        counts.messages += len(mine)
        rows += mine
        if chunk.row_of is not None:
            out.append(_reminder(chunk, cadre_id, items, mine, not_before))
    return out, rows, counts


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
    chunk: int | None = None,
) -> SweepResult:
    """Remind every cadre of the duties whose stage falls on the local day of `at`.

    `at` must be aware; its own zone gives the local day unless `tz` is given. `lang` is the
    language for accounts that have none. `dry_run` computes what would be sent, writes nothing.
    The cadres are swept `chunk` at a time, so memory does not grow with the county; with
    `keep=False` the result holds counts and the first unreachable ids only (`each` still sees
    every reminder, in cadre order). A sweep that writes and keeps nothing (`keep=False`, no
    `each`: the daily job) is decided and written in SQL (storage.sweep_sql), only counts
    crossing to Python; a preview, or a caller that sees the reminders, finds them in Python.
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
    in_db = not (dry_run or keep or each is not None)
    if chunk is None:
        chunk = CHUNK_CADRES_IN_DB if in_db else CHUNK_CADRES
    size = chunk if plan.reads_all else max(chunk, EVENTS_ONLY_CHUNK)
    while not plan.idle:
        async with db.sessions() as session:
            cadres = await cadre_chunk(session, after=after, size=size)
        if cadres is None:
            break
        reminders, unreachable, counts = await _sweep_chunk(
            db, cadres, at, plan, policy, lang, not_before, dry_run, keep or each is not None
        )
        tally.add(reminders, unreachable, counts, keep)
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
