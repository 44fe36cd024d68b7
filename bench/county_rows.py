"""Seeded synthetic rows for a county: units, cadres, accounts, households, pairings, records.

Yields (table, columns, rows) in foreign-key order. Rows hold plain Python values (dates,
aware datetimes, bools, lists for JSON); the loaders convert them per database.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from core.types import Channel

TOWNSHIPS = 30
VILLAGES_PER_TOWNSHIP = 20
DEPARTMENTS = 40
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国志红"
RANKS = ["一般干部"] * 6 + ["副科"] * 2 + ["正科", "中层"]
Rows = Iterator[tuple[str, list[str], list[tuple[Any, ...]]]]


@dataclass(frozen=True)
class Sizes:
    households: int
    cadres: int
    pairings: int
    contacts: int  # about this many over the year before `at`


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def _units() -> tuple[list[tuple[Any, ...]], list[int], list[int], list[int]]:
    rows: list[tuple[Any, ...]] = [(1, None, "博白县", "博白县", 0)]
    townships, villages, departments = [], [], []
    uid = 1
    for t in range(TOWNSHIPS):
        uid += 1
        tid, tpath = uid, f"博白县/第{t + 1:02d}镇"
        rows.append((tid, 1, tpath.rsplit("/")[-1], tpath, 1))
        townships.append(tid)
        for v in range(VILLAGES_PER_TOWNSHIP):
            uid += 1
            rows.append((uid, tid, f"第{v + 1:02d}村", f"{tpath}/第{v + 1:02d}村", 2))
            villages.append(uid)
    for d in range(DEPARTMENTS):
        uid += 1
        rows.append((uid, 1, f"第{d + 1:02d}局", f"博白县/第{d + 1:02d}局", 1))
        departments.append(uid)
    return rows, townships, villages, departments


def _pairings(sizes: Sizes, rng: random.Random, start: date) -> list[tuple[Any, ...]]:
    """Every household gets a cadre; the rest are extra (cadre, household) pairs, no repeats."""
    seen: set[tuple[int, int]] = set()
    rows: list[tuple[Any, ...]] = []
    for h in range(1, sizes.households + 1):
        c = (h - 1) % sizes.cadres + 1
        seen.add((c, h))
        rows.append((len(rows) + 1, c, h, start, None, True))
    while len(rows) < sizes.pairings:
        pair = (rng.randint(1, sizes.cadres), rng.randint(1, sizes.households))
        if pair not in seen:
            seen.add(pair)
            rows.append((len(rows) + 1, *pair, start, None, True))
    return rows


def _month_starts(at: date, n: int) -> list[date]:
    first = at.replace(day=1)
    out = []
    for _ in range(n):
        out.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return out


def _contacts(
    sizes: Sizes, pairings: list[tuple[Any, ...]], rng: random.Random, at: datetime
) -> list[tuple[Any, ...]]:
    """Calls most months and visits some quarters, per pairing, scaled by cadre diligence."""
    today = at.date()
    per_pairing = sizes.contacts / len(pairings)
    mean_diligence = 0.85  # of uniform(0.5, 1.2)
    p_call = min(1.0, 0.82 * per_pairing / 12 / mean_diligence)
    p_visit = min(1.0, 0.18 * per_pairing / 4 / mean_diligence)
    diligence = [0.0] + [rng.uniform(0.5, 1.2) for _ in range(sizes.cadres)]
    months = _month_starts(today, 12)
    rows: list[tuple[Any, ...]] = []
    for _, c, h, *_rest in pairings:
        d = diligence[c]
        for i, m in enumerate(months):
            last = today.day if i == 0 else 28
            if rng.random() < p_call * d:
                rows.append((c, h, "call", m + timedelta(days=rng.randrange(last))))
            if i % 3 == 0 and rng.random() < p_visit * d:
                rows.append((c, h, "visit", m + timedelta(days=rng.randrange(last))))
    rows.sort(key=lambda r: r[3])  # ids in the order real reports arrive: by day
    reported = at - timedelta(hours=1)
    return [
        (
            i,
            c,
            h,
            kind,
            day,
            reported,
            [],
            "",
            "",
            None,
            None,
            [],
            str(Channel.TELEGRAM),
            "",
            reported if rng.random() < 0.01 else None,
        )
        for i, (c, h, kind, day) in enumerate(rows, start=1)
    ]


def generate(sizes: Sizes, at: datetime, seed: int = 42) -> Rows:
    rng = random.Random(seed)
    t0 = at - timedelta(days=400)
    today = at.date()
    units, townships, villages, departments = _units()
    yield "units", ["id", "parent_id", "name", "path", "depth"], units
    cadre_units = departments * 3 + townships * 2
    yield (
        "cadres",
        ["id", "name", "rank", "unit_id", "phone", "role", "leave_until", "active", "created_at"],
        [
            (
                i,
                _name(rng),
                rng.choice(RANKS),
                rng.choice(cadre_units),
                f"1{i:010d}",
                "",
                today + timedelta(days=rng.randint(0, 20)) if rng.random() < 0.02 else None,
                True,
                t0,
            )
            for i in range(1, sizes.cadres + 1)
        ],
    )
    yield (
        "chat_accounts",
        [
            "id",
            "channel",
            "account_id",
            "chat_id",
            "cadre_id",
            "language",
            "bound_at",
            "blocked_at",
        ],
        [
            (
                i,
                str(Channel.TELEGRAM),
                str(1000 + i),
                str(1000 + i),
                i,
                "zh",
                t0,
                t0 if rng.random() < 0.01 else None,
            )
            for i in range(1, sizes.cadres + 1)
            if rng.random() < 0.9
        ],
    )
    yield (
        "households",
        [
            "id",
            "code",
            "head_name",
            "village_id",
            "category",
            "members",
            "poverty_cause",
            "phone",
            "status",
            "created_at",
        ],
        [
            (
                i,
                f"H{i:08d}",
                _name(rng),
                rng.choice(villages),
                "贫困户",
                rng.randint(1, 6),
                "因病",
                "",
                "active",
                t0,
            )
            for i in range(1, sizes.households + 1)
        ],
    )
    pairings = _pairings(sizes, rng, (t0 + timedelta(days=30)).date())
    yield (
        "pairings",
        ["id", "cadre_id", "household_id", "start_date", "end_date", "active"],
        pairings,
    )
    yield (
        "contacts",
        [
            "id",
            "cadre_id",
            "household_id",
            "kind",
            "occurred_on",
            "reported_at",
            "help_tags",
            "summary",
            "problems_raised",
            "latitude",
            "longitude",
            "photo_refs",
            "source_channel",
            "source_message_id",
            "deleted_at",
        ],
        _contacts(sizes, pairings, rng, at),
    )
    yield from _records(sizes, pairings, rng, at)
    yield (
        "supervisor_groups",
        ["id", "unit_id", "channel", "chat_id", "title", "bound_at", "active"],
        [
            (i, u, str(Channel.TELEGRAM), f"-100{u}", "", t0, True)
            for i, u in enumerate([1, *townships], 1)
        ],
    )


def _records(
    sizes: Sizes, pairings: list[tuple[Any, ...]], rng: random.Random, at: datetime
) -> Rows:
    """Diaries (~1 per pairing a year), events (5% of households), problems (15%)."""
    today = at.date()

    def day_within(days: int) -> date:
        return today - timedelta(days=rng.randrange(days))

    yield (
        "diary_entries",
        [
            "id",
            "cadre_id",
            "household_id",
            "written_on",
            "created_at",
            "done",
            "seen",
            "thoughts",
            "opinion_topics",
            "opinion",
            "deleted_at",
        ],
        [
            (
                i,
                p[1],
                p[2],
                day_within(365),
                at,
                "走访",
                "",
                "",
                [],
                "希望修路" if rng.random() < 0.3 else "",
                None,
            )
            for i, p in enumerate(rng.sample(pairings, min(len(pairings), sizes.pairings)), 1)
        ],
    )
    kinds = ["hardship", "birth", "illness", "death", "dispute"]
    events = []
    for i, p in enumerate(rng.sample(pairings, sizes.households // 20), 1):
        occurred = day_within(60)
        events.append(
            (i, p[2], p[1], rng.choice(kinds), occurred, occurred + timedelta(days=7), "", at, None)
        )
    yield (
        "events",
        [
            "id",
            "household_id",
            "cadre_id",
            "kind",
            "occurred_on",
            "visit_due_on",
            "note",
            "reported_at",
            "deleted_at",
        ],
        events,
    )
    problems = []
    for i, p in enumerate(rng.sample(pairings, sizes.households * 15 // 100), 1):
        raised = day_within(365)
        done = rng.random() < 0.6
        resolved = datetime.combine(raised, datetime.min.time(), UTC) + timedelta(
            days=rng.randint(0, 60)
        )
        resolved = min(resolved, at)
        problems.append(
            (
                i,
                p[2],
                p[1],
                None,
                "饮水困难",
                raised,
                "resolved" if done else "open",
                "已解决" if done else "",
                resolved if done else None,
                at,
                None,
            )
        )
    yield (
        "problems",
        [
            "id",
            "household_id",
            "cadre_id",
            "contact_id",
            "description",
            "raised_on",
            "status",
            "resolution",
            "resolved_at",
            "created_at",
            "deleted_at",
        ],
        problems,
    )
