"""The ledgers (台账) as streams of rows: what `bangfu export` and the console write out.

Rows come from server-side cursors in batches, so a county's year of contacts never sits
in memory. A unit path is split into its first three levels (县/乡镇/村).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Text, and_, case, cast, exists, func, or_, select

from storage import tables
from storage.core_db import Executor
from storage.diary_filter import DiaryFilter, diary_filtered
from storage.tables.contact import DUTY_KINDS
from storage.unit_paths import units_under

BATCH = 2000
PLACE = ["县", "乡镇", "村"]
LEDGERS = ("contacts", "diaries", "events", "problems", "cadres", "households")


def split_path(path: str | None) -> list[str]:
    parts = (path or "").split("/")
    return [*parts, "", "", ""][:3]


def _local(at: datetime | None, tz: tzinfo) -> datetime | None:
    """A naive local time, as spreadsheets expect."""
    return at.astimezone(tz).replace(tzinfo=None) if at else None


@dataclass(frozen=True)
class Range:
    path: str
    since: date | None
    until: date | None
    tz: tzinfo
    # The diary reader's other filters, so its export holds what the reader showed.
    cadre_id: int | None = None
    topic: str = ""
    keyword: str = ""


def _dated(stmt: Any, col: Any, r: Range) -> Any:
    if r.since is not None:
        stmt = stmt.where(col >= r.since)
    if r.until is not None:
        stmt = stmt.where(col <= r.until)
    return stmt


async def _stream(session: Executor, stmt: Any) -> AsyncIterator[Any]:
    result = await session.stream(stmt.execution_options(yield_per=BATCH))
    async for part in result.partitions():
        for row in part:
            yield row


CONTACT_HEADERS = [
    *PLACE,
    "户编号",
    "户主",
    "干部",
    "方式",
    "日期",
    "六帮",
    "情况",
    "发现问题",
    "照片数",
    "纬度",
    "经度",
    "报送时间",
    "录入人",  # empty for the cadre's own reports; who entered a back-entry
]


async def contacts(session: Executor, r: Range) -> AsyncIterator[list[Any]]:
    """A county's year is 2M rows, so this reads with the database driver itself: plain
    contact columns from a cursor in large batches (no joins, no ORM or SQLAlchemy rows);
    the village path, household and cadre come from small maps loaded first."""
    homes = await _home_map(session, r.path)
    if not homes:
        return
    cadre = tables.cadres.c
    names: dict[int, str] = {i: n for i, n in await session.execute(select(cadre.id, cadre.name))}
    c = tables.contacts.c
    stmt = select(
        c.household_id,
        c.cadre_id,
        c.kind,
        c.occurred_on,
        # The tags as their JSON text on both databases (asyncpg would decode each row's
        # into a new list): the few distinct texts are joined once each, cached below.
        cast(c.help_tags, Text),
        c.summary,
        c.problems_raised,
        func.coalesce(func.json_array_length(c.photo_refs), 0),  # counted by the database
        c.latitude,
        c.longitude,
        c.reported_at,
        c.entered_by,
    ).where(c.deleted_at.is_(None))
    if len(homes) < (
        await session.scalar(select(func.count()).select_from(tables.households)) or 0
    ):
        # Part of the database: filter in SQL too (the whole of it needs no filter).
        h = tables.households.c
        stmt = stmt.where(
            c.household_id.in_(select(h.id).where(h.village_id.in_(units_under(r.path))))
        )
    stmt = _dated(stmt, c.occurred_on, r).order_by(c.occurred_on, c.id)
    days: dict[Any, date] = {}
    tags_text: dict[Any, str] = {}
    kinds = KIND_ZH
    local = _Localiser(r.tz)
    async for batch in raw_batches(session, stmt):
        for hid, cid, kind, day, tags, summary, raised, photos, lat, lon, at, by in batch:
            home = homes.get(hid)
            if home is None:
                continue
            d = days.get(day)
            if d is None:
                d = days[day] = day if isinstance(day, date) else date.fromisoformat(day)
            t = tags_text.get(tags)
            if t is None:
                t = tags_text[tags] = _joined(tags)
            yield [
                *home,
                names.get(cid, ""),
                kinds.get(kind, kind),
                d,
                t,
                summary,
                raised,
                photos,
                lat,
                lon,
                local(at),
                by,
            ]


async def _home_map(session: Executor, path: str) -> dict[int, list[Any]]:
    """Household id → [县, 乡镇, 村, 户编号, 户主] for the households under `path`."""
    village, h = tables.units.alias("village"), tables.households.c
    stmt = (
        select(h.id, village.c.path, h.code, h.head_name)
        .join(village, village.c.id == h.village_id)
        .where(h.village_id.in_(units_under(path)))
    )
    places: dict[str, list[str]] = {}
    out: dict[int, list[Any]] = {}
    async for batch in raw_batches(session, stmt):
        for hid, vpath, code, head in batch:
            place = places.get(vpath)
            if place is None:
                place = places[vpath] = split_path(vpath)
            out[hid] = [*place, code or "", head]
    return out


def _decoded(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        return json.loads(value) if value else []
    return value


def _joined(tags: Any) -> str:
    return "、".join(str(t) for t in _decoded(tags) or [])


class _Localiser:
    """A stored timestamp as the driver gives it (SQLite: naive UTC text; PostgreSQL: aware)
    → naive local time. The zone's offset is looked up once per hour of UTC time."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.offsets: dict[Any, timedelta] = {}

    def __call__(self, at: Any) -> datetime | None:
        if at is None:
            return None
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        if at.tzinfo is not None:
            at = at.astimezone(UTC).replace(tzinfo=None)
        hour = at.toordinal() * 24 + at.hour
        off = self.offsets.get(hour)
        if off is None:
            aware = at.replace(tzinfo=UTC).astimezone(self.tz)
            off = self.offsets[hour] = aware.replace(tzinfo=None) - at
        return at + off


RAW_BATCH = 10_000


async def raw_batches(session: Executor, stmt: Any) -> AsyncIterator[list[Any]]:
    """Rows of `stmt` as the driver returns them (tuples or records), in large batches:
    asyncpg through a server-side cursor, SQLite through the aiosqlite cursor's fetchmany.
    Values are not converted: dates may be text on SQLite and JSON is text."""
    conn = await session.connection()
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect)
    params = compiled.construct_params()
    names = compiled.positiontup or []
    args = [params[k] for k in names]
    raw: Any = (await conn.get_raw_connection()).driver_connection
    if dialect.name == "sqlite":
        args = [a.isoformat() if isinstance(a, date) else a for a in args]
        cursor = await raw.execute(str(compiled), args)
        try:
            # The next batch is read in aiosqlite's thread while this one is written.
            ahead = asyncio.ensure_future(cursor.fetchmany(RAW_BATCH))
            while batch := await ahead:
                ahead = asyncio.ensure_future(cursor.fetchmany(RAW_BATCH))
                yield batch
        finally:
            if not ahead.done():
                await asyncio.wait([ahead])
            await cursor.close()
    elif dialect.name == "postgresql":
        sql = str(compiled)
        if raw.is_in_transaction():
            cur = await raw.cursor(sql, *args)
            while batch := await cur.fetch(RAW_BATCH):
                yield batch
        else:
            async with raw.transaction():
                cur = await raw.cursor(sql, *args)
                while batch := await cur.fetch(RAW_BATCH):
                    yield batch
    else:  # any other driver: SQLAlchemy's own streaming
        result = await session.stream(stmt.execution_options(yield_per=RAW_BATCH))
        async for part in result.partitions():
            yield list(part)


KIND_ZH = {"visit": "入户走访", "call": "电话联系", "other": "其他"}
TOPIC_ZH = {
    "decisions": "县委决策部署",
    "policy": "政策落实",
    "conduct": "干部作风",
    "livelihood": "民生大事",
}
EVENT_ZH = {
    "hardship": "遇到困难",
    "birth": "添丁",
    "illness": "大病/住院",
    "death": "老人去世",
    "dispute": "出现纠纷",
}

DIARY_HEADERS = [
    *PLACE,
    "干部",
    "日期",
    "户主",
    "所访所做",
    "所见所闻",
    "所思所想",
    "民意类别",
    "民意",
    "记录时间",
]


async def diaries(session: Executor, r: Range) -> AsyncIterator[list[Any]]:
    under = units_under(r.path)
    cu, hh, hv = tables.units.alias("cu"), tables.households.alias("hh"), tables.units.alias("hv")
    de, cadre = tables.diary_entries, tables.cadres.c
    stmt = (
        select(
            de,
            cadre.name.label("x_cadre"),
            cu.c.path.label("x_cpath"),
            hv.c.path.label("x_vpath"),
            hh.c.head_name.label("x_head"),
        )
        .join(tables.cadres, cadre.id == de.c.cadre_id)
        .join(cu, cu.c.id == cadre.unit_id)
        .outerjoin(hh, hh.c.id == de.c.household_id)
        .outerjoin(hv, hv.c.id == hh.c.village_id)
        .where(
            de.c.deleted_at.is_(None),
            or_(cadre.unit_id.in_(under), hh.c.village_id.in_(under)),
        )
        .order_by(de.c.written_on, de.c.id)
    )
    f = DiaryFilter(r.path, r.cadre_id, r.since, r.until, r.topic, r.keyword)
    async for d in _stream(session, diary_filtered(stmt, f)):
        yield [
            *split_path(d.x_vpath or d.x_cpath),
            d.x_cadre,
            d.written_on,
            d.x_head or "",
            d.done,
            d.seen,
            d.thoughts,
            "、".join(TOPIC_ZH.get(x, x) for x in d.opinion_topics or []),
            d.opinion,
            _local(d.created_at, r.tz),
        ]


EVENT_HEADERS = [
    *PLACE,
    "户编号",
    "户主",
    "干部",
    "事件",
    "发生日期",
    "应访日期",
    "已走访",
    "说明",
    "报送时间",
]


async def events(session: Executor, r: Range) -> AsyncIterator[list[Any]]:
    village = tables.units.alias("village")
    c, ev, h, cadre = tables.contacts.c, tables.events, tables.households.c, tables.cadres.c
    visited = (
        select(func.min(c.occurred_on))
        .where(
            c.household_id == ev.c.household_id,
            c.kind == "visit",
            c.deleted_at.is_(None),
            c.occurred_on >= ev.c.occurred_on,
        )
        .scalar_subquery()
    )
    stmt = (
        select(
            ev,
            village.c.path.label("x_vpath"),
            h.code.label("x_code"),
            h.head_name.label("x_head"),
            cadre.name.label("x_cadre"),
            visited.label("x_first_visit"),
        )
        .join(tables.households, h.id == ev.c.household_id)
        .join(village, village.c.id == h.village_id)
        .join(tables.cadres, cadre.id == ev.c.cadre_id)
        .where(ev.c.deleted_at.is_(None), h.village_id.in_(units_under(r.path)))
        .order_by(ev.c.occurred_on, ev.c.id)
    )
    async for e in _stream(session, _dated(stmt, ev.c.occurred_on, r)):
        yield [
            *split_path(e.x_vpath),
            e.x_code or "",
            e.x_head,
            e.x_cadre,
            EVENT_ZH.get(e.kind, e.kind),
            e.occurred_on,
            e.visit_due_on,
            e.x_first_visit,
            e.note,
            _local(e.reported_at, r.tz),
        ]


PROBLEM_HEADERS = [
    *PLACE,
    "户编号",
    "户主",
    "干部",
    "问题",
    "提出日期",
    "状态",
    "解决情况",
    "解决时间",
    "诉求类别",
    "承办单位",
    "办理期限",
    "办理环节",
    "回访满意度",
]
STAGE_ZH = {"accepted": "受理", "handling": "办理中", "done": "已办结", "followed": "已回访"}


async def problems(session: Executor, r: Range) -> AsyncIterator[list[Any]]:
    village, handler = tables.units.alias("village"), tables.units.alias("handler")
    pr, h, cadre = tables.problems, tables.households.c, tables.cadres.c
    stmt = (
        select(
            pr,
            village.c.path.label("x_vpath"),
            h.code.label("x_code"),
            h.head_name.label("x_head"),
            cadre.name.label("x_cadre"),
            func.coalesce(handler.c.name, "").label("x_unit"),
        )
        .join(tables.households, h.id == pr.c.household_id)
        .join(village, village.c.id == h.village_id)
        .join(tables.cadres, cadre.id == pr.c.cadre_id)
        .outerjoin(handler, handler.c.id == pr.c.handler_unit_id)
        .where(pr.c.deleted_at.is_(None), h.village_id.in_(units_under(r.path)))
        .order_by(pr.c.raised_on, pr.c.id)
    )
    dated = _dated(stmt, pr.c.raised_on, r)
    async for p in _stream(session, dated):
        yield [
            *split_path(p.x_vpath),
            p.x_code or "",
            p.x_head,
            p.x_cadre,
            p.description,
            p.raised_on,
            "已解决" if p.status == "resolved" else "未解决",
            p.resolution,
            _local(p.resolved_at, r.tz),
            p.category,
            p.x_unit,
            p.due_on,
            STAGE_ZH.get(p.stage, p.stage),
            p.satisfaction,
        ]


HOUSEHOLD_HEADERS = [
    *PLACE,
    "户编号",
    "户主",
    "类别",
    "人口",
    "致贫原因",
    "户电话",
    "状态",
    "户状态",
    "状态日期",
    "帮扶干部",
    "干部电话",
    "联系次数",
    "最近联系",
    "帮扶措施（六帮）",
]


async def households(session: Executor, r: Range) -> AsyncIterator[list[Any]]:
    """Households with their 连心卡 facts: current cadres, contacts and help measures."""
    village, c, hh = tables.units.alias("village"), tables.contacts.c, tables.households
    contacts_n = _dated(
        select(func.count()).where(
            c.household_id == hh.c.id,
            c.deleted_at.is_(None),
            c.kind.in_(DUTY_KINDS),
        ),
        c.occurred_on,
        r,
    ).scalar_subquery()
    last = (
        select(func.max(c.occurred_on))
        .where(
            c.household_id == hh.c.id,
            c.deleted_at.is_(None),
            c.kind.in_(DUTY_KINDS),
        )
        .scalar_subquery()
    )
    stmt = (
        select(hh, village.c.path.label("x_vpath"), contacts_n.label("x_n"), last.label("x_last"))
        .join(village, village.c.id == hh.c.village_id)
        .where(hh.c.village_id.in_(units_under(r.path)))
        .order_by(village.c.path, hh.c.head_name, hh.c.id)
    )
    async for h in _stream(session, stmt):
        paired = await household_cadres(session, h.id)
        tags = await household_tags(session, h.id)
        yield [
            *split_path(h.x_vpath),
            h.code or "",
            h.head_name,
            h.category,
            h.members,
            h.poverty_cause,
            h.phone,
            h.status,
            h.poverty_status or "",
            h.status_date,
            "、".join(name for name, _ in paired),
            "、".join(phone for _, phone in paired),
            int(h.x_n or 0),
            h.x_last,
            "、".join(tags),
        ]


async def household_cadres(session: Executor, household_id: int) -> list[tuple[str, str]]:
    cadre, pairing = tables.cadres.c, tables.pairings.c
    rows = await session.execute(
        select(cadre.name, cadre.phone)
        .join(tables.pairings, pairing.cadre_id == cadre.id)
        .where(pairing.household_id == household_id, pairing.active.is_(True))
        .order_by(cadre.name)
    )
    return [(a, b) for a, b in rows]


async def household_tags(session: Executor, household_id: int) -> list[str]:
    """The 六帮 measures recorded on the household's contacts, in first-use order."""
    seen: dict[str, None] = {}
    c = tables.contacts.c
    rows = await session.execute(
        select(c.help_tags)
        .where(c.household_id == household_id, c.deleted_at.is_(None))
        .order_by(c.occurred_on)
    )
    for tags in rows.scalars():
        for tag in tags or []:
            seen.setdefault(str(tag), None)
    return list(seen)


CADRE_HEADERS = [
    "干部",
    "职级",
    *PLACE,
    "手机",
    "联系户数",
    "电话联系",
    "入户走访",
    "本月已联系户",
    "本季已走访户",
    "民情日记",
    "事件按时走访",
    "事件总数",
    "问题提出",
    "问题解决",
]


@dataclass(frozen=True)
class Periods:
    """The summary's own periods: the export range, this month and this quarter."""

    month_since: date
    quarter_since: date
    today: date


async def cadres(session: Executor, r: Range, p: Periods) -> AsyncIterator[list[Any]]:
    """The per-cadre summary (考核): one row per cadre of the subtree or paired into it."""
    under = units_under(r.path)
    cu = tables.units.alias("cu")
    cadre, contact, diary = tables.cadres.c, tables.contacts.c, tables.diary_entries.c
    event, household, pairing, problem = (
        tables.events.c,
        tables.households.c,
        tables.pairings.c,
        tables.problems.c,
    )
    paired = exists().where(
        pairing.cadre_id == cadre.id,
        pairing.active.is_(True),
        pairing.household_id.in_(select(household.id).where(household.village_id.in_(under))),
    )
    pairs = (
        select(func.count())
        .where(pairing.cadre_id == cadre.id, pairing.active.is_(True))
        .scalar_subquery()
    )
    c_in = _in_range(contact.occurred_on, r)
    counts = (
        select(
            contact.cadre_id,
            func.sum(case((and_(c_in, contact.kind == "call"), 1), else_=0)).label("calls"),
            func.sum(case((and_(c_in, contact.kind == "visit"), 1), else_=0)).label("visits"),
            func.count(
                func.distinct(
                    case(
                        (
                            and_(
                                contact.kind.in_(DUTY_KINDS),
                                contact.occurred_on >= p.month_since,
                                contact.occurred_on <= p.today,
                            ),
                            contact.household_id,
                        )
                    )
                )
            ).label("month"),
            func.count(
                func.distinct(
                    case(
                        (
                            and_(
                                contact.kind == "visit",
                                contact.occurred_on >= p.quarter_since,
                                contact.occurred_on <= p.today,
                            ),
                            contact.household_id,
                        )
                    )
                )
            ).label("quarter"),
        )
        .where(contact.deleted_at.is_(None))
        .group_by(contact.cadre_id)
        .subquery("cc")
    )
    diaries_n = (
        select(func.count())
        .where(
            diary.cadre_id == cadre.id,
            diary.deleted_at.is_(None),
            _in_range(diary.written_on, r),
        )
        .scalar_subquery()
    )
    on_time = exists().where(
        contact.household_id == event.household_id,
        contact.kind == "visit",
        contact.deleted_at.is_(None),
        contact.occurred_on >= event.occurred_on,
        contact.occurred_on <= event.visit_due_on,
    )
    ev = (
        select(
            event.cadre_id,
            func.count().label("events"),
            func.sum(case((on_time, 1), else_=0)).label("in_time"),
        )
        .where(event.deleted_at.is_(None), _in_range(event.occurred_on, r))
        .group_by(event.cadre_id)
        .subquery("ev")
    )
    resolved_in = problem.status == "resolved"
    if r.since is not None:
        resolved_in = and_(
            resolved_in, problem.resolved_at >= datetime.combine(r.since, datetime.min.time(), r.tz)
        )
    if r.until is not None:
        resolved_in = and_(
            resolved_in,
            problem.resolved_at
            < datetime.combine(
                date.fromordinal(r.until.toordinal() + 1), datetime.min.time(), r.tz
            ),
        )
    pr = (
        select(
            problem.cadre_id,
            func.sum(case((_in_range(problem.raised_on, r), 1), else_=0)).label("raised"),
            func.sum(case((resolved_in, 1), else_=0)).label("resolved"),
        )
        .where(problem.deleted_at.is_(None))
        .group_by(problem.cadre_id)
        .subquery("pr")
    )
    stmt = (
        select(
            cadre.name,
            cadre.rank,
            cu.c.path,
            cadre.phone,
            pairs,
            counts.c.calls,
            counts.c.visits,
            counts.c.month,
            counts.c.quarter,
            diaries_n,
            ev.c.in_time,
            ev.c.events,
            pr.c.raised,
            pr.c.resolved,
        )
        .join(cu, cu.c.id == cadre.unit_id)
        .outerjoin(counts, counts.c.cadre_id == cadre.id)
        .outerjoin(ev, ev.c.cadre_id == cadre.id)
        .outerjoin(pr, pr.c.cadre_id == cadre.id)
        .where(cadre.active.is_(True), or_(cadre.unit_id.in_(under), paired))
        .order_by(cu.c.path, cadre.name, cadre.id)
    )
    async for row in _stream(session, stmt):
        name, rank, path, phone, *nums = row
        yield [name, rank, *split_path(path), phone, *(int(x or 0) for x in nums)]


def _in_range(col: Any, r: Range) -> Any:
    conds = []
    if r.since is not None:
        conds.append(col >= r.since)
    if r.until is not None:
        conds.append(col <= r.until)
    return and_(True, *conds)
