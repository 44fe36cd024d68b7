"""kept village months: how many of each village's households had a call or visit in each
month, kept by triggers on contact_months (itself kept by triggers on contacts) and backfilled

Revision ID: 0014_village_months
Revises: 0013_sweep_marks_per_cadre
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_village_months"
down_revision = "0013_sweep_marks_per_cadre"
branch_labels = None
depends_on = None

# A contact_months row counts while it has a live duty contact (n > 0); it may change village
# (the household moved) or month (never, but a repair rewrites rows), so the old row's count
# is taken off where it was and the new row's put on where it is.
# Most updates add a contact to a month already counted: nothing to do then.
MOVED = """(OLD.n > 0) <> (NEW.n > 0) OR OLD.village_id <> NEW.village_id
  OR OLD.month <> NEW.month"""

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER village_months_insert AFTER INSERT ON contact_months WHEN NEW.n > 0
    BEGIN
      INSERT INTO village_months (village_id, month, households)
      VALUES (NEW.village_id, NEW.month, 1)
      ON CONFLICT (village_id, month) DO UPDATE SET households = households + 1;
    END
    """,
    f"""
    CREATE TRIGGER village_months_update AFTER UPDATE OF n, village_id, month ON contact_months
    WHEN {MOVED}
    BEGIN
      UPDATE village_months SET households = households - 1
      WHERE OLD.n > 0 AND village_id = OLD.village_id AND month = OLD.month;
      INSERT INTO village_months (village_id, month, households)
      SELECT NEW.village_id, NEW.month, 1 WHERE NEW.n > 0
      ON CONFLICT (village_id, month) DO UPDATE SET households = households + 1;
    END
    """,
    """
    CREATE TRIGGER village_months_delete AFTER DELETE ON contact_months WHEN OLD.n > 0
    BEGIN
      UPDATE village_months SET households = households - 1
      WHERE village_id = OLD.village_id AND month = OLD.month;
    END
    """,
]

PG_FUNCTIONS = [
    f"""
    CREATE FUNCTION village_months_keep() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND NOT ({MOVED}) THEN
        RETURN NULL;
      END IF;
      IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.n > 0 THEN
        UPDATE village_months SET households = households - 1
        WHERE village_id = OLD.village_id AND month = OLD.month;
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.n > 0 THEN
        INSERT INTO village_months (village_id, month, households)
        VALUES (NEW.village_id, NEW.month, 1)
        ON CONFLICT (village_id, month)
        DO UPDATE SET households = village_months.households + 1;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER village_months_keep
    AFTER INSERT OR DELETE OR UPDATE OF n, village_id, month ON contact_months
    FOR EACH ROW EXECUTE FUNCTION village_months_keep()
    """,
]

# Used by bench/make_county.py too, after contact_months' own backfill (migration 0005).
BACKFILL = """
    INSERT INTO village_months (village_id, month, households)
    SELECT village_id, month, count(*) FROM contact_months WHERE n > 0
    GROUP BY village_id, month
"""
SQLITE_TRIGGER_NAMES = ("village_months_insert", "village_months_update", "village_months_delete")
PG_TRIGGERS = (("contact_months", "village_months_keep"),)  # (table, trigger)

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "village_months",
        sa.Column("village_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("village_id", "month", name=op.f("pk_village_months")),
    )
    op.execute(BACKFILL)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in SQLITE_TRIGGERS if sqlite else PG_FUNCTIONS:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS village_months_keep ON contact_months")
        op.execute("DROP FUNCTION IF EXISTS village_months_keep()")
    op.drop_table("village_months")
