"""Logs hold no message text, name, phone number, invite code or secret, even at DEBUG.

A cadre enrols and reports over Telegram (the real library against the fake Bot API),
the morning reminder goes out, and the weekly digest reaches a WeCom group robot, with the
process's own logging set up at DEBUG. The log is then searched for every piece of personal
data and every secret that went through: none may be there. With the debugging setting on,
the same flow does log them (so the search would find them).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.channels.wecom.robot import RobotSender
from bot.config import DispatchSettings, LogSettings, Settings
from bot.dispatch import Dispatcher
from bot.logs import PAYLOAD_LOGGERS, setup_logging
from bot.run import start
from core.clock import FixedClock
from core.policy import Policy
from core.types import Channel
from reminders.digest_send import enqueue_digests
from reminders.sweep import run_sweep
from storage.db import Database
from storage.people import register_group
from tests.clocks import RunningClock
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.fakes.wecom_api import FakeWecom
from tests.seed import seed
from tests.tg_support import Phone, bot_settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # a monthly-contact reminder day
ROBOT_KEY = "693a91f6-7c2e-4bc4-97a0-0ec2f1a5aaa1"
REPORT = "今天去张三家走访了，看了新盖的鸡舍"
TYPED = "张三家 13912345678 鸡舍"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """setup_logging changes process-wide logger state: put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in PAYLOAD_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lvl in levels.items():
        logging.getLogger(name).setLevel(lvl)


@pytest.fixture
async def robot_fake() -> AsyncIterator[FakeWecom]:
    fake = await FakeWecom(robot_keys={ROBOT_KEY}).start()
    yield fake
    await fake.close()


async def _whole_flow(
    db: Database, settings: Settings, tg: FakeTelegram, wecom: FakeWecom
) -> tuple[str, str]:
    """Enrol, report, reminder, robot digest: the log the process wrote, and the invite code."""
    out = io.StringIO()
    handler = setup_logging(settings, stream=out)
    roster = await seed(db, NOW)
    rt = await start(settings, db=db, clock=FixedClock(NOW), services=[])
    try:
        phone = Phone(tg, rt, TgUser(880001, "王建国"))
        assert any("绑定成功" in t for t in await phone.command("start", roster.code))
        await phone.say(REPORT)
        assert any("已保存" in t for t in await phone.tap("确认保存"))
        async with db.transaction() as s:
            await register_group(
                s,
                channel=Channel.WECOM_ROBOT,
                chat_id=ROBOT_KEY,
                unit_id=roster.county_id,
                title="博白县督导群",
                now=NOW,
            )
        await run_sweep(db, NOW, Policy())
        await enqueue_digests(db, NOW, Policy())
        async with aiohttp.ClientSession() as session:
            senders: list[Any] = [
                rt.senders[Channel.TELEGRAM],
                RobotSender(session, base_url=wecom.url),
            ]
            # A running clock: the answers just sent are in the shared send history, and this
            # second dispatcher waits out the chat's one-a-second limit before the reminder.
            dispatcher = Dispatcher(
                db, senders, settings=DispatchSettings(), clock=RunningClock(NOW)
            )
            stats = await dispatcher.run_once()
        assert stats.sent >= 3 and stats.failed == 0, stats
        assert any("李四" in t for t in tg.texts(880001))  # the reminder arrived
        assert wecom.robot_sent[ROBOT_KEY]  # the digest arrived
    finally:
        await rt.stop()
        logging.getLogger().removeHandler(handler)
    return out.getvalue(), roster.code


def _forbidden(code: str, tg: FakeTelegram) -> list[str]:
    return [
        "王建国",  # the cadre's name (roster and Telegram profile)
        "张三",  # a household head's name
        "李四",
        "13800000001",  # the cadre's phone number
        "鸡舍",  # the text of the report
        code,  # the plaintext invite code
        tg.token,  # the bot token
        ROBOT_KEY,  # the WeCom group robot's key
    ]


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_debug_logs_of_a_whole_flow_hold_no_personal_data_or_secret(
    fmt: str, db: Database, robot_fake: FakeWecom
) -> None:
    async with FakeTelegram() as tg:
        settings = bot_settings(tg, poll_timeout=1).model_copy(
            update={"log": LogSettings(level="DEBUG", format=fmt)}
        )
        text, code = await _whole_flow(db, settings, tg, robot_fake)
        found = [s for s in _forbidden(code, tg) if s in text]
    assert found == [], found
    # The log was live: our own records are there (the dispatcher's round, with its ids).
    assert "dispatch round" in text and "telegram: polling" in text
    if fmt == "json":
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert len(lines) == len(text.splitlines())  # one object a line, nothing else
        assert {"time", "level", "logger", "message"} <= set(lines[0])


@pytest.mark.usefixtures("restore_logging")
async def test_the_debugging_setting_does_let_personal_data_through(
    db: Database, robot_fake: FakeWecom
) -> None:
    async with FakeTelegram() as tg:
        settings = bot_settings(tg, poll_timeout=1).model_copy(
            update={"log": LogSettings(level="DEBUG", personal_data=True)}
        )
        text, _ = await _whole_flow(db, settings, tg, robot_fake)
        assert tg.token not in text  # secrets stay out even then
    assert "鸡舍" in text  # the library's request log carries the message


def test_secrets_in_urls_and_mobile_numbers_are_scrubbed_from_any_record(
    restore_logging: None,
) -> None:
    out = io.StringIO()
    handler = setup_logging(Settings(), stream=out)
    try:
        logging.getLogger("bot.x").warning(
            "POST https://h/cgi-bin/webhook/send?key=%s failed for %s", ROBOT_KEY, "13912345678"
        )
        logging.getLogger("bot.x").warning("GET /cgi-bin/gettoken?corpid=ww&corpsecret=abc123xyz")
    finally:
        logging.getLogger().removeHandler(handler)
    text = out.getvalue()
    assert ROBOT_KEY not in text and "13912345678" not in text and "abc123xyz" not in text
    assert "webhook/send?key=[REDACTED]" in text


def test_tracebacks_keep_frames_and_types_but_not_messages(restore_logging: None) -> None:
    """An exception's message may quote what a cadre typed: withheld unless debugging."""

    def parse(text: str) -> int:
        return int(text)

    def failing() -> None:
        try:
            parse(TYPED)  # the source line shows the name, never the value
        except ValueError as exc:
            raise RuntimeError(f"could not read {exc}") from exc

    texts = []
    for personal in (False, True):
        out = io.StringIO()
        settings = Settings(log=LogSettings(personal_data=personal))
        handler = setup_logging(settings, stream=out)
        try:
            failing()
        except RuntimeError:
            logging.getLogger("bot.x").exception("handling failed")
        finally:
            logging.getLogger().removeHandler(handler)
        texts.append(out.getvalue())
    withheld, debugging = texts
    assert "鸡舍" not in withheld and "张三" not in withheld
    assert "builtins.RuntimeError: [message withheld]" in withheld
    assert "builtins.ValueError: [message withheld]" in withheld and "in parse" in withheld
    assert "鸡舍" in debugging and "13912345678" not in debugging  # numbers scrubbed even then
