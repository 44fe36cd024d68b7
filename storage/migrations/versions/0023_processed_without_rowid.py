"""processed messages, SQLite: the ledger as a WITHOUT ROWID table keyed by (channel,
message_id)

Every update inserts one row. With a rowid the row went into two B-trees besides the
`processed_at` index (the table by rowid, and the primary key's own index); keyed by its
primary key it goes into one, a page fewer written to the WAL an update. The table is
rebuilt with its rows (SQLite cannot change a table's kind in place). PostgreSQL's tables
have no rowid: nothing to do there.

Revision ID: 0023_processed_without_rowid
Revises: 0022_sweep_rounds
Create Date: 2026-12-01
"""

from alembic import op

revision = "0023_processed_without_rowid"
down_revision = "0022_sweep_rounds"
branch_labels = None
depends_on = None

_COLUMNS = (
    "channel VARCHAR(20) NOT NULL, message_id VARCHAR(120) NOT NULL, "
    "processed_at DATETIME NOT NULL, "
    "CONSTRAINT pk_processed_messages PRIMARY KEY (channel, message_id)"
)


def _rebuild(kind: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"CREATE TABLE processed_messages_new ({_COLUMNS}){kind}")
    op.execute(
        "INSERT INTO processed_messages_new (channel, message_id, processed_at)"
        " SELECT channel, message_id, processed_at FROM processed_messages"
    )
    op.execute("DROP TABLE processed_messages")  # its index with it
    op.execute("ALTER TABLE processed_messages_new RENAME TO processed_messages")
    op.execute(
        "CREATE INDEX ix_processed_messages_processed_at ON processed_messages (processed_at)"
    )


def upgrade() -> None:
    _rebuild(" WITHOUT ROWID")


def downgrade() -> None:
    _rebuild("")
