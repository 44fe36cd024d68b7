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
