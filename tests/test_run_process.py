"""`bangfu run` as a real process: answers over Telegram, stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.tg_support import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_run_answers_and_stops_gracefully(
    sig: signal.Signals, sqlite_template: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "bangfu.db"
    shutil.copy(sqlite_template, db_path)
    async with FakeTelegram() as tg:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")},
            "BANGFU_DATABASE_URL": f"sqlite:///{db_path}",
            "BANGFU_TELEGRAM__ENABLED": "true",
            "BANGFU_TELEGRAM__TOKEN": tg.token,
            "BANGFU_TELEGRAM__API_URL": tg.base_url,
            "BANGFU_WEB__PORT": str(free_port()),
            "BANGFU_LOG__LEVEL": "DEBUG",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await tg.wait_for("getUpdates", within=30)
            tg.push(tg.updates.text(TgUser(5150, "路人"), "你好"))
            await tg.wait_for("sendMessage", within=30)
            assert "绑定" in tg.texts(5150)[0]
            proc.send_signal(sig)
            async with asyncio.timeout(30):
                _, err = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    log = err.decode()
    assert "stopping" in log
    assert tg.token not in log  # the token is part of every Bot API URL: never logged
