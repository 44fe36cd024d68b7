"""deploy/nginx.conf in front of a running `bangfu run`: HTTPS to the webhook and the callback.

Debian's nginx serves the repository's site file (only its ports, certificate paths and
upstream address changed to loopback ones) with a self-signed certificate; bangfu runs as
its own process with Telegram in webhook mode and WeCom on, against the loopback fakes.
A Telegram update and a WeCom callback posted to nginx over HTTPS are answered by bangfu.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import shutil
import signal
import ssl
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import SECRET_HEADER, TgUser
from tests.fakes.wecom_api import FakeWecom
from tests.fakes.wecom_push import AES_KEY, CORP_ID, TOKEN, WecomPusher, text_xml
from tests.tg_support import WEBHOOK_SECRET, free_port

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (Debian: apt-get install -y nginx)"
)
MEMBER = "wangjianguo"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, valid around any moment the test may run at."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(epoch)
        .not_valid_after(epoch.replace(year=2099))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _site(https: int, http: int, upstream: int, cert: Path, key: Path) -> str:
    """The repository's site file with loopback ports and the test's certificate."""
    text = SITE.read_text()
    for old, new in (
        ("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream};"),
        ("/etc/ssl/bangfu/fullchain.pem", str(cert)),
        ("/etc/ssl/bangfu/privkey.pem", str(key)),
    ):
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


def _main_conf(prefix: Path) -> str:
    """What /etc/nginx/nginx.conf provides around a site file, kept inside `prefix`."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temps = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n{temps}\n    include {prefix / 'site.conf'};\n}}\n"
    )


async def _stop(proc: asyncio.subprocess.Process, sig: signal.Signals) -> bytes:
    if proc.returncode is None:
        proc.send_signal(sig)
    try:
        async with asyncio.timeout(30):
            _, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        _, err = await proc.communicate()
    return err or b""


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegram, FakeWecom]]:
    wecom = await FakeWecom(corp_id=CORP_ID, users={MEMBER}).start()
    async with FakeTelegram() as tg:
        yield tg, wecom
    await wecom.close()


async def _wait_healthy(session: aiohttp.ClientSession, url: str, proc) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(60):
        while True:
            assert proc.returncode is None, "bangfu run exited"
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


async def test_nginx_passes_the_webhook_and_the_callback_to_bangfu(
    fakes: tuple[FakeTelegram, FakeWecom], sqlite_template: Path, tmp_path: Path
) -> None:
    tg, wecom = fakes
    db_path = tmp_path / "bangfu.db"
    shutil.copy(sqlite_template, db_path)
    bangfu_port, https, http = free_port(), free_port(), free_port()
    cert, key = _self_signed(tmp_path)
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    (prefix / "site.conf").write_text(_site(https, http, bangfu_port, cert, key))
    (prefix / "nginx.conf").write_text(_main_conf(prefix))
    base = f"https://127.0.0.1:{https}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")},
        "PYTHONPATH": str(ROOT),
        "BANGFU_DATABASE_URL": f"sqlite:///{db_path}",
        "BANGFU_MEDIA_DIR": str(tmp_path / "media"),
        "BANGFU_WEB__PORT": str(bangfu_port),
        "BANGFU_SCHEDULE__ENABLED": "false",
        "BANGFU_TELEGRAM__ENABLED": "true",
        "BANGFU_TELEGRAM__TOKEN": tg.token,
        "BANGFU_TELEGRAM__API_URL": tg.base_url,
        "BANGFU_TELEGRAM__MODE": "webhook",
        "BANGFU_TELEGRAM__WEBHOOK_URL": f"{base}/telegram",
        "BANGFU_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BANGFU_WECOM__ENABLED": "true",
        "BANGFU_WECOM__CORP_ID": CORP_ID,
        "BANGFU_WECOM__AGENT_ID": str(wecom.agent_id),
        "BANGFU_WECOM__SECRET": wecom.secret,
        "BANGFU_WECOM__TOKEN": TOKEN,
        "BANGFU_WECOM__ENCODING_AES_KEY": AES_KEY,
        "BANGFU_WECOM__API_URL": wecom.url,
    }
    assert NGINX is not None
    nginx = await asyncio.create_subprocess_exec(
        NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    bangfu = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    insecure = ssl.create_default_context(cafile=str(cert))  # trusts exactly the test's cert
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=insecure)) as http_s:
            await _wait_healthy(http_s, f"{base}/healthz", bangfu)
            assert tg.webhook["url"] == f"{base}/telegram"

            # Telegram: an update with the secret header is processed and answered.
            update = tg.updates.text(TgUser(5150, "路人"), "你好")
            headers = {SECRET_HEADER: WEBHOOK_SECRET}
            async with http_s.post(f"{base}/telegram", json=update, headers=headers) as resp:
                assert resp.status == 200
            await tg.wait_for("sendMessage", within=30)
            assert "绑定" in tg.texts(5150)[0]
            async with http_s.post(f"{base}/telegram", json=update) as resp:
                assert resp.status == 403  # no secret: bangfu refuses it behind the proxy too

            # WeCom: the URL check and a member's message, signed and encrypted.
            # bangfu checks the timestamp against its own clock, so it is the current one.
            now = int(time.time())
            pusher = WecomPusher(http_s, f"{base}/wecom/callback")
            assert await pusher.verify_url(now) == (200, "1288432023552776189")
            assert (await pusher.push(text_xml(MEMBER, "你好", "7001", now), now))[0] == 200
            async with asyncio.timeout(30):
                while not wecom.texts_to(MEMBER):  # noqa: ASYNC110 — the fake has no event
                    await asyncio.sleep(0.1)
            assert "绑定" in wecom.texts_to(MEMBER)[0]

            # Monitoring from the machine itself: /metrics counts what just happened.
            async with http_s.get(f"{base}/metrics") as resp:
                assert resp.status == 200
                scraped = await resp.text()
            assert 'bangfu_updates_total{channel="telegram"} 1.0' in scraped
            assert 'bangfu_updates_total{channel="wecom"} 1.0' in scraped

            # nginx's own limits: nothing else is proxied, and large bodies stop at nginx.
            async with http_s.get(f"{base}/") as resp:
                assert resp.status == 404
            async with http_s.post(f"{base}/wecom/callback", data=b"x" * (3 * 1024**2)) as resp:
                assert resp.status == 413
    finally:
        bangfu_err = await _stop(bangfu, signal.SIGTERM)
        nginx_err = await _stop(nginx, signal.SIGQUIT)
    assert bangfu.returncode == 0, bangfu_err.decode()[-2000:]
    assert b"emerg" not in nginx_err, nginx_err.decode()
