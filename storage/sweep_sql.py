"""The reminder sweep decided and written in the database: only counts come back.

For one chunk of cadres, one statement finds every duty due today over the kept contact
state (storage.contact_state) — the period and occasion checks with their windows and due
days worked out once in Python and passed as parameters, the stage days' events, the
birthdays — joins the names the message shows, and groups them by cadre (keys sorted, their
digest, the items as JSON, the earliest due day). From that the same transaction writes one
outbox row per cadre and reachable account with INSERT … SELECT, under the sweep's lock: the
rows (`stage_on` the day) are the claims of the duties they list (storage.sweep_marks), so
the duties never cross to Python.

PostgreSQL runs it as one statement (data-modifying CTEs, json_agg); SQLite groups into a
temporary table and inserts from it (json_group_array; the claim digest is a function the
connection registers, storage.db). The rows are those `reminders.sweep`'s Python path writes,
and the text rendered from them the same (tests/test_sweep_one_pass.py compares).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import DIGEST_FUNCTION
from storage.dialect import hold_write_lock, is_postgres
from storage.duties import CadreRange
from storage.models import OutboxMessage
from storage.models.household import HOUSEHOLD_EXITED
from storage.scope_sql import SENTINEL
from storage.sweep_marks import CLAIM_KEY, LOCK, MARKS_BY_CADRE, MARKS_TABLE
from storage.sweep_rows import BIRTH_DATE, MAX_LISTED, OnDay, Window

_LAST = {
    ("call", "visit"): "last_contact_on",
    ("visit",): "last_visit_on",
    ("call",): "last_call_on",
}


@dataclass(frozen=True, slots=True)
class Check:
    """A duty owed by every live pairing with no contact of the window's kinds in it (and,
    with `on`, whose household's day it is): key = prefix + pairing id + suffix."""

    kind: str
    prefix: str
    suffix: str
    window: Window
    due_on: date
    label: str = ""
    on: OnDay | None = None


@dataclass(slots=True)
class ChunkCounts:
    cadres: int = 0  # cadres claiming duties (with an account)
    duties: int = 0  # their duties claimed now
    messages: int = 0  # outbox rows meant (one per cadre and account)
    enqueued: int = 0  # of them inserted
    unreachable: tuple[int, ...] = ()  # cadres owing something, with no usable account


class _Sql:
    """Parameters and the dialect's spelling of a statement being built."""

    def __init__(self, postgres: bool) -> None:
        self.pg = postgres
        self.params: dict[str, Any] = {}

    def text(self, value: str) -> str:
        name = f"t{len(self.params)}"
        self.params[name] = value
        return f"CAST(:{name} AS TEXT)"

    def day(self, value: date) -> str:
        name = f"d{len(self.params)}"
        self.params[name] = value if self.pg else value.isoformat()
        return f"CAST(:{name} AS DATE)" if self.pg else f":{name}"

    def days(self, values: Sequence[date]) -> str:
        return ", ".join(self.day(v) for v in values)

    def iso(self, column: str) -> str:
        """A date column as its ISO text (SQLite stores that text)."""
        return f"to_char({column}, 'YYYY-MM-DD')" if self.pg else column

    def month_day(self, column: str, on: date) -> str:
        wanted = [f"{on:%m-%d}"]
        if on.month == 2 and on.day == 28 and not _leap(on.year):
            wanted.append("02-29")  # 29 February counts on the 28th in a common year
        md = f"to_char({column}, 'MM-DD')" if self.pg else f"substr({column}, 6, 5)"
        return f"{md} IN ({', '.join(self.text(w) for w in wanted)})"


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _open(q: _Sql, w: Window, rough: bool, state: str = "l") -> str:
    """No contact of the window's kinds in it, from the kept date; `rough` leaves a kept
    date after the window open (the live rows), else it is settled from the contacts."""
    last = f"{state}.{_LAST[tuple(sorted(set(w.kinds)))]}"
    since, until = q.day(w.since), q.day(w.until)
    if rough:
        return f"({last} IS NULL OR {last} < {since} OR {last} > {until})"
    kinds = ", ".join(q.text(k) for k in sorted(set(w.kinds)))
    settled = (
        f"NOT EXISTS (SELECT 1 FROM contacts k WHERE k.cadre_id = l.cadre_id"
        f" AND k.household_id = l.household_id AND k.kind IN ({kinds})"
        f" AND k.deleted_at IS NULL AND k.occurred_on >= {since} AND k.occurred_on <= {until})"
    )
    return f"({last} IS NULL OR {last} < {since} OR ({last} > {until} AND {settled}))"


def _on_day(q: _Sql, on: OnDay, household: str = "l.household_id") -> str:
    column = "hh.birth_date" if on.column == BIRTH_DATE else "hh.party_date"
    cond = f"{column} IS NOT NULL AND {q.month_day(column, on.on)}"
    if on.members_only:
        cond += " AND hh.party_member"
    return f"EXISTS (SELECT 1 FROM households hh WHERE hh.id = {household} AND {cond})"


@dataclass(frozen=True, slots=True)
class Earlier:
    """Whether this day's sweep claimed anything in the chunk before (a rerun): in outbox
    rows, or (before migration 0018) in marks. Only then are the duties matched to them."""

    outbox: bool = False
    marks: bool = False


def _paired_with(column: str, households: Collection[int]) -> str:
    """`column` (a cadre id) is among the cadres paired with these households."""
    ids = ", ".join(str(int(h)) for h in sorted(set(households))) or "NULL"
    return f"{column} IN (SELECT p2.cadre_id FROM pairings p2 WHERE p2.household_id IN ({ids}))"


def _claimed_sql(
    q: _Sql, cadres: CadreRange, day: str, cadres_of: Collection[int] | None = None
) -> str:
    """The chunk's claimed (cadre id, duty key) pairs of the day: the keys its reminder rows
    in the outbox list."""
    lo, hi = cadres
    where = f"o.cadre_id > {lo} AND o.cadre_id <= {hi} AND o.stage_on = {day}"
    if cadres_of is not None:
        where += f" AND {_paired_with('o.cadre_id', cadres_of)}"
    if q.pg:
        return (
            f"SELECT o.cadre_id, d.value ->> {CLAIM_KEY} AS key FROM outbox o,"
            " json_array_elements(o.payload -> 'reminder' -> 'duties') d"
            f" WHERE {where}"
        )
    return (
        f"SELECT o.cadre_id, json_extract(d.value, '$[{CLAIM_KEY}]') AS key"
        f" FROM outbox o, json_each(o.payload, '$.reminder.duties') d WHERE {where}"
        f" AND json_extract(d.value, '$[{CLAIM_KEY}]') IS NOT NULL"
    )


NEVER_CONTACTED = date.fromisoformat(SENTINEL)  # cadre_months' month of pairs never contacted

_LIVE_COLUMNS = (
    "SELECT p.id AS pid, p.cadre_id AS cadre_id, p.household_id AS household_id,"
    " s.last_call_on AS last_call_on, s.last_visit_on AS last_visit_on,"
    " s.last_contact_on AS last_contact_on"
)


def _of_event_households(
    q: _Sql, event_days: Sequence[date], event_households: Collection[int]
) -> Callable[[str], str]:
    """`column IN (…)` for the households with events on these days: listed when they are
    few, else a subquery of the events."""
    if len(event_households) > MAX_LISTED:
        among = (
            "(SELECT ev.household_id FROM events ev"
            f" WHERE ev.deleted_at IS NULL AND ev.occurred_on IN ({q.days(event_days)}))"
        )
    else:
        among = "(" + ", ".join(str(int(h)) for h in sorted(set(event_households))) + ")"
    return lambda column: f"{column} IN {among}"


def _live_sql(
    q: _Sql,
    today: date,
    cadres: CadreRange,
    checks: Sequence[Check],
    event_days: Sequence[date],
    event_households: Collection[int],
    cadres_of: Collection[int] | None,
) -> str | None:
    """The chunk's live pairings that may owe something today, with their kept dates
    (`live`): those whose kept state leaves a check's window open, and those of the
    households with events. None: nothing can be due.

    A pass over a range of cadres (`cadres_of` None) finds them from the kept state: the
    kept rows (`contact_state`, by cadre, index only) whose dates leave a window open, each
    joined to its pairing by key; the pairings with no kept row (no contact ever) only for
    the cadres `cadre_months` counts such pairs for (month 1900-01-01, kept in the same
    transactions and checked by `bangfu doctor`); and the event households' pairings those
    did not give, picked from the chunk's pairings in their cadre-led index. The three parts
    are disjoint. A pairing whose kept state says it is done is not joined to anything."""
    lo, hi = cadres
    t = q.day(today)
    cadre_live = f"c.active AND (c.leave_until IS NULL OR c.leave_until < {t})"
    pairing_live = f"p.active AND p.start_date <= {t} AND (p.end_date IS NULL OR p.end_date >= {t})"
    events = bool(event_days and event_households)
    if events:
        event_pairings = _of_event_households(q, event_days, event_households)
    maybe = []
    for c in checks:
        cond = _open(q, c.window, rough=True, state="s")
        if c.on is not None:
            cond = f"({cond} AND {_on_day(q, c.on, 'p.household_id')})"
        maybe.append(cond)
    if events:
        maybe.append(event_pairings("p.household_id"))
    if not maybe:
        return None
    if cadres_of is not None:  # a pass of events: only the cadres paired with these households
        # SQLite reads the kept state by cadre, where a chunk's rows lie together (the index
        # ix_contact_state_cadre_dates holds the dates: no row is looked up), not through
        # its (household, cadre) index (storage.sweep_rows).
        state_household = "s.household_id" if q.pg else "s.household_id + 0"
        return (
            f"{_LIVE_COLUMNS} FROM cadres c JOIN pairings p ON p.cadre_id = c.id"
            " LEFT JOIN contact_state s ON s.cadre_id = p.cadre_id"
            f" AND {state_household} = p.household_id"
            f" AND s.cadre_id > {lo} AND s.cadre_id <= {hi}"
            f" WHERE c.id > {lo} AND c.id <= {hi} AND p.cadre_id > {lo} AND p.cadre_id <= {hi}"
            f" AND {cadre_live} AND {pairing_live} AND ({' OR '.join(maybe)})"
            f" AND {_paired_with('c.id', cadres_of)}"
        )
    parts = []
    state_open = " OR ".join(maybe[: len(checks)])
    # The chunk's pairings with their kept row, if any (the parts the kept rows do not give).
    chunk_pairings = (
        f"{_LIVE_COLUMNS} FROM cadres c JOIN pairings p ON p.cadre_id = c.id"
        " LEFT JOIN contact_state s"
        " ON s.cadre_id = p.cadre_id AND s.household_id = p.household_id"
        f" WHERE c.id > {lo} AND c.id <= {hi} AND p.cadre_id > {lo} AND p.cadre_id <= {hi}"
    )
    never = (  # the cadre has live pairs with no kept row (cadre_months' month 1900-01-01)
        f"EXISTS (SELECT 1 FROM cadre_months m WHERE m.cadre_id = c.id"
        f" AND m.month = {q.day(NEVER_CONTACTED)})"
    )
    if checks:
        parts.append(  # kept rows leaving a window open, then their pairings by key
            f"{_LIVE_COLUMNS} FROM contact_state s"
            " JOIN pairings p ON p.cadre_id = s.cadre_id AND p.household_id = s.household_id"
            f" JOIN cadres c ON c.id = s.cadre_id"
            f" WHERE s.cadre_id > {lo} AND s.cadre_id <= {hi} AND ({state_open})"
            f" AND c.id > {lo} AND c.id <= {hi} AND {cadre_live} AND {pairing_live}"
        )
        parts.append(  # pairings with no kept row, of the cadres counted with such pairs
            f"{chunk_pairings} AND {never} AND s.cadre_id IS NULL AND {cadre_live}"
            f" AND {pairing_live} AND ({state_open})"
        )
    if events:
        # The event households' pairings the parts above did not read (the parts are
        # disjoint: no row is deduplicated), from the chunk's pairings by cadre: a few
        # hundred households looked up one by one in every batch cost more.
        listed = event_pairings("p.household_id + 0")  # not by the household's index
        read = f"coalesce(({state_open}), FALSE) AND (s.cadre_id IS NOT NULL OR {never})"
        parts.append(
            f"{chunk_pairings} AND {listed} AND {cadre_live} AND {pairing_live}"
            + (f" AND NOT ({read})" if checks else "")
        )
    return " UNION ALL ".join(parts)


def _due_sql(
    q: _Sql,
    today: date,
    cadres: CadreRange,
    checks: Sequence[Check],
    event_days: Sequence[date],
    event_households: Collection[int],
    claimed: Earlier,
    cadres_of: Collection[int] | None = None,
) -> str | None:
    """`WITH live …, found …, due …`: one row per duty due today and not yet claimed: cadre
    id, key, due day, the item as JSON (due day ISO, head, key, household, village, kind,
    label)."""
    live = _live_sql(q, today, cadres, checks, event_days, event_households, cadres_of)
    if live is None:
        return None
    events = bool(event_days and event_households)
    t = q.day(today)
    parts = []
    for c in checks:
        cond = _open(q, c.window, rough=False)
        if c.on is not None:
            cond += " AND " + _on_day(q, c.on)
        parts.append(
            f"SELECT l.cadre_id, l.household_id, {q.text(c.prefix)} || l.pid || {q.text(c.suffix)},"
            f" {q.day(c.due_on)}, {q.text(c.due_on.isoformat())}, {q.text(c.kind)},"
            f" {q.text(c.label)} FROM live l WHERE {cond}"
        )
    if events:
        parts.append(
            "SELECT l.cadre_id, l.household_id,"
            f" {q.text('event:')} || e.id || {q.text(':')} || l.pid || {q.text(f':{today}')},"
            f" e.visit_due_on, {q.iso('e.visit_due_on')}, {q.text('event')}, e.kind"
            " FROM live l JOIN events e ON e.household_id = l.household_id"
            f" WHERE e.deleted_at IS NULL AND e.occurred_on IN ({q.days(event_days)})"
            " AND (l.last_visit_on IS NULL OR l.last_visit_on < e.occurred_on)"
        )
    json_array = "json_build_array" if q.pg else "json_array"
    exited = q.text(HOUSEHOLD_EXITED)
    due = (
        f"SELECT f.cadre_id AS cadre_id, f.key AS key, f.due AS due, {json_array}("
        "f.due_iso, h.head_name, f.key, f.household_id, u.name, f.kind, f.label) AS item"
        " FROM found f JOIN households h ON h.id = f.household_id"
        f" JOIN units u ON u.id = h.village_id WHERE h.status <> {exited}"
    )
    if claimed.outbox:  # a rerun of the day: leave out the keys its earlier rows list
        pair = "(f.cadre_id, f.key)"
        due += (
            f" AND NOT EXISTS (SELECT 1 FROM claimed c WHERE {pair} = (c.cadre_id, c.key))"
            if q.pg
            # SQLite scans a row-value list for each duty: only the duties of cadres
            # with claims are looked for in it.
            else " AND (f.cadre_id NOT IN (SELECT cadre_id FROM claimed)"
            f" OR {pair} NOT IN (SELECT cadre_id, key FROM claimed))"
        )
    if claimed.marks:  # and those the marks written before migration 0018 hold
        nl = "E'\\n'" if q.pg else "char(10)"
        pos = "strpos" if q.pg else "instr"
        due += (
            f" AND NOT EXISTS (SELECT 1 FROM {MARKS_TABLE} m WHERE m.cadre_id = f.cadre_id"
            f" AND m.stage_on = {t} AND m.duties IS NOT NULL"
            f" AND {pos}({nl} || m.duties || {nl}, {nl} || f.key || {nl}) > 0)"
        )
    ctes = f"WITH live AS MATERIALIZED ({live}),"
    if claimed.outbox:
        ctes += f" claimed AS MATERIALIZED ({_claimed_sql(q, cadres, t, cadres_of)}),"
    return (
        f"{ctes}"
        " found (cadre_id, household_id, key, due, due_iso, kind, label)"
        f" AS ({' UNION ALL '.join(parts)}),"
        f" due AS ({due})"
    )


def _lang(q: _Sql, langs: tuple[str, str]) -> str:
    """`core.i18n.normalize_lang(account language or default)` in SQL; `langs`: the
    default, normalized, and the catalogue's own."""
    return (
        f"CASE WHEN a.language IS NULL OR a.language = '' THEN {q.text(langs[0])}"
        f" WHEN substr(lower(a.language), 1, 2) = 'en' THEN 'en' ELSE {q.text(langs[1])} END"
    )


_OUTBOX_COLUMNS = (
    "dedupe_key, channel, chat_id, kind, payload, cadre_id, due_on, stage_on, status,"
    " attempts, next_attempt_at, created_at, claimed_by, last_error"
)


def _payload(q: _Sql, today: date, lang: tuple[str, str]) -> str:
    """`core.reminder_text.reminder_data` of a claim `g`, to account `a` of cadre `c`."""
    day = q.text(today.isoformat())
    if q.pg:
        obj = "json_build_object"
        return (
            f"{obj}('reminder', {obj}('name', c.name, 'day', {day}, 'lang', {_lang(q, lang)},"
            " 'duties', g.items))"
        )
    # SQLite: the items are JSON text already; spelled out, nothing is parsed again.
    return (
        """'{"reminder": {"name": ' || json_quote(c.name) || ', "day": "' || """
        f"""{day} || '", "lang": "' || {_lang(q, lang)} || '", "duties": [' || g.items"""
        """ || ']}}'"""
    )


def _outbox_select(q: _Sql, today: date, kind: str, lang: tuple[str, str], claims: str) -> str:
    """The outbox rows of the claims (`claims`: cadre_id, digest, items, due) to accounts."""
    day = q.text(today.isoformat())
    key = (
        f"{q.text('remind:')} || g.cadre_id || ':' || {day} || ':' || a.channel || ':' || a.id"
        " || ':' || g.digest"
    )
    # SQLite, knowing nothing of the claims' size, would scan every account and look each
    # cadre up in the claims: CROSS JOIN keeps the claims outermost.
    join = "JOIN" if q.pg else "CROSS JOIN"
    return (
        f"SELECT {key}, a.channel, a.chat_id, {q.text(kind)}, {_payload(q, today, lang)},"
        f" g.cadre_id, g.due, {q.day(today)}, 'pending', 0, :next_at, :now, '', ''"
        f" FROM {claims} g {join} chat_accounts a ON a.cadre_id = g.cadre_id"
        f" {join} cadres c ON c.id = g.cadre_id WHERE a.blocked_at IS NULL"
    )


def _stamps(now: datetime, next_at: datetime) -> list[Any]:
    stamp = OutboxMessage.__table__.c.created_at.type
    return [bindparam("now", now, type_=stamp), bindparam("next_at", next_at, type_=stamp)]


# The cadre's accounts that have not blocked the bot: its messages (none: unreachable).
_ACCOUNTS = "(SELECT count(*) FROM chat_accounts a WHERE a.cadre_id = {0} AND a.blocked_at IS NULL)"
_CLAIMS = "sweep_claims"  # SQLite: a chunk's claims, a temporary table of the connection


async def sweep_chunk_in_db(
    session: AsyncSession,
    *,
    today: date,
    cadres: CadreRange,
    checks: Sequence[Check],
    event_days: Sequence[date],
    event_households: Collection[int],
    now: datetime,
    not_before: datetime | None,
    lang: tuple[str, str],
    kind: str,
    upto: date | None = None,
    cadres_of: Collection[int] | None = None,
) -> ChunkCounts:
    """Claim and enqueue one chunk's reminders of `today` in the session's transaction;
    `lang`: the language of accounts without one, normalized, and the catalogue's default
    (`core.i18n.normalize_lang` of anything not English). With `upto` (a pass of a round,
    storage/sweep_rounds.py) only the cadres whose earliest unclaimed duty is due by then;
    with `cadres_of` only the cadres paired with those households."""
    q = _Sql(is_postgres(session))
    await hold_write_lock(session, LOCK, MARKS_TABLE)
    days = sorted({d for d in event_days if d <= today})
    earlier = await _earlier(session, q, cadres, today)
    with_ = _due_sql(q, today, cadres, checks, days, event_households, earlier, cadres_of)
    if with_ is None:
        return ChunkCounts()
    stamps = _stamps(now, not_before or now)
    having = "" if upto is None else f" HAVING min(due) <= {q.day(upto)}"
    if q.pg:
        return await _pg_chunk(session, q, with_, today, lang, kind, stamps, having)
    return await _sqlite_chunk(session, q, with_, today, lang, kind, stamps, having)


async def _earlier(session: AsyncSession, q: _Sql, cadres: CadreRange, today: date) -> Earlier:
    """Whether this day's sweep claimed anything in the chunk before, in the outbox or in
    marks. SQLite is told the marks' index (by the day's alone it would read every mark of
    the day)."""
    indexed = "" if q.pg else f" INDEXED BY {MARKS_BY_CADRE}"
    where = "cadre_id > :lo AND cadre_id <= :hi AND stage_on = :day"
    found = await session.execute(
        text(
            f"SELECT EXISTS (SELECT 1 FROM outbox WHERE {where}),"
            f" EXISTS (SELECT 1 FROM {MARKS_TABLE}{indexed} WHERE {where}"
            " AND duties IS NOT NULL)"
        ),
        {"lo": cadres[0], "hi": cadres[1], "day": today if q.pg else today.isoformat()},
    )
    outbox, marks = found.one()
    return Earlier(bool(outbox), bool(marks))


async def _pg_chunk(
    session: AsyncSession,
    q: _Sql,
    with_: str,
    today: date,
    lang: tuple[str, str],
    kind: str,
    stamps: list[Any],
    having: str,
) -> ChunkCounts:
    # A chunk's statement is large but runs once: compiling it (JIT) costs more than it
    # saves; its sort of the chunk's duties fits in memory.
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(text("SET LOCAL work_mem = '64MB'"))
    grouped = (
        "SELECT cadre_id, string_agg(key, E'\\n' ORDER BY key COLLATE \"C\") AS keys,"
        " json_agg(item) AS items, min(due) AS due, count(*) AS n,"
        f" {_ACCOUNTS.format('due.cadre_id')} AS accounts FROM due GROUP BY cadre_id{having}"
    )
    sql = (
        f"{with_}, grouped AS MATERIALIZED ({grouped}),"
        " claims AS MATERIALIZED (SELECT cadre_id, keys, items, due, n, accounts,"
        " left(encode(sha256(convert_to(keys, 'UTF8')), 'hex'), 12) AS digest FROM grouped"
        " WHERE accounts > 0),"
        f" sent AS (INSERT INTO outbox ({_OUTBOX_COLUMNS})"
        f" {_outbox_select(q, today, kind, lang, 'claims')}"
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1)"
        " SELECT (SELECT count(*) FROM claims), (SELECT coalesce(sum(n), 0) FROM claims),"
        " (SELECT coalesce(sum(accounts), 0) FROM claims), (SELECT count(*) FROM sent),"
        " (SELECT array_agg(cadre_id ORDER BY cadre_id) FROM grouped WHERE accounts = 0)"
    )
    stmt = text(sql).bindparams(*stamps)
    row = (await session.execute(stmt, q.params)).one()
    return ChunkCounts(int(row[0]), int(row[1]), int(row[2]), int(row[3]), tuple(row[4] or ()))


async def _sqlite_chunk(
    session: AsyncSession,
    q: _Sql,
    with_: str,
    today: date,
    lang: tuple[str, str],
    kind: str,
    stamps: list[Any],
    having: str,
) -> ChunkCounts:
    conn = await session.connection()
    await conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {_CLAIMS} (cadre_id INTEGER PRIMARY KEY, keys TEXT,"
        " items TEXT, due TEXT, n INTEGER, accounts INTEGER, digest TEXT)"
    )
    await conn.exec_driver_sql(f"DELETE FROM temp.{_CLAIMS}")
    # Grouped in any order: the digest sorts the keys, the items are rendered sorted, and
    # a claim's keys are read as a set. The items are joined as text (each is JSON).
    group = (
        f"INSERT INTO temp.{_CLAIMS} (cadre_id, keys, items, due, n, accounts, digest)"
        f" {with_} SELECT cadre_id, group_concat(key, char(10)), group_concat(item, ','),"
        f" min(due), count(*), {_ACCOUNTS.format('d.cadre_id')}, NULL"
        f" FROM due d GROUP BY cadre_id{having}"
    )
    await session.execute(text(group), q.params)
    await conn.exec_driver_sql(
        f"UPDATE temp.{_CLAIMS} SET digest = {DIGEST_FUNCTION}(keys) WHERE accounts > 0"
    )
    claims = f"(SELECT * FROM temp.{_CLAIMS} WHERE accounts > 0)"
    rows = _outbox_select(q, today, kind, lang, claims)
    sent = await session.execute(
        text(
            f"INSERT INTO outbox ({_OUTBOX_COLUMNS}) {rows} ON CONFLICT (dedupe_key) DO NOTHING"
        ).bindparams(*stamps),
        q.params,
    )
    counts: Any = (
        await conn.exec_driver_sql(
            f"SELECT count(*), coalesce(sum(n), 0), coalesce(sum(accounts), 0)"
            f" FROM temp.{_CLAIMS} WHERE accounts > 0"
        )
    ).one()
    unreachable = (
        await conn.exec_driver_sql(
            f"SELECT cadre_id FROM temp.{_CLAIMS} WHERE accounts = 0 ORDER BY cadre_id"
        )
    ).scalars()
    return ChunkCounts(
        int(counts[0]),
        int(counts[1]),
        int(counts[2]),
        int(sent.rowcount),  # type: ignore[attr-defined]
        tuple(unreachable),
    )
