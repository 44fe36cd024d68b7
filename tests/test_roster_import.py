"""Roster import end to end: a file on disk → checked rows → the database → the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, update

from bench.roster_rows import county_rows
from bot.roster.files import read_roster, write_rows_csv
from bot.roster.importer import import_roster
from core.policy import Policy
from storage.models import AuditLog, Cadre, Household, Pairing, Unit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TABLES = (Unit, Cadre, Household, Pairing, AuditLog)


async def counts(db) -> dict[str, int]:
    async with db.transaction() as s:
        return {
            m.__tablename__: await s.scalar(select(func.count()).select_from(m)) or 0
            for m in TABLES
        }


async def run_import(db, path: Path, **kw):
    return await import_roster(
        db, read_roster(path), policy=kw.pop("policy", Policy()), now=NOW, **kw
    )


async def test_50k_rows_bad_rows_named_nothing_written_fixed_imports_reimport_no_duplicates(
    db, tmp_path
):
    rows = list(county_rows(50_000))
    good = {i: list(rows[i]) for i in (1233, 19_999, 44_999)}
    rows[1233][3] = "1380013800"  # ten digits: line 1235 (header is line 1)
    rows[19_999][8] = "0"  # nobody lives there: line 20001
    rows[44_999][5] = rows[100][5]  # household code of line 102, in another village: line 45001
    path = tmp_path / "roster.csv"
    write_rows_csv(path, rows)

    report = await run_import(db, path)

    assert {(e.row, e.column, e.key) for e in report.errors} == {
        (1235, "干部手机", "bad_mobile"),
        (20_001, "人口", "bad_members"),
        (45_001, "户编号", "code_two_villages"),
    }
    assert set((await counts(db)).values()) == {0}

    for i, fixed in good.items():
        rows[i] = fixed
    write_rows_csv(path, rows)
    report = await run_import(db, path)
    assert report.ok and report.counts is not None
    assert (report.counts.cadres.created, report.counts.households.created) == (10_000, 50_000)
    assert report.counts.pairings.created == 50_000
    first = await counts(db)
    assert (first["cadres"], first["households"], first["pairings"]) == (10_000, 50_000, 50_000)

    again = await run_import(db, path)
    assert again.ok and again.counts is not None
    assert again.counts.households.unchanged == 50_000
    assert again.counts.cadres.created + again.counts.cadres.updated == 0
    assert again.counts.pairings.created + again.counts.pairings.updated == 0
    after = await counts(db)
    assert after == first | {"audit_log": first["audit_log"] + 1}


async def test_reimport_updates_changed_household_and_cadre_in_place(db, tmp_path):
    rows = list(county_rows(12))
    path = tmp_path / "r.csv"
    write_rows_csv(path, rows)
    await run_import(db, path)
    rows[3][8] = "6"  # the household grew
    rows[0][1] = "干部改名"  # the cadre of rows 0-4, renamed on every one of their lines
    for r in rows[1:5]:
        r[1] = "干部改名"
    write_rows_csv(path, rows)

    report = await run_import(db, path)

    assert report.counts is not None
    assert report.counts.households.updated == 1 and report.counts.households.created == 0
    assert report.counts.cadres.updated == 1 and report.counts.cadres.created == 0
    async with db.transaction() as s:
        assert await s.scalar(select(Household.members).where(Household.code == "H000003")) == 6
        assert await s.scalar(select(Cadre.name).where(Cadre.phone == "13000000000")) == "干部改名"
        assert await s.scalar(select(func.count()).select_from(Cadre)) == 3


async def test_households_without_code_matched_by_village_head_and_phone(db, tmp_path):
    rows = [[*r[:5], "", *r[6:]] for r in county_rows(6)]
    path = tmp_path / "r.csv"
    write_rows_csv(path, rows)
    await run_import(db, path)
    rows[2][5] = "NEW-CODE"  # the county hands out codes later: the same household gets it
    write_rows_csv(path, rows)

    report = await run_import(db, path)

    assert report.counts is not None and report.counts.households.created == 0
    async with db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Household)) == 6
        code = await s.scalar(select(Household.code).where(Household.head_name == "户主000002"))
        assert code == "NEW-CODE"


async def test_same_cadre_phone_with_another_name_and_duplicate_pair_rejected(db, tmp_path):
    rows = list(county_rows(4))
    rows[2][1] = "另一个人"  # same phone as line 2, another name
    rows.append(list(rows[0]))  # line 6 repeats line 2
    path = tmp_path / "r.csv"
    write_rows_csv(path, rows)

    report = await run_import(db, path)

    found = {(e.row, e.column, e.key, e.params.get("first")) for e in report.errors}
    assert found == {(4, "干部姓名", "cadre_conflict", 2), (6, "户主姓名", "duplicate_pair", 2)}
    assert (await counts(db))["cadres"] == 0


async def test_dry_run_reports_changes_and_writes_nothing(db, tmp_path):
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(10))

    report = await run_import(db, path, dry_run=True)

    assert report.ok and report.counts is not None and report.counts.households.created == 10
    assert set((await counts(db)).values()) == {0}


async def test_quota_report_uses_the_chosen_preset(db, tmp_path):
    # Cadre 0 (厅级) takes 5, cadre 1 (处级) 5 + 2 of cadre 2's (正科), who keeps 3.
    rows = list(county_rows(15, per_cadre=5))
    for r in rows[10:12]:
        r[1:4] = rows[5][1:4]
        r[0] = rows[5][0]
    path = tmp_path / "r.csv"
    write_rows_csv(path, rows)

    report = await run_import(db, path)
    by_rank = {i.load.rank: (i.load.households, i.quota) for i in report.under_quota}
    over = {i.load.rank: (i.load.households, i.quota) for i in report.over_quota}
    assert by_rank == {"厅级": (5, 8), "正科": (3, 5)} and over == {"处级": (7, 6)}

    report = await run_import(db, path, policy=Policy(quota_preset="543"))
    over = {i.load.rank: (i.load.households, i.quota) for i in report.over_quota}
    assert over == {"厅级": (5, 1), "处级": (7, 1), "正科": (3, 1)}  # ranks unknown to 融水


async def test_households_whose_cadre_left_are_reported_without_responsible(db, tmp_path):
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(10, per_cadre=5))
    report = await run_import(db, path)
    assert report.uncovered_total == 0
    async with db.transaction() as s:
        await s.execute(update(Cadre).where(Cadre.phone == "13000000001").values(active=False))

    report = await run_import(db, tmp_path / "r.csv", dry_run=True)

    # Re-importing the roster names the cadre again and so re-activates them...
    assert report.uncovered_total == 0 and report.counts is not None
    assert report.counts.cadres.updated == 1
    write_rows_csv(path, county_rows(5, per_cadre=5))  # ...a roster without them does not.
    report = await run_import(db, path)
    assert report.uncovered_total == 5
    assert sorted(u.head_name for u in report.uncovered) == [f"户主{i:06d}" for i in range(5, 10)]


async def test_import_leaves_one_audit_row_with_the_counts(db, tmp_path):
    path = tmp_path / "名册.csv"
    write_rows_csv(path, county_rows(3))
    await run_import(db, path, source=path.name)
    async with db.transaction() as s:
        row = await s.scalar(select(AuditLog))
    assert row is not None and row.action == "roster.import" and row.entity_id == "名册.csv"
    assert row.detail["households"]["created"] == 3 and row.at == NOW
