"""`bangfu doctor`: recompute the kept contact state from the records and report any drift.

Exit status 0 when the kept state (the reminder sweep's and the digests' source: each pair's
last dates, each household's contacts and visits per month, each household's last contact
and visit by any cadre, each village's households contacted per month, the scope counts a
county root's figures are summed from) equals the state recomputed from the records, 1 when
it drifted (each pair named, up to a limit), 0 after `--fix` rewrote the drifted rows from
the records.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, TypeVar

from bot.cli.adminkit import admin_command, both, open_db, say, say_first
from bot.config import load_settings

if TYPE_CHECKING:  # the command imports storage when it runs, not when the parser is built
    from storage.contact_state import Drift, HouseholdDrift, MonthDrift, VillageDrift
    from storage.scope_counts import ScopeDrift

T = TypeVar("T")
SHOWN = 20  # drifted pairs listed one by one; the rest are counted


def _day(value: date | None) -> str:
    return value.isoformat() if value else both("doctor.none")


@admin_command
async def _doctor(args: argparse.Namespace) -> int:
    from storage.contact_state import (
        check,
        household_drift,
        month_drift,
        repair,
        repair_households,
        repair_months,
        repair_villages,
        village_drift,
    )
    from storage.scope_counts import repair_scope, scope_drift

    settings = load_settings()
    async with open_db(settings) as db:
        if args.fix:
            async with db.writer(), db.transaction() as session:
                fixed = await repair(session)
                fixed_months = await repair_months(session)
                # After repair(): rewriting contact_state already moved its households.
                fixed_households = await repair_households(session)
                # After repair_months(): its rewrite moves the villages' counts already.
                fixed_villages = await repair_villages(session)
                # Last: the rewrites above moved the scope counts already.
                fixed_scope = await repair_scope(session)
            say("doctor.fixed", count=fixed)
            if fixed_months:
                say("doctor.months_fixed", count=fixed_months)
            if fixed_households:
                say("doctor.households_fixed", count=fixed_households)
            if fixed_villages:
                say("doctor.villages_fixed", count=fixed_villages)
            if fixed_scope:
                say("doctor.scope_fixed", count=fixed_scope)
        async with db.sessions() as session:
            found, pairs = await check(session)
            months = await month_drift(session)
            households = await household_drift(session)
            villages = await village_drift(session)
            scope = await scope_drift(session)
    _listed("doctor.months_drift", months, _month_line)
    _listed("doctor.households_drift", households, _household_line)
    _listed("doctor.villages_drift", villages, _village_line)
    _listed("doctor.scope_drift", scope, _scope_line)
    if not found and not months and not households and not villages and not scope:
        say("doctor.ok", pairs=pairs)
        return 0
    if not found:
        say("doctor.fix_hint")
        return 1
    _listed("doctor.drift", found, _pair_line)
    say("doctor.fix_hint")
    return 1


def _listed(head: str, items: Sequence[T], line: Callable[[T], None]) -> None:
    """A kind of drift: how many, then the first SHOWN one by one and how many more."""
    if items:
        say(head, count=len(items))
        say_first(items, line, limit=SHOWN, more="doctor.more")


def _pair_line(d: Drift) -> None:
    kept, true = d.kept or (None, None, None), d.recomputed or (None, None, None)
    say(
        "doctor.drift_line",
        cadre_id=d.cadre_id,
        household_id=d.household_id,
        kept_call=_day(kept[0]),
        kept_visit=_day(kept[1]),
        true_call=_day(true[0]),
        true_visit=_day(true[1]),
    )


def _month_line(m: MonthDrift) -> None:
    mk, mt = m.kept or (0, 0, 0), m.recomputed or (0, 0, 0)
    say(
        "doctor.months_line",
        household_id=m.household_id,
        month=f"{m.month:%Y-%m}",
        kept_n=mk[1],
        kept_visits=mk[2],
        true_n=mt[1],
        true_visits=mt[2],
    )


def _household_line(h: HouseholdDrift) -> None:
    hk, ht = h.kept or (None, None), h.recomputed or (None, None)
    say(
        "doctor.households_line",
        household_id=h.household_id,
        kept_contact=_day(hk[0]),
        kept_visit=_day(hk[1]),
        true_contact=_day(ht[0]),
        true_visit=_day(ht[1]),
    )


def _village_line(v: VillageDrift) -> None:
    say(
        "doctor.villages_line",
        village_id=v.village_id,
        month=f"{v.month:%Y-%m}",
        kept=v.kept,
        true=v.recomputed,
    )


def _scope_line(d: ScopeDrift) -> None:
    def shown(row: tuple[object, ...] | None) -> str:
        return " ".join(str(v) for v in row) if row else both("doctor.none")

    say(
        "doctor.scope_line",
        table=d.table,
        key="/".join(str(k) for k in d.key),
        kept=shown(d.kept),
        true=shown(d.recomputed),
    )
