"""sweep rounds: the daily sweep opens a day's round and the dispatcher derives its
reminders a batch at a time as it sends them (storage/sweep_rounds.py)

The downgrade drops the rounds. A round not finished then has reminders nobody derived yet:
the sweep's claim of its day (`job_runs`) is released, so the older version's scheduler
sweeps that day again when it starts (its catch-up runs the latest scheduled day), and the
outbox rows already derived, being claims, keep what was said from being said twice.

Revision ID: 0022_sweep_rounds
Revises: 0021_cadres_by_name
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_sweep_rounds"
down_revision = "0021_cadres_by_name"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sweep_rounds",
        sa.Column("id", _ID, nullable=False),
        sa.Column("stage_on", sa.Date(), nullable=False),
        sa.Column("lang", sa.String(length=10), nullable=False),
        sa.Column("opened_at", _STAMP, nullable=False),
        sa.Column("not_before", _STAMP, nullable=True),
        sa.Column("pass_due", sa.Date(), nullable=True),
        sa.Column("after_cadre", _ID, nullable=False),
        sa.Column("done_at", _STAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_rounds")),
    )


def downgrade() -> None:
    day = (
        "to_char(r.stage_on, 'YYYY-MM-DD')"
        if op.get_bind().dialect.name == "postgresql"
        else "r.stage_on"
    )
    op.execute(
        "DELETE FROM job_runs WHERE job = 'sweep' AND run_key IN"
        f" (SELECT {day} FROM sweep_rounds r WHERE r.done_at IS NULL)"
    )
    op.drop_table("sweep_rounds")
