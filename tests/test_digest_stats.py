"""Digest figures on a small county, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.policy import Policy
from reminders.digest import digest_window
from storage.stats import unit_by_path, unit_stats
from tests.digest_factories import sample_county

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a Monday


async def _stats(db, path, at=AT, kind="weekly", cap=10):
    w = digest_window(at, Policy(), kind)
    async with db.sessions() as s:
        unit = await unit_by_path(s, path)
        return await unit_stats(s, unit, w, cap=cap)


async def test_county_figures(db):
    await sample_county(db)
    st = await _stats(db, "博白县")
    assert st.pairings == 9
    cov = st.coverage
    assert (cov.households, cov.contacted_period, cov.contacted_month) == (9, 3, 4)
    assert cov.visited_quarter == 2 and st.visits_quarter == 2
    assert (st.diaries_period, st.opinions_period) == (2, 1)
    assert (st.events_open, st.events_overdue) == (2, 1)
    assert (st.problems_raised, st.problems_resolved, st.problems_open) == (1, 2, 1)


async def test_cadres_behind_worst_first_capped_and_leave_excluded(db):
    await sample_county(db)
    st = await _stats(db, "博白县", cap=2)
    assert st.behind_total == 3  # 张三 (2 missed), 李四 and 赵六 (1 each); 王五 is on leave
    assert [(b.name, b.count) for b in st.behind][:1] == [("张三", 2)]
    assert len(st.behind) == 2 and st.behind[1].name in ("李四", "赵六")
    assert [(c.name, c.until) for c in st.on_leave] == [("王五", date(2026, 11, 30))]
    assert st.on_leave_total == 1
    assert {c.name for c in st.unreachable} == {"赵六", "孙七"} and st.unreachable_total == 2


async def test_sub_unit_lines_cover_villages_and_department_cadres(db):
    await sample_county(db)
    st = await _stats(db, "博白县")
    lines = {s.name: (s.coverage.households, s.coverage.contacted_month) for s in st.sub_units}
    assert lines == {"顿谷镇": (5, 2), "沙河镇": (4, 2), "财政局": (4, 2), "空镇": (0, 0)}


async def test_township_sees_only_its_subtree(db):
    await sample_county(db)
    st = await _stats(db, "博白县/沙河镇")
    assert st.pairings == 4 and st.coverage.households == 4 and st.coverage.contacted_month == 2
    assert [b.name for b in st.behind] == ["赵六"]
    assert (st.events_open, st.events_overdue) == (1, 0)
    assert (st.problems_raised, st.problems_resolved, st.problems_open) == (0, 2, 0)
    assert [(s.name, s.coverage.households) for s in st.sub_units] == [("河口村", 4)]
    other = await _stats(db, "博白县/顿谷镇")
    assert other.pairings == 5 and {b.name for b in other.behind} == {"张三", "李四"}
    assert other.on_leave_total == 0 and other.unreachable_total == 0


async def test_monthly_review_covers_the_previous_month(db):
    await sample_county(db)
    st = await _stats(db, "博白县", at=datetime(2026, 12, 1, 8, 30, tzinfo=SH), kind="monthly")
    assert st.coverage.contacted_month == 4
    assert (st.diaries_period, st.problems_raised, st.problems_resolved) == (3, 3, 2)
    # As of 11-30 the dispute visit (due 11-27) is overdue too.
    assert (st.events_open, st.events_overdue) == (2, 2)
