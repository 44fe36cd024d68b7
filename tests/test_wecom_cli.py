"""`bangfu group add-wecom` registers a unit's group robot, keeping its key off the screen."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.cli.wecom import normalize_key
from storage.db import Database
from storage.models import AuditLog, Cadre, SupervisorGroup, Unit
from tests.fakes.wecom_api import FakeWecom

KEY = "693a91f6-7c2e-4bc4-97a0-0ec2f1a5aaa1"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def db_url(sqlite_template, tmp_path, monkeypatch):
    """A migrated SQLite file with two units, found by the CLI through BANGFU_DATABASE_URL."""
    monkeypatch.chdir(tmp_path)  # no stray bangfu.toml
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("BANGFU_DATABASE_URL", url)

    async def seed() -> None:
        db = Database(url)
        async with db.transaction() as s:
            s.add(Unit(name="博白县", path="博白县", depth=0))
            await s.flush()
            county = await s.scalar(select(Unit))
            s.add(Unit(name="顿谷镇", path="博白县/顿谷镇", depth=1, parent_id=county.id))
        await db.dispose()

    asyncio.run(seed())
    return url


def _rows(url: str):
    async def fetch():
        db = Database(url)
        async with db.transaction() as s:
            groups = (await s.scalars(select(SupervisorGroup))).all()
            audits = (await s.scalars(select(AuditLog))).all()
            units = {u.id: u.path for u in (await s.scalars(select(Unit))).all()}
        await db.dispose()
        return groups, audits, units

    return asyncio.run(fetch())


def test_add_wecom_registers_the_robot_once_and_never_prints_the_key(db_url, capsys):
    args = ["group", "add-wecom", "--unit", "博白县/顿谷镇", "--webhook-key", KEY]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "已登记群机器人" in out and "693a…" in out and KEY not in out and KEY[4:] not in out
    # Again, with the whole webhook URL pasted: the same group, moved to the county.
    url_form = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"
    assert main(["group", "add-wecom", "--unit", "博白县", "--webhook-key", url_form]) == 0
    assert "已更新" in capsys.readouterr().out
    groups, audits, units = _rows(db_url)
    assert [(g.channel, g.chat_id, units[g.unit_id], g.active) for g in groups] == [
        ("wecom_robot", KEY, "博白县", True)
    ]
    assert len(audits) == 2 and all(KEY not in str(a.detail) for a in audits)


def test_unknown_unit_is_a_clear_error(db_url, capsys):
    assert main(["group", "add-wecom", "--unit", "博白县/没有镇", "--webhook-key", KEY]) == 2
    err = capsys.readouterr().err
    assert "找不到单位：博白县/没有镇" in err
    assert _rows(db_url)[0] == []


def test_malformed_key_is_refused(db_url, capsys):
    assert main(["group", "add-wecom", "--unit", "博白县", "--webhook-key", "no key!"]) == 2
    assert "webhook key" in capsys.readouterr().err
    assert _rows(db_url)[0] == []


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (KEY, KEY),
        (f" {KEY} ", KEY),
        (f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}", KEY),
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send", None),
        ("短", None),
    ],
)
def test_normalize_key(raw, key):
    assert normalize_key(raw) == key


def test_invite_tells_how_to_bind_on_wecom_when_it_is_on(db_url, capsys, monkeypatch):
    async def add_cadre() -> None:
        db = Database(db_url)
        async with db.transaction() as s:
            unit = await s.scalar(select(Unit).where(Unit.path == "博白县"))
            s.add(Cadre(name="王建国", unit_id=unit.id, phone="13800000001", created_at=NOW))
        await db.dispose()

    asyncio.run(add_cadre())
    assert main(["invite", "create", "--phone", "13800000001"]) == 0
    assert "企业微信" not in capsys.readouterr().out
    monkeypatch.setenv("BANGFU_WECOM__ENABLED", "true")
    assert main(["invite", "create", "--phone", "13800000001"]) == 0
    out = capsys.readouterr().out
    code = re.search(r"绑定码：(\w+)", out).group(1)
    assert f"企业微信：在应用里发送「绑定 {code}」" in out


@pytest.fixture
def robot_server():
    """The fake WeCom server on its own loop in a thread (the CLI runs its own asyncio.run)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeWecom(robot_keys={KEY})
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_add_wecom_with_test_message(db_url, capsys, monkeypatch, robot_server):
    monkeypatch.setenv("BANGFU_WECOM__API_URL", robot_server.url)
    args = ["group", "add-wecom", "--unit", "博白县", "--webhook-key", KEY, "--test"]
    assert main(args) == 0
    assert "测试消息已发出" in capsys.readouterr().out
    (message,) = robot_server.robot_sent[KEY]
    assert "帮扶助手已接入本群（博白县）" in message["markdown"]["content"]
    other = "0c1d2e3f-dead-beef-97a0-0ec2f1a5bbbb"  # not a robot WeCom knows
    args = ["group", "add-wecom", "--unit", "博白县", "--webhook-key", other, "--test"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "测试消息发送失败" in out and "93000" in out and other not in out


def _wecom_env(monkeypatch, fake: FakeWecom, **changes: str) -> None:
    values = {
        "CORP_ID": fake.corp_id,
        "AGENT_ID": str(fake.agent_id),
        "SECRET": fake.secret,
        "TOKEN": "QDG6eK",
        "ENCODING_AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        "API_URL": fake.url,
        **changes,
    }
    for name, value in values.items():
        monkeypatch.setenv(f"BANGFU_WECOM__{name}", value)


def test_wecom_check_tries_the_credentials_and_messages_a_member(
    db_url, capsys, monkeypatch, robot_server
):
    _wecom_env(monkeypatch, robot_server)
    assert main(["wecom", "check", "--send-to", "zhangsan"]) == 0
    out = capsys.readouterr().out
    assert "凭据有效" in out and "测试消息已发给 zhangsan" in out
    assert robot_server.texts_to("zhangsan") == ["✅ 帮扶助手测试消息：企业微信应用已接通。"]
    assert main(["wecom", "check", "--send-to", "nobody"]) == 1
    assert "不在应用的可见范围" in capsys.readouterr().out


def test_wecom_check_explains_a_wrong_secret_without_showing_it(
    db_url, capsys, monkeypatch, robot_server
):
    _wecom_env(monkeypatch, robot_server, SECRET="wrong-secret-value")
    assert main(["wecom", "check"]) == 1
    out = capsys.readouterr().out
    assert "40001" in out and "Secret 不对" in out and "wrong-secret-value" not in out


def test_wecom_check_names_a_missing_setting(db_url, capsys, monkeypatch, robot_server):
    _wecom_env(monkeypatch, robot_server, TOKEN="")
    assert main(["wecom", "check"]) == 2
    assert "BANGFU_WECOM__TOKEN" in capsys.readouterr().err
