"""The SQL of `cadre_scope` (migration 0020's triggers, its backfill, the doctor).

One row per active cadre with live pairings, read by a county root's digest instead of
grouping `cadre_months` (542,000 rows at a million pairings) and testing every cadre's chat
accounts:

- `pairs`: its live pairings (the sum of its `cadre_months` rows);
- `month`: the latest month of a live pair's last contact (1900-01-01: none contacted), and
  `in_month`: how many of its pairs fall in that month. As of a day in month M on which no
  pair has a later contact, the cadre's pairs not contacted this month are `pairs` when
  `month` < M, else `pairs - in_month`;
- `reach`: its chat accounts the bot can reach (not blocked); 0 names it unreachable.

A change of a cadre's `cadre_months` rows (a pair's first contact of a month, an undo or
correction moving it back, a pairing begun, ended or transferred, a cadre deactivated or
moved: all of them reach `cadre_months` in their transaction) recomputes its row from those
rows; a chat account bound, blocked, unblocked, moved or deleted recomputes `reach`.

Changing a statement here changes what migration 0020 creates: add a migration instead.
"""

from __future__ import annotations

REACH = """(SELECT count(*) FROM chat_accounts a
    WHERE a.cadre_id = {cadre} AND a.blocked_at IS NULL)"""


def _where(cset: str, column: str) -> str:
    return "true" if cset == "(true)" else f"{column} IN {cset}"


def rows_from(months: str, cset: str = "(true)") -> str:
    """(cadre_id, pairs, month, in_month, reach) of the cadres in `cset` from `months`, a
    table (or a common table expression) of (cadre_id, month, pairs) rows."""
    return f"""SELECT m.cadre_id, sum(m.pairs), max(m.month),
        sum(CASE WHEN m.month = t.top THEN m.pairs ELSE 0 END),
        {REACH.format(cadre="m.cadre_id")}
      FROM {months} m
      JOIN (SELECT x.cadre_id, max(x.month) AS top FROM {months} x
            WHERE x.pairs > 0 AND {_where(cset, "x.cadre_id")} GROUP BY x.cadre_id) t
        ON t.cadre_id = m.cadre_id
      WHERE m.pairs > 0 GROUP BY m.cadre_id"""


def refresh(cset: str) -> list[str]:
    """Recompute the rows of the cadres in `cset` (a parenthesized list or query)."""
    return [
        f"DELETE FROM cadre_scope WHERE cadre_id IN {cset}",
        f"""INSERT INTO cadre_scope (cadre_id, pairs, month, in_month, reach)
        {rows_from("cadre_months", cset)}""",
    ]


def reach_moved(cset: str) -> str:
    """Recount the reachable chat accounts of the cadres in `cset`."""
    return f"""UPDATE cadre_scope SET reach = {REACH.format(cadre="cadre_scope.cadre_id")}
      WHERE cadre_id IN {cset}"""


BACKFILL = f"""INSERT INTO cadre_scope (cadre_id, pairs, month, in_month, reach)
  {rows_from("cadre_months")}"""
