"""The group robot sender against the fake webhook: splitting, images, limits, secrecy."""

from __future__ import annotations

import base64
import hashlib
import logging

import aiohttp
import pytest

from bot.channels.base import SendError
from bot.channels.wecom.robot import RobotSender, mask_key
from core.types import Button, Reply
from tests.fakes.wecom_api import FakeWecom

KEY = "693a91f6-7c2e-4bc4-97a0-0ec2f1a5aaa1"


class Ticker:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def fake():
    server = FakeWecom(robot_keys={KEY})
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def robot(fake):
    ticker = Ticker()
    async with aiohttp.ClientSession() as session:
        sender = RobotSender(session, base_url=fake.url, monotonic=ticker)
        sender.ticker = ticker  # type: ignore[attr-defined]
        yield sender


def _digest(lines: int) -> str:
    return "## 本周帮扶简报\n" + "\n".join(
        f"- 顿谷镇旧门村 干部{i}：走访 3 户，电话 5 户，逾期 0 户" for i in range(lines)
    )


async def test_long_digest_is_split_under_4096_bytes_and_nothing_lost(fake, robot):
    text = _digest(200)
    assert len(text.encode()) > 3 * 4096
    await robot.send(KEY, Reply(text=text))
    parts = [m["markdown"]["content"] for m in fake.robot_sent[KEY]]
    assert len(parts) >= 4
    assert all(len(p.encode()) <= 4096 for p in parts)
    assert "\n".join(parts) == text


async def test_chart_goes_as_base64_with_md5(fake, robot):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    await robot.send(KEY, Reply(text="本周图表", image_png=png))
    image = fake.robot_sent[KEY][-1]["image"]
    assert base64.b64decode(image["base64"]) == png
    assert image["md5"] == hashlib.md5(png).hexdigest()


async def test_twenty_messages_a_minute_per_robot(fake, robot):
    for i in range(20):
        await robot.send(KEY, Reply(text=f"第{i}条"))
    with pytest.raises(SendError) as exc:
        await robot.send(KEY, Reply(text="第21条"))
    assert exc.value.retry_after == pytest.approx(60) and not exc.value.permanent
    assert len(fake.robot_sent[KEY]) == 20  # the 21st never left
    robot.ticker.t = 60.5
    fake.now += 61
    await robot.send(KEY, Reply(text="第21条"))
    assert len(fake.robot_sent[KEY]) == 21


async def test_a_digest_that_does_not_fit_the_minute_waits_whole(fake, robot):
    for i in range(18):
        await robot.send(KEY, Reply(text=f"第{i}条"))
    robot.ticker.t = 10
    with pytest.raises(SendError) as exc:
        await robot.send(KEY, Reply(text=_digest(200)))  # 4+ messages, only 2 slots
    assert exc.value.retry_after == pytest.approx(50)
    assert len(fake.robot_sent[KEY]) == 18  # not half a digest


async def test_server_rate_limit_is_honoured(fake, robot):
    fake.inject["/cgi-bin/webhook/send"] = [45009]
    with pytest.raises(SendError) as exc:
        await robot.send(KEY, Reply(text="简报"))
    assert exc.value.retry_after == 60


async def test_removed_robot_is_blocked_and_its_key_never_logged(fake, robot, caplog):
    other = "0c1d2e3f-dead-beef-97a0-0ec2f1a5bbbb"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SendError) as exc:
        await robot.send(other, Reply(text="简报"))
    assert exc.value.blocked and exc.value.permanent
    assert other not in str(exc.value)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert other not in ours and other[4:] not in ours
    assert mask_key(other) in ours


async def test_buttons_are_dropped_for_robots(fake, robot):
    await robot.send(KEY, Reply.with_buttons("简报", [[Button("详情", "d")]]))
    assert fake.robot_sent[KEY] == [{"msgtype": "markdown", "markdown": {"content": "简报"}}]
