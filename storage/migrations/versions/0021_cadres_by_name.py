"""cadres by name: an index on (name, id), so a list of cadres in name order (the county
root's unreachable cadres) reads the first few in order instead of sorting them all

Revision ID: 0021_cadres_by_name
Revises: 0020_cadre_scope
Create Date: 2026-11-30
"""

from alembic import op

revision = "0021_cadres_by_name"
down_revision = "0020_cadre_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cadres_name_id", "cadres", ["name", "id"])


def downgrade() -> None:
    op.drop_index("ix_cadres_name_id", table_name="cadres")
