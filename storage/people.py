"""Queries about cadres, their chat accounts and their households."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core_db import execute_core
from storage.models import (
    Cadre,
    ChatAccount,
    Contact,
    Household,
    Pairing,
    SupervisorGroup,
    Unit,
)


async def account_cadre(session: AsyncSession, channel: str, account_id: str) -> Cadre | None:
    """The cadre bound to this chat account, if any (and still active)."""
    return await session.scalar(
        select(Cadre)
        .join(ChatAccount, ChatAccount.cadre_id == Cadre.id)
        .where(
            ChatAccount.channel == channel,
            ChatAccount.account_id == account_id,
            Cadre.active.is_(True),
        )
    )


@dataclass(slots=True)
class CadreView:
    """The cadre an update is handled for, as the flows read it (plain columns, no ORM
    instance: leave is written with `storage.cadres.set_leave`)."""

    id: int
    name: str
    unit_id: int
    leave_until: date | None


@dataclass(frozen=True)
class AccountView:
    """What handling one message needs to know about the account that sent it."""

    language: str
    blocked: bool
    cadre: CadreView | None  # None: not bound to an active cadre


# Statements run on every update are built once (their SQL compiled once, too, in
# SQLAlchemy's cache, but building and keying a new statement each time costs as much).
@functools.cache
def _account_view() -> Any:
    return (
        select(
            ChatAccount.language,
            ChatAccount.blocked_at,
            Cadre.id,
            Cadre.name,
            Cadre.unit_id,
            Cadre.leave_until,
        )
        .outerjoin(Cadre, (Cadre.id == ChatAccount.cadre_id) & Cadre.active.is_(True))
        .where(
            ChatAccount.channel == bindparam("channel"),
            ChatAccount.account_id == bindparam("account_id"),
        )
    )


async def account_view(session: AsyncSession, channel: str, account_id: str) -> AccountView | None:
    """The account's language, blocked flag and active cadre in one query; None if unknown."""
    params = {"channel": channel, "account_id": account_id}
    row = (await execute_core(session, _account_view(), params)).first()
    return None if row is None else view_of(row)


ACCOUNT_VIEW_COLUMNS = 6  # the leading columns of `_account_view()` that `view_of` reads


def view_of(row: Any) -> AccountView:
    """The AccountView in the first `ACCOUNT_VIEW_COLUMNS` columns of a row."""
    language, blocked_at, cadre_id, name, unit_id, leave_until = row[:ACCOUNT_VIEW_COLUMNS]
    cadre = None if cadre_id is None else CadreView(cadre_id, name, unit_id, leave_until)
    return AccountView(language=language or "", blocked=blocked_at is not None, cadre=cadre)


def account_view_query() -> Any:
    """The account view's statement (built once), for a query that reads more with it."""
    return _account_view()


async def bind_account(
    session: AsyncSession,
    *,
    channel: str,
    account_id: str,
    chat_id: str,
    cadre_id: int,
    language: str,
    now: datetime,
) -> None:
    existing = await session.scalar(
        select(ChatAccount).where(
            ChatAccount.channel == channel, ChatAccount.account_id == account_id
        )
    )
    if existing is None:
        session.add(
            ChatAccount(
                channel=channel,
                account_id=account_id,
                chat_id=chat_id,
                cadre_id=cadre_id,
                language=language,
                bound_at=now,
            )
        )
    else:
        existing.cadre_id, existing.chat_id, existing.bound_at = cadre_id, chat_id, now
        existing.blocked_at = None
    await session.flush()


async def clear_blocked(session: AsyncSession, channel: str, account_id: str) -> None:
    """The account wrote to us: whatever blocked it before, it is reachable now."""
    await session.execute(
        update(ChatAccount)
        .where(
            ChatAccount.channel == channel,
            ChatAccount.account_id == account_id,
            ChatAccount.blocked_at.is_not(None),
        )
        .values(blocked_at=None)
    )


async def account_is_bound(session: AsyncSession, channel: str, account_id: str) -> bool:
    found = await session.scalar(
        select(ChatAccount.id).where(
            ChatAccount.channel == channel, ChatAccount.account_id == account_id
        )
    )
    return found is not None


async def account_language(session: AsyncSession, channel: str, account_id: str) -> str | None:
    return await session.scalar(
        select(ChatAccount.language).where(
            ChatAccount.channel == channel, ChatAccount.account_id == account_id
        )
    )


async def set_account_language(
    session: AsyncSession, channel: str, account_id: str, language: str
) -> None:
    account = await session.scalar(
        select(ChatAccount).where(
            ChatAccount.channel == channel, ChatAccount.account_id == account_id
        )
    )
    if account is not None:
        account.language = language


@dataclass(frozen=True)
class MyHousehold:
    id: int
    head_name: str
    village: str
    phone: str
    last_call: date | None = None
    last_visit: date | None = None


async def my_households(session: AsyncSession, cadre_id: int) -> list[MyHousehold]:
    """The households actively paired with this cadre, by head name."""
    rows = await execute_core(session, _my_households(), {"cadre_id": cadre_id})
    return [MyHousehold(id=r[0], head_name=r[1], village=r[2], phone=r[3]) for r in rows]


@functools.cache
def _my_households() -> Any:
    return (
        select(Household.id, Household.head_name, Unit.name, Household.phone)
        .join(Pairing, Pairing.household_id == Household.id)
        .join(Unit, Unit.id == Household.village_id)
        .where(Pairing.cadre_id == bindparam("cadre_id"), Pairing.active.is_(True))
        .order_by(Household.head_name, Household.id)
    )


async def my_households_with_contacts(session: AsyncSession, cadre_id: int) -> list[MyHousehold]:
    """My households with the dates of the last call and the last visit (anyone's)."""
    last = (
        select(
            Contact.household_id.label("hid"),
            func.max(Contact.occurred_on).filter(Contact.kind == "call").label("last_call"),
            func.max(Contact.occurred_on).filter(Contact.kind == "visit").label("last_visit"),
        )
        .where(
            Contact.deleted_at.is_(None),
            # Only my households' contacts: not an aggregate over the whole county's.
            Contact.household_id.in_(
                select(Pairing.household_id).where(
                    Pairing.cadre_id == cadre_id, Pairing.active.is_(True)
                )
            ),
        )
        .group_by(Contact.household_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Household.id,
            Household.head_name,
            Unit.name,
            Household.phone,
            last.c.last_call,
            last.c.last_visit,
        )
        .join(Pairing, Pairing.household_id == Household.id)
        .join(Unit, Unit.id == Household.village_id)
        .outerjoin(last, last.c.hid == Household.id)
        .where(Pairing.cadre_id == cadre_id, Pairing.active.is_(True))
        .order_by(Household.head_name, Household.id)
    )
    return [MyHousehold(*r) for r in rows]


async def is_my_household(session: AsyncSession, cadre_id: int, household_id: int) -> bool:
    params = {"cadre_id": cadre_id, "household_id": household_id}
    return (await execute_core(session, _is_mine(), params)).first() is not None


@functools.cache
def _is_mine() -> Any:
    return select(Pairing.id).where(
        Pairing.cadre_id == bindparam("cadre_id"),
        Pairing.household_id == bindparam("household_id"),
        Pairing.active.is_(True),
    )


async def household_name(session: AsyncSession, household_id: int) -> str:
    return (
        await session.scalar(select(Household.head_name).where(Household.id == household_id)) or ""
    )


async def bind_group(
    session: AsyncSession, *, channel: str, chat_id: str, unit_id: int, title: str, now: datetime
) -> None:
    existing = await session.scalar(
        select(SupervisorGroup).where(
            SupervisorGroup.channel == channel, SupervisorGroup.chat_id == chat_id
        )
    )
    if existing is None:
        session.add(
            SupervisorGroup(
                channel=channel, chat_id=chat_id, unit_id=unit_id, title=title, bound_at=now
            )
        )
    else:
        existing.unit_id, existing.title, existing.active = unit_id, title, True
        existing.bound_at = now
    await session.flush()


async def register_group(
    session: AsyncSession, *, channel: str, chat_id: str, unit_id: int, title: str, now: datetime
) -> tuple[SupervisorGroup, bool]:
    """Add (or re-point and re-activate) a unit's group, e.g. a robot; True when it is new."""
    group = await session.scalar(
        select(SupervisorGroup).where(
            SupervisorGroup.channel == channel, SupervisorGroup.chat_id == chat_id
        )
    )
    if group is not None:
        group.unit_id = unit_id
        group.active = True
        if title:
            group.title = title
        await session.flush()
        return group, False
    group = SupervisorGroup(
        unit_id=unit_id, channel=channel, chat_id=chat_id, title=title, bound_at=now, active=True
    )
    session.add(group)
    await session.flush()
    return group, True


async def group_unit(session: AsyncSession, channel: str, chat_id: str) -> Unit | None:
    return await session.scalar(
        select(Unit)
        .join(SupervisorGroup, SupervisorGroup.unit_id == Unit.id)
        .where(
            SupervisorGroup.channel == channel,
            SupervisorGroup.chat_id == chat_id,
            SupervisorGroup.active.is_(True),
        )
    )
