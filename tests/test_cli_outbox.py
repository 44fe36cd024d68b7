"""`bangfu outbox status|requeue` as an administrator runs them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.cli import main
from storage import outbox
from storage.db import Database
from storage.migrate import upgrade
from tests.dispatch_helpers import START


@pytest.fixture
def admin_db(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'bangfu.db'}"
    upgrade(url)
    monkeypatch.setenv("BANGFU_DATABASE_URL", url)
    return url


def seed(url: str) -> None:
    async def run() -> None:
        db = Database(url)
        try:
            msgs = [
                outbox.NewMessage(f"k{i}", "telegram", str(i), "reminder", {"text": "x"})
                for i in range(3)
            ]
            async with db.transaction() as s:
                await outbox.enqueue(s, msgs, now=START)
                got = await outbox.claim_due(
                    s, worker="w", now=START, lease=timedelta(seconds=60), limit=2
                )
                await outbox.mark_failed(s, got[0].id, worker="w", error="HTTP 502", dead=True)
                await outbox.mark_failed(s, got[1].id, worker="w", error="Bad Request")
        finally:
            await db.dispose()

    asyncio.run(run())


def test_status_and_requeue_dead(admin_db, capsys):
    assert main(["outbox", "status"]) == 0
    assert "发件箱是空的" in capsys.readouterr().out
    seed(admin_db)
    assert main(["outbox", "status"]) == 0
    out = capsys.readouterr().out
    assert "pending：1 条" in out and "dead：1 条" in out and "failed：1 条" in out
    assert main(["outbox", "requeue"]) == 0
    assert "已重新排队 1 条" in capsys.readouterr().out
    main(["outbox", "status"])
    out = capsys.readouterr().out
    assert "pending：2 条" in out and "dead" not in out and "failed：1 条" in out
    assert main(["outbox", "requeue", "--failed"]) == 0
    main(["outbox", "status"])
    assert "pending：3 条" in capsys.readouterr().out


def test_status_says_when_pending_messages_go_and_why(admin_db, capsys):
    # Once `outbox status` said only "pending" with no time and no reason.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from core.clock import FixedClock

    SH = ZoneInfo("Asia/Shanghai")

    now = datetime(2026, 11, 23, 10, 0, tzinfo=SH)

    def msg(key: str, not_before: datetime | None = None) -> outbox.NewMessage:
        return outbox.NewMessage(
            key, "telegram", key, "reminder", {"text": "x"}, None, None, not_before
        )

    async def run() -> None:
        db = Database(admin_db)
        try:
            async with db.transaction() as s:
                await outbox.enqueue(
                    s,
                    [
                        msg("due"),
                        msg("retry"),
                        msg("rate"),
                        msg("quiet", datetime(2026, 11, 24, 8, 0, tzinfo=SH)),
                        msg("later", datetime(2026, 12, 20, 9, 0, tzinfo=SH)),
                    ],
                    now=now,
                )
                got = {
                    r.dedupe_key: r
                    for r in await outbox.claim_due(
                        s, worker="w", now=now, lease=timedelta(seconds=60), limit=3
                    )
                }
                await outbox.retry_later(
                    s, got["retry"].id, worker="w", at=now + timedelta(minutes=5), error="HTTP 502"
                )
                await outbox.defer(s, got["rate"].id, worker="w", at=now + timedelta(seconds=40))
                await outbox.defer(s, got["due"].id, worker="w", at=now)
        finally:
            await db.dispose()

    asyncio.run(run())
    assert main(["outbox", "status"], clock=FixedClock(now)) == 0
    out = capsys.readouterr().out
    assert "pending：5 条" in out
    assert "1 条已到发送时间" in out
    assert "1 条发送失败待重试，最早 2026-11-23 10:05（上次错误：HTTP 502）" in out
    assert "1 条因发送频率限制暂缓，2026-11-23 10:00 起发送" in out
    assert "1 条因免打扰时段暂缓，2026-11-24 08:00 起发送" in out
    assert "1 条定时发送，2026-12-20 09:00 起" in out


def test_status_names_a_reminder_round_under_way(admin_db, capsys):
    """The daily sweep's reminders are made as they are sent: until its round is done,
    `outbox status` says so (the outbox alone would look nearly empty)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from core.policy import Policy
    from reminders.rounds import open_round
    from tests import factories as f

    async def run() -> None:
        db = Database(admin_db)
        try:
            async with db.transaction() as s:
                await f.county(s, cadres=2, households_each=1)
            at = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
            await open_round(db, at, Policy())
        finally:
            await db.dispose()

    asyncio.run(run())
    assert main(["outbox", "status"]) == 0
    out = capsys.readouterr().out
    assert "提醒轮次 2026-11-27：进行中" in out and "发件箱是空的" not in out
