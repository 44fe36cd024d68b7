"""GET /metrics on the bot's web port, in Prometheus' text format, after real work.

The running process (Telegram against the fake Bot API) answers a message, the real sweep
job runs through the job runner, the dispatcher meets a chat that blocked the bot, and a
scrape shows each: updates handled, reply latency, the outbox by state, send failures by
platform and code, and the sweep's duration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.config import DispatchSettings
from bot.dispatch import Dispatcher
from bot.run import Runtime, start
from bot.schedule import SWEEP, JobRunner, build_triggers
from bot.services import jobs_for
from core.clock import FixedClock
from core.types import Channel
from storage import outbox
from storage.db import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.seed import seed
from tests.tg_support import Phone, bot_settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # a reminder day, outside quiet hours
BLOCKED_CHAT = 990001


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(rt: Runtime) -> tuple[str, Samples]:
    url = f"http://127.0.0.1:{rt.settings.web.port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == 200
        content_type, body = resp.headers["Content-Type"], await resp.text()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    return content_type, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def bot(db: Database) -> AsyncIterator[tuple[FakeTelegram, Runtime]]:
    async with FakeTelegram() as tg:
        # Only the metrics part among the services: no scheduler firing on its own.
        rt = await start(
            bot_settings(tg, poll_timeout=1), db=db, clock=FixedClock(NOW), services=[metrics.plug]
        )
        try:
            yield tg, rt
        finally:
            await rt.stop()


async def test_a_scrape_shows_updates_latency_outbox_failures_and_job_durations(
    bot: tuple[FakeTelegram, Runtime], db: Database
) -> None:
    tg, rt = bot
    await seed(db, NOW)
    content_type, before = await scrape(rt)
    assert content_type.startswith("text/plain; version=")  # the Prometheus text format

    # Two messages from a stranger, each answered.
    phone = Phone(tg, rt, TgUser(5150, "路人"))
    assert await phone.say("你好") and await phone.say("在吗")

    # The real sweep job: reminders for the seeded cadre wait in the outbox (not bound:
    # nothing to send to, so the outbox holds what the test puts there).
    runner = JobRunner(
        db, {SWEEP: jobs_for(rt.host)[SWEEP]}, build_triggers(rt.settings.schedule, TZ),
        clock=FixedClock(NOW),
    )  # fmt: skip
    for _ in range(100):
        if await runner.run(SWEEP, NOW):
            break
        # The job's advisory lock is server-wide on PostgreSQL: another test run on the same
        # server may hold it for a moment.
        await asyncio.sleep(0.2)
    else:
        pytest.fail("the sweep job never ran")

    # Three messages queued; one to a chat that blocked the bot, sent and refused (403).
    async with db.transaction() as s:
        await outbox.enqueue(
            s,
            [
                outbox.NewMessage(f"m{i}", Channel.TELEGRAM, str(chat), "reminder", {"text": "x"})
                for i, chat in enumerate([BLOCKED_CHAT, 990002, 990003])
            ],
            now=NOW,
        )
    tg.block(BLOCKED_CHAT)
    senders = [rt.senders[Channel.TELEGRAM]]
    dispatcher = Dispatcher(db, senders, settings=DispatchSettings(), clock=FixedClock(NOW))
    stats = await dispatcher.run_once()
    assert (stats.sent, stats.blocked) == (2, 1), stats

    _, after = await scrape(rt)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("bangfu_updates_total", channel="telegram") == 2
    assert delta("bangfu_reply_seconds_count", channel="telegram") == 2
    assert delta("bangfu_reply_seconds_sum", channel="telegram") > 0
    assert delta("bangfu_send_failures_total", platform="telegram", code="403") == 1
    assert delta("bangfu_job_seconds_count", job="sweep") == 1
    assert value(after, "bangfu_outbox_messages", state="sent") == 2
    assert value(after, "bangfu_outbox_messages", state="failed") == 1
    assert value(after, "bangfu_outbox_messages", state="pending") == 0
    # No chat id or name in any label: only platforms, codes, states and job names.
    labels = {v for (_, pairs) in after for (_, v) in pairs}
    assert not {"5150", str(BLOCKED_CHAT), "路人", "王建国"} & labels
