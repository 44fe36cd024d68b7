"""The digest's figures read from the kept state equal the figures counted from the contacts.

Random histories of reports, back-dated entries, undo, corrections, in-place edits, records
moved or deleted, transfers, exited households, leave, inactive cadres, new events, households
moved to another village, chat accounts bound, blocked, unblocked or dropped, problems
raised, resolved or deleted, and contacts dated after the digest's day: for a county, two
townships, a department and a village, weekly digests and monthly reviews (as of today, of a
past day, of a month that ended before the latest contact) give the same figures whichever way
they are computed — counted, from the kept state, or all units together from the county's
shared scope as the weekly job does; the kept state is used whenever no contact in scope is
dated later.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from core.policy import Policy
from reminders.digest import DigestKind, digest_window
from storage.contact_state import household_drift, village_drift
from storage.db import Database
from storage.models import Base, Cadre, ChatAccount, Event, Household, Problem, Unit
from storage.models.household import HOUSEHOLD_EXITED
from storage.records import add_contact
from storage.scope_counts import scope_drift
from storage.stats import (
    UnitStats,
    branch_stats_kept,
    root_stats_kept,
    unit_by_path,
    unit_stats,
    unit_stats_counted,
    units_stats,
)
from storage.stats import _unit_stats_kept as unit_stats_kept
from tests import factories as f
from tests.factories import clear_scope_counts
from tests.test_contact_state import NOW, TODAY, World, _apply
from tests.test_contact_state import ops as contact_ops

SH = ZoneInfo("Asia/Shanghai")
VILLAGES = ("博白县/顿谷镇/旧门村", "博白县/顿谷镇/新屋村", "博白县/沙河镇/新村")
UNITS = ("博白县", "博白县/顿谷镇", "博白县/沙河镇", "博白县/县直", "博白县/顿谷镇/旧门村")
CADRE_UNITS = ("博白县/顿谷镇", "博白县/县直/组织部", "博白县/沙河镇/新村")
# (when the digest is made, which digest); the first two are answered from the kept state
# whenever no contact is dated after `TODAY`.
DIGESTS: list[tuple[datetime, DigestKind]] = [
    (datetime.combine(TODAY, datetime.min.time(), SH).replace(hour=10), "weekly"),
    (datetime(2026, 12, 1, 8, 30, tzinfo=SH), "monthly"),  # November, after TODAY
    (datetime.combine(TODAY - timedelta(days=10), datetime.min.time(), SH), "weekly"),
    (datetime(2026, 11, 1, 8, 30, tzinfo=SH), "monthly"),  # October: later contacts exist
]

i3 = st.integers(0, 2)
ops = st.one_of(
    contact_ops,
    st.tuples(st.just("exit"), i3),
    st.tuples(st.just("return"), i3),
    st.tuples(st.just("leave"), i3, st.integers(-10, 20)),
    st.tuples(st.just("back_from_leave"), i3),
    st.tuples(st.just("deactivate"), i3),
    st.tuples(st.just("event"), i3, st.integers(0, 60)),
    st.tuples(st.just("rehome"), i3, i3),
    st.tuples(st.just("future"), i3, i3, st.sampled_from(("call", "visit")), st.integers(1, 20)),
    st.tuples(st.just("account"), i3, st.sampled_from(("bind", "block", "unblock", "drop"))),
    st.tuples(
        st.just("problem"), i3, st.integers(0, 20), st.sampled_from(("open", "resolved", "gone"))
    ),
)


async def _fresh(db: Database) -> World:
    async with db.transaction() as s:
        for table in reversed(Base.metadata.sorted_tables):
            await s.execute(delete(table))
        await clear_scope_counts(s)  # what the deletes' triggers put back
    async with db.transaction() as s:
        villages = [await f.unit(s, path) for path in VILLAGES]
        await f.unit(s, "博白县/县直")
        cadres = [
            await f.cadre(s, f"干部{i}", at=await f.unit(s, path))
            for i, path in enumerate(CADRE_UNITS)
        ]
        households = [await f.household(s, f"户主{i}", village=v) for i, v in enumerate(villages)]
        for c, hh in zip(cadres, households, strict=True):
            await f.pairing(s, c, hh)
            await f.event(s, c, hh, "illness", date(2026, 10, 20), date(2026, 10, 27))
        return World([c.id for c in cadres], [h.id for h in households])


async def _apply_more(db: Database, w: World, op: str, args: tuple) -> bool:  # type: ignore[type-arg]
    """The writes beyond test_contact_state's; False when `op` is one of those."""
    async with db.transaction() as s:
        if op in ("exit", "return", "rehome"):
            hh = await s.get(Household, w.households[args[0]])
            assert hh is not None
            if op == "rehome":
                village = await s.scalar(select(Unit).where(Unit.path == VILLAGES[args[1]]))
                assert village is not None
                hh.village_id = village.id
            else:
                hh.status = HOUSEHOLD_EXITED if op == "exit" else "active"
            return True
        if op in ("leave", "back_from_leave", "deactivate"):
            cadre = await s.get(Cadre, w.cadres[args[0]])
            assert cadre is not None
            if op == "leave":
                cadre.leave_until = TODAY + timedelta(days=args[1])
            elif op == "back_from_leave":
                cadre.leave_until = None
            else:
                cadre.active = not cadre.active
            return True
        if op == "event":
            on = TODAY - timedelta(days=args[1])
            s.add(
                Event(
                    cadre_id=w.cadres[0],
                    household_id=w.households[args[0]],
                    kind="illness",
                    occurred_on=on,
                    visit_due_on=on + timedelta(days=7),
                    reported_at=NOW,
                )
            )
            return True
        if op == "account":  # cadre_scope's reach: unreachable cadres
            cadre_id, what = w.cadres[args[0]], args[1]
            if what == "bind":
                cadre = await s.get(Cadre, cadre_id)
                assert cadre is not None
                await f.account(s, cadre)
                return True
            account = await s.scalar(
                select(ChatAccount).where(ChatAccount.cadre_id == cadre_id).order_by(ChatAccount.id)
            )
            if account is not None and what == "drop":
                await s.delete(account)
            elif account is not None:
                account.blocked_at = NOW if what == "block" else None
            return True
        if op == "problem":
            h, days, status = args
            s.add(
                Problem(
                    household_id=w.households[h],
                    cadre_id=w.cadres[0],
                    description="漏水",
                    raised_on=TODAY - timedelta(days=days),
                    status="resolved" if status == "resolved" else "open",
                    resolved_at=NOW - timedelta(days=days // 2) if status == "resolved" else None,
                    created_at=NOW,
                    deleted_at=NOW if status == "gone" else None,
                )
            )
            return True
        if op == "future":  # dated after the digest's day: the kept dates cannot answer
            c, h, kind, days = args
            await add_contact(
                s,
                cadre_id=w.cadres[c],
                household_id=w.households[h],
                kind=kind,
                occurred_on=TODAY + timedelta(days=days),
                now=NOW,
                help_tags=[],
                summary="走访",
            )
            return True
    return False


async def _figures(db: Database, path: str, at: datetime, kind: DigestKind) -> tuple:  # type: ignore[type-arg]
    """(the digest's figures, counted from the contacts, from the kept state or None, from
    the kept counts or None: a root's, or a township's or department's, read for its own
    units only)."""
    policy = Policy()
    w = digest_window(at, policy, kind)
    async with db.sessions() as s:
        unit = await unit_by_path(s, path)
        assert unit is not None
        cap = policy.digest_behind_cap
        return (
            await unit_stats(s, unit, w, cap=cap),
            await unit_stats_counted(s, unit, w, cap=cap),
            await unit_stats_kept(s, unit, w, cap),
            await root_stats_kept(s, unit, w, cap)
            if unit.parent_id is None
            else await branch_stats_kept(s, unit, w, cap),
        )


async def _together(db: Database, at: datetime, kind: DigestKind) -> dict[str, UnitStats]:
    """Every unit's figures computed together, as the weekly job does (one shared scope)."""
    policy = Policy()
    w = digest_window(at, policy, kind)
    async with db.sessions() as s:
        units = [u for path in UNITS if (u := await unit_by_path(s, path)) is not None]
        assert len(units) == len(UNITS)
        got = await units_stats(s, units, w, cap=policy.digest_behind_cap)
    return {u.path: got[u.id] for u in units}


async def _check(db: Database, later_contact: bool) -> int:
    """Every digest of every unit agrees both ways (three for the county root), and with the
    figures computed together for all units; returns how many used the kept state."""
    async with db.sessions() as s:  # each household's kept last dates, by any cadre
        assert await household_drift(s) == [] and await village_drift(s) == []
        assert await scope_drift(s) == []  # the kept counts the county root reads
    kept_used = 0
    for n, (at, kind) in enumerate(DIGESTS):
        together = await _together(db, at, kind)
        for path in UNITS:
            digest, counted, kept, root = await _figures(db, path, at, kind)
            assert together[path] == digest, (path, at, kind)
            assert digest == counted, (path, at, kind)
            if root is not None:
                assert root == counted, (path, at, kind)
            if kept is not None:
                assert kept == counted, (path, at, kind)
                kept_used += 1
            elif n < 2:  # as of TODAY or later: only a contact after TODAY stops the kept state
                assert later_contact, (path, at, kind)
    return kept_used


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(ops, min_size=1, max_size=12))
async def test_kept_figures_equal_counted_figures(db: Database, script: list[tuple]) -> None:  # type: ignore[type-arg]
    world = await _fresh(db)
    for op, *args in script:
        if not await _apply_more(db, world, op, tuple(args)):
            await _apply(db, world, op, tuple(args))
    await _check(db, later_contact=any(op == "future" for op, *_ in script))


def _brief(st_: UnitStats) -> tuple[int, int, int, int, int, int, int]:
    c = st_.coverage
    return (
        c.households,
        c.contacted_period,
        c.contacted_month,
        c.visited_quarter,
        st_.visits_quarter,
        st_.events_open,
        st_.behind_total,
    )


async def test_a_county_history_reads_the_same_and_falls_back_after_a_later_contact(
    db: Database,
) -> None:
    world = await _fresh(db)
    steps: list[tuple] = [  # type: ignore[type-arg]
        ("report", 0, 0, "visit", 3),  # this week, this month, this quarter
        ("report", 1, 1, "call", 25),  # last month: the quarter, not the month
        ("back_entry", 2, 2, "visit", 45),  # back-dated into the quarter
        ("report", 2, 2, "call", 1),
        ("undo", 3),  # the call just made is taken back
        ("transfer", 1, 0),  # household 0 moves to cadre 1; cadre 0's visit still counts
        ("exit", 2),
        ("leave", 1, 5),
    ]
    for op, *args in steps:
        if not await _apply_more(db, world, op, tuple(args)):
            await _apply(db, world, op, tuple(args))
    # Every digest from the kept state: as of the 10th the transferred household's pairing
    # had not begun (its later visit is out of scope) and October's last contact is in it.
    assert await _check(db, later_contact=False) == len(DIGESTS) * len(UNITS)
    digest, counted, kept, root = await _figures(db, "博白县", *DIGESTS[0])
    assert kept is not None and _brief(digest) == _brief(counted)
    assert root == counted  # the county root from its kept counts
    # Households 0 and 1 (2 exited); 0 contacted this week and this month (by cadre 0, before
    # the transfer) and visited this quarter, once; household 1's event still open; nobody
    # behind: cadre 1 is on leave and cadre 0 has no live pairing left.
    assert _brief(digest) == (2, 1, 1, 1, 1, 1, 0)
    for town in ("博白县/顿谷镇", "博白县/县直"):  # a township's and a department's own rows
        _, counted, _, branch = await _figures(db, town, *DIGESTS[0])
        assert branch is not None and branch == counted, town
    await _apply_more(db, world, "future", (0, 1, "call", 3))
    digest, counted, kept, root = await _figures(db, "博白县", *DIGESTS[0])
    assert kept is None and digest == counted  # a later contact: counted from the contacts
    assert root is None


async def test_the_weekly_job_names_the_same_cadres_when_lists_pass_the_cap(db: Database) -> None:
    """Townships and departments read together from the kept counts (ranked within each
    one, cut at the cap, totals kept) name the same cadres as each unit's own digest: ties
    on the count broken by name, cadres on leave or unreachable, a village's own cadre whose
    households live elsewhere, a cadre paired across townships."""
    async with db.transaction() as s:
        towns = ["博白县/顿谷镇", "博白县/沙河镇", "博白县/县直/组织部"]
        villages = [await f.unit(s, f"{t}/村{i}") for t in towns[:2] for i in range(2)]
        homes = [await f.unit(s, p) for p in (*towns, "博白县/顿谷镇/村0")]
        hhs = [await f.household(s, village=villages[i % 4]) for i in range(14)]
        for n in range(9):
            who = await f.cadre(s, f"干部{n % 4}", at=homes[n % 4])
            if n % 3:
                await f.account(s, who)
            if n == 5:
                who.leave_until = TODAY + timedelta(days=3)
            for k in range(1 + n % 3):
                hh = hhs[(n * 3 + k * 5) % 14]
                await f.pairing(s, who, hh)
                if (n + k) % 4 == 0:
                    await f.contact(s, who, hh, "call", TODAY - timedelta(days=n % 2))
        await f.event(s, who, hhs[0], "illness", TODAY - timedelta(days=9), TODAY - timedelta(2))
    policy = Policy()
    w = digest_window(DIGESTS[0][0], policy, "weekly")
    paths = ("博白县", "博白县/顿谷镇", "博白县/沙河镇", "博白县/县直", "博白县/顿谷镇/村0")
    async with db.sessions() as s:
        units = [u for p in paths if (u := await unit_by_path(s, p)) is not None]
        for cap in (1, 2, 10):
            together = await units_stats(s, units, w, cap=cap)
            for u in units:
                alone = await unit_stats_counted(s, u, w, cap=cap)
                assert together[u.id] == alone, (u.path, cap)
                # Its own digest: a township's or department's from its units' kept rows.
                assert await unit_stats(s, u, w, cap=cap) == alone, (u.path, cap)
                if u.parent_id is not None and u.path.count("/") == 1:
                    assert await branch_stats_kept(s, u, w, cap) == alone, (u.path, cap)
            town = together[units[1].id]
            assert town.behind_total > 1 and len(town.behind) == min(cap, town.behind_total)
