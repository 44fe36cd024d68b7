"""An aiohttp-based request class for python-telegram-bot: one pooled, keep-alive session.

PTB's default (httpx) costs far more CPU per call than aiohttp, which bangfu already uses for
its web server and WeCom; with many cadres writing at once the bot's own HTTP client was
the bottleneck. `AiohttpRequest` implements `telegram.request.BaseRequest`: one
`ClientSession` per instance, created at `initialize()`, closed at `shutdown()`; connections
are pooled (`pool_size`) and kept alive between calls.

A call without files is posted as one JSON object (the parameters as PTB serialises them:
strings, objects as JSON text, which the Bot API reads as it reads a form): building a form
body cost aiohttp a multipart writer, a random boundary and the percent-encoding of every
byte of the text (three bytes of a Chinese character become nine). Uploads stay multipart.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from telegram import Bot
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

from bot.channels.telegram import slim_update

JSON_HEADERS = {"Content-Type": "application/json"}


# One encoder for every body (json.dumps with an argument builds a new one each call);
# UTF-8 as it is, not escaped: a Chinese character three bytes instead of six.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


class _JsonBody:
    """What `AiohttpRequest.do_request` reads of PTB's RequestData, for `post_json`: the
    body already encoded."""

    __slots__ = ("body",)
    multipart_data = None
    json_parameters = None

    def __init__(self, body: bytes) -> None:
        self.body = body


async def post_json(bot: Bot, method: str, data: dict[str, Any]) -> None:
    """`bot._post(method, data)` for a call without files, its answer not read.

    The same request and the same errors (PTB's own status handling raises them), without
    what `Bot._post` does around it for every call: one `RequestParameter` and a JSON
    encoding per parameter inside a `RequestData`, the debug log lines, ExtBot's defaults
    (bangfu sets none), and the JSON decoding of the answer: a 2xx status is the Bot API's
    `"ok": true`, and a refusal is still read and raised by PTB's status handling. The
    body is one JSON object encoded once, None left out: objects (a keyboard) as JSON
    objects, not as JSON text inside the body's JSON, which the Bot API reads alike.
    Falls back to `bot._post` on another client.
    """
    request = bot.request
    if not isinstance(request, AiohttpRequest):
        await bot._post(method, data)
        return
    body = _ENCODE({key: value for key, value in data.items() if value is not None}).encode()
    await request._request_wrapper(
        f"{bot.base_url}/{method}",
        "POST",
        request_data=_JsonBody(body),  # type: ignore[arg-type]
    )


class AiohttpRequest(BaseRequest):
    """`telegram.request.BaseRequest` over one aiohttp `ClientSession`."""

    def __init__(
        self,
        *,
        pool_size: int = 128,
        connect_timeout: float = 5.0,
        read_timeout: float = 5.0,
        write_timeout: float = 5.0,
        media_write_timeout: float = 20.0,
    ) -> None:
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._urls: dict[str, URL] = {}  # parsed once each

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=60)
            # The Bot API sets no cookies: none kept, none matched against each request.
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        params = request_data.json_parameters if request_data else None
        data: Any = None
        headers = None
        if isinstance(request_data, _JsonBody):
            data, headers = request_data.body, JSON_HEADERS
        elif files:
            form = aiohttp.FormData()
            for name, value in (params or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            data = form
        elif params:
            data = json.dumps(params, ensure_ascii=False).encode()
            headers = JSON_HEADERS
        key = (read_timeout, write_timeout, connect_timeout, pool_timeout, bool(files))
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) >= 64:  # callers pass a handful of distinct timeouts
                self._timeouts.clear()
            timeout = self._timeouts[key] = self._timeout(*key)
        address = self._urls.get(url)
        if address is None:  # a handful: the Bot API's methods bangfu calls
            if len(self._urls) >= 256:
                self._urls.clear()
            address = self._urls[url] = URL(url)
        try:
            async with self._session.request(
                method, address, data=data, headers=headers, timeout=timeout
            ) as resp:
                return resp.status, await resp.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        except asyncio.CancelledError:
            raise

    def _timeout(
        self,
        read: ODVInput[float],
        write: ODVInput[float],
        connect: ODVInput[float],
        pool: ODVInput[float],
        files: object,
    ) -> aiohttp.ClientTimeout:
        """aiohttp has no write or pool timeout of its own: the connect timeout covers the
        wait for a pooled connection, and the read timeout the upload too."""
        if isinstance(read, DefaultValue):
            read = self._read_timeout
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        if isinstance(connect, DefaultValue):
            connect = self._connect_timeout
        if isinstance(pool, DefaultValue):
            pool = None
        waiting = None if connect is None and pool is None else (connect or 0) + (pool or 0)
        reading = None if read is None else read + (write or 0)
        return aiohttp.ClientTimeout(total=None, connect=waiting, sock_read=reading)


class UpdatesRequest(AiohttpRequest):
    """The long poll's `AiohttpRequest`: each update slimmed (`slim_update`) before PTB
    builds its objects from it."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        data = BaseRequest.parse_json_payload(payload)
        result = data.get("result")
        if isinstance(result, list):
            for update in result:
                if isinstance(update, dict):
                    slim_update(update)
        return data
