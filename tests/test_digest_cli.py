"""`bangfu digest preview|send` on a SQLite file."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.cli import main
from core.clock import FixedClock
from storage.db import Database
from storage.models import OutboxMessage
from tests.digest_factories import CountyBuilder, sample_county
from tests.test_reminders_cli import _run_due_jobs


def _county(path, template) -> str:
    shutil.copy(template, path)
    url = f"sqlite:///{path}"

    async def build() -> None:
        db = Database(url)
        await sample_county(db)
        async with db.transaction() as s:
            await CountyBuilder(s).group("博白县/顿谷镇", "telegram", "-1001")
        await db.dispose()

    asyncio.run(build())
    return url


SH = ZoneInfo("Asia/Shanghai")


def _outbox_count(url: str) -> int:
    async def count() -> int:
        db = Database(url)
        async with db.sessions() as s:
            n = await s.scalar(select(func.count()).select_from(OutboxMessage))
        await db.dispose()
        return int(n or 0)

    return asyncio.run(count())


def test_preview_prints_digest_and_writes_chart(tmp_path, sqlite_template, capsys):
    url = _county(tmp_path / "c.db", sqlite_template)
    chart = tmp_path / "chart.png"
    argv = ["digest", "preview", "--url", url, "--unit", "博白县/顿谷镇", "--at", "2026-11-23"]
    assert main([*argv, "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "顿谷镇 周汇总（截至11月23日）" in out and "张三（2户）" in out and "沙河镇" not in out
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert main(["digest", "preview", "--url", url, "--unit", "无此县"]) == 1
    assert "找不到单位" in capsys.readouterr().err
    assert main([*argv[:-1], "11月23日"]) == 2


def test_send_enqueues_once(tmp_path, sqlite_template, capsys):
    url = _county(tmp_path / "c.db", sqlite_template)
    argv = ["digest", "send", "--url", url, "--at", "2026-12-01T08:30", "--monthly"]
    clock = FixedClock(datetime(2026, 12, 1, 8, 30, tzinfo=SH))
    assert main(argv, clock=clock) == 0 and main(argv, clock=clock) == 0
    assert "1 个群" in capsys.readouterr().out
    assert _outbox_count(url) == 3  # the text, the chart and the 考核 ranking, once


def _rows(url: str) -> list[tuple[str, datetime]]:
    async def read() -> list[tuple[str, datetime]]:
        db = Database(url)
        async with db.sessions() as s:
            rows = (
                await s.execute(select(OutboxMessage.dedupe_key, OutboxMessage.next_attempt_at))
            ).all()
        await db.dispose()
        return [(k, t) for k, t in rows]

    return asyncio.run(read())


def test_a_future_send_is_refused_and_the_real_run_still_goes(tmp_path, sqlite_template, capsys):
    # Once a future --at queued today's figures under that week's key: the real digest never went.
    url = _county(tmp_path / "c.db", sqlite_template)
    today = FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=SH))
    argv = ["digest", "send", "--url", url, "--at", "2026-12-07T08:30"]
    assert main(argv, clock=today) == 2
    err = capsys.readouterr().err
    assert "将来的时间" in err and "2026-12-07 08:30" in err and "不会发送" in err
    assert _outbox_count(url) == 0
    monday = FixedClock(datetime(2026, 12, 7, 8, 30, tzinfo=SH))
    assert main(argv, clock=monday) == 0
    assert "将于 2026-12-07 08:30 起发送" in capsys.readouterr().out
    assert _outbox_count(url) == 2


def test_a_past_send_is_a_back_fill_that_goes_now(tmp_path, sqlite_template, capsys):
    url = _county(tmp_path / "c.db", sqlite_template)
    now = datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    argv = ["digest", "send", "--url", url, "--at", "2026-11-23T08:30"]
    assert main(argv, clock=FixedClock(now)) == 0
    assert "将于 2026-11-30 10:00 起发送" in capsys.readouterr().out
    rows = _rows(url)
    assert rows and all(at <= now for _, at in rows)
    assert all(":2026-W48:" in key for key, _ in rows)  # the week asked for, not this one


def test_a_future_send_with_schedule_is_computed_then_and_leaves_the_real_run(
    tmp_path, sqlite_template, capsys, monkeypatch
):
    url = _county(tmp_path / "c.db", sqlite_template)
    monkeypatch.setenv("BANGFU_DATABASE_URL", url)
    today = FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=SH))
    argv = ["digest", "send", "--url", url, "--at", "2026-12-07T08:30"]
    assert main([*argv, "--schedule"], clock=today) == 0
    out = capsys.readouterr().out
    assert "已安排：2026-12-07 08:30 计算并发送汇总" in out and "2026-12-07 08:30 起发出" in out
    assert _outbox_count(url) == 1  # the job only: no digest computed with today's figures
    assert main(["outbox", "status"], clock=today) == 0
    assert "已安排：周汇总 于 2026-12-07 08:30 执行（等待中）" in capsys.readouterr().out
    # Monday 08:30: the real run is not blocked by it and sends the week's digest …
    monday = FixedClock(datetime(2026, 12, 7, 8, 30, tzinfo=SH))
    assert main(argv, clock=monday) == 0
    digests = [key for key, _ in _rows(url) if not key.startswith("job:")]
    assert len(digests) == 2 and all(":2026-W50:" in key for key in digests)
    # … and the scheduled job, run by the dispatcher at that moment, adds no second copy.
    _run_due_jobs(url, datetime(2026, 12, 7, 8, 30, 20, tzinfo=SH))
    assert sorted(key for key, _ in _rows(url) if not key.startswith("job:")) == sorted(digests)
    assert main(["outbox", "status"], clock=monday) == 0
    assert "已安排" not in capsys.readouterr().out


def test_a_scheduled_digest_alone_is_computed_at_its_moment(
    tmp_path, sqlite_template, capsys, monkeypatch
):
    url = _county(tmp_path / "c.db", sqlite_template)
    monkeypatch.setenv("BANGFU_DATABASE_URL", url)
    today = FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=SH))
    argv = ["digest", "send", "--url", url, "--at", "2026-12-07T08:30", "--schedule"]
    assert main(argv, clock=today) == 0
    _run_due_jobs(url, datetime(2026, 12, 7, 8, 31, tzinfo=SH))
    digests = [(k, at) for k, at in _rows(url) if not k.startswith("job:")]
    assert len(digests) == 2 and all(":2026-W50:" in key for key, _ in digests)
