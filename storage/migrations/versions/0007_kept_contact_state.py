"""kept contact state: each (cadre, household)'s last call, last visit and last duty contact,
kept by triggers on contacts (like contact_months) and backfilled from the contacts

Revision ID: 0007_kept_contact_state
Revises: 0006_prog_household_status
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa


revision = "0007_kept_contact_state"
down_revision = "0006_prog_household_status"
branch_labels = None
depends_on = None

DUTY = "('call', 'visit')"  # storage.duties.CONTACT_KINDS


def _recompute_sqlite(row: str) -> str:
    """Statements that set the state of `row`'s (cadre, household) from its live contacts."""
    match = f"cadre_id = {row}.cadre_id AND household_id = {row}.household_id AND deleted_at IS NULL"
    return f"""
      INSERT INTO contact_state (cadre_id, household_id, last_call_on, last_visit_on, last_contact_on)
      SELECT {row}.cadre_id, {row}.household_id,
             (SELECT max(occurred_on) FROM contacts WHERE {match} AND kind = 'call'),
             (SELECT max(occurred_on) FROM contacts WHERE {match} AND kind = 'visit'),
             (SELECT max(occurred_on) FROM contacts WHERE {match} AND kind IN {DUTY})
      WHERE true
      ON CONFLICT (cadre_id, household_id) DO UPDATE SET
        last_call_on = excluded.last_call_on,
        last_visit_on = excluded.last_visit_on,
        last_contact_on = excluded.last_contact_on;
    """


SQLITE_TRIGGERS = [
    # A new contact can only move a date forward: no need to read the other contacts.
    f"""
    CREATE TRIGGER contact_state_insert AFTER INSERT ON contacts
    WHEN NEW.deleted_at IS NULL AND NEW.kind IN {DUTY}
    BEGIN
      INSERT INTO contact_state (cadre_id, household_id, last_call_on, last_visit_on, last_contact_on)
      VALUES (NEW.cadre_id, NEW.household_id,
              CASE WHEN NEW.kind = 'call' THEN NEW.occurred_on END,
              CASE WHEN NEW.kind = 'visit' THEN NEW.occurred_on END,
              NEW.occurred_on)
      ON CONFLICT (cadre_id, household_id) DO UPDATE SET
        last_call_on = CASE WHEN excluded.last_call_on > coalesce(last_call_on, '')
                            THEN excluded.last_call_on ELSE last_call_on END,
        last_visit_on = CASE WHEN excluded.last_visit_on > coalesce(last_visit_on, '')
                             THEN excluded.last_visit_on ELSE last_visit_on END,
        last_contact_on = CASE WHEN excluded.last_contact_on > coalesce(last_contact_on, '')
                               THEN excluded.last_contact_on ELSE last_contact_on END;
    END
    """,
    # Undo, correction, deletion: the dates may move back, so read the pair's contacts again.
    f"""
    CREATE TRIGGER contact_state_delete AFTER DELETE ON contacts
    WHEN OLD.deleted_at IS NULL AND OLD.kind IN {DUTY}
    BEGIN {_recompute_sqlite("OLD")} END
    """,
    f"""
    CREATE TRIGGER contact_state_update
    AFTER UPDATE OF deleted_at, kind, occurred_on, household_id, cadre_id ON contacts
    WHEN (OLD.deleted_at IS NULL AND OLD.kind IN {DUTY})
      OR (NEW.deleted_at IS NULL AND NEW.kind IN {DUTY})
    BEGIN {_recompute_sqlite("OLD")} {_recompute_sqlite("NEW")} END
    """,
]


def _recompute_pg(row: str) -> str:
    """Lock the pair's state row (created empty if need be), then set it from the contacts.

    The lock is the row's: a recomputation waits for a concurrent report's upsert (and that
    upsert for it), and, READ COMMITTED, its next statement sees what the other committed.
    Row locks live in the rows, so a bulk load of millions of contacts takes no lock slots.
    """
    key = f"cadre_id = {row}.cadre_id AND household_id = {row}.household_id"
    match = f"c.cadre_id = {row}.cadre_id AND c.household_id = {row}.household_id"
    return f"""
        INSERT INTO contact_state (cadre_id, household_id)
        VALUES ({row}.cadre_id, {row}.household_id) ON CONFLICT DO NOTHING;
        PERFORM 1 FROM contact_state WHERE {key} FOR UPDATE;
        UPDATE contact_state s SET
          last_call_on = m.call_on, last_visit_on = m.visit_on, last_contact_on = m.contact_on
        FROM (
          SELECT max(c.occurred_on) FILTER (WHERE c.kind = 'call') AS call_on,
                 max(c.occurred_on) FILTER (WHERE c.kind = 'visit') AS visit_on,
                 max(c.occurred_on) AS contact_on
          FROM contacts c
          WHERE {match} AND c.deleted_at IS NULL AND c.kind IN {DUTY}
        ) m
        WHERE s.{key.replace(" AND ", " AND s.")};
    """


PG_FUNCTIONS = [
    f"""
    CREATE FUNCTION contact_state_keep() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        IF NEW.deleted_at IS NULL AND NEW.kind IN {DUTY} THEN
          -- Only forward: the upsert's row lock orders it after any recomputation.
          INSERT INTO contact_state AS s
            (cadre_id, household_id, last_call_on, last_visit_on, last_contact_on)
          VALUES (NEW.cadre_id, NEW.household_id,
                  CASE WHEN NEW.kind = 'call' THEN NEW.occurred_on END,
                  CASE WHEN NEW.kind = 'visit' THEN NEW.occurred_on END,
                  NEW.occurred_on)
          ON CONFLICT (cadre_id, household_id) DO UPDATE SET
            last_call_on = greatest(s.last_call_on, excluded.last_call_on),
            last_visit_on = greatest(s.last_visit_on, excluded.last_visit_on),
            last_contact_on = greatest(s.last_contact_on, excluded.last_contact_on);
        END IF;
        RETURN NULL;
      END IF;
      IF OLD.deleted_at IS NULL AND OLD.kind IN {DUTY} THEN
        {_recompute_pg("OLD")}
      END IF;
      IF TG_OP = 'UPDATE' AND NEW.deleted_at IS NULL AND NEW.kind IN {DUTY} THEN
        {_recompute_pg("NEW")}
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER contact_state_keep
    AFTER INSERT OR DELETE OR UPDATE OF deleted_at, kind, occurred_on, household_id, cadre_id
    ON contacts FOR EACH ROW EXECUTE FUNCTION contact_state_keep()
    """,
]

# Used by bench/make_county.py too: it loads contacts with the triggers off, then backfills.
BACKFILL = f"""
    INSERT INTO contact_state (cadre_id, household_id, last_call_on, last_visit_on, last_contact_on)
    SELECT cadre_id, household_id,
           max(CASE WHEN kind = 'call' THEN occurred_on END),
           max(CASE WHEN kind = 'visit' THEN occurred_on END),
           max(occurred_on)
    FROM contacts WHERE deleted_at IS NULL AND kind IN {DUTY}
    GROUP BY cadre_id, household_id
"""
SQLITE_TRIGGER_NAMES = ("contact_state_insert", "contact_state_delete", "contact_state_update")
PG_TRIGGERS = (("contacts", "contact_state_keep"),)  # (table, trigger)

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contact_state",
        sa.Column("cadre_id", BIG_ID, nullable=False),
        sa.Column("household_id", BIG_ID, nullable=False),
        sa.Column("last_call_on", sa.Date(), nullable=True),
        sa.Column("last_visit_on", sa.Date(), nullable=True),
        sa.Column("last_contact_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("cadre_id", "household_id", name=op.f("pk_contact_state")),
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
        op.execute("DROP TRIGGER IF EXISTS contact_state_keep ON contacts")
        op.execute("DROP FUNCTION IF EXISTS contact_state_keep()")
    op.drop_table("contact_state")
