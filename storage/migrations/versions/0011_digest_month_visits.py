"""digests from kept state: home visits per household and month (contact_months.visits, kept by
the same triggers as n) and contact_state by household (a household's kept dates, any cadre)

Revision ID: 0011_digest_month_visits
Revises: 0010_contacts_day_order
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_digest_month_visits"
down_revision = "0010_contacts_day_order"
branch_labels = None
depends_on = None

DUTY = "('call', 'visit')"  # storage.stats_scope.DUTY_KINDS
VISIT = "CASE WHEN {row}.kind = 'visit' THEN 1 ELSE 0 END"
SQLITE_MONTH = "date({row}.occurred_on, 'start of month')"
PG_MONTH = "date_trunc('month', {row}.occurred_on)::date"
SQLITE_NAMES = ("contact_months_insert", "contact_months_delete", "contact_months_update")


def _sqlite_triggers(visits: bool) -> list[str]:
    """contact_months' triggers on contacts; with `visits`, they keep the visit count too."""
    new_v, old_v = VISIT.format(row="NEW"), VISIT.format(row="OLD")
    col = ", visits" if visits else ""
    new_val = f", {new_v}" if visits else ""
    plus = ", visits = visits + excluded.visits" if visits else ""
    minus = f", visits = visits - {old_v}" if visits else ""
    new_m, old_m = SQLITE_MONTH.format(row="NEW"), SQLITE_MONTH.format(row="OLD")
    village = "(SELECT village_id FROM households WHERE id = NEW.household_id)"
    return [
        f"""
        CREATE TRIGGER contact_months_insert AFTER INSERT ON contacts
        WHEN NEW.deleted_at IS NULL AND NEW.kind IN {DUTY}
        BEGIN
          INSERT INTO contact_months (household_id, month, village_id, n{col})
          VALUES (NEW.household_id, {new_m}, {village}, 1{new_val})
          ON CONFLICT (household_id, month) DO UPDATE SET n = n + 1{plus};
        END
        """,
        f"""
        CREATE TRIGGER contact_months_delete AFTER DELETE ON contacts
        WHEN OLD.deleted_at IS NULL AND OLD.kind IN {DUTY}
        BEGIN
          UPDATE contact_months SET n = n - 1{minus}
          WHERE household_id = OLD.household_id AND month = {old_m};
        END
        """,
        f"""
        CREATE TRIGGER contact_months_update
        AFTER UPDATE OF deleted_at, kind, occurred_on, household_id ON contacts
        BEGIN
          UPDATE contact_months SET n = n - 1{minus}
          WHERE OLD.deleted_at IS NULL AND OLD.kind IN {DUTY}
            AND household_id = OLD.household_id AND month = {old_m};
          INSERT INTO contact_months (household_id, month, village_id, n{col})
          SELECT NEW.household_id, {new_m}, {village}, 1{new_val}
          WHERE NEW.deleted_at IS NULL AND NEW.kind IN {DUTY}
          ON CONFLICT (household_id, month) DO UPDATE SET n = n + 1{plus};
        END
        """,
    ]


def _pg_function(visits: bool) -> str:
    new_v, old_v = VISIT.format(row="NEW"), VISIT.format(row="OLD")
    col = ", visits" if visits else ""
    new_val = f", {new_v}" if visits else ""
    plus = ", visits = contact_months.visits + excluded.visits" if visits else ""
    minus = f", visits = visits - {old_v}" if visits else ""
    new_m, old_m = PG_MONTH.format(row="NEW"), PG_MONTH.format(row="OLD")
    return f"""
    CREATE OR REPLACE FUNCTION contact_months_keep() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL AND OLD.kind IN {DUTY} THEN
        UPDATE contact_months SET n = n - 1{minus}
        WHERE household_id = OLD.household_id AND month = {old_m};
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL AND NEW.kind IN {DUTY} THEN
        INSERT INTO contact_months (household_id, month, village_id, n{col})
        VALUES (NEW.household_id, {new_m},
                (SELECT village_id FROM households WHERE id = NEW.household_id), 1{new_val})
        ON CONFLICT (household_id, month) DO UPDATE SET n = contact_months.n + 1{plus};
      END IF;
      RETURN NULL;
    END $$
    """


def _replace_triggers(visits: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for sql in _sqlite_triggers(visits):
            op.execute(sql)
    else:
        op.execute(_pg_function(visits))  # the trigger stays; its function is replaced


def backfill(sqlite: bool) -> str:
    """Each household-month's live home visits from the contacts (used by bench/make_county.py
    too, after a load without the triggers and migration 0005's backfill)."""
    month = (SQLITE_MONTH if sqlite else PG_MONTH).format(row="c")
    return f"""
        UPDATE contact_months SET visits = v.k
        FROM (SELECT c.household_id, {month} AS m, count(*) AS k
              FROM contacts c WHERE c.deleted_at IS NULL AND c.kind = 'visit'
              GROUP BY c.household_id, {month}) AS v
        WHERE contact_months.household_id = v.household_id AND contact_months.month = v.m
    """


# For bench/make_county.py: this revision adds no trigger of its own (migration 0005's are
# dropped there by name), it replaces 0005's contact_months triggers on contacts.
SQLITE_TRIGGER_NAMES: tuple[str, ...] = ()
SQLITE_TRIGGERS = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_NAMES] + _sqlite_triggers(
    visits=True
)
PG_TRIGGERS: tuple[tuple[str, str], ...] = ()  # the function is replaced, the trigger stays


def upgrade() -> None:
    with op.batch_alter_table("contact_months", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visits", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("contact_state", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_state_household",
            ["household_id", "cadre_id", "last_contact_on", "last_visit_on"],
            unique=False,
        )
    op.execute(backfill(op.get_bind().dialect.name == "sqlite"))
    _replace_triggers(visits=True)


def downgrade() -> None:
    _replace_triggers(visits=False)
    with op.batch_alter_table("contact_state", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_state_household")
    with op.batch_alter_table("contact_months", schema=None) as batch_op:
        batch_op.drop_column("visits")
