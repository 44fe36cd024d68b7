"""Sessions (encrypted cookies), idle timeout, CSRF, sign-in and sign-out."""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from core.i18n import normalize_lang, t
from storage.audit import audit
from storage.webusers import user_by_name, user_with_unit
from webconsole.context import LANG, USER, SignedIn, console, lang, render
from webconsole.passwords import password_mark, verify_password

COOKIE = "bangfu_console"
MAX_QUERY = 2048  # longer query strings are refused before anything else happens
PUBLIC = frozenset({"login", "login_submit", "lang"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ConsoleCookies(EncryptedCookieStorage):
    """Encrypted, HttpOnly, SameSite=Lax; Secure whenever the request came over HTTPS."""

    def __init__(self, key: bytes) -> None:
        super().__init__(key, cookie_name=COOKIE, httponly=True, samesite="Lax", path="/")

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        # The parent sets the cookie without awaiting anything, so this flag cannot leak
        # into another request's cookie.
        self._cookie_params["secure"] = _https(request)
        await super().save_session(request, response, session)


def _https(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"


def session_key(configured: str) -> bytes:
    """The 32-byte cookie key: from settings (base64), else a fresh one for this process."""
    if not configured:
        return secrets.token_bytes(32)
    key = base64.urlsafe_b64decode(configured + "=" * (-len(configured) % 4))
    if len(key) != 32:
        raise ValueError("the session key must be 32 bytes, base64-encoded")
    return key


def refuse(request: web.Request, status: int, key: str, **params: Any) -> web.Response:
    """A plain Chinese (or English) page saying why, with the given status."""
    response = render("refused.html", request, {"message": t(key, lang(request), **params)})
    response.set_status(status)
    return response


def _route_name(request: web.Request) -> str:
    return str(getattr(request.match_info.route, "name", "") or "")


def _login_redirect(request: web.Request, expired: bool = False) -> web.HTTPFound:
    url = request.app.router["login"].url_for().with_query({"expired": "1"} if expired else {})
    return web.HTTPFound(url)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request: size limits, language, session idle timeout, account, CSRF."""
    if len(request.query_string) > MAX_QUERY:
        return web.Response(status=414, text=t("console.query_too_long", "zh"))
    session = await get_session(request)
    # Chinese unless the reader chose English (the link in the header).
    request[LANG] = normalize_lang(session.get("lang") or "zh")
    if _route_name(request) in PUBLIC:
        return await handler(request)
    signed = await _signed_in(request, session)
    if signed is None:
        raise _login_redirect(request, expired="uid" in session)
    request[USER] = signed
    if request.method == "POST" and not await _csrf_ok(request, signed):
        return refuse(request, 403, "console.csrf")
    return await handler(request)


async def _signed_in(request: web.Request, session: Session) -> SignedIn | None:
    c = console(request)
    now = c.clock.now().timestamp()
    uid, seen = session.get("uid"), session.get("seen", 0)
    if not isinstance(uid, int) or not isinstance(seen, int | float):
        return None
    if now - seen > c.idle.total_seconds():
        session.invalidate()
        session["uid"] = 0  # remembered only to say "expired" on the sign-in page
        return None
    async with c.db.sessions() as s:
        found = await user_with_unit(s, uid)
    # Signed in under another password (changed since, or reset): sign in again.
    if found is None or session.get("pw") != password_mark(found[0].password_hash or ""):
        session.invalidate()
        return None
    session["seen"] = now
    account, unit = found
    return SignedIn(account.id, account.name, account.role, unit.id, unit.path, session["csrf"])


async def _csrf_ok(request: web.Request, signed: SignedIn) -> bool:
    form = await request.post()
    given = str(form.get("csrf", "") or request.headers.get("X-CSRF-Token", ""))
    return hmac.compare_digest(given.encode(), signed.csrf.encode())


async def login_page(request: web.Request) -> web.StreamResponse:
    expired = request.query.get("expired") == "1"
    return await _login_form(request, t("console.expired", lang(request)) if expired else "")


async def _login_form(request: web.Request, message: str, name: str = "") -> web.Response:
    session = await get_session(request)
    if not session.get("csrf"):
        session["csrf"] = secrets.token_urlsafe(24)
    return render(
        "login.html", request, {"message": message, "name": name, "csrf": session["csrf"]}
    )


async def login_submit(request: web.Request) -> web.StreamResponse:
    c = console(request)
    form = await request.post()
    expected = str((await get_session(request)).get("csrf", ""))
    if not expected or not hmac.compare_digest(
        str(form.get("csrf", "")).encode(), expected.encode()
    ):
        return refuse(request, 403, "console.csrf")
    name = str(form.get("name", ""))[:50].strip()
    password = str(form.get("password", ""))[:200]
    address = request.remote or "?"
    wait = c.throttle.wait_minutes(name, address)
    if wait:
        text = t("console.throttled", lang(request), minutes=wait)
        response = await _login_form(request, text, name)
        response.set_status(429)
        return response
    async with c.db.transaction() as s:
        account = await user_by_name(s, name) if name else None
        ok = verify_password(account.password_hash if account else None, password)
        ok = ok and account is not None and account.active
        audit(
            s,
            at=c.clock.now(),
            actor=f"web:{account.id}" if ok and account else "web:?",
            action="web.sign_in" if ok else "web.sign_in_failed",
            entity="web_user",
            entity_id=account.id if ok and account else "",
            name=name,
            address=address,
        )
    if not ok or account is None:
        c.throttle.failed(name, address)
        response = await _login_form(request, t("console.bad_login", lang(request)), name)
        response.set_status(401)
        return response
    c.throttle.succeeded(name)
    keep_lang = (await get_session(request)).get("lang")
    session = await new_session(request)  # a fresh session id: no fixation
    session.update(
        {
            "uid": account.id,
            "seen": c.clock.now().timestamp(),
            "csrf": secrets.token_urlsafe(24),
            "pw": password_mark(account.password_hash or ""),
        }
    )
    if keep_lang:
        session["lang"] = keep_lang
    raise web.HTTPFound(request.app.router["home"].url_for())


async def logout(request: web.Request) -> web.StreamResponse:
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPFound(request.app.router["login"].url_for())


async def set_lang(request: web.Request) -> web.StreamResponse:
    session = await get_session(request)
    session["lang"] = normalize_lang(request.match_info["code"])
    back = request.headers.get("Referer", "")
    # Only back to our own console pages: never an open redirect.
    target = request.app.router["home"].url_for()
    prefix = str(target)
    if back:
        from yarl import URL

        path = URL(back).path
        if path.startswith(prefix):
            raise web.HTTPFound(path)
    raise web.HTTPFound(target)
