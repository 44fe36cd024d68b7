"""The migrated schema equals the models (storage/models/), so neither drifts: on SQLite
and PostgreSQL, autogenerate finds nothing to do (column types compared too)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.models import Base


async def test_models_equal_the_migrations(db) -> None:
    def diff(sync_conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))

    async with db.engine.connect() as conn:
        found = await conn.run_sync(diff)
    assert found == [], "\n".join(str(d) for d in found)
