"""Inbound throughput, closed loop: three bots against one fake Bot API, side by side.

A benchmark, not a test (it prints figures). `python -m bench.inbound` runs it (several
times, with the load average); it lives with the tests because it drives the fake Bot API
in tests/fakes, which bench/ may not import.

    python -m tests.perf_inbound                      # SQLite in a temporary file
    python -m tests.perf_inbound --pg postgresql://postgres@127.0.0.1:5432/test
    python -m tests.perf_inbound --cadres 100 --messages 10 --only bangfu

Each of `--cadres` users sends `--messages` messages, one after the other: the next only
when the bot has answered the previous one (closed loop, as people do). Bots, in one run:

- stock: a python-telegram-bot echo bot, stock settings (httpx, one update at a time);
- aiohttp: the same echo bot with bangfu's AiohttpRequest and its per-chat update processor;
- bangfu: the real `bangfu run` process in polling mode, each cadre bound, alternating a
  one-line report (今天去…家走访，看了新房 → the confirmation card) and the press of
  ✅ 确认保存 (the record is committed → 已保存).

Each bot runs in a process of its own (`--serve`, started by this one), the fake Bot API
and the simulated cadres in this one, so the CPU time per update printed is the bot's
alone (`--one-process` runs the bots in this process, as the first rounds did: the fake API
and the cadres then count too). Prints replies/s, p50 and p99 of the time from the update
being available to the answer arriving at the fake API, that CPU time per update, for
bangfu the database round trips per update (on PostgreSQL with each transaction's BEGIN
and COMMIT, the statements alone in brackets), and bangfu's replies/s as a ratio of each echo
bot's, and (split runs) the CPU this process spent meanwhile per update: the fake API and
the cadres, which a bot making more Bot API calls an update (a press: three) costs more
of, on the same two cores. The per-chat
pacing of answers (1 a second by default) would cap a closed loop at one answer a second a
cadre; `--per-chat` sets it (the default here, 100/s, measures the machinery, not the rule).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import event, text
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_order import PerChatUpdateProcessor
from bot.config import DispatchSettings, ScheduleSettings
from bot.run import settle_heap, start
from core.clock import FixedClock
from storage.db import Database
from storage.migrate import upgrade_async
from tests import factories as f
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.tg_support import bot_settings

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 Beijing: no quiet hours
Step = Callable[[TgUser, int], Awaitable[None]]


class LoopFake(FakeTelegram):
    """The fake Bot API, waking whoever waits for a chat's next answer."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.inbox: dict[int, asyncio.Queue[dict[str, Any]]] = defaultdict(asyncio.Queue)
        self.confirm: dict[int, str] = {}  # each chat's last ✅ button (no scan of all sent)

    async def _m_sendMessage(self, p: dict[str, Any], files: dict[str, bytes]) -> Any:
        msg = await super()._m_sendMessage(p, files)
        for line in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in line:
                if "确认保存" in button.get("text", ""):
                    self.confirm[int(p["chat_id"])] = str(button["callback_data"])
        self.inbox[int(p["chat_id"])].put_nowait(msg)
        return msg

    async def _m_editMessageText(self, p: dict[str, Any], files: dict[str, bytes]) -> Any:
        msg = await super()._m_editMessageText(p, files)  # a card edited into the answer
        self.inbox[int(p["chat_id"])].put_nowait(msg)
        return msg

    def forget(self) -> None:
        """Drop what earlier bots left, so memory and lookups stay flat across the run."""
        self.calls.clear()
        self.messages.clear()


async def answer(tg: LoopFake, chat: int, want: Callable[[dict[str, Any]], bool]) -> None:
    while not want(await tg.inbox[chat].get()):
        pass


@dataclass
class Result:
    name: str
    elapsed: float
    latencies: list[float]
    cpu: float  # process CPU seconds over the loop
    extra: str = ""
    driver: float | None = None  # this process's CPU seconds (fake API + cadres), split runs

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def row(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        cpu = self.cpu / len(lat) * 1000
        driver = "" if self.driver is None else f"{self.driver / len(lat) * 1000:.2f} ms"
        return (
            f"| {self.name} | {self.rate:,.0f} | {p50:,.0f} ms | {p99:,.0f} ms "
            f"| {cpu:.2f} ms | {self.extra} | {driver} |"
        )


async def closed_loop(users: list[TgUser], messages: int, step: Step) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def one(user: TgUser) -> None:
        for n in range(messages):
            t0 = time.perf_counter()
            await step(user, n)
            latencies.append(time.perf_counter() - t0)

    began = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one(u) for u in users)), 600)
    return time.perf_counter() - began, latencies


def echo_app(token: str, base_url: str, fast: bool) -> Application:  # type: ignore[type-arg]
    async def echo(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    builder = Application.builder().token(token).base_url(base_url)
    if fast:
        builder = (
            builder.request(AiohttpRequest())
            .get_updates_request(AiohttpRequest(pool_size=2, read_timeout=15))
            .concurrent_updates(PerChatUpdateProcessor())
        )
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


async def split_run(
    kind: str, tg: LoopFake, users: list[TgUser], messages: int, step: Step, *extra: str
) -> tuple[float, list[float], float, int, float]:
    """Run `kind` in a process of its own (`--serve`); its CPU seconds and statements, and
    this process's CPU seconds meanwhile (the fake API and the cadres)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.perf_inbound", "--serve", kind,
        "--api-url", tg.base_url, "--token", tg.token, *extra,
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    try:
        ready = await asyncio.wait_for(proc.stdout.readline(), 120)
        assert ready.strip() == b"ready", ready
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        driver = time.process_time()
        elapsed, lat = await closed_loop(users, messages, step)
        driver = time.process_time() - driver
        proc.stdin.write(b"stop\n")
        await proc.stdin.drain()
        got = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
        await asyncio.wait_for(proc.wait(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return elapsed, lat, float(got["cpu"]), [int(got["trips"]), int(got["txns"])], driver


async def serve(args: argparse.Namespace) -> None:
    """The bot's side of a split run: start, `ready`; CPU and statements from `go` to `stop`."""
    loop = asyncio.get_running_loop()
    api = cast(FakeTelegram, SimpleNamespace(token=args.token, base_url=args.api_url))
    trips = [0, 0]
    stops: list[Callable[[], Awaitable[Any]]]
    db: Database | None = None
    if args.serve == "bangfu":
        db = Database(args.db, schema=args.schema or None)
        count_statements(db, trips)
        settings = bot_settings(api, poll_timeout=10)
        settings.schedule = ScheduleSettings(enabled=False)
        settings.dispatch = DispatchSettings(
            telegram_per_chat=args.per_chat, telegram_overall="1000/s"
        )
        rt = await start(settings, db=db, clock=FixedClock(NOW))
        settle_heap()  # as `bangfu run` does once started
        stops = [rt.stop, db.dispose]
    else:
        app = echo_app(args.token, args.api_url, fast=args.serve == "aiohttp")
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=10)
        stops = [app.updater.stop, app.stop, app.shutdown]
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # go
    trips[:] = [0, 0]
    direct = 0 if db is None else db.driver_round_trips
    cpu = time.process_time()
    await loop.run_in_executor(None, sys.stdin.readline)  # stop
    cpu = time.process_time() - cpu
    if db is not None:  # and those sent on the driver's connection directly
        trips[0] += db.driver_round_trips - direct
    print(json.dumps({"cpu": cpu, "trips": trips[0], "txns": trips[1]}), flush=True)
    for stop in stops:
        await stop()


def count_statements(db: Database, trips: list[int]) -> None:
    """trips[0] += 1 a statement; trips[1] += 1 a transaction ended (PostgreSQL, not in
    autocommit: its BEGIN and its COMMIT or ROLLBACK are two more round trips)."""

    def count(*_a: Any) -> None:
        trips[0] += 1

    def ended(conn: Any) -> None:  # None: a short transaction's COMMIT on the driver's
        if conn is None or conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            trips[1] += 1

    for engine in db.engines():
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        if db.dialect == "postgresql":
            event.listen(engine.sync_engine, "commit", ended)
            event.listen(engine.sync_engine, "rollback", ended)


async def echo_bot(
    tg: LoopFake, users: list[TgUser], messages: int, fast: bool, split: bool
) -> Result:
    name = "aiohttp echo bot" if fast else "stock PTB echo bot"

    async def step(user: TgUser, n: int) -> None:
        tg.push(tg.updates.text(user, f"回声 {n}"))
        await answer(tg, user.id, lambda _m: True)

    if split:
        kind = "aiohttp" if fast else "stock"
        elapsed, lat, cpu, _, driver = await split_run(kind, tg, users, messages, step)
        return Result(name, elapsed, lat, cpu, driver=driver)
    app = echo_app(tg.token, tg.base_url, fast)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=10)
        cpu = time.process_time()
        elapsed, lat = await closed_loop(users, messages, step)
        cpu = time.process_time() - cpu
        await app.updater.stop()
        await app.stop()
    return Result(name, elapsed, lat, cpu)


async def seed_cadres(db: Database, users: list[TgUser]) -> None:
    async with db.transaction() as s:
        village = await f.unit(s)
        for user in users:
            cadre = await f.cadre(s, f"干部{user.id}")
            home = await f.household(s, f"户{user.id}", village=village)
            await f.pairing(s, cadre, home)
            await f.account(s, cadre, account_id=str(user.id), chat_id=str(user.id))


async def bangfu(
    tg: LoopFake, users: list[TgUser], messages: int, url: str, per_chat: str, split: bool
) -> Result:
    schema = None
    if url.startswith("postgresql"):
        schema = f"bench_inbound_{os.getpid()}"
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
    await upgrade_async(url, schema=schema)
    db = Database(url, schema=schema)
    await seed_cadres(db, users)

    def is_card(m: dict[str, Any]) -> bool:
        return "确认保存" in str(m.get("reply_markup"))

    async def step(user: TgUser, n: int) -> None:
        if n % 2 == 0:
            tg.push(tg.updates.text(user, f"今天去户{user.id}家走访，看了新房{n}"))
            await answer(tg, user.id, is_card)
        else:
            tg.press(user, tg.confirm.pop(user.id))
            await answer(tg, user.id, lambda m: "已保存" in (m.get("text") or ""))

    try:
        if split:
            await db.dispose()
            extra = ["--db", url, "--schema", schema or "", "--per-chat", per_chat]
            elapsed, lat, cpu, trips, driver = await split_run(
                "bangfu", tg, users, messages, step, *extra
            )
        else:
            driver = None
            counted = [0, 0]
            count_statements(db, counted)
            settings = bot_settings(tg, poll_timeout=10)
            settings.schedule = ScheduleSettings(enabled=False)
            settings.dispatch = DispatchSettings(
                telegram_per_chat=per_chat, telegram_overall="1000/s"
            )
            rt = await start(settings, db=db, clock=FixedClock(NOW))
            try:
                counted[:] = [0, 0]
                cpu = time.process_time()
                elapsed, lat = await closed_loop(users, messages, step)
                cpu = time.process_time() - cpu
                trips = counted
            finally:
                await rt.stop()
        n = len(users) * messages
        statements, transactions = trips[0] / n, trips[1] / n
        # PostgreSQL: with BEGIN and COMMIT (the statements alone in brackets).
        per_update = (
            f"{statements + 2 * transactions:.1f} ({statements:.1f})"
            if transactions
            else f"{statements:.1f}"
        )
    finally:
        await db.dispose()
        if schema is not None:
            admin = Database(url)
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    name = f"bangfu, one-line report + confirm ({kind})"
    return Result(name, elapsed, lat, cpu, per_update, driver)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cadres", type=int, default=100)
    ap.add_argument("--messages", type=int, default=10)
    ap.add_argument("--pg", default="", help="PostgreSQL URL (default: SQLite in a temp file)")
    ap.add_argument("--per-chat", default="100/s", help="answers per chat (Telegram: 1/s)")
    ap.add_argument("--only", choices=["stock", "aiohttp", "bangfu"], action="append")
    ap.add_argument(
        "--one-process", action="store_true", help="bots in this process (CPU includes the fake)"
    )
    # The bot's side of a split run (started by this script itself).
    ap.add_argument("--serve", choices=["stock", "aiohttp", "bangfu"], help=argparse.SUPPRESS)
    ap.add_argument("--api-url", help=argparse.SUPPRESS)
    ap.add_argument("--token", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--schema", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        await serve(args)
        return
    split = not args.one_process
    only = set(args.only or ["stock", "aiohttp", "bangfu"])
    users = [TgUser(700_000 + i, f"干部{i}") for i in range(args.cadres)]
    print(f"# {args.cadres} cadres × {args.messages} messages, closed loop")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}"
    )
    where = "this process (the fake API and cadres included)" if not split else "its own process"
    print(f"# each bot in {where}; CPU / update is that process's")
    print(
        "| bot | replies/s | p50 | p99 | CPU / update | DB round trips / update "
        "| fake API + cadres CPU / update |"
    )
    print("|---|---|---|---|---|---|---|")
    results: dict[str, Result] = {}
    async with LoopFake() as tg:
        if "stock" in only:
            results["stock"] = await echo_bot(tg, users, args.messages, fast=False, split=split)
            print(results["stock"].row(), flush=True)
            tg.forget()
        if "aiohttp" in only:
            results["aiohttp"] = await echo_bot(tg, users, args.messages, fast=True, split=split)
            print(results["aiohttp"].row(), flush=True)
            tg.forget()
        if "bangfu" in only:
            with tempfile.TemporaryDirectory() as tmp:
                url = args.pg or f"sqlite:///{tmp}/inbound.db"
                results["bangfu"] = await bangfu(
                    tg, users, args.messages, url, args.per_chat, split
                )
                print(results["bangfu"].row(), flush=True)
    ours = results.get("bangfu")
    for key, goal in (("stock", 2.0), ("aiohttp", 0.7)):
        if ours is not None and key in results:
            ratio = ours.rate / results[key].rate
            print(f"# bangfu / {results[key].name}: {ratio:.2f}× (goal ≥ {goal}×)")


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        asyncio.run(main())
