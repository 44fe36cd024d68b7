"""The storage behind --replace, invitation sheets and the WeCom sync, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bench.roster_rows import county_rows
from bot.roster.files import read_roster, write_rows_csv
from bot.roster.importer import import_roster
from core.policy import Policy
from storage.invites import (
    create_cadre_invites,
    hash_code,
    live_codes,
    retire_codes,
    unbound_cadres,
)
from storage.models import Cadre, ChatAccount, Household, Invite, Pairing
from storage.wecom_directory import bind_wecom_users

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)
UNIT = "测试县/单位01"


async def _import(db, tmp_path, rows, name="r.csv", **kw):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    write_rows_csv(path, rows)
    return await import_roster(db, read_roster(path), policy=Policy(), source=name, **kw)


async def test_replace_ends_what_the_unit_file_lacks(db, tmp_path):
    assert (await _import(db, tmp_path, county_rows(20), now=NOW)).ok
    unit01 = [r for r in county_rows(20) if r[0] == UNIT][:3]  # H000005-7 stay; 8, 9 go

    dry = await _import(
        db, tmp_path, unit01, "u.csv", now=LATER, dry_run=True, replace_unit_path=UNIT
    )
    assert dry.replaced is not None
    assert sorted(p.household_code or "" for p in dry.replaced.pairings) == [
        "H000008",
        "H000009",
    ]
    async with db.sessions() as s:  # a dry run (rolled back here) leaves everything
        assert await s.scalar(select(func.count()).where(Pairing.active.is_(False))) == 0

    report = await _import(db, tmp_path, unit01, "u.csv", now=LATER, replace_unit_path=UNIT)
    assert report.ok and report.replaced is not None
    assert [h.name for h in report.replaced.households] == ["户主000008", "户主000009"]
    async with db.sessions() as s:
        ended = (
            await s.execute(
                select(Household.code, Pairing.end_date, Pairing.end_reason)
                .join(Household, Household.id == Pairing.household_id)
                .where(Pairing.active.is_(False))
                .order_by(Household.code)
            )
        ).all()
        statuses = dict((await s.execute(select(Household.code, Household.status))).all())
    assert ended == [
        ("H000008", LATER.date(), "名册更新：u.csv"),
        ("H000009", LATER.date(), "名册更新：u.csv"),
    ]
    assert statuses["H000009"] == "inactive" and statuses["H000005"] == "active"

    outside = [r for r in county_rows(20) if r[0] == "测试县/单位02"][:1]
    bad = await _import(db, tmp_path, outside, "o.csv", now=LATER, replace_unit_path=UNIT)
    assert [e.key for e in bad.errors] == ["outside_unit"]


async def test_codes_for_unbound_cadres_renewed_without_touching_the_bound(db, tmp_path):
    assert (await _import(db, tmp_path, county_rows(20), now=NOW)).ok
    async with db.transaction() as s:
        everyone = await unbound_cadres(s, "测试县")
        assert len(everyone) == 4
        codes = {p.cadre_id: f"CODE{p.cadre_id:06d}" for p in everyone}
        await create_cadre_invites(s, codes, now=NOW, ttl=timedelta(days=3))
        first = everyone[0].cadre_id
        s.add(
            ChatAccount(
                channel="wecom", account_id="u1", chat_id="u1", cadre_id=first, bound_at=NOW
            )
        )
    async with db.transaction() as s:
        assert len(await unbound_cadres(s, "测试县/单位00")) == 0
        assert len(await unbound_cadres(s, "测试县", channel="telegram")) == 4
        held = await live_codes(s, list(codes), NOW)
        assert held == set(codes)
        await retire_codes(s, [everyone[1].cadre_id], NOW + timedelta(hours=1))
    async with db.sessions() as s:
        later = NOW + timedelta(hours=2)
        assert await live_codes(s, list(codes), later) == set(codes) - {everyone[1].cadre_id}
        stored = await s.scalar(select(Invite.code_hash).where(Invite.cadre_id == first))
        assert stored == hash_code(codes[first])


async def test_wecom_binds_and_conflicts(db, tmp_path):
    assert (await _import(db, tmp_path, county_rows(10), now=NOW)).ok
    async with db.transaction() as s:
        ids = list(await s.scalars(select(Cadre.id).order_by(Cadre.id)))
        conflicts = await bind_wecom_users(s, {ids[0]: "zhang"}, now=NOW, language="zh")
        assert conflicts == []
    async with db.transaction() as s:
        conflicts = await bind_wecom_users(
            s, {ids[0]: "zhang", ids[1]: "zhang"}, now=NOW, language="zh"
        )
        assert conflicts == [(ids[1], "zhang")]
        rows = (await s.execute(select(ChatAccount.cadre_id, ChatAccount.account_id))).all()
    assert rows == [(ids[0], "zhang")]
