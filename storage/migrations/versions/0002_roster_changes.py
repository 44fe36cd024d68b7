"""roster changes: why a pairing ended, who entered a record on a cadre's behalf

Revision ID: 0002_roster_changes
Revises: 0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_roster_changes'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pairings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('end_reason', sa.String(length=100), server_default='', nullable=False)
        )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('entered_by', sa.String(length=100), server_default='', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('entered_by')
    with op.batch_alter_table('pairings', schema=None) as batch_op:
        batch_op.drop_column('end_reason')
