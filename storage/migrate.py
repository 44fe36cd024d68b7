"""Run Alembic migrations programmatically (`bangfu db upgrade`, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.db import normalize_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, *, schema: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    cfg.attributes["schema"] = schema
    return cfg


def upgrade(
    url: str, revision: str = "head", *, schema: str | None = None
) -> tuple[str | None, str | None]:
    """Migrate to `revision`; return the revision found before and the one after (None: empty)."""
    cfg = alembic_config(url, schema=schema)
    command.upgrade(cfg, revision)
    return cfg.attributes.get("revision_before"), cfg.attributes.get("revision_after")


async def upgrade_async(url: str, revision: str = "head", *, schema: str | None = None) -> None:
    """Alembic's env runs its own event loop, so run it in a worker thread."""
    await asyncio.to_thread(upgrade, url, revision, schema=schema)
