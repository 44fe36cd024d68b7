"""outbox: index on sent_at, for the dispatchers' shared send history

Revision ID: 0003_outbox_sent_index
Revises: 0002_web_users
Create Date: 2026-11-30
"""

from alembic import op

revision = "0003_outbox_sent_index"
down_revision = "0002_web_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_sent_at", ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_sent_at")
