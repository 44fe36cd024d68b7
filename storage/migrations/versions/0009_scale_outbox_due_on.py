"""outbox: due_on, the earliest due date of a reminder's duties (the most overdue go first)

Revision ID: 0009_scale_outbox_due_on
Revises: 0008_ops2_roster_journal
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_scale_outbox_due_on"
down_revision = "0008_ops2_roster_journal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("due_on")
