"""One-time enrolment codes: created for a cadre or a supervisors' group, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invite

# No 0/O/1/I/L: codes are read off a screen and typed on a phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def hash_code(code: str) -> str:
    normalized = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalized.encode()).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


async def create_invite(
    session: AsyncSession,
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
    session.add(
        Invite(
            code_hash=hash_code(code),
            kind=kind,
            cadre_id=cadre_id,
            unit_id=unit_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
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
    session: AsyncSession, code: str, *, kind: str, now: datetime, used_by: str
) -> Redeemed:
    """Mark a code used, atomically: two people racing for one code, one wins."""
    invite = await session.scalar(select(Invite).where(Invite.code_hash == hash_code(code)))
    if invite is None:
        raise InviteError("unknown")
    if invite.kind != kind:
        raise InviteError("wrong_kind")
    if invite.used_at is not None:
        raise InviteError("used")
    if invite.expires_at <= now:
        raise InviteError("expired")
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now, used_by=used_by)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InviteError("used")
    return Redeemed(kind=invite.kind, cadre_id=invite.cadre_id, unit_id=invite.unit_id)
