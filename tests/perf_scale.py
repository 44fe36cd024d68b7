"""Scale-out throughput: 1, 2 and 4 `bangfu run` processes in webhook mode on one PostgreSQL.

A benchmark, not a test (it prints figures); it lives with the tests because it drives the
fake Bot API in tests/fakes, which bench/ may not import.

    python -m tests.perf_scale --pg postgresql://postgres@127.0.0.1:5432/test
    python -m tests.perf_scale --pg URL --procs 1 2 4 --cadres 100 --messages 10

Each of `--cadres` cadres sends `--messages` messages one after the other (closed loop):
a one-line report (the confirmation card comes back), then ✅ 确认保存 (committed →
已保存), and so on. Message k of cadre u is posted to process (u + k) mod N, so every
conversation moves between the processes. A webhook POST is answered after the update's
answers went out, so the latency is POST → 200. Per-chat pacing is lifted (100/s, as in
perf_inbound) to measure the machinery, not the rule.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade_async
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import SECRET_HEADER, TgUser
from tests.perf_inbound import seed_cadres
from tests.tg_support import WEBHOOK_SECRET, free_port

ROOT = Path(__file__).resolve().parent.parent


async def spawn(url: str, schema: str, tg: FakeTelegram, tmp: str, pool: int) -> tuple[Any, str]:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")},
        "PYTHONPATH": str(ROOT),
        "BANGFU_DATABASE_URL": url,
        "BANGFU_DATABASE_SCHEMA": schema,
        "BANGFU_DATABASE_POOL_SIZE": str(pool),
        "BANGFU_TELEGRAM__ENABLED": "true",
        "BANGFU_TELEGRAM__TOKEN": tg.token,
        "BANGFU_TELEGRAM__API_URL": tg.base_url,
        "BANGFU_TELEGRAM__MODE": "webhook",
        "BANGFU_TELEGRAM__WEBHOOK_URL": hook,
        "BANGFU_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BANGFU_WEB__PORT": str(port),
        "BANGFU_SCHEDULE__ENABLED": "false",
        "BANGFU_POLICY__QUIET_START": "00:00",
        "BANGFU_POLICY__QUIET_END": "00:00",
        "BANGFU_DISPATCH__TELEGRAM_PER_CHAT": "100/s",
        "BANGFU_DISPATCH__TELEGRAM_OVERALL": "1000/s",
        "BANGFU_LOG__LEVEL": "WARNING",
        "BANGFU_MEDIA_DIR": f"{tmp}/media-{port}",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    async with asyncio.timeout(60), aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return proc, hook
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


def confirm(tg: FakeTelegram, user: TgUser) -> dict[str, Any]:
    for msg in reversed(tg.sent(user.id)):
        for line in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in line:
                if "确认保存" in button.get("text", ""):
                    return tg.updates.callback(user, msg, button["callback_data"])
    raise AssertionError("no confirmation card")


async def run(url: str, procs: int, cadres: int, messages: int, pool: int) -> str:
    schema = f"bench_scale_{os.getpid()}_{procs}"
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await upgrade_async(url, schema=schema)
    users = [TgUser(700_000 + i, f"干部{i}") for i in range(cadres)]
    db = Database(url, schema=schema)
    await seed_cadres(db, users)
    await db.dispose()
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeTelegram() as tg:
            started = [await spawn(url, schema, tg, tmp, pool) for _ in range(procs)]
            hooks = [hook for _, hook in started]
            headers = {"Content-Type": "application/json", SECRET_HEADER: WEBHOOK_SECRET}
            conn = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=conn) as http:

                async def one(n: int, user: TgUser) -> None:
                    for k in range(messages):
                        if k % 2 == 0:
                            update = tg.updates.text(user, f"今天去户{user.id}家走访，看了新房{k}")
                        else:
                            update = confirm(tg, user)
                        t0 = time.perf_counter()
                        async with http.post(
                            hooks[(n + k) % procs], json=update, headers=headers
                        ) as resp:
                            await resp.read()
                            assert resp.status == 200
                        latencies.append(time.perf_counter() - t0)

                began = time.perf_counter()
                await asyncio.wait_for(
                    asyncio.gather(*(one(n, u) for n, u in enumerate(users))), 900
                )
                elapsed = time.perf_counter() - began
            saved = sum(1 for t in tg.texts() if "已保存" in t)
            for proc, _ in started:
                proc.terminate()
            for proc, _ in started:
                await proc.wait()
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    return (
        f"| {procs} | {len(lat) / elapsed:,.0f} | {p50:,.0f} ms | {p99:,.0f} ms "
        f"| {saved} of {cadres * messages // 2} |"
    )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", required=True, help="PostgreSQL URL")
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--cadres", type=int, default=100)
    ap.add_argument("--messages", type=int, default=10)
    ap.add_argument("--pool", type=int, default=6, help="BANGFU_DATABASE_POOL_SIZE")
    args = ap.parse_args()
    print(f"# {args.cadres} cadres × {args.messages} messages, closed loop, webhook, PostgreSQL")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}, pool {args.pool}; "
        f"load before: {os.getloadavg()[0]:.2f}"
    )
    print("| processes | replies/s | p50 | p99 | reports saved |")
    print("|---|---|---|---|---|")
    for n in args.procs:
        print(await run(args.pg, n, args.cadres, args.messages, args.pool), flush=True)
    print(f"# load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
