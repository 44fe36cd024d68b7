"""reminder marks: one row per cadre and claim holding its duty keys, instead of one per duty

Revision ID: 0013_sweep_marks_per_cadre
Revises: 0012_household_state
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sweep_marks_per_cadre"
down_revision = "0012_household_state"
branch_labels = None
depends_on = None

# The sweep's marks so far: every key but an escalation's, one duty a row.
_PER_DUTY = "duties IS NULL AND key NOT LIKE 'esc:%'"


def upgrade() -> None:
    with op.batch_alter_table("reminder_marks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duties", sa.Text(), nullable=True))
        batch_op.create_index("ix_reminder_marks_cadre_stage", ["cadre_id", "stage_on"])
    # Each cadre's duty marks of a day become one row holding their keys, so a sweep rerun
    # that day still finds them reminded.
    postgres = op.get_bind().dialect.name == "postgresql"
    keys = "string_agg(key, chr(10) ORDER BY key)" if postgres else "group_concat(key, char(10))"
    op.execute(
        "INSERT INTO reminder_marks (key, cadre_id, stage_on, created_at, duties) "
        "SELECT 'remind:' || cadre_id || ':' || stage_on || '\\:migrated', cadre_id, stage_on, "
        f"MIN(created_at), {keys} FROM reminder_marks WHERE {_PER_DUTY} "
        "GROUP BY cadre_id, stage_on"
    )
    op.execute(f"DELETE FROM reminder_marks WHERE {_PER_DUTY}")


def downgrade() -> None:
    marks = sa.table(
        "reminder_marks",
        sa.column("key", sa.String),
        sa.column("cadre_id", sa.Integer),
        sa.column("stage_on", sa.Date),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("duties", sa.Text),
    )
    conn = op.get_bind()
    grouped = conn.execute(
        sa.select(marks.c.cadre_id, marks.c.stage_on, marks.c.created_at, marks.c.duties).where(
            marks.c.duties.is_not(None)
        )
    ).all()
    rows = [
        {"key": key, "cadre_id": cadre, "stage_on": day, "created_at": at}
        for cadre, day, at, duties in grouped
        for key in duties.split("\n")
    ]
    op.execute(marks.delete().where(marks.c.duties.is_not(None)))
    if rows:
        conn.execute(marks.insert(), rows)
    with op.batch_alter_table("reminder_marks", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_marks_cadre_stage")
        batch_op.drop_column("duties")
