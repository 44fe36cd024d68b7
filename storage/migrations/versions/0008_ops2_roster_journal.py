"""roster journal: a real import's committed batches, durable, so an import killed outright
is taken back at the next start

Revision ID: 0008_ops2_roster_journal
Revises: 0007_kept_contact_state
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa


revision = "0008_ops2_roster_journal"
down_revision = "0007_kept_contact_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster_journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_journal")),
    )
    with op.batch_alter_table("roster_journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_journal_import_id"), ["import_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("roster_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_journal_import_id"))
    op.drop_table("roster_journal")
