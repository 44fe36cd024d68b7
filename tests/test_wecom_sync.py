"""`bangfu wecom sync`: cadres bound through the WeCom directory by mobile, no code needed."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import select

from bench.roster_rows import county_rows
from bot.channels.wecom.api import PlainHttp, WecomApi, WecomError
from bot.channels.wecom.directory import Member, find_userids
from bot.cli import adminkit, main
from bot.roster.files import write_rows_csv
from core.clock import FixedClock
from core.i18n import t
from core.policy import Policy
from core.types import Channel, Inbound, InboundKind
from handlers.context import Context
from handlers.core import handle
from storage.db import Database
from storage.models import AuditLog, ChatAccount
from tests.fakes.wecom_api import FakeWecom
from tests.test_cli_admin import admin_db, query  # noqa: F401 (fixture)
from tests.test_wecom_cli import _wecom_env

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 10, 10, 0, tzinfo=TZ)
DIRECTORY = {"13000000000": "zhangwei", "13000000002": "liuyang"}


@pytest.fixture
def fake():
    """The fake WeCom server on its own loop in a thread (the CLI runs its own asyncio.run)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeWecom(mobiles=dict(DIRECTORY), users=set(DIRECTORY.values()))
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    yield server
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def county(admin_db, tmp_path, monkeypatch, capsys, fake):  # noqa: F811
    """Four cadres (13000000000-3) imported, WeCom configured against the fake."""
    monkeypatch.setattr(adminkit, "admin_clock", lambda settings: FixedClock(NOW))
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(20))
    assert main(["roster", "import", str(path)]) == 0
    _wecom_env(monkeypatch, fake)
    capsys.readouterr()
    return admin_db


def _first_message(url: str, userid: str) -> list[str]:
    """What a WeCom member's first plain message is answered with."""

    async def run() -> list[str]:
        db = Database(url)
        try:
            ctx = Context(db=db, clock=FixedClock(NOW), policy=Policy())
            inbound = Inbound(
                channel=Channel.WECOM,
                account_id=userid,
                chat_id=userid,
                message_id=f"m-{userid}",
                kind=InboundKind.TEXT,
                text="我的",
            )
            return [r.text for r in await handle(ctx, inbound)]
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_sync_binds_the_found_and_lists_the_rest(county, fake, capsys):
    assert main(["wecom", "sync", "--per-second", "0"]) == 0
    out = capsys.readouterr().out
    assert "已绑定 2 名干部" in out and "通讯录里找不到 2 名干部" in out
    assert "干部00001（13000000001，测试县/单位01）" in out
    assert "干部00003（13000000003，测试县/单位03）" in out
    accounts = query(county, select(ChatAccount.account_id, ChatAccount.channel))
    assert sorted(accounts) == [("liuyang", "wecom"), ("zhangwei", "wecom")]
    assert fake.count("/cgi-bin/user/getuserid") == 4
    assert "wecom.sync" in [a for (a,) in query(county, select(AuditLog.action))]

    # The first message from a known userid is answered as a bound cadre, no code asked.
    unbound = t("enrol.unbound", "zh")
    assert unbound not in _first_message(county, "zhangwei")
    assert unbound in _first_message(county, "stranger")

    # Run again: only the two not found are looked up; nothing bound twice.
    assert main(["wecom", "sync", "--per-second", "0"]) == 0
    assert fake.count("/cgi-bin/user/getuserid") == 6
    assert len(query(county, select(ChatAccount.id))) == 2


def test_expired_token_is_refreshed_and_the_sync_goes_on(county, fake, capsys):
    assert main(["wecom", "check"]) == 0  # a token is issued
    fake.expire_tokens()
    fake.inject["/cgi-bin/user/getuserid"] = [40014]  # and one refused outright
    assert main(["wecom", "sync", "--per-second", "0"]) == 0
    assert "已绑定 2 名干部" in capsys.readouterr().out
    assert fake.count("/cgi-bin/gettoken") >= 2


def test_untrusted_ip_stops_with_its_explanation(county, fake, capsys):
    fake.trusted_ip = False
    assert main(["wecom", "sync", "--per-second", "0"]) == 1
    captured = capsys.readouterr()
    assert "企业微信错误 60020，同步中止，还有 4 名未查" in captured.err
    assert "可信IP" in captured.err
    assert query(county, select(ChatAccount.id)) == []


def test_token_refused_after_a_refresh_stops_cleanly(county, fake, capsys):
    fake.inject["/cgi-bin/user/getuserid"] = [42001, 42001]
    assert main(["wecom", "sync", "--per-second", "0"]) == 1
    assert "42001" in capsys.readouterr().err


def test_an_errcode_without_its_own_explanation_stops_with_the_general_hint(county, fake, capsys):
    fake.inject["/cgi-bin/user/getuserid"] = [60012]  # an errcode with no explanation of its own
    assert main(["wecom", "sync", "--per-second", "0"]) == 1
    err = capsys.readouterr().err
    assert "企业微信错误 60012，同步中止，还有 4 名未查" in err
    assert t("wecom_cli.hint_other", "zh") in err


def test_sync_of_an_unknown_or_fully_bound_unit(county, fake, capsys):
    assert main(["wecom", "sync", "--unit", "测试县/没有"]) == 2
    assert "测试县/没有" in capsys.readouterr().err
    assert main(["wecom", "sync", "--unit", "测试县/单位00", "--per-second", "0"]) == 0
    assert main(["wecom", "sync", "--unit", "测试县/单位00"]) == 2
    assert "没有需要同步的干部" in capsys.readouterr().err


def test_sync_runs_without_aiohttp_or_cryptography(county, fake):
    """`wecom sync` looks members up over the standard library's HTTP client: it binds the
    same members as on aiohttp and never imports aiohttp or the callback's cipher."""
    code = (
        "import sys\nfrom bot.cli import main\n"
        "status = main(['wecom', 'sync', '--per-second', '0'])\n"
        "print(status, 'aiohttp' in sys.modules, 'cryptography' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    assert "已绑定 2 名干部" in done.stdout
    assert done.stdout.splitlines()[-1] == "0 False False"
    accounts = query(county, select(ChatAccount.account_id))
    assert sorted(a for (a,) in accounts) == ["liuyang", "zhangwei"]


TRANSPORTS = ["aiohttp", "plain"]


@asynccontextmanager
async def _http(kind: str) -> AsyncIterator[aiohttp.ClientSession | PlainHttp]:
    """The bot's aiohttp session, or the CLI's plain http.client one."""
    if kind == "aiohttp":
        async with aiohttp.ClientSession() as session:
            yield session
        return
    plain = PlainHttp(timeout=5)
    try:
        yield plain
    finally:
        plain.close()


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_busy_is_retried_and_a_closed_port_refused_alike_on_both_transports(kind):
    server = await FakeWecom(mobiles=dict(DIRECTORY)).start()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    def api(http: aiohttp.ClientSession | PlainHttp, url: str) -> WecomApi:
        return WecomApi(
            http,
            base_url=url,
            corp_id=server.corp_id,
            secret=server.secret,
            agent_id=server.agent_id,
            sleep=sleep,
        )

    try:
        async with _http(kind) as http:
            server.inject["/cgi-bin/user/getuserid"] = [-1]  # 系统繁忙 once
            data = await api(http, server.url).call(
                "/cgi-bin/user/getuserid", {"mobile": "13000000000"}
            )
            assert data["userid"] == "zhangwei" and slept == [0.5]
            with pytest.raises(WecomError) as err:
                await api(http, "http://127.0.0.1:9").access_token()  # nobody listens there
            assert (err.value.errcode, err.value.errmsg) == (None, "connection refused")
            assert slept == [0.5, 0.5, 1.0]  # three attempts, backing off
    finally:
        await server.close()


async def test_plain_http_reconnects_when_the_server_closed_the_kept_connection():
    """A server that answers one request a connection and then closes it (as one does after
    its keep-alive timeout): each lookup still gets its answer, on a new connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    accepted: list[int] = []

    def serve() -> None:
        for n in range(3):
            conn, _ = listener.accept()
            accepted.append(n)
            with conn:
                conn.recv(65536)
                body = b'{"errcode": 0, "userid": "u%d"}' % n
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
                conn.shutdown(socket.SHUT_RDWR)  # no "Connection: close": the client keeps it

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    plain = PlainHttp(timeout=5)
    try:
        url = f"http://127.0.0.1:{port}/cgi-bin/user/getuserid"
        answers = [
            await plain.exchange("POST", url, {"access_token": "t"}, b"{}") for _ in range(3)
        ]
    finally:
        plain.close()
        thread.join(5)
        listener.close()
    assert answers == [(200, {"errcode": 0, "userid": f"u{n}"}) for n in range(3)]
    assert accepted == [0, 1, 2]


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_rate_limit_waits_and_retries_paced_lookups(kind):
    """45009 after three lookups a minute: the sync waits a minute and carries on."""
    server = await FakeWecom(mobiles=dict(DIRECTORY), lookups_per_minute=3).start()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # the fake's minute passes as we wait
        slept.append(seconds)
        server.now += seconds

    members = [Member(i, f"干部{i}", f"1300000000{i}", "测试县") for i in range(5)]
    try:
        async with _http(kind) as http:
            api = WecomApi(
                http,
                base_url=server.url,
                corp_id=server.corp_id,
                secret=server.secret,
                agent_id=server.agent_id,
                monotonic=lambda: server.now,
            )
            batches: list[dict[int, str]] = []

            async def found(batch: dict[int, str]) -> None:
                batches.append(dict(batch))

            result = await find_userids(
                api, members, per_second=10, sleep=sleep, found=found, batch=2
            )
    finally:
        await server.close()
    assert result.found == {0: "zhangwei", 2: "liuyang"}
    assert [m.cadre_id for m in result.not_found] == [1, 3, 4]
    assert result.rate_waits == 1 and result.stopped is None
    assert 60.0 in slept and slept.count(0.1) == 4  # paced between lookups
    assert batches == [{0: "zhangwei"}, {2: "liuyang"}]
