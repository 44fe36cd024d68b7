"""contacts: an index on (occurred_on, id), the ledger's order, so an export streams unsorted

Revision ID: 0010_contacts_day_order
Revises: 0009_scale_outbox_due_on
Create Date: 2026-11-30
"""

from alembic import op

revision = "0010_contacts_day_order"
down_revision = "0009_scale_outbox_due_on"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contacts_day_id", "contacts", ["occurred_on", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_contacts_day_id", table_name="contacts")
