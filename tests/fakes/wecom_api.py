"""A fake WeCom server on 127.0.0.1 speaking the real HTTP API, for tests.

Endpoints: /cgi-bin/gettoken, /cgi-bin/message/send, /cgi-bin/message/update_template_card,
/cgi-bin/media/upload, GET /cgi-bin/media/get (files members sent: see `add_media`),
/cgi-bin/webhook/send, /cgi-bin/user/getuserid (mobile → userid: see `mobiles`). Real errcodes: 40001 bad secret, 40013 bad
corp id, 41001/40014/42001 missing/invalid/expired token, 45009 rate limit (per robot:
20 messages a minute), 81013 unknown user, 93000 unknown robot key, 40058 bad parameter,
44004 empty content, 45002 content too long, 40007 unknown or expired media id, 46004 no
member with that mobile, 60020 server IP not on the app's trusted list. Every call is recorded; tests steer the fake
(expire tokens, inject errors, move its clock).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Call:
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class FakeWecom:
    corp_id: str = "ww_test_corp"
    secret: str = "s3cr3t"
    agent_id: int = 1000002
    users: set[str] = field(default_factory=lambda: {"zhangsan", "lisi"})
    robot_keys: set[str] = field(default_factory=set)
    robot_per_minute: int = 20
    # The directory: mobile → userid, for user/getuserid; `lookups_per_minute` then 45009.
    mobiles: dict[str, str] = field(default_factory=dict)
    lookups_per_minute: int | None = None
    trusted_ip: bool = True  # False: every API call answers 60020, as from an unlisted IP
    token_ttl: int = 7200
    now: float = 1_000_000.0  # the fake's clock, in seconds; tests move it
    calls: list[Call] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # accepted message/send bodies
    robot_sent: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    card_updates: list[dict[str, Any]] = field(default_factory=list)
    # Errcodes to answer instead of the next calls of a path, e.g. {"/cgi-bin/message/send": [45009]}.
    inject: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _tokens: dict[str, float] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _cards: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (user, task)
    _task_ids: set[str] = field(default_factory=set)
    _task_users: dict[str, str] = field(default_factory=dict)
    _media: set[str] = field(default_factory=set)
    # media_id -> (bytes, Content-Type): what media/get hands out.
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _robot_window: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lookup_window: deque[float] = field(default_factory=deque)
    server: TestServer | None = None

    # -- steering -------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every issued token now answers 42001, as after two hours."""
        for token in self._tokens:
            self._tokens[token] = self.now - 1

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """A file a member sent: media/get serves it until `expire_media` (WeCom: 3 days)."""
        self.files[media_id] = (data, content_type)

    def expire_media(self, media_id: str) -> None:
        self.files.pop(media_id, None)

    def count(self, path: str) -> int:
        return sum(1 for c in self.calls if c.path == path)

    def texts_to(self, userid: str) -> list[str]:
        """What a member has received, as text: text/markdown content and card titles."""
        out = []
        for m in self.sent:
            if m.get("touser") != userid:
                continue
            if m["msgtype"] in ("text", "markdown"):
                out.append(m[m["msgtype"]]["content"])
            elif m["msgtype"] == "template_card":
                card = m["template_card"]
                title = card.get("main_title", {}).get("title", "")
                out.append("\n".join(filter(None, [title, card.get("sub_title_text", "")])))
        return out

    def cards_to(self, userid: str) -> list[dict[str, Any]]:
        return [
            m["template_card"]
            for m in self.sent
            if m.get("touser") == userid and m["msgtype"] == "template_card"
        ]

    def response_code_of(self, task_id: str) -> str:
        """The code message/send returned for a card (still unused)."""
        return next(c for c, (_u, t) in self._cards.items() if t == task_id)

    def click_code(self, task_id: str) -> str:
        """A member pressed the card: WeCom puts a fresh single-use code in the callback."""
        user = self._task_users[task_id]
        code = f"rc{next(self._counter)}"
        self._cards[code] = (user, task_id)
        return code

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> FakeWecom:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._send)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update_card)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/webhook/send", self._webhook)
        app.router.add_post("/cgi-bin/user/getuserid", self._getuserid)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    # -- helpers --------------------------------------------------------------------------

    def _injected(self, path: str) -> web.Response | None:
        queue = self.inject.get(path)
        if queue:
            code = queue.pop(0)
            return _err(code, "injected")
        return None

    def _token_error(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token")
        if not token:
            return _err(41001, "access_token missing")
        if token not in self._tokens:
            return _err(40014, "invalid access_token")
        if self._tokens[token] <= self.now:
            return _err(42001, "access_token expired")
        return None

    async def _json(self, request: web.Request) -> Any:
        raw = await request.read()
        body = json.loads(raw) if raw else {}
        self.calls.append(Call(request.path, dict(request.query), body))
        return body

    # -- endpoints ------------------------------------------------------------------------

    async def _gettoken(self, request: web.Request) -> web.Response:
        self.calls.append(Call(request.path, dict(request.query), None))
        if injected := self._injected(request.path):
            return injected
        if request.query.get("corpid") != self.corp_id:
            return _err(40013, "invalid corpid")
        if request.query.get("corpsecret") != self.secret:
            return _err(40001, "invalid credential")
        token = f"tok{next(self._counter)}"
        self._tokens[token] = self.now + self.token_ttl
        return _ok(access_token=token, expires_in=self.token_ttl)

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if err := self._token_error(request):
            return err
        if injected := self._injected(request.path):
            return injected
        if body.get("agentid") != self.agent_id:
            return _err(40056, "invalid agentid")
        if body.get("touser") not in self.users:
            return _err(81013, "user & party & tag all invalid")
        extra: dict[str, Any] = {}
        kind = body.get("msgtype")
        if kind in ("text", "markdown"):
            content = body.get(kind, {}).get("content", "")
            if not content:
                return _err(44004, "empty content")
            if len(content.encode()) > 2048:
                return _err(45002, "content size out of limit")
        elif kind == "template_card":
            problem = self._check_card(body.get("template_card", {}))
            if problem:
                return _err(40058, problem)
            code = f"rc{next(self._counter)}"
            self._cards[code] = (body["touser"], body["template_card"]["task_id"])
            self._task_users[body["template_card"]["task_id"]] = body["touser"]
            extra["response_code"] = code
        elif kind == "image":
            if body.get("image", {}).get("media_id") not in self._media:
                return _err(40007, "invalid media_id")
        else:
            return _err(40008, "invalid message type")
        self.sent.append(body)
        return _ok(invaliduser="", msgid=f"msg{next(self._counter)}", **extra)

    def _check_card(self, card: dict[str, Any]) -> str:
        if card.get("card_type") != "button_interaction":
            return "card_type"
        task_id = card.get("task_id", "")
        if not task_id or len(task_id) > 128 or task_id in self._task_ids:
            return "task_id missing, too long or duplicated"
        if not all(ch.isalnum() or ch in "_-@" for ch in task_id):
            return "task_id characters"
        buttons = card.get("button_list", [])
        keys = [b.get("key", "") for b in buttons]
        if not 1 <= len(buttons) <= 6 or len(set(keys)) != len(keys) or not all(keys):
            return "button_list"
        if not card.get("main_title", {}).get("title") and not card.get("sub_title_text"):
            return "main_title or sub_title_text required"
        self._task_ids.add(task_id)
        return ""

    async def _getuserid(self, request: web.Request) -> web.Response:
        """user/getuserid: the member with this mobile (the app must see them)."""
        body = await self._json(request)
        if not self.trusted_ip:
            return _err(60020, "not allow to access from your ip")
        if err := self._token_error(request):
            return err
        if injected := self._injected(request.path):
            return injected
        if self.lookups_per_minute is not None:
            window = self._lookup_window
            while window and window[0] <= self.now - 60:
                window.popleft()
            if len(window) >= self.lookups_per_minute:
                return _err(45009, "api freq out of limit")
            window.append(self.now)
        mobile = str(body.get("mobile", "")) if isinstance(body, dict) else ""
        if not mobile:
            return _err(40058, "mobile missing")
        userid = self.mobiles.get(mobile)
        if userid is None:
            return _err(46004, "user no exist")
        return _ok(userid=userid)

    async def _update_card(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if err := self._token_error(request):
            return err
        code = body.get("response_code", "")
        # A response_code is single-use; WeCom refuses reuse (the fake answers 40058).
        if code not in self._cards or not body.get("button", {}).get("replace_name"):
            return _err(40058, "invalid response_code")
        user, task_id = self._cards.pop(code)
        self.card_updates.append({"userid": user, "task_id": task_id, **body})
        return _ok(invaliduser=[])

    async def _upload(self, request: web.Request) -> web.Response:
        self.calls.append(Call(request.path, dict(request.query), None))
        if err := self._token_error(request):
            return err
        form = await request.post()
        media = form.get("media")
        if request.query.get("type") != "image" or not isinstance(media, web.FileField):
            return _err(40058, "media")
        media_id = f"media{next(self._counter)}"
        self._media.add(media_id)
        return _ok(type="image", media_id=media_id, created_at=str(int(self.now)))

    async def _media_get(self, request: web.Request) -> web.StreamResponse:
        self.calls.append(Call(request.path, dict(request.query), None))
        if err := self._token_error(request):
            return err
        if injected := self._injected(request.path):
            return injected
        media_id = request.query.get("media_id", "")
        if media_id not in self.files:
            return _err(40007, "invalid media_id")
        data, content_type = self.files[media_id]
        ext = content_type.rpartition("/")[2] or "bin"
        return web.Response(
            body=data,
            content_type=content_type,
            headers={"Content-Disposition": f'attachment; filename="{media_id}.{ext}"'},
        )

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        key = request.query.get("key", "")
        if key not in self.robot_keys:
            return _err(93000, "invalid webhook url")
        if injected := self._injected(request.path):
            return injected
        window = self._robot_window[key]
        while window and window[0] <= self.now - 60:
            window.popleft()
        if len(window) >= self.robot_per_minute:
            return _err(45009, "api freq out of limit")
        kind = body.get("msgtype")
        if kind == "markdown":
            content = body.get("markdown", {}).get("content", "")
            if not content or len(content.encode()) > 4096:
                return _err(40058, "markdown.content exceed max length 4096")
        elif kind == "image":
            image = body.get("image", {})
            raw = base64.b64decode(image.get("base64", ""))
            if not raw or hashlib.md5(raw).hexdigest() != image.get("md5"):
                return _err(40009, "invalid image md5")
        elif kind != "text":
            return _err(40008, "invalid message type")
        window.append(self.now)
        self.robot_sent[key].append(body)
        return _ok()


def _ok(**fields: Any) -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok", **fields})


def _err(code: int, msg: str) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": f"{msg}, hint: [fake]"})
