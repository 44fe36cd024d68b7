"""kept scope counts, PostgreSQL: a report's two triggers on household_state and
contact_months do the common case with less (same counts, same lock order)

A household's new last dates (`scope_dates_keep`) read its stored row once, stop when the
stored dates already say so, and move only the 'c' and 'v' counts that change, under the
household's village and its branches elsewhere. A visit counted in a month
(`scope_visits_keep`) adds the change of that month's visits to those units' 'n' rows, one
row each, instead of grouping the old and new rows of the general statement; a row that
moves to another household or month still takes the general statement. SQLite keeps
migration 0016's triggers.

Revision ID: 0017_lean_scope_triggers
Revises: 0016_unit_days
Create Date: 2026-11-30
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

from storage.scope_sql import ON_CONFLICT, POSTGRES, visits_moved


def _load_0016() -> ModuleType:
    """Migration 0016 (its file name is no module name): its functions, for downgrade."""
    path = Path(__file__).with_name("0016_unit_days.py")
    spec = importlib.util.spec_from_file_location("bangfu_migration_0016", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


revision = "0017_lean_scope_triggers"
down_revision = "0016_unit_days"
branch_labels = None
depends_on = None

MONTH = POSTGRES.month


def _fn(name: str, declare: str, body: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    DECLARE {declare}
    BEGIN
    {body}
    RETURN NULL;
    END $$"""


OLD_VISITS = "SELECT OLD.household_id AS household_id, OLD.month AS month, -OLD.visits AS dv"
NEW_VISITS = "SELECT NEW.household_id AS household_id, NEW.month AS month, NEW.visits AS dv"
# Its village (src 0) and the units elsewhere whose cadres hold it (src 1), in key order.
MEMBERS = """(SELECT s.village_id AS unit_id, 0 AS src
      UNION ALL SELECT b.unit_id, 1 FROM household_branches b WHERE b.household_id = h)"""

DATES = _fn(
    "scope_dates_keep",
    "s household_scope%ROWTYPE; h bigint; c date; v date;",
    f"""IF TG_OP = 'UPDATE' AND OLD.household_id <> NEW.household_id THEN
      PERFORM scope_refresh(ARRAY[OLD.household_id, NEW.household_id]);
      RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
      h := OLD.household_id;
    ELSE
      IF TG_OP = 'UPDATE' AND OLD.last_contact_on IS NOT DISTINCT FROM NEW.last_contact_on
         AND OLD.last_visit_on IS NOT DISTINCT FROM NEW.last_visit_on THEN
        RETURN NULL;
      END IF;
      h := NEW.household_id;
      c := NEW.last_contact_on;
      v := NEW.last_visit_on;
    END IF;
    PERFORM 1 FROM households WHERE id = h FOR NO KEY UPDATE;
    SELECT * INTO s FROM household_scope WHERE household_id = h;
    IF NOT FOUND OR (s.last_contact_on IS NOT DISTINCT FROM c
                     AND s.last_visit_on IS NOT DISTINCT FROM v) THEN
      RETURN NULL;  -- no live pairing, or nothing counted moves
    END IF;
    INSERT INTO unit_days (unit_id, src, kind, day, n)
      SELECT m.unit_id, m.src, x.kind, x.day, sum(x.n)
      FROM {MEMBERS} m
      CROSS JOIN (VALUES ('c', s.last_contact_on, -1), ('c', c, 1),
        ('v', {MONTH.format(x="s.last_visit_on")}, -1), ('v', {MONTH.format(x="v")}, 1))
        AS x(kind, day, n)
      WHERE x.day IS NOT NULL
      GROUP BY 1, 2, 3, 4 HAVING sum(x.n) <> 0 ORDER BY 1, 2, 3, 4 {ON_CONFLICT};
    UPDATE household_scope SET last_contact_on = c, last_visit_on = v
      WHERE household_id = h;""",
)

VISITS = _fn(
    "scope_visits_keep",
    "h bigint; mo date; dv integer;",
    f"""IF TG_OP = 'UPDATE' AND (OLD.household_id <> NEW.household_id
                              OR OLD.month <> NEW.month) THEN
      {
        visits_moved(
            POSTGRES, f"{OLD_VISITS} UNION ALL {NEW_VISITS}", "(OLD.household_id, NEW.household_id)"
        )
    };
      RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
      h := NEW.household_id; mo := NEW.month; dv := NEW.visits;
    ELSIF TG_OP = 'DELETE' THEN
      h := OLD.household_id; mo := OLD.month; dv := -OLD.visits;
    ELSE
      h := NEW.household_id; mo := NEW.month; dv := NEW.visits - OLD.visits;
    END IF;
    IF dv = 0 THEN
      RETURN NULL;
    END IF;
    INSERT INTO unit_days (unit_id, src, kind, day, n)
      SELECT m.unit_id, m.src, 'n', mo, dv
      FROM (SELECT village_id AS unit_id, 0 AS src FROM household_scope
            WHERE household_id = h
            UNION ALL SELECT unit_id, 1 FROM household_branches WHERE household_id = h) m
      ORDER BY 1, 2 {ON_CONFLICT};""",
)


def _of_0016(name: str) -> str:
    """0016's CREATE FUNCTION of `name`, to put back on downgrade."""
    [sql] = [s for s in _load_0016().PG_FUNCTIONS if f"CREATE FUNCTION {name}()" in s]
    return sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DATES)
        op.execute(VISITS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_of_0016("scope_dates_keep"))
        op.execute(_of_0016("scope_visits_keep"))
