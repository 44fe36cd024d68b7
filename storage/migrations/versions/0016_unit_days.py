"""kept scope counts: each household's live pairings and the units it counts under, and per
unit the households by day of last contact and month of last visit, the live pairings and
the visits per month, and each cadre's live pairings by month of last contact; kept by triggers on pairings, cadres, households, units,
household_state and contact_months, and backfilled (see storage/scope_sql.py)

Revision ID: 0016_unit_days
Revises: 0015_send_slots
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from storage.scope_sql import (
    POSTGRES,
    SQLITE,
    Dialect,
    backfill,
    cadre_refresh,
    dates_moved,
    pair_moved,
    refresh,
    visits_moved,
)

revision = "0016_unit_days"
down_revision = "0015_send_slots"
branch_labels = None
depends_on = None

UNIT_INSERT = """
    INSERT INTO unit_branches (unit_id, branch_id)
    SELECT NEW.id, branch_id FROM unit_branches WHERE unit_id = NEW.parent_id
    UNION SELECT NEW.id, NEW.id
    WHERE (SELECT r.parent_id FROM units r WHERE r.id = NEW.parent_id) IS NULL;
"""
PAIRING_MOVED = """OLD.active IS DISTINCT FROM NEW.active OR OLD.household_id <> NEW.household_id
  OR OLD.cadre_id <> NEW.cadre_id"""
CADRE_MOVED = "OLD.active IS DISTINCT FROM NEW.active OR OLD.unit_id IS DISTINCT FROM NEW.unit_id"
HOUSEHOLD_MOVED = "OLD.status IS DISTINCT FROM NEW.status OR OLD.village_id IS DISTINCT FROM NEW.village_id"
DATES_MOVED = """OLD.household_id = NEW.household_id
  AND (OLD.last_contact_on IS DISTINCT FROM NEW.last_contact_on
       OR OLD.last_visit_on IS DISTINCT FROM NEW.last_visit_on)"""
NONE = "CAST(NULL AS date)"


def _pair_month_moved(d: Dialect) -> str:
    def month(x: str) -> str:
        return f"coalesce({d.month.format(x=x)}, {d.sentinel})"

    return f"""OLD.cadre_id = NEW.cadre_id AND OLD.household_id = NEW.household_id
      AND {month("OLD.last_contact_on")} <> {month("NEW.last_contact_on")}"""


REKEYED = "OLD.cadre_id <> NEW.cadre_id OR OLD.household_id <> NEW.household_id"
VISITS_MOVED = """OLD.visits <> NEW.visits OR OLD.month <> NEW.month
  OR OLD.household_id <> NEW.household_id"""
OLD_VISITS = "SELECT OLD.household_id AS household_id, OLD.month AS month, -OLD.visits AS dv"
NEW_VISITS = "SELECT NEW.household_id AS household_id, NEW.month AS month, NEW.visits AS dv"


def _body(statements: list[str]) -> str:
    return ";\n".join(statements) + ";"


def _sqlite(d: Dialect) -> list[str]:
    def on(name: str, event: str, hset: str, when: str = "", cset: str = "") -> str:
        cond = f"WHEN {when}" if when else ""
        body = (refresh(d, hset) if hset else []) + (cadre_refresh(d, cset) if cset else [])
        return f"CREATE TRIGGER {name} AFTER {event} {cond} BEGIN {_body(body)} END"

    return [
        f"CREATE TRIGGER unit_branches_insert AFTER INSERT ON units BEGIN {UNIT_INSERT} END",
        """CREATE TRIGGER unit_branches_delete AFTER DELETE ON units
        BEGIN DELETE FROM unit_branches WHERE unit_id = OLD.id; END""",
        on(
            "scope_pairing_insert", "INSERT ON pairings", "(NEW.household_id)", "", "(NEW.cadre_id)"
        ),
        on(
            "scope_pairing_update",
            "UPDATE OF active, household_id, cadre_id ON pairings",
            "(OLD.household_id, NEW.household_id)",
            PAIRING_MOVED,
            "(OLD.cadre_id, NEW.cadre_id)",
        ),
        on(
            "scope_pairing_delete", "DELETE ON pairings", "(OLD.household_id)", "", "(OLD.cadre_id)"
        ),
        on(
            "scope_cadre_update",
            "UPDATE OF active, unit_id ON cadres",
            "(SELECT household_id FROM pairings WHERE cadre_id = NEW.id)",
            CADRE_MOVED,
            "(NEW.id)",
        ),
        on(
            "scope_household_update",
            "UPDATE OF status, village_id ON households",
            "(NEW.id)",
            HOUSEHOLD_MOVED,
            "(SELECT cadre_id FROM pairings WHERE household_id = NEW.id)",
        ),
        f"""CREATE TRIGGER cadre_months_insert AFTER INSERT ON contact_state BEGIN
        {pair_moved(d, "NEW.cadre_id", "NEW.household_id", NONE, "NEW.last_contact_on")}; END""",
        f"""CREATE TRIGGER cadre_months_update AFTER UPDATE ON contact_state
        WHEN {_pair_month_moved(d)} BEGIN
        {pair_moved(d, "NEW.cadre_id", "NEW.household_id", "OLD.last_contact_on",
                    "NEW.last_contact_on")}; END""",
        on("cadre_months_rekey", "UPDATE ON contact_state", "", REKEYED,
           "(OLD.cadre_id, NEW.cadre_id)"),
        f"""CREATE TRIGGER cadre_months_delete AFTER DELETE ON contact_state BEGIN
        {pair_moved(d, "OLD.cadre_id", "OLD.household_id", "OLD.last_contact_on", NONE)}; END""",
        f"""CREATE TRIGGER scope_dates_insert AFTER INSERT ON household_state BEGIN
        {_body(dates_moved(d, "NEW.household_id", "NEW.last_contact_on", "NEW.last_visit_on"))}
        END""",
        f"""CREATE TRIGGER scope_dates_update AFTER UPDATE ON household_state
        WHEN {DATES_MOVED} BEGIN
        {_body(dates_moved(d, "NEW.household_id", "NEW.last_contact_on", "NEW.last_visit_on"))}
        END""",
        on(
            "scope_dates_rekey",
            "UPDATE OF household_id ON household_state",
            "(OLD.household_id, NEW.household_id)",
            "OLD.household_id <> NEW.household_id",
        ),
        f"""CREATE TRIGGER scope_dates_delete AFTER DELETE ON household_state BEGIN
        {_body(dates_moved(d, "OLD.household_id", NONE, NONE))} END""",
        f"""CREATE TRIGGER scope_visits_insert AFTER INSERT ON contact_months
        WHEN NEW.visits > 0
        BEGIN {visits_moved(d, NEW_VISITS, "(NEW.household_id)")}; END""",
        f"""CREATE TRIGGER scope_visits_update
        AFTER UPDATE OF visits, month, household_id ON contact_months WHEN {VISITS_MOVED}
        BEGIN {visits_moved(d, f"{OLD_VISITS} UNION ALL {NEW_VISITS}",
                            "(OLD.household_id, NEW.household_id)")}; END""",
        f"""CREATE TRIGGER scope_visits_delete AFTER DELETE ON contact_months
        WHEN OLD.visits > 0
        BEGIN {visits_moved(d, OLD_VISITS, "(OLD.household_id)")}; END""",
    ]


SQLITE_TRIGGER_NAMES = (
    "unit_branches_insert",
    "unit_branches_delete",
    "scope_pairing_insert",
    "scope_pairing_update",
    "scope_pairing_delete",
    "scope_cadre_update",
    "scope_household_update",
    "cadre_months_insert",
    "cadre_months_update",
    "cadre_months_rekey",
    "cadre_months_delete",
    "scope_dates_insert",
    "scope_dates_update",
    "scope_dates_rekey",
    "scope_dates_delete",
    "scope_visits_insert",
    "scope_visits_update",
    "scope_visits_delete",
)
SQLITE_TRIGGERS = _sqlite(SQLITE)

IDS = "(SELECT unnest(ids))"
# Locks, always in this order, so that no two transactions wait for each other in a circle:
# a report takes its contact_months row, its contact_state row, its cadre (cadre_months),
# its household_state row, its household (unit_days); a pairing, cadre or household change
# takes the households' contact_months rows (so a visit counted meanwhile is either seen or
# waits), the cadres, then the households. A household recomputed by two transactions is
# then recomputed by one after the other, each reading what the other committed. FOR NO KEY
# UPDATE lets contacts referencing the household or cadre be inserted meanwhile.
LOCK = "PERFORM 1 FROM households WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;"
CADRE_LOCK = "PERFORM 1 FROM cadres WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;"


def _pg(d: Dialect) -> list[str]:
    def fn(name: str, body: str) -> str:
        return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
        {body}
        RETURN NULL;
        END $$"""

    def visits(rows: str, hset: str) -> str:
        return f"{visits_moved(d, rows, hset)};"

    def months(ids: str) -> str:
        return f"""PERFORM 1 FROM contact_months WHERE household_id = ANY({ids})
          ORDER BY household_id, month FOR UPDATE;"""

    return [
        f"""CREATE FUNCTION scope_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
        {LOCK}
        {_body(refresh(d, IDS))}
        END $$""",
        f"""CREATE FUNCTION cadre_months_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
        {CADRE_LOCK}
        {_body(cadre_refresh(d, IDS))}
        END $$""",
        fn(
            "unit_branches_keep",
            f"""IF TG_OP = 'INSERT' THEN {UNIT_INSERT}
            ELSE DELETE FROM unit_branches WHERE unit_id = OLD.id; END IF;""",
        ),
        fn(
            "scope_pairing_keep",
            f"""IF TG_OP = 'INSERT' THEN
              {months("ARRAY[NEW.household_id]")}
              PERFORM cadre_months_refresh(ARRAY[NEW.cadre_id]);
              PERFORM scope_refresh(ARRAY[NEW.household_id]);
            ELSIF TG_OP = 'DELETE' THEN
              {months("ARRAY[OLD.household_id]")}
              PERFORM cadre_months_refresh(ARRAY[OLD.cadre_id]);
              PERFORM scope_refresh(ARRAY[OLD.household_id]);
            ELSIF {PAIRING_MOVED} THEN
              {months("ARRAY[OLD.household_id, NEW.household_id]")}
              PERFORM cadre_months_refresh(ARRAY[OLD.cadre_id, NEW.cadre_id]);
              PERFORM scope_refresh(ARRAY[OLD.household_id, NEW.household_id]);
            END IF;""",
        ),
        fn(
            "scope_cadre_keep",
            f"""IF {CADRE_MOVED} THEN
              {months("ARRAY(SELECT household_id FROM pairings WHERE cadre_id = NEW.id)")}
              PERFORM cadre_months_refresh(ARRAY[NEW.id]);
              PERFORM scope_refresh(ARRAY(
                SELECT DISTINCT household_id FROM pairings WHERE cadre_id = NEW.id));
            END IF;""",
        ),
        fn(
            "scope_household_keep",
            f"""IF {HOUSEHOLD_MOVED} THEN
              {months("ARRAY[NEW.id]")}
              PERFORM cadre_months_refresh(ARRAY(
                SELECT DISTINCT cadre_id FROM pairings WHERE household_id = NEW.id));
              PERFORM scope_refresh(ARRAY[NEW.id]);
            END IF;""",
        ),
        fn(
            "cadre_months_keep",
            f"""IF TG_OP = 'INSERT' THEN
              PERFORM 1 FROM cadres WHERE id = NEW.cadre_id FOR NO KEY UPDATE;
              {pair_moved(d, "NEW.cadre_id", "NEW.household_id", NONE, "NEW.last_contact_on")};
            ELSIF TG_OP = 'DELETE' THEN
              PERFORM 1 FROM cadres WHERE id = OLD.cadre_id FOR NO KEY UPDATE;
              {pair_moved(d, "OLD.cadre_id", "OLD.household_id", "OLD.last_contact_on", NONE)};
            ELSIF {REKEYED} THEN
              PERFORM cadre_months_refresh(ARRAY[OLD.cadre_id, NEW.cadre_id]);
            ELSIF {_pair_month_moved(d)} THEN
              PERFORM 1 FROM cadres WHERE id = NEW.cadre_id FOR NO KEY UPDATE;
              {pair_moved(d, "NEW.cadre_id", "NEW.household_id", "OLD.last_contact_on",
                          "NEW.last_contact_on")};
            END IF;""",
        ),
        fn(
            "scope_dates_keep",
            f"""IF TG_OP = 'DELETE' THEN
              PERFORM 1 FROM households WHERE id = OLD.household_id FOR NO KEY UPDATE;
              {_body(dates_moved(d, "OLD.household_id", NONE, NONE))}
            ELSIF TG_OP = 'UPDATE' AND OLD.household_id <> NEW.household_id THEN
              PERFORM scope_refresh(ARRAY[OLD.household_id, NEW.household_id]);
            ELSIF TG_OP = 'INSERT' OR {DATES_MOVED} THEN
              PERFORM 1 FROM households WHERE id = NEW.household_id FOR NO KEY UPDATE;
              {_body(dates_moved(d, "NEW.household_id", "NEW.last_contact_on",
                                 "NEW.last_visit_on"))}
            END IF;""",
        ),
        fn(
            "scope_visits_keep",
            f"""IF TG_OP = 'INSERT' THEN
              IF NEW.visits > 0 THEN {visits(NEW_VISITS, "(NEW.household_id)")} END IF;
            ELSIF TG_OP = 'DELETE' THEN
              IF OLD.visits > 0 THEN {visits(OLD_VISITS, "(OLD.household_id)")} END IF;
            ELSIF {VISITS_MOVED} THEN
              {visits(f"{OLD_VISITS} UNION ALL {NEW_VISITS}",
                      "(OLD.household_id, NEW.household_id)")}
            END IF;""",
        ),
        """CREATE TRIGGER unit_branches_keep AFTER INSERT OR DELETE ON units
        FOR EACH ROW EXECUTE FUNCTION unit_branches_keep()""",
        """CREATE TRIGGER scope_pairing_keep
        AFTER DELETE OR UPDATE OF active, household_id, cadre_id ON pairings
        FOR EACH ROW EXECUTE FUNCTION scope_pairing_keep()""",
        # Pairings are inserted by the roster a thousand rows a statement: one recomputation
        # of their households and cadres per statement, not per row.
        f"""CREATE FUNCTION scope_pairings_inserted() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
        {months("ARRAY(SELECT household_id FROM new_rows)")}
        PERFORM cadre_months_refresh(ARRAY(SELECT DISTINCT cadre_id FROM new_rows));
        PERFORM scope_refresh(ARRAY(SELECT DISTINCT household_id FROM new_rows));
        RETURN NULL;
        END $$""",
        """CREATE TRIGGER scope_pairings_inserted AFTER INSERT ON pairings
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION scope_pairings_inserted()""",
        """CREATE TRIGGER scope_cadre_keep AFTER UPDATE OF active, unit_id ON cadres
        FOR EACH ROW EXECUTE FUNCTION scope_cadre_keep()""",
        """CREATE TRIGGER scope_household_keep AFTER UPDATE OF status, village_id ON households
        FOR EACH ROW EXECUTE FUNCTION scope_household_keep()""",
        """CREATE TRIGGER cadre_months_keep AFTER INSERT OR DELETE OR UPDATE ON contact_state
        FOR EACH ROW EXECUTE FUNCTION cadre_months_keep()""",
        """CREATE TRIGGER scope_dates_keep AFTER INSERT OR DELETE OR UPDATE ON household_state
        FOR EACH ROW EXECUTE FUNCTION scope_dates_keep()""",
        """CREATE TRIGGER scope_visits_keep
        AFTER INSERT OR DELETE OR UPDATE OF visits, month, household_id ON contact_months
        FOR EACH ROW EXECUTE FUNCTION scope_visits_keep()""",
    ]


PG_FUNCTIONS = _pg(POSTGRES)
PG_TRIGGERS = (  # (table, trigger)
    ("units", "unit_branches_keep"),
    ("pairings", "scope_pairing_keep"),
    ("pairings", "scope_pairings_inserted"),
    ("cadres", "scope_cadre_keep"),
    ("households", "scope_household_keep"),
    ("household_state", "scope_dates_keep"),
    ("contact_state", "cadre_months_keep"),
    ("contact_months", "scope_visits_keep"),
)
PG_FUNCTION_NAMES = (
    "scope_refresh(bigint[])",
    "cadre_months_refresh(bigint[])",
    "cadre_months_keep()",
    "unit_branches_keep()",
    "scope_pairing_keep()",
    "scope_pairings_inserted()",
    "scope_cadre_keep()",
    "scope_household_keep()",
    "scope_dates_keep()",
    "scope_visits_keep()",
)


def backfill_statements(sqlite: bool) -> list[str]:
    """Used by bench/make_county.py too, after household_state's and contact_months' own."""
    return backfill(SQLITE if sqlite else POSTGRES)


BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "unit_branches",
        sa.Column("unit_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("branch_id", BIG_ID, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "branch_id", name=op.f("pk_unit_branches")),
    )
    op.create_index("ix_unit_branches_branch_id", "unit_branches", ["branch_id"])
    op.create_table(
        "household_scope",
        sa.Column("household_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("village_id", BIG_ID, nullable=False),
        sa.Column("pairings", sa.Integer(), nullable=False),
        sa.Column("last_contact_on", sa.Date(), nullable=True),
        sa.Column("last_visit_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_scope")),
    )
    op.create_index("ix_household_scope_village_id", "household_scope", ["village_id"])
    op.create_table(
        "household_branches",
        sa.Column("household_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("unit_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("pairings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", "unit_id", name=op.f("pk_household_branches")),
    )
    op.create_index("ix_household_branches_unit_id", "household_branches", ["unit_id"])
    op.create_table(
        "cadre_months",
        sa.Column("cadre_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cadre_id", "month", name=op.f("pk_cadre_months")),
    )
    op.create_index("ix_cadre_months_month", "cadre_months", ["month"])
    op.create_table(
        "unit_days",
        sa.Column("unit_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("src", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "src", "kind", "day", name=op.f("pk_unit_days")),
    )
    # A pairing marked active whose dates do not cover the digest's day sends the digest
    # back to counting (storage/stats.py): these find one by index.
    op.create_index(
        "ix_pairings_live_start",
        "pairings",
        ["start_date"],
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_index(
        "ix_pairings_live_end",
        "pairings",
        ["end_date"],
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in backfill_statements(sqlite):
        op.execute(sql)
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
    op.drop_index("ix_pairings_live_end", table_name="pairings")
    op.drop_index("ix_pairings_live_start", table_name="pairings")
    op.drop_table("unit_days")
    op.drop_table("cadre_months")
    op.drop_table("household_branches")
    op.drop_table("household_scope")
    op.drop_table("unit_branches")
