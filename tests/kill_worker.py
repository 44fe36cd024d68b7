"""A dispatcher process for the fault-injection test: sends the outbox to a (fake) Bot API
until SIGTERM; the test SIGKILLs it mid-round.

    python -m tests.kill_worker URL SCHEMA API_URL TOKEN WORKER
"""

from __future__ import annotations

import asyncio
import signal
import sys

from telegram import Bot

from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_send import TelegramSender
from bot.config import DispatchSettings
from bot.dispatch import Dispatcher
from core.clock import SystemClock
from storage.db import Database

SETTINGS = DispatchSettings(
    telegram_overall="200/s",
    telegram_per_chat="1/s",
    lease_seconds=10,
    max_wait_seconds=3,
    batch_size=60,
    concurrency=64,
)


async def main(url: str, schema: str, api_url: str, token: str, worker: str) -> None:
    db = Database(url, schema=schema or None)
    bot = Bot(token, base_url=api_url, request=AiohttpRequest())
    await bot.initialize()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    dispatcher = Dispatcher(
        db, [TelegramSender(bot)], settings=SETTINGS, clock=SystemClock(), worker=worker
    )
    print("ready", flush=True)
    try:
        await dispatcher.run_forever(interval=0.05, stop=stop)
    finally:
        await bot.shutdown()
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
