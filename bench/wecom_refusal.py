"""CPU spent on unauthenticated WeCom callback bodies, before and after the cheap checks.

    python -m bench.wecom_refusal [--n 200]

For each body: the CPU time per request of what the callback does now (`encrypted_field`:
scans for UTF-8, a DTD and the Encrypt field; then one SHA-1 for the signature), and of
handing the same body to ElementTree (what a parse-first callback does; with expat's
entity expansion for the DTD bodies). Then the whole HTTP path: N refused POSTs to a real
aiohttp server on loopback, server CPU per request. Prints Markdown table rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.channels.wecom.callback import WecomCallback, add_routes
from bot.channels.wecom.crypto import WXBizMsgCrypt, signature
from bot.channels.wecom.xmlmsg import XmlError, encrypted_field
from core.clock import FixedClock

TOKEN, AES_KEY, CORP = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ww_bench"
TS = 1_764_000_000
LAUGHS = (
    '<?xml version="1.0" encoding="{enc}"?>\n<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcde", "bcdef", strict=True)
    )
    + "]>\n<xml><Encrypt>&f;</Encrypt></xml>"
)


def bodies(crypt: WXBizMsgCrypt) -> dict[str, bytes]:
    genuine = crypt.encrypt("<xml><MsgType>text</MsgType><Content>你好</Content></xml>")
    return {
        "UTF-16 + DTD (entity expansion)": LAUGHS.format(enc="UTF-16").encode("utf-16"),
        "UTF-8 + DTD": LAUGHS.format(enc="UTF-8").encode(),
        "wrong signature, 60 KB": (
            f"<xml><Encrypt><![CDATA[{genuine}]]></Encrypt><Pad>{'x' * 60_000}</Pad></xml>"
        ).encode(),
    }


def cpu_per_call(fn: Callable[[], object], n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        with contextlib.suppress(XmlError, ET.ParseError):
            fn()
    return (time.process_time() - started) / n


def scan_and_sign(body: bytes) -> None:
    encrypted = encrypted_field(body)
    signature(TOKEN, str(TS), "1", encrypted)


async def http_cpu(crypt: WXBizMsgCrypt, body: bytes, n: int) -> tuple[float, set[int]]:
    async def handle(_inbound: object) -> list[object]:
        return []

    callback = WecomCallback(crypt, handle, None, FixedClock(datetime.fromtimestamp(TS, UTC)))  # type: ignore[arg-type]
    app = web.Application()
    add_routes(app, callback, "/cb")
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    query = {"msg_signature": "0" * 40, "timestamp": str(TS), "nonce": "1"}
    statuses: set[int] = set()
    started = time.process_time()
    async with aiohttp.ClientSession() as session:
        for _ in range(n):
            async with session.post(server.make_url("/cb"), params=query, data=body) as resp:
                statuses.add(resp.status)
                await resp.read()
    spent = (time.process_time() - started) / n  # client and server share this process
    await server.close()
    return spent, statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    logging.disable(logging.WARNING)  # one refusal line per request is not the point here
    crypt = WXBizMsgCrypt(TOKEN, AES_KEY, CORP)
    print(
        "| body | bytes | scan + signature, ms | ElementTree parse, ms | HTTP round trip CPU, ms (status) |"
    )
    print("|---|---|---|---|---|")
    for name, body in bodies(crypt).items():
        scan = cpu_per_call(lambda b=body: scan_and_sign(b), n)  # type: ignore[misc]
        parse = cpu_per_call(lambda b=body: ET.fromstring(b), max(1, n // 10))  # type: ignore[misc]
        spent, statuses = asyncio.run(http_cpu(crypt, body, n))
        print(
            f"| {name} | {len(body):,} | {scan * 1000:.3f} | {parse * 1000:.1f} "
            f"| {spent * 1000:.2f} ({', '.join(map(str, sorted(statuses)))}) |"
        )


if __name__ == "__main__":
    main()
