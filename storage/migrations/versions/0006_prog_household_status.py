"""household status: 脱贫 / 监测户 / 已消除风险 / 退出 with its date

Revision ID: 0006_prog_household_status
Revises: 0005_web_speed
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa


revision = "0006_prog_household_status"
down_revision = "0005_web_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("poverty_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("status_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.drop_column("status_date")
        batch.drop_column("poverty_status")
