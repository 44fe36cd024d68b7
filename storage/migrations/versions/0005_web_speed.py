"""web speed: households contacted per month (kept by triggers), diary reader index

Revision ID: 0005_web_speed
Revises: 0004_programme
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa


revision = "0005_web_speed"
down_revision = "0004_programme"
branch_labels = None
depends_on = None

DUTY = "('call', 'visit')"  # storage.stats_scope.DUTY_KINDS

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER contact_months_insert AFTER INSERT ON contacts
    WHEN NEW.deleted_at IS NULL AND NEW.kind IN {DUTY}
    BEGIN
      INSERT INTO contact_months (household_id, month, village_id, n)
      VALUES (NEW.household_id, date(NEW.occurred_on, 'start of month'),
              (SELECT village_id FROM households WHERE id = NEW.household_id), 1)
      ON CONFLICT (household_id, month) DO UPDATE SET n = n + 1;
    END
    """,
    f"""
    CREATE TRIGGER contact_months_delete AFTER DELETE ON contacts
    WHEN OLD.deleted_at IS NULL AND OLD.kind IN {DUTY}
    BEGIN
      UPDATE contact_months SET n = n - 1
      WHERE household_id = OLD.household_id AND month = date(OLD.occurred_on, 'start of month');
    END
    """,
    f"""
    CREATE TRIGGER contact_months_update
    AFTER UPDATE OF deleted_at, kind, occurred_on, household_id ON contacts
    BEGIN
      UPDATE contact_months SET n = n - 1
      WHERE OLD.deleted_at IS NULL AND OLD.kind IN {DUTY}
        AND household_id = OLD.household_id AND month = date(OLD.occurred_on, 'start of month');
      INSERT INTO contact_months (household_id, month, village_id, n)
      SELECT NEW.household_id, date(NEW.occurred_on, 'start of month'),
             (SELECT village_id FROM households WHERE id = NEW.household_id), 1
      WHERE NEW.deleted_at IS NULL AND NEW.kind IN {DUTY}
      ON CONFLICT (household_id, month) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER contact_months_village AFTER UPDATE OF village_id ON households
    BEGIN
      UPDATE contact_months SET village_id = NEW.village_id WHERE household_id = NEW.id;
    END
    """,
]

PG_FUNCTIONS = [
    f"""
    CREATE FUNCTION contact_months_keep() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL AND OLD.kind IN {DUTY} THEN
        UPDATE contact_months SET n = n - 1
        WHERE household_id = OLD.household_id
          AND month = date_trunc('month', OLD.occurred_on)::date;
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL AND NEW.kind IN {DUTY} THEN
        INSERT INTO contact_months (household_id, month, village_id, n)
        VALUES (NEW.household_id, date_trunc('month', NEW.occurred_on)::date,
                (SELECT village_id FROM households WHERE id = NEW.household_id), 1)
        ON CONFLICT (household_id, month) DO UPDATE SET n = contact_months.n + 1;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER contact_months_keep
    AFTER INSERT OR DELETE OR UPDATE OF deleted_at, kind, occurred_on, household_id ON contacts
    FOR EACH ROW EXECUTE FUNCTION contact_months_keep()
    """,
    """
    CREATE FUNCTION contact_months_village() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
      UPDATE contact_months SET village_id = NEW.village_id WHERE household_id = NEW.id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER contact_months_village AFTER UPDATE OF village_id ON households
    FOR EACH ROW EXECUTE FUNCTION contact_months_village()
    """,
]


SQLITE_TRIGGER_NAMES = (
    "contact_months_insert",
    "contact_months_delete",
    "contact_months_update",
    "contact_months_village",
)
PG_TRIGGERS = (("contacts", "contact_months_keep"), ("households", "contact_months_village"))


def backfill(sqlite: bool) -> str:
    """The months from the contacts (used by bench/make_county.py too, after a load without
    the triggers)."""
    month = "date(c.occurred_on, 'start of month')" if sqlite else "date_trunc('month', c.occurred_on)::date"
    return f"""
        INSERT INTO contact_months (household_id, month, village_id, n)
        SELECT c.household_id, {month}, h.village_id, count(*)
        FROM contacts c JOIN households h ON h.id = c.household_id
        WHERE c.deleted_at IS NULL AND c.kind IN {DUTY}
        GROUP BY c.household_id, {month}, h.village_id
    """


def upgrade() -> None:
    op.create_table(
        "contact_months",
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("village_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", "month", name=op.f("pk_contact_months")),
    )
    with op.batch_alter_table("contact_months", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_months_village_month", ["village_id", "month", "n"], unique=False
        )
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.create_index("ix_diary_day_id", ["written_on", "id"], unique=False)

    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(backfill(sqlite))
    for sql in SQLITE_TRIGGERS if sqlite else PG_FUNCTIONS:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS contact_months_keep ON contacts")
        op.execute("DROP TRIGGER IF EXISTS contact_months_village ON households")
        op.execute("DROP FUNCTION IF EXISTS contact_months_keep()")
        op.execute("DROP FUNCTION IF EXISTS contact_months_village()")
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_diary_day_id")
    with op.batch_alter_table("contact_months", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_months_village_month")
    op.drop_table("contact_months")
