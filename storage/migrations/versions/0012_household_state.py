"""kept household state: each household's last duty contact and home visit by any cadre,
kept by triggers on contact_state (itself kept by triggers on contacts) and backfilled

Revision ID: 0012_household_state
Revises: 0011_digest_month_visits
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_household_state"
down_revision = "0011_digest_month_visits"
branch_labels = None
depends_on = None


def _recompute_sqlite(row: str) -> str:
    """Set the household of `row` from its cadres' kept dates (a few rows, by index)."""
    return f"""
      INSERT INTO household_state (household_id, last_contact_on, last_visit_on)
      SELECT {row}.household_id, max(last_contact_on), max(last_visit_on)
      FROM contact_state WHERE household_id = {row}.household_id
      ON CONFLICT (household_id) DO UPDATE SET
        last_contact_on = excluded.last_contact_on, last_visit_on = excluded.last_visit_on;
    """


# A pair's dates that only moved forward (every new report) move the household's forward:
# no need to read its other cadres' rows. Never NULL, so it can be negated.
FORWARD = """NEW.household_id = OLD.household_id
  AND (OLD.last_contact_on IS NULL
       OR (NEW.last_contact_on IS NOT NULL AND NEW.last_contact_on >= OLD.last_contact_on))
  AND (OLD.last_visit_on IS NULL
       OR (NEW.last_visit_on IS NOT NULL AND NEW.last_visit_on >= OLD.last_visit_on))"""

SQLITE_FORWARD = """
      INSERT INTO household_state (household_id, last_contact_on, last_visit_on)
      VALUES (NEW.household_id, NEW.last_contact_on, NEW.last_visit_on)
      ON CONFLICT (household_id) DO UPDATE SET
        last_contact_on = CASE WHEN excluded.last_contact_on > coalesce(last_contact_on, '')
                               THEN excluded.last_contact_on ELSE last_contact_on END,
        last_visit_on = CASE WHEN excluded.last_visit_on > coalesce(last_visit_on, '')
                             THEN excluded.last_visit_on ELSE last_visit_on END;
"""

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER household_state_insert AFTER INSERT ON contact_state
    BEGIN {SQLITE_FORWARD} END
    """,
    f"""
    CREATE TRIGGER household_state_forward AFTER UPDATE ON contact_state WHEN {FORWARD}
    BEGIN {SQLITE_FORWARD} END
    """,
    f"""
    CREATE TRIGGER household_state_update AFTER UPDATE ON contact_state WHEN NOT ({FORWARD})
    BEGIN {_recompute_sqlite("NEW")} END
    """,
    f"""
    CREATE TRIGGER household_state_move AFTER UPDATE OF household_id ON contact_state
    WHEN OLD.household_id <> NEW.household_id
    BEGIN {_recompute_sqlite("OLD")} END
    """,
    f"""
    CREATE TRIGGER household_state_delete AFTER DELETE ON contact_state
    BEGIN {_recompute_sqlite("OLD")} END
    """,
]


def _recompute_pg(row: str) -> str:
    """Lock the household's row (created empty if need be), then set it from contact_state.

    Under the lock, READ COMMITTED, the next statement sees every other transaction's
    committed cadre state of the household: concurrent reports by two cadres, or a report
    and an undo, cannot overwrite each other's dates.
    """
    return f"""
        INSERT INTO household_state (household_id) VALUES ({row}.household_id)
        ON CONFLICT DO NOTHING;
        PERFORM 1 FROM household_state WHERE household_id = {row}.household_id FOR UPDATE;
        UPDATE household_state h SET last_contact_on = m.contact_on, last_visit_on = m.visit_on
        FROM (
          SELECT max(s.last_contact_on) AS contact_on, max(s.last_visit_on) AS visit_on
          FROM contact_state s WHERE s.household_id = {row}.household_id
        ) m
        WHERE h.household_id = {row}.household_id;
    """


PG_FUNCTIONS = [
    f"""
    CREATE FUNCTION household_state_keep() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
      IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND {FORWARD}) THEN
        -- Only forward: the upsert's row lock orders it after any recomputation.
        INSERT INTO household_state AS h (household_id, last_contact_on, last_visit_on)
        VALUES (NEW.household_id, NEW.last_contact_on, NEW.last_visit_on)
        ON CONFLICT (household_id) DO UPDATE SET
          last_contact_on = greatest(h.last_contact_on, excluded.last_contact_on),
          last_visit_on = greatest(h.last_visit_on, excluded.last_visit_on);
        RETURN NULL;
      END IF;
      {_recompute_pg("OLD")}
      IF TG_OP = 'UPDATE' AND NEW.household_id <> OLD.household_id THEN
        {_recompute_pg("NEW")}
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER household_state_keep AFTER INSERT OR DELETE OR UPDATE ON contact_state
    FOR EACH ROW EXECUTE FUNCTION household_state_keep()
    """,
]

# Used by bench/make_county.py too, after contact_state's own backfill (migration 0007).
BACKFILL = """
    INSERT INTO household_state (household_id, last_contact_on, last_visit_on)
    SELECT household_id, max(last_contact_on), max(last_visit_on)
    FROM contact_state GROUP BY household_id
"""
SQLITE_TRIGGER_NAMES = (
    "household_state_insert",
    "household_state_forward",
    "household_state_update",
    "household_state_move",
    "household_state_delete",
)
PG_TRIGGERS = (("contact_state", "household_state_keep"),)  # (table, trigger)

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "household_state",
        sa.Column("household_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("last_contact_on", sa.Date(), nullable=True),
        sa.Column("last_visit_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_state")),
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
        op.execute("DROP TRIGGER IF EXISTS household_state_keep ON contact_state")
        op.execute("DROP FUNCTION IF EXISTS household_state_keep()")
    op.drop_table("household_state")
