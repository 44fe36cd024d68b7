"""pairings and contact_state: the sweep's read of a chunk's live pairings, covered by index

Revision ID: 0019_sweep_covering
Revises: 0018_outbox_claims
Create Date: 2026-11-30

The daily sweep reads every live pairing of a range of cadres with its kept contact state.
SQLite read each pairing through the unique (cadre, household) index and then its row, and
each kept state the same way: two of its four lookups a pairing were the rows. These two
indexes hold what the read needs, in cadre order.
"""

from alembic import op

revision = "0019_sweep_covering"
down_revision = "0018_outbox_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_pairings_cadre_live",
        "pairings",
        ["cadre_id", "household_id", "active", "start_date", "end_date"],
    )
    op.create_index(
        "ix_contact_state_cadre_dates",
        "contact_state",
        ["cadre_id", "household_id", "last_call_on", "last_visit_on", "last_contact_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_contact_state_cadre_dates", table_name="contact_state")
    op.drop_index("ix_pairings_cadre_live", table_name="pairings")
