"""send slots: the platform-wide send budgets held in the database, so processes starting
sends at the same moment cannot pass them together (used on PostgreSQL)

Revision ID: 0015_send_slots
Revises: 0014_village_months
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_send_slots"
down_revision = "0014_village_months"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_slots",
        sa.Column("budget", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("free_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("budget", "slot", name=op.f("pk_send_slots")),
    )
    with op.batch_alter_table("send_slots", schema=None) as batch_op:
        batch_op.create_index("ix_send_slots_budget_free", ["budget", "free_at_us"])


def downgrade() -> None:
    op.drop_table("send_slots")
