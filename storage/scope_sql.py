"""The SQL of the kept scope counts (migration 0016's triggers, its backfill, the doctor).

What is kept (docs/digests.md, "The county root from kept counts"):

- `unit_branches`: each unit's root and, below the root, its ancestor one level down (the
  root's sub-unit it belongs to), itself included. Units never move; a new one takes its
  parent's rows.
- `household_scope`: each household with a live pairing (pairing active, cadre active,
  household not exited): its village, its live pairings, and the last contact and visit
  dates it is counted under (copied from `household_state`).
- `household_branches`: for such a household, each root or root's sub-unit whose cadres hold
  live pairings with it while its village lies outside that unit ("elsewhere"), and how many.
- `cadre_months`: per active cadre, its live pairings by the month of the pair's last
  contact (SENTINEL: none): the cadres behind this month without reading every pairing.
- `unit_days`: the sums the county root reads, per (unit, src, kind, day): `src` 0 counts the
  households living in the unit (a village), `src` 1 the households elsewhere paired with
  the unit's cadres; `kind` 'p' live pairings and 'h' households (day: SENTINEL), 'c'
  households by the day of their last contact, 'v' by the month of their last visit, 'n'
  home visits by month.

A report moves a household's 'c' and 'v' counts from its stored dates (and a pair between
its cadre's months); any other change to a household's liveness, village or cadres' units
recomputes it: its stored contribution is taken off `unit_days`, its stored rows replaced,
the new contribution put on. A visit count change in
`contact_months` moves only its month. Both databases run the same statements; the few
spelling differences are the `Dialect` strings.

Changing a statement here changes what migration 0016 creates: add a migration instead.
"""

from __future__ import annotations

from dataclasses import dataclass

SENTINEL = "1900-01-01"  # the day of 'p' and 'h' rows, which have none


@dataclass(frozen=True)
class Dialect:
    sentinel: str  # a date literal
    month: str  # the first day of the month of {x}


SQLITE = Dialect(sentinel=f"'{SENTINEL}'", month="date({x}, 'start of month')")
POSTGRES = Dialect(sentinel=f"DATE '{SENTINEL}'", month="CAST(date_trunc('month', {x}) AS date)")


def live_pairs(hset: str, join: str = "") -> str:
    """FROM … WHERE of the live pairings of the households in `hset` ("(…)" or "(true)")."""
    where = "true" if hset == "(true)" else f"p.household_id IN {hset}"
    return f"""pairings p JOIN cadres c ON c.id = p.cadre_id
      JOIN households h ON h.id = p.household_id {join}
      WHERE p.active AND c.active AND h.status <> 'exited' AND {where}"""


def fresh_scope(hset: str) -> str:
    return f"""(SELECT h.id AS household_id, h.village_id AS village_id, count(*) AS pairings
      FROM {live_pairs(hset)} GROUP BY h.id, h.village_id)"""


def fresh_branches(hset: str) -> str:
    return f"""(SELECT p.household_id AS household_id, ub.branch_id AS unit_id,
        count(*) AS pairings
      FROM {live_pairs(hset, "JOIN unit_branches ub ON ub.unit_id = c.unit_id")}
        AND NOT EXISTS (SELECT 1 FROM unit_branches vb
                        WHERE vb.unit_id = h.village_id AND vb.branch_id = ub.branch_id)
      GROUP BY p.household_id, ub.branch_id)"""


def _filter(hset: str) -> str:
    return "true" if hset == "(true)" else f"household_id IN {hset}"


def stored_members(hset: str) -> str:
    f = _filter(hset)
    return f"""(SELECT household_id, village_id AS unit_id, 0 AS src, pairings
        FROM household_scope WHERE {f}
      UNION ALL SELECT household_id, unit_id, 1 AS src, pairings
        FROM household_branches WHERE {f})"""


def stored_dates(hset: str) -> str:
    return f"""(SELECT household_id, last_contact_on, last_visit_on FROM household_scope
      WHERE {_filter(hset)})"""


def fresh_members(hset: str) -> str:
    return f"""(SELECT household_id, village_id AS unit_id, 0 AS src, pairings
        FROM {fresh_scope(hset)} s
      UNION ALL SELECT household_id, unit_id, 1 AS src, pairings
        FROM {fresh_branches(hset)} b)"""


def fresh_dates(hset: str) -> str:
    return f"""(SELECT household_id, last_contact_on, last_visit_on FROM household_state
      WHERE {_filter(hset)})"""


def contributions(d: Dialect, members: str, dates: str, sign: str) -> str:
    """Rows (unit_id, src, kind, day, n) that `members` with `dates` put on unit_days."""
    month = d.month.format(x="t.last_visit_on")
    return f"""
      SELECT m.unit_id, m.src, 'p' AS kind, {d.sentinel} AS day, {sign}m.pairings AS n
        FROM {members} m
      UNION ALL SELECT m.unit_id, m.src, 'h', {d.sentinel}, {sign}1 FROM {members} m
      UNION ALL SELECT m.unit_id, m.src, 'c', t.last_contact_on, {sign}1
        FROM {members} m JOIN {dates} t ON t.household_id = m.household_id
        WHERE t.last_contact_on IS NOT NULL
      UNION ALL SELECT m.unit_id, m.src, 'v', {month}, {sign}1
        FROM {members} m JOIN {dates} t ON t.household_id = m.household_id
        WHERE t.last_visit_on IS NOT NULL
      UNION ALL SELECT m.unit_id, m.src, 'n', cm.month, {sign}cm.visits
        FROM {members} m JOIN contact_months cm ON cm.household_id = m.household_id
        WHERE cm.visits > 0"""


ON_CONFLICT = """
    ON CONFLICT (unit_id, src, kind, day) DO UPDATE SET n = unit_days.n + excluded.n"""
UPSERT_TAIL = f"""
    GROUP BY unit_id, src, kind, day HAVING sum(n) <> 0 ORDER BY unit_id, src, kind, day
    {ON_CONFLICT}"""


def refresh(d: Dialect, hset: str) -> list[str]:
    """Statements that recompute the households in `hset` (a parenthesized list or query):
    their stored contribution taken off unit_days, their rows recomputed, the new
    contribution put on (the recomputation, a join over their pairings, runs once)."""

    def move(sign: str) -> str:
        rows = contributions(d, stored_members(hset), stored_dates(hset), sign)
        return f"""INSERT INTO unit_days (unit_id, src, kind, day, n)
        SELECT unit_id, src, kind, day, sum(n) FROM ({rows}) x WHERE true {UPSERT_TAIL}"""

    return [
        move("-"),
        f"DELETE FROM household_branches WHERE household_id IN {hset}",
        f"DELETE FROM household_scope WHERE household_id IN {hset}",
        *fill_households(hset),
        move(""),
    ]


def fill_households(hset: str) -> list[str]:
    """household_scope and household_branches of `hset` ("(true)": every household)."""
    return [
        f"""INSERT INTO household_scope
          (household_id, village_id, pairings, last_contact_on, last_visit_on)
        SELECT s.household_id, s.village_id, s.pairings, t.last_contact_on, t.last_visit_on
        FROM {fresh_scope(hset)} s LEFT JOIN household_state t
          ON t.household_id = s.household_id WHERE true""",
        f"""INSERT INTO household_branches (household_id, unit_id, pairings)
        SELECT household_id, unit_id, pairings FROM {fresh_branches(hset)} b WHERE true""",
    ]


def cadre_refresh(d: Dialect, cset: str) -> list[str]:
    """Statements that recompute cadre_months of the cadres in `cset` ("(true)": all)."""
    month = d.month.format(x="cs.last_contact_on")
    where = "true" if cset == "(true)" else f"p.cadre_id IN {cset}"
    fill = f"""INSERT INTO cadre_months (cadre_id, month, pairs)
      SELECT p.cadre_id, coalesce({month}, {d.sentinel}), count(*)
      FROM pairings p JOIN cadres c ON c.id = p.cadre_id
        JOIN households h ON h.id = p.household_id
        LEFT JOIN contact_state cs
          ON cs.cadre_id = p.cadre_id AND cs.household_id = p.household_id
      WHERE p.active AND c.active AND h.status <> 'exited' AND {where}
      GROUP BY 1, 2"""
    if cset == "(true)":
        return [fill]
    return [f"DELETE FROM cadre_months WHERE cadre_id IN {cset}", fill]


def dates_moved(d: Dialect, h: str, contact_on: str, visit_on: str) -> list[str]:
    """A household's last dates are now `contact_on` and `visit_on` (expressions; NULL for
    none): move its 'c' and 'v' counts from its stored dates, under its stored units, and
    store the new dates. Nothing for a household without a live pairing."""
    one = f"FROM household_scope s WHERE s.household_id = {h}"
    old_v, new_v = d.month.format(x="s.last_visit_on"), d.month.format(x=visit_on)
    moves = f"""
      SELECT s.household_id, 'c' AS kind, s.last_contact_on AS day, -1 AS n {one}
        AND s.last_contact_on IS NOT NULL
      UNION ALL SELECT s.household_id, 'c', {contact_on}, 1 {one} AND {contact_on} IS NOT NULL
      UNION ALL SELECT s.household_id, 'v', {old_v}, -1 {one} AND s.last_visit_on IS NOT NULL
      UNION ALL SELECT s.household_id, 'v', {new_v}, 1 {one} AND {visit_on} IS NOT NULL"""
    return [
        f"""INSERT INTO unit_days (unit_id, src, kind, day, n)
        SELECT m.unit_id, m.src, x.kind, x.day, sum(x.n)
        FROM {stored_members(f"({h})")} m JOIN ({moves}) x ON x.household_id = m.household_id
        WHERE true GROUP BY m.unit_id, m.src, x.kind, x.day HAVING sum(x.n) <> 0
        ORDER BY 1, 2, 3, 4 {ON_CONFLICT}""",
        f"""UPDATE household_scope SET last_contact_on = {contact_on},
          last_visit_on = {visit_on} WHERE household_id = {h}""",
    ]


def pair_moved(d: Dialect, cadre: str, household: str, old_on: str, new_on: str) -> str:
    """A pair's last contact moved from `old_on` to `new_on` (expressions; NULL for none):
    move it between its cadre's months if the pairing is live."""

    def month(x: str) -> str:
        return f"coalesce({d.month.format(x=x)}, {d.sentinel})"

    return f"""INSERT INTO cadre_months (cadre_id, month, pairs)
      SELECT {cadre}, x.month, sum(x.n) FROM (
        SELECT {month(old_on)} AS month, -1 AS n UNION ALL SELECT {month(new_on)}, 1) x
      WHERE EXISTS (SELECT 1 FROM {live_pairs(f"({household})")} AND p.cadre_id = {cadre})
      GROUP BY x.month HAVING sum(x.n) <> 0 ORDER BY 2
      ON CONFLICT (cadre_id, month) DO UPDATE SET pairs = cadre_months.pairs + excluded.pairs"""


def cadre_months_recomputed(d: Dialect) -> str:
    return cadre_refresh(d, "(true)")[0].split("\n", 1)[1]


def visits_moved(d: Dialect, rows: str, hset: str) -> str:
    """unit_days' 'n' rows moved by `rows` (household_id, month, dv: visits added) of the
    households in `hset`, under their stored memberships."""
    return f"""INSERT INTO unit_days (unit_id, src, kind, day, n)
      SELECT m.unit_id, m.src, 'n', x.month, sum(x.dv)
      FROM {stored_members(hset)} m JOIN ({rows}) x ON x.household_id = m.household_id
      WHERE true GROUP BY m.unit_id, m.src, x.month HAVING sum(x.dv) <> 0
      ORDER BY 1, 2, 3, 4 {ON_CONFLICT}"""


UNIT_BRANCHES_SELECT = """
    SELECT u.id, b.id FROM units u JOIN units b
      ON u.path = b.path OR substr(u.path, 1, length(b.path) + 1) = b.path || '/'
    WHERE b.parent_id IS NULL
       OR b.parent_id IN (SELECT r.id FROM units r WHERE r.parent_id IS NULL)
"""
UNIT_BRANCHES_BACKFILL = f"INSERT INTO unit_branches (unit_id, branch_id) {UNIT_BRANCHES_SELECT}"


def unit_days_recomputed(d: Dialect, *, fresh: bool = False) -> str:
    """unit_days as the stored households say (the backfill), or as the records say
    (`fresh`: the doctor's reading)."""
    every = "(true)"
    members, dates = (
        (fresh_members(every), fresh_dates(every))
        if fresh
        else (stored_members(every), stored_dates(every))
    )
    return f"""SELECT unit_id, src, kind, day, sum(n) AS n
      FROM ({contributions(d, members, dates, "")}) x
      GROUP BY unit_id, src, kind, day HAVING sum(n) <> 0"""


def backfill(d: Dialect) -> list[str]:
    """Fill the four tables from the records (set-based: seconds at a million pairings)."""
    return [
        UNIT_BRANCHES_BACKFILL,
        *fill_households("(true)"),
        f"INSERT INTO unit_days (unit_id, src, kind, day, n) {unit_days_recomputed(d)}",
        *cadre_refresh(d, "(true)"),
    ]
