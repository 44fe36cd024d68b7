"""`bangfu calendar`, `bangfu reminders preview|run --at` as an administrator types them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.config import load_settings
from bot.dispatch import Dispatcher
from bot.schedule import JobSender
from bot.services import jobs_for
from core.clock import FixedClock
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage
from tests import factories as f

SH = ZoneInfo("Asia/Shanghai")
LATER = FixedClock(datetime(2026, 11, 20, 11, 0, tzinfo=SH))


@pytest.fixture
def county_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)

    async def seed() -> None:
        db = Database(url)
        async with db.transaction() as s:
            who = await f.cadre(s, "王芳")
            await f.pairing(s, who, await f.household(s, "李一"))
            await f.account(s, who, chat_id="4242")
        await db.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("BANGFU_DATABASE_URL", url)
    monkeypatch.setenv("BANGFU_TIMEZONE", "Asia/Shanghai")
    return url


def _outbox_count(url: str) -> int:
    async def count() -> int:
        db = Database(url)
        async with db.sessions() as s:
            n = await s.scalar(select(func.count()).select_from(OutboxMessage))
        await db.dispose()
        return int(n or 0)

    return asyncio.run(count())


def test_calendar_lists_the_year(capsys):
    assert main(["calendar", "2024"]) == 0
    out = capsys.readouterr().out
    assert "2024-02-09  腊月三十" in out  # 除夕 anchors 春节
    assert "2024-09-17  八月十五" in out and "中秋" in out
    assert out.count("\n") == 10  # header, six festivals, three farming seasons


def test_preview_shows_without_sending_then_run_enqueues_once(county_db, capsys):
    assert main(["reminders", "preview", "--at", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    assert "telegram 4242" in out and "李一" in out and "rep:h:" in out
    assert "2026-11-20T09:00+08:00" in out  # a bare date means the daily sweep time
    assert _outbox_count(county_db) == 0
    assert main(["reminders", "run", "--at", "2026-11-20T10:30"], clock=LATER) == 0
    assert "已入发件箱 1 条" in capsys.readouterr().out
    assert main(["reminders", "run", "--at", "2026-11-20T11:00"], clock=LATER) == 0
    assert "没有需要发送的提醒" in capsys.readouterr().out
    assert _outbox_count(county_db) == 1


def test_quiet_hours_are_announced(county_db, capsys):
    assert main(["reminders", "preview", "--at", "2026-11-20T23:00"]) == 0
    assert "2026-11-21T08:00+08:00" in capsys.readouterr().out


def test_bad_time_is_a_clear_error(county_db, capsys):
    assert main(["reminders", "preview", "--at", "11月20日"]) == 2
    assert "时间格式不对" in capsys.readouterr().err


def test_a_future_run_is_refused_with_what_to_do_instead(county_db, capsys):
    # Once it printed 已入发件箱 and held the messages until then, silently.
    today = FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=SH))
    assert main(["reminders", "run", "--at", "2026-12-20T09:00"], clock=today) == 2
    err = capsys.readouterr().err
    assert "将来的时间" in err and "bangfu reminders preview --at 2026-12-20T09:00" in err
    assert _outbox_count(county_db) == 0
    # A preview may look ahead; today's bare date is today, not "later today".
    assert main(["reminders", "preview", "--at", "2026-12-20T09:00"], clock=today) == 0
    early = FixedClock(datetime(2026, 11, 20, 7, 0, tzinfo=SH))
    capsys.readouterr()
    assert main(["reminders", "run", "--at", "2026-11-20"], clock=early) == 0
    out = capsys.readouterr().out
    assert "已入发件箱 1 条" in out and "将于 2026-11-20 08:00 起发送" in out  # quiet until 8


def test_a_past_run_is_a_back_fill(county_db, capsys):
    today = FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=SH))
    assert main(["reminders", "run", "--at", "2026-11-20T10:30"], clock=today) == 0
    out = capsys.readouterr().out
    assert "已入发件箱 1 条" in out and "将于 2026-11-30 10:00 起发送" in out
    assert main(["outbox", "status"], clock=today) == 0
    assert "1 条已到发送时间" in capsys.readouterr().out


def _run_due_jobs(url: str, at: datetime) -> None:
    """What `bangfu run`'s dispatcher does when a scheduled job's row falls due."""

    async def go() -> None:
        settings = load_settings()
        db = Database(url)
        host = SimpleNamespace(db=db, settings=settings)  # what jobs_for reads
        dispatcher = Dispatcher(
            db,
            [JobSender(jobs_for(host))],  # type: ignore[arg-type]
            settings=settings.dispatch,
            clock=FixedClock(at),
            policy=settings.policy,
        )
        await dispatcher.run_once()
        await db.dispose()

    asyncio.run(go())


def _reminders(url: str) -> list[tuple[str, datetime]]:
    async def read() -> list[tuple[str, datetime]]:
        db = Database(url)
        async with db.sessions() as s:
            rows = await s.execute(
                select(OutboxMessage.dedupe_key, OutboxMessage.next_attempt_at).where(
                    OutboxMessage.kind == "reminder"
                )
            )
            out = [(k, at) for k, at in rows.all()]
        await db.dispose()
        return out

    return asyncio.run(read())


def test_a_future_run_with_schedule_sweeps_at_that_moment(county_db, capsys):
    today = FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=SH))
    argv = ["reminders", "run", "--at", "2026-12-20T23:00", "--schedule"]
    assert main(argv, clock=today) == 0
    out = capsys.readouterr().out
    # Exactly when: the sweep at 23:00, its reminders after the quiet hours.
    assert "已安排：2026-12-20 23:00 执行一次提醒扫描" in out
    assert "提醒于 2026-12-21 08:00 起发送" in out
    assert _reminders(county_db) == []  # nothing computed today
    assert main(argv, clock=today) == 0
    assert "已经安排过了" in capsys.readouterr().out
    assert main(["outbox", "status"], clock=today) == 0
    assert "已安排：提醒扫描 于 2026-12-20 23:00 执行（等待中）" in capsys.readouterr().out
    _run_due_jobs(county_db, datetime(2026, 12, 20, 22, 59, tzinfo=SH))
    assert _reminders(county_db) == []  # not yet due
    _run_due_jobs(county_db, datetime(2026, 12, 20, 23, 0, 30, tzinfo=SH))
    reminders = _reminders(county_db)
    assert len(reminders) == 1 and "2026-12-20" in reminders[0][0]
    assert reminders[0][1].replace(tzinfo=UTC) == datetime(2026, 12, 21, 0, 0, tzinfo=UTC)
    assert main(["outbox", "status"], clock=today) == 0
    out = capsys.readouterr().out
    assert "已安排" not in out and "pending：1 条" in out
