"""The `roster_journal` table."""

from __future__ import annotations

from sqlalchemy import JSON, Column, String, Table

from storage.tables._meta import BigId, metadata

# One committed batch of a real roster import: what it created (ids) or the old values
# of what it changed. Written in the batch's own transaction and removed in the import's
# last one, so rows here after a crash are exactly what an unfinished import must take back.
roster_journal = Table(
    "roster_journal",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("import_id", String(32), index=True, nullable=False),
    Column("entity", String(30), nullable=False),  # a table name: units, cadres, ...
    Column("kind", String(10), nullable=False),  # created | old
    Column("payload", JSON, nullable=False),
)
