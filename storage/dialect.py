"""The one place that knows SQLite from PostgreSQL (no dialect SQL elsewhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignore(session: AsyncSession, table: Table, index_elements: list[str]) -> Any:
    """INSERT … ON CONFLICT (index_elements) DO NOTHING for the session's database."""
    return insert_ignore_for(is_postgres(session), table, index_elements)


def insert_ignore_for(postgres: bool, table: Table, index_elements: list[str]) -> Any:
    """`insert_ignore` for PostgreSQL or SQLite, chosen by the caller."""
    # Each dialect module is imported when first used: an admin command on SQLite does not
    # pay for the PostgreSQL dialect (and asyncpg's) at start-up.
    if postgres:
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing(index_elements=index_elements)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing(index_elements=index_elements)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def skip_locked(session: AsyncSession, stmt: Any) -> Any:
    """SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite locks the whole file anyway."""
    return stmt.with_for_update(skip_locked=True) if is_postgres(session) else stmt


async def try_advisory_xact_lock(session: AsyncSession, key: int) -> bool:
    """pg_try_advisory_xact_lock(key, <this deployment>), held until the transaction ends.

    Advisory locks are server-wide, so the second half of the two-part key names the
    deployment: the database and the schema first in the search path. Two deployments on
    one PostgreSQL server (or two test runs in their own schemas) never block each other.
    SQLite has one writer at a time and no advisory locks: always True there.
    """
    if not is_postgres(session):
        return True
    result = await session.execute(
        text(
            "SELECT pg_try_advisory_xact_lock("
            "CAST(:k AS integer), hashtext(current_database() || '.' || current_schema()))"
        ),
        {"k": _int4(key)},
    )
    return bool(result.scalar())


def _int4(key: int) -> int:
    """A 32-bit unsigned key as PostgreSQL's signed integer."""
    key &= 0xFFFFFFFF
    return key - (1 << 32) if key >= 1 << 31 else key


async def refresh_statistics(session: AsyncSession, tables: list[str]) -> None:
    """After a bulk load, let PostgreSQL's planner see the new rows (else it may scan).

    SQLite picks indexes without statistics, so there is nothing to do there.
    """
    if is_postgres(session):
        names = ", ".join(f'"{name}"' for name in tables)
        await session.execute(text(f"ANALYZE {names}"))
