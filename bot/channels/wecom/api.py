"""The WeCom server API for a self-built app (自建应用), on aiohttp (or, for the directory's
JSON lookups of `bangfu wecom sync`, on the standard library's http.client: `PlainHttp`).

The access token is cached and refreshed before it expires and whenever WeCom says it is
invalid or expired (40014/42001), once per call. A bad secret (40001) is never retried in a
loop: the failure is remembered for a while and every caller gets it at once. "System
busy" (-1), HTTP 5xx and refused connections are retried with backoff; rate limits (45009)
go back to the caller, whose dispatcher waits. URLs carry the token and secret, so no URL
and no response body ever reaches a log or an exception message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    import http.client

    import aiohttp

log = logging.getLogger(__name__)

TOKEN_INVALID = {40014, 42001, 41001}  # invalid, expired, missing access_token
SECRET_INVALID = {40001, 40013, 40091}  # bad secret, bad corp id, secret revoked
BUSY = -1  # "系统繁忙": safe to retry, nothing was done
RATE_LIMITED = {45009, 45033}  # frequency / concurrency limit


@dataclass(frozen=True, slots=True)
class Media:
    """A file fetched with media/get: its bytes, Content-Type and Content-Disposition name."""

    data: bytes = field(repr=False)
    content_type: str
    filename: str


class WecomError(Exception):
    """WeCom answered with a non-zero errcode, or could not be reached (errcode None)."""

    def __init__(self, errcode: int | None, errmsg: str, *, status: int | None = None) -> None:
        super().__init__(f"WeCom errcode={errcode} {errmsg}".strip())
        self.errcode = errcode
        self.errmsg = errmsg
        self.status = status


Reader = Callable[["aiohttp.ClientResponse"], Awaitable[Any]]


class _Refused(Exception):
    """The connection could not be made (refused, unreachable, no such host): retried."""


async def _read_json(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    data = json.loads(await resp.read())
    if not isinstance(data, dict):
        raise WecomError(None, "not a JSON object")
    return data


def _media_reader(max_bytes: int) -> Reader:
    """Read media/get's answer: the file (at most `max_bytes`), or its JSON errcode body."""

    async def read(resp: aiohttp.ClientResponse) -> Media | dict[str, Any]:
        disposition = resp.content_disposition
        if disposition is None and resp.content_type in ("application/json", "text/plain"):
            return await _read_json(resp)
        if resp.content_length is not None and resp.content_length > max_bytes:
            raise WecomError(None, "file too large")
        body = bytearray()
        async for chunk in resp.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > max_bytes:
                raise WecomError(None, "file too large")
        name = (disposition.filename or "") if disposition else ""
        return Media(bytes(body), resp.content_type, name[:200])

    return read


def _errmsg(data: dict[str, Any]) -> str:
    # errmsg holds a "more info" hint, never a secret; cut it short for logs and rows.
    return str(data.get("errmsg", ""))[:120]


class WecomApi:
    """One app's API client: token management, message/send, cards, media upload."""

    def __init__(
        self,
        session: aiohttp.ClientSession | PlainHttp,
        *,
        base_url: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        refresh_margin: float = 300.0,
        bad_secret_pause: float = 60.0,
        attempts: int = 3,
        backoff: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.corp_id = corp_id
        self._secret = secret
        self.agent_id = agent_id
        self.refresh_margin = refresh_margin
        self.bad_secret_pause = bad_secret_pause
        self.attempts = attempts
        self.backoff = backoff
        self._now = monotonic
        self._sleep = sleep
        self._token = ""
        self._token_until = 0.0
        self._token_failure: tuple[float, WecomError] | None = None
        self._lock = asyncio.Lock()

    async def _http(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        *,
        body: bytes | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        read: Reader | None = None,
        client_timeout: aiohttp.ClientTimeout | None = None,
    ) -> Any:
        """One HTTP exchange, retried on refused connections, 5xx and "system busy".

        `body` is a JSON body; `form` builds a multipart form afresh for each attempt (a form
        is single-use); `read` turns a 200 response into the result (default: its JSON
        object). On `PlainHttp` only JSON bodies and answers go.
        """
        for attempt in range(1, self.attempts + 1):
            retryable: WecomError
            try:
                if isinstance(self.session, PlainHttp):
                    status, data = await self.session.exchange(
                        method, self.base_url + path, params, body
                    )
                else:
                    status, data = await self._aiohttp(
                        method, path, params, body, form, read, client_timeout
                    )
            except _Refused:
                retryable = WecomError(None, "connection refused")
            else:
                if status >= 500:
                    retryable = WecomError(None, f"HTTP {status}", status=status)
                elif status != 200:
                    raise WecomError(None, f"HTTP {status}", status=status)
                elif not isinstance(data, dict) or data.get("errcode", 0) != BUSY:
                    return data
                else:
                    retryable = WecomError(BUSY, _errmsg(data))
            if attempt < self.attempts:
                await self._sleep(self.backoff * 2 ** (attempt - 1))
        raise retryable

    async def _aiohttp(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: bytes | None,
        form: Callable[[], aiohttp.FormData] | None,
        read: Reader | None,
        client_timeout: aiohttp.ClientTimeout | None,
    ) -> tuple[int, Any]:
        """The status and, for a 200, what `read` made of the answer (not read otherwise)."""
        import aiohttp  # the session's own library, loaded already

        kw: dict[str, Any] = {"params": params}
        if client_timeout is not None:
            kw["timeout"] = client_timeout
        if form is not None:
            kw["data"] = form()
        elif body is not None:
            kw["data"] = aiohttp.BytesPayload(body, content_type="application/json")
        session = cast("aiohttp.ClientSession", self.session)
        try:
            async with session.request(method, self.base_url + path, **kw) as resp:
                if resp.status != 200:
                    return resp.status, None
                return 200, await (read or _read_json)(resp)
        except aiohttp.ClientConnectorError:
            raise _Refused from None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # Not retried here: the request may have been delivered already.
            raise WecomError(None, type(exc).__name__) from None

    async def access_token(self) -> str:
        """The cached token, fetched when missing or about to expire."""
        async with self._lock:
            now = self._now()
            if self._token and now < self._token_until:
                return self._token
            if self._token_failure and now < self._token_failure[0]:
                raise self._token_failure[1]
            params = {"corpid": self.corp_id, "corpsecret": self._secret}
            data = await self._http("GET", "/cgi-bin/gettoken", params)
            code = data.get("errcode", 0)
            if code != 0 or not data.get("access_token"):
                err = WecomError(code, _errmsg(data))
                if code in SECRET_INVALID:
                    log.error("wecom gettoken refused: errcode=%s (check corp id and secret)", code)
                    self._token_failure = (now + self.bad_secret_pause, err)
                raise err
            self._token_failure = None
            self._token = str(data["access_token"])
            ttl = float(data.get("expires_in", 7200))
            self._token_until = now + max(ttl - self.refresh_margin, ttl / 2)
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` after WeCom refused it, so the next call fetches a fresh one."""
        if self._token == token:  # another call may have refreshed it already
            self._token = ""
            self._token_until = 0.0

    async def call(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
    ) -> dict[str, Any]:
        """POST a JSON body (or a multipart form) to an API path with the access token.

        Raises WecomError for any non-zero errcode; refreshes the token once if WeCom says
        it is invalid or expired.
        """
        raw = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        for refreshed in (False, True):
            token = await self.access_token()
            query = {"access_token": token, **(params or {})}
            data = await self._http("POST", path, query, body=raw, form=form)
            code = data.get("errcode", 0)
            if code == 0:
                return data
            if code in TOKEN_INVALID and not refreshed:
                log.info("wecom access token rejected (errcode=%s); refreshing once", code)
                self.invalidate(token)
                continue
            raise WecomError(code, _errmsg(data))
        raise AssertionError("unreachable")

    async def send(self, userid: str, message: dict[str, Any]) -> dict[str, Any]:
        """message/send to one member; `message` holds msgtype and its part."""
        body = {"touser": userid, "agentid": self.agent_id, **message}
        data = await self.call("/cgi-bin/message/send", body)
        if userid in str(data.get("invaliduser", "")).split("|"):
            # errcode 0, yet not delivered: the member left or is outside the app's scope.
            raise WecomError(81013, "invaliduser")
        return data

    async def send_text(self, userid: str, content: str) -> dict[str, Any]:
        return await self.send(userid, {"msgtype": "text", "text": {"content": content}})

    async def send_markdown(self, userid: str, content: str) -> dict[str, Any]:
        return await self.send(userid, {"msgtype": "markdown", "markdown": {"content": content}})

    async def send_card(self, userid: str, card: dict[str, Any]) -> str:
        """Send a template_card; returns its response_code (for update_template_card)."""
        data = await self.send(userid, {"msgtype": "template_card", "template_card": card})
        return str(data.get("response_code", ""))

    async def update_card_button(self, userid: str, response_code: str, replace_name: str) -> None:
        """Turn a card's buttons into one grey, unclickable label (response_code: single use)."""
        body = {
            "userids": [userid],
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_name},
        }
        await self.call("/cgi-bin/message/update_template_card", body)

    async def upload_image(self, png: bytes, filename: str = "image.png") -> str:
        """media/upload a PNG; returns the media_id (valid three days)."""

        import aiohttp

        def form() -> aiohttp.FormData:
            fd = aiohttp.FormData()
            fd.add_field("media", png, filename=filename, content_type="image/png")
            return fd

        data = await self.call("/cgi-bin/media/upload", params={"type": "image"}, form=form)
        return str(data["media_id"])

    async def get_media(self, media_id: str, *, max_bytes: int) -> Media:
        """media/get: a file a member sent (WeCom keeps it three days).

        The answer is the file itself, or a JSON errcode body (40007: unknown or expired
        media id); the token is refreshed once when WeCom says it is invalid or expired.
        """
        for refreshed in (False, True):
            token = await self.access_token()
            query = {"access_token": token, "media_id": media_id}
            got = await self._http(
                "GET", "/cgi-bin/media/get", query, read=_media_reader(max_bytes)
            )
            if isinstance(got, Media):
                return got
            code = got.get("errcode", 0)
            if code in TOKEN_INVALID and not refreshed:
                log.info("wecom access token rejected (errcode=%s); refreshing once", code)
                self.invalidate(token)
                continue
            raise WecomError(code if code else None, _errmsg(got) or "no file in the answer")
        raise AssertionError("unreachable")


class PlainHttp:
    """JSON calls over the standard library's http.client, one at a time on one kept-alive
    connection, each in a worker thread.

    For `bangfu wecom sync`, whose lookups are JSON calls made one after another: importing
    aiohttp was a quarter of that command's start. Errors map as on aiohttp: a connection
    that cannot be made is retried by the caller, anything else after the request went out
    is a WecomError named after the exception (the request may have been delivered).
    """

    def __init__(self, *, timeout: float = 15.0) -> None:
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._where: tuple[str, str] = ("", "")
        self._lock = asyncio.Lock()

    async def exchange(
        self, method: str, url: str, params: dict[str, str], body: bytes | None
    ) -> tuple[int, Any]:
        """The status and, for a 200, the answer's JSON object."""
        async with self._lock:
            return await asyncio.to_thread(self._exchange, method, url, params, body)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self, scheme: str, netloc: str) -> tuple[http.client.HTTPConnection, bool]:
        """The kept connection to `netloc` (and whether it was open already), else a new one."""
        import http.client

        if self._conn is not None and self._where == (scheme, netloc) and self._conn.sock:
            return self._conn, True
        self.close()
        if scheme == "https":
            import ssl

            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                netloc, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
        try:
            conn.connect()
        except OSError:  # refused, unreachable, no such host, or no answer in time
            conn.close()
            raise _Refused from None
        self._conn, self._where = conn, (scheme, netloc)
        return conn, False

    def _exchange(
        self, method: str, url: str, params: dict[str, str], body: bytes | None
    ) -> tuple[int, Any]:
        import http.client

        parts = urlsplit(url)
        target = f"{parts.path}?{urlencode(params)}"
        headers = {"Content-Type": "application/json"} if body is not None else {}
        while True:
            conn, reused = self._connection(parts.scheme, parts.netloc)
            try:
                conn.request(method, target, body=body, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused:  # the server closed the kept connection meanwhile: a new one
                    continue
                raise WecomError(None, "RemoteDisconnected") from None
            except (OSError, http.client.HTTPException) as exc:  # TimeoutError is an OSError
                self.close()
                raise WecomError(None, type(exc).__name__) from None
            if resp.status != 200:
                return resp.status, None
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise WecomError(None, type(exc).__name__) from None
            if not isinstance(data, dict):
                raise WecomError(None, "not a JSON object")
            return 200, data
