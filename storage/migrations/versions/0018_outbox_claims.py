"""outbox: stage_on, the day a sweep's reminder was swept: the row is the sweep's claim

Revision ID: 0018_outbox_claims
Revises: 0017_lean_scope_triggers
Create Date: 2026-11-30

The reminder sweep no longer writes a `reminder_marks` row per cadre besides its outbox
rows: the outbox rows of a cadre and day (by `stage_on`) are its claims, their payloads
listing the duty keys. Marks written before stay read (storage.sweep_marks), so a day swept
before the upgrade is not said again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_outbox_claims"
down_revision = "0017_lean_scope_triggers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage_on", sa.Date(), nullable=True))
        batch_op.create_index("ix_outbox_cadre_stage", ["cadre_id", "stage_on"])


def downgrade() -> None:
    # The claims go back to one mark per cadre and day, its keys those the rows list.
    outbox = sa.table(
        "outbox",
        sa.column("cadre_id", sa.Integer),
        sa.column("stage_on", sa.Date),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("payload", sa.JSON),
    )
    conn = op.get_bind()
    claims: dict[tuple[int, object], tuple[object, set[str]]] = {}
    query = sa.select(outbox.c.cadre_id, outbox.c.stage_on, outbox.c.created_at, outbox.c.payload)
    for cadre, day, at, payload in conn.execute(query.where(outbox.c.stage_on.is_not(None))):
        keys = {str(d[2]) for d in payload["reminder"]["duties"]}
        claims.setdefault((cadre, day), (at, set()))[1].update(keys)
    if claims:
        marks = sa.table(
            "reminder_marks",
            sa.column("key", sa.String),
            sa.column("cadre_id", sa.Integer),
            sa.column("stage_on", sa.Date),
            sa.column("created_at", sa.DateTime(timezone=True)),
            sa.column("duties", sa.Text),
        )
        rows = [
            {
                "key": f"remind:{cadre}:{day}:claimed",
                "cadre_id": cadre,
                "stage_on": day,
                "created_at": at,
                "duties": "\n".join(sorted(keys)),
            }
            for (cadre, day), (at, keys) in claims.items()
        ]
        conn.execute(marks.insert(), rows)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_cadre_stage")
        batch_op.drop_column("stage_on")
