"""One-time enrolment codes: created for a cadre or a supervisors' group, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update

from storage.batch import chunks
from storage.core_db import Executor
from storage.tables import cadres, chat_accounts, invites, units

# No 0/O/1/I/L: codes are read off a screen and typed on a phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def hash_code(code: str) -> str:
    """SHA-256 of the normalised code: one hash per code, fast enough for a county at once.

    A slow password hash buys nothing here: codes are random (31**10), single-use and
    expire, so guessing is bounded by the enrolment throttle, not by the hash.
    """
    normalized = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalized.encode()).hexdigest()


def new_code() -> str:
    """CODE_LENGTH letters of ALPHABET, uniformly: one draw from the OS's CSPRNG per code."""
    n = secrets.randbelow(len(ALPHABET) ** CODE_LENGTH)
    out = []
    for _ in range(CODE_LENGTH):
        n, digit = divmod(n, len(ALPHABET))
        out.append(ALPHABET[digit])
    return "".join(out)


async def create_invite(
    session: Executor,
    *,
    kind: str,
    now: datetime,
    ttl: timedelta,
    cadre_id: int | None = None,
    unit_id: int | None = None,
) -> str:
    """Store a new invite and return its plain code (shown once, never stored)."""
    if kind not in ("cadre", "group"):
        raise ValueError(kind)
    code = new_code()
    await session.execute(
        insert(invites).values(
            code_hash=hash_code(code),
            kind=kind,
            cadre_id=cadre_id,
            unit_id=unit_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return code


@dataclass(frozen=True)
class Redeemed:
    kind: str
    cadre_id: int | None
    unit_id: int | None


class InviteError(Exception):
    """reason is one of: unknown, expired, used, wrong_kind."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def redeem_invite(
    session: Executor, code: str, *, kind: str, now: datetime, used_by: str
) -> Redeemed:
    """Mark a code used, atomically: two people racing for one code, one wins."""
    found = await session.execute(select(invites).where(invites.c.code_hash == hash_code(code)))
    invite = found.first()
    if invite is None:
        raise InviteError("unknown")
    if invite.kind != kind:
        raise InviteError("wrong_kind")
    if invite.used_at is not None:
        raise InviteError("used")
    if invite.expires_at <= now:
        raise InviteError("expired")
    result = await session.execute(
        update(invites)
        .where(invites.c.id == invite.id, invites.c.used_at.is_(None))
        .values(used_at=now, used_by=used_by)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InviteError("used")
    return Redeemed(kind=invite.kind, cadre_id=invite.cadre_id, unit_id=invite.unit_id)


@dataclass(frozen=True, slots=True)
class Invitee:
    """A cadre without a bound chat account, to be handed a code."""

    cadre_id: int
    name: str
    phone: str
    unit_path: str


def subtree(path: str) -> Any:
    """Units at `path` or below it."""
    return or_(units.c.path == path, units.c.path.startswith(path + "/", autoescape=True))


async def unbound_cadres(
    session: Executor,
    unit_path: str,
    phones: Sequence[str] = (),
    *,
    channel: str | None = None,
) -> list[Invitee]:
    """Active cadres in the unit's subtree ("" for all) with no bound chat account (on
    `channel`, when given), by unit then name."""
    accounts = select(chat_accounts.c.id).where(chat_accounts.c.cadre_id == cadres.c.id)
    if channel is not None:
        accounts = accounts.where(chat_accounts.c.channel == channel)
    stmt = (
        select(cadres.c.id, cadres.c.name, cadres.c.phone, units.c.path)
        .join(units, units.c.id == cadres.c.unit_id)
        .where(cadres.c.active.is_(True), ~accounts.exists())
        .order_by(units.c.path, cadres.c.name, cadres.c.id)
    )
    if unit_path:
        stmt = stmt.where(subtree(unit_path))
    if phones:
        stmt = stmt.where(cadres.c.phone.in_(list(phones)))
    return [Invitee(*row) for row in await session.execute(stmt)]


async def live_codes(session: Executor, cadre_ids: Sequence[int], now: datetime) -> set[int]:
    """Cadres among these that hold an unused, unexpired code."""
    held: set[int] = set()
    for part in chunks(list(cadre_ids)):
        rows = await session.execute(
            select(invites.c.cadre_id).where(
                invites.c.kind == "cadre",
                invites.c.cadre_id.in_(part),
                invites.c.used_at.is_(None),
                invites.c.expires_at > now,
            )
        )
        held.update(cid for cid in rows.scalars() if cid is not None)
    return held


async def retire_codes(session: Executor, cadre_ids: Sequence[int], now: datetime) -> None:
    """End these cadres' unused codes now (kept as history); used ones stay as they are."""
    for part in chunks(list(cadre_ids)):
        await session.execute(
            update(invites)
            .where(
                invites.c.kind == "cadre",
                invites.c.cadre_id.in_(part),
                invites.c.used_at.is_(None),
                invites.c.expires_at > now,
            )
            .values(expires_at=now)
        )


async def create_cadre_invites(
    session: Executor, codes: dict[int, str], *, now: datetime, ttl: timedelta
) -> None:
    """Store these plain codes (cadre id → code), hashed, in batches."""
    rows = [
        {
            "code_hash": hash_code(code),
            "kind": "cadre",
            "cadre_id": cid,
            "unit_id": None,
            "created_at": now,
            "expires_at": now + ttl,
            "used_by": "",
        }
        for cid, code in codes.items()
    ]
    for part in chunks(rows):
        await session.execute(insert(invites), part)
