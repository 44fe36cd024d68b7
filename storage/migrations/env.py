"""Alembic environment: async engines for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import create_engine, is_sqlite
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    # What `bangfu db upgrade` reports: the revision found and the one left.
    migration = context.get_context()
    config.attributes["revision_before"] = migration.get_current_revision()
    with context.begin_transaction():
        context.run_migrations()
    config.attributes["revision_after"] = migration.get_current_revision()


async def _create_schema(conn: AsyncConnection, schema: str) -> None:
    """Create the configured schema if it is missing (search_path names it: the tables and
    the version table are created in it). Looked up first: CREATE SCHEMA IF NOT EXISTS
    would need the right to create schemas even when the schema is there already."""
    found = await conn.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
    if found is None:
        await conn.execute(text(f"CREATE SCHEMA {conn.dialect.identifier_preparer.quote(schema)}"))


async def _run_async() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    schema = config.attributes.get("schema") if not is_sqlite(url) else None
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            if schema:
                await _create_schema(conn, schema)
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
