"""A signed-in user changes their own password: the current one is required, the form
carries the CSRF token (checked by the guard), every attempt is audited, and a change
signs out the account's other sessions (their cookies name the old password hash)."""

from __future__ import annotations

import secrets
from dataclasses import replace

from aiohttp import web
from aiohttp_session import get_session, new_session

from core.i18n import t
from storage.audit import audit
from storage.webusers import set_password_hash, user_with_unit
from webconsole.context import USER, console, lang, render, user
from webconsole.passwords import MIN_LENGTH, hash_password, password_mark, verify_password

MAX_LENGTH = 200


async def password_page(request: web.Request) -> web.StreamResponse:
    return _form(request, "", 200)


def _form(request: web.Request, message: str, status: int, done: bool = False) -> web.Response:
    response = render(
        "password.html", request, {"message": message, "done": done, "min_length": MIN_LENGTH}
    )
    response.set_status(status)
    return response


async def password_submit(request: web.Request) -> web.StreamResponse:
    c, me, language = console(request), user(request), lang(request)
    form = await request.post()
    current = str(form.get("current", ""))[:MAX_LENGTH]
    new, again = str(form.get("new", ""))[:MAX_LENGTH], str(form.get("again", ""))[:MAX_LENGTH]
    address = request.remote or "?"
    wait = c.throttle.wait_minutes(me.name, address)
    if wait:
        return _form(request, t("console.throttled", language, minutes=wait), 429)
    problem = ""
    if len(new) < MIN_LENGTH:
        problem = t("console.password_short", language, n=MIN_LENGTH)
    elif new != again:
        problem = t("console.password_mismatch", language)
    elif new == current:
        problem = t("console.password_same", language)
    now = c.clock.now()
    async with c.db.transaction() as s:
        found = await user_with_unit(s, me.user_id)
        if found is None:
            raise web.HTTPNotFound()
        account = found[0]
        right = verify_password(account.password_hash, current)
        if not right:
            problem = t("console.password_wrong", language)
        elif not problem:
            account_hash = hash_password(new)
            await set_password_hash(s, account.id, account_hash)
        audit(
            s,
            at=now,
            actor=me.actor,
            action="web.password_change" if not problem else "web.password_change_failed",
            entity="web_user",
            entity_id=account.id,
            address=address,
            **({} if right else {"reason": "wrong current password"}),
        )
    if not right:
        c.throttle.failed(me.name, address)
        return _form(request, problem, 403)
    if problem:
        return _form(request, problem, 400)
    # A fresh session (new id and CSRF token) naming the new password; others end.
    old = await get_session(request)
    keep = {k: old[k] for k in ("uid", "seen", "lang") if k in old}
    session = await new_session(request)
    session.update({**keep, "csrf": secrets.token_urlsafe(24), "pw": password_mark(account_hash)})
    request[USER] = replace(me, csrf=session["csrf"])
    return _form(request, t("console.password_changed", language), 200, done=True)
