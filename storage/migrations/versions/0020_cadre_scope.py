"""kept cadre scope: one row per active cadre with live pairings (its pairs, the latest month
of a pair's last contact and the pairs in it, its reachable chat accounts), kept by triggers
on cadre_months and chat_accounts and backfilled (storage/cadre_scope_sql.py); indexes for
the digest's cadres on leave and problem counts

Revision ID: 0020_cadre_scope
Revises: 0019_sweep_covering
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from storage.cadre_scope_sql import BACKFILL, reach_moved, refresh

revision = "0020_cadre_scope"
down_revision = "0019_sweep_covering"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REACH_MOVED = """OLD.cadre_id <> NEW.cadre_id
  OR (OLD.blocked_at IS NULL) <> (NEW.blocked_at IS NULL)"""


def _body(statements: list[str]) -> str:
    return ";\n".join(statements) + ";"


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER cadre_scope_insert AFTER INSERT ON cadre_months
    BEGIN {_body(refresh("(NEW.cadre_id)"))} END""",
    f"""CREATE TRIGGER cadre_scope_update AFTER UPDATE ON cadre_months
    BEGIN {_body(refresh("(OLD.cadre_id, NEW.cadre_id)"))} END""",
    f"""CREATE TRIGGER cadre_scope_delete AFTER DELETE ON cadre_months
    BEGIN {_body(refresh("(OLD.cadre_id)"))} END""",
    f"""CREATE TRIGGER cadre_reach_insert AFTER INSERT ON chat_accounts
    BEGIN {reach_moved("(NEW.cadre_id)")}; END""",
    f"""CREATE TRIGGER cadre_reach_update AFTER UPDATE OF cadre_id, blocked_at ON chat_accounts
    WHEN {REACH_MOVED}
    BEGIN {reach_moved("(OLD.cadre_id, NEW.cadre_id)")}; END""",
    f"""CREATE TRIGGER cadre_reach_delete AFTER DELETE ON chat_accounts
    BEGIN {reach_moved("(OLD.cadre_id)")}; END""",
]
SQLITE_TRIGGER_NAMES = (
    "cadre_scope_insert",
    "cadre_scope_update",
    "cadre_scope_delete",
    "cadre_reach_insert",
    "cadre_reach_update",
    "cadre_reach_delete",
)

IDS = "(SELECT unnest(ids))"
# cadre_months changes under its cadre's row lock (migration 0016); an account change takes
# the same lock first, so its recount waits for a report's recomputation and then sees it.
PG_FUNCTIONS = [
    f"""CREATE FUNCTION cadre_scope_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
    {_body(refresh(IDS))}
    END $$""",
    """CREATE FUNCTION cadre_scope_keep() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
    IF TG_OP = 'INSERT' THEN
      PERFORM cadre_scope_refresh(ARRAY[NEW.cadre_id]);
    ELSIF TG_OP = 'DELETE' THEN
      PERFORM cadre_scope_refresh(ARRAY[OLD.cadre_id]);
    ELSIF OLD.cadre_id <> NEW.cadre_id THEN
      PERFORM cadre_scope_refresh(ARRAY[OLD.cadre_id, NEW.cadre_id]);
    ELSIF OLD.month <> NEW.month OR OLD.pairs <> NEW.pairs THEN
      PERFORM cadre_scope_refresh(ARRAY[NEW.cadre_id]);
    END IF;
    RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION cadre_reach_keep() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    DECLARE ids bigint[];
    BEGIN
    IF TG_OP = 'INSERT' THEN
      ids := ARRAY[NEW.cadre_id];
    ELSIF TG_OP = 'DELETE' THEN
      ids := ARRAY[OLD.cadre_id];
    ELSIF {REACH_MOVED} THEN
      ids := ARRAY[OLD.cadre_id, NEW.cadre_id];
    ELSE
      RETURN NULL;
    END IF;
    PERFORM 1 FROM cadres WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    {reach_moved("(SELECT unnest(ids))")};
    RETURN NULL;
    END $$""",
    """CREATE TRIGGER cadre_scope_keep AFTER INSERT OR DELETE OR UPDATE ON cadre_months
    FOR EACH ROW EXECUTE FUNCTION cadre_scope_keep()""",
    """CREATE TRIGGER cadre_reach_keep
    AFTER INSERT OR DELETE OR UPDATE OF cadre_id, blocked_at ON chat_accounts
    FOR EACH ROW EXECUTE FUNCTION cadre_reach_keep()""",
]
PG_TRIGGERS = (("cadre_months", "cadre_scope_keep"), ("chat_accounts", "cadre_reach_keep"))
PG_FUNCTION_NAMES = (
    "cadre_scope_refresh(bigint[])",
    "cadre_scope_keep()",
    "cadre_reach_keep()",
)
INDEXES = (  # (name, table, columns)
    ("ix_cadres_leave_until", "cadres", ["leave_until"]),
    ("ix_problems_raised_on", "problems", ["raised_on"]),
    ("ix_problems_status_resolved", "problems", ["status", "resolved_at"]),
    ("ix_problems_status_day", "problems", ["status", "raised_on", "deleted_at", "household_id"]),
)


def backfill_statements(sqlite: bool) -> list[str]:
    """Used by bench/make_county.py too, after migration 0016's."""
    return [BACKFILL]


def upgrade() -> None:
    op.create_table(
        "cadre_scope",
        sa.Column("cadre_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("in_month", sa.Integer(), nullable=False),
        sa.Column("reach", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cadre_id", name=op.f("pk_cadre_scope")),
    )
    op.create_index("ix_cadre_scope_reach", "cadre_scope", ["reach"])
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.execute(BACKFILL)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in SQLITE_TRIGGERS if sqlite else PG_FUNCTIONS:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table, name in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {name}")
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_table("cadre_scope")
