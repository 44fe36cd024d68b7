"""考核: a month of a cadre's work gives the expected score under the 博白 and 利州 presets,
asked by /score through the real Telegram adapter; every lost point is named; another
cadre's score is refused; the unit's ranking and the CLI export agree.

November 2026 for 王建国 (4 households): contacts with 3 of 4; of two event visits one in
time; 1 diary; of two appeals due in November one settled in time; call-backs 满意 and
基本满意; 1 办实事; 1 lapse escalated. The quarter's visit is not judged in November.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main as cli
from bot.config import ScheduleSettings
from bot.run import start
from core.clock import FixedClock
from core.policy import Policy
from core.programme import ScorePolicy
from reminders.digest_send import enqueue_digests
from reminders.score import parse_period, unit_scores
from storage.appeals import follow_up, settle
from storage.duties import claim_marks
from storage.models import Cadre, Deed, Household, OutboxMessage, Unit
from storage.people import bind_group
from storage.records import add_diary, add_problem
from tests import factories as f
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.seed import Seed, seed
from tests.tg_support import Phone, bot_settings

TZ = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 12, 2, 10, 0, tzinfo=TZ)
CADRE = TgUser(880001, "王建国")


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=TZ)


async def a_month_of_work(db, s: Seed) -> None:  # type: ignore[no-untyped-def]
    me, hh = s.cadre_id, s.households
    async with db.transaction() as session:
        cadre = await session.get(Cadre, me)
        households = {n: await session.get(Household, i) for n, i in hh.items()}
        await f.contact(session, cadre, households["张三"], "call", date(2026, 11, 5))
        await f.contact(session, cadre, households["李四"], "visit", date(2026, 11, 10))
        await f.contact(session, cadre, households["王小明"], "call", date(2026, 11, 20))
        await f.event(
            session, cadre, households["李四"], "illness", date(2026, 11, 3), date(2026, 11, 10)
        )
        await f.event(session, cadre, households["王小明"], "dispute", date(2026, 11, 15), date(2026, 11, 22))  # fmt: skip
        await add_diary(
            session, cadre_id=me, household_id=None, written_on=date(2026, 11, 12), now=at(12),
            done="走访", seen="", thoughts="", opinion_topics=[], opinion="",
        )  # fmt: skip
        on_time = await add_problem(
            session, cadre_id=me, household_id=hh["张三"], description="危房", raised_on=date(2026, 11, 1),
            now=at(1), category="住房", due_on=date(2026, 11, 20),
        )  # fmt: skip
        await add_problem(
            session, cadre_id=me, household_id=hh["陈美玲"], description="看病", raised_on=date(2026, 11, 1),
            now=at(1), category="医疗", due_on=date(2026, 11, 25),
        )  # fmt: skip
        later = await add_problem(
            session, cadre_id=me, household_id=hh["李四"], description="路灯", raised_on=date(2026, 11, 1),
            now=at(1), category="其他", due_on=date(2026, 12, 20),
        )  # fmt: skip
        for appeal, answer, day in ((on_time, "满意", 18), (later, "基本满意", 13)):
            await settle(
                session, cadre_id=me, appeal_id=appeal.id, resolution="办好", now=at(day - 1)
            )
            await follow_up(
                session, cadre_id=me, appeal_id=appeal.id, satisfaction=answer, note="", now=at(day)
            )
        session.add(Deed(household_id=hh["张三"], cadre_id=me, what="代购化肥", done_on=date(2026, 11, 8),
                         value=300.0, created_at=at(8)))  # fmt: skip
        await claim_marks(
            session, [("esc:contact:1:2026-10-01", me)], stage_on=date(2026, 11, 1), now=at(1)
        )


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.mark.parametrize(
    ("preset", "score", "grade"), [("博白", "64.3", "合格"), ("利州", "72.4", "合格")]
)
async def test_a_month_of_work_scores_as_the_preset_says(tg, db, preset, score, grade) -> None:
    s = await seed(db, AS_OF)
    await a_month_of_work(db, s)
    settings = bot_settings(tg, poll_timeout=1).model_copy(
        update={
            "schedule": ScheduleSettings(enabled=False),
            "policy": Policy(score=ScorePolicy.model_validate({"preset": preset})),
        }
    )
    rt = await start(settings, db=db, clock=FixedClock(AS_OF))
    phone = Phone(tg, rt, CADRE)
    try:
        await phone.command("start", s.code)
        [card] = await phone.command("score", "2026-11")
        assert f"王建国 2026年11月 考核得分 {score} 分（{grade}）" in card
        # Explainable: which duties cost points.
        assert "陈美玲 11月未联系" in card
        assert "王小明 纠纷应于11月22日（周日）前走访，未按期" in card
        assert "陈美玲 医疗诉求期限11月25日（周三），未按期办结" in card
        assert "回访：基本满意" in card
        assert "季度走访：本期不考核" in card
        assert "已上报督导 1 次" in card
        if preset == "博白":
            assert "日记 1 篇，应 2 篇" in card
        else:
            assert "民情日记 1/1" in card

        refused = await phone.command("score", "李卫东")
        assert refused == ["只能查看自己的考核得分。"]
        assert "看不懂这个时间" in (await phone.command("score", "2026-13"))[0]
        [this_month] = await phone.command("score")
        assert "2026年12月" in this_month
    finally:
        await rt.stop()


async def test_ranking_and_export_agree(db, tmp_path, monkeypatch) -> None:
    s = await seed(db, AS_OF)
    await a_month_of_work(db, s)
    period = parse_period("2026-11")
    assert period is not None
    ranked = await unit_scores(db, "博白县/顿谷镇", period, AS_OF.date(), Policy(), TZ)
    assert [(r.name, r.score) for r in ranked] == [("王建国", 64.3), ("李卫东", 0.0)]

    # The monthly review to the town's group carries the same ranking.
    async with db.transaction() as session:
        town = await session.scalar(select(Unit.id).where(Unit.path == "博白县/顿谷镇"))
        assert town is not None
        await bind_group(
            session, channel="telegram", chat_id="-1009", unit_id=town, title="", now=AS_OF
        )
    await enqueue_digests(db, AS_OF, Policy(), "monthly")
    async with db.transaction() as session:
        [review] = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.like("review:%:rank"))
            )
        )
    assert "2026年11月 考核排名（顿谷镇，2 人）" in review.payload["text"]
    assert "1. 王建国 64.3 分（合格）\n2. 李卫东 0.0 分（不合格）" in review.payload["text"]

    monkeypatch.chdir(tmp_path)  # no bangfu.toml from the working directory
    # The CLI's URL with the test's schema, as a deployment sharing a database sets it.
    monkeypatch.setenv("BANGFU_DATABASE_SCHEMA", db.schema or "")

    async def export(*args: str) -> int:
        argv = ["score", "--url", db.url, "--unit", "博白县/顿谷镇", "--at", "2026-12-02", *args]
        return await asyncio.to_thread(cli, argv)

    out = tmp_path / "score.xlsx"
    assert await export("--month", "2026-11", str(out)) == 0
    sheet = load_workbook(out).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("排名", "干部", "得分")
    assert rows[1][:4] == (1, "王建国", 64.3, "合格")
    assert "陈美玲 11月未联系" in str(rows[1][-1])
    csv = tmp_path / "score.csv"
    assert await export("--month", "2026-11", str(csv)) == 0
    assert "1,王建国,64.3,合格" in csv.read_text(encoding="utf-8-sig")
    assert await export("--month", "2026-13", str(csv)) == 2


def test_a_wrong_weight_stops_start_up_naming_it() -> None:
    from bot.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match=r"BANGFU_POLICY__SCORE__WEIGHTS.*visits"):
        load_settings(policy={"score": {"weights": {"visits": 10}}})
    with pytest.raises(ConfigError, match=r"BANGFU_POLICY__SCORE.*unknown score preset"):
        load_settings(policy={"score": {"preset": "保定"}})
