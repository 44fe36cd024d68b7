"""`bangfu digest preview|send` on a SQLite file."""

from __future__ import annotations

import asyncio
import shutil

from sqlalchemy import func, select

from bot.cli import main
from storage.db import Database
from storage.models import OutboxMessage
from tests.digest_factories import CountyBuilder, sample_county


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
    assert main(argv) == 0 and main(argv) == 0
    assert "1 个群" in capsys.readouterr().out
    assert _outbox_count(url) == 3  # the text, the chart and the 考核 ranking, once
