"""The models (storage/models.py) and the Alembic migrations describe the same schema, on
both databases: autogenerate finds nothing to do."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.models import Base


async def test_migrations_equal_the_models(db):
    def diff(sync_conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(ctx, Base.metadata))

    async with db.engine.connect() as conn:
        found = await conn.run_sync(diff)
    assert found == [], "\n".join(str(d) for d in found)
