"""The database a process opens from its settings: the bot, the web console and every admin
command alike, so they all read and write the same tables.

`BANGFU_DATABASE_SCHEMA` (PostgreSQL only) names the schema when several deployments share
one database: every connection's search_path is set to it, so the tables, the migrations
and Alembic's version table all live there. On SQLite it is ignored, as `Database` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.config import Settings
from storage.core_db import CoreDatabase, is_sqlite

if TYPE_CHECKING:
    from storage.db import Database


def database_target(settings: Settings, url: str | None = None) -> tuple[str, str | None]:
    """The URL (`url`, a command's --url, instead of the setting) and the schema to use."""
    url = url or settings.database_url
    if is_sqlite(url):
        return url, None
    return url, settings.database_schema or None


def open_database(settings: Settings, url: str | None = None, **engine_kw: Any) -> Database:
    """A `Database` on the configured URL (or `url`) and schema."""
    from storage.db import Database

    url, schema = database_target(settings, url)
    return Database(url, schema=schema, **engine_kw)


def open_core_database(settings: Settings, url: str | None = None) -> CoreDatabase:
    """A `CoreDatabase` (Core connections, no ORM: admin commands) on the same target."""
    url, schema = database_target(settings, url)
    return CoreDatabase(url, schema=schema)
