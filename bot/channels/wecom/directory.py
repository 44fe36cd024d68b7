"""Binding cadres to their WeCom accounts through the organisation's directory.

The county's cadres are already members of its WeCom: user/getuserid finds each one's userid
by mobile, so they need no enrolment code. One lookup at a time, paced under WeCom's
frequency limit; a 45009 waits and retries; errors that no retry can fix stop the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.channels.wecom.api import SECRET_INVALID, TOKEN_INVALID, WecomApi, WecomError

NOT_FOUND = {46004, 60111}  # no member with this mobile (or outside the app's visible range)
RATE = {45009, 45033}
# What no retry fixes: the server's IP is not trusted, the secret or the app is wrong,
# the app may not read the directory, or the token stays refused after a refresh.
FATAL = {60020, 48002, 60011, 301002, *SECRET_INVALID, *TOKEN_INVALID}
RATE_WAIT = 60.0  # WeCom sends no retry-after; its frequency windows are per minute
MAX_RATE_WAITS = 5  # in a row for one member: then WeCom is not just busy


@dataclass(frozen=True, slots=True)
class Member:
    cadre_id: int
    name: str
    phone: str
    unit_path: str


@dataclass
class Lookup:
    """What the directory said: userids found, members not found, and why it stopped."""

    found: dict[int, str] = field(default_factory=dict)  # cadre id → userid
    not_found: list[Member] = field(default_factory=list)
    stopped: int | None = None  # the errcode that ended the run early
    rate_waits: int = 0


async def find_userids(
    api: WecomApi,
    members: Sequence[Member],
    *,
    per_second: float = 5.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    found: Callable[[dict[int, str]], Awaitable[None]] | None = None,
    batch: int = 200,
) -> Lookup:
    """Look up every member's userid by mobile.

    `found` receives the new finds (cadre id → userid) every `batch` members and at the end,
    so a long run that is interrupted keeps what it bound.
    """
    result = Lookup()
    fresh: dict[int, str] = {}
    gap = 1.0 / per_second if per_second > 0 else 0.0
    for n, member in enumerate(members, start=1):
        try:
            userid = await _lookup(api, member.phone, result, sleep)
        except WecomError as err:
            result.stopped = err.errcode if err.errcode is not None else -1
            break
        if userid is None:
            result.not_found.append(member)
        else:
            result.found[member.cadre_id] = fresh[member.cadre_id] = userid
        if found is not None and n % batch == 0 and fresh:
            await found(fresh)
            fresh = {}
        if n < len(members):
            await sleep(gap)
    if found is not None and fresh:
        await found(fresh)
    return result


async def _lookup(
    api: WecomApi, mobile: str, result: Lookup, sleep: Callable[[float], Awaitable[None]]
) -> str | None:
    """One member's userid, None when WeCom has no member with this mobile."""
    waits = 0
    while True:
        try:
            data = await api.call("/cgi-bin/user/getuserid", {"mobile": mobile})
        except WecomError as err:
            if err.errcode in NOT_FOUND:
                return None
            if err.errcode in RATE and waits < MAX_RATE_WAITS:
                waits += 1
                result.rate_waits += 1
                await sleep(RATE_WAIT)
                continue
            raise
        return str(data.get("userid", "")) or None
