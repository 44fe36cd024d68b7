"""`bangfu web` as a real process: the console alone, stopped cleanly by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

import aiohttp

from tests.tg_support import free_port

ROOT = Path(__file__).resolve().parent.parent


async def test_bangfu_web_serves_the_sign_in_page(sqlite_template: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "bangfu.db"
    shutil.copy(sqlite_template, db_path)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")},
        "BANGFU_DATABASE_URL": f"sqlite:///{db_path}",
        "BANGFU_WEB__PORT": str(port),
        "BANGFU_WEB__CONSOLE": "false",  # `bangfu web` serves the console regardless
        "PYTHONPATH": str(ROOT),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        body = ""
        async with asyncio.timeout(60), aiohttp.ClientSession() as http:
            while "登录" not in body:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/console/login") as r:
                        body = await r.text()
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert 'type="password"' in body
